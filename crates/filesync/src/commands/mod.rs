//! One module per subcommand; each exposes `Args` (clap) and
//! `run(Args) -> anyhow::Result<ExitCode>`.
pub(crate) mod builder;
pub(crate) mod inspect;
pub(crate) mod rules;
pub(crate) mod skaffold;
