//! The events a benchmark sends, generated before any timing: request bodies for the pipeline,
//! and for the raw baseline the same events as rows (subject, device, ts, JSON payload) that
//! point into those bodies rather than copying them.

use crate::simulate::{EventGen, EventSubject, Provisioned};
use anyhow::Context;
use bytes::Bytes;
use indicatif::ProgressBar;
use jiff::{SignedDuration, Timestamp};
use std::collections::HashMap;

/// One ingest request.
pub(crate) struct Body {
    /// Index of the sending device.
    pub(crate) device: usize,
    /// Events in it.
    pub(crate) events: u64,
    /// A JSON array of events.
    pub(crate) bytes: Bytes,
}

/// One event as the raw baseline stores it.
pub(crate) struct RawRow {
    body: u32,
    start: u32,
    len: u32,
    /// Index into [`Corpus::subjects`].
    pub(crate) subject: u32,
    /// Index into [`Corpus::device_ids`].
    pub(crate) device: u32,
    /// Microseconds since the Unix epoch.
    pub(crate) ts: i64,
}

/// Everything a run sends.
pub(crate) struct Corpus {
    /// Request bodies, in sending order.
    pub(crate) bodies: Vec<Body>,
    /// Every event, in sending order.
    pub(crate) rows: Vec<RawRow>,
    /// Subject ids (members, households, `product:<id>` for non-personal streams).
    pub(crate) subjects: Vec<String>,
    /// Device ids.
    pub(crate) device_ids: Vec<String>,
    /// Device tokens, by device index.
    pub(crate) tokens: Vec<String>,
    /// Bytes of event JSON, over all events (without array brackets and commas).
    pub(crate) event_bytes: u64,
}

/// Interns subject ids.
#[derive(Default)]
struct Subjects {
    index: HashMap<String, u32>,
    ids: Vec<String>,
}

impl Subjects {
    fn intern(&mut self, id: &str) -> u32 {
        if let Some(i) = self.index.get(id) {
            return *i;
        }
        let i = u32::try_from(self.ids.len()).unwrap_or(u32::MAX);
        self.ids.push(id.to_owned());
        self.index.insert(id.to_owned(), i);
        i
    }
}

impl Corpus {
    /// `events` events from `devices` (round robin, `batch` per request), seeded with `seed`.
    /// Events in a body are 10 ms apart, ending now.
    pub(crate) fn build(
        devices: &[Provisioned],
        events: usize,
        batch: usize,
        seed: u64,
        bar: &ProgressBar,
    ) -> anyhow::Result<Corpus> {
        anyhow::ensure!(!devices.is_empty(), "no devices");
        let batch = batch.max(1);
        let mut gens: Vec<EventGen> = devices
            .iter()
            .enumerate()
            .map(|(i, d)| {
                EventGen::new(
                    d.sim.manifest.clone(),
                    d.sim.members.clone(),
                    seed.wrapping_add(i as u64),
                )
            })
            .collect();
        let mut subjects = Subjects::default();
        let mut corpus = Corpus {
            bodies: Vec::with_capacity(events.div_ceil(batch)),
            rows: Vec::with_capacity(events),
            subjects: Vec::new(),
            device_ids: devices.iter().map(|d| d.id.clone()).collect(),
            tokens: devices.iter().map(|d| d.sim.token.clone()).collect(),
            event_bytes: 0,
        };
        let mut made = 0;
        while made < events {
            let index = corpus.bodies.len();
            let device = index % devices.len();
            let n = batch.min(events - made);
            let body_no = u32::try_from(index).context("too many bodies")?;
            let end = Timestamp::now();
            let mut buf = Vec::with_capacity(n * 256);
            buf.push(b'[');
            for j in 0..n {
                let back = SignedDuration::from_millis(10 * (n - j) as i64);
                let ts = end.checked_sub(back).unwrap_or(end);
                let event = gens[device]
                    .next(ts)
                    .context("a device has no stream to send")?;
                if j > 0 {
                    buf.push(b',');
                }
                let start = buf.len();
                serde_json::to_writer(&mut buf, &event.json)?;
                let len = buf.len() - start;
                corpus.event_bytes += len as u64;
                let owner = &devices[device];
                let subject = match event.subject {
                    EventSubject::Member(m) => subjects.intern(
                        owner
                            .sim
                            .members
                            .get(m)
                            .map_or(owner.household.as_str(), String::as_str),
                    ),
                    EventSubject::Household => subjects.intern(&owner.household),
                    EventSubject::NotPersonal => {
                        subjects.intern(&format!("product:{}", owner.sim.manifest.product.id.value))
                    }
                };
                corpus.rows.push(RawRow {
                    body: body_no,
                    start: u32::try_from(start).context("body too large")?,
                    len: u32::try_from(len).context("event too large")?,
                    subject,
                    device: u32::try_from(device).context("too many devices")?,
                    ts: ts.as_microsecond(),
                });
            }
            buf.push(b']');
            corpus.bodies.push(Body {
                device,
                events: n as u64,
                bytes: Bytes::from(buf),
            });
            made += n;
            bar.inc(n as u64);
        }
        corpus.subjects = subjects.ids;
        Ok(corpus)
    }

    /// An empty corpus of `device_ids` (with their `tokens`) about the given subjects, filled
    /// body by body with [`Corpus::push_body`] (the rights benchmarks, which choose exactly
    /// whose events each request carries).
    pub(crate) fn empty(
        device_ids: Vec<String>,
        tokens: Vec<String>,
        subjects: Vec<String>,
    ) -> Corpus {
        Corpus {
            bodies: Vec::new(),
            rows: Vec::new(),
            subjects,
            device_ids,
            tokens,
            event_bytes: 0,
        }
    }

    /// Appends one request body from device `device` holding `events`: each the event's JSON,
    /// the index of its subject in [`Corpus::subjects`] and its time (µs since the epoch).
    pub(crate) fn push_body(
        &mut self,
        device: usize,
        events: impl IntoIterator<Item = (serde_json::Value, u32, i64)>,
    ) -> anyhow::Result<()> {
        let body_no = u32::try_from(self.bodies.len()).context("too many bodies")?;
        let device_no = u32::try_from(device).context("too many devices")?;
        let mut buf = Vec::with_capacity(4096);
        buf.push(b'[');
        let mut n = 0u64;
        for (json, subject, ts) in events {
            if n > 0 {
                buf.push(b',');
            }
            let start = buf.len();
            serde_json::to_writer(&mut buf, &json)?;
            let len = buf.len() - start;
            self.event_bytes += len as u64;
            self.rows.push(RawRow {
                body: body_no,
                start: u32::try_from(start).context("body too large")?,
                len: u32::try_from(len).context("event too large")?,
                subject,
                device: device_no,
                ts,
            });
            n += 1;
        }
        buf.push(b']');
        self.bodies.push(Body {
            device,
            events: n,
            bytes: Bytes::from(buf),
        });
        Ok(())
    }

    /// The JSON text of an event, as sent.
    pub(crate) fn payload(&self, row: &RawRow) -> anyhow::Result<&str> {
        let body = &self.bodies[row.body as usize].bytes;
        let start = row.start as usize;
        let bytes = body
            .get(start..start + row.len as usize)
            .context("row outside its body")?;
        std::str::from_utf8(bytes).context("event is not UTF-8")
    }

    /// Events in the corpus.
    pub(crate) fn events(&self) -> u64 {
        self.rows.len() as u64
    }

    /// Mean bytes of JSON per event.
    pub(crate) fn mean_event_bytes(&self) -> f64 {
        self.event_bytes as f64 / self.rows.len().max(1) as f64
    }
}
