//! End-to-end: brute-force protection on sign-in. Repeated failures meet 429 with Retry-After
//! and a growing backoff, the real owner gets back in after waiting, and an unknown e-mail
//! answers exactly like a wrong password. The server runs on a manual clock, so waiting is
//! moving it (`Server::advance_clock`), not sleeping.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod e2e_security_support;
mod support;

use e2e_security_support::*;
use std::time::{Duration, Instant};
use support::*;

/// A server on a manual clock standing at the time the test starts.
fn serve_on_a_clock(inst: &Instance) -> Server {
    inst.set_clock(&ago(0));
    inst.serve()
}

/// Seconds to wait, from a 429's `Retry-After` (delta-seconds form).
fn retry_after(r: &Resp) -> u64 {
    let v = r.header("retry-after");
    v.parse()
        .unwrap_or_else(|_| panic!("429 without a numeric Retry-After ({v:?}): {}", r.body))
}

#[test]
fn repeated_wrong_passwords_meet_429_and_the_owner_signs_in_after_retry_after() {
    let inst = Instance::new();
    let server = serve_on_a_clock(&inst);
    let ada = owner(&server, "Brute");
    let bystander = owner(&server, "Bystander");
    let wrong = login(&server, &ada.email, "wrong horse battery staple", None).problem(401);

    // An attacker guesses quickly; after a few failures every answer is a 429.
    let mut statuses = vec![401];
    let mut first_429 = None;
    for i in 0..8 {
        let r = login(
            &server,
            &ada.email,
            &format!("guess number {i} of many"),
            None,
        );
        statuses.push(r.status);
        if r.status == 429 {
            r.problem(429);
            first_429.get_or_insert_with(|| retry_after(&r));
        } else {
            assert_eq!(r.problem(401), wrong, "every failure answers alike");
        }
    }
    println!("statuses of 9 quick wrong guesses: {statuses:?}");
    let wait = first_429.unwrap_or_else(|| panic!("no 429 after 9 failures: {statuses:?}"));
    assert!(
        (1..=4).contains(&wait),
        "the first backoffs are short: {wait}"
    );
    assert!(
        statuses.iter().filter(|s| **s == 401).count() >= 3,
        "a few honest typos are free: {statuses:?}"
    );
    // While blocked, even the right password gets a 429 (so it reveals nothing).
    let r = login(&server, &ada.email, &ada.password, None);
    assert_eq!(r.status, 429, "{}", r.body);
    // Another account is not affected.
    login(&server, &bystander.email, &bystander.password, None).expect(200);

    // Backoff grows: wait it out, fail once more, and the next block is twice as long.
    server.advance_clock(i64::try_from(retry_after(&r)).unwrap());
    login(&server, &ada.email, "one more wrong guess", None).problem(401);
    let r = login(&server, &ada.email, "and yet another one", None);
    assert_eq!(r.status, 429, "{}", r.body);
    let longer = retry_after(&r);
    println!("Retry-After after one more failure: {longer} s (was {wait} s)");
    assert_eq!(longer, 2 * wait, "the backoff doubles");
    // A moment too early is still refused: Retry-After does not undercut the block.
    server.advance_clock(i64::try_from(longer).unwrap() - 1);
    assert_eq!(login(&server, &ada.email, &ada.password, None).status, 429);

    // The owner waits as told, then signs in with the right password.
    server.advance_clock(1);
    let r = login(&server, &ada.email, &ada.password, None);
    assert_eq!(
        r.status, 200,
        "after waiting Retry-After ({longer} s) the owner must get in: {}",
        r.body
    );
    get_as(&server, &session_cookie(&r), "/v1/auth/me").expect(200);
    // Success forgives: the next typo is a plain 401, not a 429.
    login(&server, &ada.email, "an honest typo here", None).problem(401);
    login(&server, &ada.email, &ada.password, None).expect(200);
}

#[test]
fn an_unknown_email_fails_exactly_like_a_wrong_password() {
    let inst = Instance::new();
    let server = inst.serve();
    let ada = owner(&server, "Enum");
    let unknown = email("Nobody");
    let mut known_times = Vec::new();
    let mut unknown_times = Vec::new();
    let mut answers = Vec::new();
    for i in 0..3 {
        let t = Instant::now();
        let a = login(&server, &ada.email, &format!("not the password {i}"), None);
        known_times.push(t.elapsed());
        let t = Instant::now();
        let b = login(&server, &unknown, &format!("not the password {i}"), None);
        unknown_times.push(t.elapsed());
        answers.push((a, b));
    }
    for (a, b) in &answers {
        assert_eq!(a.problem(401), b.problem(401), "same problem body");
        assert_eq!(a.header("content-type"), b.header("content-type"));
        assert_eq!(a.header("www-authenticate"), b.header("www-authenticate"));
        assert!(set_cookies(a).is_empty() && set_cookies(b).is_empty());
    }
    let detail = answers[0].0.json()["detail"].as_str().unwrap().to_owned();
    assert!(
        !detail.contains(&ada.email) && !detail.contains(&unknown),
        "the detail names no e-mail: {detail}"
    );
    // A malformed e-mail is no different either.
    assert_eq!(
        login(&server, "not-an-email", "whatever it is", None).problem(401)["detail"],
        detail.as_str()
    );
    // Timing is printed, not asserted (a shared CI machine is too noisy): both spend one
    // Argon2id verification.
    let ms = |v: &[Duration]| -> Vec<u128> { v.iter().map(Duration::as_millis).collect() };
    println!(
        "login timing (ms): wrong password {:?}, unknown e-mail {:?}",
        ms(&known_times),
        ms(&unknown_times)
    );
}

#[test]
fn many_failures_from_one_address_are_slowed_down_too() {
    let inst = Instance::new();
    let server = serve_on_a_clock(&inst);
    // Password spraying: one guess each at many (here unknown) accounts from one address.
    let mut statuses = Vec::new();
    let mut wait = None;
    for i in 0..24 {
        let r = login(
            &server,
            &email(&format!("Spray{i}")),
            "summer spray guess",
            None,
        );
        statuses.push(r.status);
        if r.status == 429 {
            wait.get_or_insert_with(|| retry_after(&r));
        }
    }
    println!("statuses of 24 sprayed guesses: {statuses:?}");
    assert!(
        statuses.iter().take(20).all(|s| *s == 401),
        "20 failures from one address are free: {statuses:?}"
    );
    let wait = wait.unwrap_or_else(|| panic!("no 429 from one address: {statuses:?}"));
    assert!((1..=4).contains(&wait), "{wait}");
    // Waiting as told lets the next attempt through.
    server.advance_clock(i64::try_from(wait).unwrap());
    login(&server, &email("Spray99"), "summer spray guess", None).problem(401);
}
