//! One child stopped gracefully, written once for the app and for the
//! in-container build: running, then stopping (a signal, SIGKILL at the
//! grace deadline), then gone once the reaper has seen it exit. The model
//! is watchexec's supervisor, where every job handle owns its command's
//! lifecycle and a graceful stop arms one stop timer that ends in a kill
//! (`crates/supervisor/src/job/task.rs`, `Control::GracefulStop`).
//!
//! Pure, like the policy that owns it: it records the child's state and
//! says which signals and timers that takes; the executor sends them. A
//! stop carries its purpose (`T`: the restart it is for, or whether to
//! build again), handed back when the child has exited.

use super::events::{Action, Job, Out, Timer};
use nix::sys::signal::Signal;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub enum State<T> {
    /// Not running: never started, exited, or failed to start.
    Idle,
    Running {
        since: Instant,
    },
    /// Signalled; SIGKILL at `deadline` unless it is gone by then.
    /// `then`: what its end is for.
    Stopping {
        deadline: Instant,
        killed: bool,
        then: T,
    },
}

/// How a child that has just exited had been doing.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended<T> {
    /// Nobody asked it to stop (a crash, or an app that returned); it had
    /// been running since `since`.
    Unasked { since: Instant },
    /// It had been asked to stop, for `then`.
    Stopped(T),
    /// It was not running: not ours to track.
    NotRunning,
}

#[derive(Debug)]
pub struct Graceful<T> {
    job: Job,
    state: State<T>,
}

impl<T> Graceful<T> {
    pub fn new(job: Job) -> Self {
        Graceful {
            job,
            state: State::Idle,
        }
    }

    pub fn state(&self) -> &State<T> {
        &self.state
    }

    /// The child was just started (by the [`Action::Start`] of its job).
    pub fn started(&mut self, now: Instant) {
        self.state = State::Running { since: now };
    }

    /// It could not be started after all.
    pub fn spawn_failed(&mut self) {
        self.state = State::Idle;
    }

    pub fn is_idle(&self) -> bool {
        matches!(self.state, State::Idle)
    }

    pub fn is_running(&self) -> bool {
        matches!(self.state, State::Running { .. })
    }

    /// Running or stopping: a signal still reaches it.
    pub fn is_alive(&self) -> bool {
        !self.is_idle()
    }

    /// What the stop under way is for.
    pub fn purpose_mut(&mut self) -> Option<&mut T> {
        match &mut self.state {
            State::Stopping { then, .. } => Some(then),
            _ => None,
        }
    }

    /// Stops a running child for `then`: `signal` now, SIGKILL once
    /// `grace` is over. A child that is not running is left as it is and
    /// `then` handed back.
    pub fn stop(
        &mut self,
        now: Instant,
        signal: Signal,
        grace: Duration,
        then: T,
        out: &mut Out,
    ) -> Result<(), T> {
        if !self.is_running() {
            return Err(then);
        }
        out.push(Action::Signal(self.job, signal));
        let deadline = now + grace;
        out.push(Action::Schedule(Timer::Grace(self.job), deadline));
        self.state = State::Stopping {
            deadline,
            killed: false,
            then,
        };
        Ok(())
    }

    /// Sends `signal` to the child if it is still there.
    pub fn signal(&self, signal: Signal, out: &mut Out) {
        if self.is_alive() {
            out.push(Action::Signal(self.job, signal));
        }
    }

    /// Its [`Timer::Grace`] fired: SIGKILL, once, if the deadline is due.
    pub fn grace_timer(&mut self, now: Instant, out: &mut Out) {
        let job = self.job;
        if let State::Stopping {
            deadline, killed, ..
        } = &mut self.state
        {
            if now >= *deadline && !*killed {
                *killed = true;
                out.push(Action::Log(format!(
                    "grace period over: SIGKILL to the {job}'s process group"
                )));
                out.push(Action::Signal(job, Signal::SIGKILL));
            }
        }
    }

    /// The reaper saw the child exit: it is idle now.
    pub fn exited(&mut self) -> Ended<T> {
        match std::mem::replace(&mut self.state, State::Idle) {
            State::Idle => Ended::NotRunning,
            State::Running { since } => Ended::Unasked { since },
            State::Stopping { then, .. } => Ended::Stopped(then),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRACE: Duration = Duration::from_secs(2);

    #[test]
    fn a_stop_signals_now_and_kills_once_at_the_deadline() {
        let t0 = Instant::now();
        let mut c = Graceful::new(Job::Build);
        c.started(t0);
        let mut out = Vec::new();
        assert_eq!(c.stop(t0, Signal::SIGTERM, GRACE, 7, &mut out), Ok(()));
        assert_eq!(
            out,
            vec![
                Action::Signal(Job::Build, Signal::SIGTERM),
                Action::Schedule(Timer::Grace(Job::Build), t0 + GRACE)
            ]
        );
        let mut out = Vec::new();
        c.grace_timer(
            (t0 + GRACE).checked_sub(Duration::from_millis(1)).unwrap(),
            &mut out,
        );
        assert!(out.is_empty(), "early: {out:?}");
        c.grace_timer(t0 + GRACE, &mut out);
        c.grace_timer(t0 + GRACE * 2, &mut out);
        assert_eq!(
            out,
            vec![
                Action::Log("grace period over: SIGKILL to the build's process group".into()),
                Action::Signal(Job::Build, Signal::SIGKILL)
            ]
        );
        assert_eq!(c.exited(), Ended::Stopped(7));
        assert!(c.is_idle());
    }

    #[test]
    fn only_a_running_child_is_stopped_and_an_unasked_exit_says_since_when() {
        let t0 = Instant::now();
        let mut c: Graceful<()> = Graceful::new(Job::App);
        let mut out = Vec::new();
        assert_eq!(c.stop(t0, Signal::SIGTERM, GRACE, (), &mut out), Err(()));
        c.signal(Signal::SIGHUP, &mut out);
        assert!(out.is_empty(), "nothing to signal: {out:?}");
        assert_eq!(c.exited(), Ended::NotRunning);
        c.started(t0);
        c.signal(Signal::SIGHUP, &mut out);
        assert_eq!(out, vec![Action::Signal(Job::App, Signal::SIGHUP)]);
        assert_eq!(c.exited(), Ended::Unasked { since: t0 });
    }
}
