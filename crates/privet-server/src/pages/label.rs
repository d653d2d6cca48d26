//! The label context of a product served here: today, the running instance's guarantees, and
//! the day of the product's last material change, read from its published versions. Every
//! page that derives a label takes its context from [`label_context`].

use crate::state::AppState;
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use privet_manifest::label::LabelContext;
use privet_policy::{Lineage, Rank};

/// The context of `product`'s label: of its current version (`version` `None`), or of an
/// earlier published `version`, whose label knows only the changes up to it.
pub(crate) fn label_context(
    products: &crate::products::Products,
    state: &AppState,
    product: &str,
    version: Option<&str>,
) -> LabelContext {
    let last = products.lineage(product).and_then(|lineage| {
        let rank = match version {
            None => Some(lineage.current()),
            // The text last published under that version string.
            Some(v) => lineage.rank(v, Timestamp::MAX),
        };
        rank.and_then(|r| last_material_change(lineage, r))
    });
    LabelContext {
        last_material_change: last.map(uk_date),
        ..LabelContext::privet(state.clock().today_utc())
    }
}

/// When the newest material change made by version `rank` or an older one was published.
fn last_material_change(lineage: &Lineage, rank: Rank) -> Option<Timestamp> {
    lineage
        .changes()
        .iter()
        .rev()
        .find(|c| c.rank <= rank)
        .map(|c| c.published_at)
}

/// The day `at` falls on in the UK, as the people reading the label count days.
///
/// jiff carries its own time zone database (`tzdb-bundle-always`), so this does not depend on
/// the host's tzdata; UTC is only a fallback that cannot be reached with it.
fn uk_date(at: Timestamp) -> Date {
    let tz = TimeZone::get("Europe/London").unwrap_or(TimeZone::UTC);
    at.to_zoned_datetime(tz).date()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_uk_day_follows_british_summer_time() {
        let summer: Timestamp = "2027-06-30T23:30:00Z".parse().unwrap_or_default();
        let winter: Timestamp = "2026-12-05T23:30:00Z".parse().unwrap_or_default();
        if TimeZone::get("Europe/London").is_ok() {
            assert_eq!(uk_date(summer), jiff::civil::date(2027, 7, 1));
        }
        assert_eq!(uk_date(winter), jiff::civil::date(2026, 12, 5));
    }
}
