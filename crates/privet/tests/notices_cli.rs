//! `privet notices`: the binary embeds third-party data whose licences ask for their notices
//! to ship with it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

#[test]
fn notices_carry_every_embedded_datasets_attribution_and_licence() {
    let out = Command::new(env!("CARGO_BIN_EXE_privet"))
        .arg("notices")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for expected in [
        "Apache License, Version 2.0",
        "© Ethyca, Inc.",
        "Attribution 4.0 International",
        "Copyright (c) Django Software Foundation and individual contributors.",
        "Redistributions in binary form must reproduce the above copyright",
        "Copyright (c) 2012-2016 Dan Wheeler and Dropbox, Inc.",
        "The above copyright notice and this permission notice shall be",
    ] {
        assert!(text.contains(expected), "{expected:?} missing");
    }
}
