//! End-to-end: retention. Events already past their retention are not stored; data leaves
//! reads and exports at its exact expiry; expired chunks are dropped whole.
//!
//! Time is moved, not waited for: the server and `privet retention run` run on a manual clock
//! (`PRIVET_TEST_NOW` and `POST /__test/clock`, which only test builds have).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod e2e_rights_support;
mod support;

use e2e_rights_support::*;
use serde_json::{Value, json};
use support::*;

const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;

/// A voice event with a recording (`command_audio`: `drop_after = "24h"`) and a transcript (90d).
fn spoken(ts: &str, member: &str, audio: &str, transcript: &str) -> Value {
    json!({ "stream": "voice", "ts": ts, "member": member,
            "data": { "command_audio": audio, "transcript": transcript } })
}

fn chunk_tables(inst: &Instance) -> Vec<String> {
    let db = inst.db();
    let mut stmt = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'rec\\_%' ESCAPE '\\' ORDER BY name")
        .unwrap();
    stmt.query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn events_already_past_their_retention_are_not_stored() {
    let inst = Instance::new();
    let admin = inst.key("admin", &[]);
    let support = inst.key("support", &[]);
    let server = inst.serve();
    let home = server.home(&admin);
    let (_, speaker) = server.device(&admin, SPEAKER, Some(&home.household), None);

    // The recording is kept a day at most: a 25-hour-old one is dropped, its transcript kept.
    let out = server.ingest_ok(
        &speaker,
        &json!([spoken(
            &ago(25 * HOUR),
            &home.member,
            "UklGRg==",
            "old request"
        )]),
    );
    assert_eq!(out["accepted"], 1, "{out}");
    assert_eq!(out["dropped"]["expired"], 1, "{out}");
    // Humidity is kept 30 days: a 31-day-old reading is dropped, the temperature kept.
    let out = server.ingest_ok(
        &home.token,
        &json!([{ "stream": "climate", "ts": ago(31 * DAY),
                  "data": { "temperature_c": 19.0, "humidity_pct": 50 } }]),
    );
    assert_eq!(out["accepted"], 1, "{out}");
    assert_eq!(out["dropped"]["expired"], 1, "{out}");
    // An event whose every field is past retention is not stored at all.
    let out = server.ingest_ok(
        &home.token,
        &json!([{ "stream": "climate", "ts": ago(40 * DAY), "data": { "humidity_pct": 50 } }]),
    );
    assert_eq!(out["accepted"], 0, "{out}");
    assert_eq!(out["dropped"]["expired"], 1, "{out}");
    assert_eq!(
        server.metric("privet_fields_dropped_total{reason=\"expired\"}"),
        Some(3.0)
    );

    let m = export_json(&server, &support, &home.member);
    assert!(values_of(&m, "voice", "command_audio").is_empty(), "{m}");
    assert_eq!(
        values_of(&m, "voice", "transcript"),
        vec![json!("old request")]
    );
    let h = export_json(&server, &support, &home.household);
    assert!(values_of(&h, "climate", "humidity_pct").is_empty(), "{h}");
    assert_eq!(values_of(&h, "climate", "temperature_c"), vec![json!(19.0)]);
}

/// `t0` moved by `secs`, as RFC 3339.
fn at(t0: jiff::Timestamp, secs: i64) -> String {
    (t0 + jiff::SignedDuration::from_secs(secs)).to_string()
}

#[test]
fn data_leaves_reads_at_its_expiry_and_expired_chunks_are_dropped_whole() {
    // Every time below derives from one instant in the middle of an hour, so neither a slow
    // machine nor an hour boundary moves an expiry or a chunk's expiry window (an hour).
    let wall = jiff::Timestamp::now().as_second();
    let t0 = jiff::Timestamp::from_second(wall - wall.rem_euclid(HOUR) - HOUR / 2).unwrap();
    let inst = Instance::new();
    inst.set_clock(&at(t0, 0));
    let admin = inst.key("admin", &[]);
    let support = inst.key("support", &[]);
    let answers = inst.key("analyst", &["answer_requests"]);
    let mut server = inst.serve();
    let home = server.home(&admin);
    let (_, speaker) = server.device(&admin, SPEAKER, Some(&home.household), None);

    // Recordings that expire 4 s after t0 (24 h after they were made).
    let made = at(t0, -(24 * HOUR - 4));
    let n = 5;
    let events: Vec<Value> = (0..n)
        .map(|i| {
            spoken(
                &made,
                &home.member,
                &format!("audio{i}"),
                &format!("text{i}"),
            )
        })
        .collect();
    let out = server.ingest_ok(&speaker, &Value::Array(events));
    assert_eq!(out["accepted"], n, "{out}");
    assert_eq!(out["dropped"]["expired"], 0, "{out}");
    let audio_in_reads = || {
        server
            .records(&answers, &[("purpose", "answer_requests")])
            .iter()
            .filter(|r| r["data"].get("command_audio").is_some())
            .count()
    };
    assert_eq!(audio_in_reads(), n as usize);
    let m = export_json(&server, &support, &home.member);
    assert_eq!(values_of(&m, "voice", "command_audio").len(), n as usize);

    // A second before expiry they are still there; at it, they leave reads and exports and
    // the transcripts stay.
    assert_eq!(server.advance_clock(3), at(t0, 3));
    assert_eq!(
        audio_in_reads(),
        n as usize,
        "recordings gone before expiry"
    );
    let later = server.advance_clock(1);
    assert_eq!(later, at(t0, 4));
    assert_eq!(
        audio_in_reads(),
        0,
        "recordings still readable after expiry"
    );
    let m = export_json(&server, &support, &home.member);
    assert!(values_of(&m, "voice", "command_audio").is_empty(), "{m}");
    assert_eq!(values_of(&m, "voice", "transcript").len(), n as usize);
    server.stop_ok();

    // The recordings' chunk is kept until its whole expiry window (an hour for short
    // retentions) has passed: `privet retention run` drops nothing yet, then, two hours on,
    // that chunk whole — and the transcripts' (90 days) stays.
    let retention_at = |now: &str| {
        inst.set_clock(now);
        let (code, text) = privet_data(
            &inst,
            &["retention", "run", "--data", inst.data.to_str().unwrap()],
        );
        assert_eq!(code, 0, "{text}");
        assert!(
            text.contains("warning: test clock"),
            "the test clock is announced: {text}"
        );
        // The command's own line (the test clock's warning is on stderr too).
        text.lines()
            .find(|l| l.starts_with("retention:"))
            .unwrap_or_default()
            .to_owned()
    };
    let tables_before = chunk_tables(&inst);
    assert_eq!(
        retention_at(&later).trim(),
        "retention: dropped 0 chunks (0 blocks, 0 events)"
    );
    let two_hours_on = at(t0, 4 + 2 * HOUR);
    assert_eq!(
        retention_at(&two_hours_on).trim(),
        format!("retention: dropped 1 chunks (1 blocks, {n} events)")
    );
    let tables_after = chunk_tables(&inst);
    assert_eq!(
        tables_after.len(),
        tables_before.len() - 1,
        "{tables_before:?} → {tables_after:?}"
    );

    let server = inst.serve();
    let m = export_json(&server, &support, &home.member);
    let mut texts: Vec<String> = values_of(&m, "voice", "transcript")
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    texts.sort();
    assert_eq!(
        texts,
        (0..n).map(|i| format!("text{i}")).collect::<Vec<_>>()
    );
    let (code, text) = inst.audit_verify();
    assert_eq!(code, 0, "{text}");
}
