//! `filesync`: the developer's CLI (rules, skaffold, builder, inspect). It
//! depends on the rule engine and the contract only, never on the in-image
//! runtime (`filesync-runtime`, crates/runtime), so it has no Linux-only
//! code on its path and builds on macOS.

// The dev-dependencies serve the integration tests; the unit tests need not use them all.
#![cfg_attr(test, allow(unused_crate_dependencies))]

mod commands;

use clap::{Parser, Subcommand};
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
    /// Print the sync rules and processes recorded in an image.
    Inspect(commands::inspect::Args),
    /// Generate or check Skaffold `sync.manual` rules and a dev profile.
    Skaffold(commands::skaffold::Args),
    /// Derive a dev builder: FROM plus skaffold-filesync in every group (runs `pack builder create`).
    Builder(commands::builder::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Rules(a) => commands::rules::run(a),
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
