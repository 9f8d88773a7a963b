//! The runtime's own errors, as data: each variant holds what went wrong
//! and with what, and its `Display` is the one line the runtime logs or
//! prints for it (these lines are what a developer reads in `kubectl
//! logs`, so they keep the wording the runtime always had).
//!
//! None of them stops the app: a child that cannot start is retried or
//! leaves the old version serving, a `sync-done` with nobody to tell is a
//! no-op, a bad stop signal setting is skipped.

use std::io;
use std::path::PathBuf;

/// A child of the supervisor (the app, or the rebuild command) could not
/// be started.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    /// Executing `command` failed (not found, not executable, …).
    #[error("{command}: {source}")]
    Exec {
        /// The command line as logged.
        command: String,
        source: io::Error,
    },
    /// A rebuild was asked for, but the plan records no rebuild command.
    #[error("no rebuild command")]
    NoBuildCommand,
}

/// `filesync sync-done` could not hand the batch end to a supervisor.
#[derive(Debug, thiserror::Error)]
pub enum SyncDoneError {
    /// No socket candidate accepted a connection.
    #[error("no supervisor listens on {}", .tried.join(" or "))]
    NoSupervisor {
        /// Every socket path tried, in order.
        tried: Vec<String>,
    },
    /// Connected, but the request could not be written.
    #[error("{0}")]
    Send(#[from] io::Error),
    /// The supervisor closed the connection or did not answer in time.
    #[error("the supervisor did not answer")]
    NoAnswer,
}

/// A stop signal setting names no signal the app may be stopped with
/// (the contract parses stop signals: the buildpack validates them too).
pub use filesync_contract::config::StopSignalError;

/// The file-system watcher could not be set up at all (the supervisor
/// then runs without it, on the shims alone).
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// No inotify instance (`fs.inotify.max_user_instances` reached).
    #[error("inotify: {0}")]
    Inotify(notify::Error),
    /// The app directory itself cannot be watched.
    #[error("watching {}: {source}", .root.display())]
    Root {
        root: PathBuf,
        source: notify::Error,
    },
}

/// No candidate for the sync socket could be created (the supervisor then
/// runs without it, on file-system events alone).
#[derive(Debug, thiserror::Error)]
#[error("{}", each_failure(.tried))]
pub struct ListenError {
    /// Every candidate path, with why it failed.
    pub tried: Vec<(PathBuf, io::Error)>,
}

/// `PATH: why; PATH: why`.
fn each_failure(tried: &[(PathBuf, io::Error)]) -> String {
    let each: Vec<String> = tried
        .iter()
        .map(|(path, e)| format!("{}: {e}", path.display()))
        .collect();
    each.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use filesync_contract::config::SOCKET;

    #[test]
    fn each_error_renders_the_line_the_runtime_logs() {
        let exec = SpawnError::Exec {
            command: "node server.js".into(),
            source: io::Error::from(io::ErrorKind::NotFound),
        };
        assert_eq!(exec.to_string(), "node server.js: entity not found");
        assert_eq!(SpawnError::NoBuildCommand.to_string(), "no rebuild command");
        let none = SyncDoneError::NoSupervisor {
            tried: vec![SOCKET.into(), "/run/x.sock".into()],
        };
        assert_eq!(
            none.to_string(),
            format!("no supervisor listens on {SOCKET} or /run/x.sock")
        );
        assert_eq!(
            SyncDoneError::NoAnswer.to_string(),
            "the supervisor did not answer"
        );
        let bad = StopSignalError {
            value: "STOP".into(),
        };
        let no_socket = ListenError {
            tried: vec![
                (
                    SOCKET.into(),
                    io::Error::from(io::ErrorKind::PermissionDenied),
                ),
                (
                    "/run/x.sock".into(),
                    io::Error::from(io::ErrorKind::ReadOnlyFilesystem),
                ),
            ],
        };
        assert_eq!(
            no_socket.to_string(),
            format!(
                "{SOCKET}: permission denied; /run/x.sock: read-only filesystem or storage medium"
            )
        );
        let unwatched = WatchError::Root {
            root: "/workspace".into(),
            source: notify::Error::path_not_found(),
        };
        assert_eq!(
            unwatched.to_string(),
            "watching /workspace: No path was found."
        );
        assert_eq!(
            bad.to_string(),
            "\"STOP\" is not a stop signal; use one of TERM, INT, QUIT, HUP, USR1, USR2, WINCH, KILL (with or without SIG)"
        );
    }
}
