//! `POST /v1/households`, `POST /v1/households/{id}/members`, `GET /v1/households/{id}`.

use crate::access::Operator;
use crate::error::ApiResult;
use crate::service::subjects;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use privet_policy::Action;
use privet_store::SubjectId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Body of `POST /v1/households`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewHousehold {
    /// The household's name (sealed with its key).
    pub name: String,
}

/// Body of `POST /v1/households/{id}/members`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    /// The member's name (sealed with their key).
    pub name: String,
    /// A child: consents are given by the household owner.
    #[serde(default)]
    pub child: bool,
    /// E-mail address, optional.
    #[serde(default)]
    pub email: Option<String>,
}

/// An id of something created.
#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    /// Opaque id.
    pub id: String,
}

/// A household as an operator sees it: ids and flags, no names.
#[derive(Debug, Serialize, ToSchema)]
pub struct HouseholdView {
    /// Household id.
    pub id: String,
    /// Members.
    pub members: Vec<MemberView>,
    /// Device ids.
    pub devices: Vec<String>,
}

/// A member as an operator sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    /// Member id.
    pub id: String,
    /// A child.
    pub child: bool,
    /// Processing restricted.
    pub restricted: bool,
}

/// Never shows the name.
impl std::fmt::Debug for NewHousehold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewHousehold").finish_non_exhaustive()
    }
}

/// Never shows the name or the address.
impl std::fmt::Debug for NewMember {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewMember")
            .field("child", &self.child)
            .finish_non_exhaustive()
    }
}

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_household))
        .routes(routes!(get_household))
        .routes(routes!(create_member))
}

/// Creates a household (a data subject with its own key).
#[utoipa::path(post, path = "/v1/households", tag = "households",
    request_body = NewHousehold,
    responses((status = 201, body = Created), (status = 401), (status = 403), (status = 422)),
    security(("api_key" = [])))]
async fn create_household(
    State(state): State<AppState>,
    op: Operator,
    body: Result<Json<NewHousehold>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let permit = op.permit(Action::ManageFleet)?;
    let Json(body) = body?;
    let id = subjects::create_household(&state, &body.name, &permit.actor).await?;
    Ok((StatusCode::CREATED, Json(Created { id: id.to_string() })))
}

/// Adds a member to a household.
#[utoipa::path(post, path = "/v1/households/{id}/members", tag = "households",
    params(("id" = String, Path, description = "Household id")),
    request_body = NewMember,
    responses((status = 201, body = Created), (status = 401), (status = 403), (status = 404), (status = 422)),
    security(("api_key" = [])))]
async fn create_member(
    State(state): State<AppState>,
    op: Operator,
    Path(household): Path<String>,
    body: Result<Json<NewMember>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let permit = op.permit(Action::ManageFleet)?;
    let Json(body) = body?;
    let id = subjects::create_member(
        &state,
        &SubjectId::new(household),
        body.child,
        &body.name,
        body.email.as_deref(),
        &permit.actor,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(Created { id: id.to_string() })))
}

/// A household's members and devices (ids only).
#[utoipa::path(get, path = "/v1/households/{id}", tag = "households",
    params(("id" = String, Path, description = "Household id")),
    responses((status = 200, body = HouseholdView), (status = 401), (status = 403), (status = 404)),
    security(("api_key" = [])))]
async fn get_household(
    State(state): State<AppState>,
    op: Operator,
    Path(household): Path<String>,
) -> ApiResult<Json<HouseholdView>> {
    op.permit(Action::ViewHousehold)?;
    let household = subjects::household_subject(&state, &SubjectId::new(household))
        .await?
        .id;
    let members = state.store().members(&household).await?;
    let devices = state.store().devices_of(&household).await?;
    Ok(Json(HouseholdView {
        id: household.to_string(),
        members: members
            .into_iter()
            .map(|m| MemberView {
                id: m.id.to_string(),
                child: m.child,
                restricted: m.restricted,
            })
            .collect(),
        devices: devices.into_iter().map(|d| d.id.to_string()).collect(),
    }))
}
