//! The runtime half of skaffold-filesync: the supervisor that runs the app's
//! own process and reloads it, the `tar`/`rm` shims Skaffold's sync runs,
//! and the notification channel between them.

// The dev-dependencies serve the integration tests; the unit tests need not use them all.
#![cfg_attr(test, allow(unused_crate_dependencies))]

// clap parses the binary's (src/main.rs) command line; a package's
// dependencies are shared by its targets.
use clap as _;

pub mod config;
pub mod delegate;
pub mod errors;
pub mod java_build;
pub mod launch_env;
pub mod metadata;
pub mod protocol;
pub mod record;
pub mod rm_shim;
pub mod supervisor;
pub mod tar_shim;
pub mod watch;

/// Our log lines, on stderr, prefixed so `kubectl logs` readers can tell
/// them from the app's own output (which passes through untouched).
#[macro_export]
macro_rules! log {
    ($($arg:tt)*) => {
        eprintln!("[filesync] {}", format_args!($($arg)*))
    };
}
