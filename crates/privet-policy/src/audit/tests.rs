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

/// The chain the tests link with: keyed from entry 1.
fn keyed() -> AuditChain {
    AuditChain::new(AuditKey::new(&[9; 32]), 1)
}

fn chain(n: usize) -> Vec<StoredAuditRow> {
    chain_with(&keyed(), n)
}

fn chain_with(c: &AuditChain, n: usize) -> Vec<StoredAuditRow> {
    let mut head = None;
    let mut rows = Vec::new();
    for i in 0..n {
        let (row, linked) = link(
            c,
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
    run(ChainVerifier::new(keyed(), anchor), rows)
}

fn run(mut v: ChainVerifier, rows: &[StoredAuditRow]) -> AuditVerdict {
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

/// `rows` with every entry's count zeroed and the chain recomputed as `c` links it.
fn rewritten(c: &AuditChain, rows: &[StoredAuditRow]) -> Vec<StoredAuditRow> {
    let mut forged = Vec::new();
    let mut head = None;
    for r in rows {
        let mut e = r.decode().unwrap_or_else(|_| unreachable!()).entry;
        e.count = 0;
        let (row, _) = link(c, head, e).unwrap_or_else(|_| unreachable!());
        head = Some((row.seq, hash_of(&row)));
        forged.push(row);
    }
    forged
}

#[test]
fn the_chain_recomputed_without_the_key_does_not_verify() {
    let rows = chain(3);
    // Recomputed with the old unkeyed SHA-256 links, or under another key: the first entry
    // already fails.
    for other in [
        AuditChain::new(AuditKey::new(&[9; 32]), i64::MAX),
        AuditChain::new(AuditKey::new(&[1; 32]), 1),
    ] {
        let forged = rewritten(&other, &rows);
        assert_eq!(
            verify(&forged, None)
                .first_broken
                .map(|b| (b.seq, b.reason)),
            Some((1, "content does not match its hash"))
        );
    }
    // With the key, only the anchor kept apart from the log tells.
    let forged = rewritten(&keyed(), &rows);
    assert!(verify(&forged, None).first_broken.is_none());
    let anchor = rows.last().map(|r| (r.seq, hash_of(r)));
    assert!(verify(&forged, anchor).first_broken.is_some());
}

#[test]
fn entries_from_before_the_chain_was_keyed_keep_their_unkeyed_links() {
    // Keyed from entry 3: entries 1 and 2 are SHA-256 links, 3 and 4 keyed ones.
    let upgraded = AuditChain::new(AuditKey::new(&[9; 32]), 3);
    let rows = chain_with(&upgraded, 4);
    let unkeyed = chain_with(&AuditChain::new(AuditKey::new(&[9; 32]), i64::MAX), 3);
    assert_eq!(rows[..2], unkeyed[..2], "the old entries are as they were");
    assert_ne!(rows[2].hash, unkeyed[2].hash, "the new ones are keyed");
    let anchor = rows.last().map(|r| (r.seq, hash_of(r)));
    let verdict = run(ChainVerifier::new(upgraded.clone(), anchor), &rows);
    assert_eq!(verdict.first_broken, None);
    assert_eq!(verdict.entries, 4);
    // Verified as keyed throughout, the old entries fail: where keying began matters.
    assert_eq!(verify(&rows, anchor).first_broken.map(|b| b.seq), Some(1));
    // A keyed entry rewritten with an unkeyed link fails.
    let mut forged = rows.clone();
    forged.truncate(3);
    let (row, _) = link(
        &AuditChain::new(AuditKey::new(&[9; 32]), i64::MAX),
        Some((2, hash_of(&rows[1]))),
        entry("forged", "2026-11-29T10:00:00Z"),
    )
    .unwrap_or_else(|_| unreachable!());
    forged[2] = row;
    assert_eq!(
        run(ChainVerifier::new(upgraded, None), &forged)
            .first_broken
            .map(|b| (b.seq, b.reason)),
        Some((3, "content does not match its hash"))
    );
}

#[test]
fn a_signed_head_catches_a_cut_tail_even_without_the_anchor_and_a_rewrite_below_it() {
    let rows = chain(6);
    let head = (4, hash_of(&rows[3]));
    let with_head = || ChainVerifier::new(keyed(), None).expect_head(head.0, head.1);
    assert_eq!(
        run(with_head(), &rows).first_broken,
        None,
        "the log extends the head"
    );
    assert_eq!(
        run(with_head(), &rows[..4]).first_broken,
        None,
        "the log is the head"
    );
    // The tail cut to entry 2 and the anchor deleted with it: the head names entry 3.
    assert_eq!(
        run(with_head(), &rows[..2])
            .first_broken
            .map(|b| (b.seq, b.reason)),
        Some((3, "missing: the log ends before the signed head"))
    );
    // Cut below an anchor too: the head, reaching further, says why.
    let anchor = Some((3, hash_of(&rows[2])));
    assert_eq!(
        run(
            ChainVerifier::new(keyed(), anchor).expect_head(head.0, head.1),
            &rows[..1]
        )
        .first_broken
        .map(|b| b.reason),
        Some("missing: the log ends before the signed head")
    );
    // Rewritten (with the key) below the head: the head's entry differs.
    let forged = rewritten(&keyed(), &rows);
    assert_eq!(
        run(with_head(), &forged)
            .first_broken
            .map(|b| (b.seq, b.reason)),
        Some((
            4,
            "differs from the signed head: the log was rewritten up to here"
        ))
    );
    // A head of an empty log holds nothing to check.
    assert_eq!(
        run(
            ChainVerifier::new(keyed(), None).expect_head(0, AuditHash::GENESIS),
            &[]
        )
        .first_broken,
        None
    );
}

#[test]
fn a_head_payload_names_its_type_and_refuses_unknown_fields() {
    let head = AuditHead {
        kind: AuditHead::TYPE.to_owned(),
        seq: 4,
        hash: AuditHash::GENESIS,
        signed_at: "2026-12-05T10:00:00Z"
            .parse()
            .unwrap_or_else(|_| unreachable!()),
    };
    let json = serde_json::to_value(&head).unwrap_or_default();
    assert_eq!(json["typ"], "privet-audit-head");
    assert_eq!(json["seq"], 4);
    let mut extra = json.clone();
    extra["subject"] = serde_json::json!("x");
    assert!(serde_json::from_value::<AuditHead>(extra).is_err());
    assert_eq!(serde_json::from_value::<AuditHead>(json).ok(), Some(head));
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
