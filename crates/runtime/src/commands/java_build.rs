//! `filesync java-build CONFIG`: the in-container rebuild of a Java dev
//! image that the buildpack recorded (see `filesync_runtime::java_build`):
//! the supervisor runs it as the app's rebuild command after a sync.
//! Exit 0: `target/classes` is up to date; 1: javac reported errors
//! (the old classes are kept); 2: it could not run.

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// The recorded `java-build.toml`.
    config: PathBuf,
}

// main hands each subcommand its parsed clap arguments by value, one signature for all.
#[allow(clippy::needless_pass_by_value)]
pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let config = filesync_runtime::java_build::read_config(&args.config)?;
    Ok(if filesync_runtime::java_build::run(&config)? {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
