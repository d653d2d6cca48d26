//! DPIA screening, draft DPIA and PSTI statement on every example manifest: what each
//! screening finds and why, what the documents say, and what is left for people to fill in.

#![allow(clippy::expect_used, clippy::panic, reason = "tests fail by panicking")]

use privet_manifest::dpia::{self, Criterion, DraftContext};
use privet_manifest::{Manifest, parse, psti};

fn example(name: &str) -> (String, Manifest) {
    let path = format!(
        "{}/../../examples/manifests/{name}.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let source = std::fs::read_to_string(&path).expect("example manifest");
    let manifest = parse(&source).expect("valid TOML").manifest;
    (source, manifest)
}

fn criteria(m: &Manifest) -> Vec<&'static str> {
    dpia::screen(m)
        .reasons
        .iter()
        .map(|r| r.criterion.code())
        .collect()
}

fn draft(name: &str) -> String {
    let (source, m) = example(name);
    dpia::markdown(
        &m,
        &source,
        &DraftContext {
            today: jiff::civil::date(2026, 11, 28),
        },
    )
}

const EXAMPLES: &[&str] = &[
    "fitness-tracker",
    "smart-fridge",
    "smart-speaker",
    "thermostat",
    "video-doorbell",
];

/// The doorbell films people who are not users, at the door and in the street: systematic
/// monitoring of a publicly accessible area (EDPB 3), recordings (EDPB 4), a connected camera
/// (EDPB 8), and invisible processing (ICO). Two EDPB criteria are enough.
#[test]
fn the_doorbell_needs_a_dpia_because_it_films_people_who_are_not_users() {
    let (source, m) = example("video-doorbell");
    let s = dpia::screen(&m);
    assert!(s.required);
    assert_eq!(
        criteria(&m),
        [
            "systematic-monitoring",
            "sensitive-or-highly-personal",
            "innovative-technology",
            "invisible-processing"
        ]
    );
    let report = s.report(&m, &source);
    let monitoring = &report.reasons[0];
    assert_eq!(
        monitoring.line, 48,
        "the data_subjects line of the doorstep stream"
    );
    assert_eq!(monitoring.lines, [48, 71]);
    assert!(
        monitoring.detail.contains("passerby"),
        "{}",
        monitoring.detail
    );
    let invisible = report
        .reasons
        .iter()
        .find(|r| r.criterion == "invisible-processing")
        .expect("invisible processing");
    assert!(
        invisible.detail.contains("`doorstep`"),
        "{}",
        invisible.detail
    );
    assert!(
        report
            .conclusion
            .starts_with("A DPIA is required: 3 of the EDPB's nine criteria")
    );
    let json = serde_json::to_value(&report).expect("json");
    assert_eq!(json["required"], true);
    assert_eq!(json["reasons"][0]["criterion"], "systematic-monitoring");
    assert_eq!(json["reasons"][0]["line"], 48);
    assert_eq!(json["reasons"][0]["column"], 18);
}

/// Each example's outcome, and why.
#[test]
fn every_example_is_screened_as_its_processing_warrants() {
    // Health data measured by a band (EDPB 4 and 8), sleep predicted from it (EDPB 1), run
    // routes of one person (ICO: tracking, and risk of physical harm on its own).
    let (_, band) = example("fitness-tracker");
    assert!(dpia::screen(&band).required);
    assert_eq!(
        criteria(&band),
        [
            "evaluation-or-scoring",
            "sensitive-or-highly-personal",
            "innovative-technology",
            "tracking",
            "risk-of-physical-harm"
        ]
    );
    // Food stock, door and energy readings of a household, none about one person; marketing
    // only with consent to adults: no criterion met, so no DPIA (and it declares none).
    let (_, fridge) = example("smart-fridge");
    let s = dpia::screen(&fridge);
    assert!(!s.required);
    assert!(s.reasons.is_empty(), "{:?}", s.reasons);
    assert!(s.conclusion().contains("none of the criteria"));
    // Voice recordings in a home children use, guests overheard, recordings used to train AI.
    let (_, speaker) = example("smart-speaker");
    assert!(dpia::screen(&speaker).required);
    assert_eq!(
        criteria(&speaker),
        [
            "sensitive-or-highly-personal",
            "vulnerable-people",
            "innovative-technology",
            "tracking",
            "invisible-processing"
        ]
    );
    // A product for all ages (EDPB 7) that follows when each member is home (ICO: tracking,
    // which counts together with an EDPB criterion).
    let (_, thermostat) = example("thermostat");
    let s = dpia::screen(&thermostat);
    assert!(s.required);
    assert_eq!(criteria(&thermostat), ["vulnerable-people", "tracking"]);
    assert_eq!(s.grounds().len(), 1, "{:?}", s.grounds());
    assert!(
        s.grounds()[0].contains("tracking location or behaviour together with an EDPB criterion")
    );
}

/// Being a connected device is not a criterion on its own: the design notes' thermostat
/// (temperature, and each member's presence for an opt-in report) is not required.
#[test]
fn a_connected_device_alone_does_not_need_a_dpia() {
    let source = include_str!("fixtures/design_example.toml");
    let m = parse(source).expect("toml").manifest;
    let s = dpia::screen(&m);
    assert!(!s.required, "{:?}", s.grounds());
    assert_eq!(criteria(&m), ["tracking"]);
    assert!(!s.meets(Criterion::InnovativeTechnology));
    assert!(s.conclusion().contains("not required"));
}

#[test]
fn every_draft_describes_the_processing_and_leaves_judgements_to_the_dpo() {
    for name in EXAMPLES {
        let (_, m) = example(name);
        let d = draft(name);
        assert!(
            d.starts_with(&format!(
                "# Data protection impact assessment (draft): {}",
                m.product.name.value
            )),
            "{name}"
        );
        for section in [
            "## 1. Screening: is a DPIA required?",
            "## 2. The processing",
            "### Purposes and lawful bases",
            "### Recipients and international transfers",
            "## 3. Consultation",
            "## 4. Necessity and proportionality",
            "## 5. Risks",
            "## 6. Measures to reduce risk",
            "## 7. Sign-off and outcomes",
        ] {
            assert!(d.contains(section), "{name} lacks {section}");
        }
        for p in &m.purposes {
            assert!(
                d.contains(&format!("`{}`", p.id.as_str())),
                "{name}: {}",
                p.id.as_str()
            );
        }
        for (s, f) in m.fields() {
            assert!(
                d.contains(&format!("#### Stream `{}`", s.id.as_str())),
                "{name}"
            );
            assert!(d.contains(&format!("| `{}` |", f.name.as_str())), "{name}");
        }
        for measure in [
            "Per-person encryption",
            "Minimisation at ingest",
            "Consent gating",
            "Purpose-bound reads",
            "Audit log",
            "Crypto-shredding erasure",
            "Retention by chunks",
        ] {
            assert!(
                d.contains(&format!("- **{measure}**")),
                "{name} lacks {measure}"
            );
        }
        assert!(d.matches("> **DPO to complete:**").count() >= 6, "{name}");
        assert!(
            d.contains("| Measures approved by | **DPO to complete** |"),
            "{name}"
        );
        let required = dpia::screen(&m).required;
        assert_eq!(d.contains("**Required.**"), required, "{name}");
    }
}

#[test]
fn the_doorbell_draft_names_its_risks_recipients_and_transforms() {
    let d = draft("video-doorbell");
    assert!(
        d.contains("| systematic monitoring | EDPB criterion 3 | 48, 71 |"),
        "{d}"
    );
    assert!(d.contains(
        "People who are not users (visitors, passers-by, guests) are recorded without knowing"
    ));
    assert!(d.contains("| Probable | Significant | High |"));
    assert!(d.contains(
        "| Harbour Cloud Ltd | processor | GB | not needed (in the UK) | `clip_history` |"
    ));
    assert!(d.contains("deleted after 14 days"));
    assert!(d.contains("It may also capture people who are not the user: `visitor`, `passerby`."));
    assert!(d.contains("Legitimate interests: `clip_history`"));
    assert!(d.contains("the legitimate interests assessment for `clip_history`"));
    assert!(d.contains("Written by Privet") || d.contains("written by Privet"));
    assert!(d.contains("28 November 2026"));
}

#[test]
fn the_speaker_draft_names_its_transfer_and_safeguard() {
    let d = draft("smart-speaker");
    assert!(d.contains("| US | `idta` |"), "{d}");
    assert!(d.contains("Data processed outside the UK is less well protected"));
}

#[test]
fn manifest_text_cannot_inject_markdown_into_the_draft() {
    let (source, _) = example("smart-fridge");
    let source = source.replacen(
        "name = \"Larder Smart Fridge 5\"",
        "name = \"Fridge | <script>x</script> [link](https://evil.example)\"",
        1,
    );
    let m = parse(&source).expect("toml").manifest;
    let d = dpia::markdown(
        &m,
        &source,
        &DraftContext {
            today: jiff::civil::date(2026, 11, 28),
        },
    );
    assert!(!d.contains("<script>"));
    assert!(!d.contains("[link]("));
    assert!(d.contains("Fridge \\| \\<script\\>"));
}

#[test]
fn every_psti_statement_has_what_the_regulations_ask_for() {
    for name in EXAMPLES {
        let (_, m) = example(name);
        let p = &m.product;
        let s = psti::statement(&m);
        let until = p.security_updates_until.as_ref().expect("date").value;
        assert!(
            s.contains(&format!("# Statement of compliance: {}", p.name.value)),
            "{name}"
        );
        assert!(s.contains(&format!("- Name: {}", p.maker.value)), "{name}");
        assert!(
            s.contains(&format!("- Model: {}", p.id.as_str().replace('_', "\\_"))),
            "{name}"
        );
        assert!(
            s.contains(&format!(
                "defined support period ends on {}",
                until.strftime("%-d %B %Y")
            )),
            "{name}"
        );
        assert!(s.contains(&psti::declaration(&p.maker.value)), "{name}");
        assert!(s.contains(psti::NO_DEFAULT_PASSWORDS), "{name}");
        let disclosure = p.vulnerability_disclosure.as_ref().expect("disclosure");
        assert!(s.contains(&disclosure.value), "{name}");
        let days = p.disclosure_response_days.as_ref().expect("days").value;
        assert!(s.contains(&format!("within {days} days")), "{name}");
        // What the manifest does not hold is marked, never invented.
        assert!(s.contains("- Address: **Maker to complete:**"), "{name}");
        for item in [
            "Signature",
            "Name",
            "Function",
            "Place of issue",
            "Date of issue",
        ] {
            assert!(
                s.contains(&format!("- {item}: **Maker to complete:**")),
                "{name}: {item}"
            );
        }
    }
    let (_, thermostat) = example("thermostat");
    assert!(psti::statement(&thermostat).contains("until at least 31 December 2032"));
    let (_, doorbell) = example("video-doorbell");
    assert!(psti::statement(&doorbell).contains("until at least 31 March 2033"));
}

#[test]
fn a_statement_marks_what_the_manifest_lacks() {
    let source = include_str!("fixtures/design_example.toml")
        .lines()
        .filter(|l| {
            !l.starts_with("security_updates_until") && !l.starts_with("vulnerability_disclosure")
        })
        .collect::<Vec<_>>()
        .join("\n");
    let m = parse(&source).expect("toml").manifest;
    let s = psti::statement(&m);
    assert!(s.contains("**Maker to complete:** the end date of the defined support period"));
    assert!(s.contains("**Maker to complete:** where security researchers"));
    assert!(s.contains("**Maker to complete:** when people who report an issue"));
}
