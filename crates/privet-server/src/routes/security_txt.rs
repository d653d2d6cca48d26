//! `GET /.well-known/security.txt` (RFC 9116): public, like `/healthz`; 404 when the operator
//! configured none.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(security_txt))
}

/// How to report a security issue to this instance's operator (RFC 9116), from configuration.
#[utoipa::path(
    get,
    path = "/.well-known/security.txt",
    tag = "system",
    responses(
        (status = 200, description = "The security.txt file", body = String, content_type = "text/plain; charset=utf-8"),
        (status = 404, description = "The operator configured no security contact"),
    )
)]
async fn security_txt(State(state): State<AppState>) -> Response {
    let Some(file) = &state.config().security_txt else {
        return ApiError::NoRoute.into_response();
    };
    let mut resp = file.render(state.clock().now()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}
