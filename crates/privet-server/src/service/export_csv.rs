//! The CSV form of an export: a zip with one CSV per product and stream, and `about.json`.

use crate::service::error::{ServiceError, ServiceResult};
use crate::service::export::{self, CHUNK, ExportRecord, ExportTx, Plan, RecordSink, send};
use crate::state::AppState;
use serde_json::Value;
use std::io::Write;
use std::sync::{Arc, Mutex};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

/// The zip's output, drained into the response as it grows.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let mut v = self
            .0
            .lock()
            .map_err(|_| std::io::Error::other("export buffer poisoned"))?;
        v.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Shared {
    fn take(&self) -> Vec<u8> {
        self.0
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default()
    }

    fn len(&self) -> usize {
        self.0.lock().map(|v| v.len()).unwrap_or(0)
    }
}

type Zip = ZipWriter<zip::write::StreamWriter<Shared>>;

fn zip_err<E>(_: E) -> ServiceError {
    ServiceError::Corrupt("zip export")
}

/// Writes one CSV file per (subject, product, stream), started on its first record.
struct CsvSink<'a> {
    tx: &'a ExportTx,
    zip: Zip,
    out: Shared,
    name: String,
    columns: Vec<String>,
    started: bool,
}

/// The text of a stored JSON string.
fn json_string(v: &serde_json::value::RawValue) -> ServiceResult<String> {
    serde_json::from_str(v.get()).map_err(|_| ServiceError::Corrupt("stored time"))
}

fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

impl CsvSink<'_> {
    fn row(&mut self, fields: &[String]) -> ServiceResult<()> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(fields)
            .map_err(|_| ServiceError::Corrupt("csv export"))?;
        let bytes = w
            .into_inner()
            .map_err(|_| ServiceError::Corrupt("csv export"))?;
        self.zip.write_all(&bytes).map_err(zip_err)
    }
}

impl RecordSink for CsvSink<'_> {
    async fn put(&mut self, r: ExportRecord<'_>) -> ServiceResult<bool> {
        if !self.started {
            let opts = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
            self.zip
                .start_file(self.name.clone(), opts)
                .map_err(zip_err)?;
            let mut header = vec![
                "subject".to_owned(),
                "device".to_owned(),
                "ts".to_owned(),
                "expires_at".to_owned(),
            ];
            header.extend(self.columns.iter().cloned());
            self.row(&header)?;
            self.started = true;
        }
        let data: serde_json::Map<String, Value> = serde_json::from_str(r.data.get())
            .map_err(|_| ServiceError::Corrupt("stored values"))?;
        let mut line = vec![
            r.subject.to_owned(),
            r.device.to_owned(),
            json_string(r.ts)?,
            json_string(r.expires_at)?,
        ];
        line.extend(self.columns.iter().map(|c| cell(data.get(c))));
        self.row(&line)?;
        if self.out.len() >= CHUNK {
            return Ok(send(self.tx, self.out.take()).await.is_ok());
        }
        Ok(true)
    }
}

/// Sends the zip export into `tx`.
pub async fn write_zip(state: AppState, plan: Plan, tx: ExportTx) {
    if let Err(e) = zip_inner(&state, &plan, &tx).await {
        tracing::warn!(error = %e, "export failed part-way");
        let _ = tx.send(Err(std::io::Error::other("export failed"))).await;
    }
}

async fn zip_inner(state: &AppState, plan: &Plan, tx: &ExportTx) -> ServiceResult<()> {
    let out = Shared::default();
    let mut zip: Zip = ZipWriter::new_stream(out.clone());
    let about = export::about(state, plan).await?;
    let opts = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    zip.start_file("about.json", opts).map_err(zip_err)?;
    let text = serde_json::to_vec_pretty(&about).map_err(|_| ServiceError::Corrupt("export"))?;
    zip.write_all(&text).map_err(zip_err)?;
    let mut sink = CsvSink {
        tx,
        zip,
        out: out.clone(),
        name: String::new(),
        columns: Vec::new(),
        started: false,
    };
    for inc in plan.subjects() {
        for (m, stream) in plan.streams_for(inc.subject.kind) {
            sink.name = format!(
                "{}/{}/{}.csv",
                inc.subject.id,
                m.product.id.as_str(),
                stream
            );
            sink.columns = m
                .stream(&stream)
                .map(|s| s.fields.iter().map(|f| f.name.to_string()).collect())
                .unwrap_or_default();
            sink.started = false;
            if !export::records(
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
    sink.zip.finish().map_err(zip_err)?;
    send(tx, out.take()).await
}
