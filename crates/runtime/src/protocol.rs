//! The channel from the shims (and the after-sync hook) to the supervisor:
//! a unix stream socket, mode 0600, so only the container's user may talk
//! to it. Lines, one per message:
//!
//! - `begin` (a shim, before it touches any file) — answered `ok` once the
//!   supervisor has taken it in, so no file event of the shim can overtake
//!   it;
//! - `end N TOOL` (after the last file is in place; `TOOL` is `tar` or
//!   `rm`) — answered `ok` once the batch is handled: for `rm`, the last
//!   step of a Skaffold batch, that is when the app that may still hold a
//!   deleted file is gone (the rm shim waits for it); `tar` does not wait;
//! - `abort`, or a disconnect before `end`: the shim failed;
//! - `done` (`filesync sync-done`, Skaffold's after-sync hook) — answered
//!   `ok` once the batch's reload has taken the old app out.
//!
//! **Where the socket is.** Its configured path (`$FILESYNC_SOCKET`, else
//! the recorded config's `socket`, `/tmp/filesync.sock` by default); where
//! that cannot be created (read-only `/tmp`, `readOnlyRootFilesystem`),
//! `filesync.sock` in a private directory `filesync-UID` (mode 0700, owned
//! by us) under `$XDG_RUNTIME_DIR` when set, then under `/dev/shm` (a
//! tmpfs that Docker and Kubernetes mount writable even on a read-only root
//! file system). Shims and the hook try the same list in the same order,
//! and talk to a private directory only when it is theirs and private.

use crate::errors::{ListenError, SyncDoneError};
use crate::watch::Gate;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use filesync_contract::config::SOCKET as DEFAULT_SOCKET;
pub use filesync_contract::config::SOCKET_ENV;
const FALLBACK_NAME: &str = "filesync.sock";
/// How long the rm shim waits for the old app to be gone.
const RM_WAIT: Duration = Duration::from_secs(30);
/// How long `sync-done` waits for the reload to take the old app out.
const DONE_WAIT: Duration = Duration::from_mins(1);

/// The configured socket path: `$FILESYNC_SOCKET` (an empty value counts
/// as unset), else the recorded config's, else the default.
pub fn socket_path() -> PathBuf {
    if let Some(p) = std::env::var_os(SOCKET_ENV).filter(|p| !p.is_empty()) {
        return p.into();
    }
    crate::config::load(None).map_or_else(
        |_| PathBuf::from(DEFAULT_SOCKET),
        |c| PathBuf::from(c.socket),
    )
}

/// One place the socket may be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub path: PathBuf,
    /// The private directory holding it (fallbacks only).
    pub private_dir: Option<PathBuf>,
}

/// Where the socket may be, in the order both sides try: `primary`, then
/// `filesync-UID/filesync.sock` under `$XDG_RUNTIME_DIR` and `/dev/shm`.
pub fn candidates(primary: &Path) -> Vec<Candidate> {
    let uid = nix::unistd::getuid();
    let mut bases = Vec::new();
    if let Some(x) = std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from) {
        if x.is_absolute() {
            bases.push(x);
        }
    }
    bases.push(PathBuf::from("/dev/shm"));
    let mut out = vec![Candidate {
        path: primary.to_path_buf(),
        private_dir: None,
    }];
    for base in bases {
        let dir = base.join(format!("filesync-{uid}"));
        out.push(Candidate {
            path: dir.join(FALLBACK_NAME),
            private_dir: Some(dir),
        });
    }
    out
}

/// Is `dir` a real directory (not a symlink) owned by us and closed to
/// everybody else?
fn is_private(dir: &Path) -> std::io::Result<()> {
    let m = std::fs::symlink_metadata(dir)?;
    let ours = m.uid() == nix::unistd::getuid().as_raw();
    if !m.file_type().is_dir() || !ours || m.mode() & 0o077 != 0 {
        return Err(std::io::Error::other(format!(
            "{} is not a private directory of ours (owner {}, mode {:o})",
            dir.display(),
            m.uid(),
            m.mode() & 0o7777
        )));
    }
    Ok(())
}

/// Connects to the first candidate a supervisor listens on.
fn connect() -> Option<UnixStream> {
    candidates(&socket_path()).into_iter().find_map(|c| {
        if let Some(dir) = &c.private_dir {
            is_private(dir).ok()?;
        }
        UnixStream::connect(&c.path).ok()
    })
}

/// What a connection tells the supervisor.
#[derive(Debug)]
pub enum ShimEvent {
    Begin(u64),
    /// Batch complete: files changed, and which tool (`tar`, `rm`).
    End {
        id: u64,
        files: usize,
        tool: String,
        reply: Reply,
    },
    Abort(u64),
    /// `filesync sync-done`.
    Done {
        id: u64,
        reply: Reply,
    },
}

/// The answer owed to a session; dropping it closes the connection
/// unanswered (the peer sees EOF and goes on).
#[derive(Debug)]
pub struct Reply(UnixStream);

impl Reply {
    pub fn send(mut self) {
        let _ = self.0.write_all(b"ok\n");
    }
}

fn read_line(s: &UnixStream, timeout: Duration) -> Option<String> {
    s.set_read_timeout(Some(timeout)).ok()?;
    let mut line = String::new();
    BufReader::new(s.try_clone().ok()?)
        .read_line(&mut line)
        .ok()?;
    Some(line)
}

/// A shim's session; dropping it without `end` counts as an abort.
pub struct Session(Option<UnixStream>);

impl Session {
    /// Connects and says `begin`; without a supervisor (plain `tar` use,
    /// or none running) the shim works all the same.
    pub fn begin() -> Session {
        let stream = connect().and_then(|mut s| {
            s.write_all(b"begin\n").ok()?;
            // Wait for the supervisor to have queued `begin` before any file
            // changes, so no file-system event of ours can overtake it.
            read_line(&s, Duration::from_secs(2))?;
            Some(s)
        });
        Session(stream)
    }

    /// `tool` is `tar` or `rm`. Skaffold runs `rm` last in a batch (after
    /// `tar`), so the rm shim returns only once the supervisor has taken the
    /// app that may still hold a deleted file out (up to its stop grace).
    pub fn end(mut self, files: usize, tool: &str) {
        if let Some(mut s) = self.0.take() {
            if s.write_all(format!("end {files} {tool}\n").as_bytes())
                .is_ok()
                && tool == "rm"
            {
                let _ = read_line(&s, RM_WAIT);
            }
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if let Some(mut s) = self.0.take() {
            let _ = s.write_all(b"abort\n");
        }
    }
}

/// `filesync sync-done`: tells the supervisor the batch is complete and
/// waits until its reload has taken the old app out. `Err` when no
/// supervisor listens.
pub fn sync_done() -> Result<(), SyncDoneError> {
    let Some(mut s) = connect() else {
        let tried = candidates(&socket_path())
            .iter()
            .map(|c| c.path.display().to_string())
            .collect();
        return Err(SyncDoneError::NoSupervisor { tried });
    };
    s.write_all(b"done\n")?;
    match read_line(&s, DONE_WAIT) {
        Some(l) if l.trim() == "ok" => Ok(()),
        _ => Err(SyncDoneError::NoAnswer),
    }
}

/// Binds `path` with mode 0600: bound under a temporary name and made 0600
/// before it appears at `path`, so there is no moment when another user
/// could connect.
fn bind(path: &Path) -> std::io::Result<UnixListener> {
    let staging = path.with_file_name(format!(
        ".{}.{}",
        path.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    let _ = std::fs::remove_file(&staging);
    let listener = UnixListener::bind(&staging)?;
    let placed = std::fs::set_permissions(&staging, std::fs::Permissions::from_mode(0o600))
        .and_then(|()| std::fs::rename(&staging, path));
    if let Err(e) = placed {
        let _ = std::fs::remove_file(&staging);
        return Err(e);
    }
    Ok(listener)
}

fn bind_candidate(c: &Candidate) -> std::io::Result<UnixListener> {
    if let Some(dir) = &c.private_dir {
        match std::fs::DirBuilder::new().mode(0o700).create(dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        is_private(dir)?;
    }
    bind(&c.path)
}

/// Listens on the first of `candidates` that can be created, forwarding
/// each connection's messages to `deliver` (which returns `false` once
/// nobody listens any more). Shim sessions are counted in `gate` as they
/// begin and end, before `deliver` hears of them. On failure, why each
/// candidate failed.
pub fn listen(
    candidates: &[Candidate],
    gate: Arc<Gate>,
    deliver: impl Fn(ShimEvent) -> bool + Send + Sync + 'static,
) -> Result<PathBuf, ListenError> {
    let mut tried = Vec::new();
    let mut bound = None;
    for c in candidates {
        match bind_candidate(c) {
            Ok(l) => {
                bound = Some((l, c.path.clone()));
                break;
            }
            Err(e) => tried.push((c.path.clone(), e)),
        }
    }
    let Some((listener, path)) = bound else {
        return Err(ListenError { tried });
    };
    let deliver = Arc::new(deliver);
    std::thread::spawn(move || {
        for (id, conn) in (1u64..).zip(listener.incoming()) {
            let Ok(conn) = conn else { continue };
            let deliver = deliver.clone();
            let gate = gate.clone();
            std::thread::spawn(move || serve(id, conn, &gate, &*deliver));
        }
    });
    Ok(path)
}

fn serve(id: u64, conn: UnixStream, gate: &Gate, deliver: &dyn Fn(ShimEvent) -> bool) {
    let Ok(mut reply) = conn.try_clone() else {
        return;
    };
    let mut open = false;
    for line in BufReader::new(conn).lines() {
        let Ok(line) = line else { break };
        match line.split_whitespace().collect::<Vec<_>>().as_slice() {
            ["begin"] if !open => {
                open = true;
                gate.session_began();
                if !deliver(ShimEvent::Begin(id)) {
                    gate.session_ended();
                    return;
                }
                let _ = reply.write_all(b"ok\n");
            }
            ["end", n, tool @ ..] => {
                if open {
                    gate.session_ended();
                }
                let Ok(r) = reply.try_clone() else { return };
                deliver(ShimEvent::End {
                    id,
                    files: n.parse().unwrap_or(0),
                    tool: tool.first().copied().unwrap_or("").to_string(),
                    reply: Reply(r),
                });
                return;
            }
            ["done"] => {
                if open {
                    gate.session_ended();
                    deliver(ShimEvent::Abort(id));
                }
                let Ok(r) = reply.try_clone() else { return };
                deliver(ShimEvent::Done {
                    id,
                    reply: Reply(r),
                });
                return;
            }
            _ => break,
        }
    }
    if open {
        gate.session_ended();
        deliver(ShimEvent::Abort(id));
    }
}

#[cfg(test)]
mod tests;
