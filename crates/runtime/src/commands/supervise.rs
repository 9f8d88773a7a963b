//! `filesync supervise`: the default process of dev images. Finds the
//! wrapped process type (recorded by the buildpack) in the lifecycle's
//! `/layers/config/metadata.toml`, builds the exact environment the
//! launcher would give it, and supervises it (see
//! `filesync_runtime::supervisor`).

use anyhow::Context;
use filesync_runtime::config::{self, STOP_SIGNAL_ENV};
use filesync_runtime::metadata::{layers_dir, Metadata};
use filesync_runtime::supervisor::{signals, Signal};
use filesync_runtime::{launch_env, supervisor};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// The recorded runtime config (default: $`FILESYNC_CONFIG`).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Wrap this process type instead of the recorded one.
    #[arg(long)]
    pub process: Option<String>,
    /// Stop grace period before SIGKILL, in seconds (for the app and for
    /// a cancelled rebuild). Default: $`FILESYNC_STOP_GRACE_SECONDS`, else 10.
    #[arg(long)]
    pub grace: Option<u64>,
    /// Run this command instead of looking the process type up.
    #[arg(last = true)]
    pub command: Vec<String>,
}

// main hands each subcommand its parsed clap arguments by value, one signature for all.
#[allow(clippy::needless_pass_by_value)]
pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let config = config::load(args.config.as_deref())?;
    let current: launch_env::Env = std::env::vars().collect();
    let (argv, env, cwd) = if args.command.is_empty() {
        let process_type = args
            .process
            .clone()
            .unwrap_or_else(|| config.process_type.clone());
        let layers = layers_dir();
        let metadata = Metadata::load(&layers)?;
        let process = metadata.process(&process_type).with_context(|| {
            let known: Vec<&str> = metadata.processes.iter().map(|p| p.kind.as_str()).collect();
            format!(
                "the image has no process type {process_type:?} to wrap (it has: {}); set {} at build time",
                known.join(", "),
                filesync_contract::variables::PROCESS
            )
        })?;
        let env = launch_env::for_process(current, &layers, &metadata, &process_type);
        let cwd = process
            .working_dir
            .clone()
            .map_or(std::env::current_dir()?, PathBuf::from);
        (process.argv(), env, cwd)
    } else {
        (args.command.clone(), current, std::env::current_dir()?)
    };
    anyhow::ensure!(!argv.is_empty(), "empty command");
    let stop_signal = stop_signal(
        config.stop_signal.as_deref(),
        std::env::var(STOP_SIGNAL_ENV).ok().as_deref(),
    );
    // Before the app starts: a restarted container of this build gets the
    // last synced files back (issue 23).
    if let Some(record) = filesync_runtime::record::Settings::for_config(&config) {
        filesync_runtime::record::restore(&record, std::path::Path::new("/"));
    }
    let code = supervisor::run(supervisor::Options {
        argv,
        env,
        cwd,
        app_dir: PathBuf::from(&config.plan.app_dir),
        plan: config.plan.clone(),
        debounce: Duration::from_millis(config.debounce_ms),
        socket: std::env::var_os(filesync_runtime::protocol::SOCKET_ENV)
            .filter(|p| !p.is_empty())
            .map_or_else(|| PathBuf::from(&config.socket), PathBuf::from),
        grace: Duration::from_secs(
            args.grace
                .unwrap_or_else(|| grace_from_env(std::env::var(GRACE_ENV).ok().as_deref())),
        ),
        stop_signal,
        batch_end: config.batch_end,
    })?;
    Ok(ExitCode::from(
        u8::try_from(code.clamp(0, 255)).unwrap_or(u8::MAX),
    ))
}

/// The container's stop grace period in seconds.
const GRACE_ENV: &str = filesync_contract::variables::STOP_GRACE_SECONDS;
const DEFAULT_GRACE_SECONDS: u64 = 10;

/// `$FILESYNC_STOP_GRACE_SECONDS`: empty counts as unset; a value that is
/// not a whole number of seconds is logged and ignored, like every runtime
/// setting (a setting never keeps the app from starting).
fn grace_from_env(value: Option<&str>) -> u64 {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => DEFAULT_GRACE_SECONDS,
        Some(v) => v.parse().unwrap_or_else(|_| {
            eprintln!(
                "[filesync] {GRACE_ENV}={v:?} is not a whole number of seconds; \
                 ignored, using {DEFAULT_GRACE_SECONDS}"
            );
            DEFAULT_GRACE_SECONDS
        }),
    }
}

/// The stop signal: `$FILESYNC_STOP_SIGNAL`, else the recorded one, else
/// TERM. A bad value is logged and skipped, never fatal (the recorded one
/// was validated at build time).
fn stop_signal(recorded: Option<&str>, env: Option<&str>) -> Signal {
    for (value, from) in [
        (env, STOP_SIGNAL_ENV),
        (recorded, "the recorded stop_signal"),
    ] {
        let Some(value) = value.filter(|v| !v.trim().is_empty()) else {
            continue;
        };
        match signals::by_name(value) {
            Some(sig) => return sig,
            None => eprintln!(
                "[filesync] {from}: {}; ignored",
                config::parse_stop_signal(value)
                    .err()
                    .map(|e| e.to_string())
                    .unwrap_or_default()
            ),
        }
    }
    Signal::SIGTERM
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_or_empty_grace_period_falls_back_to_the_default() {
        assert_eq!(grace_from_env(None), 10);
        assert_eq!(grace_from_env(Some("")), 10);
        assert_eq!(grace_from_env(Some(" 3 ")), 3);
        assert_eq!(grace_from_env(Some("abc")), 10);
        assert_eq!(grace_from_env(Some("-1")), 10);
    }

    #[test]
    fn the_env_overrides_the_recorded_stop_signal_and_bad_values_fall_back() {
        assert_eq!(stop_signal(None, None), Signal::SIGTERM);
        assert_eq!(stop_signal(Some("QUIT"), None), Signal::SIGQUIT);
        assert_eq!(stop_signal(Some("QUIT"), Some("SIGINT")), Signal::SIGINT);
        assert_eq!(stop_signal(Some("QUIT"), Some("bogus")), Signal::SIGQUIT);
        assert_eq!(stop_signal(Some("bogus"), Some("")), Signal::SIGTERM);
    }
}
