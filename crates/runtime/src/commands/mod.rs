//! One module per subcommand of the runtime binary; each exposes `Args`
//! (clap) and `run(Args) -> anyhow::Result<ExitCode>`.
pub mod java_build;
pub mod rm;
pub mod supervise;
pub mod sync_done;
pub mod tar;
