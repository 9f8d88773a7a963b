//! The supervisor's decisions as a pure state machine: events and the
//! current time in, actions out. No process, file, socket or clock is
//! touched here (the main loop does that), so every rule below is unit
//! tested with a fake clock.
//!
//! **Batches, in Skaffold's order.** Skaffold runs `tar` for a batch's
//! copies and then, only if it has deletions, `rm` (v2.24
//! `sync/sync.go` `PodSyncer.sync`, `sync/docker.go`
//! `ContainerSyncer.Sync`). With [`BatchEnd::Shim`] (no hook) every shim
//! ends a batch: an edit-only save reloads at once after `tar`; a save with
//! deletions reloads after `tar` and again after `rm` — at most twice, the
//! last on the final files — and a shim that begins while the app is being
//! stopped for a reload holds the new start until it ends (2 s at most), so
//! the two often merge into one. The `rm` shim is answered only once the
//! app that may still hold a deleted file is gone: once `rm` returns, the
//! app never serves a deleted file. With [`BatchEnd::Hook`] `tar` and `rm`
//! only accumulate and `sync-done` (Skaffold's after-sync container hook)
//! reloads once; 2 s after the last shim without a hook, it reloads anyway.
//! The recorded mode is a starting point, corrected by what happens: a
//! `sync-done` switches to hook mode (the hook runs, so later batches wait
//! for it), a hook that never came switches back to shim mode (only that
//! one batch waited).
//! Changes that arrive without a shim are debounced.
//!
//! **Restarts.** The app is stopped with the stop signal, then SIGKILL
//! after the grace period; the new one starts once the old one is reaped.
//! **Rebuilds** run while the old app keeps serving; a newer batch cancels
//! a running build (TERM, then KILL after the grace period) and builds
//! again on the final files (`watchexec --on-busy-update=restart`); a
//! failed build keeps the old app.
//!
//! **Crashes** restart with exponential backoff (100 ms doubling to 10 s).
//! The backoff resets after a reload, and when the app had been up for
//! [`HEALTHY_UPTIME`] before it crashed: an app that crashes once an hour
//! is restarted after 100 ms every time.
//!
//! **Signals.** TERM, INT and QUIT stop the supervisor: TERM reaches the
//! app as the configured stop signal, INT and QUIT as they are; the app
//! and a running build get the grace period, then SIGKILL; the exit status
//! is the app's (128 + signal when it was not running). HUP, USR1, USR2 and
//! WINCH are forwarded to the app.

use crate::config::BatchEnd;
use nix::sys::signal::Signal;
use std::time::{Duration, Instant};

pub const BACKOFF_START: Duration = Duration::from_millis(100);
pub const BACKOFF_MAX: Duration = Duration::from_secs(10);
/// An app up this long before it crashes counts as healthy: the crash
/// backoff starts again from [`BACKOFF_START`].
pub const HEALTHY_UPTIME: Duration = Duration::from_secs(10);
/// With [`BatchEnd::Hook`]: how long after the last shim the reload waits
/// for `sync-done` before it happens anyway.
pub const HOOK_FALLBACK: Duration = Duration::from_secs(2);
/// How long a restart's new start waits for a shim that began meanwhile.
pub const HOLD_START_MAX: Duration = Duration::from_secs(2);

/// What a batch of changes does to the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reload {
    None,
    Restart,
    Rebuild,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub reload: Reload,
    /// The rebuild command as logged.
    pub build_command: String,
    /// Quiet period for changes that arrive without a shim.
    pub debounce: Duration,
    pub batch_end: BatchEnd,
    pub grace: Duration,
    pub stop_signal: Signal,
}

/// Which shim ended a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Tar,
    Rm,
    Other,
}

impl Tool {
    pub fn parse(s: &str) -> Tool {
        match s {
            "tar" => Tool::Tar,
            "rm" => Tool::Rm,
            _ => Tool::Other,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Timer {
    /// Debounce of file events, or the hook fallback.
    Reload,
    /// A crash restart's backoff, or a held start's limit.
    AppStart,
    /// The app's stop grace period.
    AppGrace,
    /// A cancelled build's grace period.
    BuildGrace,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A relevant file (relative path) changed outside any shim session
    /// (the watcher already dropped the shims' own events).
    FileChanged(String),
    ShimBegin(u64),
    /// A shim's batch is complete (`tool`: which shim, for the record:
    /// both end a batch the same way).
    ShimEnd {
        id: u64,
        files: usize,
        tool: Tool,
    },
    ShimAbort(u64),
    /// `filesync sync-done`: the batch is complete (Skaffold's after-sync
    /// hook); `id` is answered once it is handled.
    SyncDone(u64),
    /// The app's main process exited (`code` as a shell reports it).
    AppExited {
        code: i32,
        how: String,
    },
    AppSpawnFailed(String),
    BuildExited {
        ok: bool,
        status: String,
    },
    BuildSpawnFailed(String),
    Signal(Signal),
    TimerFired(Timer),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    StartApp,
    /// Signal the app's process group.
    SignalApp(Signal),
    StartBuild,
    /// Signal the build's process group.
    SignalBuild(Signal),
    /// Wake the loop at `Instant` with [`Event::TimerFired`] (replaces an
    /// earlier schedule of the same timer; a timer that fires when its
    /// deadline was moved or cleared is ignored).
    Schedule(Timer, Instant),
    /// Answer the shim or hook session `id`: its batch is handled.
    Reply(u64),
    Log(String),
    Exit(i32),
}

/// Changes not yet handed to a reload.
#[derive(Debug, Default)]
struct Batch {
    /// Files the shims reported.
    files: usize,
    /// Files changed outside the shims (several events of one file count
    /// once).
    paths: std::collections::BTreeSet<String>,
    changes: bool,
    from_shim: bool,
    replies: Vec<u64>,
}

impl Batch {
    fn cause(&self) -> Cause {
        Cause::Files {
            count: self.files + self.paths.len(),
            from_shim: self.from_shim,
        }
    }
}

impl Cause {
    fn label(self) -> String {
        match self {
            Cause::Files { count, from_shim } => {
                let what = if from_shim { "sync" } else { "change" };
                format!("{what}: {count} file(s)")
            }
            Cause::Rebuilt => "rebuilt".into(),
        }
    }
}

/// What a restart is for: a batch of files, or a rebuild.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cause {
    Files { count: usize, from_shim: bool },
    Rebuilt,
}

/// A restart under way: what it is for, since when, who waits for it.
#[derive(Debug)]
struct Restart {
    cause: Cause,
    started: Instant,
    replies: Vec<u64>,
}

impl Restart {
    fn merge(&mut self, other: Restart) {
        self.cause = match (self.cause, other.cause) {
            (
                Cause::Files {
                    count: a,
                    from_shim: sa,
                },
                Cause::Files {
                    count: b,
                    from_shim: sb,
                },
            ) => Cause::Files {
                count: a + b,
                from_shim: sa || sb,
            },
            (c @ Cause::Files { .. }, Cause::Rebuilt) | (Cause::Rebuilt, c) => c,
        };
        self.replies.extend(other.replies);
    }
}

#[derive(Debug)]
enum App {
    /// Not running. `start_at`: a crash restart's backoff, or the limit of
    /// a start held for a shim (then `restart` is the reload it belongs to).
    Down {
        start_at: Option<Instant>,
        restart: Option<Restart>,
    },
    Running {
        since: Instant,
    },
    /// Signalled; SIGKILL at `deadline`. `restart`: start again once it is
    /// gone; `None`: the supervisor is shutting down.
    Stopping {
        deadline: Instant,
        killed: bool,
        restart: Option<Restart>,
    },
}

#[derive(Debug)]
enum Build {
    Idle,
    Running {
        started: Instant,
    },
    /// Signalled; SIGKILL at `deadline`. `again`: build again afterwards
    /// (a newer batch superseded it).
    Cancelling {
        deadline: Instant,
        killed: bool,
        again: bool,
    },
}

#[derive(Debug)]
struct Shutdown {
    signal: Signal,
    code: Option<i32>,
}

#[derive(Debug)]
pub struct Policy {
    s: Settings,
    app: App,
    build: Build,
    shims: std::collections::BTreeSet<u64>,
    pending: Batch,
    reload_at: Option<Instant>,
    /// Hook mode: shim batches ended, waiting for `sync-done`.
    awaiting_hook: bool,
    /// `sync-done` came while a shim was still open.
    done_pending: bool,
    crashes: u32,
    shutdown: Option<Shutdown>,
    exited: bool,
}

type Out = Vec<Action>;

impl Policy {
    pub fn new(settings: Settings) -> Policy {
        Policy {
            s: settings,
            app: App::Down {
                start_at: None,
                restart: None,
            },
            build: Build::Idle,
            shims: Default::default(),
            pending: Batch::default(),
            reload_at: None,
            awaiting_hook: false,
            done_pending: false,
            crashes: 0,
            shutdown: None,
            exited: false,
        }
    }

    /// The first start of the app.
    pub fn start(&mut self, now: Instant) -> Out {
        self.app = App::Running { since: now };
        vec![Action::StartApp]
    }

    pub fn handle(&mut self, now: Instant, event: Event) -> Out {
        let mut out = Vec::new();
        if self.exited {
            return out;
        }
        match event {
            Event::FileChanged(rel) => self.file_changed(now, rel, &mut out),
            Event::ShimBegin(id) => {
                self.shims.insert(id);
                // The shim's end reloads everything pending.
                self.reload_at = None;
            }
            Event::ShimEnd { id, files, .. } => self.shim_end(now, id, files, &mut out),
            Event::ShimAbort(id) => self.shim_abort(now, id, &mut out),
            Event::SyncDone(id) => self.sync_done(now, id, &mut out),
            Event::AppExited { code, how } => self.app_exited(now, code, how, &mut out),
            Event::AppSpawnFailed(e) => {
                out.push(Action::Log(format!("cannot start the app: {e}")));
                self.app = App::Down {
                    start_at: None,
                    restart: None,
                };
                if self.shutdown.is_none() {
                    self.schedule_restart(now, &mut out);
                }
            }
            Event::BuildExited { ok, status } => self.build_exited(now, ok, status, &mut out),
            Event::BuildSpawnFailed(e) => {
                self.build = Build::Idle;
                out.push(Action::Log(format!(
                    "rebuild could not start: {e}; the previous version keeps running"
                )));
            }
            Event::Signal(sig) => self.signal(now, sig, &mut out),
            Event::TimerFired(t) => self.timer(now, t, &mut out),
        }
        self.maybe_exit(&mut out);
        out
    }

    fn file_changed(&mut self, now: Instant, rel: String, out: &mut Out) {
        if self.shutdown.is_some() || !self.shims.is_empty() {
            // A shim is at work: its own reload covers every file.
            return;
        }
        self.pending.paths.insert(rel);
        self.pending.changes = true;
        if self.awaiting_hook {
            // Part of the batch the hook (or its fallback) ends.
            return;
        }
        let at = now + self.s.debounce;
        self.reload_at = Some(at);
        out.push(Action::Schedule(Timer::Reload, at));
    }

    fn shim_end(&mut self, now: Instant, id: u64, files: usize, out: &mut Out) {
        self.shims.remove(&id);
        self.pending.files += files;
        self.pending.changes = true;
        self.pending.from_shim = true;
        if self.shutdown.is_some() {
            out.push(Action::Reply(id));
            return;
        }
        match self.s.batch_end {
            BatchEnd::Hook => {
                // Accumulate: the shim returns at once, the hook reloads.
                out.push(Action::Reply(id));
                self.awaiting_hook = true;
                if self.shims.is_empty() {
                    if std::mem::take(&mut self.done_pending) {
                        self.reload(now, out);
                    } else {
                        let at = now + HOOK_FALLBACK;
                        self.reload_at = Some(at);
                        out.push(Action::Schedule(Timer::Reload, at));
                    }
                }
            }
            BatchEnd::Shim => {
                // `rm` is the last step of a batch, `tar` the last of an
                // edit-only one: either way, reload now. The shim is answered
                // once the app that may hold the old files is gone (only `rm`
                // waits for it).
                self.pending.replies.push(id);
                if self.shims.is_empty() {
                    self.reload(now, out);
                }
            }
        }
    }

    fn shim_abort(&mut self, now: Instant, id: u64, out: &mut Out) {
        self.shims.remove(&id);
        if !self.shims.is_empty() || self.shutdown.is_some() {
            return;
        }
        if !self.pending.changes {
            out.push(Action::Log(
                "sync aborted: no file changed, no reload".into(),
            ));
        }
        if self.done_pending || (self.pending.changes && !self.awaiting_hook) {
            // (With nothing pending this only answers the waiting hook.)
            self.reload(now, out);
        } else if self.pending.changes {
            let at = now + HOOK_FALLBACK;
            self.reload_at = Some(at);
            out.push(Action::Schedule(Timer::Reload, at));
        } else {
            self.release_held_start(now, out);
        }
    }

    fn sync_done(&mut self, now: Instant, id: u64, out: &mut Out) {
        if self.s.batch_end == BatchEnd::Shim {
            // Skaffold runs the after-sync hook: from the next batch on,
            // `tar` and `rm` wait for it and the batch reloads once.
            out.push(Action::Log(
                "after-sync hook seen: from now on a sync reloads once, when the hook runs".into(),
            ));
            self.s.batch_end = BatchEnd::Hook;
        }
        if self.shutdown.is_some() {
            out.push(Action::Reply(id));
            return;
        }
        if !self.shims.is_empty() {
            self.pending.replies.push(id);
            self.done_pending = true;
            return;
        }
        if self.pending.changes {
            self.pending.replies.push(id);
            self.reload(now, out);
            return;
        }
        // Nothing new (shim mode: the shims reloaded already): answer once
        // the reload under way, if any, is done.
        match &mut self.app {
            App::Stopping {
                restart: Some(r), ..
            }
            | App::Down {
                restart: Some(r), ..
            } => r.replies.push(id),
            _ => out.push(Action::Reply(id)),
        }
    }

    /// Acts on everything pending (shims are all closed).
    fn reload(&mut self, now: Instant, out: &mut Out) {
        let batch = std::mem::take(&mut self.pending);
        self.reload_at = None;
        self.awaiting_hook = false;
        self.done_pending = false;
        if !batch.changes {
            out.extend(batch.replies.into_iter().map(Action::Reply));
            self.release_held_start(now, out);
            return;
        }
        self.crashes = 0;
        let cause = batch.cause();
        let label = cause.label();
        match self.s.reload {
            Reload::None => {
                out.push(Action::Log(format!(
                    "{label}; nothing to reload (files are served as they are)"
                )));
                out.extend(batch.replies.into_iter().map(Action::Reply));
                self.release_held_start(now, out);
            }
            Reload::Restart => self.restart(
                now,
                Restart {
                    cause,
                    started: now,
                    replies: batch.replies,
                },
                out,
            ),
            Reload::Rebuild => {
                // The old app serves while the build runs.
                out.extend(batch.replies.into_iter().map(Action::Reply));
                self.release_held_start(now, out);
                match &mut self.build {
                    Build::Idle => {
                        out.push(Action::Log(format!(
                            "{label} -> rebuilding: {}",
                            self.s.build_command
                        )));
                        out.push(Action::StartBuild);
                        self.build = Build::Running { started: now };
                    }
                    Build::Running { .. } => {
                        out.push(Action::Log(format!(
                            "{label} while a build runs -> cancelling it; building again on the final files"
                        )));
                        out.push(Action::SignalBuild(Signal::SIGTERM));
                        let deadline = now + self.s.grace;
                        out.push(Action::Schedule(Timer::BuildGrace, deadline));
                        self.build = Build::Cancelling {
                            deadline,
                            killed: false,
                            again: true,
                        };
                    }
                    Build::Cancelling { again, .. } => {
                        *again = true;
                        out.push(Action::Log(format!(
                            "{label} while a build is being cancelled -> building on the final files next"
                        )));
                    }
                }
            }
        }
    }

    /// Stops the app for `restart` (or merges into the restart under way)
    /// and starts it again once it is gone.
    fn restart(&mut self, now: Instant, restart: Restart, out: &mut Out) {
        match &mut self.app {
            App::Running { .. } => {
                out.push(Action::SignalApp(self.s.stop_signal));
                let deadline = now + self.s.grace;
                out.push(Action::Schedule(Timer::AppGrace, deadline));
                self.app = App::Stopping {
                    deadline,
                    killed: false,
                    restart: Some(restart),
                };
            }
            App::Stopping {
                restart: Some(r), ..
            } => r.merge(restart),
            App::Stopping { restart: None, .. } => {
                out.extend(restart.replies.into_iter().map(Action::Reply));
            }
            App::Down { restart: held, .. } => {
                let mut restart = restart;
                if let Some(mut h) = held.take() {
                    h.merge(restart);
                    restart = h;
                }
                self.start_now(now, restart, out);
            }
        }
    }

    fn start_now(&mut self, now: Instant, restart: Restart, out: &mut Out) {
        let ms = now.saturating_duration_since(restart.started).as_millis();
        out.push(Action::StartApp);
        out.push(Action::Log(match restart.cause {
            Cause::Rebuilt => format!("rebuilt and restarted in {ms} ms"),
            files => format!("{} -> restarted in {ms} ms", files.label()),
        }));
        out.extend(restart.replies.into_iter().map(Action::Reply));
        self.app = App::Running { since: now };
    }

    /// A start held for a shim that has now ended without a reload.
    fn release_held_start(&mut self, now: Instant, out: &mut Out) {
        if let App::Down {
            restart: restart @ Some(_),
            ..
        } = &mut self.app
        {
            let r = restart.take().expect("matched Some");
            self.start_now(now, r, out);
        }
    }

    fn app_exited(&mut self, now: Instant, code: i32, how: String, out: &mut Out) {
        let app = std::mem::replace(
            &mut self.app,
            App::Down {
                start_at: None,
                restart: None,
            },
        );
        match app {
            App::Stopping { restart: None, .. } => {
                out.push(Action::Log(format!("app {how}")));
                if let Some(s) = &mut self.shutdown {
                    s.code = Some(code);
                }
            }
            App::Stopping {
                restart: Some(r), ..
            } => {
                if self.shims.is_empty() && !self.awaiting_hook {
                    self.start_now(now, r, out);
                } else {
                    // A shim began meanwhile (or, with the hook, the batch
                    // is not complete yet): start on its final files.
                    let at = now + HOLD_START_MAX;
                    out.push(Action::Schedule(Timer::AppStart, at));
                    self.app = App::Down {
                        start_at: Some(at),
                        restart: Some(r),
                    };
                }
            }
            App::Running { since } => {
                out.push(Action::Log(format!("app {how}")));
                if now.saturating_duration_since(since) >= HEALTHY_UPTIME {
                    self.crashes = 0;
                }
                self.schedule_restart(now, out);
            }
            App::Down { start_at, restart } => {
                // Not ours to track (already gone): keep the state.
                self.app = App::Down { start_at, restart };
            }
        }
    }

    fn schedule_restart(&mut self, now: Instant, out: &mut Out) {
        let delay = BACKOFF_START
            .saturating_mul(1 << self.crashes.min(10))
            .min(BACKOFF_MAX);
        self.crashes += 1;
        out.push(Action::Log(format!(
            "restarting in {} ms (attempt {})",
            delay.as_millis(),
            self.crashes
        )));
        let at = now + delay;
        out.push(Action::Schedule(Timer::AppStart, at));
        self.app = App::Down {
            start_at: Some(at),
            restart: None,
        };
    }

    fn build_exited(&mut self, now: Instant, ok: bool, status: String, out: &mut Out) {
        match std::mem::replace(&mut self.build, Build::Idle) {
            Build::Idle => {}
            Build::Running { started } => {
                if self.shutdown.is_some() {
                    return;
                }
                if ok {
                    self.restart(
                        now,
                        Restart {
                            cause: Cause::Rebuilt,
                            started,
                            replies: Vec::new(),
                        },
                        out,
                    );
                } else {
                    out.push(Action::Log(format!(
                        "rebuild failed ({status}); the previous version keeps running"
                    )));
                }
            }
            Build::Cancelling { again, .. } => {
                out.push(Action::Log("the cancelled build has stopped".into()));
                if again && self.shutdown.is_none() {
                    out.push(Action::Log(format!(
                        "rebuilding on the final files: {}",
                        self.s.build_command
                    )));
                    out.push(Action::StartBuild);
                    self.build = Build::Running { started: now };
                }
            }
        }
    }

    fn signal(&mut self, now: Instant, sig: Signal, out: &mut Out) {
        let stops = matches!(sig, Signal::SIGTERM | Signal::SIGINT | Signal::SIGQUIT);
        if !stops {
            if matches!(self.app, App::Running { .. } | App::Stopping { .. }) {
                out.push(Action::SignalApp(sig));
            }
            return;
        }
        // TERM is the platform's stop: the app gets its own stop signal.
        let to_app = if sig == Signal::SIGTERM {
            self.s.stop_signal
        } else {
            sig
        };
        if self.shutdown.is_some() {
            if matches!(self.app, App::Running { .. } | App::Stopping { .. }) {
                out.push(Action::SignalApp(to_app));
            }
            return;
        }
        out.push(Action::Log(format!(
            "{sig}: stopping the app (grace {} s)",
            self.s.grace.as_secs()
        )));
        self.shutdown = Some(Shutdown {
            signal: sig,
            code: None,
        });
        // Nobody waits for a reload any more.
        let pending = std::mem::take(&mut self.pending);
        out.extend(pending.replies.into_iter().map(Action::Reply));
        self.reload_at = None;
        let deadline = now + self.s.grace;
        match std::mem::replace(
            &mut self.app,
            App::Down {
                start_at: None,
                restart: None,
            },
        ) {
            App::Running { .. } => {
                out.push(Action::SignalApp(to_app));
                out.push(Action::Schedule(Timer::AppGrace, deadline));
                self.app = App::Stopping {
                    deadline,
                    killed: false,
                    restart: None,
                };
            }
            App::Stopping {
                deadline: d,
                killed,
                restart,
            } => {
                if let Some(r) = restart {
                    out.extend(r.replies.into_iter().map(Action::Reply));
                }
                out.push(Action::SignalApp(to_app));
                self.app = App::Stopping {
                    deadline: d.min(deadline),
                    killed,
                    restart: None,
                };
            }
            App::Down { restart, .. } => {
                if let Some(r) = restart {
                    out.extend(r.replies.into_iter().map(Action::Reply));
                }
            }
        }
        match &mut self.build {
            Build::Idle => {}
            Build::Running { .. } => {
                out.push(Action::SignalBuild(Signal::SIGTERM));
                out.push(Action::Schedule(Timer::BuildGrace, deadline));
                self.build = Build::Cancelling {
                    deadline,
                    killed: false,
                    again: false,
                };
            }
            Build::Cancelling { again, .. } => *again = false,
        }
    }

    fn timer(&mut self, now: Instant, timer: Timer, out: &mut Out) {
        match timer {
            Timer::Reload => {
                if self.reload_at.is_some_and(|t| now >= t) && self.shims.is_empty() {
                    if self.awaiting_hook {
                        // The hook was expected but did not come (a
                        // deployer that runs no sync hooks, or an image
                        // built with the hook's setting but run another
                        // way): stop waiting for it from now on, so only
                        // this one batch was late.
                        out.push(Action::Log(format!(
                            "no sync-done within {} s of the last shim: reloading without it; \
                             from now on each sync reloads at once",
                            HOOK_FALLBACK.as_secs()
                        )));
                        self.s.batch_end = BatchEnd::Shim;
                    }
                    self.reload(now, out);
                }
            }
            Timer::AppStart => {
                if let App::Down {
                    start_at: Some(at),
                    restart,
                } = &mut self.app
                {
                    if now < *at || self.shutdown.is_some() {
                        return;
                    }
                    match restart.take() {
                        Some(r) => {
                            out.push(Action::Log(format!(
                                "a sync is still running after {} s: starting the app anyway",
                                HOLD_START_MAX.as_secs()
                            )));
                            self.start_now(now, r, out);
                        }
                        None => {
                            out.push(Action::StartApp);
                            self.app = App::Running { since: now };
                        }
                    }
                }
            }
            Timer::AppGrace => {
                if let App::Stopping {
                    deadline, killed, ..
                } = &mut self.app
                {
                    if now >= *deadline && !*killed {
                        *killed = true;
                        out.push(Action::Log(
                            "grace period over: SIGKILL to the app's process group".into(),
                        ));
                        out.push(Action::SignalApp(Signal::SIGKILL));
                    }
                }
            }
            Timer::BuildGrace => {
                if let Build::Cancelling {
                    deadline, killed, ..
                } = &mut self.build
                {
                    if now >= *deadline && !*killed {
                        *killed = true;
                        out.push(Action::Log(
                            "grace period over: SIGKILL to the build's process group".into(),
                        ));
                        out.push(Action::SignalBuild(Signal::SIGKILL));
                    }
                }
            }
        }
    }

    fn maybe_exit(&mut self, out: &mut Out) {
        let Some(s) = &self.shutdown else { return };
        if matches!(self.app, App::Down { .. }) && matches!(self.build, Build::Idle) {
            let code = s.code.unwrap_or(128 + s.signal as i32);
            out.push(Action::Log(format!("exiting with status {code}")));
            out.push(Action::Exit(code));
            self.exited = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// The policy on a fake clock: timers it schedules fire when the test
    /// advances time past them.
    struct Sim {
        p: Policy,
        t0: Instant,
        now: Instant,
        timers: BTreeMap<Timer, Instant>,
        log: Vec<Action>,
    }

    fn settings(reload: Reload, batch_end: BatchEnd) -> Settings {
        Settings {
            reload,
            build_command: "make".into(),
            debounce: Duration::from_millis(50),
            batch_end,
            grace: Duration::from_secs(10),
            stop_signal: Signal::SIGTERM,
        }
    }

    impl Sim {
        fn new(s: Settings) -> Sim {
            let t0 = Instant::now();
            let mut p = Policy::new(s);
            let first = p.start(t0);
            assert_eq!(first, vec![Action::StartApp]);
            Sim {
                p,
                t0,
                now: t0,
                timers: BTreeMap::new(),
                log: Vec::new(),
            }
        }
        fn restart() -> Sim {
            Sim::new(settings(Reload::Restart, BatchEnd::Shim))
        }
        fn record(&mut self, out: Vec<Action>) -> Vec<Action> {
            for a in &out {
                if let Action::Schedule(t, at) = a {
                    self.timers.insert(*t, *at);
                }
            }
            self.log.extend(out.iter().cloned());
            out
        }
        fn feed(&mut self, e: Event) -> Vec<Action> {
            let out = self.p.handle(self.now, e);
            self.record(out)
        }
        /// Advances the clock by `d`, firing due timers in time order.
        fn advance(&mut self, d: Duration) -> Vec<Action> {
            let end = self.now + d;
            let mut all = Vec::new();
            loop {
                let due = self
                    .timers
                    .iter()
                    .filter(|(_, at)| **at <= end)
                    .min_by_key(|(_, at)| **at)
                    .map(|(t, at)| (*t, *at));
                let Some((t, at)) = due else { break };
                self.timers.remove(&t);
                self.now = self.now.max(at);
                let out = self.p.handle(self.now, Event::TimerFired(t));
                all.extend(self.record(out));
            }
            self.now = end;
            all
        }
        fn ms(&self) -> u128 {
            (self.now - self.t0).as_millis()
        }
        fn exited(&mut self, code: i32) -> Vec<Action> {
            self.feed(Event::AppExited {
                code,
                how: format!("exited with status {code}"),
            })
        }
        fn sync(&mut self, id: u64, files: usize, tool: Tool) -> Vec<Action> {
            let mut out = self.feed(Event::ShimBegin(id));
            out.extend(self.feed(Event::ShimEnd { id, files, tool }));
            out
        }
        fn logs(&self) -> Vec<String> {
            self.log
                .iter()
                .filter_map(|a| match a {
                    Action::Log(l) => Some(l.clone()),
                    _ => None,
                })
                .collect()
        }
        fn count(&self, a: &Action) -> usize {
            self.log.iter().filter(|x| *x == a).count()
        }
    }

    fn has(out: &[Action], a: &Action) -> bool {
        out.contains(a)
    }

    const TERM: Action = Action::SignalApp(Signal::SIGTERM);

    #[test]
    fn an_edit_only_batch_restarts_at_once_after_tar() {
        let mut s = Sim::restart();
        let out = s.sync(1, 3, Tool::Tar);
        assert!(has(&out, &TERM), "stop signal at once, no timer: {out:?}");
        assert!(!out
            .iter()
            .any(|a| matches!(a, Action::Schedule(Timer::Reload, _))));
        let out = s.exited(0);
        assert!(has(&out, &Action::StartApp));
        assert!(has(&out, &Action::Reply(1)));
        assert!(s
            .logs()
            .iter()
            .any(|l| l == "sync: 3 file(s) -> restarted in 0 ms"));
    }

    #[test]
    fn tar_then_rm_restarts_twice_the_last_after_the_deletion_and_rm_waits_for_the_old_app() {
        let mut s = Sim::restart();
        s.sync(1, 1, Tool::Tar);
        s.advance(Duration::from_millis(5));
        let out = s.exited(0);
        assert!(has(&out, &Action::StartApp));
        // The app runs on the edit; now Skaffold's rm.
        s.advance(Duration::from_millis(100));
        let out = s.sync(2, 1, Tool::Rm);
        assert!(has(&out, &TERM));
        assert!(
            !has(&out, &Action::Reply(2)),
            "rm is answered only once the old app is gone"
        );
        let out = s.exited(0);
        assert_eq!(out.iter().filter(|a| **a == Action::StartApp).count(), 1);
        let start = out.iter().position(|a| *a == Action::StartApp).unwrap();
        let reply = out.iter().position(|a| *a == Action::Reply(2)).unwrap();
        assert!(start < reply, "{out:?}");
        // Initial start + two restarts.
        assert_eq!(s.count(&Action::StartApp), 2);
    }

    #[test]
    fn an_rm_that_begins_while_the_app_stops_merges_into_one_restart() {
        let mut s = Sim::restart();
        s.sync(1, 1, Tool::Tar);
        s.feed(Event::ShimBegin(2));
        let out = s.exited(0);
        assert!(!has(&out, &Action::StartApp), "held for the rm: {out:?}");
        assert!(has(
            &out,
            &Action::Schedule(Timer::AppStart, s.now + HOLD_START_MAX)
        ));
        let out = s.feed(Event::ShimEnd {
            id: 2,
            files: 2,
            tool: Tool::Rm,
        });
        assert!(has(&out, &Action::StartApp));
        assert!(has(&out, &Action::Reply(1)) && has(&out, &Action::Reply(2)));
        assert!(s
            .logs()
            .iter()
            .any(|l| l.starts_with("sync: 3 file(s) -> restarted")));
        assert_eq!(s.count(&Action::StartApp), 1, "one restart for the batch");
        // The hold's timer firing later changes nothing.
        assert!(s.advance(Duration::from_secs(3)).is_empty());
    }

    #[test]
    fn a_held_start_waits_at_most_two_seconds() {
        let mut s = Sim::restart();
        s.sync(1, 1, Tool::Tar);
        s.feed(Event::ShimBegin(2));
        s.exited(0);
        assert!(!has(
            &s.advance(Duration::from_millis(1999)),
            &Action::StartApp
        ));
        assert!(has(&s.advance(Duration::from_millis(1)), &Action::StartApp));
    }

    #[test]
    fn hook_mode_accumulates_tar_and_rm_and_reloads_once_at_sync_done() {
        let mut s = Sim::new(settings(Reload::Restart, BatchEnd::Hook));
        let out = s.sync(1, 2, Tool::Tar);
        assert_eq!(
            out,
            vec![
                Action::Reply(1),
                Action::Schedule(Timer::Reload, s.now + HOOK_FALLBACK)
            ]
        );
        s.advance(Duration::from_millis(80));
        // A file event meanwhile belongs to the same batch: no debounce.
        let out = s.feed(Event::FileChanged("x.js".into()));
        assert!(out.is_empty(), "{out:?}");
        let out = s.sync(2, 1, Tool::Rm);
        assert!(has(&out, &Action::Reply(2)) && !has(&out, &TERM));
        s.advance(Duration::from_millis(100));
        let out = s.feed(Event::SyncDone(3));
        assert!(has(&out, &TERM));
        assert!(!has(&out, &Action::Reply(3)));
        let out = s.exited(0);
        assert!(has(&out, &Action::StartApp) && has(&out, &Action::Reply(3)));
        assert!(s
            .logs()
            .iter()
            .any(|l| l.starts_with("sync: 4 file(s) -> restarted")));
        assert!(
            s.advance(Duration::from_secs(5)).is_empty(),
            "the fallback is void"
        );
        assert_eq!(s.count(&Action::StartApp), 1);
    }

    #[test]
    fn hook_mode_without_the_hook_reloads_two_seconds_after_the_last_shim() {
        let mut s = Sim::new(settings(Reload::Restart, BatchEnd::Hook));
        s.sync(1, 1, Tool::Tar);
        s.advance(Duration::from_millis(500));
        s.sync(2, 1, Tool::Rm);
        assert!(!has(&s.advance(Duration::from_millis(1999)), &TERM));
        let out = s.advance(Duration::from_millis(1));
        assert!(has(&out, &TERM), "{out:?}");
        assert_eq!(s.ms(), 2500);
        assert!(s
            .logs()
            .iter()
            .any(|l| l.contains("no sync-done within 2 s")));
    }

    #[test]
    fn a_sync_done_in_shim_mode_makes_later_batches_wait_for_the_hook() {
        // No hook recorded at build time, but Skaffold runs one (kubectl
        // deployer): the first batch reloads after each shim, the next
        // reloads once, at `sync-done`.
        let mut s = Sim::restart();
        let out = s.sync(1, 1, Tool::Tar);
        assert!(has(&out, &TERM), "shim mode: tar reloads at once");
        s.exited(0);
        s.feed(Event::SyncDone(2));
        assert!(s
            .logs()
            .iter()
            .any(|l| l.starts_with("after-sync hook seen")));
        let starts = s.count(&Action::StartApp);
        let out = s.sync(3, 1, Tool::Tar);
        assert!(!has(&out, &TERM), "now tar waits for the hook: {out:?}");
        let out = s.sync(4, 1, Tool::Rm);
        assert!(!has(&out, &TERM), "and so does rm: {out:?}");
        assert!(has(&s.feed(Event::SyncDone(5)), &TERM));
        s.exited(0);
        assert_eq!(s.count(&Action::StartApp), starts + 1, "one restart");
    }

    #[test]
    fn a_hook_that_never_comes_is_not_waited_for_again() {
        // Recorded as hook mode, run where no hook runs (docker
        // deployer): only the first batch waits the fallback.
        let mut s = Sim::new(settings(Reload::Restart, BatchEnd::Hook));
        s.sync(1, 1, Tool::Tar);
        assert!(has(&s.advance(HOOK_FALLBACK), &TERM));
        s.exited(0);
        assert!(s
            .logs()
            .iter()
            .any(|l| l.contains("from now on each sync reloads at once")));
        let out = s.sync(2, 1, Tool::Tar);
        assert!(has(&out, &TERM), "the next tar reloads at once: {out:?}");
    }

    #[test]
    fn sync_done_with_nothing_pending_is_answered_after_the_reload_under_way() {
        let mut s = Sim::restart();
        s.sync(1, 1, Tool::Rm);
        let out = s.feed(Event::SyncDone(7));
        assert!(!has(&out, &Action::Reply(7)));
        let out = s.exited(0);
        assert!(has(&out, &Action::Reply(7)));
        let out = s.feed(Event::SyncDone(8));
        assert_eq!(out, vec![Action::Reply(8)]);
        assert_eq!(s.count(&Action::StartApp), 1);
    }

    #[test]
    fn file_events_are_debounced_and_ignored_while_a_shim_is_open() {
        let mut s = Sim::restart();
        s.feed(Event::FileChanged("a.js".into()));
        s.advance(Duration::from_millis(30));
        s.feed(Event::FileChanged("b.js".into()));
        s.feed(Event::FileChanged("a.js".into()));
        assert!(!has(&s.advance(Duration::from_millis(49)), &TERM));
        assert!(has(&s.advance(Duration::from_millis(1)), &TERM));
        assert_eq!(s.ms(), 80);
        s.exited(0);
        assert!(s
            .logs()
            .iter()
            .any(|l| l.starts_with("change: 2 file(s) -> restarted")));
        s.feed(Event::ShimBegin(1));
        assert!(s.feed(Event::FileChanged("c.js".into())).is_empty());
        assert!(s.advance(Duration::from_secs(1)).is_empty());
    }

    #[test]
    fn a_shim_that_begins_cancels_the_debounce_and_its_end_reloads_everything() {
        let mut s = Sim::restart();
        s.feed(Event::FileChanged("a.js".into()));
        s.feed(Event::ShimBegin(1));
        assert!(s.advance(Duration::from_millis(100)).is_empty());
        let out = s.feed(Event::ShimEnd {
            id: 1,
            files: 2,
            tool: Tool::Tar,
        });
        assert!(has(&out, &TERM));
        s.exited(0);
        assert!(s.logs().iter().any(|l| l.starts_with("sync: 3 file(s)")));
    }

    #[test]
    fn a_hook_waiting_on_an_aborted_shim_is_answered() {
        let mut s = Sim::new(settings(Reload::Restart, BatchEnd::Hook));
        s.feed(Event::ShimBegin(1));
        assert!(s.feed(Event::SyncDone(2)).is_empty());
        let out = s.feed(Event::ShimAbort(1));
        assert!(has(&out, &Action::Reply(2)), "{out:?}");
        assert!(!has(&out, &TERM));
    }

    #[test]
    fn an_aborted_sync_without_changes_does_not_reload() {
        let mut s = Sim::restart();
        s.feed(Event::ShimBegin(1));
        let out = s.feed(Event::ShimAbort(1));
        assert_eq!(
            out,
            vec![Action::Log(
                "sync aborted: no file changed, no reload".into()
            )]
        );
    }

    fn crash(s: &mut Sim) -> Duration {
        let out = s.exited(3);
        let at = out
            .iter()
            .find_map(|a| match a {
                Action::Schedule(Timer::AppStart, at) => Some(*at),
                _ => None,
            })
            .expect("a restart is scheduled");
        let delay = at - s.now;
        let fired = s.advance(delay);
        assert!(has(&fired, &Action::StartApp));
        delay
    }

    #[test]
    fn crashes_back_off_exponentially_to_ten_seconds() {
        let mut s = Sim::restart();
        let delays: Vec<u128> = (0..9).map(|_| crash(&mut s).as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 800, 1600, 3200, 6400, 10000, 10000]);
    }

    #[test]
    fn ten_seconds_of_healthy_uptime_reset_the_backoff() {
        let mut s = Sim::restart();
        for _ in 0..5 {
            crash(&mut s);
        }
        // Up 9.9 s: not healthy yet, the backoff goes on growing.
        s.advance(Duration::from_millis(9900));
        assert_eq!(crash(&mut s), Duration::from_millis(3200));
        // Up 10 s: the next crash starts again from 100 ms.
        s.advance(HEALTHY_UPTIME);
        assert_eq!(crash(&mut s), Duration::from_millis(100));
        assert_eq!(crash(&mut s), Duration::from_millis(200));
    }

    #[test]
    fn a_sync_resets_the_backoff_and_starts_a_crashed_app_at_once() {
        let mut s = Sim::restart();
        for _ in 0..4 {
            crash(&mut s);
        }
        s.exited(3); // waits 1.6 s now
        let out = s.sync(1, 1, Tool::Tar);
        assert!(has(&out, &Action::StartApp) && has(&out, &Action::Reply(1)));
        assert_eq!(crash(&mut s), Duration::from_millis(100));
        // The void backoff timer of before does not start a second app.
        let out = s.advance(Duration::from_secs(2));
        assert!(!has(&out, &Action::StartApp), "{out:?}");
    }

    #[test]
    fn restarts_use_the_stop_signal_then_sigkill_after_the_grace_period() {
        let mut s = Sim::new(Settings {
            stop_signal: Signal::SIGQUIT,
            grace: Duration::from_secs(2),
            ..settings(Reload::Restart, BatchEnd::Shim)
        });
        let out = s.sync(1, 1, Tool::Tar);
        assert!(has(&out, &Action::SignalApp(Signal::SIGQUIT)));
        assert!(!has(
            &s.advance(Duration::from_millis(1999)),
            &Action::SignalApp(Signal::SIGKILL)
        ));
        let out = s.advance(Duration::from_millis(1));
        assert!(has(&out, &Action::SignalApp(Signal::SIGKILL)));
        let out = s.feed(Event::AppExited {
            code: 137,
            how: "was killed by SIGKILL".into(),
        });
        assert!(has(&out, &Action::StartApp));
    }

    #[test]
    fn term_stops_the_app_with_the_stop_signal_and_exits_with_its_status() {
        let mut s = Sim::new(Settings {
            stop_signal: Signal::SIGQUIT,
            ..settings(Reload::Restart, BatchEnd::Shim)
        });
        let out = s.feed(Event::Signal(Signal::SIGTERM));
        assert!(has(&out, &Action::SignalApp(Signal::SIGQUIT)), "{out:?}");
        let out = s.exited(42);
        assert_eq!(out.last(), Some(&Action::Exit(42)));
        // INT and QUIT reach the app as they are.
        for sig in [Signal::SIGINT, Signal::SIGQUIT] {
            let mut s = Sim::new(Settings {
                stop_signal: Signal::SIGUSR2,
                ..settings(Reload::Restart, BatchEnd::Shim)
            });
            assert!(has(&s.feed(Event::Signal(sig)), &Action::SignalApp(sig)));
        }
    }

    #[test]
    fn an_app_ignoring_the_stop_is_killed_after_the_grace_and_137_is_the_exit_status() {
        let mut s = Sim::restart();
        s.feed(Event::Signal(Signal::SIGTERM));
        assert!(!has(
            &s.advance(Duration::from_millis(9999)),
            &Action::SignalApp(Signal::SIGKILL)
        ));
        assert!(has(
            &s.advance(Duration::from_millis(1)),
            &Action::SignalApp(Signal::SIGKILL)
        ));
        let out = s.feed(Event::AppExited {
            code: 137,
            how: "was killed by SIGKILL".into(),
        });
        assert_eq!(out.last(), Some(&Action::Exit(137)));
    }

    #[test]
    fn term_without_a_running_app_exits_with_128_plus_the_signal() {
        let mut s = Sim::restart();
        s.exited(1); // crashed, waiting for its backoff
        let out = s.feed(Event::Signal(Signal::SIGTERM));
        assert_eq!(out.last(), Some(&Action::Exit(143)));
        assert!(
            s.advance(Duration::from_secs(1)).is_empty(),
            "no start after exit"
        );
    }

    #[test]
    fn other_signals_are_forwarded_and_do_not_stop_anything() {
        let mut s = Sim::restart();
        for sig in [
            Signal::SIGHUP,
            Signal::SIGUSR1,
            Signal::SIGUSR2,
            Signal::SIGWINCH,
        ] {
            assert_eq!(s.feed(Event::Signal(sig)), vec![Action::SignalApp(sig)]);
        }
        s.exited(1);
        assert!(
            s.feed(Event::Signal(Signal::SIGHUP)).is_empty(),
            "no app: dropped"
        );
    }

    fn rebuild() -> Sim {
        Sim::new(Settings {
            grace: Duration::from_secs(2),
            ..settings(Reload::Rebuild, BatchEnd::Shim)
        })
    }

    #[test]
    fn a_rebuild_keeps_the_old_app_until_it_succeeds() {
        let mut s = rebuild();
        let out = s.sync(1, 1, Tool::Tar);
        assert!(has(&out, &Action::StartBuild) && has(&out, &Action::Reply(1)));
        assert!(!has(&out, &TERM), "the old app serves while building");
        s.advance(Duration::from_millis(700));
        let out = s.feed(Event::BuildExited {
            ok: true,
            status: "exit status: 0".into(),
        });
        assert!(has(&out, &TERM));
        s.exited(0);
        assert!(s
            .logs()
            .iter()
            .any(|l| l == "rebuilt and restarted in 700 ms"));
    }

    #[test]
    fn a_failed_rebuild_keeps_the_old_app() {
        let mut s = rebuild();
        s.sync(1, 1, Tool::Tar);
        let out = s.feed(Event::BuildExited {
            ok: false,
            status: "exit status: 1".into(),
        });
        assert_eq!(
            out,
            vec![Action::Log(
                "rebuild failed (exit status: 1); the previous version keeps running".into()
            )]
        );
    }

    #[test]
    fn a_newer_save_cancels_the_build_and_builds_again_on_the_final_files() {
        let mut s = rebuild();
        s.sync(1, 1, Tool::Tar);
        let out = s.sync(2, 1, Tool::Tar);
        assert!(has(&out, &Action::SignalBuild(Signal::SIGTERM)));
        // More saves while it is being cancelled: merged, no more signals.
        let out = s.sync(3, 1, Tool::Tar);
        assert!(!out
            .iter()
            .any(|a| matches!(a, Action::SignalBuild(_) | Action::StartBuild)));
        let out = s.feed(Event::BuildExited {
            ok: false,
            status: "signal: 15".into(),
        });
        assert!(has(&out, &Action::StartBuild), "{out:?}");
        assert!(
            !out.iter().any(|a| a.clone() == TERM),
            "the app keeps running"
        );
        assert_eq!(
            s.count(&Action::StartBuild),
            2,
            "one build after the cancel"
        );
        s.feed(Event::BuildExited {
            ok: true,
            status: "exit status: 0".into(),
        });
        s.exited(0);
        assert_eq!(s.count(&Action::StartApp), 1);
    }

    #[test]
    fn a_build_ignoring_term_is_killed_after_the_grace_period() {
        let mut s = rebuild();
        s.sync(1, 1, Tool::Tar);
        s.sync(2, 1, Tool::Tar);
        assert!(!has(
            &s.advance(Duration::from_millis(1999)),
            &Action::SignalBuild(Signal::SIGKILL)
        ));
        assert!(has(
            &s.advance(Duration::from_millis(1)),
            &Action::SignalBuild(Signal::SIGKILL)
        ));
    }

    #[test]
    fn term_during_a_build_stops_build_and_app_and_exits_once_both_are_gone() {
        let mut s = rebuild();
        s.sync(1, 1, Tool::Tar);
        let out = s.feed(Event::Signal(Signal::SIGTERM));
        assert!(has(&out, &Action::SignalBuild(Signal::SIGTERM)) && has(&out, &TERM));
        let out = s.advance(Duration::from_secs(2));
        assert!(has(&out, &Action::SignalBuild(Signal::SIGKILL)));
        assert!(has(&out, &Action::SignalApp(Signal::SIGKILL)));
        let out = s.exited(42);
        assert!(
            !out.iter().any(|a| matches!(a, Action::Exit(_))),
            "the build is still there"
        );
        let out = s.feed(Event::BuildExited {
            ok: false,
            status: "signal: 9".into(),
        });
        assert_eq!(out.last(), Some(&Action::Exit(42)));
        assert_eq!(s.count(&Action::StartBuild), 1, "no build after the stop");
    }

    #[test]
    fn static_files_need_no_reload() {
        let mut s = Sim::new(settings(Reload::None, BatchEnd::Shim));
        let out = s.sync(1, 2, Tool::Rm);
        assert!(has(&out, &Action::Reply(1)));
        assert!(!out
            .iter()
            .any(|a| matches!(a, Action::SignalApp(_) | Action::StartApp)));
        assert!(s
            .logs()
            .iter()
            .any(|l| l == "sync: 2 file(s); nothing to reload (files are served as they are)"));
    }
}
