//! `filesync rm`: the shim behind the `rm` process type (see
//! `filesync_runtime::rm_shim`).

use std::ffi::OsString;
use std::process::ExitCode;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Arguments exactly as the caller gave them.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<OsString>,
}

// main hands each subcommand its parsed clap arguments by value, one signature for all.
#[allow(clippy::unnecessary_wraps)]
// main hands each subcommand its parsed clap arguments by value, one signature for all.
#[allow(clippy::needless_pass_by_value)]
pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let code = filesync_runtime::rm_shim::run(&args.args);
    Ok(ExitCode::from(
        u8::try_from(code.clamp(0, 255)).unwrap_or(u8::MAX),
    ))
}
