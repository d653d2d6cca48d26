//! Transforms: how a field is minimised at ingest, before it is stored.

use crate::retention::Retention;
use crate::span::Spanned;
use serde::Serialize;

/// The unit a timestamp is coarsened to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TimeUnit {
    /// Whole minutes.
    Minute,
    /// Whole hours.
    Hour,
    /// Whole days (UTC).
    Day,
    /// Whole months (UTC).
    Month,
}

impl TimeUnit {
    /// Every spelling accepted in a manifest.
    pub const NAMES: &'static [&'static str] = &["minute", "hour", "day", "month"];

    /// Parses a manifest spelling.
    pub fn parse(s: &str) -> Option<TimeUnit> {
        Some(match s {
            "minute" => TimeUnit::Minute,
            "hour" => TimeUnit::Hour,
            "day" => TimeUnit::Day,
            "month" => TimeUnit::Month,
            _ => return None,
        })
    }

    /// The manifest spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            TimeUnit::Minute => "minute",
            TimeUnit::Hour => "hour",
            TimeUnit::Day => "day",
            TimeUnit::Month => "month",
        }
    }
}

/// The minimising transforms declared for one field; several may apply, in this order:
/// `truncate_location`, `round`, `bucket`, `coarsen_time`, `hash`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Transform {
    /// Round numbers to the nearest multiple of this step.
    pub round: Option<Spanned<f64>>,
    /// Truncate a location's coordinates to this many decimal places.
    pub truncate_location: Option<Spanned<u8>>,
    /// Replace a number by the lower bound of the bucket it falls in.
    pub bucket: Option<Spanned<Vec<f64>>>,
    /// Truncate an RFC 3339 timestamp string to this unit.
    pub coarsen_time: Option<Spanned<TimeUnit>>,
    /// Replace a string by a keyed hash (a pseudonym).
    pub hash: Option<Spanned<bool>>,
    /// Keep this field for a shorter time than the field's retention.
    pub drop_after: Option<Spanned<Retention>>,
}

impl Transform {
    /// Whether any transform reduces the precision or identifiability of the value.
    pub fn minimises(&self) -> bool {
        self.round.is_some()
            || self.truncate_location.is_some()
            || self.bucket.is_some()
            || self.coarsen_time.is_some()
            || self.hash.as_ref().is_some_and(|h| h.value)
    }

    /// Whether any transform is declared at all.
    pub fn is_empty(&self) -> bool {
        !self.minimises() && self.drop_after.is_none()
    }

    /// The transforms as a list of plain-language phrases, for notices and labels.
    pub fn describe(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(d) = &self.truncate_location {
            out.push(format!(
                "location cut to {} decimal places (about {})",
                d.value,
                location_precision(d.value)
            ));
        }
        if let Some(r) = &self.round {
            out.push(format!("rounded to the nearest {}", r.value));
        }
        if let Some(b) = &self.bucket {
            let bounds: Vec<String> = b.value.iter().map(|v| v.to_string()).collect();
            out.push(format!(
                "kept only as a range (bounds {})",
                bounds.join(", ")
            ));
        }
        if let Some(u) = &self.coarsen_time {
            out.push(format!("time kept only to the {}", u.value.as_str()));
        }
        if self.hash.as_ref().is_some_and(|h| h.value) {
            out.push("replaced by a pseudonym".to_owned());
        }
        if let Some(d) = &self.drop_after {
            out.push(format!("deleted after {}", d.value.plain()));
        }
        out
    }
}

/// Roughly how far apart two points are at `places` decimal places of latitude.
pub fn location_precision(places: u8) -> &'static str {
    match places {
        0 => "110 km",
        1 => "11 km",
        2 => "1.1 km",
        3 => "110 m",
        4 => "11 m",
        _ => "1 m or better",
    }
}
