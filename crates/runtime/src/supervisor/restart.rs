//! What a restart is for and how soon a crashed app comes back: the data
//! the policy carries through an app's stop ([`Restart`]) and its crash
//! backoff ([`Backoff`]).

use super::events::{Action, Reloaded};
use std::time::{Duration, Instant};

pub const BACKOFF_START: Duration = Duration::from_millis(100);
pub const BACKOFF_MAX: Duration = Duration::from_secs(10);
/// An app up this long before it crashes counts as healthy: the crash
/// backoff starts again from [`BACKOFF_START`].
pub const HEALTHY_UPTIME: Duration = Duration::from_secs(10);

/// What a restart is for: a batch of files, or a rebuild.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    Files { count: usize, from_shim: bool },
    Rebuilt,
}

impl Cause {
    /// How the cause starts its log line (`sync: 3 file(s)`).
    pub fn label(self) -> String {
        match self {
            Cause::Files { count, from_shim } => {
                let what = if from_shim { "sync" } else { "change" };
                format!("{what}: {count} file(s)")
            }
            Cause::Rebuilt => "rebuilt".into(),
        }
    }
}

/// A restart under way: what it is for, since when, who waits for it.
#[derive(Debug)]
pub struct Restart {
    pub cause: Cause,
    pub started: Instant,
    /// When the batch this restart serves was complete (for a rebuild, the
    /// batch the build started for): what the live line counts from.
    pub batch_end: Instant,
    /// Shim and hook sessions answered once the new app has started.
    pub replies: Vec<u64>,
}

impl Restart {
    /// Folds a later restart into this one: one restart for both.
    pub fn merge(&mut self, other: Restart) {
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
        self.batch_end = self.batch_end.max(other.batch_end);
        self.replies.extend(other.replies);
    }

    /// What the executor is asked once the new app has started: the live
    /// line, counted from the (latest) batch's end.
    pub fn await_live(&self) -> Action {
        let kind = match self.cause {
            Cause::Rebuilt => Reloaded::Rebuild,
            Cause::Files { .. } => Reloaded::Restart,
        };
        Action::AwaitLive {
            since: self.batch_end,
            kind,
        }
    }

    /// The log line once the new app has started at `now`.
    pub fn done_line(&self, now: Instant) -> String {
        let ms = now.saturating_duration_since(self.started).as_millis();
        match self.cause {
            Cause::Rebuilt => format!("rebuilt and restarted in {ms} ms"),
            files @ Cause::Files { .. } => format!("{} -> restarted in {ms} ms", files.label()),
        }
    }
}

/// Crash restarts back off exponentially from [`BACKOFF_START`] to
/// [`BACKOFF_MAX`]; a reload or a healthy uptime starts them over.
#[derive(Debug, Default)]
pub struct Backoff {
    crashes: u32,
}

impl Backoff {
    pub fn reset(&mut self) {
        self.crashes = 0;
    }

    /// A crash after `uptime`: a healthy one starts the backoff over.
    pub fn crashed_after(&mut self, uptime: Duration) {
        if uptime >= HEALTHY_UPTIME {
            self.reset();
        }
    }

    /// The delay before the next attempt, and its number (from 1).
    pub fn next_attempt(&mut self) -> (Duration, u32) {
        let delay = BACKOFF_START
            .saturating_mul(1 << self.crashes.min(10))
            .min(BACKOFF_MAX);
        self.crashes += 1;
        (delay, self.crashes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_restarts_add_their_files_and_answers() {
        let t0 = Instant::now();
        let mut r = Restart {
            cause: Cause::Rebuilt,
            started: t0,
            batch_end: t0,
            replies: vec![1],
        };
        r.merge(Restart {
            cause: Cause::Files {
                count: 2,
                from_shim: false,
            },
            started: t0,
            batch_end: t0 + Duration::from_millis(2),
            replies: vec![2],
        });
        r.merge(Restart {
            cause: Cause::Files {
                count: 1,
                from_shim: true,
            },
            started: t0,
            batch_end: t0 + Duration::from_millis(1),
            replies: vec![],
        });
        assert_eq!(r.replies, vec![1, 2]);
        assert_eq!(
            r.await_live(),
            Action::AwaitLive {
                since: t0 + Duration::from_millis(2),
                kind: Reloaded::Restart
            },
            "the latest batch's end, a files restart"
        );
        assert_eq!(
            r.done_line(t0 + Duration::from_millis(5)),
            "sync: 3 file(s) -> restarted in 5 ms"
        );
    }

    #[test]
    fn the_backoff_doubles_to_its_cap_and_a_healthy_run_resets_it() {
        let mut b = Backoff::default();
        let delays: Vec<u128> = (0..9).map(|_| b.next_attempt().0.as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 800, 1600, 3200, 6400, 10000, 10000]);
        b.crashed_after(
            HEALTHY_UPTIME
                .checked_sub(Duration::from_millis(1))
                .unwrap(),
        );
        assert_eq!(b.next_attempt(), (BACKOFF_MAX, 10));
        b.crashed_after(HEALTHY_UPTIME);
        assert_eq!(b.next_attempt(), (BACKOFF_START, 1));
    }
}
