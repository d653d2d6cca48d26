//! What the My data page shows per device and stream: the fields held and why, for how long,
//! and a few recent records decrypted for the reader only.
//!
//! The records are read as every reader reads them (`service::blocks::Scan`, the block format
//! and the expiry rule of `privet_policy`), but only the newest blocks are read: a page view
//! must not decrypt a whole year of readings.

use super::media::{self, MediaKind};
use super::view;
use crate::pages::urlencode;
use crate::service::blocks::Scan;
use crate::service::error::ServiceResult;
use crate::state::AppState;
use jiff::SignedDuration;
use privet_manifest::notice::{Notice, PurposeFacts, StreamFacts};
use privet_policy::StoredEvent;
use privet_store::{BlockQuery, Device, Subject};

/// How many recent records each table shows.
pub(crate) const RECENT: usize = 5;

/// The windows tried in turn, newest first, until one holds [`RECENT`] records (`None`: all).
const WINDOWS: [Option<SignedDuration>; 5] = [
    Some(SignedDuration::from_mins(10)),
    Some(SignedDuration::from_hours(1)),
    Some(SignedDuration::from_hours(24)),
    Some(SignedDuration::from_hours(24 * 31)),
    None,
];

fn newest_first(rows: &mut Vec<StoredEvent>) {
    rows.sort_by_key(|r| std::cmp::Reverse(r.ts));
    rows.truncate(RECENT);
}

/// The newest [`RECENT`] unexpired records `device` sent about `who` in one stream.
async fn recent(
    state: &AppState,
    who: &Subject,
    device: &Device,
    stream: &str,
) -> ServiceResult<Vec<StoredEvent>> {
    let now = state.clock().now();
    let mut rows = Vec::new();
    for window in WINDOWS {
        let since = window.and_then(|w| now.checked_sub(w).ok());
        let mut scan = Scan::start(
            state,
            BlockQuery {
                subject: Some(who.pseudonym),
                streams: vec![stream.to_owned()],
                product: Some(device.product.clone()),
                device: Some(device.id.clone()),
                since,
                ..Default::default()
            },
        )
        .await?;
        rows.clear();
        while let Some((_, opened)) = scan.next().await? {
            rows.extend(
                opened
                    .live_events(now)?
                    .into_iter()
                    .filter(|e| since.is_none_or(|s| e.ts >= s)),
            );
            if rows.len() >= RECENT * 8 {
                newest_first(&mut rows);
            }
        }
        newest_first(&mut rows);
        if rows.len() >= RECENT {
            break;
        }
    }
    Ok(rows)
}

/// A field as the page shows it.
pub(crate) struct FieldView {
    /// What it is, in the maker's words (or its key).
    pub(crate) what: String,
    /// The field key.
    pub(crate) key: String,
    /// The kind of data.
    pub(crate) kind: String,
    /// Each purpose with its lawful basis in plain words.
    pub(crate) why: Vec<String>,
    /// How long it is kept.
    pub(crate) kept: String,
    /// Whether and how the person can stop it, from its purposes' lawful bases.
    pub(crate) control: String,
}

/// One stored value as a table cell: its text, and for a recording or picture the link that
/// downloads it.
pub(crate) struct Cell {
    /// The value, or what the recording or picture is ("audio clip, 3 s").
    pub(crate) text: String,
    /// Where the recording or picture downloads from.
    pub(crate) href: Option<String>,
}

/// Recent records of one subject in one stream.
pub(crate) struct RecordTable {
    /// Whom the records are about ("you", "the household (…)", a child's name).
    pub(crate) who: String,
    /// Field keys, one column each after the time.
    pub(crate) columns: Vec<String>,
    /// When observed, when it will be deleted, then one value per column.
    pub(crate) rows: Vec<(String, String, Vec<Cell>)>,
}

/// One stream of one device.
pub(crate) struct StreamView {
    /// A heading made from the stream key.
    pub(crate) title: String,
    /// The maker's description.
    pub(crate) description: String,
    /// Whose data it is.
    pub(crate) whose: String,
    /// Its fields.
    pub(crate) fields: Vec<FieldView>,
    /// Recent records, one table per subject shown.
    pub(crate) tables: Vec<RecordTable>,
}

/// Someone shown, with how the page names them ("you", "the household", "Sam").
pub(crate) struct Shown<'a> {
    /// The subject.
    pub(crate) subject: &'a Subject,
    /// How captions name them.
    pub(crate) name: String,
}

/// "device_health" → "Device health".
pub(crate) fn title_of(key: &str) -> String {
    let spaced = key.replace(['_', '-'], " ");
    let mut chars = spaced.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_uppercase().collect::<String>() + chars.as_str()
    })
}

/// Whether and how the person can stop a field being collected, in plain words from its
/// purposes' lawful bases: a purpose that needs neither consent nor allows objection (a
/// contract, the law, someone's life) keeps it; else one on legitimate interests (or a public
/// task) keeps it until the person objects; else it is off until they turn it on.
pub(crate) fn control_of(purposes: &[PurposeFacts]) -> String {
    if let Some(p) = purposes.iter().find(|p| !p.optional && !p.objectable) {
        format!("No: {}", p.basis.plain)
    } else if purposes.iter().any(|p| !p.optional && p.objectable) {
        "Yes: on unless you object".to_owned()
    } else {
        "Yes: off until you turn it on".to_owned()
    }
}

fn fields_of(s: &StreamFacts) -> Vec<FieldView> {
    s.fields
        .iter()
        .map(|f| FieldView {
            what: f.description.clone().unwrap_or_else(|| f.name.clone()),
            key: f.name.clone(),
            kind: f.category_name.clone(),
            why: f
                .purposes
                .iter()
                .map(|p| format!("{} (because {})", p.description, p.basis.plain))
                .collect(),
            kept: match &f.retention_note {
                Some(note) => format!("{} ({note})", f.retention),
                None => f.retention.clone(),
            },
            control: control_of(&f.purposes),
        })
        .collect()
}

/// A stored value as the page shows it: a recording or picture by what it is, with its
/// download link (`href`), never its encoded text.
fn cell(
    r: &StoredEvent,
    column: &str,
    kind: Option<MediaKind>,
    href: impl FnOnce() -> String,
) -> Cell {
    let value = r.data.get(column);
    match (kind, value) {
        (Some(kind), Some(v)) if !v.is_null() => match media::decode(Some(v)) {
            Some(bytes) => Cell {
                text: media::describe(kind, &bytes),
                href: Some(href()),
            },
            None => Cell {
                text: media::unreadable(kind),
                href: None,
            },
        },
        _ => Cell {
            text: view::value(value),
            href: None,
        },
    }
}

/// The personal streams of `device` with their fields and the recent records of `household`
/// (household streams) or of `members` (member streams). Returns the views and how many
/// records were shown.
pub(crate) async fn streams(
    state: &AppState,
    device: &Device,
    notice: &Notice,
    household: &Shown<'_>,
    members: &[Shown<'_>],
) -> ServiceResult<(Vec<StreamView>, u64)> {
    let mut out = Vec::new();
    let mut shown = 0u64;
    let products = state.products();
    let Some(manifest) = products.get(&device.product) else {
        return Ok((out, shown));
    };
    for facts in &notice.streams {
        let Some(stream) = manifest.stream(&facts.id) else {
            continue;
        };
        let who: Vec<&Shown<'_>> = match stream.subject.value {
            privet_manifest::SubjectKind::Household => vec![household],
            privet_manifest::SubjectKind::Member => members.iter().collect(),
            privet_manifest::SubjectKind::None => continue,
        };
        let columns: Vec<String> = facts.fields.iter().map(|f| f.name.clone()).collect();
        let kinds: Vec<Option<MediaKind>> = facts
            .fields
            .iter()
            .map(|f| MediaKind::of_category(&f.category))
            .collect();
        let mut tables = Vec::new();
        for s in who {
            let rows = recent(state, s.subject, device, &facts.id).await?;
            shown += rows.len() as u64;
            let link = |field: &str, r: &StoredEvent| {
                format!(
                    "/my-data/media?subject={}&device={}&stream={}&field={}&at={}",
                    urlencode(s.subject.id.as_str()),
                    urlencode(device.id.as_str()),
                    urlencode(&facts.id),
                    urlencode(field),
                    urlencode(&r.ts.to_string()),
                )
            };
            tables.push(RecordTable {
                who: s.name.clone(),
                rows: rows
                    .iter()
                    .map(|r| {
                        let cells = columns
                            .iter()
                            .zip(&kinds)
                            .map(|(c, kind)| cell(r, c, *kind, || link(c, r)))
                            .collect();
                        (
                            view::when(r.ts),
                            view::day(privet_policy::utc_date(r.exp)),
                            cells,
                        )
                    })
                    .collect(),
                columns: columns.clone(),
            });
        }
        out.push(StreamView {
            title: title_of(&facts.id),
            description: facts.description.clone().unwrap_or_default(),
            whose: facts.whose.clone(),
            fields: fields_of(facts),
            tables,
        });
    }
    Ok((out, shown))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn purpose(optional: bool, objectable: bool, plain: &str) -> PurposeFacts {
        PurposeFacts {
            id: "p".into(),
            description: "P.".into(),
            data_use: "essential.service".into(),
            optional,
            basis: privet_manifest::notice::Basis {
                plain: plain.into(),
                article: String::new(),
            },
            condition: None,
            objectable,
            recipients: Vec::new(),
        }
    }

    #[test]
    fn whether_a_field_can_be_stopped_follows_its_lawful_bases() {
        let contract = purpose(
            false,
            false,
            "we need it to provide the product you asked for",
        );
        let interests = purpose(false, true, "we have a good reason");
        let consent = purpose(true, false, "you said yes");
        assert_eq!(
            control_of(std::slice::from_ref(&interests)),
            "Yes: on unless you object",
            "analytics on legitimate interests is not needed for the device to work"
        );
        assert_eq!(
            control_of(std::slice::from_ref(&consent)),
            "Yes: off until you turn it on"
        );
        assert_eq!(
            control_of(&[consent.clone(), interests.clone()]),
            "Yes: on unless you object"
        );
        assert_eq!(
            control_of(&[interests, contract, consent]),
            "No: we need it to provide the product you asked for"
        );
    }

    #[test]
    fn stream_keys_become_titles() {
        assert_eq!(title_of("device_health"), "Device health");
        assert_eq!(title_of("climate"), "Climate");
        assert_eq!(title_of(""), "");
    }
}
