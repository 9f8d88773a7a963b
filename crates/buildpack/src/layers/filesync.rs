//! The `filesync` launch layer: the static runtime binary (packaged with
//! the buildpack, never downloaded), the held-sockets interposer next to
//! it (`libfilesync_listen.so`: the supervisor preloads it into the app so
//! no connection is refused while it restarts, issue 23), and the
//! recorded runtime config, found at launch through `FILESYNC_CONFIG`.

use crate::errors::BuildpackError;
use crate::FilesyncBuildpack;
use filesync_contract::config::{RuntimeConfig, CONFIG_ENV};
use filesync_contract::held_sockets::PRELOAD_FILE;
use filesync_contract::processes::RUNTIME_BINARY;
use filesync_rules::Family;
use libcnb::build::BuildContext;
use libcnb::data::layer_name;
use libcnb::layer::UncachedLayerDefinition;
use libcnb::layer_env::{LayerEnv, ModificationBehavior, Scope};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

/// What keeps the layer from being made: data only, rendered by `errors`.
#[derive(Debug)]
pub enum FilesyncLayerError {
    /// Copying the packaged runtime binary (buildpack.toml's
    /// `[metadata] runtime-binary`) into the layer.
    InstallBinary(std::io::Error),
    /// Serializing or writing `filesync.toml`.
    WriteConfig(String),
}

/// Where [`install`] puts the runtime binary, known before it runs (the
/// Java rebuild command names it).
pub(crate) fn binary_path(context: &BuildContext<FilesyncBuildpack>) -> PathBuf {
    context
        .layers_dir
        .join("filesync")
        .join("bin")
        .join(RUNTIME_BINARY)
}

/// Installs the layer; returns the runtime binary's path in the image.
pub(crate) fn install(
    context: &BuildContext<FilesyncBuildpack>,
    config: &RuntimeConfig,
) -> libcnb::Result<PathBuf, BuildpackError> {
    let layer = context.uncached_layer(
        layer_name!("filesync"),
        UncachedLayerDefinition {
            build: false,
            launch: true,
        },
    )?;
    let binary = binary_path(context);
    debug_assert!(binary.starts_with(layer.path()));
    let bin_dir = binary.parent().unwrap_or(&binary);
    std::fs::create_dir_all(bin_dir).map_err(FilesyncLayerError::InstallBinary)?;
    let packaged = crate::lifecycle_files::runtime_binary(context)?;
    std::fs::copy(&packaged, &binary).map_err(FilesyncLayerError::InstallBinary)?;
    // Where the supervisor looks for it. A buildpack packaged without it
    // still works: the supervisor then says once that a connection during
    // a restart may be refused.
    let preload = packaged.with_file_name(PRELOAD_FILE);
    if preload.is_file() {
        std::fs::copy(&preload, binary.with_file_name(PRELOAD_FILE))
            .map_err(FilesyncLayerError::InstallBinary)?;
    }
    std::fs::set_permissions(&binary, std::fs::Permissions::from_mode(0o755))
        .map_err(FilesyncLayerError::InstallBinary)?;

    let config_path = layer.path().join("filesync.toml");
    let config_error = |e: &dyn std::fmt::Display| FilesyncLayerError::WriteConfig(e.to_string());
    let text = toml::to_string(config).map_err(|e| config_error(&e))?;
    std::fs::write(&config_path, text).map_err(|e| config_error(&e))?;
    let mut env = LayerEnv::new().chainable_insert(
        Scope::Launch,
        ModificationBehavior::Override,
        CONFIG_ENV,
        &config_path,
    );
    if config.plan.family == Family::Python {
        // Python trusts its bytecode cache when the source's mtime (whole
        // seconds) and size are unchanged: two same-size edits synced within
        // a second would run stale code after the restart. Dev images write
        // no cache (a default: the app's own setting wins).
        env = env.chainable_insert(
            Scope::Launch,
            ModificationBehavior::Default,
            "PYTHONDONTWRITEBYTECODE",
            "1",
        );
    }
    layer.write_env(env)?;
    Ok(binary)
}
