use super::*;
use serde_json::json;

const LIMITS: BatchLimits = BatchLimits { max_events: 3 };

fn json(body: &str) -> Result<Vec<IncomingEvent>, DecodeError> {
    decode_batch(body.as_bytes(), BodyFormat::Json, &LIMITS)
}

fn ndjson(body: &str) -> Result<Vec<IncomingEvent>, DecodeError> {
    decode_batch(body.as_bytes(), BodyFormat::Ndjson, &LIMITS)
}

const EVENT: &str = r#"{"stream": "climate", "ts": "2026-11-28T10:00:00Z", "data": {"t": 21.5}}"#;

#[test]
fn a_json_array_decodes_every_key() {
    let body = r#"[
        {"stream": "climate", "ts": "2026-11-28T10:00:00+01:00", "data": {"t": 21.5, "o": {"k": [1]}}},
        {"stream": "presence", "ts": "2026-11-28T10:00:01Z", "data": {}, "member": "m-1", "firmware": "1.2.3"}
    ]"#;
    let events = json(body).unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].stream, "climate");
    assert_eq!(events[0].ts.to_string(), "2026-11-28T09:00:00Z");
    assert_eq!(
        serde_json::Value::Object(events[0].data.clone()),
        json!({"t": 21.5, "o": {"k": [1]}})
    );
    assert_eq!(events[0].member, None);
    assert_eq!(events[1].member.as_deref(), Some("m-1"));
    assert_eq!(events[1].firmware.as_deref(), Some("1.2.3"));
}

#[test]
fn a_single_object_is_a_batch_of_one() {
    let events = json(EVENT).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].stream, "climate");
}

#[test]
fn ndjson_reads_one_event_per_line_and_skips_blank_lines() {
    let body = format!("{EVENT}\n\n  \r\n{EVENT}\r\n");
    assert_eq!(ndjson(&body).unwrap().len(), 2);
}

#[test]
fn null_optional_keys_are_absent() {
    let body = r#"{"stream": "s", "ts": "2026-11-28T10:00:00Z", "data": {}, "member": null, "firmware": null}"#;
    let e = json(body).unwrap();
    assert_eq!((e[0].member.clone(), e[0].firmware.clone()), (None, None));
}

#[test]
fn a_firmware_version_with_control_characters_or_too_long_is_refused() {
    let long = "1".repeat(65);
    for fw in ["1.0\\u0000", "", "1.0\\n", long.as_str()] {
        let body = format!(
            r#"{{"stream": "s", "ts": "2026-11-28T10:00:00Z", "data": {{}}, "firmware": "{fw}"}}"#
        );
        assert!(
            matches!(
                json(&body),
                Err(DecodeError::WrongType {
                    key: "firmware",
                    ..
                })
            ),
            "{fw:?}"
        );
    }
    assert!(crate::valid_firmware("2026.11-rc1") && crate::valid_firmware(&"1".repeat(64)));
}

#[test]
fn empty_bodies_and_batches_are_rejected() {
    for body in ["", "  \n", "[]", " [ ] "] {
        assert_eq!(json(body), Err(DecodeError::Empty), "{body:?}");
    }
    assert_eq!(ndjson("\n\n"), Err(DecodeError::Empty));
}

#[test]
fn scalars_are_not_a_batch() {
    for body in ["1", "\"x\"", "null", "true", "-2.5"] {
        assert_eq!(json(body), Err(DecodeError::NotABatch), "{body}");
    }
}

#[test]
fn too_many_events_are_rejected() {
    let four = format!("[{EVENT},{EVENT},{EVENT},{EVENT}]");
    assert_eq!(json(&four), Err(DecodeError::TooManyEvents { max: 3 }));
    let three = format!("[{EVENT},{EVENT},{EVENT}]");
    assert_eq!(json(&three).map(|e| e.len()), Ok(3));
    let lines = format!("{EVENT}\n{EVENT}\n{EVENT}\n{EVENT}\n");
    assert_eq!(ndjson(&lines), Err(DecodeError::TooManyEvents { max: 3 }));
    let none = BatchLimits { max_events: 0 };
    assert_eq!(
        decode_batch(EVENT.as_bytes(), BodyFormat::Json, &none),
        Err(DecodeError::TooManyEvents { max: 0 })
    );
}

#[test]
fn each_structural_problem_names_the_event_and_key() {
    let cases = [
        (
            format!("[{EVENT}, 5]"),
            DecodeError::NotAnObject { index: 1 },
        ),
        (
            format!("[{EVENT}, [1, 2]]"),
            DecodeError::NotAnObject { index: 1 },
        ),
        (
            r#"[{"ts": "2026-11-28T10:00:00Z", "data": {}}]"#.to_owned(),
            DecodeError::MissingKey {
                index: 0,
                key: "stream",
            },
        ),
        (
            r#"[{"stream": "s", "data": {}}]"#.to_owned(),
            DecodeError::MissingKey {
                index: 0,
                key: "ts",
            },
        ),
        (
            r#"[{"stream": "s", "ts": "2026-11-28T10:00:00Z"}]"#.to_owned(),
            DecodeError::MissingKey {
                index: 0,
                key: "data",
            },
        ),
        (
            r#"[{"stream": 7, "ts": "2026-11-28T10:00:00Z", "data": {}}]"#.to_owned(),
            DecodeError::WrongType {
                index: 0,
                key: "stream",
                expected: "a string",
            },
        ),
        (
            r#"[{"stream": "s", "ts": "2026-11-28T10:00:00Z", "data": [1]}]"#.to_owned(),
            DecodeError::WrongType {
                index: 0,
                key: "data",
                expected: "an object",
            },
        ),
        (
            r#"[{"stream": "s", "ts": 1764324000, "data": {}}]"#.to_owned(),
            DecodeError::WrongType {
                index: 0,
                key: "ts",
                expected: "an RFC 3339 timestamp string",
            },
        ),
        (
            r#"[{"stream": "s", "ts": "2026-11-28T10:00:00Z", "data": {}, "member": {"id": 1}}]"#
                .to_owned(),
            DecodeError::WrongType {
                index: 0,
                key: "member",
                expected: "a string",
            },
        ),
        (
            r#"[{"stream": "s", "ts": "last tuesday", "data": {}}]"#.to_owned(),
            DecodeError::BadTimestamp { index: 0 },
        ),
        (
            r#"[{"stream": "s", "ts": "2026-11-28T10:00:00Z", "data": {}, "colour": "red"}]"#
                .to_owned(),
            DecodeError::UnknownKey {
                index: 0,
                key: "colour".to_owned(),
            },
        ),
        (
            r#"[{"stream": "s", "stream": "t", "ts": "2026-11-28T10:00:00Z", "data": {}}]"#
                .to_owned(),
            DecodeError::DuplicateKey {
                index: 0,
                key: "stream",
            },
        ),
    ];
    for (body, expected) in cases {
        assert_eq!(json(&body), Err(expected), "{body}");
    }
}

#[test]
fn ndjson_problems_name_the_event() {
    let body = format!("{EVENT}\n\n{{\"stream\": \"s\", \"ts\": \"nope\", \"data\": {{}}}}\n");
    assert_eq!(ndjson(&body), Err(DecodeError::BadTimestamp { index: 1 }));
    assert_eq!(ndjson("[1]\n"), Err(DecodeError::NotAnObject { index: 0 }));
}

#[test]
fn syntax_errors_give_a_position_and_never_the_input() {
    let body = "[\n{\"stream\": \"SECRET-VALUE-123\", \"ts\": \"2026-11-28T10:00:00Z\", \"data\": {\"x\": tru}}]";
    let err = json(body).unwrap_err();
    assert!(
        matches!(err, DecodeError::Syntax { line: 2, .. }),
        "{err:?}"
    );
    let line2 = format!("{EVENT}\n{{\"stream\": \"SECRET-VALUE-123\",\n");
    let err = ndjson(&line2).unwrap_err();
    assert!(
        matches!(err, DecodeError::Syntax { line: 3, .. }),
        "{err:?}"
    );
    for e in [json(body).unwrap_err(), ndjson(&line2).unwrap_err()] {
        assert!(!e.to_string().contains("SECRET"));
        assert!(!format!("{e:?}").contains("SECRET"));
    }
    assert!(matches!(
        json(&format!("{EVENT} {EVENT}")),
        Err(DecodeError::Syntax { .. })
    ));
}

#[test]
fn wrong_types_never_echo_the_value() {
    let bodies = [
        r#"[{"stream": "s", "ts": "SECRET-VALUE-123", "data": {}}]"#,
        r#"[{"stream": "s", "ts": "2026-11-28T10:00:00Z", "data": "SECRET-VALUE-123"}]"#,
        r#"[{"stream": ["SECRET-VALUE-123"], "ts": "2026-11-28T10:00:00Z", "data": {}}]"#,
        r#"["SECRET-VALUE-123"]"#,
        r#""SECRET-VALUE-123""#,
    ];
    for body in bodies {
        let e = json(body).unwrap_err();
        assert!(!e.to_string().contains("SECRET"), "{e}");
        assert!(!format!("{e:?}").contains("SECRET"), "{e:?}");
    }
}

#[test]
fn unknown_keys_are_cut_to_64_characters() {
    let key = "k".repeat(500);
    let body =
        format!(r#"{{"stream": "s", "ts": "2026-11-28T10:00:00Z", "data": {{}}, "{key}": 1}}"#);
    match json(&body) {
        Err(DecodeError::UnknownKey { index: 0, key }) => assert_eq!(key.len(), 64),
        other => panic!("{other:?}"),
    }
}

#[test]
fn escaped_keys_and_strings_decode() {
    let body =
        r#"{"str\u0065am": "cl\u0069mate", "ts": "2026-11-28T10:00:00Z", "data": {"t\n": "a\"b"}}"#;
    let e = json(body).unwrap();
    assert_eq!(e[0].stream, "climate");
    assert_eq!(e[0].data.get("t\n"), Some(&json!("a\"b")));
}

#[test]
fn debug_lists_data_keys_but_not_values() {
    let body = r#"{"stream": "s", "ts": "2026-11-28T10:00:00Z", "data": {"secret_key": "SECRET-VALUE-123"}}"#;
    let e = json(body).unwrap();
    let dbg = format!("{:?}", e[0]);
    assert!(dbg.contains("secret_key"));
    assert!(!dbg.contains("SECRET-VALUE-123"));
}

#[test]
fn a_float_is_read_exactly_as_the_device_wrote_it() {
    // Found by the `ingest` fuzz target: best-effort float parsing read this one bit off.
    let written = "4.4444444444444446e+111";
    let body = format!(
        r#"{{"stream": "climate", "ts": "2026-11-28T10:00:00Z", "data": {{"t": {written}}}}}"#
    );
    let exact: f64 = written.parse().unwrap();
    for events in [json(&body).unwrap(), ndjson(&body).unwrap()] {
        let read = events[0].data["t"].as_f64().unwrap();
        assert_eq!(read.to_bits(), exact.to_bits(), "{read} for {written}");
    }
}
