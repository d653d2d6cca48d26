//! `POST /v1/products` (admin): publish a manifest version; `GET /v1/products/{id}/versions`
//! (public, as the product is): its published versions.

use crate::access::Operator;
use crate::error::{ApiError, ApiResult};
use crate::service::publish::{self, Publication};
use crate::service::versions;
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use jiff::Timestamp;
use privet_policy::Action;
use privet_store::StoredManifest;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// A published manifest version.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublishedView {
    /// Product id.
    pub product: String,
    /// The manifest's `product.version`.
    pub version: String,
    /// SHA-256 of the text, lowercase hex.
    pub digest: String,
    /// When it was first published.
    pub published_at: Timestamp,
    /// Who published it: `key:…`, `account:…`, `cli`, `serve`, `demo` (empty for texts
    /// published before this was recorded).
    pub published_by: String,
}

impl From<&StoredManifest> for PublishedView {
    fn from(m: &StoredManifest) -> Self {
        PublishedView {
            product: m.product.clone(),
            version: m.version.clone(),
            digest: m.digest.clone(),
            published_at: m.published_at,
            published_by: m.published_by.clone(),
        }
    }
}

/// One version in a product's list.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionView {
    /// The manifest's `product.version`.
    pub version: String,
    /// SHA-256 of the text, lowercase hex.
    pub digest: String,
    /// When it was published.
    pub published_at: Timestamp,
    /// Who published it.
    pub published_by: String,
    /// The newest published: what every instance serves.
    pub current: bool,
}

/// A product's published versions.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionsView {
    /// Product id.
    pub product: String,
    /// Newest first.
    pub versions: Vec<VersionView>,
}

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(publish_manifest))
        .routes(routes!(list_versions))
}

/// Refuses a body that is not declared as TOML (or plain text).
fn require_toml(headers: &HeaderMap) -> ApiResult<()> {
    let essence = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| ct.split(';').next())
        .map(|e| e.trim().to_ascii_lowercase())
        .unwrap_or_default();
    match essence.as_str() {
        "application/toml" | "text/plain" => Ok(()),
        _ => Err(ApiError::UnsupportedMediaType(
            "send the manifest as `Content-Type: application/toml`",
        )),
    }
}

/// Publishes a manifest (its TOML text as the body) as a new version of its product, served by
/// every instance from then on. 201 when new; 200 when this very text was published before
/// (nothing changes); 409 `version-taken` when its version is published with other content;
/// 422 with `findings` when it has lint errors. Audited.
#[utoipa::path(post, path = "/v1/products", tag = "products",
    request_body(content = String, description = "The manifest's TOML text", content_type = "application/toml"),
    responses((status = 201, body = PublishedView, description = "Published"),
        (status = 200, body = PublishedView, description = "Already published; nothing changed"),
        (status = 401), (status = 403), (status = 409), (status = 413), (status = 415),
        (status = 422)),
    security(("api_key" = [])))]
async fn publish_manifest(
    State(state): State<AppState>,
    op: Operator,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<PublishedView>)> {
    let permit = op.permit(Action::PublishManifests)?;
    require_toml(&headers)?;
    let body = body.map_err(|e| ApiError::unreadable_body(&e, state.config().max_body_bytes))?;
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::Unprocessable("the manifest must be UTF-8 text".to_owned()))?;
    let published = publish::publish(&state, text, &permit.actor).await?;
    let status = match published {
        Publication::New(_) => StatusCode::CREATED,
        Publication::AlreadyPublished(_) => StatusCode::OK,
    };
    Ok((status, Json(PublishedView::from(published.manifest()))))
}

/// A product's published manifest versions, newest first; the newest is current.
#[utoipa::path(get, path = "/v1/products/{id}/versions", tag = "products",
    params(("id" = String, Path, description = "Product id")),
    responses((status = 200, body = VersionsView), (status = 404)))]
async fn list_versions(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<VersionsView>> {
    let listed = versions::of_product(&state, &id).await?;
    Ok(Json(VersionsView {
        product: id,
        versions: listed
            .into_iter()
            .map(|v| VersionView {
                version: v.manifest.version,
                digest: v.manifest.digest,
                published_at: v.manifest.published_at,
                published_by: v.manifest.published_by,
                current: v.current,
            })
            .collect(),
    }))
}
