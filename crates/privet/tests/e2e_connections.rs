//! End-to-end: connection limits (issue 13, finding 1). Thousands of clients that never finish
//! their request head are closed within the header timeout or shed at the cap while `/healthz`
//! keeps answering; a kept-alive connection is closed after the idle timeout; a body that stops
//! arriving is answered 408 within the body timeout. Real sockets and the server's real
//! clock, with timeouts of a second or two.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use support::*;

/// How much later than its timeout the server may close a connection.
const MARGIN: Duration = Duration::from_millis(1500);

/// Raises this process's soft open-file limit to the hard one, for the thousands of sockets.
fn raise_open_file_limit() -> u64 {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if let (Some(soft), Some(hard)) = (limit.current, limit.maximum)
        && hard > soft
    {
        let _ = setrlimit(
            Resource::Nofile,
            Rlimit {
                current: Some(hard),
                maximum: Some(hard),
            },
        );
    }
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}

/// `GET /healthz` on a fresh connection: (status line, how long the answer took).
fn healthz(server: &Server) -> (String, Duration) {
    let start = Instant::now();
    let mut conn = RawConn::open(server);
    conn.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let answer = conn.read_head();
    let status = answer.lines().next().unwrap_or_default().to_owned();
    (status, start.elapsed())
}

/// Reads until the server closes `stream` or `deadline` passes: what it sent, and whether it
/// closed (a reset counts: the server closed with our bytes unread). Past the deadline, what
/// the server did before it is still read.
fn read_until_closed(stream: &mut TcpStream, deadline: Instant) -> (Vec<u8>, bool) {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        stream
            .set_read_timeout(Some(left.max(Duration::from_millis(10))))
            .unwrap();
        match stream.read(&mut buf) {
            Ok(0) => return (got, true),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return (got, false);
            }
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return (got, true),
            Err(e) => panic!("read: {e}"),
        }
    }
}

/// Opens `n` connections from 4 threads, each sending part of a request head as the slow
/// clients of the finding did: the sockets with when each was opened.
fn flood(server: &Server, n: usize) -> Vec<(TcpStream, Instant)> {
    std::thread::scope(|scope| {
        let threads: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    (0..n / 4)
                        .map(|_| {
                            let mut s = TcpStream::connect(&server.addr).unwrap();
                            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
                                .unwrap();
                            (s, Instant::now())
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect()
    })
}

#[test]
fn partial_heads_are_shed_or_timed_out_while_healthz_keeps_answering() {
    const PARTIAL: usize = 2_000;
    let fds = raise_open_file_limit();
    assert!(fds > 2 * PARTIAL as u64, "open-file limit {fds} too low");
    let header_timeout = Duration::from_secs(3);
    let inst = Instance::new();
    let server = inst.serve_with(&["--header-timeout-secs", "3", "--max-connections", "600"]);

    let start = Instant::now();
    let mut partial = flood(&server, PARTIAL);
    let flood_took = start.elapsed();
    assert_eq!(partial.len(), PARTIAL);

    // With all of them open on this side, more than three times the cap, everyone else is
    // still served: the cap sheds the longest idle to admit each newcomer.
    for _ in 0..3 {
        let (status, took) = healthz(&server);
        assert!(status.starts_with("HTTP/1.1 200"), "{status}");
        assert!(took < Duration::from_secs(2), "/healthz took {took:?}");
    }

    // Every partial connection is closed by the server within the header timeout of its
    // opening (plus a margin): shed at once, or answered 408 when its time ran out.
    let (mut timed_out, mut shed) = (0, 0);
    let mut first_timeout = None;
    for (i, (stream, opened)) in partial.iter_mut().enumerate() {
        let (got, closed) = read_until_closed(stream, *opened + header_timeout + MARGIN);
        assert!(closed, "partial connection {i} still open");
        if got.is_empty() {
            shed += 1;
        } else {
            let text = String::from_utf8_lossy(&got);
            assert!(text.starts_with("HTTP/1.1 408 "), "{text}");
            assert!(text.contains("application/problem+json"), "{text}");
            timed_out += 1;
            // The shed ones before it are read at once: this read waited for the timeout.
            first_timeout.get_or_insert(opened.elapsed());
        }
    }
    assert!(timed_out > 0, "the ones held ran out of time");
    let first_timeout = first_timeout.unwrap();
    assert!(
        first_timeout >= header_timeout - Duration::from_millis(100),
        "closed after {first_timeout:?}, before the header timeout"
    );
    assert!(
        shed > 0,
        "the cap was reached: {shed} shed, {timed_out} timed out"
    );
    if flood_took < header_timeout / 2 {
        // No partial connection timed out before the last came: all but the cap's worth
        // were shed.
        assert!(shed >= PARTIAL - 600, "{shed} shed, {timed_out} timed out");
    }

    let metric = |reason: &str| {
        server
            .metric(&format!(
                "privet_http_connections_closed_total{{reason=\"{reason}\"}}"
            ))
            .unwrap_or(0.0)
    };
    assert!(metric("shed") >= shed as f64, "{shed}");
    assert!(metric("header_timeout") >= 1.0);
}

#[test]
fn a_kept_alive_connection_is_closed_after_the_idle_timeout() {
    let idle = Duration::from_secs(1);
    let inst = Instance::new();
    let server = inst.serve_with(&["--idle-timeout-secs", "1"]);
    let mut conn = RawConn::open(&server);
    let request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    let read_answer = |conn: &mut RawConn| {
        let head = conn.read_head();
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let mut body = vec![0; length];
        conn.stream.read_exact(&mut body).unwrap();
    };

    conn.write(request);
    read_answer(&mut conn);
    // A request within the idle timeout is served on the same connection, and the idle time
    // counts again from its answer.
    std::thread::sleep(idle / 2);
    conn.write(request);
    read_answer(&mut conn);
    let answered = Instant::now();

    let (got, closed) = read_until_closed(&mut conn.stream, answered + idle + MARGIN);
    let after = answered.elapsed();
    assert!(
        closed && got.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&got)
    );
    // The server's idle time began a little before the answer was read here.
    assert!(
        after >= idle - Duration::from_millis(250),
        "closed after {after:?}, before the idle timeout"
    );
}

#[test]
fn a_body_that_stops_arriving_is_answered_408_within_the_body_timeout() {
    let timeout = Duration::from_secs(1);
    let inst = Instance::new();
    let server = inst.serve_with(&["--body-timeout-secs", "1"]);
    let mut conn = RawConn::open(&server);
    // The head promises 100 bytes; 10 come, then nothing.
    conn.write(
        b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
          Content-Length: 100\r\n\r\n{\"email\":",
    );
    let sent = Instant::now();

    let (got, closed) = read_until_closed(&mut conn.stream, sent + timeout + MARGIN);
    let after = sent.elapsed();
    let text = String::from_utf8_lossy(&got);
    assert!(closed, "still open after {after:?}: {text}");
    assert!(after >= timeout - Duration::from_millis(100), "{after:?}");
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 408 "), "{head}");
    let head = head.to_ascii_lowercase();
    assert!(
        head.contains("content-type: application/problem+json"),
        "{head}"
    );
    assert!(head.contains("connection: close"), "{head}");
    assert!(head.contains("x-content-type-options: nosniff"), "{head}");
    let problem: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(problem["status"], 408, "{problem}");
    assert_eq!(
        server.metric("privet_http_connections_closed_total{reason=\"body_timeout\"}"),
        Some(1.0)
    );
}

#[test]
fn at_the_cap_with_every_connection_busy_a_newcomer_is_refused_503() {
    let inst = Instance::new();
    let server = inst.serve_with(&["--max-connections", "1", "--body-timeout-secs", "2"]);
    // The one slot goes to a request in flight: its head is in (the server asked for the body
    // with `100 Continue`), its body never comes.
    let mut busy = RawConn::open(&server);
    busy.write(
        b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
          Content-Length: 100\r\nExpect: 100-continue\r\n\r\n",
    );
    let head = busy.read_head();
    assert!(head.starts_with("HTTP/1.1 100"), "{head}");

    let mut refused = RawConn::open(&server);
    let (got, closed) = read_until_closed(&mut refused.stream, Instant::now() + MARGIN);
    let text = String::from_utf8_lossy(&got);
    assert!(closed, "{text}");
    assert!(text.starts_with("HTTP/1.1 503 "), "{text}");
    assert!(text.contains("retry-after: 1\r\n"), "{text}");
    assert!(text.contains("application/problem+json"), "{text}");

    // Once the busy one's body times out, its slot serves again.
    let answer = busy.read_head();
    assert!(answer.starts_with("HTTP/1.1 408 "), "{answer}");
    drop(busy);
    let (status, _) = healthz(&server);
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    assert_eq!(
        server.metric("privet_http_connections_closed_total{reason=\"refused\"}"),
        Some(1.0)
    );
}
