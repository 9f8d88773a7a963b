//! The app's side of the policy: its [`Graceful`] child, what a stopped
//! app waits for before it starts again (a restart held for a shim, or the
//! crash [`Backoff`]), and the restarts themselves: stop, then start once
//! it is gone, one restart for everything that came meanwhile.

use super::HOLD_START_MAX;
use crate::errors::SpawnError;
use crate::supervisor::events::{Action, Job, Out, Timer};
use crate::supervisor::graceful::{Ended, Graceful};
use crate::supervisor::restart::{Backoff, Restart};
use nix::sys::signal::Signal;
use std::time::{Duration, Instant};

/// What an app that is not running waits for before it starts again.
#[derive(Debug, Default)]
enum Waiting {
    /// Nothing: a batch starts it (or nothing does: shutting down).
    #[default]
    Nothing,
    /// A crash restart's backoff.
    Backoff(Instant),
    /// A restart's start, held for a shim that began while the old app
    /// stopped, until the batch is complete or `until` at the latest.
    Held { until: Instant, restart: Restart },
}

#[derive(Debug)]
pub(super) struct App {
    /// A stop's purpose: the restart it is for (`None`: shutting down).
    child: Graceful<Option<Restart>>,
    /// Only while the child is idle.
    waiting: Waiting,
    backoff: Backoff,
    stop_signal: Signal,
    grace: Duration,
}

impl App {
    pub(super) fn new(stop_signal: Signal, grace: Duration) -> App {
        App {
            child: Graceful::new(Job::App),
            waiting: Waiting::Nothing,
            backoff: Backoff::default(),
            stop_signal,
            grace,
        }
    }

    pub(super) fn is_idle(&self) -> bool {
        self.child.is_idle()
    }

    /// A reload happened: the next crash is restarted quickly again.
    pub(super) fn reset_backoff(&mut self) {
        self.backoff.reset();
    }

    pub(super) fn start(&mut self, now: Instant, out: &mut Out) {
        out.push(Action::Start(Job::App));
        self.child.started(now);
        self.waiting = Waiting::Nothing;
    }

    /// Stops the app for `restart` (or merges into the restart under way)
    /// and starts it again once it is gone; an app that is down starts
    /// at once.
    pub(super) fn restart(&mut self, now: Instant, restart: Restart, out: &mut Out) {
        if self.child.is_running() {
            let (signal, grace) = (self.stop_signal, self.grace);
            let _ = self.child.stop(now, signal, grace, Some(restart), out);
            return;
        }
        if let Some(purpose) = self.child.purpose_mut() {
            match purpose {
                Some(under_way) => under_way.merge(restart),
                // Shutting down: nobody restarts it.
                None => out.extend(restart.replies.into_iter().map(Action::Reply)),
            }
            return;
        }
        let restart = match std::mem::take(&mut self.waiting) {
            Waiting::Held {
                restart: mut held, ..
            } => {
                held.merge(restart);
                held
            }
            Waiting::Nothing | Waiting::Backoff(_) => restart,
        };
        self.start_for(now, restart, out);
    }

    fn start_for(&mut self, now: Instant, restart: Restart, out: &mut Out) {
        self.start(now, out);
        out.push(Action::Log(restart.done_line(now)));
        out.push(restart.await_live());
        out.extend(restart.replies.into_iter().map(Action::Reply));
    }

    /// A start held for a shim that has now ended without a reload.
    pub(super) fn release_held_start(&mut self, now: Instant, out: &mut Out) {
        if let Some(restart) = self.take_held() {
            self.start_for(now, restart, out);
        }
    }

    /// The held restart, if that is what the app waits for (a crash
    /// backoff stays as it is).
    fn take_held(&mut self) -> Option<Restart> {
        match std::mem::take(&mut self.waiting) {
            Waiting::Held { restart, .. } => Some(restart),
            other => {
                self.waiting = other;
                None
            }
        }
    }

    /// A `sync-done` with nothing new: answered once the reload under way
    /// (stopping the app, or its start held) is done, else at once.
    pub(super) fn answer_after_reload(&mut self, id: u64, out: &mut Out) {
        if let Some(Some(under_way)) = self.child.purpose_mut() {
            under_way.replies.push(id);
        } else if let Waiting::Held { restart, .. } = &mut self.waiting {
            restart.replies.push(id);
        } else {
            out.push(Action::Reply(id));
        }
    }

    /// The app's main process exited. `batch_open`: a batch is still
    /// coming in (a restart then waits for it). Returns `code` when the
    /// app was stopped for good (it becomes the supervisor's status).
    pub(super) fn exited(
        &mut self,
        now: Instant,
        (code, how): (i32, String),
        batch_open: bool,
        out: &mut Out,
    ) -> Option<i32> {
        match self.child.exited() {
            Ended::Stopped(None) => {
                out.push(Action::Log(format!("app {how}")));
                return Some(code);
            }
            Ended::Stopped(Some(restart)) if batch_open => {
                // A shim began meanwhile (or, with the hook, the batch is
                // not complete yet): start on its final files.
                let until = now + HOLD_START_MAX;
                out.push(Action::Schedule(Timer::AppStart, until));
                self.waiting = Waiting::Held { until, restart };
            }
            Ended::Stopped(Some(restart)) => self.start_for(now, restart, out),
            Ended::Unasked { since } => {
                out.push(Action::Log(format!("app {how}")));
                self.backoff
                    .crashed_after(now.saturating_duration_since(since));
                self.schedule_restart(now, out);
            }
            // Not ours to track (already gone): what it waits for stays.
            Ended::NotRunning => {}
        }
        None
    }

    pub(super) fn spawn_failed(
        &mut self,
        now: Instant,
        e: &SpawnError,
        retry: bool,
        out: &mut Out,
    ) {
        out.push(Action::Log(format!("cannot start the app: {e}")));
        self.child.spawn_failed();
        self.waiting = Waiting::Nothing;
        if retry {
            self.schedule_restart(now, out);
        }
    }

    fn schedule_restart(&mut self, now: Instant, out: &mut Out) {
        let (delay, attempt) = self.backoff.next_attempt();
        out.push(Action::Log(format!(
            "restarting in {} ms (attempt {attempt})",
            delay.as_millis()
        )));
        let at = now + delay;
        out.push(Action::Schedule(Timer::AppStart, at));
        self.waiting = Waiting::Backoff(at);
    }

    /// [`Timer::AppStart`]: a backoff is over, or a held start waited long
    /// enough.
    pub(super) fn start_timer(&mut self, now: Instant, out: &mut Out) {
        if !self.child.is_idle() {
            return;
        }
        let due = match &self.waiting {
            Waiting::Nothing => return,
            Waiting::Backoff(at) | Waiting::Held { until: at, .. } => *at,
        };
        if now < due {
            return;
        }
        match std::mem::take(&mut self.waiting) {
            Waiting::Held { restart, .. } => {
                out.push(Action::Log(format!(
                    "a sync is still running after {} s: starting the app anyway",
                    HOLD_START_MAX.as_secs()
                )));
                self.start_for(now, restart, out);
            }
            Waiting::Backoff(_) | Waiting::Nothing => self.start(now, out),
        }
    }

    pub(super) fn grace_timer(&mut self, now: Instant, out: &mut Out) {
        self.child.grace_timer(now, out);
    }

    /// Forwards `signal` to the app, if it is there.
    pub(super) fn signal(&self, signal: Signal, out: &mut Out) {
        self.child.signal(signal, out);
    }

    /// Shutting down: the app stops with `signal` (a restart under way is
    /// dropped, its waiters answered) and nothing starts it again.
    pub(super) fn stop_for_good(&mut self, now: Instant, signal: Signal, out: &mut Out) {
        let grace = self.grace;
        if self.child.stop(now, signal, grace, None, out).is_ok() {
            return;
        }
        let dropped = match self.child.purpose_mut() {
            Some(purpose) => purpose.take(),
            None => match std::mem::take(&mut self.waiting) {
                Waiting::Held { restart, .. } => Some(restart),
                Waiting::Nothing | Waiting::Backoff(_) => None,
            },
        };
        if let Some(r) = dropped {
            out.extend(r.replies.into_iter().map(Action::Reply));
        }
        // An app stopping already gets the signal too; its deadline stands
        // (the earlier one).
        self.child.signal(signal, out);
    }
}
