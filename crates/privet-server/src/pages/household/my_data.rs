//! `/my-data`: per device and stream, what is held, why, for how long, who else receives it
//! and who accessed it; the optional purposes as switches; download and delete.

use super::permission_form::{PermissionForm, permission_form};
use super::records::{self, Shown, StreamView, title_of};
use super::{Done, member_of, view};
use crate::access::{Caller, SubjectCap, authorize_subject};
use crate::pages::{PageContext, PageError, PageSession, render};
use crate::service::audit::{self, Event};
use crate::service::error::{Missing, ServiceError};
use crate::service::subjects;
use crate::state::AppState;
use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Response;
use privet_manifest::Manifest;
use privet_manifest::notice::Notice;
use privet_policy::{SubjectAction, SubjectDenied};
use privet_store::{Subject, SubjectId};
use std::sync::Arc;

struct DeviceView {
    name: String,
    product: String,
    last_seen: String,
    streams: Vec<StreamView>,
    not_personal: Vec<String>,
    recipients: Vec<String>,
}

struct AccessRow {
    when: String,
    who: String,
    what: String,
    purpose: String,
    records: u64,
}

struct Link {
    text: String,
    href: String,
}

#[derive(Template)]
#[template(path = "pages/household/my_data.html")]
struct MyData {
    page: PageContext,
    me: String,
    household: String,
    devices: Vec<DeviceView>,
    forms: Vec<PermissionForm>,
    child: bool,
    access: Vec<AccessRow>,
    downloads: Vec<Link>,
    deletions: Vec<Link>,
}

/// The most access-log entries shown.
const ACCESS_ROWS: usize = 50;

/// A subject the reader may see, with its name.
struct Visible {
    cap: SubjectCap,
    name: String,
}

async fn visible(
    state: &AppState,
    caller: &Caller,
    id: &SubjectId,
    action: SubjectAction,
) -> Result<Option<Visible>, PageError> {
    match authorize_subject(state, caller, id, action).await {
        Ok(cap) => {
            let name = subjects::profile(state, &cap.subject).await?.name;
            Ok(Some(Visible { cap, name }))
        }
        // A member another may not see (another adult's data) is left out, not refused.
        Err(ServiceError::SubjectDenied(SubjectDenied::NotYours | SubjectDenied::OwnerOnly)) => {
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// Numbers devices of the same product ("Wren Smart Thermostat 2 (1 of 2)"), so each
/// device's section and tables have a name of their own.
fn number_alike(devices: &mut [DeviceView]) {
    let names: Vec<String> = devices.iter().map(|d| d.name.clone()).collect();
    for (i, d) in devices.iter_mut().enumerate() {
        let of = names.iter().filter(|n| **n == names[i]).count();
        if of > 1 {
            let nth = names[..=i].iter().filter(|n| **n == names[i]).count();
            d.name = format!("{} ({nth} of {of})", names[i]);
        }
    }
}

fn device_view(m: &Manifest, notice: &Notice, streams: Vec<StreamView>) -> DeviceView {
    let not_personal = notice
        .streams
        .iter()
        .filter(|s| {
            m.stream(&s.id)
                .is_some_and(|x| x.subject.value == privet_manifest::SubjectKind::None)
        })
        .map(|s| title_of(&s.id))
        .collect();
    DeviceView {
        name: notice.product.name.clone(),
        product: notice.product.id.clone(),
        last_seen: String::new(),
        streams,
        not_personal,
        recipients: notice
            .recipients
            .iter()
            .map(|r| {
                format!(
                    "{} ({}): {}. It receives data to: {}",
                    r.name,
                    r.country_name,
                    r.role_plain,
                    r.purposes.join("; ")
                )
            })
            .collect(),
    }
}

fn purpose_words(manifests: &[Arc<Manifest>], purpose: Option<&str>) -> String {
    let Some(key) = purpose else {
        return "—".to_owned();
    };
    manifests
        .iter()
        .find_map(|m| m.purpose(key))
        .map_or_else(|| key.to_owned(), |p| p.description.value.clone())
}

async fn access_log(
    state: &AppState,
    subjects: &[&Subject],
    me: &str,
    manifests: &[Arc<Manifest>],
) -> Result<Vec<AccessRow>, PageError> {
    let mut entries = Vec::new();
    for s in subjects {
        entries.extend(state.store().audit_for(&s.pseudonym).await?);
    }
    entries.sort_by_key(|e| std::cmp::Reverse(e.seq));
    entries.dedup_by_key(|e| e.seq);
    Ok(entries
        .into_iter()
        .take(ACCESS_ROWS)
        .map(|e| AccessRow {
            when: view::when(e.entry.at),
            who: view::actor(&e.entry.actor, me),
            what: view::action(&e.entry.action),
            purpose: purpose_words(manifests, e.entry.purpose.as_deref()),
            records: e.entry.count,
        })
        .collect())
}

fn export_links(id: &SubjectId, whose: &str) -> [Link; 2] {
    [
        Link {
            text: format!("Download {whose} data as JSON"),
            href: format!("/v1/subjects/{id}/export?format=json"),
        },
        Link {
            text: format!("Download {whose} data as CSV (zip)"),
            href: format!("/v1/subjects/{id}/export?format=csv"),
        },
    ]
}

/// The My data page.
pub(crate) async fn page(
    State(state): State<AppState>,
    PageSession(signed): PageSession,
    q: Result<Query<Done>, QueryRejection>,
) -> Result<Response, PageError> {
    let (household_id, member_id) = member_of(&signed)?;
    let caller = Caller::Account(Box::new(signed.clone()));
    let read = SubjectAction::Read;
    let not_found = || PageError::from(ServiceError::NotFound(Missing::Household));
    let me = visible(&state, &caller, &member_id, read)
        .await?
        .ok_or_else(not_found)?;
    let household = visible(&state, &caller, &household_id, read)
        .await?
        .ok_or_else(not_found)?;
    let mut children = Vec::new();
    if signed.account.owner {
        for m in state.store().members(&household_id).await? {
            if m.child
                && let Some(v) = visible(&state, &caller, &m.id, read).await?
            {
                children.push(v);
            }
        }
    }

    let devices = state.store().devices_of(&household_id).await?;
    let mut manifests: Vec<Arc<Manifest>> = Vec::new();
    for d in &devices {
        if let Some(m) = state.products().get(&d.product)
            && !manifests.iter().any(|x| x.product.id == m.product.id)
        {
            manifests.push(m.clone());
        }
    }
    let household_shown = Shown {
        subject: &household.cap.subject,
        name: format!("the household ({})", household.name),
    };
    let mut members_shown = vec![Shown {
        subject: &me.cap.subject,
        name: "you".to_owned(),
    }];
    members_shown.extend(children.iter().map(|c| Shown {
        subject: &c.cap.subject,
        name: c.name.clone(),
    }));
    let mut device_views = Vec::new();
    let mut shown = 0;
    let products = state.products();
    for d in &devices {
        let Some(m) = products.get(&d.product) else {
            continue;
        };
        let notice = Notice::from_manifest(m);
        let (streams, n) =
            records::streams(&state, d, &notice, &household_shown, &members_shown).await?;
        shown += n;
        let mut v = device_view(m, &notice, streams);
        v.last_seen = view::when_or(d.last_seen, "not yet");
        device_views.push(v);
    }
    number_alike(&mut device_views);
    let all: Vec<&Subject> = std::iter::once(&household.cap.subject)
        .chain(std::iter::once(&me.cap.subject))
        .chain(children.iter().map(|c| &c.cap.subject))
        .collect();
    if shown > 0 {
        // Showing decrypted records is an access like any other: it goes in the log.
        let actor = signed.actor();
        audit::record(
            &state,
            Event::new(
                &actor,
                "subject.view",
                serde_json::json!({"page": "my-data"}),
            )
            .subjects(all.iter().map(|s| s.pseudonym).collect())
            .count(shown),
        )
        .await?;
    }

    let manage = SubjectAction::Manage;
    let mut forms = Vec::new();
    let mut deletions = Vec::new();
    if let Some(v) = visible(&state, &caller, &member_id, manage).await? {
        forms.extend(
            permission_form(
                &state,
                &v.cap.subject,
                (
                    "Your choices".to_owned(),
                    "Save your choices".to_owned(),
                    "These apply to data about you.".to_owned(),
                ),
                &manifests,
            )
            .await?,
        );
        deletions.push(Link {
            text: "Delete my data".to_owned(),
            href: "/my-data/delete".to_owned(),
        });
    }
    if let Some(v) = visible(&state, &caller, &household_id, manage).await? {
        forms.extend(
            permission_form(
                &state,
                &v.cap.subject,
                (
                    "Choices for the household".to_owned(),
                    "Save the household's choices".to_owned(),
                    "These apply to data about your home as a whole, not about one person."
                        .to_owned(),
                ),
                &manifests,
            )
            .await?,
        );
        deletions.push(Link {
            text: "Delete the household's data (everyone's)".to_owned(),
            href: format!("/my-data/delete?subject={household_id}"),
        });
    }
    for c in &children {
        if let Some(v) = visible(&state, &caller, &c.cap.subject.id, manage).await? {
            forms.extend(
                permission_form(
                    &state,
                    &v.cap.subject,
                    (
                        format!("Choices for {}", c.name),
                        format!("Save {}'s choices", c.name),
                        format!("{} is a child: you choose for them.", c.name),
                    ),
                    &manifests,
                )
                .await?,
            );
            deletions.push(Link {
                text: format!("Delete {}'s data", c.name),
                href: format!("/my-data/delete?subject={}", c.cap.subject.id),
            });
        }
    }
    let mut downloads = Vec::from(export_links(&member_id, "your"));
    downloads.extend(export_links(&household_id, "the household's"));
    let access = access_log(&state, &all, &signed.account.id, &manifests).await?;
    let mut page = PageContext::new(&state, Some(&signed)).await?;
    page.flash = Done::from(q).flash();
    render(&MyData {
        page,
        me: me.name,
        household: household.name,
        devices: device_views,
        child: me.cap.subject.child,
        forms,
        access,
        downloads,
        deletions,
    })
}
