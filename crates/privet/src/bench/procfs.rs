//! What Linux reports about a process in `/proc`: resident memory (read once, or sampled
//! through a run) and bytes written.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// Which process: this one or a child by pid.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Proc {
    /// The bench itself.
    SelfProcess,
    /// A child process.
    Pid(u32),
}

impl Proc {
    fn file(self, name: &str) -> PathBuf {
        match self {
            Proc::SelfProcess => PathBuf::from(format!("/proc/self/{name}")),
            Proc::Pid(pid) => PathBuf::from(format!("/proc/{pid}/{name}")),
        }
    }

    /// The value of `key` (in kB) in `status`.
    fn status_kib(self, key: &str) -> Option<u64> {
        let text = std::fs::read_to_string(self.file("status")).ok()?;
        field(&text, key)
    }

    /// Resident memory now, in bytes (`VmRSS`).
    pub(crate) fn rss(self) -> Option<u64> {
        self.status_kib("VmRSS").map(|k| k * 1024)
    }

    /// Peak resident memory over the process's life, in bytes (`VmHWM`).
    pub(crate) fn peak_rss(self) -> Option<u64> {
        self.status_kib("VmHWM").map(|k| k * 1024)
    }

    /// Resets the peak resident memory (`VmHWM`) to the current resident size, so a later
    /// [`Proc::peak_rss`] covers only what follows (Linux ≥ 4.0: `5` to `clear_refs`).
    /// Returns whether the kernel took it.
    pub(crate) fn reset_peak_rss(self) -> bool {
        std::fs::write(self.file("clear_refs"), "5").is_ok()
    }

    /// CPU time (user and system, all threads, living or ended) used so far, from `stat`.
    pub(crate) fn cpu(self) -> Option<Duration> {
        let text = std::fs::read_to_string(self.file("stat")).ok()?;
        cpu_of_stat(&text)
    }

    /// Bytes the process caused to be written to storage so far (`write_bytes` in `io`).
    pub(crate) fn written(self) -> Option<u64> {
        let text = std::fs::read_to_string(self.file("io")).ok()?;
        field(&text, "write_bytes")
    }
}

/// A task reading a process's resident memory at a fixed interval and keeping the highest, for
/// a peak that `VmHWM` alone cannot give (it cannot always be reset, and covers the whole life).
pub(crate) struct RssSampler {
    done: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl RssSampler {
    /// Reads `proc`'s resident memory now, then every `every` until stopped.
    pub(crate) fn start(proc: Proc, every: Duration) -> RssSampler {
        let done = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(proc.rss().unwrap_or(0)));
        let task = tokio::spawn({
            let (done, peak) = (done.clone(), peak.clone());
            async move {
                while !done.load(Ordering::Relaxed) {
                    if let Some(rss) = proc.rss() {
                        peak.fetch_max(rss, Ordering::Relaxed);
                    }
                    tokio::time::sleep(every).await;
                }
            }
        });
        RssSampler { done, peak, task }
    }

    /// Stops sampling and returns the highest resident memory read (bytes; 0 if none could be).
    pub(crate) async fn stop(self) -> u64 {
        self.done.store(true, Ordering::Relaxed);
        let _ = self.task.await;
        self.peak.load(Ordering::Relaxed)
    }
}

/// Clock ticks per second of `utime` and `stime`: `USER_HZ`, 100 on every Linux ABI Privet
/// builds for (the kernel fixes it; `getconf CLK_TCK` shows it).
const TICKS_PER_SECOND: u64 = 100;

/// `utime + stime` of a `/proc/<pid>/stat` line. The command name (field 2) may hold spaces
/// and parentheses, so fields are counted from the last `)`.
fn cpu_of_stat(stat: &str) -> Option<Duration> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After `)`: state is field 3, so utime (14) and stime (15) are at 11 and 12.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_millis(
        (utime + stime) * 1000 / TICKS_PER_SECOND,
    ))
}

/// CPU time used so far by every process whose command name is `command` (the local
/// PostgreSQL server's processes: `postgres`); `None` when there is none to see. Processes that
/// ended in between take their time with them.
pub(crate) fn cpu_of_command(command: &str) -> Option<Duration> {
    let mut total = Duration::ZERO;
    let mut seen = false;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let name = entry.file_name();
        if !name
            .to_str()
            .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
        {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        if comm_of_stat(&stat) == Some(command)
            && let Some(cpu) = cpu_of_stat(&stat)
        {
            total += cpu;
            seen = true;
        }
    }
    seen.then_some(total)
}

/// The command name of a `/proc/<pid>/stat` line (field 2, in parentheses).
fn comm_of_stat(stat: &str) -> Option<&str> {
    stat.get(stat.find('(')? + 1..stat.rfind(')')?)
}

/// The first number after `key:` on its line.
fn field(text: &str, key: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// Bytes as MiB or GiB for people.
pub(crate) fn mib(bytes: u64) -> String {
    let m = bytes as f64 / (1024.0 * 1024.0);
    if m >= 1024.0 {
        format!("{:.2} GiB", m / 1024.0)
    } else {
        format!("{m:.1} MiB")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_read_by_key() {
        let status = "Name:\tprivet\nVmHWM:\t  123456 kB\nVmRSS:\t   65432 kB\n";
        assert_eq!(field(status, "VmHWM"), Some(123_456));
        assert_eq!(field(status, "VmRSS"), Some(65_432));
        assert_eq!(field(status, "VmSwap"), None);
        assert_eq!(
            field("rchar: 10\nwrite_bytes: 4096\n", "write_bytes"),
            Some(4096)
        );
    }

    #[test]
    fn cpu_time_is_utime_plus_stime_counted_from_the_last_parenthesis() {
        let stat = "4926 (a (b) c) R 4923 4923 19334 0 -1 4194304 99 0 0 0 250 30 0 0 20 0 1 0";
        assert_eq!(cpu_of_stat(stat), Some(Duration::from_millis(2_800)));
        assert_eq!(comm_of_stat(stat), Some("a (b) c"));
        assert_eq!(cpu_of_stat("1 (x) R 1 2"), None);
    }

    #[test]
    fn this_process_has_a_resident_size() {
        let rss = Proc::SelfProcess.rss().unwrap();
        assert!(rss > 0 && Proc::SelfProcess.peak_rss().unwrap() >= rss);
        assert_eq!(mib(3 * 1024 * 1024 / 2), "1.5 MiB");
    }
}
