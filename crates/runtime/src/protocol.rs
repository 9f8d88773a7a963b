//! The channel from the shims to the supervisor: a unix stream socket
//! (mode 0600: only the container's user may talk to it). A shim connects
//! before it touches any file, sends `begin`, and `end N` once every file
//! is in place — or `abort` (or just disconnects) when it failed. The
//! supervisor reloads once per batch, after the last file exists, and
//! ignores file-system events while a shim is at work.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;

/// Env override of the socket path (tests, non-CNB use).
pub const SOCKET_ENV: &str = "FILESYNC_SOCKET";

/// The socket path: `$FILESYNC_SOCKET`, else the recorded config's, else
/// the default.
pub fn socket_path() -> PathBuf {
    if let Some(p) = std::env::var_os(SOCKET_ENV) {
        return p.into();
    }
    crate::config::RuntimeConfig::load(None)
        .map(|c| PathBuf::from(c.socket))
        .unwrap_or_else(|_| PathBuf::from("/tmp/filesync.sock"))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShimEvent {
    Begin(u64),
    /// Batch complete: files changed, and whether more may follow (`rm`).
    End(u64, usize, bool),
    Abort(u64),
}

/// A shim's session; dropping it without `end` counts as an abort.
pub struct Session(Option<UnixStream>);

impl Session {
    /// Connects and says `begin`; without a supervisor (plain `tar` use,
    /// or none running) the shim works all the same.
    pub fn begin() -> Session {
        let stream = UnixStream::connect(socket_path()).ok().and_then(|mut s| {
            s.write_all(b"begin\n").ok()?;
            // Wait for the supervisor to have queued `begin` before any file
            // changes, so no file-system event of ours can overtake it.
            s.set_read_timeout(Some(std::time::Duration::from_secs(2)))
                .ok()?;
            let mut ack = String::new();
            BufReader::new(s.try_clone().ok()?)
                .read_line(&mut ack)
                .ok()?;
            Some(s)
        });
        Session(stream)
    }

    /// `tool` is `tar` or `rm`: Skaffold runs `rm` before `tar` in one
    /// batch, so after `rm` the supervisor waits briefly for a `tar`.
    pub fn end(mut self, files: usize, tool: &str) {
        if let Some(mut s) = self.0.take() {
            let _ = s.write_all(format!("end {files} {tool}\n").as_bytes());
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

/// Listens on `path`, forwarding each connection's messages to `tx`.
pub fn listen(path: &Path, tx: Sender<ShimEvent>) -> std::io::Result<()> {
    // Bound under a temporary name and made 0600 before it appears at
    // `path`: there is no moment when another user could connect.
    let staging = path.with_file_name(format!(
        ".{}.{}",
        path.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    let _ = std::fs::remove_file(&staging);
    let listener = UnixListener::bind(&staging)?;
    std::fs::set_permissions(&staging, std::fs::Permissions::from_mode(0o600))?;
    std::fs::rename(&staging, path)?;
    std::thread::spawn(move || {
        for (id, conn) in (1u64..).zip(listener.incoming()) {
            let Ok(conn) = conn else { continue };
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut ended = false;
                let Ok(mut reply) = conn.try_clone() else {
                    return;
                };
                for line in BufReader::new(conn).lines() {
                    let Ok(line) = line else { break };
                    let event = match line.split_whitespace().collect::<Vec<_>>().as_slice() {
                        ["begin"] => ShimEvent::Begin(id),
                        ["end", n, tool @ ..] => {
                            ended = true;
                            ShimEvent::End(id, n.parse().unwrap_or(0), tool.first() == Some(&"rm"))
                        }
                        _ => {
                            ended = true;
                            ShimEvent::Abort(id)
                        }
                    };
                    let begin = event == ShimEvent::Begin(id);
                    if tx.send(event).is_err() {
                        return;
                    }
                    if begin {
                        let _ = reply.write_all(b"ok\n");
                    }
                    if ended {
                        return;
                    }
                }
                if !ended {
                    let _ = tx.send(ShimEvent::Abort(id));
                }
            });
        }
    });
    Ok(())
}
