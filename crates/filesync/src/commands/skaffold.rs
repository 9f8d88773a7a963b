//! `filesync skaffold`: makes file sync work with every Skaffold and lifecycle
//! version by writing, into skaffold.yaml, the `sync.manual` equivalent of
//! the auto rules the buildpack publishes.
//!
//! Why: Skaffold's auto sync reads rules only from the legacy BOM in the
//! `io.buildpacks.build.metadata` label, which lifecycles stop writing from
//! Platform API 0.9 on, so with current pack/Skaffold auto sync finds nothing.
//!
//! Everything generated lives in one `dev`-activated profile inside a
//! delimited block, so plain `skaffold build`/`run` stay untouched and the
//! user's own text (comments included) is never re-emitted by a YAML writer.

mod artifacts;
mod builder_check;
mod interval;
mod profile;
mod project_descriptor;
mod splice;

use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The destination of the app inside the image: CNB's default app dir.
pub(crate) const DEFAULT_IMAGE_APP_DIR: &str = "/workspace";

#[derive(clap::Args)]
pub(crate) struct Args {
    /// The application directory (an artifact `context` resolving here gets rules).
    #[arg(default_value = ".")]
    app_dir: PathBuf,
    /// The skaffold.yaml to update; default: `APP_DIR/skaffold.yaml`, or
    /// ./skaffold.yaml (Skaffold's own default) when `APP_DIR` has none.
    #[arg(long, short = 'f', value_name = "FILE")]
    skaffold_file: Option<PathBuf>,
    /// Write the change into the file (idempotent).
    #[arg(long, conflicts_with = "check")]
    write: bool,
    /// Exit with status 1 when the file is not up to date (for CI).
    #[arg(long)]
    check: bool,
    /// Add the buildpack from REF (`from=builder`, then REF, as pack takes
    /// it: an image, a `.cnb` file, a directory) instead of using the one
    /// the builder includes. Under Skaffold v2.24 this fails with every
    /// builder whose build user is not root (all of Paketo's): a buildpack
    /// the builder lacks makes pack use its five-phase flow, and with the
    /// `-uid 0` Skaffold gives it the detector cannot write
    /// /layers/group.toml (Skaffold issue #9712). Without it the builder
    /// must include skaffold-filesync (docs/user-guide.md).
    #[arg(long, value_name = "REF")]
    buildpack: Option<String>,
    /// Absolute app dir inside the image (`CNB_APP_DIR` of the build).
    #[arg(long, value_name = "DIR", default_value = DEFAULT_IMAGE_APP_DIR)]
    image_app_dir: String,
}

// main hands each subcommand its parsed clap arguments by value, one signature for all.
#[allow(clippy::needless_pass_by_value)]
pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    if !args.image_app_dir.starts_with('/') {
        bail!(
            "--image-app-dir must be an absolute path, got {:?}",
            args.image_app_dir
        );
    }
    let file = args.skaffold_file.clone().unwrap_or_else(|| {
        let beside_app = args.app_dir.join("skaffold.yaml");
        if beside_app.is_file() {
            beside_app
        } else {
            PathBuf::from("skaffold.yaml")
        }
    });
    let old = std::fs::read_to_string(&file)
        .with_context(|| format!("--skaffold-file {}: cannot read", file.display()))?;
    let options = profile::Options {
        buildpack: args.buildpack.clone(),
        image_app_dir: args.image_app_dir.clone(),
    };
    let new = update(&old, &file, &args.app_dir, &options)
        .with_context(|| format!("{}", file.display()))?;
    if !args.check {
        // (Not for CI's --check: it reads only the file, never the network.)
        for advice in builder_check::advice(&builders(&old, &file, &args.app_dir)?) {
            eprintln!("{advice}");
        }
    }
    let name = file.display().to_string();
    if args.write {
        if new == old {
            eprintln!("filesync: {name} is up to date");
        } else {
            std::fs::write(&file, &new).with_context(|| format!("cannot write {name}"))?;
            eprintln!("filesync: updated {name}");
        }
        eprintln!("{}", interval::NOTE);
        return Ok(ExitCode::SUCCESS);
    }
    if new == old {
        eprintln!("filesync: {name} is up to date");
    } else {
        print!("{}", unified_diff(&old, &new, &name));
        if args.check {
            eprintln!("filesync: {name} is out of date; run `filesync skaffold --write`");
            return Ok(ExitCode::from(1));
        }
    }
    // CI's `--check` stays terse.
    if !args.check {
        eprintln!("{}", interval::NOTE);
    }
    Ok(ExitCode::SUCCESS)
}

/// The new text of skaffold file `file` (content `old`) for the app in
/// `app_dir`: each YAML document with buildpacks artifacts in `app_dir`
/// gets its generated profile block replaced or inserted; other documents
/// are left as they are.
pub(crate) fn update(
    old: &str,
    file: &Path,
    app_dir: &Path,
    options: &profile::Options,
) -> anyhow::Result<String> {
    let base_dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
    let base_dir = if base_dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        base_dir
    };
    let app_dir = app_dir
        .canonicalize()
        .with_context(|| format!("APP_DIR {}: no such directory", app_dir.display()))?;
    let mut out = String::with_capacity(old.len() + 1024);
    let mut covered = 0;
    for (index, doc) in splice::documents(old).into_iter().enumerate() {
        let value: serde_norway::Value = if doc.body.trim().is_empty() {
            serde_norway::Value::Null
        } else {
            serde_norway::from_str(doc.body)
                .with_context(|| format!("YAML document {} does not parse", index + 1))?
        };
        let found = artifacts::for_app(&value, &base_dir, &app_dir)?;
        if found.is_empty() {
            // Profiles generated for other apps of this document stay.
            out.push_str(doc.separator);
            out.push_str(doc.body);
            continue;
        }
        covered += found.len();
        for a in found.iter().filter(|a| !a.trust_builder) {
            // Skaffold passes `TrustBuilder` from this field alone (pack's
            // list of trusted builders is not consulted).
            eprintln!(
                "filesync: warning: build.artifacts[{}] ({}) has no `trustBuilder: true`: pack \
                 then builds in five containers, and under Skaffold that fails with a non-root \
                 build user such as Paketo's (\"failed to write group file: open \
                 /layers/group.toml: permission denied\", Skaffold issue #9712); add \
                 `trustBuilder: true` under `buildpacks:`",
                a.index, a.image
            );
        }
        let hooks = profile::runs_sync_hooks(&value);
        let block = Some(profile::block(&found, options, hooks)?);
        let body = splice::apply(doc.body, block.as_ref())?;
        splice::verify(doc.body, &body, block.as_ref()).with_context(|| {
            format!(
                "YAML document {}: refusing an edit that would change other content",
                index + 1
            )
        })?;
        out.push_str(doc.separator);
        out.push_str(&body);
    }
    if covered == 0 {
        bail!(
            "no buildpacks artifact has its context in APP_DIR {}",
            app_dir.display()
        );
    }
    Ok(out)
}

/// The buildpacks artifacts of every document of `old` that build the app
/// in `app_dir` (for their builders).
fn builders(old: &str, file: &Path, app_dir: &Path) -> anyhow::Result<Vec<artifacts::Artifact>> {
    let base_dir = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let app_dir = app_dir.canonicalize()?;
    let mut found = Vec::new();
    for doc in splice::documents(old) {
        if let Ok(value) = serde_norway::from_str::<serde_norway::Value>(doc.body) {
            found.extend(artifacts::for_app(&value, &base_dir, &app_dir)?);
        }
    }
    Ok(found)
}

fn unified_diff(old: &str, new: &str, name: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .to_string()
}
