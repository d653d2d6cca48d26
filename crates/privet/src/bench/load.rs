//! Sending a pre-generated corpus to `POST /v1/ingest` from concurrent clients, as fast as the
//! server answers, while sampling the server's resident memory.

use super::corpus::Corpus;
use super::procfs::{Proc, RssSampler};
use crate::simulate::{IngestReply, Summary, http_client};
use indicatif::ProgressBar;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// What the pipeline run measured.
pub(crate) struct LoadResult {
    /// Requests, events, replies and latencies.
    pub(crate) summary: Summary,
    /// Highest resident memory of the server seen while sampling (bytes).
    pub(crate) sampled_peak_rss: u64,
}

impl LoadResult {
    /// Events per second, end to end (every 200 is durable).
    pub(crate) fn rate(&self) -> f64 {
        self.summary.sent as f64 / self.summary.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Posts every body of `corpus` to `url` from `clients` concurrent clients.
pub(crate) async fn run(
    url: &str,
    corpus: Arc<Corpus>,
    clients: usize,
    server: Proc,
    bar: &ProgressBar,
) -> anyhow::Result<LoadResult> {
    let endpoint = format!("{url}/v1/ingest");
    let client = http_client()?;
    let next = Arc::new(AtomicUsize::new(0));
    let sampler = RssSampler::start(server, Duration::from_millis(100));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..clients.max(1) {
        let (client, endpoint, corpus, next, bar) = (
            client.clone(),
            endpoint.clone(),
            corpus.clone(),
            next.clone(),
            bar.clone(),
        );
        tasks.spawn(async move {
            let mut summary = Summary::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = corpus.bodies.get(i) else {
                    break;
                };
                let t0 = Instant::now();
                let resp = client
                    .post(&endpoint)
                    .bearer_auth(&corpus.tokens[body.device])
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.bytes.clone())
                    .send()
                    .await;
                match resp {
                    Ok(r) if r.status() == reqwest::StatusCode::OK => {
                        match r.json::<IngestReply>().await {
                            Ok(reply) => summary.ok(body.events, &reply, t0.elapsed()),
                            Err(_) => summary.status(body.events, 200, t0.elapsed()),
                        }
                    }
                    Ok(r) => {
                        let status = r.status().as_u16();
                        let _ = r.bytes().await;
                        summary.status(body.events, status, t0.elapsed());
                    }
                    Err(_) => summary.transport_error(body.events),
                }
                bar.inc(body.events);
            }
            summary
        });
    }
    let mut summary = Summary::default();
    while let Some(joined) = tasks.join_next().await {
        summary.merge(&joined?);
    }
    summary.elapsed = started.elapsed();
    Ok(LoadResult {
        summary,
        sampled_peak_rss: sampler.stop().await,
    })
}
