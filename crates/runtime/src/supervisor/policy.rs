//! The supervisor's decisions as a pure state machine: events and the
//! current time in, actions out. No process, file, socket or clock is
//! touched here (the main loop does that), so every rule below is unit
//! tested with a fake clock (`policy/tests.rs`).
//!
//! It composes small parts: the [`Batcher`] says when a batch of changes
//! is complete (its module states the batching rules); the app's side
//! (`policy/app.rs`) and the build are each one [`Graceful`] child,
//! stopped the same way; the app's side also holds a start for a shim and
//! spaces crash restarts ([`super::restart::Backoff`]). What it decides:
//!
//! **On a batch end**, by the plan's [`Reload`]: nothing (static files),
//! a restart, or a rebuild and then a restart.
//!
//! **Restarts.** The app is stopped with the stop signal, then SIGKILL
//! after the grace period; the new one starts once the old one is reaped.
//! A shim that begins while the app is being stopped holds the new start
//! until it ends ([`HOLD_START_MAX`] at most), so a `tar` and the `rm`
//! right after it often merge into one restart. The `rm` shim is answered
//! only once the app that may still hold a deleted file is gone.
//!
//! **Rebuilds** run while the old app keeps serving; a newer batch cancels
//! a running build (TERM, then KILL after the grace period) and builds
//! again on the final files (`watchexec --on-busy-update=restart`); a
//! failed build (a compile error) keeps the old app.
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

use super::batcher::{Batch, Batcher, Verdict};
use super::graceful::{Ended, Graceful, State};
use super::restart::{Cause, Restart};
use crate::config::BatchEnd;
use crate::errors::SpawnError;
use app::App;
use nix::sys::signal::Signal;
use std::time::{Duration, Instant};

pub use super::batcher::HOOK_FALLBACK;
pub use super::events::{Action, Event, Job, Out, Reloaded, Timer, Tool};
pub use super::restart::{BACKOFF_MAX, BACKOFF_START, HEALTHY_UPTIME};

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
    /// The recorded batch end (the batcher corrects it as it goes).
    pub batch_end: BatchEnd,
    pub grace: Duration,
    pub stop_signal: Signal,
}

#[derive(Debug)]
struct Shutdown {
    signal: Signal,
    code: Option<i32>,
}

#[derive(Debug)]
pub struct Policy {
    s: Settings,
    batcher: Batcher,
    app: App,
    /// A cancel's purpose: build again on the final files afterwards.
    build: Graceful<bool>,
    shutdown: Option<Shutdown>,
    exited: bool,
    /// When the last batch with changes was complete: a rebuild's live
    /// line counts from it.
    last_batch_end: Option<Instant>,
}

impl Policy {
    pub fn new(settings: Settings) -> Policy {
        Policy {
            batcher: Batcher::new(settings.batch_end, settings.debounce),
            app: App::new(settings.stop_signal, settings.grace),
            build: Graceful::new(Job::Build),
            s: settings,
            shutdown: None,
            exited: false,
            last_batch_end: None,
        }
    }

    /// The first start of the app.
    pub fn start(&mut self, now: Instant) -> Out {
        let mut out = Vec::new();
        self.app.start(now, &mut out);
        out
    }

    pub fn handle(&mut self, now: Instant, event: Event) -> Out {
        let mut out = Vec::new();
        if self.exited {
            return out;
        }
        let verdict = match event {
            Event::FileChanged(rel) => {
                self.batcher.file_changed(now, rel, &mut out);
                Verdict::Wait
            }
            Event::ShimBegin(id) => {
                self.batcher.shim_begin(id);
                Verdict::Wait
            }
            Event::ShimEnd { id, files, .. } => self.batcher.shim_end(now, id, files, &mut out),
            Event::ShimAbort(id) => self.batcher.shim_abort(now, id, &mut out),
            Event::SyncDone(id) => self.batcher.sync_done(id, &mut out),
            Event::TimerFired(Timer::Reload) => self.batcher.deadline_timer(now, &mut out),
            child_or_signal => {
                self.on_child_or_signal(now, child_or_signal, &mut out);
                Verdict::Wait
            }
        };
        self.on_verdict(now, verdict, &mut out);
        self.maybe_exit(&mut out);
        out
    }

    /// Everything that is not the batcher's: the children, signals, and
    /// the app's and the build's timers.
    fn on_child_or_signal(&mut self, now: Instant, event: Event, out: &mut Out) {
        match event {
            Event::AppExited { code, how } => self.app_exited(now, (code, how), out),
            Event::BuildExited { ok, status } => self.build_exited(now, ok, &status, out),
            Event::SpawnFailed(job, e) => self.spawn_failed(now, job, &e, out),
            Event::Signal(sig) => self.signal(now, sig, out),
            Event::TimerFired(Timer::AppStart) => {
                if self.shutdown.is_none() {
                    self.app.start_timer(now, out);
                }
            }
            Event::TimerFired(Timer::Grace(Job::App)) => self.app.grace_timer(now, out),
            Event::TimerFired(Timer::Grace(Job::Build)) => self.build.grace_timer(now, out),
            // Taken by `handle` for the batcher.
            Event::FileChanged(_)
            | Event::ShimBegin(_)
            | Event::ShimEnd { .. }
            | Event::ShimAbort(_)
            | Event::SyncDone(_)
            | Event::TimerFired(Timer::Reload) => {}
        }
    }

    fn on_verdict(&mut self, now: Instant, verdict: Verdict, out: &mut Out) {
        match verdict {
            Verdict::Wait => {}
            Verdict::End(batch) => self.reload(now, batch, out),
            Verdict::DoneIdle(id) => self.app.answer_after_reload(id, out),
            Verdict::Settled => self.app.release_held_start(now, out),
        }
    }

    /// Acts on a complete batch (shims are all closed).
    fn reload(&mut self, now: Instant, batch: Batch, out: &mut Out) {
        if !batch.has_changes() {
            out.extend(batch.into_replies().into_iter().map(Action::Reply));
            self.app.release_held_start(now, out);
            return;
        }
        self.app.reset_backoff();
        self.last_batch_end = Some(now);
        let cause = Cause::Files {
            count: batch.count(),
            from_shim: batch.from_shim(),
        };
        let label = cause.label();
        let replies = batch.into_replies();
        match self.s.reload {
            Reload::None => {
                out.push(Action::Log(format!(
                    "{label}; nothing to reload (files are served as they are)"
                )));
                out.extend(replies.into_iter().map(Action::Reply));
                self.app.release_held_start(now, out);
            }
            Reload::Restart => self.app.restart(
                now,
                Restart {
                    cause,
                    started: now,
                    batch_end: now,
                    replies,
                },
                out,
            ),
            Reload::Rebuild => {
                // The old app serves while the build runs.
                out.extend(replies.into_iter().map(Action::Reply));
                self.app.release_held_start(now, out);
                self.rebuild(now, &label, out);
            }
        }
    }

    /// Starts a build, or cancels the one running to build again on the
    /// final files.
    fn rebuild(&mut self, now: Instant, label: &str, out: &mut Out) {
        match self.build.state() {
            State::Idle => {
                out.push(Action::Log(format!(
                    "{label} -> rebuilding: {}",
                    self.s.build_command
                )));
                self.start_build(now, out);
            }
            State::Running { .. } => {
                out.push(Action::Log(format!(
                    "{label} while a build runs -> cancelling it; building again on the final files"
                )));
                let _ = self
                    .build
                    .stop(now, Signal::SIGTERM, self.s.grace, true, out);
            }
            State::Stopping { .. } => {
                if let Some(again) = self.build.purpose_mut() {
                    *again = true;
                }
                out.push(Action::Log(format!(
                    "{label} while a build is being cancelled -> building on the final files next"
                )));
            }
        }
    }

    fn start_build(&mut self, now: Instant, out: &mut Out) {
        out.push(Action::Start(Job::Build));
        self.build.started(now);
    }

    fn app_exited(&mut self, now: Instant, exit: (i32, String), out: &mut Out) {
        let batch_open = self.batcher.batch_open();
        if let Some(code) = self.app.exited(now, exit, batch_open, out) {
            if let Some(s) = &mut self.shutdown {
                s.code = Some(code);
            }
        }
    }

    fn spawn_failed(&mut self, now: Instant, job: Job, e: &SpawnError, out: &mut Out) {
        match job {
            Job::App => {
                let retry = self.shutdown.is_none();
                self.app.spawn_failed(now, e, retry, out);
            }
            Job::Build => {
                self.build.spawn_failed();
                out.push(Action::Log(format!(
                    "rebuild could not start: {e}; the previous version keeps running"
                )));
            }
        }
    }

    fn build_exited(&mut self, now: Instant, ok: bool, status: &str, out: &mut Out) {
        match self.build.exited() {
            Ended::NotRunning => {}
            Ended::Unasked { .. } if self.shutdown.is_some() => {}
            Ended::Unasked { since } if ok => self.app.restart(
                now,
                Restart {
                    cause: Cause::Rebuilt,
                    started: since,
                    batch_end: self.last_batch_end.unwrap_or(since),
                    replies: Vec::new(),
                },
                out,
            ),
            Ended::Unasked { .. } => out.push(Action::Log(format!(
                "rebuild failed ({status}); the previous version keeps running"
            ))),
            Ended::Stopped(again) => {
                out.push(Action::Log("the cancelled build has stopped".into()));
                if again && self.shutdown.is_none() {
                    out.push(Action::Log(format!(
                        "rebuilding on the final files: {}",
                        self.s.build_command
                    )));
                    self.start_build(now, out);
                }
            }
        }
    }

    fn signal(&mut self, now: Instant, sig: Signal, out: &mut Out) {
        let stops = matches!(sig, Signal::SIGTERM | Signal::SIGINT | Signal::SIGQUIT);
        if !stops {
            self.app.signal(sig, out);
            return;
        }
        // TERM is the platform's stop: the app gets its own stop signal.
        let to_app = if sig == Signal::SIGTERM {
            self.s.stop_signal
        } else {
            sig
        };
        if self.shutdown.is_some() {
            self.app.signal(to_app, out);
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
        self.batcher.close(out);
        self.app.stop_for_good(now, to_app, out);
        // A running build is stopped; a cancelled one is not built again.
        let grace = self.s.grace;
        if self
            .build
            .stop(now, Signal::SIGTERM, grace, false, out)
            .is_err()
        {
            if let Some(again) = self.build.purpose_mut() {
                *again = false;
            }
        }
    }

    fn maybe_exit(&mut self, out: &mut Out) {
        let Some(s) = &self.shutdown else { return };
        if self.app.is_idle() && self.build.is_idle() {
            let code = s.code.unwrap_or(128 + s.signal as i32);
            out.push(Action::Log(format!("exiting with status {code}")));
            out.push(Action::Exit(code));
            self.exited = true;
        }
    }
}

mod app;
#[cfg(test)]
mod tests;
