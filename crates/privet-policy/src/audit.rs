//! The audit log's hash chain, pure: what an entry's hashed text is, how an entry is linked to
//! the head of the chain, and how a stored chain is verified — against the anchor kept in the
//! keyring and against signed heads someone kept ([`AuditHead`]). Backends store the text and
//! hashes they are given and hand the rows back; neither computes anything itself.

use jiff::Timestamp;
use privet_crypto::{AuditHash, AuditKey, Pseudonym, chain_hash};
use serde::{Deserialize, Serialize};

/// How entries are linked: keyed (HMAC under the instance's audit key) from `keyed_from` on,
/// unkeyed SHA-256 before it (entries written before the chain was keyed).
#[derive(Clone, Debug)]
pub struct AuditChain {
    key: AuditKey,
    keyed_from: i64,
}

impl AuditChain {
    /// A chain keyed with `key` from entry `keyed_from` on (1: the whole chain).
    pub fn new(key: AuditKey, keyed_from: i64) -> Self {
        Self { key, keyed_from }
    }

    /// The first keyed entry.
    pub fn keyed_from(&self) -> i64 {
        self.keyed_from
    }

    /// The link of entry `seq` whose hashed text is `text`.
    fn link_of(&self, seq: i64, prev: &AuditHash, text: &[u8]) -> AuditHash {
        if seq >= self.keyed_from {
            self.key.chain_mac(prev, text)
        } else {
            chain_hash(prev, text)
        }
    }
}

/// A head of the chain as signed for `GET /v1/audit/head`: its newest entry, whose hash covers
/// every entry before it. Whoever keeps a signed head can later show the log was cut or
/// rewritten below it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditHead {
    /// What the signed payload is (always [`AuditHead::TYPE`]), so a receipt or another JWS
    /// from the same key is never taken for a head.
    #[serde(rename = "typ")]
    pub kind: String,
    /// The newest entry's sequence number (0: the log was empty).
    pub seq: i64,
    /// The newest entry's hash (all zero for an empty log).
    pub hash: AuditHash,
    /// When the head was signed.
    pub signed_at: Timestamp,
}

impl AuditHead {
    /// The payload's `typ`.
    pub const TYPE: &'static str = "privet-audit-head";
}

/// An audit entry to append. Holds ids, pseudonyms and counts only, never personal values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewAuditEntry {
    /// When.
    pub at: Timestamp,
    /// Who (`key:<id>`, `device:<id>`, `account:<id>`, `system`, `cli`).
    pub actor: String,
    /// What (`events.read`, `consent.grant`, `subject.erase`, …).
    pub action: String,
    /// The purpose, for reads.
    pub purpose: Option<String>,
    /// Subjects touched, by pseudonym.
    pub subjects: Vec<Pseudonym>,
    /// How many records.
    pub count: u64,
    /// Further ids and counts.
    #[serde(default)]
    pub detail: serde_json::Value,
}

/// An entry of the chain.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AuditEntry {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// The entry.
    #[serde(flatten)]
    pub entry: NewAuditEntry,
    /// Hash of the previous entry.
    pub prev: AuditHash,
    /// Hash of this entry's text and `prev`.
    pub hash: AuditHash,
}

/// An entry as a backend stores it: the exact text that was hashed, so verification never
/// depends on how JSON happens to be re-serialised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredAuditRow {
    /// Position in the chain.
    pub seq: i64,
    /// The entry's time in microseconds since the Unix epoch (an indexed column).
    pub at_micros: i64,
    /// The hashed text: the entry with its `seq`, as JSON.
    pub text: String,
    /// The stored previous hash, as stored (a tampered row may hold any bytes).
    pub prev: Vec<u8>,
    /// The stored hash, as stored.
    pub hash: Vec<u8>,
}

/// What is hashed and stored for one entry.
#[derive(Serialize, Deserialize)]
struct Body {
    seq: i64,
    #[serde(flatten)]
    entry: NewAuditEntry,
}

/// Why an entry could not be linked or decoded.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The entry does not serialise (a detail that is not valid JSON cannot happen; kept for
    /// completeness rather than a panic).
    #[error("the audit entry cannot be serialised")]
    Encode,
    /// A stored text is not an audit entry.
    #[error("stored audit entry {seq} is corrupt")]
    Corrupt {
        /// Its position.
        seq: i64,
    },
}

/// Links `entry` to the chain whose newest entry is `head` (`None`: the chain is empty). The
/// backend stores the row and answers with the entry; both come from here.
pub fn link(
    chain: &AuditChain,
    head: Option<(i64, AuditHash)>,
    entry: NewAuditEntry,
) -> Result<(StoredAuditRow, AuditEntry), AuditError> {
    let (seq, prev) = match head {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, AuditHash::GENESIS),
    };
    let body = Body { seq, entry };
    let text = serde_json::to_string(&body).map_err(|_| AuditError::Encode)?;
    let hash = chain.link_of(seq, &prev, text.as_bytes());
    let row = StoredAuditRow {
        seq,
        at_micros: body.entry.at.as_microsecond(),
        text,
        prev: prev.as_bytes().to_vec(),
        hash: hash.as_bytes().to_vec(),
    };
    Ok((
        row,
        AuditEntry {
            seq,
            entry: body.entry,
            prev,
            hash,
        },
    ))
}

impl StoredAuditRow {
    /// The entry this row holds (without checking its hash: see [`ChainVerifier`]).
    pub fn decode(&self) -> Result<AuditEntry, AuditError> {
        let corrupt = || AuditError::Corrupt { seq: self.seq };
        let b: Body = serde_json::from_str(&self.text).map_err(|_| corrupt())?;
        let hash = |bytes: &[u8]| -> Result<AuditHash, AuditError> {
            Ok(AuditHash::from_bytes(
                bytes.try_into().map_err(|_| corrupt())?,
            ))
        };
        Ok(AuditEntry {
            seq: self.seq,
            entry: b.entry,
            prev: hash(&self.prev)?,
            hash: hash(&self.hash)?,
        })
    }
}

/// The result of recomputing the audit chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditVerdict {
    /// Entries checked and found sound.
    pub entries: u64,
    /// The first entry that does not verify, and why.
    pub first_broken: Option<BrokenEntry>,
}

/// Where and why the audit chain breaks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BrokenEntry {
    /// The sequence number of the first bad entry.
    pub seq: i64,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// An entry known from outside the log, which the chain must reach and match.
#[derive(Clone, Copy, Debug)]
struct Checkpoint {
    seq: i64,
    hash: AuditHash,
    /// Why the entry at `seq` is broken when its hash differs.
    differs: &'static str,
    /// Why the entry after the log's end is broken when the log ends before `seq`.
    missing: &'static str,
}

/// Recomputes a chain fed to it in order, row by row, so a backend can stream it in pages.
#[derive(Debug)]
pub struct ChainVerifier {
    chain: AuditChain,
    checkpoints: Vec<Checkpoint>,
    expected_seq: i64,
    prev: AuditHash,
    entries: u64,
    broken: Option<BrokenEntry>,
}

impl ChainVerifier {
    /// A verifier of a chain linked as `chain` says that also checks the chain reaches
    /// `anchor` (the newest entry recorded apart from the log, so removing entries at its end
    /// is found).
    pub fn new(chain: AuditChain, anchor: Option<(i64, AuditHash)>) -> ChainVerifier {
        ChainVerifier {
            chain,
            checkpoints: anchor
                .map(|(seq, hash)| Checkpoint {
                    seq,
                    hash,
                    differs: "does not match the anchor kept in the keyring",
                    missing: "entries at the end of the log were removed",
                })
                .into_iter()
                .collect(),
            expected_seq: 1,
            prev: AuditHash::GENESIS,
            entries: 0,
            broken: None,
        }
    }

    /// Also checks the chain reaches and matches a signed head someone kept (the anchor can be
    /// deleted with the tail of the log; a head kept elsewhere cannot). A head of an empty log
    /// (seq 0) is reached by any log.
    pub fn expect_head(mut self, seq: i64, hash: AuditHash) -> ChainVerifier {
        if seq > 0 {
            self.checkpoints.push(Checkpoint {
                seq,
                hash,
                differs: "differs from the signed head: the log was rewritten up to here",
                missing: "missing: the log ends before the signed head",
            });
        }
        self
    }

    /// The sequence number after the last row taken: where the next page starts.
    pub fn next_seq(&self) -> i64 {
        self.expected_seq
    }

    /// Takes the next row; `false` once the chain is broken (further rows are not needed).
    pub fn push(&mut self, row: &StoredAuditRow) -> bool {
        if self.broken.is_some() {
            return false;
        }
        let fail = |seq, reason| Some(BrokenEntry { seq, reason });
        // Hashed once: checked against the row, then the link the next row must carry.
        let hash = self
            .chain
            .link_of(self.expected_seq, &self.prev, row.text.as_bytes());
        self.broken = if row.seq != self.expected_seq {
            fail(self.expected_seq, "entry missing or out of order")
        } else if row.prev.as_slice() != self.prev.as_bytes() {
            fail(row.seq, "does not link to the previous entry")
        } else if hash.as_bytes() != row.hash.as_slice() {
            fail(row.seq, "content does not match its hash")
        } else {
            match serde_json::from_str::<Body>(&row.text) {
                Ok(b) if b.seq == row.seq && b.entry.at.as_microsecond() == row.at_micros => None,
                _ => fail(row.seq, "columns do not match the hashed content"),
            }
        };
        if self.broken.is_some() {
            return false;
        }
        if let Some(c) = self
            .checkpoints
            .iter()
            .find(|c| c.seq == row.seq && c.hash.as_bytes() != row.hash.as_slice())
        {
            self.broken = fail(row.seq, c.differs);
            return false;
        }
        self.prev = hash;
        self.expected_seq += 1;
        self.entries += 1;
        true
    }

    /// The verdict once every row was pushed.
    pub fn finish(self) -> AuditVerdict {
        // The furthest checkpoint beyond the end names why (a signed head outlives an anchor
        // deleted along with the tail).
        let truncated = self
            .checkpoints
            .iter()
            .filter(|c| c.seq >= self.expected_seq)
            .max_by_key(|c| c.seq)
            .map(|c| BrokenEntry {
                seq: self.expected_seq,
                reason: c.missing,
            });
        let broken = self.broken.or(truncated);
        AuditVerdict {
            entries: self.entries,
            first_broken: broken,
        }
    }
}

#[cfg(test)]
mod tests;
