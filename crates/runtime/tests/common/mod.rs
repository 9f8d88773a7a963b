//! Shared helpers for the runtime's process-level tests: a temp app dir,
//! a recorded config, the real `filesync` binary, tar streams laid out the
//! way Skaffold's `CreateMappedTar` lays them out (absolute names), and
//! waits on events (a log line, a file, a condition) instead of sleeps.
#![allow(dead_code)]
// Test arithmetic on pids and small counts, all far inside each type's range.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss
)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_filesync-runtime");

pub(crate) struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    /// An app dir and a config with `action` (TOML of `[plan.action]`).
    pub(crate) fn new(action_toml: &str) -> Sandbox {
        Sandbox::with_config(action_toml, "")
    }

    /// Same, with top-level config lines (`batch_end = "hook"`, …).
    pub(crate) fn with_config(action_toml: &str, extra: &str) -> Sandbox {
        Sandbox::in_dir(tempfile::tempdir().unwrap(), action_toml, extra)
    }

    /// Same, in `dir`; the config's socket is `dir/sock` unless `extra`
    /// sets `socket`.
    pub(crate) fn in_dir(dir: tempfile::TempDir, action_toml: &str, extra: &str) -> Sandbox {
        let app = dir.path().join("app");
        std::fs::create_dir_all(&app).unwrap();
        let socket = if extra.contains("socket =") {
            String::new()
        } else {
            format!("socket = \"{}\"\n", dir.path().join("sock").display())
        };
        let cfg = format!(
            "process_type = \"web\"\ndebounce_ms = 50\n{socket}{extra}\n[plan]\nfamily = \"node\"\napp_dir = \"{app}\"\nignore = []\n\
             [plan.action]\n{action_toml}\n[[plan.rules]]\nsrc = \"**/*\"\ndest = \"{app}\"\n",
            app = app.display(),
        );
        std::fs::write(dir.path().join("cfg.toml"), cfg).unwrap();
        Sandbox { dir }
    }

    pub(crate) fn app(&self) -> PathBuf {
        self.dir.path().join("app")
    }

    pub(crate) fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    /// `filesync supervise -- CMD…` in the app dir, its log in `sup.log`.
    pub(crate) fn supervise(&self, cmd: &[&str]) -> Child {
        self.supervise_with(cmd, &[])
    }

    /// Same, with extra environment.
    pub(crate) fn supervise_with(&self, cmd: &[&str], env: &[(&str, &str)]) -> Child {
        self.supervise_cmd(Command::new(BIN), cmd, env)
    }

    /// `supervise -- CMD…` appended to `base` (e.g. `unshare … BIN`), run
    /// in the app dir with the usual environment (`env` added; an empty
    /// value removes the variable), its log in `sup.log`.
    pub(crate) fn supervise_cmd(
        &self,
        mut base: Command,
        cmd: &[&str],
        env: &[(&str, &str)],
    ) -> Child {
        base.arg("supervise")
            .arg("--config")
            .arg(self.path("cfg.toml"))
            .arg("--")
            .args(cmd)
            .current_dir(self.app())
            .env("FILESYNC_SOCKET", self.path("sock"))
            .env("FILESYNC_STOP_GRACE_SECONDS", "2");
        for (k, v) in env {
            if v.is_empty() {
                base.env_remove(k);
            } else {
                base.env(k, v);
            }
        }
        base.stdout(Stdio::null())
            .stderr(std::fs::File::create(self.path("sup.log")).unwrap())
            .spawn()
            .unwrap()
    }

    /// The supervisor's log so far.
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.path("sup.log")).unwrap_or_default()
    }

    /// How many log lines contain `needle`.
    pub(crate) fn log_count(&self, needle: &str) -> usize {
        self.log().lines().filter(|l| l.contains(needle)).count()
    }

    /// Waits until `needle` is in `times` lines of the log.
    pub(crate) fn wait_log(&self, needle: &str, times: usize, timeout: Duration) -> bool {
        wait_until(timeout, || self.log_count(needle) >= times)
    }

    /// Like [`Sandbox::wait_log`], panicking with the log on timeout.
    pub(crate) fn expect_log(&self, needle: &str, times: usize, timeout: Duration) {
        assert!(
            self.wait_log(needle, times, timeout),
            "waited {timeout:?} for {times} log line(s) with {needle:?}:\n{}",
            self.log()
        );
    }

    /// A barrier for "nothing else happened": a plain file write the
    /// supervisor sees through inotify, ordered after every event already
    /// queued. Returns once its reload is logged as a change of exactly one
    /// file (an echo of an earlier sync leaking through would make it more,
    /// or reload on its own before).
    pub(crate) fn marker(&self, n: usize) {
        let before = self.log_count("change: ");
        std::fs::write(self.app().join(format!("marker{n}")), "m").unwrap();
        self.expect_log("change: ", before + 1, Duration::from_secs(10));
        let log = self.log();
        let last = log.lines().rfind(|l| l.contains("change: ")).unwrap();
        assert!(last.contains("change: 1 file(s)"), "{last}\n{log}");
    }

    /// Sends TERM to the supervisor and waits: its exit code and log.
    pub(crate) fn stop(&self, child: Child) -> (Option<i32>, String) {
        let (code, _) = stop(child);
        (code, self.log())
    }

    /// Runs the tar shim in Skaffold's form with `stream` on stdin.
    pub(crate) fn tar(&self, stream: &[u8]) -> Output {
        shim(
            self,
            &["tar", "xmf", "-", "-C", "/", "--no-same-owner"],
            stream,
        )
    }

    pub(crate) fn rm(&self, paths: &[&Path]) -> Output {
        let mut args = vec!["rm".to_string(), "-rf".into(), "--".into()];
        args.extend(paths.iter().map(|p| p.display().to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        shim(self, &args, b"")
    }

    pub(crate) fn socket_ready(&self) {
        wait_until(Duration::from_secs(10), || self.path("sock").exists());
    }
}

pub(crate) fn shim(sb: &Sandbox, args: &[&str], stdin: &[u8]) -> Output {
    use std::io::Write;
    let mut child = Command::new(BIN)
        .args(args)
        .env("FILESYNC_SOCKET", sb.path("sock"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let w = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    w.join().unwrap();
    out
}

/// A tar stream of `(absolute path, content)` files, as Skaffold writes it.
pub(crate) use filesync_e2e::skaffold_tar::stream;

pub(crate) fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

pub(crate) fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Sends TERM to `child` and waits: its exit code and its stderr (empty
/// when it went to a file).
pub(crate) fn stop(child: Child) -> (Option<i32>, String) {
    let _ = nix_kill(child.id() as i32, 15);
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every process whose parent chain leads to `root` (not `root` itself).
pub(crate) fn descendants(root: u32) -> Vec<u32> {
    let procs = processes();
    let mut out = Vec::new();
    let mut frontier = vec![root];
    while let Some(p) = frontier.pop() {
        for pr in procs.iter().filter(|pr| pr.ppid == p) {
            out.push(pr.pid);
            frontier.push(pr.pid);
        }
    }
    out
}

/// A process as `/proc/PID/stat` shows it.
#[derive(Debug, Clone)]
pub(crate) struct Proc {
    pub pid: u32,
    pub state: char,
    pub ppid: u32,
    pub pgrp: u32,
    pub comm: String,
}

pub(crate) fn process(pid: u32) -> Option<Proc> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (head, rest) = stat.rsplit_once(") ")?;
    let comm = head.split_once(" (")?.1.to_string();
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(Proc {
        pid,
        state: f.first()?.chars().next()?,
        ppid: f.get(1)?.parse().ok()?,
        pgrp: f.get(2)?.parse().ok()?,
        comm,
    })
}

pub(crate) fn processes() -> Vec<Proc> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .filter_map(process)
        .collect()
}

/// Is `pid` a live process (not gone, not a zombie)?
pub(crate) fn alive(pid: u32) -> bool {
    process(pid).is_some_and(|p| p.state != 'Z' && p.state != 'X')
}

pub(crate) fn nix_kill(pid: i32, sig: i32) -> std::io::Result<()> {
    let st = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .stderr(Stdio::null())
        .status()?;
    if st.success() {
        Ok(())
    } else {
        Err(std::io::Error::other("kill failed"))
    }
}

/// A free TCP port like an app's usual fixed one: below the kernel's
/// ephemeral range (where the test's own client connections take their
/// local ports; a fixed port inside it has a test of its own in
/// `held_sockets.rs`), free on 127.0.0.1 and `[::]`, and distinct for each
/// call of one test process, whose tests run in parallel and would
/// otherwise find the same free port before either binds it.
pub(crate) fn fixed_port() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let ephemeral_low = *filesync_runtime::supervisor::live::sockets::ephemeral_range().start();
    let low = 10000.min(ephemeral_low / 2);
    let span = ephemeral_low - low;
    // Spread test processes apart by pid, calls of one process by a counter.
    let start = (std::process::id() % u32::from(span)) as u16;
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        assert!(n < 2000, "no free port below {ephemeral_low}");
        let port = low + (start + n.wrapping_mul(7)) % span;
        if free_on_both(port) {
            return port;
        }
    }
}

/// Whether `port` can be bound on 127.0.0.1 and on `[::]` (an app on
/// `[::]` is dual-stack, as Node.js is by default).
pub(crate) fn free_on_both(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
        && std::net::TcpListener::bind(("::", port)).is_ok()
}
