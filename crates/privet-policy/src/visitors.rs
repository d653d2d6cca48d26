//! Requests from people without an account — a visitor filmed by a doorbell — are located by
//! device and time range; only streams that declare they capture people other than the users
//! (`data_subjects`) can hold their data, so only those are searched, exported or cut.

use jiff::Timestamp;
use privet_manifest::{Manifest, Stream};

/// Where a visitor's data may be: one device's events in a time range.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct VisitorScope {
    /// The device that recorded them.
    pub device: String,
    /// The first moment (inclusive).
    pub from: Timestamp,
    /// The last moment (inclusive).
    pub until: Timestamp,
}

impl VisitorScope {
    /// Whether an event observed at `ts` lies in the range.
    pub fn covers(&self, ts: Timestamp) -> bool {
        self.from <= ts && ts <= self.until
    }

    /// Whether the range is the right way round.
    pub fn is_ordered(&self) -> bool {
        self.from <= self.until
    }
}

/// The streams of a product that may hold people other than its users: those declaring
/// `data_subjects`, in manifest order.
pub fn visitor_streams(manifest: &Manifest) -> Vec<&Stream> {
    manifest
        .streams
        .iter()
        .filter(|s| !s.data_subjects.is_empty())
        .collect()
}

/// The recipients that may hold what a product's visitor streams recorded: those receiving data
/// for any purpose of those streams' fields (listed on the recipient or naming it). A
/// visitor gave no consent of their own, so every such recipient is told of an erasure.
pub fn visitor_recipients(manifest: &Manifest) -> Vec<String> {
    let purposes: std::collections::BTreeSet<&str> = visitor_streams(manifest)
        .iter()
        .flat_map(|s| s.fields.iter())
        .flat_map(|f| f.purposes.iter().map(|p| p.as_str()))
        .collect();
    let mut told: Vec<String> = Vec::new();
    for p in manifest
        .purposes
        .iter()
        .filter(|p| purposes.contains(p.id.as_str()))
    {
        for r in manifest.recipients_of(p) {
            if !told.iter().any(|t| t == r.id.as_str()) {
                told.push(r.id.as_str().to_owned());
            }
        }
    }
    told
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_covers_both_ends() {
        let t = |s: &str| s.parse::<Timestamp>().unwrap();
        let v = VisitorScope {
            device: "d".into(),
            from: t("2026-06-01T10:00:00Z"),
            until: t("2026-06-01T10:05:00Z"),
        };
        assert!(v.covers(t("2026-06-01T10:00:00Z")));
        assert!(v.covers(t("2026-06-01T10:05:00Z")));
        assert!(!v.covers(t("2026-06-01T10:05:01Z")));
        assert!(!v.covers(t("2026-06-01T09:59:59Z")));
        assert!(v.is_ordered());
    }

    #[test]
    fn only_streams_that_capture_other_people_hold_a_visitor() {
        let m = privet_manifest::parse(include_str!(
            "../../../examples/manifests/video-doorbell.toml"
        ))
        .unwrap()
        .manifest;
        let names: Vec<&str> = visitor_streams(&m).iter().map(|s| s.id.as_str()).collect();
        assert_eq!(names, ["doorstep", "motion"]);
        let t = privet_manifest::parse(include_str!("../../../examples/manifests/thermostat.toml"))
            .unwrap()
            .manifest;
        assert!(visitor_streams(&t).is_empty());
        assert_eq!(
            visitor_recipients(&m),
            ["clip_storage"],
            "clips of visitors go there"
        );
        assert!(visitor_recipients(&t).is_empty());
    }
}
