//! The supervisor: the image's default process in dev builds. It runs the
//! app's own process and keeps it current.
//!
//! What it decides lives in [`policy`], a pure state machine (batching,
//! restarts, rebuilds, crash backoff, the stop sequence; its module docs
//! state every rule). This module only wires the world to it: it feeds
//! events in (shim and hook messages from [`crate::protocol`], file events
//! from [`crate::watch`], signals from [`signals`], children reaped by
//! [`process`], timers) and carries the actions out (start or signal the
//! app, start or signal a build in [`rebuild`], answer a shim, log, exit).
//! Nothing in the loop blocks: stops and builds are children watched
//! through SIGCHLD and timers, never waited for.
//!
//! - **PID 1.** Every child is reaped (orphaned grandchildren too: we are
//!   a subreaper). When the app's main process is gone, whatever is left of
//!   its process group is killed, as a container's processes die with its
//!   PID 1.
//! - **Degrades instead of exiting.** Without a notification socket (see
//!   [`crate::protocol`] for where it may be) the app still runs and file
//!   events still reload it; without an inotify watcher, syncs through the
//!   shims still reload it. Either way one log line says what still works.

pub mod policy;
pub mod process;
pub mod rebuild;
pub mod signals;

use crate::config::BatchEnd;
use crate::log;
use crate::protocol::{Reply, ShimEvent};
use crate::watch::Gate;
use filesync_rules::ReloadAction;
pub use nix::sys::signal::Signal;
use nix::unistd::Pid;
use policy::{Action, Event, Policy, Reload, Settings, Timer, Tool};
use rebuild::BuildCommand;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::mpsc::{channel, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

pub use process::resolve;

/// Everything the supervisor needs, resolved by the caller.
pub struct Options {
    pub argv: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub cwd: PathBuf,
    pub app_dir: PathBuf,
    pub plan: filesync_rules::Plan,
    pub debounce: Duration,
    /// The configured socket path (fallbacks: [`crate::protocol::candidates`]).
    pub socket: PathBuf,
    pub grace: Duration,
    pub stop_signal: Signal,
    pub batch_end: BatchEnd,
}

enum Msg {
    Shim(ShimEvent),
    Fs(String),
    Signal(i32),
    BuildOutputClosed(u64),
}

/// At idle the supervisor wakes only this often (30 times a minute: no
/// measurable CPU), to reap orphans whose SIGCHLD never came.
const REAP_TICK: Duration = Duration::from_secs(2);
/// After a build exits, how long its last output lines may take to be
/// logged before the result is (a daemon it left behind may hold the
/// pipes open for good).
const BUILD_OUTPUT_DRAIN: Duration = Duration::from_millis(300);

pub fn run(opts: Options) -> anyhow::Result<i32> {
    let _ = nix::sys::prctl::set_child_subreaper(true);
    let (tx, rx) = channel::<Msg>();
    {
        let tx = tx.clone();
        signals::spawn(move |s| tx.send(Msg::Signal(s)).is_ok())?;
    }
    let gate = Gate::new(Some(opts.app_dir.clone()));
    let socket = {
        let tx = tx.clone();
        let candidates = crate::protocol::candidates(&opts.socket);
        crate::protocol::listen(&candidates, gate.clone(), move |e| {
            tx.send(Msg::Shim(e)).is_ok()
        })
    };
    let watching = {
        let tx = tx.clone();
        crate::watch::start(opts.app_dir.clone(), opts.plan.clone(), gate, move |rel| {
            tx.send(Msg::Fs(rel)).is_ok()
        })
    };
    let socket_note = match &socket {
        Ok(path) if *path == opts.socket => format!("sync socket {}", path.display()),
        Ok(path) => format!(
            "sync socket {} ({} could not be created)",
            path.display(),
            opts.socket.display()
        ),
        Err(_) => "no sync socket".into(),
    };
    match &watching {
        Ok(w) => log!(
            "watching {} ({} directories); {socket_note}",
            opts.app_dir.display(),
            w.dirs
        ),
        Err(_) => log!("not watching {}; {socket_note}", opts.app_dir.display()),
    }
    if let Err(errors) = &socket {
        let why: Vec<String> = errors
            .iter()
            .map(|(p, e)| format!("{}: {e}", p.display()))
            .collect();
        log!(
            "degraded: no sync socket ({}). The app runs, and file changes still reload it through file-system events (debounced), but syncs are not batched: a large sync may restart it more than once",
            why.join("; ")
        );
    }
    match &watching {
        Err(e) => log!(
            "degraded: no file-system watcher ({e}; on a shared node, fs.inotify.max_user_instances may be exhausted). The app runs, and syncs through Skaffold's tar and rm still reload it; changes made any other way (kubectl cp, an editor in the container) are not seen"
        ),
        Ok(w) => {
            if let Some((n, first)) = &w.failed {
                log!(
                    "degraded: {n} directories are not watched (first: {first}; fs.inotify.max_user_watches may be reached); syncs through Skaffold's tar and rm still reload the app"
                );
            }
        }
    }

    let (reload, build_cmd) = match &opts.plan.action {
        ReloadAction::None => (Reload::None, None),
        ReloadAction::Restart => (Reload::Restart, None),
        ReloadAction::Rebuild { command } => (
            Reload::Rebuild,
            Some(BuildCommand::new(command, &opts.argv[0], &opts.env)),
        ),
    };
    let settings = Settings {
        reload,
        build_command: build_cmd
            .as_ref()
            .map(BuildCommand::display)
            .unwrap_or_default(),
        debounce: opts.debounce,
        batch_end: opts.batch_end,
        grace: opts.grace,
        stop_signal: opts.stop_signal,
    };
    let mut ex = Executor {
        policy: Policy::new(settings),
        opts,
        build_cmd,
        rebuilt: None,
        app: None,
        build: None,
        next_build_id: 0,
        timers: BTreeMap::new(),
        replies: HashMap::new(),
        exit: None,
        tx,
    };
    let first = ex.policy.start(Instant::now());
    ex.perform(first);
    loop {
        if let Some(code) = ex.exit {
            ex.cleanup();
            return Ok(code);
        }
        let now = Instant::now();
        let next = ex
            .timers
            .values()
            .copied()
            .chain(ex.build.as_ref().and_then(|b| b.drain_until))
            .min();
        // Wake at least every REAP_TICK: zombies reparented to us are
        // reaped even when their SIGCHLD was merged into another one or
        // never sent (seen for orphans of a killed group in a PID
        // namespace).
        let timeout = next
            .map(|t| t.saturating_duration_since(now))
            .unwrap_or(REAP_TICK)
            .min(REAP_TICK);
        match rx.recv_timeout(timeout) {
            Ok(msg) => {
                ex.on_msg(msg);
                // Everything that queued up meanwhile is taken in before the
                // timers: one reload for all of it.
                while let Ok(msg) = rx.try_recv() {
                    ex.on_msg(msg);
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return Ok(1),
        }
        ex.reap();
        ex.finish_build();
        ex.fire_due_timers();
    }
}

/// A build the executor tracks until its exit and output are both in.
struct RunningBuild {
    id: u64,
    pid: Pid,
    open_pipes: u8,
    exited: Option<(bool, String)>,
    drain_until: Option<Instant>,
    cancelled: bool,
}

/// Carries the policy's actions out and feeds it what happens.
struct Executor {
    opts: Options,
    policy: Policy,
    build_cmd: Option<BuildCommand>,
    /// The rebuilt program, when the original could not be replaced in
    /// place; started instead of `argv[0]`.
    rebuilt: Option<PathBuf>,
    /// The app's main process (= its process group).
    app: Option<Pid>,
    build: Option<RunningBuild>,
    next_build_id: u64,
    timers: BTreeMap<Timer, Instant>,
    replies: HashMap<u64, Reply>,
    exit: Option<i32>,
    tx: Sender<Msg>,
}

impl Executor {
    fn feed(&mut self, event: Event) {
        let actions = self.policy.handle(Instant::now(), event);
        self.perform(actions);
    }

    fn on_msg(&mut self, msg: Msg) {
        let event = match msg {
            Msg::Shim(ShimEvent::Begin(id)) => Event::ShimBegin(id),
            Msg::Shim(ShimEvent::End {
                id,
                files,
                tool,
                reply,
            }) => {
                self.replies.insert(id, reply);
                Event::ShimEnd {
                    id,
                    files,
                    tool: Tool::parse(&tool),
                }
            }
            Msg::Shim(ShimEvent::Abort(id)) => Event::ShimAbort(id),
            Msg::Shim(ShimEvent::Done { id, reply }) => {
                self.replies.insert(id, reply);
                Event::SyncDone(id)
            }
            Msg::Fs(rel) => Event::FileChanged(rel),
            Msg::Signal(s) if s == signal_hook::consts::SIGCHLD => {
                self.reap();
                return;
            }
            Msg::Signal(s) => match Signal::try_from(s) {
                Ok(sig) => Event::Signal(sig),
                Err(_) => return,
            },
            Msg::BuildOutputClosed(id) => {
                if let Some(b) = self.build.as_mut().filter(|b| b.id == id) {
                    b.open_pipes = b.open_pipes.saturating_sub(1);
                }
                self.finish_build();
                return;
            }
        };
        self.feed(event);
    }

    fn perform(&mut self, actions: Vec<Action>) {
        let mut queue: VecDeque<Action> = actions.into();
        while let Some(action) = queue.pop_front() {
            match action {
                Action::StartApp => {
                    if let Err(e) = self.start_app() {
                        queue.extend(self.policy.handle(Instant::now(), Event::AppSpawnFailed(e)));
                    }
                }
                Action::SignalApp(sig) => {
                    if let Some(pid) = self.app {
                        process::signal_group(pid, sig);
                    }
                }
                Action::StartBuild => {
                    if let Err(e) = self.start_build() {
                        queue.extend(
                            self.policy
                                .handle(Instant::now(), Event::BuildSpawnFailed(e)),
                        );
                    }
                }
                Action::SignalBuild(sig) => {
                    if let Some(b) = &mut self.build {
                        b.cancelled = true;
                        process::signal_group(b.pid, sig);
                    }
                }
                Action::Schedule(timer, at) => {
                    self.timers.insert(timer, at);
                }
                Action::Reply(id) => {
                    if let Some(r) = self.replies.remove(&id) {
                        r.send();
                    }
                }
                Action::Log(line) => log!("{line}"),
                Action::Exit(code) => self.exit = Some(code),
            }
        }
    }

    fn start_app(&mut self) -> Result<(), String> {
        let argv = &self.opts.argv;
        let path = self.opts.env.get("PATH").cloned().unwrap_or_default();
        let program = self
            .rebuilt
            .clone()
            .unwrap_or_else(|| resolve(&argv[0], &path).unwrap_or_else(|| PathBuf::from(&argv[0])));
        let spec = process::Spec {
            program: &program,
            argv,
            env: &self.opts.env,
            cwd: &self.opts.cwd,
        };
        match spec.spawn_app() {
            Ok(pid) => {
                self.app = Some(pid);
                log!("started {} (pid {pid})", argv.join(" "));
                Ok(())
            }
            Err(e) => Err(format!("{}: {e}", argv.join(" "))),
        }
    }

    fn start_build(&mut self) -> Result<(), String> {
        let Some(cmd) = &self.build_cmd else {
            return Err("no rebuild command".into());
        };
        self.next_build_id += 1;
        let id = self.next_build_id;
        let tx = self.tx.clone();
        let closed = move |id| {
            let _ = tx.send(Msg::BuildOutputClosed(id));
        };
        let pid = cmd
            .spawn(&self.opts.env, &self.opts.app_dir, id, closed)
            .map_err(|e| format!("{}: {e}", cmd.display()))?;
        self.build = Some(RunningBuild {
            id,
            pid,
            open_pipes: 2,
            exited: None,
            drain_until: None,
            cancelled: false,
        });
        Ok(())
    }

    fn reap(&mut self) {
        for r in process::reap() {
            if self.app == Some(r.pid) {
                self.app = None;
                // What is left of its group goes with it.
                process::signal_group(r.pid, Signal::SIGKILL);
                self.feed(Event::AppExited {
                    code: r.code,
                    how: r.how,
                });
            } else if let Some(b) = self.build.as_mut().filter(|b| b.pid == r.pid) {
                if b.cancelled {
                    process::signal_group(b.pid, Signal::SIGKILL);
                }
                b.exited = Some((r.success, r.how));
                b.drain_until = Some(Instant::now() + BUILD_OUTPUT_DRAIN);
                self.finish_build();
            }
            // Anything else: an orphan reparented to us, now reaped.
        }
    }

    /// Reports a build that has exited once its output is all logged (or
    /// the drain time is over).
    fn finish_build(&mut self) {
        let done = self.build.as_ref().is_some_and(|b| {
            b.exited.is_some()
                && (b.open_pipes == 0 || b.drain_until.is_some_and(|t| Instant::now() >= t))
        });
        if !done {
            return;
        }
        let b = self.build.take().expect("checked");
        let (ok, status) = b.exited.expect("checked");
        if ok {
            if let Some(cmd) = &self.build_cmd {
                if cmd.output != cmd.exe {
                    self.rebuilt = Some(cmd.output.clone());
                }
            }
        }
        self.feed(Event::BuildExited { ok, status });
    }

    fn fire_due_timers(&mut self) {
        let now = Instant::now();
        let due: Vec<Timer> = self
            .timers
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(t, _)| *t)
            .collect();
        for t in due {
            self.timers.remove(&t);
            self.feed(Event::TimerFired(t));
        }
    }

    /// Before exiting: nothing we started may outlive us.
    fn cleanup(&mut self) {
        if let Some(pid) = self.app {
            process::signal_group(pid, Signal::SIGKILL);
        }
        if let Some(b) = &self.build {
            process::signal_group(b.pid, Signal::SIGKILL);
        }
    }
}
