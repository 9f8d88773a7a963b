//! One module per subcommand; each exposes `Args` (clap) and
//! `run(Args) -> anyhow::Result<ExitCode>`.
pub mod builder;
pub mod inspect;
pub mod rules;
pub mod skaffold;
