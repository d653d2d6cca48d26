//! Cross-checks the TOTP codes against an independent implementation, the
//! OATH Toolkit's `oathtool` (`apt-get install oathtool`), when installed.
//! Without it the test prints "skipped" and passes.

use std::process::Command;

use jiff::Timestamp;
use privet_crypto::{TotpSecret, current_totp_code, os_rng, verify_totp};

/// `oathtool --totp -b SECRET --now DATE`, or `None` if oathtool is missing.
fn oathtool(base32: &str, now: &str) -> Option<String> {
    let output = Command::new("oathtool")
        .args(["--totp", "-b", base32, "--now", now])
        .output()
        .ok()?;
    assert!(
        output.status.success(),
        "oathtool failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

#[test]
fn codes_match_oathtool() {
    if oathtool("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "@59").is_none() {
        // CI installs oathtool and sets PRIVET_REQUIRE_TOOLS: there a missing one is a failure.
        assert!(
            std::env::var_os("PRIVET_REQUIRE_TOOLS").is_none(),
            "`oathtool` is required here (apt install oathtool)"
        );
        println!("skipped: oathtool is not installed");
        return;
    }
    let mut rng = os_rng();
    let times: [u64; 5] = [
        59,
        1_111_111_109,
        1_234_567_890,
        1_800_000_000,
        2_000_000_029,
    ];
    for _ in 0..3 {
        let secret = TotpSecret::generate(&mut rng);
        let base32 = secret.to_base32();
        for t in times {
            // Both the "@seconds" form and a calendar date, as people write it.
            let date = Timestamp::from_second(t as i64)
                .unwrap()
                .strftime("%Y-%m-%d %H:%M:%S UTC")
                .to_string();
            for now in [format!("@{t}"), date] {
                let theirs = oathtool(base32.expose(), &now).unwrap();
                assert_eq!(current_totp_code(&secret, t), theirs, "t = {t}");
                assert_eq!(verify_totp(&secret, &theirs, t, None), Some(t / 30));
            }
        }
    }
}
