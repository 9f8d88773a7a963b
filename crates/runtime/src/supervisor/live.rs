//! The live line: after each reload the supervisor logs once, when the new
//! process is ready to serve, `live in N ms (restart)` or `(rebuild)`,
//! counted from the end of the batch (the moment the policy decided it was
//! complete, [`super::restart::Restart::batch_end`]). Skaffold streams it
//! to the user; tests and benchmarks wait on it.
//!
//! **Ready** is, for an app that serves on TCP ports, the moment its
//! process tree listens on all of them again, seen in `/proc` without
//! connecting ([`sockets`]); for an app that listens on nothing, the moment
//! it has started.
//!
//! **Which ports.** Those the previous version's tree listened on when the
//! supervisor stopped it (read at its stop signal, [`Expected::stopped`]),
//! except ports in the kernel's ephemeral range (a `bind` to port 0 gets
//! another one on every start) that the app did not bind by number: a
//! port the held-sockets interposer saw bound explicitly (gRPC's 50051,
//! a live-reload server's 35729 sit inside the default 32768–60999) is
//! the app's own and is waited for. A version stopped before it was seen live
//! (a save during a slow start) adds what it listened on to what was
//! expected of it rather than replacing it. The first start expects
//! nothing: no reload is waited on before it.
//!
//! **Bounded, off the loop.** Each reload's wait runs on a thread of its
//! own and reports back through a callback (the loop then logs, if that
//! version is still the current one); it reads `/proc/<pid>/net/tcp{,6}`
//! every [`FAST_POLL`] for [`FAST_FOR`], then every [`SLOW_POLL`], and
//! reads the tree's file descriptors only once the ports do listen. After
//! [`LIVE_MAX`] it gives up with one line saying which port never came,
//! and the app keeps running; what it listens on at its next stop is then
//! what the next reload waits for.

pub mod sock_diag;
pub mod sockets;

use super::events::Reloaded;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

pub const FAST_POLL: Duration = Duration::from_millis(5);
pub const FAST_FOR: Duration = Duration::from_secs(2);
pub const SLOW_POLL: Duration = Duration::from_millis(25);
/// A JVM on a busy node may take tens of seconds to listen again.
pub const LIVE_MAX: Duration = Duration::from_mins(1);

/// The ports the next version must listen on to be live.
#[derive(Debug, Default)]
pub struct Expected {
    ports: BTreeSet<u16>,
}

impl Expected {
    pub fn ports(&self) -> &BTreeSet<u16> {
        &self.ports
    }

    /// The version being stopped listened on `now`, of which it bound
    /// `bound` by number; `was_live`: it had been seen live (or was the
    /// first start, of which nothing was expected).
    pub fn stopped(&mut self, now: BTreeSet<u16>, bound: &BTreeSet<u16>, was_live: bool) {
        let ephemeral = sockets::ephemeral_range();
        let fixed = now
            .into_iter()
            .filter(|p| !ephemeral.contains(p) || bound.contains(p));
        if was_live {
            self.ports = fixed.collect();
        } else {
            self.ports.extend(fixed);
        }
    }
}

/// The executor's side: the app's starts, counted (a wait reports for one
/// of them), and what the next reload's start must listen on.
#[derive(Debug, Default)]
pub struct Tracker {
    start: u64,
    /// The start last seen live or given up on (the first counts: nothing
    /// was expected of it). A start after a crash never is: what it
    /// listens on adds to what was expected.
    live: u64,
    /// The start whose ports were read at its first stop signal.
    stopped: u64,
    expected: Expected,
}

impl Tracker {
    /// The app has started again.
    pub fn started(&mut self) {
        self.start += 1;
        if self.start == 1 {
            self.live = 1;
        }
    }

    pub fn current(&self) -> u64 {
        self.start
    }

    /// The ports the next reload's start must listen on.
    pub fn expected(&self) -> &BTreeSet<u16> {
        self.expected.ports()
    }

    /// The current start (main process `pid`) is being stopped: at the
    /// first stop signal, what it listens on is read; `bound`: the ports it
    /// bound by number (see the module doc).
    pub fn stopping(&mut self, pid: i32, bound: &BTreeSet<u16>) {
        if self.stopped == self.start {
            return;
        }
        self.stopped = self.start;
        if let Some(now) = sockets::tree_ports(pid) {
            self.expected.stopped(now, bound, self.live == self.start);
        }
    }

    /// The wait for the current start, main process `pid`.
    pub fn watch(&self, pid: i32) -> Watch {
        Watch {
            pid,
            ports: self.expected.ports().clone(),
            max: LIVE_MAX,
        }
    }

    /// A wait for `start` ended; false when that start is not the app's
    /// current one any more (nothing to say).
    pub fn ended(&mut self, start: u64, outcome: &Outcome) -> bool {
        if start != self.start {
            return false;
        }
        // Given up on, too: its ports at its stop replace what it missed.
        if !matches!(outcome, Outcome::Gone) {
            self.live = start;
        }
        true
    }
}

/// How a wait for the new version ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Ready at that moment.
    Live(Instant),
    /// [`LIVE_MAX`] went by and these ports still do not listen.
    NotListening(BTreeSet<u16>),
    /// The process is gone (it crashed, or was stopped for a newer
    /// reload): nothing to say.
    Gone,
    /// The process runs but its sockets cannot be read (no `/proc`, or
    /// not ours to read): live as it was started, at that moment.
    Unreadable(Instant),
}

/// One wait: the app's main process and the ports it must listen on.
#[derive(Debug, Clone)]
pub struct Watch {
    pub pid: i32,
    pub ports: BTreeSet<u16>,
    pub max: Duration,
}

/// Waits on a thread of its own; `report` gets the outcome.
pub fn spawn(watch: Watch, report: impl FnOnce(Outcome) + Send + 'static) {
    std::thread::spawn(move || report(wait(&watch)));
}

/// Polls until the tree of `watch.pid` listens on every port of
/// `watch.ports` (at once when there are none).
pub fn wait(watch: &Watch) -> Outcome {
    let start = Instant::now();
    loop {
        let now = Instant::now();
        match missing(watch.pid, &watch.ports) {
            None if sockets::alive(watch.pid) => return Outcome::Unreadable(start),
            None => return Outcome::Gone,
            Some(m) if m.is_empty() => return Outcome::Live(now),
            Some(m) if now - start >= watch.max => return Outcome::NotListening(m),
            Some(_) => {}
        }
        let poll = if now - start < FAST_FOR {
            FAST_POLL
        } else {
            SLOW_POLL
        };
        std::thread::sleep(poll);
    }
}

/// The ports of `ports` that `pid`'s tree does not listen on yet; `None`
/// when `pid` is gone.
fn missing(pid: i32, ports: &BTreeSet<u16>) -> Option<BTreeSet<u16>> {
    let listening = sockets::listening_in_netns(pid)?;
    let by_port = |p: u16| listening.iter().filter(move |(_, port)| **port == p);
    let unseen: BTreeSet<u16> = ports
        .iter()
        .copied()
        .filter(|p| by_port(*p).next().is_none())
        .collect();
    if !unseen.is_empty() || ports.is_empty() {
        return Some(unseen);
    }
    // Every port has a listener in the namespace: are they the tree's?
    let held = sockets::socket_inodes(&sockets::tree(pid));
    Some(
        ports
            .iter()
            .copied()
            .filter(|p| !by_port(*p).any(|(inode, _)| held.contains(inode)))
            .collect(),
    )
}

/// The line for a reload of `kind` whose batch ended at `since`, if any
/// (with the [`Outcome::Unreadable`] fallback: a note, then the line).
pub fn line(kind: Reloaded, since: Instant, outcome: &Outcome) -> Option<String> {
    match outcome {
        Outcome::Live(at) => Some(format!(
            "live in {} ms ({kind})",
            at.saturating_duration_since(since).as_millis()
        )),
        Outcome::NotListening(ports) => Some(format!(
            "not live after {} s ({kind}): nothing of the app listens on port {}, as the previous version did; it keeps running",
            LIVE_MAX.as_secs(),
            ports
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(", port ")
        )),
        Outcome::Unreadable(at) => Some(format!(
            "cannot read the app's sockets in /proc: this live line says when it started, not when it listens\n[filesync] live in {} ms ({kind})",
            at.saturating_duration_since(since).as_millis()
        )),
        Outcome::Gone => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};
    use std::process::{Child, Command, Stdio};

    /// A python that listens on `port` after `delay_s`, printing `bound`
    /// when it does.
    fn late_listener(port: u16, delay_s: f32) -> Child {
        Command::new("python3")
            .args([
                "-c",
                &format!("import socket,time; time.sleep({delay_s}); s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1',{port})); s.listen(); print('bound', flush=True); time.sleep(30)"),
            ])
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 (a real listening process for these tests)")
    }

    fn free_port() -> u16 {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    }

    #[test]
    fn a_late_listener_is_live_once_it_listens_not_before() {
        let port = free_port();
        let mut child = late_listener(port, 0.3);
        let watch = Watch {
            pid: i32::try_from(child.id()).expect("Linux pids fit i32 (pid_max <= 2^22)"),
            ports: BTreeSet::from([port]),
            max: Duration::from_secs(20),
        };
        let outcome = wait(&watch);
        // The listener is in place by the time we return, and python says
        // it bound (its line may come after our poll saw it).
        assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        child.kill().unwrap();
        let _ = child.wait();
        assert!(matches!(outcome, Outcome::Live(_)), "{outcome:?}");
        assert_eq!(line.trim(), "bound");
    }

    #[test]
    fn a_port_that_never_listens_ends_in_a_bounded_wait() {
        let mut child = late_listener(free_port(), 20.0);
        let other = free_port();
        let watch = Watch {
            pid: i32::try_from(child.id()).expect("Linux pids fit i32 (pid_max <= 2^22)"),
            ports: BTreeSet::from([other]),
            max: Duration::from_millis(200),
        };
        let outcome = wait(&watch);
        child.kill().unwrap();
        let _ = child.wait();
        assert_eq!(outcome, Outcome::NotListening(BTreeSet::from([other])));
        let text = line(Reloaded::Restart, Instant::now(), &outcome).unwrap();
        assert!(text.starts_with("not live after 60 s (restart)"), "{text}");
        assert!(text.contains(&format!("port {other},")), "{text}");
    }

    #[test]
    fn nothing_to_wait_for_is_live_at_once_and_a_dead_process_is_gone() {
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        let pid = i32::try_from(child.id()).expect("Linux pids fit i32 (pid_max <= 2^22)");
        let watch = Watch {
            pid,
            ports: BTreeSet::new(),
            max: Duration::from_secs(5),
        };
        assert!(matches!(wait(&watch), Outcome::Live(_)));
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(wait(&watch), Outcome::Gone);
    }

    #[test]
    fn the_line_counts_from_the_batch_end() {
        let since = Instant::now();
        let at = since + Duration::from_millis(142);
        assert_eq!(
            line(Reloaded::Rebuild, since, &Outcome::Live(at)).as_deref(),
            Some("live in 142 ms (rebuild)")
        );
        assert_eq!(line(Reloaded::Restart, since, &Outcome::Gone), None);
        let fallback = line(Reloaded::Restart, since, &Outcome::Unreadable(at)).unwrap();
        assert_eq!(
            fallback.lines().last(),
            Some("[filesync] live in 142 ms (restart)")
        );
    }

    #[test]
    fn ports_of_a_version_stopped_before_it_was_live_add_to_what_was_expected() {
        let mut e = Expected::default();
        let none = BTreeSet::new();
        e.stopped(BTreeSet::from([8080, 40000]), &none, true);
        assert_eq!(e.ports(), &BTreeSet::from([8080]), "ephemeral dropped");
        e.stopped(BTreeSet::from([9090]), &none, false);
        assert_eq!(e.ports(), &BTreeSet::from([8080, 9090]));
        e.stopped(
            BTreeSet::from([8080, 40000, 50051]),
            &BTreeSet::from([50051]),
            true,
        );
        assert_eq!(
            e.ports(),
            &BTreeSet::from([8080, 50051]),
            "a port bound by number is the app's, even in the ephemeral range"
        );
        e.stopped(BTreeSet::new(), &none, true);
        assert!(e.ports().is_empty(), "a live version listening on nothing");
    }
}
