use super::*;
use crate::admit::Part;
use privet_crypto::{MasterKey, os_rng};

fn t(s: &str) -> Timestamp {
    s.parse().unwrap_or_else(|_| unreachable!())
}

fn event(ts: &str, exp: &str, temp: f64) -> StoredEvent {
    let mut data = Map::new();
    data.insert("temp".to_owned(), Value::from(temp));
    data.insert("room".to_owned(), Value::from("kitchen \"north\""));
    StoredEvent {
        ts: t(ts),
        exp: t(exp),
        data,
    }
}

#[test]
fn sealed_blocks_open_to_their_events_and_filter_by_the_expiry_rule() {
    let key = DataKey::generate(&mut os_rng());
    let subject = MasterKey::from_bytes([9; 32])
        .pseudonymizer()
        .pseudonym("m");
    let aad = RecordAad::new([4; 16], subject, "climate");
    let events = vec![
        event("2026-11-01T10:00:00Z", "2026-11-02T10:00:00Z", 20.5),
        event("2026-11-01T11:00:00Z", "2026-12-01T11:00:00Z", 21.0),
    ];
    let sealed = seal_events(&key, &aad, &events, &mut os_rng()).unwrap_or_default();
    let block = OpenBlock::open(&key, &aad, &sealed).unwrap_or_else(|_| unreachable!());
    assert_eq!(block.events().ok(), Some(events.clone()));
    let now = t("2026-11-02T10:00:00Z");
    assert_eq!(block.live_events(now).ok(), Some(events[1..].to_vec()));
    let raw = block
        .live_raw_events(&ExpiryClock::new(now))
        .unwrap_or_default();
    assert_eq!(raw.len(), 1);
    assert_eq!(
        serde_json::from_str::<Timestamp>(raw[0].ts.get()).ok(),
        Some(events[1].ts)
    );
    let other = RecordAad::new([4; 16], subject, "presence");
    assert!(matches!(
        OpenBlock::open(&key, &other, &sealed),
        Err(BlockError::Crypto(_))
    ));
}

#[test]
fn the_format_byte_leads_and_blocks_from_before_it_still_read() {
    let events = vec![event("2026-11-01T10:00:00Z", "2027-11-01T10:00:00Z", 19.0)];
    let plain = encode(&events).unwrap_or_default();
    assert_eq!(plain.first(), Some(&BLOCK_FORMAT));
    let legacy = serde_json::to_vec(&events).unwrap_or_default();
    assert_eq!(legacy.first(), Some(&b'['));
    for p in [plain, legacy] {
        assert_eq!(
            OpenBlock::from_plaintext(p).events().ok(),
            Some(events.clone())
        );
    }
    assert!(matches!(
        OpenBlock::from_plaintext(vec![7, b'[', b']']).events(),
        Err(BlockError::UnknownFormat(7))
    ));
    assert!(matches!(
        OpenBlock::from_plaintext(Vec::new()).events(),
        Err(BlockError::Decode)
    ));
}

#[test]
fn debug_output_names_fields_but_never_values() {
    let e = event("2026-11-01T10:00:00Z", "2027-11-01T10:00:00Z", 19.0);
    let shown = format!("{e:?}");
    assert!(shown.contains("temp") && !shown.contains("19") && !shown.contains("kitchen"));
}

#[test]
fn a_batch_is_grouped_by_subject_stream_and_retention() {
    let r30 = Retention::parse("30d").unwrap_or_else(|_| unreachable!());
    let r1 = Retention::parse("24h").unwrap_or_else(|_| unreachable!());
    let part = |retention, exp: &str, v: f64| Part {
        retention,
        expires_at: t(exp),
        fields: [("temp".to_owned(), Value::from(v))].into_iter().collect(),
    };
    let admitted = |member: &str, ts: &str, parts| Admitted {
        stream: StreamId::new("climate"),
        ts: t(ts),
        subject: SubjectRef::Member(member.to_owned()),
        parts,
    };
    let batch = vec![
        admitted(
            "a",
            "2026-11-01T10:00:00Z",
            vec![
                part(r30, "2026-12-01T10:00:00Z", 1.0),
                part(r1, "2026-11-02T10:00:00Z", 2.0),
            ],
        ),
        admitted(
            "b",
            "2026-11-01T10:05:00Z",
            vec![part(r30, "2026-12-01T10:05:00Z", 3.0)],
        ),
        admitted(
            "a",
            "2026-11-01T10:10:00Z",
            vec![part(r30, "2026-12-01T10:10:00Z", 4.0)],
        ),
    ];
    let blocks = plan_blocks(batch);
    assert_eq!(blocks.len(), 3);
    let a30 = blocks
        .iter()
        .find(|b| b.subject == SubjectRef::Member("a".to_owned()) && b.retention == r30)
        .unwrap_or_else(|| unreachable!());
    assert_eq!(a30.events.len(), 2);
    assert_eq!(
        (a30.t_min, a30.t_max),
        (t("2026-11-01T10:00:00Z"), t("2026-11-01T10:10:00Z"))
    );
    assert_eq!(a30.expires_max, t("2026-12-01T10:10:00Z"));
    assert_eq!(a30.window, chunk_window(r30, a30.expires_max));
}

#[test]
fn streams_get_their_own_blocks_and_a_block_sits_in_the_window_of_its_last_expiry() {
    let r1 = Retention::parse("24h").unwrap_or_else(|_| unreachable!());
    let admitted = |stream: &str, ts: &str, exp: &str| Admitted {
        stream: StreamId::new(stream),
        ts: t(ts),
        subject: SubjectRef::Household("h".to_owned()),
        parts: vec![Part {
            retention: r1,
            expires_at: t(exp),
            fields: [("v".to_owned(), Value::from(1))].into_iter().collect(),
        }],
    };
    let blocks = plan_blocks(vec![
        admitted("climate", "2026-11-01T10:50:00Z", "2026-11-02T10:50:00Z"),
        admitted("presence", "2026-11-01T10:55:00Z", "2026-11-02T10:55:00Z"),
        admitted("climate", "2026-11-01T11:10:00Z", "2026-11-02T11:10:00Z"),
    ]);
    let streams: Vec<&str> = blocks.iter().map(|b| b.stream.as_str()).collect();
    assert_eq!(streams, ["climate", "presence"], "one block per stream");
    let climate = &blocks[0];
    assert_eq!(climate.events.len(), 2);
    assert_eq!(climate.expires_max, t("2026-11-02T11:10:00Z"));
    // The first event's expiry falls in an earlier window than the last one's: the block must
    // sit in the later, or its chunk would be dropped before its last event expired.
    let first = chunk_window(r1, t("2026-11-02T10:50:00Z"));
    assert_eq!(climate.window, chunk_window(r1, climate.expires_max));
    assert_ne!(climate.window, first, "the windows differ in this case");
    assert!(climate.window.end > climate.expires_max);
}
