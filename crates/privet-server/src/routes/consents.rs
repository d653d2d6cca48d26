//! `PUT /v1/subjects/{id}/consents/{purpose}`, `GET /v1/subjects/{id}/consents`, and
//! `GET /v1/subjects/{id}/changes`: what changed in a product since the person agreed.

use crate::access::{Caller, authorize_subject};
use crate::error::ApiResult;
use crate::service::consent::{self, ConsentChange};
use crate::service::devices;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use privet_policy::{ConsentLedger, SubjectAction};
use privet_store::{ConsentRecord, SubjectId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Body of `PUT /v1/subjects/{id}/consents/{purpose}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentBody {
    /// Grant (`true`) or withdraw (`false`).
    pub granted: bool,
    /// Only for this product; omitted: every product declaring the purpose.
    #[serde(default)]
    pub product: Option<String>,
    /// How the person gave it; defaults to the caller's (`api` for an API key).
    #[serde(default)]
    pub channel: Option<Channel>,
}

/// How a consent decision reached the service: a closed set, so the consent history and the
/// audit log never carry free text.
#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// The maker's app.
    App,
    /// A web page.
    Web,
    /// The device itself (a button, a voice prompt).
    Device,
    /// By phone, through support staff.
    Phone,
    /// By e-mail, through support staff.
    Email,
    /// By post, through support staff.
    Post,
    /// In person, through support staff.
    InPerson,
    /// Another system over the API.
    Api,
}

impl Channel {
    /// The name stored in consent records.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::App => "app",
            Channel::Web => "web",
            Channel::Device => "device",
            Channel::Phone => "phone",
            Channel::Email => "email",
            Channel::Post => "post",
            Channel::InPerson => "in_person",
            Channel::Api => "api",
        }
    }
}

/// A consent decision as returned.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentView {
    /// Purpose key.
    pub purpose: String,
    /// Product, or `null` for every product declaring the purpose.
    pub product: Option<String>,
    /// Granted or withdrawn.
    pub granted: bool,
    /// Manifest versions the person saw (`product@version`).
    pub manifest_version: String,
    /// When.
    pub at: jiff::Timestamp,
    /// Who recorded it.
    pub actor: String,
    /// How.
    pub channel: String,
}

impl From<&ConsentRecord> for ConsentView {
    fn from(r: &ConsentRecord) -> Self {
        let c = &r.consent;
        ConsentView {
            purpose: c.purpose.clone(),
            product: c.product.clone(),
            granted: c.granted,
            manifest_version: c.manifest_version.clone(),
            at: c.at,
            actor: c.actor.clone(),
            channel: c.channel.clone(),
        }
    }
}

/// A subject's consents: the state in force per product and purpose, and the full history.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentsView {
    /// Subject id.
    pub subject: String,
    /// Per product, per consent-based purpose: whether it is on now (off until granted).
    #[schema(value_type = Object)]
    pub current: BTreeMap<String, BTreeMap<String, bool>>,
    /// Every decision, oldest first.
    pub history: Vec<ConsentView>,
}

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(put_consent))
        .routes(routes!(get_consents))
        .routes(routes!(get_changes))
}

/// One material change, in plain words.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeView {
    /// The version that made it.
    pub version: String,
    /// When that version was published.
    pub published_at: jiff::Timestamp,
    /// What kind of change (`new_field`, `new_recipient`, …; see `privet manifest diff`).
    #[schema(value_type = String)]
    pub kind: privet_manifest::ChangeKind,
    /// The stream it is about, if any.
    pub stream: Option<String>,
    /// The field it is about, if any.
    pub field: Option<String>,
    /// What changed, in plain words.
    pub summary: String,
}

/// Material changes to one purpose of a product that the subject has not answered.
#[derive(Debug, Serialize, ToSchema)]
pub struct PendingView {
    /// Product id.
    pub product: String,
    /// The product's current manifest version.
    pub version: String,
    /// Purpose key.
    pub purpose: String,
    /// The purpose in plain words.
    pub description: String,
    /// `reconsent` (consent-based: the changed collection waits until they agree again, by
    /// `PUT …/consents/{purpose}` `{"granted":true}`), `object` (legitimate interests or
    /// public task: they may object), or `informed` (nothing to decide).
    #[schema(value_type = String)]
    pub action: privet_policy::ChangeAction,
    /// For `reconsent`: the version the consent in force was given under.
    pub consented_under: Option<String>,
    /// The changes, oldest first.
    pub changes: Vec<ChangeView>,
}

/// `GET /v1/subjects/{id}/changes`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangesView {
    /// Subject id.
    pub subject: String,
    /// Pending changes, by product and purpose.
    pub pending: Vec<PendingView>,
}

/// Material changes to the household's products the subject has not answered: consents to
/// renew, purposes they may object to, and changes they should know of.
#[utoipa::path(get, path = "/v1/subjects/{id}/changes", tag = "consents",
    params(("id" = String, Path, description = "Member or household id")),
    responses((status = 200, body = ChangesView), (status = 401), (status = 403), (status = 404)),
    security(("api_key" = []), ("session" = [])))]
async fn get_changes(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ChangesView>> {
    let cap = authorize_subject(&state, &caller, &SubjectId::new(id), SubjectAction::Read).await?;
    let subject = cap.subject;
    let history = state.store().consents(&subject.id).await?;
    let named = history.iter().filter_map(|r| r.consent.product.clone());
    let manifests = devices::household_products(&state, subject.household_id(), named).await?;
    let pending = crate::service::lineages::pending(&state, &subject, &manifests)
        .await?
        .into_iter()
        .map(|p| PendingView {
            product: p.product,
            version: p.version,
            purpose: p.purpose,
            description: p.description,
            action: p.action,
            consented_under: p.consented_under,
            changes: p
                .changes
                .into_iter()
                .map(|c| ChangeView {
                    version: c.version,
                    published_at: c.published_at,
                    kind: c.change.kind,
                    stream: c.change.stream,
                    field: c.change.field,
                    summary: c.change.summary,
                })
                .collect(),
        })
        .collect();
    Ok(Json(ChangesView {
        subject: subject.id.to_string(),
        pending,
    }))
}

/// Grants or withdraws consent for a purpose. Withdrawal stops collection at once.
#[utoipa::path(put, path = "/v1/subjects/{id}/consents/{purpose}", tag = "consents",
    params(("id" = String, Path, description = "Member or household id"), ("purpose" = String, Path, description = "Purpose key")),
    request_body = ConsentBody,
    responses((status = 200, body = ConsentView), (status = 401), (status = 403), (status = 404), (status = 422)),
    security(("api_key" = []), ("session" = [])))]
async fn put_consent(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, purpose)): Path<(String, String)>,
    body: Result<Json<ConsentBody>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<Json<ConsentView>> {
    let cap =
        authorize_subject(&state, &caller, &SubjectId::new(id), SubjectAction::Manage).await?;
    let Json(body) = body?;
    let decision = consent::decide(
        &state,
        &cap.subject,
        ConsentChange {
            purpose: &purpose,
            granted: body.granted,
            product: body.product.as_deref(),
            actor: &cap.actor,
            channel: body.channel.map_or(cap.channel, Channel::as_str),
        },
    )
    .await?;
    let record = decision.record;
    Ok(Json(ConsentView::from(&record)))
}

/// A subject's consents and their history.
#[utoipa::path(get, path = "/v1/subjects/{id}/consents", tag = "consents",
    params(("id" = String, Path, description = "Member or household id")),
    responses((status = 200, body = ConsentsView), (status = 401), (status = 403), (status = 404)),
    security(("api_key" = []), ("session" = [])))]
async fn get_consents(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ConsentsView>> {
    let cap = authorize_subject(&state, &caller, &SubjectId::new(id), SubjectAction::Read).await?;
    let subject = cap.subject;
    let history = state.store().consents(&subject.id).await?;
    let ledger = ConsentLedger::from_history(&history);
    let named = history.iter().filter_map(|r| r.consent.product.clone());
    let products = devices::household_products(&state, subject.household_id(), named).await?;
    let mut current: BTreeMap<String, BTreeMap<String, bool>> = BTreeMap::new();
    for m in &products {
        let p = m.product.id.to_string();
        let entry = current.entry(p.clone()).or_default();
        for purpose in m.optional_purposes() {
            entry.insert(
                purpose.id.as_str().to_owned(),
                ledger.is_granted(&p, purpose.id.as_str()),
            );
        }
    }
    Ok(Json(ConsentsView {
        subject: subject.id.to_string(),
        current,
        history: history.iter().map(ConsentView::from).collect(),
    }))
}
