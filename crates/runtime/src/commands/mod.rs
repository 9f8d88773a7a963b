//! One module per subcommand of the runtime binary; each exposes `Args`
//! (clap) and `run(Args) -> anyhow::Result<ExitCode>`.
pub(crate) mod java_build;
pub(crate) mod rm;
pub(crate) mod supervise;
pub(crate) mod sync_done;
pub(crate) mod tar;
