//! The household's devices with their update status and the day their security updates end
//! (from `service::fleet::household_devices`), for the Security and Household pages.

use super::view;
use crate::access::{Caller, authorize_subject};
use crate::pages::PageError;
use crate::service::fleet::household_devices;
use crate::service::releases::UpdateStatus;
use crate::session::SignedIn;
use crate::state::AppState;
use privet_policy::SubjectAction;
use privet_store::SubjectId;

/// One device as the update tables show it.
pub(crate) struct UpdateRow {
    /// Device id.
    pub(crate) id: String,
    /// Product name.
    pub(crate) name: String,
    /// Firmware it runs.
    pub(crate) firmware: String,
    /// Its update status in words.
    pub(crate) status: &'static str,
    /// Whether it needs attention (outdated, or updates ended).
    pub(crate) warn: bool,
    /// When security updates end, in words.
    pub(crate) until: String,
    /// Last time it sent data.
    pub(crate) last_seen: String,
}

/// The devices of `household`, after checking the reader may see it.
pub(crate) async fn rows(
    state: &AppState,
    signed: &SignedIn,
    household: &SubjectId,
) -> Result<Vec<UpdateRow>, PageError> {
    let caller = Caller::Account(Box::new(signed.clone()));
    let cap = authorize_subject(state, &caller, household, SubjectAction::Read).await?;
    Ok(household_devices(state, &cap.subject.id)
        .await?
        .into_iter()
        .map(|d| {
            let status = match d.status {
                // Nothing to be up to date with: the maker has published no release yet.
                UpdateStatus::UpToDate if d.newest.is_none() => "No release published yet",
                UpdateStatus::UpToDate => "Up to date",
                UpdateStatus::Outdated => "An update is available",
                UpdateStatus::Unknown => "Not reported yet",
            };
            let until = match (d.security_updates_until, d.past_support) {
                (Some(day), true) => format!(
                    "Ended on {}: it no longer gets security fixes",
                    view::day(day)
                ),
                (Some(day), false) => format!("Until {}", view::day(day)),
                (None, _) => "The maker does not say".to_owned(),
            };
            UpdateRow {
                id: d.id,
                name: d.product_name,
                firmware: match (d.firmware, d.newest) {
                    (Some(f), Some(n)) if f != n => format!("{f} (newest: {n})"),
                    (Some(f), _) => f,
                    (None, _) => "Not reported".to_owned(),
                },
                warn: d.status == UpdateStatus::Outdated || d.past_support,
                status,
                until,
                last_seen: view::when_or(d.last_seen, "Not yet"),
            }
        })
        .collect())
}
