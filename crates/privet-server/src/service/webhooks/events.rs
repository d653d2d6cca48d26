//! What each event's payload `data` holds: ids, pseudonyms, product and purpose keys, dates
//! and counts — never a name, an e-mail or a value a device sent.

use super::Outgoing;
use crate::service::erasure::ErasedCounts;
use crate::service::requests::status;
use crate::state::AppState;
use privet_crypto::Pseudonym;
use privet_policy::webhooks::EventType;
use privet_store::{Device, NewConsent, RightsRequest, Subject};
use serde_json::json;

fn request_data(state: &AppState, r: &RightsRequest) -> serde_json::Value {
    let (due, st) = status(r, state.clock().today_uk());
    json!({
        "request": r.id,
        "request_type": r.kind.as_str(),
        "status": st.as_str(),
        "source": r.source.as_str(),
        "visitor": r.visitor.is_some(),
        "due": due.to_string(),
        "subject": r.subject,
        "subject_pseudonym": state.pseudonyms().pseudonym(r.subject.as_str()).to_hex(),
    })
}

/// `request.created`: a rights request was logged.
pub fn request_created(state: &AppState, r: &RightsRequest) -> Outgoing {
    Outgoing {
        event: EventType::RequestCreated,
        about: None,
        data: request_data(state, r),
    }
}

/// `request.overdue`: an open request passed its due date.
pub fn request_overdue(state: &AppState, r: &RightsRequest) -> Outgoing {
    Outgoing {
        event: EventType::RequestOverdue,
        about: None,
        data: request_data(state, r),
    }
}

/// `request.completed`: a request was answered.
pub fn request_completed(state: &AppState, r: &RightsRequest) -> Outgoing {
    let mut data = request_data(state, r);
    data["completed_at"] = json!(r.completed_at);
    Outgoing {
        event: EventType::RequestCompleted,
        about: None,
        data,
    }
}

/// `erasure.completed`: a member or household (with its members) was erased.
pub fn erasure_completed(
    subject: &Subject,
    pseudonyms: &[Pseudonym],
    counts: &ErasedCounts,
    at: jiff::Timestamp,
) -> Outgoing {
    Outgoing {
        event: EventType::ErasureCompleted,
        about: None,
        data: json!({
            "subject": subject.id,
            "kind": subject.kind.as_str(),
            "subject_pseudonym": subject.pseudonym.to_hex(),
            "erased_pseudonyms": pseudonyms.iter().map(Pseudonym::to_hex).collect::<Vec<_>>(),
            "erased_at": at,
            "counts": counts,
        }),
    }
}

/// `consent.changed`: a consent was granted or withdrawn.
pub fn consent_changed(subject: &Subject, decision: &NewConsent) -> Outgoing {
    Outgoing {
        event: EventType::ConsentChanged,
        about: None,
        data: json!({
            "subject": subject.id,
            "subject_pseudonym": subject.pseudonym.to_hex(),
            "product": decision.product,
            "purpose": decision.purpose,
            "granted": decision.granted,
            "at": decision.at,
        }),
    }
}

/// `device.reset`: a device was reset for its next owner (`before`: as it was).
pub fn device_reset(state: &AppState, before: &Device, records: u64) -> Outgoing {
    Outgoing {
        event: EventType::DeviceReset,
        about: None,
        data: json!({
            "device": before.id,
            "product": before.product,
            "household_pseudonym": before
                .household
                .as_ref()
                .map(|h| state.pseudonyms().pseudonym(h.as_str()).to_hex()),
            "records_deleted": records,
            "reset_at": state.clock().now(),
        }),
    }
}
