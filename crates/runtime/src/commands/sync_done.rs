//! `filesync sync-done`: marks the end of a Skaffold sync batch, run as an
//! after-sync container hook (`sync.hooks.after[].container.command`;
//! Skaffold runs those once the copies and the deletions are both done,
//! with the kubectl deployer). With `batch_end = "hook"` recorded, the
//! supervisor then reloads once for the whole batch; it returns once the
//! old app is gone. See `filesync_runtime::protocol`.

use std::process::ExitCode;

#[derive(clap::Args)]
pub(crate) struct Args {}

// main hands each subcommand its parsed clap arguments by value, one signature for all.
#[allow(clippy::unnecessary_wraps)]
// main hands each subcommand its parsed clap arguments by value, one signature for all.
#[allow(clippy::needless_pass_by_value)]
pub(crate) fn run(_args: Args) -> anyhow::Result<ExitCode> {
    match filesync_runtime::protocol::sync_done() {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            // A hook must never fail a sync: without a supervisor (an image
            // without skaffold-filesync, or it is restarting) there is
            // nothing to tell, and file events still reach a running one.
            eprintln!("filesync sync-done: {e}; nothing to do");
            Ok(ExitCode::SUCCESS)
        }
    }
}
