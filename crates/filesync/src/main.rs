//! `filesync`: one static binary for the supervisor, the tar/rm shims and
//! the tooling commands.
//!
//! It is also a multi-call binary: invoked as `tar` or `rm` (argv[0]), it
//! behaves as `filesync tar …` / `filesync rm …`, so it can be linked under
//! those names where a process type is not available.

mod commands;

use clap::{Parser, Subcommand};
use std::ffi::OsString;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "filesync",
    version,
    about = "Skaffold file sync and live reload for Cloud Native Buildpacks images"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the language family, sync rules and synced files of an app.
    Rules(commands::rules::Args),
    /// Run the app's own process under a reloading supervisor (the image's default process).
    Supervise(commands::supervise::Args),
    /// The `tar` shim Skaffold's sync runs (`tar xmf - -C / --no-same-owner`).
    #[command(disable_help_flag = true)]
    Tar(commands::tar::Args),
    /// The `rm` shim Skaffold's sync runs (`rm -rf -- PATHS`).
    #[command(disable_help_flag = true)]
    Rm(commands::rm::Args),
    /// Mark the end of a Skaffold sync batch (an after-sync container hook).
    SyncDone(commands::sync_done::Args),
    /// Compile a Java dev image's changed app into target/classes (its recorded rebuild).
    JavaBuild(commands::java_build::Args),
    /// Print the sync rules and processes recorded in an image.
    Inspect(commands::inspect::Args),
    /// Generate or check Skaffold `sync.manual` rules and a dev profile.
    Skaffold(commands::skaffold::Args),
    /// Derive a dev builder: FROM plus skaffold-filesync in every group (runs `pack builder create`).
    Builder(commands::builder::Args),
}

fn main() -> ExitCode {
    let mut argv: Vec<OsString> = std::env::args_os().collect();
    // Multi-call: `tar …` / `rm …` through a link named after the tool.
    if let Some(name) = argv
        .first()
        .and_then(|a| std::path::Path::new(a).file_name())
        .and_then(|n| n.to_str())
    {
        if name == "tar" || name == "rm" {
            argv.insert(1, name.into());
        }
    }
    let cli = Cli::parse_from(argv);
    let result = match cli.command {
        Command::Rules(a) => commands::rules::run(a),
        Command::Supervise(a) => commands::supervise::run(a),
        Command::Tar(a) => commands::tar::run(a),
        Command::Rm(a) => commands::rm::run(a),
        Command::SyncDone(a) => commands::sync_done::run(a),
        Command::JavaBuild(a) => commands::java_build::run(a),
        Command::Inspect(a) => commands::inspect::run(a),
        Command::Skaffold(a) => commands::skaffold::run(a),
        Command::Builder(a) => commands::builder::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("filesync: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
