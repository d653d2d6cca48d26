use super::*;

fn entry(action: &str, at: &str) -> NewAuditEntry {
    NewAuditEntry {
        at: at.parse().unwrap_or_else(|_| unreachable!()),
        actor: "key:k1".to_owned(),
        action: action.to_owned(),
        purpose: None,
        subjects: Vec::new(),
        count: 3,
        detail: serde_json::json!({"n": 1}),
    }
}

fn chain(n: usize) -> Vec<StoredAuditRow> {
    let mut head = None;
    let mut rows = Vec::new();
    for i in 0..n {
        let (row, linked) = link(
            head,
            entry(&format!("a{i}"), "2026-11-29T10:00:00.123456789Z"),
        )
        .unwrap_or_else(|_| unreachable!());
        assert_eq!(linked.seq, row.seq);
        head = Some((row.seq, hash_of(&row)));
        rows.push(row);
    }
    rows
}

fn hash_of(row: &StoredAuditRow) -> AuditHash {
    AuditHash::from_bytes(
        row.hash
            .as_slice()
            .try_into()
            .unwrap_or_else(|_| unreachable!()),
    )
}

fn verify(rows: &[StoredAuditRow], anchor: Option<(i64, AuditHash)>) -> AuditVerdict {
    let mut v = ChainVerifier::new(anchor);
    for r in rows {
        if !v.push(r) {
            break;
        }
    }
    v.finish()
}

#[test]
fn a_linked_chain_verifies_and_decodes_to_what_was_appended() {
    let rows = chain(4);
    assert_eq!(rows[0].prev, AuditHash::GENESIS.as_bytes());
    assert!(
        rows.windows(2)
            .all(|w| w[1].prev == w[0].hash && w[1].seq == w[0].seq + 1)
    );
    let last = rows.last().map(|r| (r.seq, hash_of(r)));
    assert_eq!(
        verify(&rows, last),
        AuditVerdict {
            entries: 4,
            first_broken: None
        }
    );
    let e = rows[2].decode().unwrap_or_else(|_| unreachable!());
    assert_eq!(e.entry, entry("a2", "2026-11-29T10:00:00.123456789Z"));
}

#[test]
fn every_kind_of_tampering_is_found_at_its_entry() {
    let rows = chain(4);
    let anchor = rows.last().map(|r| (r.seq, hash_of(r)));
    let broken_at = |rows: &[StoredAuditRow], anchor| {
        verify(rows, anchor).first_broken.map(|b| (b.seq, b.reason))
    };

    let mut edited = rows.clone();
    edited[1].text = edited[1].text.replace("a1", "zz");
    assert_eq!(
        broken_at(&edited, anchor),
        Some((2, "content does not match its hash"))
    );

    let mut missing = rows.clone();
    missing.remove(1);
    assert_eq!(
        broken_at(&missing, anchor),
        Some((2, "entry missing or out of order"))
    );

    let mut relinked = rows.clone();
    relinked[2].prev = AuditHash::GENESIS.as_bytes().to_vec();
    assert_eq!(
        broken_at(&relinked, anchor),
        Some((3, "does not link to the previous entry"))
    );

    let mut moved = rows.clone();
    moved[0].at_micros += 1;
    assert_eq!(
        broken_at(&moved, anchor),
        Some((1, "columns do not match the hashed content"))
    );

    // The hash column edited: one byte more, one byte less, or one byte different.
    for edit in [
        |h: &mut Vec<u8>| h.push(0),
        |h: &mut Vec<u8>| {
            h.pop();
        },
        |h: &mut Vec<u8>| h[0] ^= 1,
    ] {
        let mut rehashed = rows.clone();
        edit(&mut rehashed[1].hash);
        assert_eq!(
            broken_at(&rehashed, anchor),
            Some((2, "content does not match its hash"))
        );
    }
    let mut short_prev = rows.clone();
    short_prev[2].prev.pop();
    assert_eq!(
        broken_at(&short_prev, anchor),
        Some((3, "does not link to the previous entry"))
    );

    assert_eq!(
        broken_at(&rows[..3], anchor),
        Some((4, "entries at the end of the log were removed"))
    );
    let other = chain(1);
    assert_eq!(
        broken_at(&rows, Some((4, hash_of(&other[0])))),
        Some((4, "does not match the anchor kept in the keyring"))
    );
    assert_eq!(
        broken_at(&[], None),
        None,
        "an empty log with no anchor is intact"
    );
}

#[test]
fn the_chain_recomputed_without_the_anchor_is_still_sound() {
    // An attacker who rewrites the whole chain recomputes every hash; only the anchor kept
    // apart from the log tells.
    let rows = chain(3);
    let mut forged = Vec::new();
    let mut head = None;
    for r in &rows {
        let mut e = r.decode().unwrap_or_else(|_| unreachable!()).entry;
        e.count = 0;
        let (row, _) = link(head, e).unwrap_or_else(|_| unreachable!());
        head = Some((row.seq, hash_of(&row)));
        forged.push(row);
    }
    assert!(verify(&forged, None).first_broken.is_none());
    let anchor = rows.last().map(|r| (r.seq, hash_of(r)));
    assert!(verify(&forged, anchor).first_broken.is_some());
}

#[test]
fn a_hash_column_of_the_wrong_length_does_not_decode() {
    let rows = chain(1);
    for (prev, hash) in [(31, 32), (33, 32), (32, 31), (32, 33)] {
        let mut row = rows[0].clone();
        row.prev.resize(prev, 0);
        row.hash.resize(hash, 0);
        assert!(
            matches!(row.decode(), Err(AuditError::Corrupt { seq: 1 })),
            "prev {prev} bytes, hash {hash} bytes"
        );
    }
    assert!(rows[0].decode().is_ok());
}
