//! The manifest parser and everything the CLI and server run on what it parses.
//!
//! A maker's manifest is untrusted text: `privet manifest check` and publishing run
//! [`privet_manifest::check`] (parse, then every lint rule) on it, and a usable manifest is
//! then turned into a privacy notice, a label and a fideslang export. The parser is lenient
//! and the linter promises never to panic "whatever the parser produced", so both are fed
//! arbitrary text here, and what derives from a usable manifest is rendered too.
//!
//! Beyond "does not crash" it checks that the two entry points agree (`load` succeeds exactly
//! when `check` finds no error), that every finding's span lies within the text on character
//! boundaries (the CLI underlines it), and that a manifest compared with itself has no changes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use privet_manifest::label::{self, Label, LabelContext};
use privet_manifest::{
    LineIndex, LintContext, Manifest, Severity, check, diff, fideslang, load, notice,
};
use std::sync::OnceLock;

/// A fixed day, so date rules (whether security updates have ended) give the same answer on
/// every run and a crash reproduces.
fn today() -> jiff::civil::Date {
    jiff::civil::date(2026, 11, 28)
}

/// A real manifest to diff every input against, so the diff code sees arbitrary differences.
fn thermostat() -> &'static Manifest {
    static M: OnceLock<Manifest> = OnceLock::new();
    M.get_or_init(|| {
        let cx = LintContext { today: today() };
        load(
            include_str!("../../examples/manifests/thermostat.toml"),
            &cx,
        )
        .expect("the shipped thermostat example is a usable manifest")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    let cx = LintContext { today: today() };
    let Ok(checked) = check(source, &cx) else {
        // Not TOML: the plain parser must say so too.
        assert!(privet_manifest::parse(source).is_err());
        return;
    };
    // The CLI underlines each finding's span in the source and reports its line and column:
    // a span outside the text, or inside a character, would break that rendering.
    let index = LineIndex::new(source);
    for finding in &checked.findings {
        assert!(
            source.get(finding.span.range()).is_some(),
            "finding {} has span {:?} outside the text or inside a character",
            finding.rule.code,
            finding.span
        );
        let _ = finding.to_record("fuzz.toml", source, &index);
    }
    let errors = checked.count(Severity::Error);
    assert_eq!(errors > 0, checked.has_errors());
    let manifest = checked
        .manifest
        .clone()
        .expect("check always returns a manifest for valid TOML");
    assert_eq!(
        load(source, &cx).is_ok(),
        errors == 0,
        "load and check disagree"
    );

    let same = diff(&manifest, &manifest);
    assert!(same.is_empty(), "a manifest differs from itself: {same:?}");
    // Whatever parsed, error or not: `privet manifest diff` runs on manifests with errors too.
    let _ = diff(thermostat(), &manifest);
    let _ = diff(&manifest, thermostat());

    if errors == 0 {
        // What a published manifest is shown as; none of it may fail or panic.
        let _ = notice::markdown(&manifest);
        notice::html(&manifest).expect("the notice of a usable manifest renders");
        let label = Label::from_manifest(&manifest, &LabelContext::privet(today()));
        let _ = label::text(&label);
        label::html(std::slice::from_ref(&label)).expect("the label of a usable manifest renders");
        // The export refuses some manifests by design (an unknown taxonomy key); it must not
        // panic on any.
        let _ = fideslang::export(&manifest);
    }
});
