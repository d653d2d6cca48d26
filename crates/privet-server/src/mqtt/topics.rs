//! The topic scheme, in one place: `privet/v1/devices/{id}/events|results|update`.

/// Prefix of every device topic.
pub const DEVICE_PREFIX: &str = "privet/v1/devices/";
/// The shared-subscription group every Privet instance joins.
pub const SHARE_GROUP: &str = "privet";

/// The filter matching every device's events topic.
pub const EVENTS_FILTER: &str = "privet/v1/devices/+/events";
/// The filter matching every device's results topic.
pub const RESULTS_FILTER: &str = "privet/v1/devices/+/results";
/// The filter matching every device's update topic.
pub const UPDATE_FILTER: &str = "privet/v1/devices/+/update";

/// The shared subscription the instances split device traffic with, in the default group.
pub fn shared_events_filter() -> String {
    shared_events_filter_for(SHARE_GROUP)
}

/// The subscription of the instances of one deployment: shared in `group`, or, with no
/// group, a plain one (a single instance; Mosquitto 2.0 restores a plain subscription after a
/// broker restart, but not a shared one).
pub fn shared_events_filter_for(group: &str) -> String {
    if group.is_empty() {
        EVENTS_FILTER.to_owned()
    } else {
        format!("$share/{group}/{EVENTS_FILTER}")
    }
}

/// Whether `group` can name a shared subscription (one topic level, no wildcard), or is
/// empty: a plain subscription.
pub fn valid_share_group(group: &str) -> bool {
    group.len() <= 64 && !group.contains(['/', '+', '#'])
}

/// A device's events topic.
pub fn events(device: &str) -> String {
    format!("{DEVICE_PREFIX}{device}/events")
}

/// A device's results topic.
pub fn results(device: &str) -> String {
    format!("{DEVICE_PREFIX}{device}/results")
}

/// A device's update topic (retained).
pub fn update(device: &str) -> String {
    format!("{DEVICE_PREFIX}{device}/update")
}

/// The device id of an events topic, if `topic` is one. Ids are single topic levels without
/// wildcards, which the broker guarantees for published topics; anything else is not ours.
pub fn device_of_events(topic: &str) -> Option<&str> {
    let id = topic.strip_prefix(DEVICE_PREFIX)?.strip_suffix("/events")?;
    let valid = !id.is_empty() && !id.contains(['/', '+', '#']) && id.len() <= 128;
    valid.then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_topics_round_trip_and_nothing_else_matches() {
        assert_eq!(device_of_events(&events("dev_abc")), Some("dev_abc"));
        for other in [
            results("dev_abc"),
            update("dev_abc"),
            "privet/v1/devices//events".to_owned(),
            "privet/v1/devices/a/b/events".to_owned(),
            "privet/v2/devices/a/events".to_owned(),
        ] {
            assert_eq!(device_of_events(&other), None, "{other}");
        }
        assert_eq!(
            shared_events_filter(),
            "$share/privet/privet/v1/devices/+/events"
        );
        assert!(valid_share_group("privet-staging"));
        assert!(!valid_share_group("a/b") && !valid_share_group("#"));
        assert_eq!(shared_events_filter_for(""), EVENTS_FILTER);
    }
}
