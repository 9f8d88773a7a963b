//! Carries the policy's actions out and feeds it what happens: the only
//! part of the supervisor that starts, signals and reaps processes, keeps
//! the timers and answers the shims. Nothing here blocks: stops and builds
//! are children watched through SIGCHLD and timers, never waited for.

use super::held_sockets::Holding;
use super::live::{self, Outcome, Tracker};
use super::policy::{Action, Event, Job, Policy, Reloaded, Timer, Tool};
use super::process::{self, resolve};
use super::rebuild::BuildCommand;
use super::{Options, Signal};
use crate::errors::SpawnError;
use crate::log;
use crate::protocol::{Reply, ShimEvent};
use nix::unistd::Pid;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

/// What the supervisor's threads (socket, watcher, signals, build output
/// readers) send the loop.
pub enum Msg {
    Shim(ShimEvent),
    Fs(String),
    Signal(i32),
    BuildOutputClosed(u64),
    /// A live wait ([`live`]) ended for the app's start number `u64`.
    Live(u64, Reloaded, Instant, Outcome),
}

/// At idle the supervisor wakes only this often (30 times a minute: no
/// measurable CPU), to reap orphans whose SIGCHLD never came.
const REAP_TICK: Duration = Duration::from_secs(2);
/// After a build exits, how long its last output lines may take to be
/// logged before the result is (a daemon it left behind may hold the
/// pipes open for good).
const BUILD_OUTPUT_DRAIN: Duration = Duration::from_millis(300);

/// A build the executor tracks until its exit and output are both in.
struct RunningBuild {
    id: u64,
    pid: Pid,
    open_pipes: u8,
    exited: Option<(bool, String)>,
    drain_until: Option<Instant>,
    cancelled: bool,
}

pub struct Executor {
    opts: Options,
    policy: Policy,
    build_cmd: Option<BuildCommand>,
    /// The rebuilt program, when the original could not be replaced in
    /// place; started instead of `argv[0]`.
    rebuilt: Option<PathBuf>,
    /// The app's main process (= its process group).
    app: Option<Pid>,
    /// The app's starts and the ports a reload's start must listen on.
    live: Tracker,
    /// Its listening sockets, kept open across restarts.
    holding: Holding,
    build: Option<RunningBuild>,
    next_build_id: u64,
    timers: BTreeMap<Timer, Instant>,
    replies: HashMap<u64, Reply>,
    exit: Option<i32>,
    tx: Sender<Msg>,
}

impl Executor {
    pub fn new(
        opts: Options,
        policy: Policy,
        build_cmd: Option<BuildCommand>,
        holding: Holding,
        tx: Sender<Msg>,
    ) -> Executor {
        Executor {
            opts,
            policy,
            build_cmd,
            rebuilt: None,
            app: None,
            live: Tracker::default(),
            holding,
            build: None,
            next_build_id: 0,
            timers: BTreeMap::new(),
            replies: HashMap::new(),
            exit: None,
            tx,
        }
    }

    /// Starts the app and runs until the policy exits; returns its status.
    pub fn run(mut self, rx: &Receiver<Msg>) -> i32 {
        let first = self.policy.start(Instant::now());
        self.perform(first);
        loop {
            if let Some(code) = self.exit {
                self.cleanup();
                return code;
            }
            match rx.recv_timeout(self.next_wake()) {
                Ok(msg) => {
                    self.on_msg(msg);
                    // Everything that queued up meanwhile is taken in
                    // before the timers: one reload for all of it.
                    while let Ok(msg) = rx.try_recv() {
                        self.on_msg(msg);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return 1,
            }
            self.reap();
            self.finish_build();
            self.fire_due_timers();
        }
    }

    /// How long the loop may sleep: until the next timer or build drain,
    /// and at least every `REAP_TICK`, so zombies reparented to us are reaped
    /// even when their SIGCHLD was merged into another one or never sent
    /// (seen for orphans of a killed group in a PID namespace).
    fn next_wake(&self) -> Duration {
        let now = Instant::now();
        self.timers
            .values()
            .copied()
            .chain(self.build.as_ref().and_then(|b| b.drain_until))
            .min()
            .map_or(REAP_TICK, |t| t.saturating_duration_since(now))
            .min(REAP_TICK)
    }

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
            Msg::Live(start, kind, since, outcome) => {
                self.live_seen(start, kind, since, &outcome);
                return;
            }
        };
        self.feed(event);
    }

    fn perform(&mut self, actions: Vec<Action>) {
        let mut queue: VecDeque<Action> = actions.into();
        while let Some(action) = queue.pop_front() {
            match action {
                Action::Start(job) => {
                    let started = match job {
                        Job::App => self.start_app(),
                        Job::Build => self.start_build(),
                    };
                    if let Err(e) = started {
                        let event = Event::SpawnFailed(job, e);
                        queue.extend(self.policy.handle(Instant::now(), event));
                    }
                }
                Action::Signal(job, sig) => self.signal(job, sig),
                Action::Schedule(timer, at) => {
                    self.timers.insert(timer, at);
                }
                Action::Reply(id) => {
                    if let Some(r) = self.replies.remove(&id) {
                        r.send();
                    }
                }
                Action::AwaitLive { since, kind } => self.await_live(since, kind),
                Action::Log(line) => log!("{line}"),
                Action::Exit(code) => self.exit = Some(code),
            }
        }
    }

    fn signal(&mut self, job: Job, sig: Signal) {
        match job {
            Job::App => {
                if let Some(pid) = self.app {
                    if self.is_stop(sig) {
                        self.live.stopping(pid.as_raw(), &self.holding.ports());
                        self.holding.stopping(self.live.expected());
                    }
                    process::signal_group(pid, sig);
                }
            }
            Job::Build => {
                if let Some(b) = &mut self.build {
                    b.cancelled = true;
                    process::signal_group(b.pid, sig);
                }
            }
        }
    }

    fn start_app(&mut self) -> Result<(), SpawnError> {
        let argv = &self.opts.argv;
        let path = self.opts.env.get("PATH").cloned().unwrap_or_default();
        let program = self
            .rebuilt
            .clone()
            .unwrap_or_else(|| resolve(&argv[0], &path).unwrap_or_else(|| PathBuf::from(&argv[0])));
        let env = self.holding.app_env(&self.opts.env);
        let spec = process::Spec {
            program: &program,
            argv,
            env: &env,
            cwd: &self.opts.cwd,
        };
        let pid = spec.spawn_app().map_err(|source| SpawnError::Exec {
            command: argv.join(" "),
            source,
        })?;
        self.app = Some(pid);
        self.live.started();
        self.holding.started();
        log!("started {} (pid {pid})", argv.join(" "));
        Ok(())
    }

    /// The app was started for a reload: wait, off the loop, until it
    /// listens where the previous version did (see [`live`]).
    fn await_live(&mut self, since: Instant, kind: Reloaded) {
        let Some(pid) = self.app else { return };
        let (start, watch) = (self.live.current(), self.live.watch(pid.as_raw()));
        if watch.ports.is_empty() {
            self.live_seen(start, kind, since, &Outcome::Live(Instant::now()));
            return;
        }
        let tx = self.tx.clone();
        live::spawn(watch, move |outcome| {
            let _ = tx.send(Msg::Live(start, kind, since, outcome));
        });
    }

    /// A live wait ended: its line, if that start is still the app.
    fn live_seen(&mut self, start: u64, kind: Reloaded, since: Instant, outcome: &Outcome) {
        if self.app.is_some() && self.live.ended(start, outcome) {
            if !matches!(outcome, Outcome::Gone) {
                self.holding.settled();
            }
            if let Some(line) = live::line(kind, since, outcome) {
                log!("{line}");
            }
        }
    }

    /// A signal that stops the app (not one forwarded to it).
    fn is_stop(&self, sig: Signal) -> bool {
        [self.opts.stop_signal, Signal::SIGTERM, Signal::SIGINT]
            .into_iter()
            .chain([Signal::SIGQUIT, Signal::SIGKILL])
            .any(|s| s == sig)
    }

    fn start_build(&mut self) -> Result<(), SpawnError> {
        let Some(cmd) = &self.build_cmd else {
            return Err(SpawnError::NoBuildCommand);
        };
        self.next_build_id += 1;
        let id = self.next_build_id;
        let tx = self.tx.clone();
        let closed = move |id| {
            let _ = tx.send(Msg::BuildOutputClosed(id));
        };
        let pid = cmd
            .spawn(&self.opts.env, &self.opts.app_dir, id, closed)
            .map_err(|source| SpawnError::Exec {
                command: cmd.display(),
                source,
            })?;
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
        let Some((ok, status)) = self.build.take().and_then(|b| b.exited) else {
            return;
        };
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
