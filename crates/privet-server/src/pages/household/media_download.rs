//! `/my-data/media`: one recording or picture from the My data page, downloaded as the bytes
//! the device sent (decoded), read and audited like the page's other reads.

use super::attachment;
use super::media::{self, MediaKind};
use crate::access::{Caller, authorize_subject};
use crate::pages::{PageError, PageSession};
use crate::service::audit::{self, Event};
use crate::service::blocks::Scan;
use crate::service::error::{Missing, ServiceError};
use crate::state::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use privet_policy::SubjectAction;
use privet_store::{BlockQuery, DeviceId, SubjectId};
use serde::Deserialize;

/// Which stored value: whose, from which device, stream and field, observed when.
#[derive(Debug, Deserialize)]
pub(crate) struct Which {
    subject: String,
    device: String,
    stream: String,
    field: String,
    at: Timestamp,
}

fn missing() -> PageError {
    ServiceError::NotFound(Missing::Record).into()
}

/// Downloads a recording or picture shown on My data.
pub(crate) async fn download(
    State(state): State<AppState>,
    PageSession(signed): PageSession,
    q: Result<Query<Which>, QueryRejection>,
) -> Result<Response, PageError> {
    let Ok(Query(which)) = q else {
        return Err(missing());
    };
    let caller = Caller::Account(Box::new(signed.clone()));
    let id = SubjectId::new(which.subject);
    let cap = authorize_subject(&state, &caller, &id, SubjectAction::Read).await?;
    let device = state
        .store()
        .device(&DeviceId::new(which.device))
        .await
        .map_err(ServiceError::from)?;
    // Only a device of the subject's own household: a read names nothing of anyone else's.
    if device.household.as_ref() != Some(cap.subject.household_id()) {
        return Err(ServiceError::NotFound(Missing::Device).into());
    }
    let products = state.products();
    // Only a declared field holding media: the page never serves a value as a file otherwise.
    let is_media = products
        .get(&device.product)
        .and_then(|m| m.stream(&which.stream))
        .and_then(|s| {
            s.fields
                .iter()
                .find(|f| f.name.value.as_str() == which.field)
        })
        .and_then(|f| MediaKind::of_category(&f.category.value))
        .is_some();
    if !is_media {
        return Err(missing());
    }
    let now = state.clock().now();
    let mut scan = Scan::start(
        &state,
        BlockQuery {
            subject: Some(cap.subject.pseudonym),
            streams: vec![which.stream.clone()],
            product: Some(device.product.clone()),
            device: Some(device.id.clone()),
            since: Some(which.at),
            until: Some(which.at),
        },
    )
    .await?;
    let mut bytes = None;
    while let Some((_, opened)) = scan.next().await? {
        bytes = opened
            .live_events(now)
            .map_err(ServiceError::from)?
            .iter()
            .filter(|e| e.ts == which.at)
            .find_map(|e| media::decode(e.data.get(&which.field)));
        if bytes.is_some() {
            break;
        }
    }
    let bytes = bytes.ok_or_else(missing)?;
    // A download is an access like the page view: it goes in the log.
    audit::record(
        &state,
        Event::new(
            &signed.actor(),
            "subject.view",
            serde_json::json!({"page": "my-data", "download": which.field, "stream": which.stream}),
        )
        .subjects(vec![cap.subject.pseudonym])
        .count(1),
    )
    .await?;
    let (content_type, ext) = media::content_type(&bytes);
    let name = format!(
        "{}-{}-{}.{ext}",
        which.stream,
        which.field,
        which.at.strftime("%Y%m%d-%H%M%S")
    );
    Ok(attachment(bytes.into_response(), content_type, &name))
}
