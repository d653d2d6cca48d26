//! What Linux reports about a process in `/proc`: resident memory and bytes written.

use std::path::PathBuf;

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

    /// Bytes the process caused to be written to storage so far (`write_bytes` in `io`).
    pub(crate) fn written(self) -> Option<u64> {
        let text = std::fs::read_to_string(self.file("io")).ok()?;
        field(&text, "write_bytes")
    }
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
    fn this_process_has_a_resident_size() {
        let rss = Proc::SelfProcess.rss().unwrap();
        assert!(rss > 0 && Proc::SelfProcess.peak_rss().unwrap() >= rss);
        assert_eq!(mib(3 * 1024 * 1024 / 2), "1.5 MiB");
    }
}
