//! A minimal HTTP/1.1 GET over loopback, and polling until a response
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

/// `(status, body)` of `GET path` on 127.0.0.1:port, asked as HTTP/1.1
/// with `Connection: close`, the way a browser asks, and read as a browser
/// reads it: the body ends where its `Content-Length` or its last chunk
/// says, not when the connection closes (only an answer with neither, an
/// HTTP/1.0 one, ends at the close). Why it matters: through `kubectl
/// port-forward` (Skaffold's port forward with the kubectl deployer) the
/// close reaches the client up to a second after the answer, which a wait
/// for EOF would count as the app's time; and to an HTTP/1.0 request
/// Node.js answers without a length (`ServerResponse` turns chunking off
/// for 1.0 clients, so the body is close-delimited).
pub fn get(port: u16, path: &str) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(answer) = complete(&raw) {
            return Ok(answer);
        }
        let n = s.read(&mut chunk)?;
        if n == 0 {
            // The close ends the body (or cuts a head short: status 0).
            return Ok(at_close(&raw));
        }
        raw.extend_from_slice(&chunk[..n]);
    }
}

/// The answer in `raw` if its body is complete by its own framing.
fn complete(raw: &[u8]) -> Option<(u16, String)> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut head = httparse::Response::new(&mut headers);
    let httparse::Status::Complete(start) = head.parse(raw).ok()? else {
        return None;
    };
    let status = head.code?;
    let header = |name: &str| {
        head.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).trim().to_ascii_lowercase())
    };
    let body = &raw[start..];
    if header("transfer-encoding").is_some_and(|te| te.ends_with("chunked")) {
        return dechunk(body).map(|b| (status, b));
    }
    // No body at all for these (RFC 9112 section 6.3).
    if status == 204 || status == 304 || (100..200).contains(&status) {
        return Some((status, String::new()));
    }
    let length: usize = header("content-length")?.parse().ok()?;
    (body.len() >= length).then(|| {
        (
            status,
            String::from_utf8_lossy(&body[..length]).into_owned(),
        )
    })
}

/// A chunked body, once its last (zero-size) chunk has arrived.
fn dechunk(mut body: &[u8]) -> Option<String> {
    let mut out = Vec::new();
    loop {
        let httparse::Status::Complete((skip, size)) = httparse::parse_chunk_size(body).ok()?
        else {
            return None;
        };
        let size = usize::try_from(size).ok()?;
        if size == 0 {
            return Some(String::from_utf8_lossy(&out).into_owned());
        }
        let data = body.get(skip..skip + size)?;
        out.extend_from_slice(data);
        body = body.get(skip + size + 2..)?;
    }
}

/// An answer whose body ended at the close.
fn at_close(raw: &[u8]) -> (u16, String) {
    let raw = String::from_utf8_lossy(raw);
    let status = raw
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = raw
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
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

#[cfg(test)]
mod tests {
    use super::complete;

    #[test]
    fn a_body_ends_by_its_length_or_last_chunk_else_at_the_close() {
        let len = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel";
        assert_eq!(complete(len), None);
        let len = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
        assert_eq!(complete(len), Some((200, "hello".into())));
        let chunked = b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nnot\r\n6\r\n found\r\n";
        assert_eq!(complete(chunked), None);
        let mut done = chunked.to_vec();
        done.extend_from_slice(b"0\r\n\r\n");
        assert_eq!(complete(&done), Some((404, "not found".into())));
        // HTTP/1.0, no length: only the close ends it.
        assert_eq!(complete(b"HTTP/1.0 200 OK\r\n\r\nhello"), None);
        assert_eq!(
            complete(b"HTTP/1.1 304 Not Modified\r\n\r\n"),
            Some((304, String::new()))
        );
    }
}
