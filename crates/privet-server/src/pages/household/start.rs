//! `/`: what Privet does for you, in plain words.

use super::Done;
use crate::pages::{MaybeSignedIn, PageContext, PageError, render};
use crate::state::AppState;
use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Response;

#[derive(Template)]
#[template(path = "pages/household/start.html")]
struct Start {
    page: PageContext,
    products: usize,
}

/// The start page.
pub(crate) async fn page(
    State(state): State<AppState>,
    MaybeSignedIn(signed): MaybeSignedIn,
    q: Result<Query<Done>, QueryRejection>,
) -> Result<Response, PageError> {
    let mut page = PageContext::new(&state, signed.as_ref()).await?;
    page.flash = Done::from(q).flash();
    render(&Start {
        page,
        products: state.products().iter().count(),
    })
}
