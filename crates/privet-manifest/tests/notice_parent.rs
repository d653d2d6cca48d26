//! Notices a parent can read (issue 14): Privet's own words for every category, "your
//! child" for a product made for children, transfer safeguards in words, the explicit-consent
//! sentence only where it belongs, an offline sentence that never contradicts itself, a
//! children's section drawn from the manifest, a label that says who the product is for, and
//! a readability check of every example's notice.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test by panicking"
)]

use privet_manifest::label::{self, Label, LabelContext};
use privet_manifest::notice::{self, Notice, categories};
use privet_manifest::{Manifest, OfflineSupport, parse};
use std::path::{Path, PathBuf};

const BABY: &str = include_str!("fixtures/baby-monitor-placeholders.toml");

fn manifest(src: &str) -> Manifest {
    parse(src).expect("valid TOML").manifest
}

fn examples() -> Vec<(PathBuf, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/manifests");
    let mut out: Vec<(PathBuf, String)> = std::fs::read_dir(&dir)
        .expect("examples dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("readable");
            (p, text)
        })
        .collect();
    out.sort();
    assert!(out.len() >= 5);
    out
}

/// The text of one example manifest, by file name.
fn example(name: &str) -> String {
    examples()
        .into_iter()
        .find(|(p, _)| p.ends_with(name))
        .map(|(_, text)| text)
        .expect("example exists")
}

fn label_cx() -> LabelContext {
    LabelContext::privet(jiff::civil::date(2026, 11, 28))
}

// ---------------------------------------------------------------------------------------------
// Categories in Privet's own words

#[test]
fn every_category_the_examples_use_has_privets_own_words() {
    for (path, text) in examples() {
        for (_, f) in manifest(&text).fields() {
            assert!(
                categories::has_own_wording(&f.category.value),
                "{}: `{}` has no wording of its own",
                path.display(),
                f.category.value
            );
        }
    }
}

#[test]
fn notices_use_our_wording_not_fideslangs() {
    for (path, text) in examples() {
        let md = notice::markdown(&manifest(&text));
        for fideslang in [
            "Subject",
            "subject is",
            "recognized",
            "Behavior",
            "behavior",
        ] {
            // Category keys in backticks (`user.behavior`) are not wording.
            let prose = strip_code(&md);
            assert!(
                !prose.contains(fideslang),
                "{}: notice says {fideslang:?}",
                path.display()
            );
        }
    }
    let speaker = notice::markdown(&manifest(&example("smart-speaker.toml")));
    assert!(speaker.contains("**Sound recordings**: Sound picked up by the microphone"));
}

// ---------------------------------------------------------------------------------------------
// The baby monitor: "your child", and the safeguard by name

#[test]
fn a_product_for_children_speaks_of_your_child() {
    let m = manifest(BABY);
    let md = notice::markdown(&m);
    assert!(md.contains("This data is about your child"), "{md}");
    assert!(!md.contains("This data is about you:"), "{md}");
    let html = notice::html(&m).expect("renders");
    assert!(html.contains("This data is about your child"));
    // A product for adults still speaks to the reader.
    let adults = BABY.replace("audience = \"children\"", "audience = \"adults\"");
    assert!(notice::markdown(&manifest(&adults)).contains("This data is about you: each person"));
}

#[test]
fn the_rights_of_a_childrens_product_speak_of_your_childs_data() {
    let m = manifest(BABY);
    let md = notice::markdown(&m);
    let rights = md
        .split("## Your rights and how to use them")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("rights section");
    for phrase in [
        "See your child's data",
        "everything we hold about your child at any time",
        "You can delete your child's data at any time",
        "If something we hold about your child is wrong",
        "Take your child's data elsewhere",
        "how we handle your child's data",
    ] {
        assert!(rights.contains(phrase), "{phrase:?} missing from {rights}");
    }
    for second_person in ["about you ", "your data"] {
        assert!(
            !rights.contains(second_person),
            "{second_person:?} in {rights}"
        );
    }
    let html = notice::html(&m).expect("renders");
    assert!(
        html.contains("See your child&#39;s data") || html.contains("See your child&#x27;s data")
    );
    assert!(!html.contains("hold about you "), "{html}");
    // A product for adults still speaks of the reader's own data.
    let adults = notice::markdown(&manifest(
        &BABY.replace("audience = \"children\"", "audience = \"adults\""),
    ));
    assert!(adults.contains("everything we hold about you at any time"));
    assert!(adults.contains("You can delete your data at any time"));
    assert!(!adults.contains("your child's data"));
}

#[test]
fn data_subjects_are_in_plain_words_and_a_child_is_not_other_people_in_a_childrens_product() {
    let for_children = |src: &str| {
        let m = manifest(src);
        (notice::markdown(&m), notice::html(&m).expect("renders"))
    };
    let (md, html) = for_children(BABY);
    for out in [&md, &html] {
        assert!(!out.contains("other people: Child"), "{out}");
        assert!(!out.contains("Child."), "{out}");
        assert!(
            out.contains("It may capture your child and other children nearby."),
            "{out}"
        );
    }
    // A children's product that may also film visitors says so in plain words.
    let (md, html) = for_children(&BABY.replace(
        "data_subjects = [\"child\"]",
        "data_subjects = [\"child\", \"visitor\", \"passerby\"]",
    ));
    for out in [&md, &html] {
        assert!(
            out.contains("It may also capture other people: visitors and passers-by."),
            "{out}"
        );
    }
    // For everyone else, children are other people, in plain words.
    let speaker = notice::markdown(&manifest(&example("smart-speaker.toml")));
    assert!(
        speaker.contains("It may also capture other people: guests and children."),
        "{speaker}"
    );
    let doorbell = notice::markdown(&manifest(&example("video-doorbell.toml")));
    assert!(doorbell.contains("It may also capture other people: visitors and passers-by."));
    assert!(!doorbell.contains("Passer-by") && !doorbell.contains("Visitor"));
    let n = Notice::from_manifest(&manifest(&example("video-doorbell.toml")));
    assert_eq!(n.streams[0].also_captures, ["visitors", "passers-by"]);
}

#[test]
fn the_transfer_safeguard_is_named_in_words_in_both_formats() {
    let m = manifest(BABY);
    let md = notice::markdown(&m);
    assert!(
        md.contains("protected by the UK International Data Transfer Agreement"),
        "{md}"
    );
    let html = notice::html(&m).expect("renders");
    assert!(html.contains("protected by the UK International Data Transfer Agreement"));
    assert!(!html.contains("Safeguard: idta") && !html.contains(">idta<"));
    for (raw, words) in [
        (
            "uk_addendum",
            "the UK Addendum to the EU standard contractual clauses",
        ),
        ("uk_adequacy", "UK adequacy regulations"),
        ("bcrs", "binding corporate rules"),
    ] {
        let m = manifest(&BABY.replace("\"idta\"", &format!("\"{raw}\"")));
        assert!(notice::markdown(&m).contains(&format!("protected by {words}.")));
        let l = Label::from_manifest(&m, &label_cx());
        assert!(label::text(&l).contains("protected by"), "{raw}");
        assert_eq!(l.primary.shared_with[0].safeguard.as_deref(), Some(words));
    }
    // Inside the UK there is no transfer, so nothing to protect it.
    let uk = manifest(&BABY.replace("country = \"US\"", "country = \"GB\""));
    assert!(!notice::markdown(&uk).contains("protected by"));
}

#[test]
fn the_fideslang_export_keeps_the_real_safeguard() {
    let yaml = privet_manifest::fideslang::export(&manifest(BABY)).expect("exports");
    assert!(
        yaml.contains("UK International Data Transfer Agreement"),
        "{yaml}"
    );
    assert!(!yaml.contains("SCCs"), "{yaml}");
}

// ---------------------------------------------------------------------------------------------
// Offline, explicit consent, retention reasons

#[test]
fn the_offline_sentence_reads_right_in_every_case() {
    for (support, expected) in [
        (
            OfflineSupport::Full,
            "Yes: everything works without the internet.",
        ),
        (
            OfflineSupport::None,
            "No: it needs the maker's cloud to work.",
        ),
        (
            OfflineSupport::Partial("Nothing works without the internet.".to_owned()),
            "Nothing works without the internet.",
        ),
        (
            OfflineSupport::Partial("The chime still rings".to_owned()),
            "The chime still rings.",
        ),
    ] {
        assert_eq!(support.plain(), expected);
    }
    let m = manifest(BABY);
    let md = notice::markdown(&m);
    let text = label::text(&Label::from_manifest(&m, &label_cx()));
    for out in [&md, &text] {
        assert!(!out.contains("Partly"), "{out}");
    }
    assert!(md.contains("Works without the internet: Nothing works without the internet."));
}

#[test]
fn explicit_consent_is_mentioned_only_on_special_category_fields() {
    // Heart rate (health) and the route (not special) serve the same consent purpose.
    let src = example("fitness-tracker.toml").replace(
        "purposes = [\"run_maps\"]",
        "purposes = [\"health_tracking\"]",
    );
    let n = Notice::from_manifest(&manifest(&src));
    for s in &n.streams {
        for f in &s.fields {
            let mentions = f.purposes.iter().any(|p| p.condition.is_some());
            let special = f.category.starts_with("user.health_and_medical")
                || f.category.starts_with("user.biometric");
            assert_eq!(mentions, special, "{}.{}", s.id, f.name);
        }
    }
    let md = n.to_markdown();
    let route = md
        .split("#### `route`")
        .nth(1)
        .and_then(|rest| rest.split("####").next())
        .expect("route section");
    assert!(!route.contains("explicit consent"), "{route}");
    assert!(md.contains("you gave your explicit consent"));
}

#[test]
fn a_retention_reason_is_shown_next_to_the_retention() {
    let src = BABY.replace(
        "retention = \"5y\"\ndescription = \"How long your baby slept",
        "retention = \"5y\"\nretention_reason = \"You asked us to keep your baby's sleep diary until school age.\"\ndescription = \"How long your baby slept",
    );
    assert_ne!(src, BABY);
    let m = manifest(&src);
    let md = notice::markdown(&m);
    assert!(md.contains(
        "- How long we keep it: 5 years\n- Why we keep it that long: You asked us to keep your baby's sleep diary until school age."
    ), "{md}");
    let html = notice::html(&m).expect("renders");
    assert!(html.contains("Why we keep it that long"));
}

// ---------------------------------------------------------------------------------------------
// The children's section and the label

#[test]
fn the_childrens_section_is_drawn_from_the_manifest() {
    let speaker = &example("smart-speaker.toml");
    let c = Notice::from_manifest(&manifest(speaker))
        .children
        .expect("the speaker is for all ages");
    let all: Vec<&String> = c.intro.iter().chain(&c.outro).collect();
    let has = |needle: &str| all.iter().any(|l| l.contains(needle));
    assert!(has("It can hear you."), "{all:?}");
    assert!(
        has("We delete sound recordings within 6 months."),
        "{all:?}"
    );
    assert!(has("Nimbus Speech Inc"), "{all:?}");
    assert!(has("switch off again"), "{all:?}");
    assert_eq!(
        c.switched_off,
        [
            "Keep copies of your requests to make voice recognition better. Our staff listen to a few of them. This is off until you turn it on."
        ]
    );
    // The baby monitor hears and sees, shares with its own processor, and has nothing optional.
    let baby = Notice::from_manifest(&manifest(BABY))
        .children
        .expect("for children");
    let all: Vec<&String> = baby.intro.iter().chain(&baby.outro).collect();
    assert!(all.iter().any(|l| *l == "It can hear you and see you."));
    assert!(all.iter().any(|l| l.contains("Cloudy Sound Inc")));
    assert!(!all.iter().any(|l| l.contains("switch off again")));
    assert!(baby.switched_off.is_empty());
    // A product for adults has no children's section.
    assert!(
        Notice::from_manifest(&manifest(&example("video-doorbell.toml")))
            .children
            .is_none()
    );
}

#[test]
fn the_label_says_when_a_product_is_made_for_children() {
    let baby = Label::from_manifest(&manifest(BABY), &label_cx());
    let text = label::text(&baby);
    assert!(
        text.contains("Made for                Children: this product is made for children"),
        "{text}"
    );
    let json = label::json(std::slice::from_ref(&baby)).expect("json");
    assert!(json.contains("\"audience\": \"children\""), "{json}");
    assert!(json.contains("\"made_for\": \"Children: this product is made for children\""));
    let html = label::html(std::slice::from_ref(&baby)).expect("html");
    assert!(html.contains("Children: this product is made for children"));
    let doorbell = Label::from_manifest(&manifest(&example("video-doorbell.toml")), &label_cx());
    assert!(!label::text(&doorbell).contains("made for children"));
}

// ---------------------------------------------------------------------------------------------
// Readability

/// Markdown without code spans, headings' hashes, list markers and emphasis.
fn strip_code(md: &str) -> String {
    let mut out = String::new();
    let mut in_code = false;
    for c in md.chars() {
        if c == '`' {
            in_code = !in_code;
        } else if !in_code {
            out.push(c);
        }
    }
    out
}

/// The sentences of a notice: each paragraph or list item, split at full stops, with law
/// references ("UK GDPR Art. 6(1)(b)") and the attribution left out, since they are not prose.
fn sentences(md: &str) -> Vec<String> {
    let prose = strip_code(md)
        .replace("Art. ", "Art ")
        .replace("e.g.", "for example");
    let mut out = Vec::new();
    for line in prose.lines() {
        let line = line
            .trim_start_matches(['#', '-', ' ', '*'])
            .replace("**", "")
            .replace('*', "");
        if line.is_empty() || line.starts_with("Data categories, uses and subjects") {
            continue;
        }
        for s in line.split_inclusive(['.', '!', '?', ':']) {
            let words = s.split_whitespace().count();
            if words > 0 {
                out.push(s.trim().to_owned());
            }
        }
    }
    out
}

/// Syllables in a word, estimated from vowel groups (a silent final "e" does not count).
fn syllables(word: &str) -> usize {
    let w: Vec<char> = word
        .to_lowercase()
        .chars()
        .filter(char::is_ascii_alphabetic)
        .collect();
    if w.is_empty() {
        return 1;
    }
    let vowel = |c: char| "aeiouy".contains(c);
    let mut count = 0;
    let mut prev = false;
    for &c in &w {
        let v = vowel(c);
        if v && !prev {
            count += 1;
        }
        prev = v;
    }
    if w.len() > 2 && w.ends_with(&['e']) && !w.ends_with(&['l', 'e']) {
        count -= 1;
    }
    count.max(1)
}

/// Flesch–Kincaid grade level: `0.39 × words/sentence + 11.8 × syllables/word − 15.59`.
fn flesch_kincaid_grade(sentences: &[String]) -> f64 {
    let words: Vec<&str> = sentences
        .iter()
        .flat_map(|s| s.split_whitespace())
        .collect();
    let syllable_count: usize = words.iter().map(|w| syllables(w)).sum();
    let (w, s, y) = (
        words.len() as f64,
        sentences.len() as f64,
        syllable_count as f64,
    );
    0.39 * (w / s) + 11.8 * (y / w) - 15.59
}

#[test]
fn readability_measures_behave() {
    let plain = vec!["We keep it for a year.".to_owned(), "Ask us.".to_owned()];
    let legal = vec![
        "Notwithstanding the aforementioned considerations, the organisation's processing activities necessitate comprehensive documentation.".to_owned(),
    ];
    assert!(flesch_kincaid_grade(&plain) < 3.0);
    assert!(flesch_kincaid_grade(&legal) > 15.0);
    assert_eq!(syllables("delete"), 2);
    assert_eq!(syllables("table"), 2);
}

/// Limits every example's notice meets, with a little room: a Flesch–Kincaid grade of 6
/// (a reading age of about 11), sentences of 10 words on average and none past 32. (List
/// items and headings count as sentences; the law references are left out.)
const MAX_GRADE: f64 = 6.0;
const MAX_AVERAGE_WORDS: f64 = 10.0;
const MAX_SENTENCE_WORDS: usize = 32;

#[test]
fn every_example_notice_is_readable() {
    for (path, text) in examples()
        .into_iter()
        .chain([(PathBuf::from("baby"), BABY.to_owned())])
    {
        let md = notice::markdown(&manifest(&text));
        let s = sentences(&md);
        let grade = flesch_kincaid_grade(&s);
        let words: Vec<usize> = s.iter().map(|x| x.split_whitespace().count()).collect();
        let average = words.iter().sum::<usize>() as f64 / words.len() as f64;
        let (longest, at) = words
            .iter()
            .zip(&s)
            .max_by_key(|(n, _)| **n)
            .map(|(n, x)| (*n, x.clone()))
            .unwrap_or_default();
        println!(
            "{}: grade {grade:.1}, {average:.1} words a sentence, longest {longest}",
            path.display()
        );
        assert!(grade <= MAX_GRADE, "{}: grade {grade:.1}", path.display());
        assert!(
            average <= MAX_AVERAGE_WORDS,
            "{}: {average:.1} words a sentence",
            path.display()
        );
        assert!(
            longest <= MAX_SENTENCE_WORDS,
            "{}: {longest} words in {at:?}",
            path.display()
        );
    }
}
