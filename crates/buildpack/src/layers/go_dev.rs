//! The `go-dev` launch layer (dev builds of Go apps rebuilt in the
//! container): a Go build cache that is warm in the image, and the link
//! flag of a dev loop.
//!
//! - **Why a cache in the image.** Paketo's go-build keeps its `GOCACHE`
//!   in a cache-only layer (paketo-buildpacks/go-build `build.go`: the
//!   `gocache` layer, `cache = true`, not launch), and since Go 1.20 the
//!   standard library is not shipped compiled. So the container's first
//!   rebuild compiled `net/http` and everything under it from source: the
//!   first synced edit of the Go examples took 22–33 s in CI, the next ones
//!   0.5 s. This layer holds a `GOCACHE` filled at build time by the
//!   rebuild command itself (same flags, same toolchain, so the same cache
//!   keys), and the image points `GOCACHE` at it. It is cached between
//!   builds (keyed by `go version`), so only the first build pays.
//! - **Writable by the run user.** The exporter keeps permission bits but
//!   not owners (see `writable`), and Go writes new entries into the
//!   cache's subdirectories: the tree gets the same bits as the app's.
//! - **`-ldflags=-s`** (appended to `GOFLAGS` unless it already sets
//!   `-ldflags`): no symbol table and, since Go 1.22, no DWARF — the linker
//!   is most of a warm rebuild, and this cut it from about 390 to 270 ms for
//!   examples/go on this project's 2-core machine (five edits each). A
//!   debugger needs the symbols: `skaffold debug` builds without this
//!   buildpack's dev layer, and `GOFLAGS=-ldflags=` in the image's env
//!   turns it off.
//!
//! Only for the default rebuild (a command whose program is `go`): a
//! user's own command is not run at build time. Production images never
//! get this layer.

use crate::FilesyncBuildpack;
use filesync_rules::{Family, Plan, ReloadAction};
use libcnb::build::BuildContext;
use libcnb::data::layer_name;
use libcnb::layer::{
    CachedLayerDefinition, InvalidMetadataAction, LayerState, RestoredLayerAction,
};
use libcnb::layer_env::{LayerEnv, ModificationBehavior, Scope};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::process::{Command, Stdio};

/// The dev loop's link flag (see the module doc).
pub(crate) const DEV_GOFLAGS: &str = "-ldflags=-s";

/// What a cached layer was filled with: another toolchain starts afresh.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct GoDevMetadata {
    go_version: String,
}

/// The rebuild command of a Go dev build this layer applies to.
pub(crate) fn applies(plan: &Plan) -> Option<&[String]> {
    match (&plan.family, &plan.action) {
        (Family::Go, ReloadAction::Rebuild { command })
            if command.first().is_some_and(|p| p == "go") =>
        {
            Some(command)
        }
        _ => None,
    }
}

/// The `GOFLAGS` the image gets: the build's own, with [`DEV_GOFLAGS`]
/// unless it chooses its link flags itself.
pub(crate) fn goflags(current: Option<&str>) -> Option<String> {
    let current = current.map(str::trim).unwrap_or_default();
    if current
        .split_whitespace()
        .any(|f| f.starts_with("-ldflags"))
    {
        return None;
    }
    Some(if current.is_empty() {
        DEV_GOFLAGS.to_string()
    } else {
        format!("{current} {DEV_GOFLAGS}")
    })
}

/// Installs the layer for `plan`'s rebuild, when it applies.
pub(crate) fn install(
    context: &BuildContext<FilesyncBuildpack>,
    plan: &Plan,
) -> libcnb::Result<(), crate::errors::BuildpackError> {
    let Some(command) = applies(plan) else {
        return Ok(());
    };
    let Some(go_version) = go_version() else {
        println!("[skaffold-filesync] Go: no `go` on the build's PATH; the image's build cache starts cold");
        return Ok(());
    };
    let metadata = GoDevMetadata { go_version };
    let layer = context.cached_layer(
        layer_name!("go-dev"),
        CachedLayerDefinition {
            build: false,
            launch: true,
            invalid_metadata_action: &|_| InvalidMetadataAction::DeleteLayer,
            restored_layer_action: &|old: &GoDevMetadata, _| {
                if *old == metadata {
                    RestoredLayerAction::KeepLayer
                } else {
                    RestoredLayerAction::DeleteLayer
                }
            },
        },
    )?;
    let reused = matches!(layer.state, LayerState::Restored { .. });
    let cache = layer.path().join("gocache");
    let flags = goflags(std::env::var("GOFLAGS").ok().as_deref());
    let warmed = warm(&context.app_dir, command, &cache, flags.as_deref());
    // Whatever the warm build did, the run user may add entries.
    let _ = std::fs::create_dir_all(&cache);
    if let Err(e) = crate::writable::make_tree_writable(&cache) {
        println!("[skaffold-filesync] Go: the build cache is not writable by the run user ({e}); rebuilds in the container will not keep their results");
    }
    let mut env = LayerEnv::new().chainable_insert(
        Scope::Launch,
        ModificationBehavior::Override,
        "GOCACHE",
        cache.as_os_str(),
    );
    if let Some(flags) = &flags {
        env = env.chainable_insert(
            Scope::Launch,
            ModificationBehavior::Override,
            "GOFLAGS",
            flags,
        );
    }
    layer.write_env(env)?;
    layer.write_metadata(metadata)?;
    match warmed {
        Ok(()) => println!(
            "[skaffold-filesync] Go: build cache {} in the image ({}), rebuilds link with {}",
            if reused { "reused and kept warm" } else { "warmed" },
            cache.display(),
            flags.as_deref().unwrap_or("the build's own GOFLAGS"),
        ),
        Err(why) => println!(
            "[skaffold-filesync] Go: warming the image's build cache failed ({why}); the first rebuild in the container compiles the standard library (tens of seconds)"
        ),
    }
    Ok(())
}

/// `go version` of the build's toolchain.
fn go_version() -> Option<String> {
    let out = Command::new("go").arg("version").output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Runs the rebuild `command` once in `app_dir` with `GOCACHE=cache`,
/// writing the program to a temporary file: what the container's first
/// rebuild would otherwise compile. Offline, as the build is.
fn warm(
    app_dir: &Path,
    command: &[String],
    cache: &Path,
    flags: Option<&str>,
) -> Result<(), String> {
    // Not kept: the image's program is go-build's.
    let program = std::env::temp_dir().join(format!("filesync-go-warm-{}", std::process::id()));
    let argv: Vec<String> = command
        .iter()
        .map(|a| a.replace("{process_command}", &program.to_string_lossy()))
        .collect();
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .current_dir(app_dir)
        .env("GOCACHE", cache)
        .env("GOPROXY", "off")
        .env("GOTOOLCHAIN", "local")
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    if let Some(flags) = flags {
        cmd.env("GOFLAGS", flags);
    }
    let out = cmd.output().map_err(|e| format!("{}: {e}", argv[0]));
    let _ = std::fs::remove_file(&program);
    let out = out?;
    if out.status.success() {
        Ok(())
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr);
        Err(format!(
            "`{}` exited with {}: {}",
            argv.join(" "),
            out.status,
            stderr.lines().last().unwrap_or_default()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_link_flag_is_added_to_the_builds_goflags_unless_it_links_its_own_way() {
        assert_eq!(goflags(None).as_deref(), Some("-ldflags=-s"));
        assert_eq!(goflags(Some(" ")).as_deref(), Some("-ldflags=-s"));
        assert_eq!(
            goflags(Some("-mod=vendor")).as_deref(),
            Some("-mod=vendor -ldflags=-s")
        );
        assert_eq!(goflags(Some("-mod=mod -ldflags=-X=main.v=1")), None);
    }

    fn plan(family: Family, action: ReloadAction) -> Plan {
        Plan {
            family,
            app_dir: "/workspace".into(),
            rules: Vec::new(),
            ignore: Vec::new(),
            action,
        }
    }

    #[test]
    fn only_a_go_rebuild_gets_the_layer() {
        let go = ReloadAction::Rebuild {
            command: vec!["go".into(), "build".into()],
        };
        let own = ReloadAction::Rebuild {
            command: vec!["sh".into(), "-c".into(), "make".into()],
        };
        assert!(applies(&plan(Family::Go, go.clone())).is_some());
        assert!(applies(&plan(Family::Go, own)).is_none());
        assert!(applies(&plan(Family::Go, ReloadAction::Restart)).is_none());
        assert!(applies(&plan(Family::Node, go)).is_none());
    }
}
