//! The HTTP router: one module per resource, merged here with the OpenAPI document,
//! metrics, body limits and timeout, and security headers.

pub mod audit;
pub mod auth;
pub mod consents;
pub mod devices;
pub mod events;
pub mod households;
pub mod ingest;
pub mod manifest_versions;
pub mod product_docs;
pub mod products;
pub mod requests;
pub mod security_txt;
pub mod subjects;
pub mod system;
#[cfg(feature = "test-clock")]
pub mod test_clock;
pub mod webhooks;

use crate::error::ApiError;
use crate::metrics;
use crate::state::AppState;
use axum::Json;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

#[derive(OpenApi)]
#[openapi(
    info(title = "Privet", description = "Privacy-by-design data backend for smart home products"),
    modifiers(&Security),
    components(schemas(crate::error::Problem))
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for (name, what) in [
            (
                "api_key",
                "An operator's API key (`privet key create`), `pvk_…`",
            ),
            (
                "device_token",
                "A device's token, `pvd_…`, shown once when it is created or reset",
            ),
        ] {
            components.add_security_scheme(
                name,
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .description(Some(what))
                        .build(),
                ),
            );
        }
        // People sign in (`POST /v1/auth/login` or `signup`) and hold a session cookie; a
        // change made with it must come from this server's origin (the `Origin` header).
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::session::COOKIE,
                "The session cookie set by signing in; changes made with it need an `Origin` header naming this server",
            ))),
        );
    }
}

/// All API routes and the OpenAPI document generated from their handlers.
pub fn api() -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(system::routes())
        .merge(security_txt::routes())
        .merge(auth::routes())
        .merge(members::routes())
        .merge(fleet::routes())
        .merge(households::routes())
        .merge(devices::routes())
        .merge(ingest::routes())
        .merge(consents::routes())
        .merge(events::routes())
        .merge(audit::routes())
        .merge(products::routes())
        .merge(product_docs::routes())
        .merge(manifest_versions::routes())
        .merge(subjects::routes())
        .merge(requests::routes())
        .merge(webhooks::routes())
        .split_for_parts();
    let mut doc = doc;
    openapi_doc::complete(&mut doc);
    (router, doc)
}

const SECURITY_HEADERS: &[(&str, &str)] = &[
    (
        "content-security-policy",
        "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    ("x-content-type-options", "nosniff"),
    // same-origin, not no-referrer: with no-referrer, Chromium sends `Origin: null` on
    // same-origin form posts, which the CSRF check must refuse.
    ("referrer-policy", "same-origin"),
    ("x-frame-options", "DENY"),
    // The pages use no device features: a page (or anything injected into one) may not ask.
    (
        "permissions-policy",
        "camera=(), microphone=(), geolocation=(), usb=(), payment=()",
    ),
    ("cross-origin-opener-policy", "same-origin"),
];

/// The complete application.
pub fn router(state: AppState) -> axum::Router {
    let (api, doc) = api();
    let doc = std::sync::Arc::new(doc);
    let mut app = api
        .merge(crate::pages::routes())
        .route(
            "/openapi.json",
            get(move || {
                let doc = doc.clone();
                async move { Json(doc.as_ref().clone()) }
            }),
        )
        .fallback(|| async { ApiError::NoRoute.into_response() })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed.into_response() })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::serve::body::deadline,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.metrics().clone(),
            metrics::track,
        ))
        .layer(DefaultBodyLimit::max(state.config().max_body_bytes));
    #[cfg(feature = "test-clock")]
    {
        app = app.merge(test_clock::routes());
    }
    for (name, value) in SECURITY_HEADERS {
        app = app.layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        ));
    }
    app.layer(SetResponseHeaderLayer::if_not_present(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    ))
    .with_state(state)
}
pub mod fleet;
pub mod members;
mod openapi_doc;
