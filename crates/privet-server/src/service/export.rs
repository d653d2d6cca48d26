//! Export (access and portability): everything held about a subject, streamed with constant
//! memory — profile, every record decrypted, consents with history, objections, the
//! supplementary information a subject access response must carry, and who accessed the data.

use crate::service::audit::{self, Event};
use crate::service::blocks::Scan;
use crate::service::error::{Invalid, ServiceError, ServiceResult};
use crate::service::subjects::{self, Profile};
use crate::state::AppState;
use bytes::Bytes;
use privet_crypto::Pseudonym;
use privet_manifest::Manifest;
use privet_policy::ExpiryClock;
use privet_store::{BlockQuery, Subject, SubjectId, SubjectKind};
use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;
use std::sync::Arc;
use tokio::sync::mpsc;

/// One exported record, borrowed from the decrypted block it came from.
#[derive(Clone, Debug, Serialize)]
pub struct ExportRecord<'a> {
    /// Whose it is (the subject id: the requester, or a child member in a household export).
    pub subject: &'a str,
    /// Product id.
    pub product: &'a str,
    /// Stream key.
    pub stream: &'a str,
    /// The device that sent it.
    pub device: &'a str,
    /// When the device observed it: a JSON string (RFC 3339).
    pub ts: &'a RawValue,
    /// When it will be deleted: a JSON string (RFC 3339).
    pub expires_at: &'a RawValue,
    /// Every stored value, as stored (after minimisation): a JSON object.
    pub data: &'a RawValue,
}

/// A subject whose records an export holds.
#[derive(Clone, Debug)]
pub struct Included {
    /// The subject.
    pub subject: Subject,
    /// Its profile.
    pub profile: Profile,
}

/// Who and what an export covers, gathered before the records stream.
pub struct Plan {
    /// The requested subject.
    pub main: Included,
    /// Child members included in a household export.
    pub children: Vec<Included>,
    /// Products whose streams may hold the subjects' data.
    pub products: Vec<Arc<Manifest>>,
}

/// Builds the plan; `NotFound` once the subject has been erased.
pub async fn plan(state: &AppState, id: &SubjectId, with_children: bool) -> ServiceResult<Plan> {
    let subject = state.store().subject(id).await?;
    let profile = subjects::profile(state, &subject).await?;
    let mut children = Vec::new();
    if subject.kind == SubjectKind::Household && with_children {
        for m in state.store().members(&subject.id).await? {
            if m.child {
                let p = subjects::profile(state, &m).await?;
                children.push(Included {
                    subject: m,
                    profile: p,
                });
            }
        }
    }
    // The products whose data this household can hold: its devices', and any it consented to.
    let consented: Vec<String> = state
        .store()
        .consents(&subject.id)
        .await?
        .into_iter()
        .filter_map(|r| r.consent.product)
        .collect();
    let products =
        crate::service::devices::household_products(state, subject.household_id(), consented)
            .await?;
    Ok(Plan {
        main: Included { subject, profile },
        children,
        products,
    })
}

impl Plan {
    /// Every included subject.
    pub fn subjects(&self) -> impl Iterator<Item = &Included> {
        std::iter::once(&self.main).chain(self.children.iter())
    }

    /// The (product, stream) pairs that can hold data of this kind of subject.
    pub fn streams_for(&self, kind: SubjectKind) -> Vec<(Arc<Manifest>, String)> {
        self.products
            .iter()
            .flat_map(|m| {
                privet_policy::streams_about(m, kind).map(move |s| (m.clone(), s.id.to_string()))
            })
            .collect()
    }
}

/// Where exported records go, one at a time (so nothing accumulates in memory).
pub trait RecordSink {
    /// Takes one record; `Ok(false)` stops the export (the client went away).
    fn put(
        &mut self,
        record: ExportRecord<'_>,
    ) -> impl std::future::Future<Output = ServiceResult<bool>> + Send;
}

/// Streams the decrypted, unexpired records of one subject for one (product, stream) into
/// `sink`; `Ok(false)` when the sink stopped it.
pub async fn records<S: RecordSink>(
    state: &AppState,
    who: &Subject,
    product: &str,
    stream: &str,
    sink: &mut S,
) -> ServiceResult<bool> {
    let clock = ExpiryClock::new(state.clock().now());
    let mut scan = Scan::start(
        state,
        BlockQuery {
            subject: Some(who.pseudonym),
            streams: vec![stream.to_owned()],
            product: Some(product.to_owned()),
            ..Default::default()
        },
    )
    .await?;
    let subject = who.id.to_string();
    while let Some((block, opened)) = scan.next().await? {
        let device = block.device.to_string();
        for ev in opened.live_raw_events(&clock)? {
            let rec = ExportRecord {
                subject: &subject,
                product,
                stream: &block.stream,
                device: &device,
                ts: ev.ts,
                expires_at: ev.exp,
                data: ev.data,
            };
            if !sink.put(rec).await? {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

/// The parts of an export other than the records, as one JSON object.
pub async fn about(state: &AppState, plan: &Plan) -> ServiceResult<Value> {
    let mut people = Vec::new();
    let mut consents = Vec::new();
    let mut access = Vec::new();
    let ids: Vec<SubjectId> = plan.subjects().map(|i| i.subject.id.clone()).collect();
    for inc in plan.subjects() {
        let s = &inc.subject;
        people.push(serde_json::json!({
            "id": s.id,
            "kind": s.kind,
            "household": s.household,
            "child": s.child,
            "restricted": s.restricted,
            "created_at": s.created_at,
            "name": inc.profile.name,
            "email": inc.profile.email,
        }));
        for r in state.store().consents(&s.id).await? {
            consents.push(serde_json::to_value(&r).map_err(|_| ServiceError::Corrupt("consent"))?);
        }
        access.extend(access_log(state, &s.pseudonym).await?);
    }
    let objections = state.store().objections(&ids).await?;
    Ok(serde_json::json!({
        "generated_at": state.clock().now(),
        "subjects": people,
        "consents": consents,
        "objections": objections,
        "access_log": access,
        "processing": processing(&plan.products),
        "your_rights": RIGHTS,
    }))
}

const RIGHTS: &str = "You can ask for a copy of your data (this export), have it corrected, have it deleted, \
restrict or object to its use, and withdraw consent at any time as easily as you gave it. \
If you are unhappy with how your data is handled you can complain to the Information Commissioner's Office (ico.org.uk).";

async fn access_log(state: &AppState, pseudonym: &Pseudonym) -> ServiceResult<Vec<Value>> {
    Ok(state
        .store()
        .audit_for(pseudonym)
        .await?
        .into_iter()
        .map(|e| {
            serde_json::json!({
                "at": e.entry.at,
                "who": e.entry.actor,
                "what": e.entry.action,
                "purpose": e.entry.purpose,
                "records": e.entry.count,
            })
        })
        .collect())
}

/// The supplementary information of UK GDPR Art. 15(1)-(2), per product, from its manifest.
fn processing(products: &[Arc<Manifest>]) -> Vec<Value> {
    products
        .iter()
        .map(|m| {
            let purposes: Vec<Value> = m
                .purposes
                .iter()
                .map(|p| {
                    let recipients: Vec<Value> = p
                        .recipients
                        .iter()
                        .filter_map(|r| m.recipient(r.as_str()))
                        .map(|r| {
                            serde_json::json!({
                                "name": r.name.value,
                                "role": r.role.as_ref().map(|x| x.value.to_string()),
                                "country": r.country.as_ref().map(|x| x.value.clone()),
                                "safeguard": r.safeguard.as_ref().map(|x| x.value.clone()),
                            })
                        })
                        .collect();
                    serde_json::json!({
                        "purpose": p.id.as_str(),
                        "description": p.description.value,
                        "lawful_basis": p.basis.value.to_string(),
                        "lawful_basis_in_plain_words": p.basis.value.plain(),
                        "special_category_condition": p.special_category_condition.as_ref().map(|c| c.value.to_string()),
                        "optional": p.needs_consent(),
                        "recipients": recipients,
                    })
                })
                .collect();
            let fields: Vec<Value> = m
                .fields()
                .map(|(s, f)| {
                    serde_json::json!({
                        "stream": s.id.as_str(),
                        "field": f.name.as_str(),
                        "category": f.category.value,
                        "origin": f.origin().to_string(),
                        "origin_in_plain_words": f.origin().plain(),
                        "purposes": f.purposes.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
                        "retention": f.effective_retention().map(|r| r.plain()),
                        "minimised": f.transform.describe(),
                    })
                })
                .collect();
            serde_json::json!({
                "product": m.product.id.as_str(),
                "name": m.product.name.value,
                "controller": m.product.maker.value,
                "privacy_contact": m.product.privacy_contact.as_ref().map(|c| c.value.clone()),
                "purposes": purposes,
                "fields": fields,
            })
        })
        .collect()
}

/// The byte channel an export is streamed through.
pub type ExportTx = mpsc::Sender<Result<Bytes, std::io::Error>>;

/// Flush threshold: export output is sent in chunks of about this size.
pub(crate) const CHUNK: usize = 64 * 1024;

struct JsonSink<'a> {
    tx: &'a ExportTx,
    buf: Vec<u8>,
    first: bool,
    /// Whose records, from where, the cached prefix is for.
    key: (String, String, String, String),
    /// `{"subject":…,"product":…,"stream":…,"device":…,"ts":` — the same for a whole block,
    /// so it is serialised once rather than escaped again for every record.
    prefix: Vec<u8>,
}

/// The leading fields of a record, serialised once per block.
#[derive(Serialize)]
struct Leading<'a> {
    subject: &'a str,
    product: &'a str,
    stream: &'a str,
    device: &'a str,
}

impl JsonSink<'_> {
    fn prefix_for(&mut self, r: &ExportRecord<'_>) -> ServiceResult<()> {
        let k = &self.key;
        if !self.prefix.is_empty()
            && (k.0.as_str(), k.1.as_str(), k.2.as_str(), k.3.as_str())
                == (r.subject, r.product, r.stream, r.device)
        {
            return Ok(());
        }
        let mut p = serde_json::to_vec(&Leading {
            subject: r.subject,
            product: r.product,
            stream: r.stream,
            device: r.device,
        })
        .map_err(|_| ServiceError::Corrupt("export record"))?;
        p.pop(); // the closing brace: more fields follow
        p.extend_from_slice(b",\"ts\":");
        self.prefix = p;
        self.key = (
            r.subject.to_owned(),
            r.product.to_owned(),
            r.stream.to_owned(),
            r.device.to_owned(),
        );
        Ok(())
    }
}

impl RecordSink for JsonSink<'_> {
    async fn put(&mut self, record: ExportRecord<'_>) -> ServiceResult<bool> {
        self.prefix_for(&record)?;
        if !self.first {
            self.buf.push(b',');
        }
        self.first = false;
        // The same bytes `serde_json::to_writer(&record)` writes, with the stored JSON values
        // copied as they are.
        self.buf.extend_from_slice(&self.prefix);
        self.buf.extend_from_slice(record.ts.get().as_bytes());
        self.buf.extend_from_slice(b",\"expires_at\":");
        self.buf
            .extend_from_slice(record.expires_at.get().as_bytes());
        self.buf.extend_from_slice(b",\"data\":");
        self.buf.extend_from_slice(record.data.get().as_bytes());
        self.buf.push(b'}');
        if self.buf.len() >= CHUNK {
            return Ok(send(self.tx, std::mem::take(&mut self.buf)).await.is_ok());
        }
        Ok(true)
    }
}

/// Sends the JSON export into `tx`: `{"about": …, "records": [ … ]}`, records streamed.
pub async fn write_json(state: AppState, plan: Plan, tx: ExportTx) {
    if let Err(e) = json_inner(&state, &plan, &tx).await {
        tracing::warn!(error = %e, "export failed part-way");
        let _ = tx.send(Err(std::io::Error::other("export failed"))).await;
    }
}

async fn json_inner(state: &AppState, plan: &Plan, tx: &ExportTx) -> ServiceResult<()> {
    let about = about(state, plan).await?;
    let head = format!(
        "{{\"about\":{},\"records\":[",
        serde_json::to_string(&about).map_err(|_| ServiceError::Corrupt("export"))?
    );
    send(tx, head.into_bytes()).await?;
    let mut sink = JsonSink {
        tx,
        buf: Vec::with_capacity(CHUNK * 2),
        first: true,
        key: Default::default(),
        prefix: Vec::new(),
    };
    for inc in plan.subjects() {
        for (m, stream) in plan.streams_for(inc.subject.kind) {
            if !records(
                state,
                &inc.subject,
                m.product.id.as_str(),
                &stream,
                &mut sink,
            )
            .await?
            {
                return Ok(());
            }
        }
    }
    let mut tail = std::mem::take(&mut sink.buf);
    tail.extend_from_slice(b"]}");
    send(tx, tail).await
}

/// Sends one chunk; fails when the client has gone away.
pub(crate) async fn send(tx: &ExportTx, bytes: Vec<u8>) -> ServiceResult<()> {
    tx.send(Ok(Bytes::from(bytes)))
        .await
        .map_err(|_| ServiceError::Unavailable)
}

/// The format of an export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One JSON document.
    Json,
    /// A zip of CSVs with `about.json`.
    Csv,
}

impl Format {
    /// `json` (the default) or `csv`.
    pub fn parse(s: Option<&str>) -> ServiceResult<Format> {
        match s.unwrap_or("json") {
            "json" => Ok(Format::Json),
            "csv" => Ok(Format::Csv),
            _ => Err(Invalid::ExportFormat.into()),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Csv => "csv",
        }
    }
}

/// A running export: its bytes arrive on `body` as they are produced.
pub struct Download {
    /// Its media type.
    pub content_type: &'static str,
    /// The file name offered to the browser.
    pub filename: String,
    /// The bytes.
    pub body: tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>,
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download")
            .field("content_type", &self.content_type)
            .finish_non_exhaustive()
    }
}

/// Starts an export of `id` (with its children's data when `with_children`), audited as
/// `actor`'s; the bytes stream while the caller sends them.
pub async fn start(
    state: &AppState,
    id: &SubjectId,
    format: Format,
    actor: &str,
    with_children: bool,
) -> ServiceResult<Download> {
    let plan = plan(state, id, with_children).await?;
    let pseudonyms: Vec<_> = plan.subjects().map(|i| i.subject.pseudonym).collect();
    audit::record(
        state,
        Event::new(
            actor,
            "subject.export",
            serde_json::json!({"format": format.name()}),
        )
        .subjects(pseudonyms),
    )
    .await?;
    let (tx, rx) = mpsc::channel(8);
    let st = state.clone();
    match format {
        Format::Csv => {
            tokio::spawn(crate::service::export_csv::write_zip(st, plan, tx));
        }
        Format::Json => {
            tokio::spawn(write_json(st, plan, tx));
        }
    }
    let ext = match format {
        Format::Csv => "zip",
        Format::Json => "json",
    };
    Ok(Download {
        content_type: match format {
            Format::Csv => "application/zip",
            Format::Json => "application/json",
        },
        filename: format!("privet-export-{id}.{ext}"),
        body: rx,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(s: &str) -> Box<RawValue> {
        RawValue::from_string(s.to_owned()).unwrap_or_else(|_| unreachable!())
    }

    #[tokio::test]
    async fn the_json_sink_writes_what_serde_would() -> Result<(), Box<dyn std::error::Error>> {
        let (tx, _rx) = mpsc::channel(4);
        let mut sink = JsonSink {
            tx: &tx,
            buf: Vec::new(),
            first: true,
            key: Default::default(),
            prefix: Vec::new(),
        };
        let (ts, exp) = (
            raw("\"2026-11-01T10:00:00Z\""),
            raw("\"2026-12-01T10:00:00Z\""),
        );
        let data = raw(r#"{"room":"kitchen \"north\"","temp":21.5}"#);
        let records = [
            ("mem_a", "dev_1"),
            ("mem_a", "dev_1"),
            ("mem_a", "dev_2"),
            ("mem_\"b", "dev_2"),
        ]
        .map(|(subject, device)| ExportRecord {
            subject,
            product: "thermo",
            stream: "climate",
            device,
            ts: &ts,
            expires_at: &exp,
            data: &data,
        });
        let mut expected = Vec::new();
        for (i, r) in records.iter().enumerate() {
            assert!(sink.put(r.clone()).await?);
            if i > 0 {
                expected.push(b',');
            }
            serde_json::to_writer(&mut expected, r)?;
        }
        assert_eq!(String::from_utf8(sink.buf)?, String::from_utf8(expected)?);
        Ok(())
    }
}
