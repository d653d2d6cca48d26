//! End-to-end: erasure by crypto-shredding — the signed receipt (verified in Rust and by an
//! independent JOSE implementation), nothing of the subject readable afterwards, household
//! erasure with its members and devices, and a forensic scan of the data directory.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod e2e_rights_support;
mod support;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use e2e_rights_support::*;
use serde_json::{Value, json};
use std::time::Instant;
use support::*;

/// The receipt with its payload replaced (same header and signature).
fn tampered(jws: &str, payload: &Value) -> String {
    let mut parts = jws.split('.');
    let header = parts.next().unwrap();
    let _ = parts.next().unwrap();
    let signature = parts.next().unwrap();
    format!(
        "{header}.{}.{signature}",
        URL_SAFE_NO_PAD.encode(payload.to_string())
    )
}

#[test]
fn the_erasure_receipt_verifies_in_rust_and_with_jwcrypto_and_a_tampered_one_fails_both() {
    let (inst, _admin, support, server, home) = consenting_home();
    server.ingest_ok(
        &home.token,
        &json!([
            presence(&ago(30), &home.member, true),
            presence(&ago(20), &home.member, false),
            presence(&ago(10), &home.member, true),
        ]),
    );

    let r = erase(&server, &support, &home.member).expect(200);
    assert_eq!(r["subject"], home.member.as_str());
    assert_eq!(r["kind"], "member");
    assert_eq!(r["jwks_uri"], "/.well-known/jwks.json");
    assert_eq!(
        r["counts"],
        json!({"subjects": 1, "keys": 1, "records": 3, "consents": 1, "devices": 0})
    );
    let jws = r["receipt"].as_str().unwrap();
    assert_eq!(jws.split('.').count(), 3, "compact serialisation: {jws}");
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(jws.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "EdDSA", "{header}");

    // (a) In Rust, against the served JWK set.
    let jwks = jwks(&server);
    assert!(
        jwks["keys"]
            .as_array()
            .is_some_and(|k| !k.is_empty() && k.iter().all(|k| k.get("d").is_none())),
        "public keys only: {jwks}"
    );
    let claims = privet_crypto::verify_jws_with_jwks(&jwks, jws).expect("receipt verifies");
    assert_eq!(claims["sub"], home.member.as_str());
    assert_eq!(claims["kind"], "member");
    assert_eq!(claims["counts"], r["counts"]);
    let erased_at: jiff::Timestamp = r["erased_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(claims["iat"], json!(erased_at.as_second()));

    // A tampered receipt (more records claimed) fails.
    let mut forged_claims = claims.clone();
    forged_claims["counts"]["records"] = json!(3000);
    let forged = tampered(jws, &forged_claims);
    assert!(privet_crypto::verify_jws_with_jwks(&jwks, &forged).is_err());
    // So does a changed signature (a character well inside it: the last one carries padding
    // bits that lenient decoders ignore).
    let mut chars: Vec<char> = jws.chars().collect();
    let at = chars.len() - 10;
    chars[at] = if chars[at] == 'A' { 'B' } else { 'A' };
    let bad_sig: String = chars.into_iter().collect();
    assert!(privet_crypto::verify_jws_with_jwks(&jwks, &bad_sig).is_err());

    // (b) With an independent JOSE implementation.
    let Some(python) = jose_python() else {
        println!("skipped: jwcrypto not installed");
        return;
    };
    let (ok, stdout, stderr) = verify_with_jwcrypto(&python, inst.root(), &jwks, jws);
    assert!(ok, "jwcrypto rejected a genuine receipt: {stderr}");
    let printed: Value = serde_json::from_str(&stdout).expect("claims printed as JSON");
    assert_eq!(printed, claims);
    for bad in [&forged, &bad_sig] {
        let (ok, stdout, _) = verify_with_jwcrypto(&python, inst.root(), &jwks, bad);
        assert!(!ok, "jwcrypto accepted a tampered receipt: {stdout}");
    }
    // And a receipt checked against another instance's key set fails too.
    let other = Instance::new();
    other.key("admin", &[]);
    let other_server = other.serve();
    let other_jwks = e2e_rights_support::jwks(&other_server);
    assert!(privet_crypto::verify_jws_with_jwks(&other_jwks, jws).is_err());
    let (ok, _, _) = verify_with_jwcrypto(&python, other.root(), &other_jwks, jws);
    assert!(
        !ok,
        "jwcrypto accepted a receipt under another instance's key"
    );
}

#[test]
fn after_erasing_a_member_export_reads_and_consents_hold_nothing_of_them() {
    let inst = Instance::new();
    let (admin, support) = inst.operators();
    let analyst = inst.key("analyst", &["energy_report", "request_history"]);
    let server = inst.serve();
    let household = server.household(&admin, &marker("Household"));
    let gone = server.member(&admin, &household, &marker("Gone"), false);
    let stays = server.member(&admin, &household, &marker("Stays"), false);
    let (_, thermostat) = server.device(&admin, THERMOSTAT, Some(&household), None);
    let (_, speaker) = server.device(&admin, SPEAKER, Some(&household), None);
    let secret = marker("Transcript");
    for m in [&gone, &stays] {
        server.consent_ok(&support, m, "energy_report", true);
    }
    server.ingest_ok(
        &thermostat,
        &json!([
            presence(&ago(30), &gone, true),
            presence(&ago(30), &stays, true)
        ]),
    );
    server.ingest_ok(
        &speaker,
        &json!([
            voice(&ago(20), &gone, &secret),
            voice(&ago(20), &stays, "weather please")
        ]),
    );
    // Before: the analyst sees both members; note the erased one's pseudonym.
    let before = server.records(&analyst, &[("purpose", "energy_report")]);
    assert_eq!(before.len(), 2);
    let gone_pseudonym = server.records(
        &analyst,
        &[("purpose", "energy_report"), ("subject", &gone)],
    )[0]["subject"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        server
            .records(&analyst, &[("purpose", "request_history")])
            .iter()
            .any(|r| r["data"]["transcript"] == secret.as_str())
    );

    erase(&server, &support, &gone).expect(200);

    export(&server, &support, &gone).problem(404);
    server
        .get(
            &format!("/v1/subjects/{gone}/consents"),
            Some(&support.secret),
        )
        .problem(404);
    erase(&server, &support, &gone).problem(404);
    for purpose in ["energy_report", "request_history"] {
        let after = server.records(&analyst, &[("purpose", purpose)]);
        assert_eq!(after.len(), 1, "{purpose}: {after:?}");
        assert!(
            after
                .iter()
                .all(|r| r["subject"] != gone_pseudonym.as_str())
        );
        assert!(!serde_json::to_string(&after).unwrap().contains(&secret));
        let r = server.events(&analyst, &[("purpose", purpose), ("subject", &gone)]);
        assert!(
            r.status == 404 || r.json()["records"].as_array().is_some_and(Vec::is_empty),
            "{r:?}"
        );
    }
    // The other member is untouched; the household no longer lists the erased one.
    let ex = export_json(&server, &support, &stays);
    assert_eq!(
        values_of(&ex, "voice", "transcript"),
        vec![json!("weather please")]
    );
    let hh = server
        .get(&format!("/v1/households/{household}"), Some(&admin.secret))
        .expect(200);
    let members: Vec<&str> = hh["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(members, vec![stays.as_str()]);
    // The erasure is audited by pseudonym, with its counts.
    let erasures = audit_entries(&server, &admin, "subject.erase");
    assert_eq!(erasures.len(), 1);
    assert_eq!(erasures[0]["subjects"], json!([gone_pseudonym]));
    assert_eq!(erasures[0]["count"], 2);
    // A device cannot send data about an erased member any more.
    let out = server.ingest(&thermostat, &json!([presence(&ago(5), &gone, true)]));
    assert!(out.status == 422 || out.status == 200, "{out:?}");
    if out.status == 200 {
        assert_eq!(out.json()["accepted"], 0, "{}", out.body);
    }
    let (code, text) = inst.audit_verify();
    assert_eq!(code, 0, "{text}");
}

#[test]
fn erasing_a_household_erases_every_member_unlinks_its_devices_and_revokes_their_tokens() {
    let inst = Instance::new();
    let (admin, support) = inst.operators();
    let server = inst.serve();
    let household = server.household(&admin, &marker("Household"));
    let adult = server.member(&admin, &household, &marker("Adult"), false);
    let child = server.member(&admin, &household, &marker("Child"), true);
    let (thermostat_id, thermostat) = server.device(&admin, THERMOSTAT, Some(&household), None);
    let (speaker_id, speaker) = server.device(&admin, SPEAKER, Some(&household), None);
    // Another household that must not be touched.
    let other = server.home(&admin);
    server.ingest_ok(&other.token, &json!([climate(&ago(30), 18.0, 2)]));

    server.consent_ok(&support, &child, "energy_report", true);
    server.consent_ok(&support, &household, "energy_report", true);
    server.ingest_ok(
        &thermostat,
        &json!([
            climate(&ago(40), 20.0, 3),
            climate(&ago(30), 20.5, 4),
            presence(&ago(30), &child, true),
        ]),
    );
    server.ingest_ok(
        &speaker,
        &json!([
            voice(&ago(20), &adult, "lights on"),
            voice(&ago(10), &child, "a story")
        ]),
    );

    let started = Instant::now();
    let r = erase(&server, &support, &household).expect(200);
    println!("household erasure answered in {:?}", started.elapsed());
    assert_eq!(r["kind"], "household");
    // Household + two members; three keys; 2 climate + 1 presence + 2 voice records;
    // two consents; two devices.
    assert_eq!(
        r["counts"],
        json!({"subjects": 3, "keys": 3, "records": 5, "consents": 2, "devices": 2}),
        "{r}"
    );
    let claims =
        privet_crypto::verify_jws_with_jwks(&jwks(&server), r["receipt"].as_str().unwrap())
            .unwrap();
    assert_eq!(claims["sub"], household.as_str());
    assert_eq!(claims["counts"], r["counts"]);

    for id in [&household, &adult, &child] {
        export(&server, &support, id).problem(404);
    }
    server
        .get(&format!("/v1/households/{household}"), Some(&admin.secret))
        .problem(404);
    for (id, token) in [(&thermostat_id, &thermostat), (&speaker_id, &speaker)] {
        let d = server
            .get(&format!("/v1/devices/{id}"), Some(&admin.secret))
            .expect(200);
        assert!(d["household"].is_null(), "{d}");
        assert!(d["member"].is_null(), "{d}");
        assert_eq!(d["revoked"], true, "{d}");
        server
            .ingest(token, &json!([{ "stream": "device_health", "ts": ago(1), "data": { "firmware_version": "1" } }]))
            .problem(401);
    }
    // The other household is intact.
    let ex = export_json(&server, &support, &other.household);
    assert_eq!(
        values_of(&ex, "climate", "temperature_c"),
        vec![json!(18.0)]
    );
    server.ingest_ok(&other.token, &json!([climate(&ago(1), 18.0, 2)]));
}

#[test]
fn after_erasure_no_file_in_the_data_directory_holds_any_plaintext_of_the_subject() {
    let inst = Instance::new();
    let (admin, support) = inst.operators();
    let analyst = inst.key("analyst", &["request_history"]);
    let mut server = inst.serve();
    let household_name = marker("HouseholdName");
    let member_name = marker("MemberName");
    let member_email = email();
    let said = marker("SaidAloud");
    let household = server.household(&admin, &household_name);
    let member = member_with_email(
        &server,
        &admin,
        &household,
        &member_name,
        &member_email,
        false,
    );
    let (_, speaker) = server.device(&admin, SPEAKER, Some(&household), None);
    let (_, thermostat) = server.device(&admin, THERMOSTAT, Some(&household), None);
    // Another household, whose data must survive the erasure (the store is not just wiped).
    let other = server.home(&admin);
    server.ingest_ok(&other.token, &json!([climate(&ago(30), 18.0, 2)]));

    let n = 40;
    let events: Vec<Value> = (0..n)
        .map(|i| voice(&ago(600 - i), &member, &format!("{said} number {i}")))
        .collect();
    assert_eq!(
        server.ingest_ok(&speaker, &Value::Array(events))["accepted"],
        n
    );
    server.ingest_ok(&thermostat, &json!([climate(&ago(30), 21.0, 7)]));
    // The values are really held (and readable) before the erasure.
    let ex = export_json(&server, &support, &member);
    assert_eq!(ex["about"]["subjects"][0]["email"], member_email.as_str());
    assert_eq!(values_of(&ex, "voice", "transcript").len(), n as usize);
    let read = server.records(&analyst, &[("purpose", "request_history")]);
    assert_eq!(read.len(), n as usize);

    // The bytes that must leave the disk with the erasure: each subject's wrapped key (in
    // keyring.db) and sealed profile (in privet.db), read as someone with file access would.
    let mut secrets: Vec<(String, Vec<u8>)> = Vec::new();
    for id in [&household, &member] {
        let sealed = sealed_subject(&inst, id);
        assert!(sealed.wrapped_key.len() >= 32 && sealed.profile.len() >= 32);
        secrets.push((format!("wrapped key of {id}"), sealed.wrapped_key));
        secrets.push((format!("sealed profile of {id}"), sealed.profile));
    }

    // The scan finds them before the erasure (so its silence afterwards means something).
    for (what, bytes) in &secrets {
        assert!(
            inst.data_files()
                .iter()
                .any(|f| contains(&std::fs::read(f).unwrap_or_default(), bytes)),
            "the {what} is not on disk before the erasure"
        );
    }

    let started = Instant::now();
    let r = erase(&server, &support, &household).expect(200);
    println!(
        "erasure of a household with {} records answered in {:?}",
        n + 1,
        started.elapsed()
    );
    assert_eq!(
        r["counts"],
        json!({"subjects": 2, "keys": 2, "records": n + 1, "consents": 0, "devices": 2}),
        "{r}"
    );
    // While the server still runs, with its WAL files in place: the key material is gone.
    let scan = |when: &str| {
        for (what, bytes) in &secrets {
            let hits: Vec<_> = inst
                .data_files()
                .into_iter()
                .filter(|f| contains(&std::fs::read(f).unwrap_or_default(), bytes))
                .collect();
            assert!(hits.is_empty(), "{when}: the {what} is still in {hits:?}");
        }
    };
    scan("right after the erasure");
    for needle in [&household_name, &member_name, &member_email, &said] {
        inst.assert_not_on_disk(needle, "plaintext while running");
    }
    server.stop_ok();
    scan("after the server stopped");

    let files = inst.data_files();
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().any(|n| n == "privet.db"), "{names:?}");
    assert!(names.iter().any(|n| n == "keyring.db"), "{names:?}");
    println!("scanned: {names:?}");
    for (what, needle) in [
        ("household name", household_name.as_str()),
        ("member name", member_name.as_str()),
        ("member e-mail", member_email.as_str()),
        ("transcript marker", said.as_str()),
    ] {
        inst.assert_not_on_disk(needle, what);
        // Nor in the server's log, which lives beside the data directory here.
        let hits = files_under_containing(inst.root(), needle);
        assert!(hits.is_empty(), "{what} `{needle}` found in {hits:?}");
    }
    // Nor the subject's id anywhere in the keyring.
    let keyring = std::fs::read(inst.data.join("keyring.db")).unwrap();
    assert!(!contains(&keyring, member.as_bytes()));

    // Restarted, the rest of the store is intact and the audit chain verifies.
    let (code, text) = inst.audit_verify();
    assert_eq!(code, 0, "{text}");
    let server = inst.serve();
    let ex = export_json(&server, &support, &other.household);
    assert_eq!(
        values_of(&ex, "climate", "temperature_c"),
        vec![json!(18.0)]
    );
    export(&server, &support, &household).problem(404);
    assert!(
        server
            .records(&analyst, &[("purpose", "request_history")])
            .is_empty()
    );
}
