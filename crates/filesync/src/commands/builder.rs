//! `filesync builder FROM NEW`: a dev builder derived from any builder
//! image — the same buildpacks, order, stack and run images, lifecycle and
//! build user, plus skaffold-filesync optional and last in every group —
//! assembled by the real `pack builder create`.
//!
//! Why a builder at all: under Skaffold a buildpack must be *in* the
//! builder. Skaffold runs pack as a library and never sets
//! `TrustExtraBuildpacks`, so an added buildpack makes pack use its
//! five-phase flow, which fails with Paketo's non-root build user
//! (Skaffold #9712; DESIGN.md §9).
//!
//! Why `[build] image = FROM` and not system buildpacks. A builder may
//! also declare skaffold-filesync as a system buildpack
//! (`[system.post] buildpacks`, pack ≥ 0.38 writes `/cnb/system.toml`),
//! which lifecycle 0.21 appends to every group, leaving FROM's order as it
//! is — but only at Platform API ≥ 0.15 (`phase/hermetic_factory.go`;
//! `-system` exists only from 0.15, `cmd/lifecycle/detector.go`).
//! Measured on 2026-12-03 with the real `skaffold dev` (v2.24.0, pack
//! v0.40.6 inside it, lifecycle v0.21.17, docker deployer, examples/node,
//! generated rules) on the project's Paketo-shaped stock builder
//! (`crates/e2e/tests/filesync_builder.rs`, `measure_the_system_buildpack_route`,
//! run with `--ignored`): the system-buildpack builder built, synced and
//! served each edit (save-to-live 1,217 ms and 1,216 ms, of which ~1,013 ms
//! is Skaffold's watch interval); the base-image builder did the same
//! (1,746 / 1,128 ms). Both work with the generated rules; only the
//! base-image route can serve `--auto`, whose builds must run at Platform
//! API ≤ 0.8, where no system buildpack runs. So this command takes the
//! base-image route for both modes: one kind of derived builder, the same
//! groups whichever mode the user picks.

mod config_files;
mod errors;
mod labels;
mod lifecycle_copy;
mod pack;
mod report;

use anyhow::Context;
use errors::BuilderError;
use labels::BuilderLabels;
use std::path::Path;
use std::process::ExitCode;

#[derive(clap::Args)]
#[command(after_help = "\
FROM is looked up as `filesync inspect` does: the local Docker daemon
(DOCKER_HOST) first, then its registry. pack must be on PATH (tested
with v0.40.6). Without --publish, NEW goes into the Docker daemon; `skaffold dev`
pulls its builder on the first build, so push it or use --publish.")]
pub(crate) struct Args {
    /// The builder to derive from (e.g. paketobuildpacks/builder-jammy-base).
    from: String,
    /// The image reference of the new builder.
    new: String,
    /// Push NEW to its registry (pack's --publish) instead of the daemon.
    #[arg(long)]
    publish: bool,
    /// Offer only the Platform APIs <= 0.8 that FROM's lifecycle supports,
    /// so that Skaffold's auto sync works with no change to skaffold.yaml.
    #[arg(long)]
    auto: bool,
    /// The skaffold-filesync buildpack: a .cnb file or an image reference.
    /// Default: skaffold-filesync-VERSION.cnb beside this executable.
    #[arg(long, value_name = "PATH|REF")]
    buildpack: Option<String>,
    /// Talk plain http to FROM's registry (127.0.0.1 and localhost always do).
    #[arg(long)]
    insecure: bool,
}

// main hands each subcommand its parsed clap arguments by value, one signature for all.
#[allow(clippy::needless_pass_by_value)]
pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    if !cfg!(all(feature = "daemon", feature = "registry")) {
        return Err(BuilderError::NoClients.into());
    }
    let pack = pack::find(std::env::var_os("PATH"))?;
    let buildpack = buildpack_uri(
        args.buildpack.as_deref(),
        std::env::current_exe().ok().as_deref(),
    )?;
    let say = |line: &str| eprintln!("filesync builder: {line}");
    say(&format!("reading the labels of {}", args.from));
    let found = crate::commands::inspect::image_config(&args.from, args.insecure).map_err(|e| {
        BuilderError::Unreadable {
            image: args.from.clone(),
            detail: format!("{e:#}"),
        }
    })?;
    let labels = BuilderLabels::from_config(&args.from, &found.source, &found.config)?;
    say(&format!(
        "{} (from {}): {} buildpacks in {} order groups, lifecycle {}",
        args.from,
        found.source,
        labels.buildpacks.len(),
        labels.order.len(),
        labels.lifecycle.version
    ));
    let mut apis = labels.lifecycle.api_sets();
    if args.auto {
        keep_label_bom_platforms(&args.from, &labels, &mut apis)?;
    }
    let newest = config_files::newest(&apis.platform)
        .unwrap_or("?")
        .to_string();
    let work = tempfile::Builder::new()
        .prefix("filesync-builder-")
        .tempdir()
        .context("creating a temp dir")?;
    let lifecycle_dir = work.path().join("lifecycle-dist");
    say(&format!(
        "copying lifecycle {} out of {}",
        labels.lifecycle.version, args.from
    ));
    lifecycle_copy::copy_out(&args.from, &lifecycle_dir)?;
    std::fs::write(
        lifecycle_dir.join("lifecycle.toml"),
        config_files::lifecycle_toml(&labels.lifecycle.version, &apis),
    )?;
    let config = work.path().join("builder.toml");
    let lifecycle_uri = lifecycle_dir.display().to_string();
    std::fs::write(
        &config,
        config_files::builder_toml(&args.from, &labels, &buildpack, &lifecycle_uri),
    )?;
    say(&format!(
        "pack builder create {}{} (Platform APIs {})",
        args.new,
        if args.publish { " --publish" } else { "" },
        apis.platform.supported.join(", ")
    ));
    pack::builder_create(&pack, &args.new, &config, args.publish).inspect_err(|_| {
        // Kept for the user to look at, as the error says.
        let _ = work.keep();
    })?;
    let summary = report::Summary {
        from: &args.from,
        new: &args.new,
        labels: &labels,
        platform_apis: &apis.platform.supported,
        newest_platform: &newest,
        auto: args.auto,
        published: args.publish,
    };
    print!("{}", summary.to_text());
    Ok(ExitCode::SUCCESS)
}

/// For `--auto`: narrows the builder's Platform APIs to those that still
/// write the BOM label, or says why the builder `from` offers none.
fn keep_label_bom_platforms(
    from: &str,
    labels: &BuilderLabels,
    apis: &mut labels::Apis,
) -> Result<(), BuilderError> {
    let legacy = config_files::label_bom_only(&apis.platform);
    if legacy.supported.is_empty() {
        return Err(BuilderError::NoLegacyPlatform {
            image: from.to_string(),
            lifecycle: labels.lifecycle.version.clone(),
            offered: apis.platform.supported.clone(),
        });
    }
    apis.platform = legacy;
    Ok(())
}

/// Whether the builder `image` (its config, read from `source`) carries
/// skaffold-filesync; an error when it is no builder or its labels are
/// malformed. For `filesync skaffold`'s advice.
pub(crate) fn carries_filesync(
    image: &str,
    source: &str,
    config: &serde_json::Value,
) -> Result<bool, BuilderError> {
    match BuilderLabels::from_config(image, source, config) {
        Ok(_) => Ok(false),
        Err(BuilderError::AlreadyHasBuildpack { .. }) => Ok(true),
        Err(e) => Err(e),
    }
}

/// The name of the release's buildpack file (`scripts/release.sh`).
fn release_cnb_name() -> String {
    format!("skaffold-filesync-{}.cnb", env!("CARGO_PKG_VERSION"))
}

/// Where pack takes the buildpack from: `--buildpack` (an existing path,
/// made absolute, else an image reference, given to pack as it is), else
/// the release's `.cnb` beside `exe`.
fn buildpack_uri(given: Option<&str>, exe: Option<&Path>) -> Result<String, BuilderError> {
    if let Some(given) = given {
        let path = Path::new(given);
        if path.exists() {
            let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
            return Ok(absolute.display().to_string());
        }
        // pack v0.40.6 parses a `docker://` locator whole as an image
        // reference, which fails with a port in the registry name; the
        // bare reference is a package locator on every registry.
        return Ok(given.trim_start_matches("docker://").to_string());
    }
    let dir = exe
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let beside = dir.join(release_cnb_name());
    if beside.is_file() {
        Ok(beside.display().to_string())
    } else {
        Err(BuilderError::NoBuildpack { looked_at: beside })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_buildpack_is_the_given_path_or_reference_else_the_release_cnb_beside_the_exe() {
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("filesync");
        let e = buildpack_uri(None, Some(&exe)).unwrap_err().to_string();
        assert!(
            e.contains(&dir.path().join(release_cnb_name()).display().to_string()),
            "{e}"
        );
        assert!(e.contains("--buildpack"), "{e}");
        std::fs::write(dir.path().join(release_cnb_name()), "").unwrap();
        assert_eq!(
            buildpack_uri(None, Some(&exe)).unwrap(),
            dir.path().join(release_cnb_name()).display().to_string()
        );
        assert_eq!(
            buildpack_uri(Some("docker://127.0.0.1:5000/sf:0.1.0"), None).unwrap(),
            "127.0.0.1:5000/sf:0.1.0"
        );
        let cnb = dir.path().join(release_cnb_name());
        assert_eq!(
            buildpack_uri(Some(cnb.to_str().unwrap()), None).unwrap(),
            cnb.display().to_string()
        );
    }
}
