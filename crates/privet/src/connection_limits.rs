//! The connection limits `serve` and `demo` run with: the flags' timeouts, and a cap on open
//! connections that fits under the process's open-file limit, raised to its hard limit first.

use crate::cli::ConnectionArgs;
use privet_server::config::{ConnectionLimits, DEFAULT_MAX_CONNECTIONS};
use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
use std::time::Duration;

/// File descriptors kept for everything but client connections: the store's files, the
/// database pool, the MQTT bridge, logs, and backups or exports being written.
const RESERVED_FDS: u64 = 256;

/// Raises the soft open-file limit to the hard one, as Go's runtime does at start: the soft
/// limit (often 1024) is a default for programs that never meant to hold many files, not a
/// decision about this one. Returns the soft limit now in force; `None` when unlimited.
fn raise_open_file_limit() -> Option<u64> {
    let limit = getrlimit(Resource::Nofile);
    if let (Some(soft), Some(hard)) = (limit.current, limit.maximum)
        && hard > soft
        && setrlimit(
            Resource::Nofile,
            Rlimit {
                current: Some(hard),
                maximum: Some(hard),
            },
        )
        .is_ok()
    {
        return Some(hard);
    }
    // An unlimited hard limit is left alone: the kernel refuses a soft limit above
    // `fs.nr_open`, and the soft one in force is what counts.
    limit.current
}

/// The cap unless configured: [`DEFAULT_MAX_CONNECTIONS`], or what the open-file limit leaves
/// room for beside [`RESERVED_FDS`] (half the limit at least).
fn default_max_connections(open_file_limit: Option<u64>) -> usize {
    let Some(limit) = open_file_limit else {
        return DEFAULT_MAX_CONNECTIONS;
    };
    let room = limit.saturating_sub(RESERVED_FDS).max(limit / 2).max(1);
    usize::try_from(room).map_or(DEFAULT_MAX_CONNECTIONS, |room| {
        room.min(DEFAULT_MAX_CONNECTIONS)
    })
}

/// The limits the flags ask for (`None`: the defaults, for `demo`), after raising the
/// open-file limit; warns when an explicit cap does not fit under it.
pub(crate) fn limits(args: Option<&ConnectionArgs>) -> ConnectionLimits {
    let open_file_limit = raise_open_file_limit();
    let fits = default_max_connections(open_file_limit);
    let mut limits = ConnectionLimits {
        max_connections: fits,
        ..ConnectionLimits::default()
    };
    if let Some(args) = args {
        limits.header_timeout = Duration::from_secs(args.header_timeout_secs);
        limits.body_timeout = Duration::from_secs(args.body_timeout_secs);
        limits.idle_timeout = Duration::from_secs(args.idle_timeout_secs);
        if let Some(max) = args.max_connections {
            limits.max_connections = usize::try_from(max).unwrap_or(usize::MAX);
            if limits.max_connections > fits {
                tracing::warn!(
                    max_connections = limits.max_connections,
                    open_file_limit,
                    "--max-connections is more than the open-file limit leaves room for: \
                     accepting may fail with `Too many open files` (idle connections are then \
                     shed and accepting retried)"
                );
            }
        }
    }
    tracing::info!(
        max_connections = limits.max_connections,
        open_file_limit,
        header_timeout_secs = limits.header_timeout.as_secs(),
        body_timeout_secs = limits.body_timeout.as_secs(),
        idle_timeout_secs = limits.idle_timeout.as_secs(),
        "connection limits"
    );
    limits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_cap_fits_under_the_open_file_limit() {
        assert_eq!(default_max_connections(None), DEFAULT_MAX_CONNECTIONS);
        assert_eq!(
            default_max_connections(Some(1_048_576)),
            DEFAULT_MAX_CONNECTIONS
        );
        assert_eq!(default_max_connections(Some(1024)), 768);
        assert_eq!(default_max_connections(Some(256)), 128, "half at least");
        assert_eq!(default_max_connections(Some(0)), 1);
    }
}
