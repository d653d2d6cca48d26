//! Request latencies in a log-linear histogram: bounded memory however long a fleet runs,
//! exact below 64 µs and within 1/32 (about 3 %) above.

use std::fmt;
use std::time::Duration;

/// Values below this (in µs) each have their own bucket.
const LINEAR: u64 = 64;
/// Buckets per power of two above [`LINEAR`].
const SUB: u64 = 32;
/// Enough buckets for any `u64` of microseconds.
const BUCKETS: usize = (LINEAR + (63 - 6 + 1) * SUB) as usize;

/// A histogram of durations.
#[derive(Clone)]
pub(crate) struct Latencies {
    counts: Vec<u64>,
    count: u64,
    max_us: u64,
}

impl Default for Latencies {
    fn default() -> Self {
        Latencies {
            counts: vec![0; BUCKETS],
            count: 0,
            max_us: 0,
        }
    }
}

fn bucket(us: u64) -> usize {
    if us < LINEAR {
        return us as usize;
    }
    let bits = 63 - u64::from(us.leading_zeros());
    let shift = bits - 5;
    let mantissa = us >> shift;
    (LINEAR + (shift - 1) * SUB + (mantissa - SUB)) as usize
}

/// The largest value (in µs) that falls in bucket `index`.
fn upper(index: usize) -> u64 {
    let i = index as u64;
    if i < LINEAR {
        return i;
    }
    let shift = (i - LINEAR) / SUB + 1;
    let mantissa = (i - LINEAR) % SUB + SUB;
    (mantissa << shift) + ((1 << shift) - 1)
}

impl Latencies {
    /// Adds one observation.
    pub(crate) fn record(&mut self, d: Duration) {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        self.counts[bucket(us)] += 1;
        self.count += 1;
        self.max_us = self.max_us.max(us);
    }

    /// Adds every observation of `other`.
    pub(crate) fn merge(&mut self, other: &Latencies) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.count += other.count;
        self.max_us = self.max_us.max(other.max_us);
    }

    /// How many observations.
    #[cfg(test)]
    pub(crate) fn count(&self) -> u64 {
        self.count
    }

    /// The `p`-th percentile (nearest rank: the smallest value at least `p` % of the
    /// observations do not exceed), or `None` when empty. `p` is clamped to 0..=100.
    pub(crate) fn percentile(&self, p: f64) -> Option<Duration> {
        if self.count == 0 {
            return None;
        }
        let p = p.clamp(0.0, 100.0);
        // Nearest rank: ceil(p/100 * n), at least 1.
        let rank = ((p / 100.0) * self.count as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Some(Duration::from_micros(upper(i).min(self.max_us)));
            }
        }
        Some(Duration::from_micros(self.max_us))
    }

    /// The largest observation.
    pub(crate) fn max(&self) -> Option<Duration> {
        (self.count > 0).then(|| Duration::from_micros(self.max_us))
    }
}

/// Formats a duration for people: µs, ms or s with three significant figures.
pub(crate) fn human(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1_000.0 {
        format!("{us:.0} µs")
    } else if us < 1_000_000.0 {
        format!("{:.1} ms", us / 1e3)
    } else {
        format!("{:.2} s", us / 1e6)
    }
}

/// `p50 … p90 … p99 … max …`, or `no requests`.
impl fmt::Display for Latencies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (Some(p50), Some(p90), Some(p99), Some(max)) = (
            self.percentile(50.0),
            self.percentile(90.0),
            self.percentile(99.0),
            self.max(),
        ) else {
            return f.write_str("no requests");
        };
        write!(
            f,
            "p50 {}, p90 {}, p99 {}, max {}",
            human(p50),
            human(p90),
            human(p99),
            human(max)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(us: impl IntoIterator<Item = u64>) -> Latencies {
        let mut l = Latencies::default();
        for v in us {
            l.record(Duration::from_micros(v));
        }
        l
    }

    fn us(d: Option<Duration>) -> u64 {
        d.map_or(u64::MAX, |d| d.as_micros() as u64)
    }

    #[test]
    fn percentiles_are_nearest_rank_and_exact_for_small_values() {
        let l = of(1..=50);
        assert_eq!(us(l.percentile(50.0)), 25);
        assert_eq!(us(l.percentile(90.0)), 45);
        assert_eq!(us(l.percentile(99.0)), 50);
        assert_eq!(us(l.percentile(0.0)), 1);
        assert_eq!(us(l.percentile(100.0)), 50);
        assert_eq!(us(l.max()), 50);
        let one = of([7]);
        assert_eq!(us(one.percentile(50.0)), 7);
        assert_eq!(us(one.percentile(99.9)), 7);
    }

    #[test]
    fn percentiles_of_large_values_are_within_three_percent() {
        let values: Vec<u64> = (1..=10_000).map(|i| i * 1_000).collect();
        let l = of(values.iter().copied());
        for (p, exact) in [
            (50.0, 5_000_000.0),
            (90.0, 9_000_000.0),
            (99.0, 9_900_000.0),
        ] {
            let got = us(l.percentile(p)) as f64;
            assert!(
                got >= exact && (got - exact) / exact <= 1.0 / 32.0,
                "p{p}: {got} vs {exact}"
            );
        }
        assert_eq!(us(l.max()), 10_000_000);
        assert_eq!(us(l.percentile(100.0)), 10_000_000);
    }

    #[test]
    fn buckets_are_contiguous_and_ordered() {
        let mut last = 0;
        for v in (0..200_000u64).chain([u64::MAX / 2, u64::MAX]) {
            let b = bucket(v);
            assert!(b >= last, "{v}");
            assert!(b < BUCKETS, "{v}");
            assert!(upper(b) >= v, "{v}: upper {}", upper(b));
            last = b;
        }
        assert_eq!(bucket(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn merging_adds_counts_and_keeps_the_max() {
        let mut a = of([10, 20]);
        a.merge(&of([30_000]));
        assert_eq!(a.count(), 3);
        assert_eq!(us(a.max()), 30_000);
        assert_eq!(us(a.percentile(50.0)), 20);
        assert!(Latencies::default().percentile(50.0).is_none());
        assert_eq!(Latencies::default().to_string(), "no requests");
    }
}
