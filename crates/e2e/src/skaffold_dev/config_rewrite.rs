//! The example's skaffold.yaml rewritten for this machine: a transformation
//! of the parsed document, serialised again by the YAML crate.
//!
//! The test builder replaces Paketo's (trusted, as `trustBuilder: true`
//! tells pack to run the lifecycle's creator in one container), and the
//! app's port is forwarded to 127.0.0.1. With the docker deployer,
//! `deploy.docker` replaces the Kubernetes manifests; with the kubectl
//! deployer, the manifests are kept, with `deploy.kubectl` and
//! `build.local.push` (the cluster pulls the image from the registry on
//! 127.0.0.1 that `--default-repo` names). In auto mode the generated
//! profile is dropped, so no `sync` block is left, and with the docker
//! deployer the image gets its own name (the container is named after it).

use super::{Deployer, Mode, APP_PORT};
use anyhow::{bail, Context};
use serde::Deserialize;
use serde_norway::{Mapping, Value};
use std::path::Path;
use std::process::Command;

/// The profile `filesync skaffold --write` generates.
const GENERATED_PROFILE: &str = "filesync";

/// What the rewrite settled: the artifact's image name and, with the
/// kubectl deployer, the manifests' Pod.
pub(super) struct Rewritten {
    pub(super) image: String,
    pub(super) pod: Option<String>,
}

/// Rewrites `ctx/skaffold.yaml` (and, when the image is renamed, the
/// manifests naming it) for `builder`, `mode`, `deployer` and the local
/// `port`; with generated rules and the docker deployer, regenerates the
/// profile with `filesync skaffold --write`, as a user of that deployer does.
pub(super) fn rewrite_skaffold_yaml(
    ctx: &Path,
    builder: &str,
    mode: Mode,
    deployer: Deployer,
    port: u16,
) -> anyhow::Result<Rewritten> {
    let path = ctx.join("skaffold.yaml");
    let text = std::fs::read_to_string(&path).context("reading the example's skaffold.yaml")?;
    let mut doc: Value = serde_norway::from_str(&text)?;
    let out = for_this_machine(&mut doc, ctx, builder, mode, deployer, port)?;
    std::fs::write(&path, serde_norway::to_string(&doc)?)?;
    if mode == Mode::Generated && deployer == Deployer::Docker {
        regenerate_profile(ctx)?;
    }
    Ok(out)
}

/// The whole transformation of the parsed skaffold.yaml `doc`.
fn for_this_machine(
    doc: &mut Value,
    ctx: &Path,
    builder: &str,
    mode: Mode,
    deployer: Deployer,
    port: u16,
) -> anyhow::Result<Rewritten> {
    let image = rename_image(doc, ctx, mode, deployer)?;
    point_at_builder(doc, ctx, builder, mode)?;
    let pod = match deployer {
        Deployer::Docker => None,
        Deployer::Kubectl => Some(manifest_pod(ctx, doc)?),
    };
    let top = doc.as_mapping_mut().context("skaffold.yaml is not a map")?;
    set_deploy(top, &image, pod.as_deref(), port)?;
    match (mode, deployer) {
        (Mode::Auto, _) => {
            top.remove("profiles");
        }
        // As shipped.
        (Mode::Generated, Deployer::Kubectl) => {}
        (Mode::Generated, Deployer::Docker) => {
            // The example ships a profile for its kubectl deploys (with the
            // after-sync hook, which the docker deployer never runs): a
            // user who deploys with docker regenerates it
            // ([`regenerate_profile`]).
            if let Some(list) = top.get_mut("profiles").and_then(Value::as_sequence_mut) {
                list.retain(|p| p["name"] != GENERATED_PROFILE);
            }
        }
    }
    Ok(Rewritten { image, pod })
}

/// The artifact's image name for this case, written in the artifact (and
/// in the manifests naming it, with the kubectl deployer).
fn rename_image(
    doc: &mut Value,
    ctx: &Path,
    mode: Mode,
    deployer: Deployer,
) -> anyhow::Result<String> {
    let manifests = manifest_files(doc);
    let artifact = first_artifact(doc)?;
    let original = artifact
        .get("image")
        .and_then(Value::as_str)
        .context("artifact without image")?
        .to_string();
    // Two cases of one example in one test process must not build the
    // same image name: the exporter of one reuses layers of the image
    // the other is replacing or Skaffold is pruning ("invalid diffID").
    let mut image = original.clone();
    if deployer == Deployer::Docker && mode == Mode::Auto {
        image.push_str("-auto");
    }
    let image = unique_in_this_process(image);
    artifact.insert("image".into(), image.clone().into());
    if deployer == Deployer::Kubectl && image != original {
        // The manifests name the image too (Skaffold replaces that name
        // with the built tag).
        for file in &manifests {
            let path = ctx.join(file);
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            std::fs::write(
                &path,
                text.replace(
                    &format!("image: {original}\n"),
                    &format!("image: {image}\n"),
                ),
            )?;
        }
    }
    Ok(image)
}

/// The test builder (trusted) in the artifact's `buildpacks`; in auto mode
/// also the dev build settings the generated profile would have set.
fn point_at_builder(doc: &mut Value, ctx: &Path, builder: &str, mode: Mode) -> anyhow::Result<()> {
    let buildpacks = first_artifact(doc)?
        .get_mut("buildpacks")
        .and_then(Value::as_mapping_mut)
        .context("artifact without buildpacks")?;
    if mode == Mode::Auto {
        // Without the generated profile nothing keeps the sources that
        // Paketo's go-build and libbs remove, nor libjvm's JDK in the
        // image; a user of auto sync sets these in the artifact's env
        // (docs/user-guide.md, Paketo specifics).
        if let Some(family) = filesync_rules::family::detect(ctx) {
            let env = buildpacks
                .entry("env".into())
                .or_insert_with(|| Value::Sequence(Vec::new()));
            if let Some(list) = env.as_sequence_mut() {
                for setting in filesync_contract::paketo::dev_build_env(family) {
                    list.push((*setting).into());
                }
            }
        }
    }
    buildpacks.insert("builder".into(), builder.into());
    buildpacks.insert("trustBuilder".into(), true.into());
    Ok(())
}

/// `build.local`, `deploy` and `portForward` for the deployer: `pod` is
/// the kubectl deployer's Pod, none with the docker deployer.
fn set_deploy(top: &mut Mapping, image: &str, pod: Option<&str>, port: u16) -> anyhow::Result<()> {
    if pod.is_none() {
        top.remove("manifests");
    }
    // The cluster pulls from the registry; the docker deployer runs the
    // daemon's own image.
    let local = mapping([("push", pod.is_some().into())]);
    top.get_mut("build")
        .and_then(Value::as_mapping_mut)
        .context("no build")?
        .insert("local".into(), local);
    let (deploy, resource_type, resource_name) = match pod {
        None => (
            mapping([("docker", mapping([("images", vec![image].into())]))]),
            "container",
            image,
        ),
        Some(pod) => (
            mapping([("kubectl", Value::Mapping(Mapping::new()))]),
            "pod",
            pod,
        ),
    };
    let forward = mapping([
        ("resourceType", resource_type.into()),
        ("resourceName", resource_name.into()),
        ("port", APP_PORT.into()),
        ("localPort", port.into()),
        ("address", "127.0.0.1".into()),
    ]);
    top.insert("deploy".into(), deploy);
    top.insert("portForward".into(), Value::Sequence(vec![forward]));
    Ok(())
}

/// A YAML mapping of `entries`, in their order.
fn mapping<const N: usize>(entries: [(&str, Value); N]) -> Value {
    Value::Mapping(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
}

fn first_artifact(doc: &mut Value) -> anyhow::Result<&mut Mapping> {
    doc["build"]["artifacts"][0]
        .as_mapping_mut()
        .context("skaffold.yaml has no build.artifacts[0]")
}

/// The files `manifests.rawYaml` lists.
fn manifest_files(doc: &Value) -> Vec<String> {
    doc["manifests"]["rawYaml"]
        .as_sequence()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

/// `filesync skaffold --write` on the copy: the profile for the docker
/// deployer (no after-sync hook).
fn regenerate_profile(ctx: &Path) -> anyhow::Result<()> {
    let filesync = crate::tools::filesync_bin();
    crate::tools::run(
        Command::new(filesync)
            .arg("skaffold")
            .arg(ctx)
            .arg("--write"),
    )
    .context("filesync skaffold --write for the docker deployer")?;
    Ok(())
}

/// `name` the first time this process asks, `name-n2`, `name-n3`… after.
fn unique_in_this_process(name: String) -> String {
    static SEEN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut seen = SEEN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let n = seen.iter().filter(|s| **s == name).count();
    seen.push(name.clone());
    if n == 0 {
        name
    } else {
        // Not `-2`: Skaffold's docker deployer takes every container named
        // `^NAME(-\d+)?$` for its own (v2.24 `deploy/docker/deploy.go`
        // `filterByName`) and removes it when it redeploys or stops.
        format!("{name}-n{}", n + 1)
    }
}

/// The name of the one Pod among the manifests `manifests.rawYaml` lists.
fn manifest_pod(ctx: &Path, doc: &Value) -> anyhow::Result<String> {
    let files = doc["manifests"]["rawYaml"]
        .as_sequence()
        .context("skaffold.yaml has no manifests.rawYaml")?;
    let mut pods = Vec::new();
    for f in files.iter().filter_map(Value::as_str) {
        let text = std::fs::read_to_string(ctx.join(f))
            .with_context(|| format!("reading the manifest {f}"))?;
        for d in serde_norway::Deserializer::from_str(&text) {
            let v = Value::deserialize(d).with_context(|| format!("parsing {f}"))?;
            if v["kind"].as_str() == Some("Pod") {
                if let Some(name) = v["metadata"]["name"].as_str() {
                    pods.push(name.to_string());
                }
            }
        }
    }
    match pods.as_slice() {
        [one] => Ok(one.clone()),
        _ => bail!("expected one Pod among the manifests {files:?}, found {pods:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// examples/node rewritten for `mode` and `deployer` in a scratch copy.
    fn node(mode: Mode, deployer: Deployer) -> (Value, Rewritten, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let example = crate::tools::repo_root().join("examples/node");
        let copied = Command::new("cp")
            .arg("-a")
            .arg(example.join("."))
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(copied.success());
        let text = std::fs::read_to_string(dir.path().join("skaffold.yaml")).unwrap();
        let mut doc: Value = serde_norway::from_str(&text).unwrap();
        let out = for_this_machine(
            &mut doc,
            dir.path(),
            "127.0.0.1:5000/b:1",
            mode,
            deployer,
            4321,
        )
        .unwrap();
        (doc, out, dir)
    }

    #[test]
    fn the_docker_deployer_publishes_the_container_on_loopback_without_manifests() {
        let (doc, out, _dir) = node(Mode::Auto, Deployer::Docker);
        assert!(out.image.starts_with("filesync-example-node-auto"));
        assert_eq!(out.pod, None);
        let yaml = serde_norway::to_string(&doc).unwrap();
        assert!(
            doc.get("manifests").is_none() && doc.get("profiles").is_none(),
            "{yaml}"
        );
        assert_eq!(doc["build"]["local"]["push"], false);
        let buildpacks = &doc["build"]["artifacts"][0]["buildpacks"];
        assert_eq!(buildpacks["builder"], "127.0.0.1:5000/b:1");
        assert_eq!(buildpacks["trustBuilder"], true);
        assert_eq!(
            doc["deploy"]["docker"]["images"][0].as_str(),
            Some(&*out.image)
        );
        let expected = format!(
            "- resourceType: container\n  resourceName: {}\n  port: 8080\n  localPort: 4321\n  \
             address: 127.0.0.1\n",
            out.image
        );
        assert_eq!(
            serde_norway::to_string(&doc["portForward"]).unwrap(),
            expected
        );
    }

    #[test]
    fn the_kubectl_deployer_keeps_the_manifests_and_forwards_their_pod() {
        let (doc, out, dir) = node(Mode::Generated, Deployer::Kubectl);
        let pod = out.pod.expect("the manifests' Pod");
        assert_eq!(doc["build"]["local"]["push"], true);
        assert_eq!(
            serde_norway::to_string(&doc["deploy"]).unwrap(),
            "kubectl: {}\n"
        );
        assert_eq!(doc["portForward"][0]["resourceType"], "pod");
        assert_eq!(doc["portForward"][0]["resourceName"].as_str(), Some(&*pod));
        assert!(doc["profiles"][0]["name"] == GENERATED_PROFILE);
        let manifest = std::fs::read_to_string(dir.path().join("k8s/pod.yaml")).unwrap();
        assert!(
            manifest.contains(&format!("image: {}\n", out.image)),
            "{manifest}"
        );
    }
}
