//! The release (`scripts/release.sh`) is what a user gets: an OCI layout
//! buildpackage made by the real `pack buildpack package`, a static
//! `filesync`, checksums that verify, and a published buildpack image that
//! the real `pack build` accepts next to a builder's own buildpacks.

// Required due to: https://github.com/rust-lang/rust/issues/95513
#![allow(unused_crate_dependencies)]
// A panic in a test is its failure, carrying its message.
#![allow(clippy::unwrap_used)]

use filesync_e2e::builder::{Builders, Platform, Stack};
use filesync_e2e::docker::Docker;
use filesync_e2e::registry::Registry;
use filesync_e2e::release::{Release, REPOSITORY};
use filesync_e2e::tools::{repo_root, run, tool};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::Path;
use std::process::Command;

/// `[workspace.package] version` from the workspace's Cargo.toml, read
/// independently of release.sh.
fn workspace_version() -> String {
    let text = std::fs::read_to_string(repo_root().join("Cargo.toml")).unwrap();
    let v: toml::Value = toml::from_str(&text).unwrap();
    v["workspace"]["package"]["version"]
        .as_str()
        .expect("workspace.package.version")
        .to_string()
}

/// A blob of an extracted OCI layout, its digest checked.
fn blob(layout: &Path, digest: &Value) -> Vec<u8> {
    let digest = digest.as_str().expect("a digest string");
    let hex = digest.strip_prefix("sha256:").expect("a sha256 digest");
    let bytes = std::fs::read(layout.join("blobs/sha256").join(hex))
        .unwrap_or_else(|e| panic!("blob {digest}: {e}"));
    assert_eq!(
        format!("{:x}", Sha256::digest(&bytes)),
        hex,
        "blob {digest} does not match its digest"
    );
    bytes
}

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

/// The released binary prints `version` and is statically linked.
fn assert_static_and_versioned(release: &Release, version: &str) {
    // The binary: the version, statically linked (it runs on any run image).
    let out = run(Command::new(release.binary()).arg("--version")).unwrap();
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        printed.split_whitespace().any(|w| w == version),
        "--version printed {printed:?}, not {version}"
    );
    let ldd = Command::new("ldd").arg(release.binary()).output().unwrap();
    let ldd = format!(
        "{}{}",
        String::from_utf8_lossy(&ldd.stdout),
        String::from_utf8_lossy(&ldd.stderr)
    );
    assert!(
        ldd.contains("statically linked") || ldd.contains("not a dynamic executable"),
        "ldd {}: {ldd}",
        release.binary().display()
    );
}

/// SHA256SUMS verifies with sha256sum itself and covers both assets.
fn assert_sha256sums_cover_both_assets(release: &Release) {
    let check = run(Command::new("sha256sum")
        .args(["-c", "SHA256SUMS"])
        .current_dir(release.dir()))
    .unwrap();
    let check = String::from_utf8_lossy(&check.stdout);
    for asset in [release.cnb(), release.binary()] {
        let name = asset.file_name().unwrap().to_string_lossy();
        assert!(
            check.lines().any(|l| l == format!("{name}: OK")),
            "sha256sum -c did not check {name}:\n{check}"
        );
    }
}

#[test]
fn release_writes_an_oci_buildpackage_a_static_binary_and_checksums() {
    let out = tempfile::tempdir().unwrap();
    let release = Release::make(out.path(), None).unwrap();
    let version = workspace_version();
    assert_eq!(release.version(), version);

    // The .cnb: an OCI image layout archive whose one image is the
    // buildpackage pack reads back (`io.buildpacks.buildpackage.metadata`).
    let layout = tempfile::tempdir().unwrap();
    run(Command::new("tar")
        .arg("-xf")
        .arg(release.cnb())
        .arg("-C")
        .arg(layout.path()))
    .unwrap();
    let oci_layout = json(&std::fs::read(layout.path().join("oci-layout")).unwrap());
    assert_eq!(oci_layout["imageLayoutVersion"], "1.0.0");
    let index = json(&std::fs::read(layout.path().join("index.json")).unwrap());
    let manifests = index["manifests"].as_array().expect("index.json manifests");
    assert_eq!(manifests.len(), 1, "{index}");
    let manifest = json(&blob(layout.path(), &manifests[0]["digest"]));
    let config = json(&blob(layout.path(), &manifest["config"]["digest"]));
    assert_eq!(config["os"], "linux", "{config}");
    assert_eq!(config["architecture"], "amd64", "{config}");
    let label = config["config"]["Labels"]["io.buildpacks.buildpackage.metadata"]
        .as_str()
        .unwrap_or_else(|| panic!("no io.buildpacks.buildpackage.metadata label: {config}"));
    let metadata: Value = serde_json::from_str(label).unwrap();
    assert_eq!(metadata["id"], "skaffold-filesync", "{metadata}");
    assert_eq!(metadata["version"], version.as_str(), "{metadata}");

    // Its layer carries the very binary shipped beside it.
    let layers = manifest["layers"].as_array().expect("manifest layers");
    assert_eq!(layers.len(), 1, "{manifest}");
    let layer_file = layout.path().join("layer.tar");
    std::fs::write(&layer_file, blob(layout.path(), &layers[0]["digest"])).unwrap();
    let rootfs = tempfile::tempdir().unwrap();
    run(Command::new("tar")
        .arg("-xf")
        .arg(&layer_file)
        .arg("-C")
        .arg(rootfs.path()))
    .unwrap();
    let packaged = rootfs.path().join(format!(
        "cnb/buildpacks/skaffold-filesync/{version}/bin/filesync"
    ));
    assert!(
        std::fs::read(&packaged).unwrap() == std::fs::read(release.binary()).unwrap(),
        "{} differs from the released binary",
        packaged.display()
    );

    assert_static_and_versioned(&release, &version);

    assert_sha256sums_cover_both_assets(&release);
}

/// The published image carries the buildpackage label, as in the .cnb.
fn assert_published_with_the_buildpackage_label(reference: &str) {
    let out = run(Command::new(tool("skopeo")).args([
        "inspect",
        "--config",
        "--tls-verify=false",
        &format!("docker://{reference}"),
    ]))
    .unwrap();
    let config = json(&out.stdout);
    let label = config["config"]["Labels"]["io.buildpacks.buildpackage.metadata"]
        .as_str()
        .unwrap_or_else(|| panic!("published image lacks the buildpackage label: {config}"));
    assert_eq!(
        serde_json::from_str::<Value>(label).unwrap()["id"],
        "skaffold-filesync"
    );
}

/// The built image's skaffold-filesync label: the release's version and
/// sync rules.
fn assert_our_label_has_sync_rules(labels: &Value, version: &str) {
    let ours = labels[filesync_contract::label::LABEL]
        .as_str()
        .unwrap_or_else(|| {
            panic!(
                "the image lacks {}: {labels}",
                filesync_contract::label::LABEL
            )
        });
    let ours: Value = serde_json::from_str(ours).unwrap();
    assert_eq!(ours["version"], version, "{ours}");
    assert!(
        !ours["devmode.sync"].as_array().unwrap().is_empty(),
        "no sync rules in {ours}"
    );
}

#[test]
fn release_published_buildpack_builds_with_pack() {
    let registry = Registry::start().unwrap();
    let release = Release::get();
    let reference = release.publish(&registry.host()).unwrap();
    let repo = format!("{}/{REPOSITORY}", registry.host());
    assert_eq!(reference, format!("{repo}:{}", workspace_version()));

    // In the registry: the buildpackage label, as in the .cnb.
    assert_published_with_the_buildpackage_label(&reference);

    // The real pack build: the builder's order, then the published
    // buildpack, as a user adds it to a builder. The test builder carries
    // skaffold-filesync already (from the released .cnb), so pack must find
    // the two identical (asserted below from its log). A trusted
    // builder with extra buildpacks falls back to pack's five-phase flow,
    // which fetches the lifecycle image from Docker Hub, unless the extra
    // buildpacks are trusted too (pkg/client/build.go).
    let builder = Builders::get().builder(Stack::Base, Platform::Current);
    let app = tempfile::tempdir().unwrap();
    run(Command::new("cp")
        .arg("-a")
        .arg(repo_root().join("examples/node/."))
        .arg(app.path()))
    .unwrap();
    let home = tempfile::tempdir().unwrap();
    let docker = Docker::get();
    let image = format!("filesync-release-test-{}:latest", std::process::id());
    let build = run(Command::new(tool("pack"))
        .args(["build", &image, "--builder", &builder])
        .args(["--buildpack", "from=builder", "--buildpack", &reference])
        .args(["--env", "BP_FILESYNC_ENABLED=true", "--path"])
        .arg(app.path())
        .args(["--trust-builder", "--trust-extra-buildpacks"])
        .args(["--no-color", "--verbose"])
        .env("HOME", home.path())
        .env("DOCKER_HOST", &docker.host));
    // Read before the image is removed, whatever happens after.
    let inspect = build.is_ok().then(|| {
        run(docker
            .cli()
            .args(["inspect", "--format", "{{json .Config.Labels}}", &image]))
    });
    let _ = docker.cli().args(["rmi", "-f", &image]).output();
    filesync_e2e::pack_volumes::remove_for_home(home.path());
    let log = build.unwrap();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&log.stdout),
        String::from_utf8_lossy(&log.stderr)
    );
    // pack fetched the published image (`--verbose` names the source) and
    // found it identical to the copy the builder got from the released
    // .cnb: the same layer diffID, so the same bytes.
    assert!(
        log.contains(&format!("Downloading buildpack from image: '{reference}'")),
        "pack did not fetch {reference}:\n{log}"
    );
    let version = release.version();
    assert!(
        log.contains(&format!(
            "Buildpack 'skaffold-filesync@{version}' already exists on builder with same contents"
        )),
        "the published buildpack differs from the builder's (the released .cnb):\n{log}"
    );
    let labels = json(&inspect.expect("pack build succeeded").unwrap().stdout);
    assert_our_label_has_sync_rules(&labels, release.version());
}
