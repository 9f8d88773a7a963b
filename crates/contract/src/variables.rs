//! Every environment variable that crosses a boundary, by who sets it.
//!
//! Build-env variables (`BP_FILESYNC_*`, `GOOGLE_DEVMODE`) are set by the
//! user, Skaffold or `filesync skaffold --write` and read by the buildpack;
//! launch/run-time variables (`FILESYNC_*`) are set by the buildpack's
//! layer env or the user and read by the runtime in the image. An empty
//! value, or one of only whitespace, counts as unset everywhere.

/// Set by `skaffold dev` when the artifact's auto sync is on (Skaffold
/// `pkg/skaffold/build/buildpacks/lifecycle.go`): a dev build.
pub const GOOGLE_DEVMODE: &str = "GOOGLE_DEVMODE";
/// Turns the buildpack on without auto sync (the generated profile sets it).
pub const ENABLED: &str = "BP_FILESYNC_ENABLED";

/// Sync rules replacing the generated ones (`SRC[=DEST]`, `;` or newline).
pub const RULES: &str = "BP_FILESYNC_RULES";
/// Sync rules added to the generated ones.
pub const EXTRA_RULES: &str = "BP_FILESYNC_EXTRA_RULES";
/// Patterns never synced nor watched.
pub const IGNORE: &str = "BP_FILESYNC_IGNORE";
/// The language family, instead of detecting it.
pub const FAMILY: &str = "BP_FILESYNC_FAMILY";
/// How the app reloads: `none`, `restart` or `rebuild`.
pub const ACTION: &str = "BP_FILESYNC_ACTION";
/// The command that rebuilds the app in the container (implies `rebuild`).
pub const REBUILD_COMMAND: &str = "BP_FILESYNC_REBUILD_COMMAND";
/// The rule engine's overrides, for docs, fuzzing and error listings.
pub const OVERRIDES: &[&str] = &[RULES, EXTRA_RULES, IGNORE, FAMILY, ACTION, REBUILD_COMMAND];

/// The process type the supervisor wraps.
pub const PROCESS: &str = "BP_FILESYNC_PROCESS";
/// Quiet period for file-system events that come without a shim.
pub const DEBOUNCE_MS: &str = "BP_FILESYNC_DEBOUNCE_MS";
/// The signal that stops the app on a restart.
pub const STOP_SIGNAL: &str = "BP_FILESYNC_STOP_SIGNAL";
/// Recorded as [`crate::config::BatchEnd::Hook`]: `filesync skaffold
/// --write` sets it where Skaffold runs sync hooks, beside the hook itself.
pub const SYNC_HOOK: &str = "BP_FILESYNC_SYNC_HOOK";

/// Launch env: the path of the recorded [`crate::config::RuntimeConfig`].
pub const CONFIG: &str = "FILESYNC_CONFIG";
/// Run-time override of the socket path (tests, non-CNB use).
pub const SOCKET: &str = "FILESYNC_SOCKET";
/// Run-time override of the recorded stop signal.
pub const STOP_SIGNAL_RUNTIME: &str = "FILESYNC_STOP_SIGNAL";
/// Run-time grace, in seconds, between the stop signal and KILL.
pub const STOP_GRACE_SECONDS: &str = "FILESYNC_STOP_GRACE_SECONDS";
/// Run-time override of the directory restart records live in (default:
/// the pod's shared `/dev/shm/filesync`).
pub const RECORD_DIR: &str = "FILESYNC_RECORD_DIR";
/// Run-time size limit of the restart record, in MiB; 0 turns it off.
pub const RECORD_LIMIT_MIB: &str = "FILESYNC_RECORD_LIMIT_MIB";
