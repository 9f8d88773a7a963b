//! The contract of skaffold-filesync: every name and schema that crosses a
//! crate or the image boundary, written once. The crates on either side of
//! an arrow below agree only through this crate.
//!
//! ```text
//!  app dir ──(filesync-rules: family, rules)──▶ Plan
//!     │                                          │
//!     │  build env: BP_FILESYNC_* (variables)    │  detect: the build plan
//!     ▼                                          ▼
//!  buildpack build ──▶ RuntimeConfig (config, FILESYNC_CONFIG)
//!                  ──▶ label skaffold-filesync.metadata (label)
//!                  ──▶ legacy BOM devmode.sync
//!                  ──▶ process types filesync, tar, rm, filesync-sync-done (processes)
//!     │
//!     ▼
//!  image ──▶ supervisor (filesync-runtime `supervise`) ◀── shims: tar, rm, sync-done
//!                                        (socket /tmp/filesync.sock, config)
//!  developer CLI (`filesync skaffold`, `inspect`) reads the label and writes
//!  the build env and the after-sync hook from the same names.
//! ```
//!
//! Modules: [`variables`] (every variable name), [`held_sockets`] (the
//! app's preloaded `bind` and the supervisor holding its listening
//! sockets), [`settings`] (the rule engine's overrides read from them), [`config`] (the recorded runtime
//! config, the socket, stop signals), [`java_build`] (what a Java dev
//! image's rebuild reads), [`label`], [`processes`], and
//! [`paketo`] (Paketo's own settings a dev build sets).
//!
//! Data flows one way: the rule engine knows nothing of this crate; this
//! crate knows the rule engine's types (the plan it records) and nothing
//! of the buildpack, the runtime or the CLI.

pub mod config;
pub mod held_sockets;
pub mod java_build;
pub mod label;
pub mod paketo;
pub mod processes;
pub mod settings;
pub mod variables;
