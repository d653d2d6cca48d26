//! The public notice history of a product: `/products/{id}/versions` lists every published
//! version of its manifest, newest first, and `/products/{id}/versions/{version}` shows the
//! privacy notice that version gave, as it was published.

use super::products::{EarlierVersion, detail_page};
use super::view;
use crate::pages::{MaybeSignedIn, PageContext, PageError, render, urlencode};
use crate::service::error::{Missing, ServiceError};
use crate::service::versions;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::response::{Redirect, Response};

/// A version in the list.
struct VersionRow {
    version: String,
    /// The version as a path segment.
    path: String,
    published: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "pages/household/versions.html")]
struct VersionsPage {
    page: PageContext,
    id: String,
    name: String,
    versions: Vec<VersionRow>,
}

/// `version` percent-encoded for one path segment (`urlencode` keeps `/`).
fn segment(version: &str) -> String {
    urlencode(version).replace('/', "%2F")
}

/// `GET /products/{id}/versions`.
pub(crate) async fn list(
    State(state): State<AppState>,
    MaybeSignedIn(signed): MaybeSignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let listed = versions::of_product(&state, &id).await?;
    let name = match state.products().get(&id) {
        Some(m) => m.product.name.value.clone(),
        None => id.clone(),
    };
    render(&VersionsPage {
        page: PageContext::new(&state, signed.as_ref()).await?,
        versions: listed
            .into_iter()
            .map(|v| VersionRow {
                path: segment(&v.manifest.version),
                version: v.manifest.version,
                published: view::when(v.manifest.published_at),
                current: v.current,
            })
            .collect(),
        id,
        name,
    })
}

/// `GET /products/{id}/versions/{version}`: the notice of that version (the current one is the
/// product's own page).
pub(crate) async fn show(
    State(state): State<AppState>,
    MaybeSignedIn(signed): MaybeSignedIn,
    Path((id, version)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let v = versions::one(&state, &id, &version).await?;
    if v.current {
        return Ok(Redirect::to(&format!("/products/{}", urlencode(&id))).into_response());
    }
    // It parsed when it was published; lint findings of today do not matter for the history.
    let manifest = privet_manifest::parse(&v.manifest.source)
        .map_err(|_| ServiceError::NotFound(Missing::ManifestVersion))?
        .manifest;
    let page = PageContext::new(&state, signed.as_ref()).await?;
    detail_page(
        &state,
        page,
        &manifest,
        Some(EarlierVersion {
            version: v.manifest.version,
            published: view::when(v.manifest.published_at),
        }),
    )
}
