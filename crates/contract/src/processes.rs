//! The dev image's process types and the runtime subcommands they run:
//! written by the buildpack into `launch.toml`, called by Skaffold's sync
//! (`tar`, `rm`) and by the generated after-sync hook, parsed by the
//! runtime binary.

/// The default process: the supervisor wrapping the app's own process.
pub const SUPERVISOR: &str = "filesync";
/// Skaffold's sync runs `tar xmf - -C / --no-same-owner`.
pub const TAR: &str = "tar";
/// Skaffold's sync runs `rm -rf -- PATHS` for deletions.
pub const RM: &str = "rm";
/// The process type Skaffold's after-sync container hook runs
/// (`filesync sync-done`). A process type, not a bare `filesync`: the
/// exporter puts `/cnb/process` first on the image's PATH, where
/// `filesync` is the supervisor's own process type.
pub const SYNC_DONE: &str = "filesync-sync-done";

/// The process types of ours, which `BP_FILESYNC_PROCESS` cannot name.
pub const OWN: [&str; 4] = [SUPERVISOR, TAR, RM, SYNC_DONE];

/// The runtime binary's subcommand behind each of our process types.
pub mod subcommand {
    pub const SUPERVISE: &str = "supervise";
    pub const TAR: &str = "tar";
    pub const RM: &str = "rm";
    pub const SYNC_DONE: &str = "sync-done";
    /// A Java dev image's rebuild command (`java-build CONFIG`), recorded
    /// by the buildpack's java-dev layer.
    pub const JAVA_BUILD: &str = "java-build";
}

/// The runtime binary's name inside the buildpack (`bin/`) and inside its
/// launch layer (`<layer>/bin/`): what the image's process types run.
pub const RUNTIME_BINARY: &str = "filesync";
