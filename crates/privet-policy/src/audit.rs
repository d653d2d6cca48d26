//! The audit log's hash chain, pure: what an entry's hashed text is, how an entry is linked to
//! the head of the chain, and how a stored chain is verified. Backends store the text and
//! hashes they are given and hand the rows back; neither computes anything itself.

use jiff::Timestamp;
use privet_crypto::{AuditHash, Pseudonym, chain_hash};
use serde::{Deserialize, Serialize};

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
    head: Option<(i64, AuditHash)>,
    entry: NewAuditEntry,
) -> Result<(StoredAuditRow, AuditEntry), AuditError> {
    let (seq, prev) = match head {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, AuditHash::GENESIS),
    };
    let body = Body { seq, entry };
    let text = serde_json::to_string(&body).map_err(|_| AuditError::Encode)?;
    let hash = chain_hash(&prev, text.as_bytes());
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

/// Recomputes a chain fed to it in order, row by row, so a backend can stream it in pages.
#[derive(Debug)]
pub struct ChainVerifier {
    anchor: Option<(i64, AuditHash)>,
    expected_seq: i64,
    prev: AuditHash,
    entries: u64,
    broken: Option<BrokenEntry>,
}

impl ChainVerifier {
    /// A verifier that also checks the chain reaches `anchor` (the newest entry recorded
    /// apart from the log, so removing entries at its end is found).
    pub fn new(anchor: Option<(i64, AuditHash)>) -> ChainVerifier {
        ChainVerifier {
            anchor,
            expected_seq: 1,
            prev: AuditHash::GENESIS,
            entries: 0,
            broken: None,
        }
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
        let hash = chain_hash(&self.prev, row.text.as_bytes());
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
        if self
            .anchor
            .is_some_and(|(seq, h)| seq == row.seq && h.as_bytes() != row.hash.as_slice())
        {
            self.broken = fail(row.seq, "does not match the anchor kept in the keyring");
            return false;
        }
        self.prev = hash;
        self.expected_seq += 1;
        self.entries += 1;
        true
    }

    /// The verdict once every row was pushed.
    pub fn finish(self) -> AuditVerdict {
        let truncated = match self.anchor {
            Some((seq, _)) if seq >= self.expected_seq => Some(BrokenEntry {
                seq: self.expected_seq,
                reason: "entries at the end of the log were removed",
            }),
            _ => None,
        };
        let broken = self.broken.or(truncated);
        AuditVerdict {
            entries: self.entries,
            first_broken: broken,
        }
    }
}

#[cfg(test)]
mod tests;
