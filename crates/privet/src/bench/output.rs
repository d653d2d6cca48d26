//! What every bench shows the same way: progress bars on a terminal, the `ratio` line,
//! targets as met or MISSED, and the exit code.

use crate::simulate::thousands;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

/// A progress bar of `len` steps labelled `what` on stderr, hidden when stderr is no terminal.
pub(super) fn bar(len: u64, what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    let template = format!(
        "{what:>10} [{{elapsed_precise}}] {{bar:30}} {{pos}}/{{len}} ({{per_sec}}, eta {{eta}})"
    );
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// `met` or `MISSED`.
pub(super) fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}

/// A throughput target and whether `rate` met it: `≥ 100,000 events/s: met`.
pub(super) fn rate_target(rate: f64, target: f64, unit: &str) -> String {
    format!(
        "≥ {} {unit}/s: {}",
        thousands(target as u64),
        verdict(rate >= target)
    )
}

/// Prints the line a bench's result is read from: `ratio`, at column 0, then `what = value`.
/// Every bench prints exactly one, so scripts and `tests/bench_cli.rs` find it alike.
pub(super) fn print_ratio(what: &str, ratio: f64, decimals: usize) {
    println!("ratio     {what} = {ratio:.decimals$}");
}

/// A bench exits 1 when its checks fail (a missed target is not a failure).
pub(super) fn exit_code(ok: bool) -> ExitCode {
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
