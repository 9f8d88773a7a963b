//! One module per subcommand; each exposes `Args` (clap) and
//! `run(Args) -> anyhow::Result<ExitCode>`.
pub mod builder;
pub mod inspect;
pub mod java_build;
pub mod rm;
pub mod rules;
pub mod skaffold;
pub mod supervise;
pub mod sync_done;
pub mod tar;
