//! The recorded runtime config (the contract's schema, written by the
//! buildpack) and how the runtime finds and reads it.

pub use filesync_contract::config::*;

/// Reads the config the buildpack recorded: `path`, else `$FILESYNC_CONFIG`.
pub fn load(path: Option<&std::path::Path>) -> anyhow::Result<RuntimeConfig> {
    use anyhow::Context;
    let path = match path {
        Some(p) => p.to_path_buf(),
        None => std::env::var_os(CONFIG_ENV)
            .map(std::path::PathBuf::from)
            .with_context(|| {
                format!("{CONFIG_ENV} is not set: is this an image built by skaffold-filesync?")
            })?,
    };
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}
