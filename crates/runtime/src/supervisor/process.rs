//! Spawning, signalling and reaping: the only place that touches the app's
//! and the build's processes. Each runs as the leader of its own process
//! group, so a signal reaches everything it started.

use nix::sys::signal::{killpg, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Resolves `cmd` like `exec.LookPath` with `path` (a `PATH` value).
pub fn resolve(cmd: &str, path: &str) -> Option<PathBuf> {
    if cmd.contains('/') {
        return Some(PathBuf::from(cmd));
    }
    path.split(':')
        .map(|d| Path::new(if d.is_empty() { "." } else { d }).join(cmd))
        .find(|p| p.is_file())
}

/// What the app or a build is started with.
pub struct Spec<'a> {
    pub program: &'a Path,
    pub argv: &'a [String],
    pub env: &'a BTreeMap<String, String>,
    pub cwd: &'a Path,
}

impl Spec<'_> {
    /// A command for the spec in a new process group (never waited on
    /// through `Child`: every child is reaped by [`reap`]).
    pub fn command(&self) -> Command {
        let mut c = Command::new(self.program);
        c.arg0(&self.argv[0])
            .args(&self.argv[1..])
            .env_clear()
            .envs(self.env)
            .current_dir(self.cwd)
            .process_group(0);
        c
    }

    /// Starts the app with our stdio; returns its pid (= its group id).
    pub fn spawn_app(&self) -> std::io::Result<Pid> {
        let child = self.command().spawn()?;
        let pid =
            Pid::from_raw(i32::try_from(child.id()).expect("Linux pids fit i32 (pid_max <= 2^22)"));
        // Reaped by `reap` (waitpid(-1)), not through `Child`.
        std::mem::forget(child);
        Ok(pid)
    }
}

/// Signals the whole process group `pgid`; a group already gone is fine.
pub fn signal_group(pgid: Pid, sig: Signal) {
    let _ = killpg(pgid, sig);
}

/// A child that has exited.
pub struct Reaped {
    pub pid: Pid,
    /// As a shell reports it: the exit code, or 128 + the signal.
    pub code: i32,
    /// `exited with status 3`, `was killed by SIGKILL`.
    pub how: String,
    pub success: bool,
}

/// Reaps every child that has exited (the app, builds, and orphans
/// reparented to us as subreaper), without blocking.
pub fn reap() -> Vec<Reaped> {
    let mut out = Vec::new();
    loop {
        match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(pid, code)) => out.push(Reaped {
                pid,
                code,
                how: format!("exited with status {code}"),
                success: code == 0,
            }),
            Ok(WaitStatus::Signaled(pid, sig, _)) => out.push(Reaped {
                pid,
                code: 128 + sig as i32,
                how: format!("was killed by {sig}"),
                success: false,
            }),
            Ok(WaitStatus::StillAlive) | Err(_) => return out,
            Ok(_) => {}
        }
    }
}
