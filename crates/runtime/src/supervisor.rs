//! The supervisor: the image's default process in dev builds. It runs the
//! app's own process and keeps it current.
//!
//! - **Reload once per sync.** Shims announce a batch (`begin`) before any
//!   file changes and complete it (`end`) after the last one is in place; the
//!   reload happens after a short settle time (Skaffold runs `rm` then `tar`
//!   for one batch: both land in one reload). File-system events are ignored
//!   while a shim works and just after its reload; without shims they are
//!   debounced (`debounce_ms`).
//! - **Actions.** restart; rebuild-then-restart (the old process keeps
//!   serving when the build fails, and the compiler output is printed);
//!   none (static files).
//! - **PID 1.** Signals TERM/INT/HUP go to the app's process group; every
//!   child is reaped (orphaned grandchildren too: we are a subreaper);
//!   TERM/INT stop the app with a grace period, then SIGKILL of the group;
//!   the exit status is the app's.
//! - **Crashes.** An app that exits on its own is restarted with bounded
//!   exponential backoff; the supervisor stays up; a sync resets the
//!   backoff.
//! - **Nothing lost.** Changes that arrive during a rebuild or restart are
//!   queued and reloaded afterwards, so the app ends up on the final files.

use crate::log;
use crate::protocol::ShimEvent;
use filesync_rules::ReloadAction;
use nix::sys::signal::{killpg, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use std::collections::{BTreeMap, HashSet};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc::{channel, RecvTimeoutError};
use std::time::{Duration, Instant};

/// Everything the supervisor needs, resolved by the caller.
pub struct Options {
    pub argv: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub cwd: PathBuf,
    pub app_dir: PathBuf,
    pub plan: filesync_rules::Plan,
    pub debounce: Duration,
    pub socket: PathBuf,
    pub grace: Duration,
}

enum Msg {
    Shim(ShimEvent),
    Fs(String),
    Signal(i32),
}

/// How long to wait after an `rm` batch for the `tar` of the same sync.
const SETTLE_AFTER_RM: Duration = Duration::from_millis(250);
const QUIET_AFTER_SYNC: Duration = Duration::from_millis(300);
/// At idle the supervisor wakes only this often (30 times a minute: no
/// measurable CPU), to reap orphans whose SIGCHLD never came.
const REAP_TICK: Duration = Duration::from_secs(2);
const BACKOFF_START: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(10);

/// A batch this large leaves megabytes of freed event memory in glibc's
/// arenas (measured: 8.6 → 28 MiB RSS after a 50,000-file sync); it is
/// handed back to the kernel at the next idle tick.
const LARGE_BATCH: usize = 1000;

/// Resolves `cmd` like `exec.LookPath` with `path` (a `PATH` value).
pub fn resolve(cmd: &str, path: &str) -> Option<PathBuf> {
    if cmd.contains('/') {
        return Some(PathBuf::from(cmd));
    }
    path.split(':')
        .map(|d| Path::new(if d.is_empty() { "." } else { d }).join(cmd))
        .find(|p| p.is_file())
}

struct State {
    opts: Options,
    /// The rebuilt program, when the original could not be replaced in
    /// place (see `rebuild_output`); started instead of `argv[0]`.
    rebuilt: Option<PathBuf>,
    child: Option<Pid>,
    shims: HashSet<u64>,
    batch_files: usize,
    batch_from_shim: bool,
    /// A large batch was handled: trim the heap when next idle.
    trim_when_idle: bool,
    reload_at: Option<Instant>,
    quiet_until: Instant,
    last_sync_end: std::time::SystemTime,
    crashes: u32,
    restart_at: Option<Instant>,
    stopping: Option<Instant>,
    exit_code: Option<i32>,
}

pub fn run(opts: Options) -> anyhow::Result<i32> {
    let (tx, rx) = channel::<Msg>();
    let _ = nix::sys::prctl::set_child_subreaper(true);

    let mut signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGHUP,
        signal_hook::consts::SIGCHLD,
    ])?;
    {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for s in signals.forever() {
                if tx.send(Msg::Signal(s)).is_err() {
                    return;
                }
            }
        });
    }
    {
        let (stx, srx) = channel();
        crate::protocol::listen(&opts.socket, stx)?;
        let tx = tx.clone();
        std::thread::spawn(move || {
            for e in srx {
                if tx.send(Msg::Shim(e)).is_err() {
                    return;
                }
            }
        });
    }
    {
        let (ftx, frx) = channel();
        let dirs = crate::watch::start(opts.app_dir.clone(), opts.plan.clone(), ftx)?;
        log!(
            "watching {} ({dirs} directories); sync socket {}",
            opts.app_dir.display(),
            opts.socket.display()
        );
        let tx = tx.clone();
        std::thread::spawn(move || {
            for rel in frx {
                if tx.send(Msg::Fs(rel)).is_err() {
                    return;
                }
            }
        });
    }

    let mut st = State {
        opts,
        rebuilt: None,
        child: None,
        shims: HashSet::new(),
        batch_files: 0,
        trim_when_idle: false,
        batch_from_shim: false,
        reload_at: None,
        quiet_until: Instant::now(),
        last_sync_end: std::time::UNIX_EPOCH,
        crashes: 0,
        restart_at: None,
        stopping: None,
        exit_code: None,
    };
    st.start_child();
    loop {
        if let Some(code) = st.exit_code {
            return Ok(code);
        }
        let next = [st.reload_at, st.restart_at, st.stopping]
            .into_iter()
            .flatten()
            .min();
        // Wake at least every REAP_TICK: zombies reparented to us are
        // reaped even when their SIGCHLD was merged into another one or
        // never sent (seen for orphans of a killed group in a PID
        // namespace).
        let timeout = next
            .map(|t| t.saturating_duration_since(Instant::now()))
            .unwrap_or(REAP_TICK)
            .min(REAP_TICK);
        match rx.recv_timeout(timeout) {
            Ok(msg) => {
                st.handle(msg);
                // Everything that queued up meanwhile (syncs that arrived
                // during a rebuild) is taken in before acting: one reload
                // for all of them, not one each.
                while let Ok(msg) = rx.try_recv() {
                    st.handle(msg);
                }
            }
            Err(RecvTimeoutError::Timeout) => {
                if std::mem::take(&mut st.trim_when_idle) {
                    release_freed_memory();
                }
            }
            Err(RecvTimeoutError::Disconnected) => return Ok(1),
        }
        st.reap();
        let now = Instant::now();
        if st.stopping.is_some_and(|t| now >= t) {
            if let Some(pid) = st.child {
                log!("grace period over: SIGKILL to the app's process group");
                let _ = killpg(pid, Signal::SIGKILL);
            }
            st.stopping = Some(now + Duration::from_secs(3600));
        }
        if st.stopping.is_none() {
            if st.reload_at.is_some_and(|t| now >= t) {
                st.reload_at = None;
                st.reload();
            }
            if st.restart_at.is_some_and(|t| now >= t) {
                st.restart_at = None;
                st.start_child();
            }
        }
    }
}

impl State {
    fn handle(&mut self, msg: Msg) {
        match msg {
            Msg::Shim(ShimEvent::Begin(id)) => {
                self.shims.insert(id);
                self.reload_at = None;
            }
            Msg::Shim(ShimEvent::End(id, n, more_may_follow)) => {
                self.shims.remove(&id);
                self.batch_files += n;
                self.batch_from_shim = true;
                self.last_sync_end = std::time::SystemTime::now();
                if self.shims.is_empty() {
                    // `tar` is always last in a Skaffold batch: reload now.
                    // After `rm`, a `tar` of the same batch may follow.
                    let settle = if more_may_follow {
                        SETTLE_AFTER_RM
                    } else {
                        Duration::ZERO
                    };
                    self.reload_at = Some(Instant::now() + settle);
                }
            }
            Msg::Shim(ShimEvent::Abort(id)) => {
                self.shims.remove(&id);
                // The shim's rollback (staged files and directories removed
                // again) reaches us as late file-system events: not changes.
                self.last_sync_end = std::time::SystemTime::now();
                self.quiet_until = Instant::now() + QUIET_AFTER_SYNC;
                if self.shims.is_empty() && self.batch_files > 0 {
                    self.reload_at = Some(Instant::now());
                } else if self.shims.is_empty() {
                    log!("sync aborted: no file changed, no reload");
                }
            }
            Msg::Fs(rel) => {
                let now = Instant::now();
                if !self.shims.is_empty() || self.batch_from_shim {
                    return;
                }
                // Events of files a shim wrote arrive late after big batches;
                // a file last modified before the last sync ended was part of
                // it (already reloaded). Deletions: a short quiet window.
                match std::fs::symlink_metadata(self.opts.app_dir.join(&rel))
                    .and_then(|m| m.modified())
                {
                    Ok(mtime) if mtime <= self.last_sync_end => return,
                    Ok(_) => {}
                    Err(_) if now < self.quiet_until => return,
                    Err(_) => {}
                }
                self.batch_files += 1;
                self.reload_at = Some(now + self.opts.debounce);
            }
            Msg::Signal(s) if s == signal_hook::consts::SIGCHLD => self.reap(),
            Msg::Signal(s) => self.forward(s),
        }
    }

    fn start_child(&mut self) {
        let argv = &self.opts.argv;
        let path = self.opts.env.get("PATH").cloned().unwrap_or_default();
        let program = self
            .rebuilt
            .clone()
            .unwrap_or_else(|| resolve(&argv[0], &path).unwrap_or_else(|| PathBuf::from(&argv[0])));
        let spawned = Command::new(&program)
            .arg0(&argv[0])
            .args(&argv[1..])
            .env_clear()
            .envs(&self.opts.env)
            .current_dir(&self.opts.cwd)
            .process_group(0)
            .spawn();
        match spawned {
            Ok(child) => {
                let pid = Pid::from_raw(child.id() as i32);
                // Reaped by `reap` (waitpid(-1)), not through `Child`.
                std::mem::forget(child);
                self.child = Some(pid);
                log!("started {} (pid {pid})", argv.join(" "));
            }
            Err(e) => {
                log!("cannot start {}: {e}", argv.join(" "));
                self.schedule_restart();
            }
        }
    }

    fn schedule_restart(&mut self) {
        let delay = BACKOFF_START
            .saturating_mul(1 << self.crashes.min(10))
            .min(BACKOFF_MAX);
        self.crashes += 1;
        log!(
            "restarting in {} ms (attempt {})",
            delay.as_millis(),
            self.crashes
        );
        self.restart_at = Some(Instant::now() + delay);
    }

    fn reap(&mut self) {
        loop {
            match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(pid, code)) => {
                    self.child_gone(pid, code, format!("exited with status {code}"))
                }
                Ok(WaitStatus::Signaled(pid, sig, _)) => {
                    self.child_gone(pid, 128 + sig as i32, format!("was killed by {sig}"))
                }
                Ok(WaitStatus::StillAlive) | Err(_) => return,
                Ok(_) => {}
            }
        }
    }

    fn child_gone(&mut self, pid: Pid, code: i32, how: String) {
        if self.child != Some(pid) {
            return; // an orphaned grandchild, now reaped
        }
        self.child = None;
        if self.stopping.is_some() {
            log!("app {how}; exiting");
            self.exit_code = Some(code);
            return;
        }
        log!("app {how}");
        self.schedule_restart();
    }

    fn forward(&mut self, sig: i32) {
        let Ok(signal) = Signal::try_from(sig) else {
            return;
        };
        match self.child {
            Some(pid) => {
                let _ = killpg(pid, signal);
            }
            None if signal != Signal::SIGHUP => {
                self.exit_code = Some(128 + sig);
                return;
            }
            None => {}
        }
        if signal != Signal::SIGHUP {
            log!(
                "{signal}: stopping the app (grace {} s)",
                self.opts.grace.as_secs()
            );
            self.stopping = Some(Instant::now() + self.opts.grace);
            self.restart_at = None;
        }
    }

    /// Stops the current app process (TERM, grace, KILL), reaping it.
    /// The exit is waited for on a pidfd: the new process starts the moment
    /// the old one is gone (polling added up to a tick to every reload).
    fn stop_child(&mut self) {
        let Some(pid) = self.child.take() else { return };
        let _ = killpg(pid, Signal::SIGTERM);
        if !wait_exit(pid, self.opts.grace) {
            let _ = killpg(pid, Signal::SIGKILL);
            let _ = waitpid(pid, None);
        }
    }

    fn reload(&mut self) {
        let start = Instant::now();
        let files = std::mem::take(&mut self.batch_files);
        self.trim_when_idle |= files >= LARGE_BATCH;
        let from_shim = std::mem::take(&mut self.batch_from_shim);
        let what = if from_shim { "sync" } else { "change" };
        self.crashes = 0;
        self.restart_at = None;
        match self.opts.plan.action.clone() {
            ReloadAction::None => {
                log!("{what}: {files} file(s); nothing to reload (files are served as they are)")
            }
            ReloadAction::Restart => {
                self.stop_child();
                self.start_child();
                log!(
                    "{what}: {files} file(s) -> restarted in {} ms",
                    start.elapsed().as_millis()
                );
            }
            ReloadAction::Rebuild { command } => {
                let path = self.opts.env.get("PATH").cloned().unwrap_or_default();
                let exe = resolve(&self.opts.argv[0], &path)
                    .unwrap_or_else(|| PathBuf::from(&self.opts.argv[0]));
                // Only a command that writes the program itself (Go's
                // `-o {process_command}`) may need it elsewhere.
                let writes_program = command.iter().any(|a| a.contains("{process_command}"));
                let output = if writes_program {
                    rebuild_output(&exe)
                } else {
                    exe.clone()
                };
                let argv: Vec<String> = command
                    .iter()
                    .map(|a| a.replace("{process_command}", &output.to_string_lossy()))
                    .collect();
                log!("{what}: {files} file(s) -> rebuilding: {}", argv.join(" "));
                let out = Command::new(
                    resolve(&argv[0], &path).unwrap_or_else(|| PathBuf::from(&argv[0])),
                )
                .args(&argv[1..])
                .env_clear()
                .envs(&self.opts.env)
                .current_dir(&self.opts.app_dir)
                .output();
                match out {
                    Ok(o) if o.status.success() => {
                        if output != exe {
                            self.rebuilt = Some(output);
                        }
                        self.stop_child();
                        self.start_child();
                        log!(
                            "rebuilt and restarted in {} ms",
                            start.elapsed().as_millis()
                        );
                    }
                    Ok(o) => {
                        log!(
                            "rebuild failed ({}); the previous version keeps running:",
                            o.status
                        );
                        for line in String::from_utf8_lossy(&o.stdout)
                            .lines()
                            .chain(String::from_utf8_lossy(&o.stderr).lines())
                        {
                            log!("  {line}");
                        }
                    }
                    Err(e) => {
                        log!("rebuild could not start: {e}; the previous version keeps running")
                    }
                }
            }
        }
        if from_shim {
            self.quiet_until = Instant::now() + QUIET_AFTER_SYNC;
        }
        // Reap anything that exited meanwhile (SIGCHLDs may have coalesced).
        self.reap();
    }
}

/// Where a rebuild writes the app's program: over the original when the
/// container's user may replace it, else (the layer belongs to root under
/// Skaffold, to the build user under Paketo) a copy under
/// `/tmp/filesync-rebuilt/`, which is then started instead.
fn rebuild_output(exe: &Path) -> PathBuf {
    let replaceable = exe
        .parent()
        .is_some_and(|dir| nix::unistd::access(dir, nix::unistd::AccessFlags::W_OK).is_ok());
    if replaceable {
        return exe.to_path_buf();
    }
    let dir = std::env::temp_dir().join("filesync-rebuilt");
    if let Err(e) = std::fs::create_dir_all(&dir) {
        log!("cannot create {}: {e}", dir.display());
    }
    dir.join(
        exe.file_name()
            .unwrap_or_else(|| std::ffi::OsStr::new("app")),
    )
}

/// Returns the heap's free memory to the kernel. The supervisor lives as
/// long as the pod; without this a single large sync would keep its peak
/// RSS for good, since glibc trims only the top of the main arena itself.
fn release_freed_memory() {
    // SAFETY: malloc_trim only walks glibc's own arenas under their locks.
    unsafe {
        nix::libc::malloc_trim(0);
    }
}

/// Waits up to `timeout` for the child `pid` to exit and reaps it; false if
/// it is still running. Sleeps on a pidfd (Linux ≥ 5.3), else polls.
fn wait_exit(pid: Pid, timeout: Duration) -> bool {
    use nix::libc;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    let deadline = Instant::now() + timeout;
    // SAFETY: pidfd_open takes a pid and flags; it returns a new fd or -1.
    let raw = unsafe { libc::syscall(libc::SYS_pidfd_open, pid.as_raw(), 0) } as i32;
    // SAFETY: a non-negative result is a fresh fd nobody else owns.
    let pidfd = (raw >= 0).then(|| unsafe { OwnedFd::from_raw_fd(raw) });
    loop {
        if !matches!(
            waitpid(pid, Some(WaitPidFlag::WNOHANG)),
            Ok(WaitStatus::StillAlive)
        ) {
            return true;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        match &pidfd {
            Some(fd) => {
                let mut pfd = libc::pollfd {
                    fd: fd.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                };
                // SAFETY: one valid pollfd; it turns readable when the
                // process exits.
                unsafe { libc::poll(&mut pfd, 1, left.as_millis().clamp(1, 1000) as i32) };
            }
            None => std::thread::sleep(Duration::from_millis(1)),
        }
    }
}
