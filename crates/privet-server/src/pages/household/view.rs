//! Plain words for what pages show: dates, who did something, what they did, stored values.

use jiff::Timestamp;
use jiff::civil::Date;
use serde_json::Value;

/// A moment, e.g. "3 May 2026 at 14:05 UTC".
pub(crate) fn when(ts: Timestamp) -> String {
    ts.strftime("%-d %B %Y at %H:%M UTC").to_string()
}

/// An optional moment, or `none`.
pub(crate) fn when_or(ts: Option<Timestamp>, none: &str) -> String {
    ts.map_or_else(|| none.to_owned(), when)
}

/// A day, e.g. "31 December 2032".
pub(crate) fn day(d: Date) -> String {
    d.strftime("%-d %B %Y").to_string()
}

/// Who an audit actor is, as the person reading their own access log understands it.
/// `me` is the reader's account id.
pub(crate) fn actor(actor: &str, me: &str) -> String {
    match actor.split_once(':') {
        Some(("account", id)) if id == me => "You".to_owned(),
        Some(("account", _)) => "Someone in your household".to_owned(),
        Some(("key", id)) => format!("The service's staff or systems (API key {id})"),
        Some(("device", id)) => format!("Your device {id}"),
        _ if actor == "system" => "Privet, automatically".to_owned(),
        _ => actor.to_owned(),
    }
}

/// What an audit action means, in words.
pub(crate) fn action(action: &str) -> String {
    match action {
        "events.read" => "Read the data for a purpose",
        "subject.export" => "Downloaded a copy of the data",
        "subject.view" => "Looked at the data on the My data page",
        "subject.erase" => "Deleted the data",
        "subject.rectify" => "Corrected the profile",
        "subject.restrict" => "Restricted the use of the data",
        "subject.unrestrict" => "Lifted the restriction",
        "subject.object" => "Objected to a use of the data",
        "consent.grant" => "Switched an optional use on",
        "consent.withdraw" => "Switched an optional use off",
        "consent.purge" => "Deleted data no longer needed after a switch-off",
        "objection.purge" => "Deleted data no longer needed after an objection",
        "member.create" | "household.create" => "Created the record",
        "household.add_member" => "Added a member",
        "household.invite" => "Invited a member",
        "household.claim_device" => "Set up a device",
        "household.child_sign_in" => "Changed whether a child may sign in",
        "device.create" => "Registered a device",
        "device.reset" => "Reset a device",
        "request.create" => "Opened a rights request",
        "request.complete" => "Completed a rights request",
        "request.extend" => "Extended a rights request",
        "auth.signup" => "Created the account",
        "auth.login" => "Signed in",
        "auth.login_failed" => "A sign-in failed",
        "auth.password_changed" => "Changed the password",
        "auth.two_step_on" => "Turned on two-step verification",
        "auth.two_step_off" => "Turned off two-step verification",
        "auth.recovery_code_used" => "Signed in with a recovery code",
        "auth.signed_out_elsewhere" => "Signed out of every other session",
        other => return other.to_owned(),
    }
    .to_owned()
}

/// A stored value as text: strings as they are, yes/no for booleans, JSON for the rest.
pub(crate) fn value(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "—".to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(true)) => "Yes".to_owned(),
        Some(Value::Bool(false)) => "No".to_owned(),
        Some(Value::Number(n)) => n.to_string(),
        Some(other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_as_words() {
        let d = Date::constant(2032, 12, 31);
        assert_eq!(day(d), "31 December 2032");
        let ts: Timestamp = "2026-05-03T14:05:09Z".parse().unwrap();
        assert_eq!(when(ts), "3 May 2026 at 14:05 UTC");
    }

    #[test]
    fn actors_are_named_from_the_readers_side() {
        assert_eq!(actor("account:acc_1", "acc_1"), "You");
        assert_eq!(actor("account:acc_2", "acc_1"), "Someone in your household");
        assert!(actor("key:key_9", "acc_1").contains("key_9"));
        assert_eq!(action("auth.login"), "Signed in");
        assert_eq!(action("unknown.thing"), "unknown.thing");
        assert_eq!(value(Some(&Value::Bool(true))), "Yes");
    }
}
