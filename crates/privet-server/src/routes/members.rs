//! The household owner's routes: invitations, children's sign-in, claiming devices; and the
//! admin's route for staff accounts.

use crate::access::Operator;
use crate::error::ApiResult;
use crate::service::{accounts, devices};
use crate::session::SignedIn;
use crate::state::AppState;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use privet_policy::Action;
use privet_store::{Role, SubjectId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Body of `POST /v1/households/{id}/invitations`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteBody {
    /// The new member's name.
    pub name: String,
    /// A child (the owner gives their consents).
    #[serde(default)]
    pub child: bool,
    /// For a child: whether they may sign in at all.
    #[serde(default)]
    pub can_sign_in: bool,
}

/// A new member and their single-use invitation.
#[derive(Debug, Serialize, ToSchema)]
pub struct InviteOutcome {
    /// The new member's id.
    pub member: String,
    /// The invitation code (single use, expires in 7 days); absent for a child who may not sign in.
    pub invite_code: Option<String>,
    /// The page where they create their account.
    pub invite_url: Option<String>,
}

/// Body of `PUT /v1/households/{id}/members/{member}/sign-in`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInBody {
    /// Whether the child may sign in.
    pub allowed: bool,
}

/// Body of `POST /v1/households/{id}/devices/claim`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimBody {
    /// The device's single-use claim code.
    pub claim_code: String,
    /// The member a personal device (a wearable) belongs to.
    pub member: Option<String>,
}

/// A claimed device.
#[derive(Debug, Serialize, ToSchema)]
pub struct Claimed {
    /// Device id.
    pub id: String,
    /// Product id.
    pub product: String,
}

/// Body of `POST /v1/staff`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffBody {
    /// E-mail (sign-in name).
    pub email: String,
    /// Initial password, to be changed; must pass the password policy.
    pub password: String,
    /// `admin`, `analyst`, `support` or `dpo`.
    #[schema(value_type = String, pattern = "^(admin|analyst|support|dpo)$")]
    pub role: Role,
}

/// Never shows the name.
impl std::fmt::Debug for InviteBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InviteBody")
            .field("child", &self.child)
            .field("can_sign_in", &self.can_sign_in)
            .finish_non_exhaustive()
    }
}

/// Never shows the claim code.
impl std::fmt::Debug for ClaimBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClaimBody").finish_non_exhaustive()
    }
}

/// Never shows the e-mail or the password.
impl std::fmt::Debug for StaffBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaffBody")
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(invite))
        .routes(routes!(child_sign_in))
        .routes(routes!(claim))
        .routes(routes!(create_staff))
}

/// Adds a member and invites them to create their account (owner only).
#[utoipa::path(post, path = "/v1/households/{id}/invitations", tag = "households",
    params(("id" = String, Path, description = "Household id")), request_body = InviteBody,
    responses((status = 201, body = InviteOutcome), (status = 401), (status = 403), (status = 404), (status = 422)),
    security(("session" = [])))]
async fn invite(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
    body: Result<Json<InviteBody>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<InviteOutcome>)> {
    accounts::owner_of(&signed, &id)?;
    let Json(b) = body?;
    let (member, code) =
        accounts::invite(&state, &signed, &b.name, b.child, b.can_sign_in || !b.child).await?;
    Ok((
        StatusCode::CREATED,
        Json(InviteOutcome {
            member: member.to_string(),
            invite_url: code.as_ref().map(|c| format!("/invite/{}", c.expose())),
            invite_code: code.map(|c| c.expose().to_owned()),
        }),
    ))
}

/// Lets a child member sign in, or stops them (owner only).
#[utoipa::path(put, path = "/v1/households/{id}/members/{member}/sign-in", tag = "households",
    params(("id" = String, Path, description = "Household id"), ("member" = String, Path, description = "Child member id")),
    request_body = SignInBody, responses((status = 204), (status = 401), (status = 403), (status = 404)),
    security(("session" = [])))]
async fn child_sign_in(
    State(state): State<AppState>,
    signed: SignedIn,
    Path((id, member)): Path<(String, String)>,
    body: Result<Json<SignInBody>, JsonRejection>,
) -> ApiResult<StatusCode> {
    accounts::owner_of(&signed, &id)?;
    let Json(b) = body?;
    accounts::set_child_sign_in(&state, &signed, &SubjectId::new(member), b.allowed).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Attaches a device to the household with its single-use claim code (owner only). A wrong
/// code and a used code fail alike.
#[utoipa::path(post, path = "/v1/households/{id}/devices/claim", tag = "households",
    params(("id" = String, Path, description = "Household id")), request_body = ClaimBody,
    responses((status = 200, body = Claimed), (status = 401), (status = 403), (status = 404), (status = 429)),
    security(("session" = [])))]
async fn claim(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
    body: Result<Json<ClaimBody>, JsonRejection>,
) -> ApiResult<Json<Claimed>> {
    let household = accounts::owner_of(&signed, &id)?;
    let Json(b) = body?;
    let member = b.member.map(SubjectId::new);
    let device = devices::claim(
        &state,
        &signed.account,
        &household,
        &b.claim_code,
        member.as_ref(),
    )
    .await?;
    Ok(Json(Claimed {
        id: device.id.to_string(),
        product: device.product,
    }))
}

/// Creates a staff account for the console (admin key). It can do nothing until its holder
/// turns on two-step verification.
#[utoipa::path(post, path = "/v1/staff", tag = "staff", request_body = StaffBody,
    responses((status = 201), (status = 401), (status = 403), (status = 409), (status = 422)),
    security(("api_key" = [])))]
async fn create_staff(
    State(state): State<AppState>,
    op: Operator,
    body: Result<Json<StaffBody>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let permit = op.permit(Action::ManageFleet)?;
    let Json(b) = body?;
    let account =
        accounts::create_staff(&state, &b.email, b.password, b.role, &permit.actor).await?;
    Ok((
        StatusCode::CREATED,
        Json(
            serde_json::json!({"account": account.id, "role": b.role.as_str(), "created_at": account.created_at}),
        ),
    ))
}
