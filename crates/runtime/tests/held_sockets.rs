//! No refused connection during a restart (issue 23): the supervisor with
//! the real `libfilesync_listen.so` preloaded into real Node.js and
//! Python servers, a client connecting every 20 ms through 10 reloads.
//! Every wait is on an event (a log line, an answer), never a fixed sleep.
//!
//! The interposer is `cargo build -p filesync-listen-preload`'s
//! `libfilesync_listen.so`, next to the runtime binary, where the
//! supervisor looks for it (scripts/test.sh builds it first).

// Required due to: https://github.com/rust-lang/rust/issues/95513
#![allow(unused_crate_dependencies)]
// A panic in a test is its failure, carrying its message.
#![allow(clippy::unwrap_used)]
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss
)]

mod common;
use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const RELOADS: usize = 10;
const POLL: Duration = Duration::from_millis(20);

/// Node.js on `[::]` (dual-stack, Node's default), closing its server on
/// SIGTERM as a well-behaved app does: what it has accepted is answered.
fn node_app(port: u16) -> String {
    format!(
        "const http = require('http'), fs = require('fs');\n\
         const body = fs.readFileSync('version');\n\
         const srv = http.createServer((q, s) => s.end(body));\n\
         srv.listen({port});\n\
         process.on('SIGTERM', () => srv.close(() => process.exit(0)));\n"
    )
}

/// Python's http.server on 127.0.0.1, serving one request at a time and
/// ending after the current one on SIGTERM.
fn python_app(port: u16) -> String {
    format!(
        "import http.server, signal\n\
         body = open('version', 'rb').read()\n\
         class H(http.server.BaseHTTPRequestHandler):\n    \
             def do_GET(self):\n        \
                 self.send_response(200); self.send_header('Content-Length', str(len(body))); self.end_headers(); self.wfile.write(body)\n    \
             def log_message(self, *a): pass\n\
         http.server.HTTPServer.allow_reuse_address = True\n\
         srv = http.server.HTTPServer(('127.0.0.1', {port}), H)\n\
         srv.timeout = 0.05\n\
         stop = []\n\
         signal.signal(signal.SIGTERM, lambda *a: stop.append(1))\n\
         while not stop:\n    srv.handle_request()\n"
    )
}

/// What one poll saw.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Poll {
    Served(String),
    Refused,
    /// Reset, or closed before an answer.
    Failed(String),
}

fn poll(port: u16) -> Poll {
    let mut s = match TcpStream::connect(("127.0.0.1", port)) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => return Poll::Refused,
        Err(e) => return Poll::Failed(format!("connect: {e}")),
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    let mut answer = String::new();
    if let Err(e) = s
        .write_all(b"GET / HTTP/1.0\r\n\r\n")
        .and_then(|()| s.read_to_string(&mut answer).map(|_| ()))
    {
        return Poll::Failed(format!("{e}"));
    }
    match answer.split_once("\r\n\r\n") {
        Some((head, body)) if head.starts_with("HTTP/1.") => Poll::Served(body.to_owned()),
        _ => Poll::Failed(format!("no answer: {answer:?}")),
    }
}

/// A client polling `port` every [`POLL`] on a thread until stopped.
struct Client {
    seen: Arc<Mutex<Vec<Poll>>>,
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl Client {
    fn start(port: u16) -> Client {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (seen, stop) = (Arc::clone(&seen), Arc::clone(&stop));
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let p = poll(port);
                    seen.lock().unwrap().push(p);
                    std::thread::sleep(POLL);
                }
            })
        };
        Client { seen, stop, thread }
    }

    fn served(&self, version: &str) -> bool {
        let want = Poll::Served(version.to_owned());
        self.seen.lock().unwrap().contains(&want)
    }

    fn finish(self) -> Vec<Poll> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap();
        Arc::try_unwrap(self.seen).unwrap().into_inner().unwrap()
    }
}

/// 10 restart-type syncs of `version` under a polling client; returns
/// what it saw and the supervisor's log.
fn ten_reloads(
    app_file: &str,
    app: &str,
    cmd: &[&str],
    env: &[(&str, &str)],
    port: u16,
) -> (Vec<Poll>, String) {
    let sb = Sandbox::new("kind = \"restart\"");
    std::fs::write(sb.app().join("version"), "v0").unwrap();
    std::fs::write(sb.app().join(app_file), app).unwrap();
    let child = sb.supervise_with(cmd, env);
    sb.socket_ready();
    assert!(
        wait_until(Duration::from_secs(30), || poll(port)
            == Poll::Served("v0".into())),
        "the app never served v0:\n{}",
        sb.log()
    );
    let client = Client::start(port);
    for n in 1..=RELOADS {
        let version = format!("v{n}");
        let out = sb.tar(&stream(&[(
            sb.app().join("version"),
            version.clone().into(),
        )]));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        sb.expect_log("live in ", n, Duration::from_secs(30));
        assert!(
            wait_until(Duration::from_secs(10), || client.served(&version)),
            "{version} never served:\n{}",
            sb.log()
        );
    }
    let seen = client.finish();
    let (_, log) = sb.stop(child);
    (seen, log)
}

fn summary(seen: &[Poll]) -> (usize, usize, Vec<String>) {
    let served = seen.iter().filter(|p| matches!(p, Poll::Served(_))).count();
    let refused = seen.iter().filter(|p| **p == Poll::Refused).count();
    let failed = seen
        .iter()
        .filter_map(|p| match p {
            Poll::Failed(why) => Some(why.clone()),
            _ => None,
        })
        .collect();
    (served, refused, failed)
}

fn preload_built() {
    let so = std::path::Path::new(BIN).with_file_name("libfilesync_listen.so");
    assert!(
        so.is_file(),
        "{} missing: cargo build -p filesync-listen-preload",
        so.display()
    );
}

fn assert_held(name: &str, seen: &[Poll], log: &str, port: u16) {
    let (served, refused, failed) = summary(seen);
    eprintln!(
        "{name}, held: {served} served, {refused} refused, {} failed over {RELOADS} reloads",
        failed.len()
    );
    assert_eq!(
        refused, 0,
        "no refused connection while it restarts:\n{log}"
    );
    assert!(
        failed.is_empty(),
        "no reset or unanswered connection: {failed:?}\n{log}"
    );
    assert_eq!(log.matches("holding port").count(), 1, "{log}");
    assert!(
        log.contains(&format!("holding port {port} across restarts")),
        "{log}"
    );
    assert!(!log.contains("not held across restarts"), "{log}");
}

/// Node.js on `port` through 10 reloads, the interposer preloaded: held.
fn node_held(name: &str, port: u16) {
    preload_built();
    let (seen, log) = ten_reloads(
        "server.js",
        &node_app(port),
        &["node", "server.js"],
        &[],
        port,
    );
    assert_held(name, &seen, &log, port);
}

#[test]
fn node_restarts_refuse_no_connection() {
    node_held("node", fixed_port());
}

#[test]
fn python_restarts_refuse_no_connection() {
    preload_built();
    let port = fixed_port();
    let cmd = ["sh", "-c", "exec python3 server.py"];
    let (seen, log) = ten_reloads("server.py", &python_app(port), &cmd, &[], port);
    assert_held("python", &seen, &log, port);
}

/// An app's fixed port inside the kernel's ephemeral range (gRPC's 50051
/// is one): bound by number, so it is the app's, held and waited for like
/// any other.
#[test]
fn a_fixed_port_inside_the_ephemeral_range_is_held_too() {
    node_held("node, ephemeral range", ephemeral_fixed_port());
}

/// A free port inside the kernel's ephemeral range, on IPv4 and IPv6.
fn ephemeral_fixed_port() -> u16 {
    let range = filesync_runtime::supervisor::live::sockets::ephemeral_range();
    let start = range.start() + (std::process::id() % 1000) as u16;
    (start..=*range.end())
        .find(|p| free_on_both(*p))
        .expect("a free port")
}

/// The same without the interposer: refusals (so the tests above can
/// fail), and one line saying so.
#[test]
fn without_the_interposer_restarts_refuse_connections_and_say_so_once() {
    let port = fixed_port();
    let env = [(
        "FILESYNC_LISTEN_PRELOAD",
        "/nonexistent/libfilesync_listen.so",
    )];
    let (seen, log) = ten_reloads(
        "server.js",
        &node_app(port),
        &["node", "server.js"],
        &env,
        port,
    );
    let (served, refused, failed) = summary(&seen);
    eprintln!(
        "node, not held: {served} served, {refused} refused, {} failed over {RELOADS} reloads",
        failed.len()
    );
    assert!(refused > 0, "a restart closes the port without it:\n{log}");
    assert_eq!(log.matches("not held across restarts").count(), 1, "{log}");
    assert!(
        log.contains(&format!(
            "port {port} is not held across restarts: FILESYNC_LISTEN_PRELOAD names"
        )),
        "{log}"
    );
    assert!(!log.contains("holding port"), "{log}");
}
