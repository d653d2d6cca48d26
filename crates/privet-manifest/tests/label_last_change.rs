//! The label's "Last material change" row: shown with the day when the context knows one, left
//! out when it does not, and lined up with the other rows when labels are compared.

// Helpers outside `#[test]` functions unwrap too; a failing unwrap is a failing test.
#![allow(clippy::unwrap_used, clippy::panic)]

use jiff::civil::{Date, date};
use privet_manifest::label::{self, Label, LabelContext, primary_rows, side_by_side};
use privet_manifest::{Manifest, parse};

const THERMOSTAT: &str = include_str!("fixtures/thermostat_notice.toml");

fn manifest() -> Manifest {
    parse(THERMOSTAT).unwrap().manifest
}

fn label(last_material_change: Option<Date>) -> Label {
    let cx = LabelContext {
        last_material_change,
        ..LabelContext::privet(date(2026, 12, 20))
    };
    Label::from_manifest(&manifest(), &cx)
}

#[test]
fn a_known_material_change_is_shown_with_its_day() {
    let l = label(Some(date(2026, 12, 5)));
    let rows = primary_rows(&l);
    let row = rows
        .iter()
        .find(|r| r.label == "Last material change")
        .expect("the row");
    assert_eq!(row.values, ["5 December 2026"]);
    let longest = rows
        .iter()
        .position(|r| r.label == "Kept for (longest)")
        .unwrap();
    assert_eq!(
        rows.get(longest + 1).map(|r| r.label),
        Some("Last material change"),
        "among the privacy rows, before security"
    );

    let text = label::text(&l);
    assert!(
        text.contains("Last material change    5 December 2026"),
        "{text}"
    );
    let html = label::html(std::slice::from_ref(&l)).unwrap();
    assert!(
        html.contains("<th scope=\"row\">Last material change</th><td>5 December 2026</td>"),
        "{html}"
    );
    let json = serde_json::to_value(&l).unwrap();
    assert_eq!(json["primary"]["last_material_change"], "2026-12-05");
}

#[test]
fn without_a_known_change_there_is_no_row() {
    let l = label(None);
    assert!(
        primary_rows(&l)
            .iter()
            .all(|r| r.label != "Last material change")
    );
    assert!(!label::text(&l).contains("Last material change"));
    assert!(
        !label::html(std::slice::from_ref(&l))
            .unwrap()
            .contains("Last material change")
    );
    assert_eq!(
        label(None),
        Label::from_manifest(&manifest(), &LabelContext::privet(date(2026, 12, 20))),
        "the context of a manifest file has no history"
    );
}

#[test]
fn comparing_matches_rows_by_what_they_answer() {
    let changed = label(Some(date(2027, 7, 1)));
    let unchanged = label(None);
    let table = side_by_side(&[primary_rows(&unchanged), primary_rows(&changed)]);
    assert_eq!(table.len(), primary_rows(&changed).len());
    let row = table
        .iter()
        .find(|r| r.label == "Last material change")
        .unwrap();
    assert_eq!(row.cells, [vec!["None recorded"], vec!["1 July 2027"]]);
    for r in &table {
        assert_eq!(r.cells.len(), 2, "{}", r.label);
        if r.label != "Last material change" {
            assert_eq!(r.cells[0], r.cells[1], "{}", r.label);
        }
    }

    let text = label::compare_text(&[unchanged.clone(), changed.clone()]);
    let line = text
        .lines()
        .find(|l| l.starts_with("Last material change"))
        .unwrap();
    assert!(
        line.contains("None recorded") && line.contains("1 July 2027"),
        "{text}"
    );
    let html = label::compare_html(&[unchanged, changed]).unwrap();
    assert!(
        html.contains("<td>None recorded</td><td>1 July 2027</td>"),
        "{html}"
    );
}
