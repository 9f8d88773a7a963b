//! A "stock" builder made the way Paketo makes theirs, and none of ours in
//! it: what a user of `filesync builder` starts from.
//!
//! Paketo's shape (paketo-buildpacks/builder-jammy-base `builder.toml`;
//! paketo-buildpacks/nodejs `buildpack.toml` and `package.toml`):
//! - each language is a *composite* buildpack (an `[[order]]` of component
//!   buildpacks, no `bin/`), packaged as an image with its components by
//!   `pack buildpack package` (package.toml: `[buildpack] uri` + one
//!   `[[dependencies]]` per component) and published;
//! - the builder lists those images as `[[buildpacks]] uri`, one composite
//!   per `[[order]]` group (Paketo's nodejs group: `paketo-buildpacks/nodejs`
//!   alone), procfile included as a group of its own;
//! - the stack: build user 1001, run user 1002 (`stack/stack.toml`).
//!
//! Here the components are the provider stand-ins
//! ([`crate::providers::stage`]): `e2e/nodejs` orders `e2e/node`
//! (node-engine and node-start/npm-start) then `e2e/procfile` (optional),
//! as Paketo's nodejs orders node-engine … procfile; `e2e/procfile` is
//! also packaged on its own for the procfile group. The stack images and
//! lifecycle are the harness's ([`crate::builder`]): Paketo-shaped, the
//! lifecycle v0.21.17 offering every Platform API it supports.

use crate::builder::{lifecycle_dist, Builders, Platform};
use crate::docker::Docker;
use crate::tools::{run, tool};
use anyhow::Context;
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

/// The composite standing in for paketo-buildpacks/nodejs.
pub const NODEJS: &str = "e2e/nodejs";
/// Its version, and that of the image it is published as.
pub const COMPOSITE_VERSION: &str = "1.0.0";

/// The stock builder's reference in the harness registry, made once per
/// test process.
pub fn stock_builder() -> &'static str {
    static B: OnceLock<String> = OnceLock::new();
    B.get_or_init(|| make().unwrap_or_else(|e| panic!("making the stock builder: {e:#}")))
}

fn make() -> anyhow::Result<String> {
    let registry = Builders::get().registry().to_string();
    let dir = tempfile::Builder::new()
        .prefix("filesync-stock-")
        .tempdir()?;
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home)?;
    let node = crate::providers::stage("node")?;
    let procfile = crate::providers::stage("procfile")?;
    let (node_id, node_version) = crate::lifecycle::buildpack_id(&node)?;
    let (procfile_id, procfile_version) = crate::lifecycle::buildpack_id(&procfile)?;

    // The composite: an order of the components, nothing else.
    let composite = dir.path().join("nodejs");
    std::fs::create_dir_all(&composite)?;
    std::fs::write(
        composite.join("buildpack.toml"),
        format!(
            "api = \"0.7\"\n\n[buildpack]\nid = \"{NODEJS}\"\nversion = \"{COMPOSITE_VERSION}\"\n\
             name = \"Node.js (test composite standing in for paketo-buildpacks/nodejs)\"\n\n\
             [[order]]\n[[order.group]]\nid = \"{node_id}\"\nversion = \"{node_version}\"\n\
             [[order.group]]\nid = \"{procfile_id}\"\nversion = \"{procfile_version}\"\noptional = true\n"
        ),
    )?;
    let nodejs_image = format!("{registry}/e2e/nodejs:{COMPOSITE_VERSION}");
    package(
        dir.path(),
        &home,
        &nodejs_image,
        &composite,
        &[&node, &procfile],
    )?;
    let procfile_image = format!("{registry}/e2e/procfile:{procfile_version}");
    package(dir.path(), &home, &procfile_image, &procfile, &[])?;

    let reference = format!("{registry}/stock-builder:latest");
    let toml = format!(
        "description = \"Paketo-shaped stock builder (test): composites by image, no skaffold-filesync\"\n\n\
         [[buildpacks]]\nuri = \"{nodejs_image}\"\nversion = \"{COMPOSITE_VERSION}\"\n\n\
         [[buildpacks]]\nuri = \"{procfile_image}\"\nversion = \"{procfile_version}\"\n\n\
         [[order]]\n[[order.group]]\nid = \"{NODEJS}\"\nversion = \"{COMPOSITE_VERSION}\"\n\n\
         [[order]]\n[[order.group]]\nid = \"{procfile_id}\"\nversion = \"{procfile_version}\"\n\n\
         [build]\nimage = \"{registry}/stack/build:latest\"\n\n\
         [[run.images]]\nimage = \"{registry}/stack/run-base:latest\"\n\n\
         [lifecycle]\nuri = {lc:?}\n",
        lc = lifecycle_dist(Platform::Current)?.display().to_string(),
    );
    create_builder(&reference, &toml)?;
    Ok(reference)
}

/// The real `pack builder create REFERENCE --publish` from the builder.toml
/// text `toml` (written to a temp dir, which is also pack's HOME), with
/// images already in the registry on 127.0.0.1 (`--pull-policy
/// if-not-present`: no pull from elsewhere).
pub fn create_builder(reference: &str, toml: &str) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let config = dir.path().join("builder.toml");
    std::fs::write(&config, toml)?;
    run(pack(dir.path())
        .args(["builder", "create", reference, "--config"])
        .arg(&config)
        .args(["--publish", "--pull-policy", "if-not-present"]))
    .with_context(|| format!("pack builder create, builder.toml:\n{toml}"))?;
    Ok(())
}

/// `pack buildpack package IMAGE --publish` of `buildpack` with its
/// `dependencies` (the components of a composite).
fn package(
    dir: &Path,
    home: &Path,
    image: &str,
    buildpack: &Path,
    dependencies: &[&Path],
) -> anyhow::Result<()> {
    let mut toml = format!("[buildpack]\nuri = {:?}\n", buildpack.display().to_string());
    for d in dependencies {
        toml += &format!("\n[[dependencies]]\nuri = {:?}\n", d.display().to_string());
    }
    let name = image
        .rsplit('/')
        .next()
        .unwrap_or("package")
        .replace(':', "-");
    let config = dir.join(format!("package-{name}.toml"));
    std::fs::write(&config, &toml)?;
    run(pack(home)
        .args(["buildpack", "package", image, "--config"])
        .arg(&config)
        .args(["--publish"]))
    .with_context(|| format!("pack buildpack package {image}, package.toml:\n{toml}"))?;
    Ok(())
}

/// The pack CLI with a private HOME (no user config) and the harness's
/// Docker Engine.
fn pack(home: &Path) -> Command {
    let mut c = Command::new(tool("pack"));
    c.arg("--no-color")
        .env("HOME", home)
        .env("DOCKER_HOST", &Docker::get().host);
    c
}
