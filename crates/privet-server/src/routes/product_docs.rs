//! `GET /v1/products/{id}/notice` and `GET /v1/products/{id}/label`: what people read about a
//! product, derived from the manifest served now. Public, like the product itself.

use crate::error::ApiResult;
use crate::pages::label::label_context;
use crate::service::error::{Missing, ServiceError};
use crate::state::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use privet_manifest::label::Label;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// How the notice is written.
#[derive(Clone, Copy, Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum NoticeFormat {
    /// Markdown (`text/markdown`).
    #[default]
    Md,
    /// A complete HTML page.
    Html,
}

/// Query of `GET /v1/products/{id}/notice`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct NoticeParams {
    /// `md` (the default) or `html`.
    #[serde(default)]
    #[param(inline)]
    pub format: NoticeFormat,
}

/// How the label is written.
#[derive(Clone, Copy, Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LabelFormat {
    /// One label object (`application/json`).
    #[default]
    Json,
    /// Text for a terminal.
    Text,
    /// A complete HTML page.
    Html,
}

/// Query of `GET /v1/products/{id}/label`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LabelParams {
    /// `json` (the default), `text` or `html`.
    #[serde(default)]
    #[param(inline)]
    pub format: LabelFormat,
}

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_notice))
        .routes(routes!(get_label))
}

fn manifest(state: &AppState, id: &str) -> ApiResult<std::sync::Arc<privet_manifest::Manifest>> {
    Ok(state
        .products()
        .get(id)
        .cloned()
        .ok_or(ServiceError::NotFound(Missing::Product))?)
}

fn typed(content_type: &'static str, body: String) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// The product's privacy notice, as Markdown or HTML.
#[utoipa::path(get, path = "/v1/products/{id}/notice", tag = "products",
    params(("id" = String, Path, description = "Product id"), NoticeParams),
    responses(
        (status = 200, description = "The notice", content(
            (String = "text/markdown"),
            (String = "text/html"))),
        (status = 400, description = "An unknown format or parameter"),
        (status = 404, description = "No such product")))]
async fn get_notice(
    State(state): State<AppState>,
    Path(id): Path<String>,
    params: Result<Query<NoticeParams>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(p) = params?;
    let m = manifest(&state, &id)?;
    Ok(match p.format {
        NoticeFormat::Md => typed(
            "text/markdown; charset=utf-8",
            privet_manifest::notice::markdown(&m),
        ),
        NoticeFormat::Html => typed(
            "text/html; charset=utf-8",
            privet_manifest::notice::html(&m).map_err(|_| ServiceError::Corrupt("notice"))?,
        ),
    })
}

/// The product's privacy and security label, as JSON, text or HTML; with the day of the last
/// material change to its manifest.
#[utoipa::path(get, path = "/v1/products/{id}/label", tag = "products",
    params(("id" = String, Path, description = "Product id"), LabelParams),
    responses(
        (status = 200, description = "The label", content(
            (Object = "application/json"),
            (String = "text/plain"),
            (String = "text/html"))),
        (status = 400, description = "An unknown format or parameter"),
        (status = 404, description = "No such product")))]
async fn get_label(
    State(state): State<AppState>,
    Path(id): Path<String>,
    params: Result<Query<LabelParams>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(p) = params?;
    // One snapshot for the manifest and the context, so the date matches the version.
    let products = state.products();
    let m = products
        .get(&id)
        .ok_or(ServiceError::NotFound(Missing::Product))?;
    let label = Label::from_manifest(m, &label_context(&products, &state, &id, None));
    Ok(match p.format {
        LabelFormat::Json => typed(
            "application/json",
            serde_json::to_string(&label).map_err(|_| ServiceError::Corrupt("label"))?,
        ),
        LabelFormat::Text => typed(
            "text/plain; charset=utf-8",
            privet_manifest::label::text(&label),
        ),
        LabelFormat::Html => typed(
            "text/html; charset=utf-8",
            privet_manifest::label::html(std::slice::from_ref(&label))
                .map_err(|_| ServiceError::Corrupt("label"))?,
        ),
    })
}
