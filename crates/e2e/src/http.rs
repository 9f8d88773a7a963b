//! A minimal HTTP/1.0 GET over loopback, and polling until a response
//! shows what a test waits for: the one HTTP client of the tests and the
//! benchmarks.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// A free TCP port on 127.0.0.1 (released for the app to take).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// `(status, body)` of `GET path` on 127.0.0.1:port. The response ends
/// where its `Content-Length` says, as a browser reads it, not when the
/// connection closes: through `kubectl port-forward` (Skaffold's port
/// forward with the kubectl deployer) the close reaches the client up to
/// seconds after the answer, which a wait for EOF would count as the app's
/// time.
pub fn get(port: u16, path: &str) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        s,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = s.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&chunk[..n]);
        if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok());
            if length.is_some_and(|len| raw.len() >= end + 4 + len) {
                break;
            }
        }
    }
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let status = raw
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = raw
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

/// Polls `GET path` every 5 ms until `want(status, body)`; returns the time
/// it took, or the last response on timeout.
pub fn wait_for(
    port: u16,
    path: &str,
    timeout: Duration,
    want: impl Fn(u16, &str) -> bool,
) -> Result<Duration, String> {
    poll(port, path, timeout, Duration::from_millis(5), want)
}

/// As [`wait_for`], polling `every` (the benchmarks poll every 1 ms).
pub fn poll(
    port: u16,
    path: &str,
    timeout: Duration,
    every: Duration,
    want: impl Fn(u16, &str) -> bool,
) -> Result<Duration, String> {
    let start = Instant::now();
    let mut last = String::from("no response");
    while start.elapsed() < timeout {
        match get(port, path) {
            Ok((status, body)) if want(status, &body) => return Ok(start.elapsed()),
            Ok((status, body)) => last = format!("{status} {body:?}"),
            Err(e) => last = e.to_string(),
        }
        std::thread::sleep(every);
    }
    Err(last)
}
