//! The vocabulary between the supervisor's loop and its policy: what
//! happened ([`Event`]), what to do ([`Action`]), and the children and
//! timers both speak of. Kept apart so the batcher, the graceful child and
//! the policy can share it without depending on each other.

use crate::errors::SpawnError;
use nix::sys::signal::Signal;
use std::fmt;
use std::time::Instant;

/// The two children the supervisor runs: the app, and (for compiled apps)
/// the in-container build. Both are stopped the same way
/// ([`super::graceful`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Job {
    App,
    Build,
}

impl fmt::Display for Job {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Job::App => "app",
            Job::Build => "build",
        })
    }
}

/// What a reload did, as the live line names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reloaded {
    Restart,
    Rebuild,
}

impl fmt::Display for Reloaded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Reloaded::Restart => "restart",
            Reloaded::Rebuild => "rebuild",
        })
    }
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
    /// A child's stop grace period: SIGKILL when it fires.
    Grace(Job),
}

#[derive(Debug)]
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
    BuildExited {
        ok: bool,
        status: String,
    },
    /// [`Action::Start`] could not start the child.
    SpawnFailed(Job, SpawnError),
    Signal(Signal),
    TimerFired(Timer),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Start the child (the app, or the rebuild command).
    Start(Job),
    /// Signal the child's process group.
    Signal(Job, Signal),
    /// Wake the loop at `Instant` with [`Event::TimerFired`] (replaces an
    /// earlier schedule of the same timer; a timer that fires when its
    /// deadline was moved or cleared is ignored).
    Schedule(Timer, Instant),
    /// Answer the shim or hook session `id`: its batch is handled.
    Reply(u64),
    /// The app was just started for a reload that ended its batch at
    /// `since`: log `live in N ms (kind)` once it is ready to serve
    /// (see [`super::live`]).
    AwaitLive {
        since: Instant,
        kind: Reloaded,
    },
    Log(String),
    Exit(i32),
}

/// What every part of the policy appends its actions to, in order.
pub type Out = Vec<Action>;
