//! `/console/keys`: operator API keys. Create one (its secret is shown once and only a hash
//! is kept), or revoke one after a confirmation step. Both are audited.

use super::staff::{Area, ConsoleNav, Staff};
use super::{form, message_of, status_of, when, when_opt};
use crate::pages::{PageContext, PageError, render, render_status};
use crate::service::api_keys;
use crate::service::error::{Invalid, ServiceError, ServiceResult};
use crate::state::AppState;
use askama::Template;
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use privet_store::{ApiKey, Role};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Most characters in a key's label.
const MAX_LABEL: usize = 100;

/// A key as a row.
#[derive(Debug)]
struct KeyRow {
    id: String,
    role: &'static str,
    purposes: String,
    label: String,
    created: String,
    revoked: Option<String>,
}

impl From<&ApiKey> for KeyRow {
    fn from(k: &ApiKey) -> Self {
        KeyRow {
            id: k.id.to_string(),
            role: k.role.as_str(),
            purposes: if k.purposes.is_empty() {
                "—".to_owned()
            } else {
                k.purposes.join(", ")
            },
            label: k.label.clone(),
            created: when(k.created_at),
            revoked: k.revoked_at.map(when),
        }
    }
}

/// A role in the select.
#[derive(Debug)]
struct RoleOption {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

/// A purpose an analyst key may hold: a key declared by at least one product.
#[derive(Debug)]
struct PurposeOption {
    key: String,
    products: String,
    checked: bool,
}

fn role_label(role: Role) -> &'static str {
    match role {
        Role::Admin => "Admin: everything, including devices and keys",
        Role::Analyst => "Analyst: events for its purposes only",
        Role::Support => "Support: rights requests and consents",
        Role::Dpo => "DPO: the audit log and rights requests",
    }
}

#[derive(Template)]
#[template(path = "pages/console/keys.html")]
struct KeysPage {
    page: PageContext,
    nav: ConsoleNav,
    keys: Vec<KeyRow>,
    roles: Vec<RoleOption>,
    purposes: Vec<PurposeOption>,
    label: String,
}

/// The create form as submitted (purposes repeat, so it is read as pairs).
#[derive(Debug, Default)]
struct NewKey {
    csrf: String,
    role: String,
    purposes: Vec<String>,
    label: String,
}

impl NewKey {
    fn from_pairs(pairs: Vec<(String, String)>) -> NewKey {
        let mut k = NewKey::default();
        for (name, value) in pairs {
            match name.as_str() {
                "csrf" => k.csrf = value,
                "role" => k.role = value,
                "label" => k.label = value,
                "purpose" => k.purposes.push(value),
                _ => {}
            }
        }
        k
    }
}

async fn keys_page(
    state: &AppState,
    staff: &Staff,
    submitted: Option<&NewKey>,
    flash: Option<&str>,
    error: Option<(StatusCode, String)>,
) -> Result<Response, PageError> {
    let mut keys = state.store().api_keys().await?;
    // Live keys first, newest first.
    keys.sort_by(|a, b| {
        (a.revoked_at.is_some(), std::cmp::Reverse(a.created_at))
            .cmp(&(b.revoked_at.is_some(), std::cmp::Reverse(b.created_at)))
    });
    let mut declared: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for m in state.products().iter() {
        for p in &m.purposes {
            declared
                .entry(p.id.to_string())
                .or_default()
                .push(m.product.name.value.clone());
        }
    }
    let chosen_role = submitted.map_or("analyst", |k| k.role.as_str());
    let mut page = staff.page(state).await?;
    if let Some(f) = flash {
        page = page.flash(f);
    }
    let status = match &error {
        Some((status, msg)) => {
            page = page.error(msg.clone());
            *status
        }
        None => StatusCode::OK,
    };
    render_status(
        status,
        &KeysPage {
            page,
            nav: ConsoleNav::new(staff, Area::Keys),
            keys: keys.iter().map(KeyRow::from).collect(),
            roles: Role::ALL
                .iter()
                .map(|r| RoleOption {
                    value: r.as_str(),
                    label: role_label(*r),
                    selected: r.as_str() == chosen_role,
                })
                .collect(),
            purposes: declared
                .into_iter()
                .map(|(key, products)| PurposeOption {
                    checked: submitted.is_some_and(|k| k.purposes.contains(&key)),
                    key,
                    products: products.join(", "),
                })
                .collect(),
            label: submitted.map(|k| k.label.clone()).unwrap_or_default(),
        },
    )
}

/// `?done=revoked` after a revocation (never text from the query).
#[derive(Debug, Default, Deserialize)]
pub(super) struct Done {
    #[serde(default)]
    done: String,
}

/// `GET /console/keys`.
pub(super) async fn list(
    State(state): State<AppState>,
    staff: Staff,
    done: Result<Query<Done>, QueryRejection>,
) -> Result<Response, PageError> {
    staff.require(Area::Keys)?;
    // A malformed query only loses the confirmation message.
    let done = done.map(|Query(d)| d).unwrap_or_default();
    let flash = (done.done == "revoked")
        .then_some("The key was revoked: anything using it can no longer call the API.");
    keys_page(&state, &staff, None, flash, None).await
}

#[derive(Template)]
#[template(path = "pages/console/key_created.html")]
struct KeyCreated {
    page: PageContext,
    nav: ConsoleNav,
    id: String,
    role: &'static str,
    purposes: String,
    secret: String,
}

fn check_new_key(k: &NewKey, state: &AppState) -> ServiceResult<(Role, Vec<String>, String)> {
    let role = Role::parse(k.role.trim()).ok_or(Invalid::ChooseRole)?;
    let label = k.label.trim().to_owned();
    if label.is_empty() || label.chars().count() > MAX_LABEL || label.chars().any(char::is_control)
    {
        return Err(Invalid::KeyLabel(MAX_LABEL).into());
    }
    let mut purposes: Vec<String> = k.purposes.iter().map(|p| p.trim().to_owned()).collect();
    purposes.sort();
    purposes.dedup();
    if let Some(p) = purposes
        .iter()
        .find(|p| state.products().declaring(p).next().is_none())
    {
        return Err(Invalid::PurposeNotDeclared {
            purpose: p.clone(),
            product: None,
        }
        .into());
    }
    Ok((role, purposes, label))
}

/// `POST /console/keys`: creates a key and shows it once.
pub(super) async fn create(
    State(state): State<AppState>,
    staff: Staff,
    submitted: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response, PageError> {
    let permit = staff.require(Area::Keys)?;
    let k = NewKey::from_pairs(form(submitted)?);
    staff.check_csrf(&state, &k.csrf)?;
    let created = async {
        let (role, purposes, label) = check_new_key(&k, &state)?;
        // The service stores only the key's hash and writes the `key.create` audit entry.
        let (id, secret) = api_keys::create(
            state.store().as_ref(),
            state.keys().keyring().as_ref(),
            state.audit_chain().await?,
            state.clock().now(),
            &permit.actor,
            role,
            purposes.clone(),
            label,
        )
        .await?;
        Ok::<_, ServiceError>((id, role, purposes, secret))
    }
    .await;
    match created {
        Ok((id, role, purposes, secret)) => render(&KeyCreated {
            page: staff.page(&state).await?,
            nav: ConsoleNav::new(&staff, Area::Keys),
            id: id.to_string(),
            role: role.as_str(),
            purposes: purposes.join(", "),
            secret: secret.expose().to_owned(),
        }),
        Err(e) => {
            let error = (status_of(&e), message_of(&e));
            keys_page(&state, &staff, Some(&k), None, Some(error)).await
        }
    }
}

#[derive(Template)]
#[template(path = "pages/console/key_revoke.html")]
struct RevokePage {
    page: PageContext,
    nav: ConsoleNav,
    key: KeyRow,
}

/// `GET /console/keys/{id}/revoke`: asks for confirmation.
pub(super) async fn confirm_revoke(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    staff.require(Area::Keys)?;
    let key = api_keys::find(&state, &id).await?;
    render(&RevokePage {
        page: staff.page(&state).await?,
        nav: ConsoleNav::new(&staff, Area::Keys),
        key: KeyRow::from(&key),
    })
}

/// The revoke form.
#[derive(Debug, Default, Deserialize)]
pub(super) struct RevokeForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /console/keys/{id}/revoke`.
pub(super) async fn revoke(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    submitted: Result<Form<RevokeForm>, FormRejection>,
) -> Result<Response, PageError> {
    let permit = staff.require(Area::Keys)?;
    let f = form(submitted)?;
    staff.check_csrf(&state, &f.csrf)?;
    let key = api_keys::find(&state, &id).await?;
    if key.revoked_at.is_some() {
        let flash = format!(
            "That key was already revoked on {}.",
            when_opt(key.revoked_at)
        );
        return keys_page(&state, &staff, None, Some(&flash), None).await;
    }
    api_keys::revoke(&state, &key, &permit.actor).await?;
    Ok(Redirect::to("/console/keys?done=revoked").into_response())
}
