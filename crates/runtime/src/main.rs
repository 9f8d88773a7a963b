//! `filesync-runtime`: the in-image runtime, installed by the buildpack as
//! the dev image's `bin/filesync` (what its process types `filesync`,
//! `tar`, `rm` and `filesync-sync-done` run). Apart from the developer's
//! `filesync` CLI so that the CLI links no Linux-only code (prctl, inotify,
//! signal handling) and builds on macOS, and the image carries no
//! registry client.
//!
//! It is also a multi-call binary: invoked as `tar` or `rm` (argv[0]), it
//! behaves as `filesync tar …` / `filesync rm …`, so it can be linked under
//! those names where a process type is not available.

// A thin entry point over the filesync-runtime library, which uses the dependencies.
#![allow(unused_crate_dependencies)]

mod commands;

use clap::{Parser, Subcommand};
use filesync_contract::processes::subcommand;
use std::ffi::OsString;
use std::process::ExitCode;

/// Named `filesync` as in the image (`--version`, error lines).
#[derive(Parser)]
#[command(
    name = "filesync",
    version,
    about = "The skaffold-filesync runtime of dev images: the reloading supervisor and Skaffold's sync shims"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the app's own process under a reloading supervisor (the image's default process).
    #[command(name = subcommand::SUPERVISE)]
    Supervise(commands::supervise::Args),
    /// The `tar` shim Skaffold's sync runs (`tar xmf - -C / --no-same-owner`).
    #[command(name = subcommand::TAR, disable_help_flag = true)]
    Tar(commands::tar::Args),
    /// The `rm` shim Skaffold's sync runs (`rm -rf -- PATHS`).
    #[command(name = subcommand::RM, disable_help_flag = true)]
    Rm(commands::rm::Args),
    /// Mark the end of a Skaffold sync batch (an after-sync container hook).
    #[command(name = subcommand::SYNC_DONE)]
    SyncDone(commands::sync_done::Args),
    /// Compile a Java dev image's changed app into target/classes (its recorded rebuild).
    #[command(name = subcommand::JAVA_BUILD)]
    JavaBuild(commands::java_build::Args),
}

fn main() -> ExitCode {
    let mut argv: Vec<OsString> = std::env::args_os().collect();
    // Multi-call: `tar …` / `rm …` through a link named after the tool.
    if let Some(name) = argv
        .first()
        .and_then(|a| std::path::Path::new(a).file_name())
        .and_then(|n| n.to_str())
    {
        if name == subcommand::TAR || name == subcommand::RM {
            argv.insert(1, name.into());
        }
    }
    let cli = Cli::parse_from(argv);
    let result = match cli.command {
        Command::Supervise(a) => commands::supervise::run(a),
        Command::Tar(a) => commands::tar::run(a),
        Command::Rm(a) => commands::rm::run(a),
        Command::SyncDone(a) => commands::sync_done::run(a),
        Command::JavaBuild(a) => commands::java_build::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("filesync: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
