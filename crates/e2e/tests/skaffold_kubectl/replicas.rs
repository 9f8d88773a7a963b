//! A Deployment with 3 replicas and a Service, as Skaffold's own examples
//! deploy (issue 23): examples/node's Pod manifest made the template of a
//! Deployment, and Skaffold's forward pointed at the Service. Skaffold
//! syncs every pod of the artifact (and runs the after-sync hook in each);
//! per save each pod reloads once — one live line in each pod's own log —
//! and serves the new version, checked through `kubectl port-forward
//! pod/NAME` on 127.0.0.1 (never a pod IP).

use crate::common::{assert_no_image_build, FIRST_BUILD, NODE, TO_SYNC};
use filesync_e2e::builder::Stack;
use filesync_e2e::cluster::{Cluster, PortForward};
use filesync_e2e::http::wait_for;
use filesync_e2e::live_line;
use filesync_e2e::skaffold_dev::{Deployer, Mode, Project, SkaffoldDev};
use serde_norway::Value;
use std::path::Path;
use std::time::{Duration, Instant};

const REPLICAS: usize = 3;
/// The port every example listens on in its container.
const APP_PORT: u16 = 8080;

/// `k8s/pod.yaml` (as the project rewrote it: this run's image name)
/// replaced by a Deployment of `REPLICAS` pods with the Pod's spec, and a
/// Service in front of them, both named `name`.
fn as_deployment(ctx: &Path, name: &str) {
    let path = ctx.join("k8s/pod.yaml");
    let pod: Value = serde_norway::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut deployment: Value = serde_norway::from_str(&format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n  \
         replicas: {REPLICAS}\n  selector:\n    matchLabels:\n      app: {name}\n  \
         template:\n    metadata:\n      labels:\n        app: {name}\n"
    ))
    .unwrap();
    deployment["spec"]["template"]
        .as_mapping_mut()
        .unwrap()
        .insert("spec".into(), pod["spec"].clone());
    let service = format!(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\nspec:\n  selector:\n    \
         app: {name}\n  ports:\n  - port: {APP_PORT}\n    targetPort: {APP_PORT}\n"
    );
    let text = format!(
        "{}---\n{service}",
        serde_norway::to_string(&deployment).unwrap()
    );
    std::fs::write(&path, text).unwrap();
}

/// Skaffold's forward on the Service (it picks one of its pods).
fn forward_the_service(ctx: &Path, name: &str) {
    let path = ctx.join("skaffold.yaml");
    let mut doc: Value = serde_norway::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let forward = doc["portForward"][0]
        .as_mapping_mut()
        .expect("portForward[0]");
    forward.insert("resourceType".into(), "service".into());
    forward.insert("resourceName".into(), name.into());
    std::fs::write(&path, serde_norway::to_string(&doc).unwrap()).unwrap();
}

/// `kubectl ARGS…`'s stdout, failing with its output.
fn kubectl(project: &Project, args: &[&str]) -> String {
    let out = filesync_e2e::tools::run(project.kubectl().args(args))
        .unwrap_or_else(|e| panic!("kubectl {}: {e:#}", args.join(" ")));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The live lines in `pod`'s log so far.
fn live_lines(project: &Project, pod: &str) -> Vec<live_line::Live> {
    live_line::pod_log(project, pod)
        .unwrap_or_else(|e| panic!("kubectl logs {pod}: {e:#}"))
        .iter()
        .filter_map(|(_, l)| live_line::parse(l))
        .collect()
}

/// Waits until `pod`'s log has `count` live lines; returns the last one.
fn wait_live(project: &Project, pod: &str, count: usize, what: &str) -> live_line::Live {
    let deadline = Instant::now() + Duration::from_mins(1);
    loop {
        let lines = live_lines(project, pod);
        if lines.len() >= count {
            return lines.last().cloned().unwrap();
        }
        assert!(
            Instant::now() < deadline,
            "{what}: {pod} logged {} live line(s), not {count}:\n{}",
            lines.len(),
            kubectl(project, &["logs", pod])
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `pod` answers `marker` through its own `kubectl port-forward`.
fn served_by(project: &Project, pod: &str, marker: &str, what: &str) {
    let forward = PortForward::start(project.kubectl(), pod, APP_PORT)
        .unwrap_or_else(|e| panic!("{what}: port-forward pod/{pod}: {e:#}"));
    let served = wait_for(forward.port, NODE.page, Duration::from_secs(30), |s, b| {
        s == 200 && b.contains(marker)
    });
    assert!(served.is_ok(), "{what}: pod/{pod} answered {served:?}");
}

/// The Deployment's pods (after its rollout: `REPLICAS` of them).
fn pods(project: &Project, name: &str) -> Vec<String> {
    kubectl(
        project,
        &[
            "get",
            "pods",
            "-l",
            &format!("app={name}"),
            "-o",
            "jsonpath={.items[*].metadata.name}",
        ],
    )
    .split_whitespace()
    .map(str::to_string)
    .collect()
}

/// examples/node as a 3-replica Deployment: two saves, each synced to
/// every pod, reloaded once in each and served by each.
pub(super) fn three_replicas_each_reload_once_per_save() {
    let mut project = Project::new("node", Mode::Generated, Stack::Base, Deployer::Kubectl)
        .unwrap_or_else(|e| panic!("{e:#}"));
    // The Pod's name becomes the Deployment's and the Service's; the
    // project no longer has one Pod to exec in or read.
    let name = project.pod.take().expect("examples/node's Pod");
    as_deployment(project.ctx(), &name);
    forward_the_service(project.ctx(), &name);
    let dev = SkaffoldDev::dev(project).unwrap_or_else(|e| panic!("{e:#}"));
    if let Err(e) = dev.wait_up(NODE.page, FIRST_BUILD, |s, b| {
        s == 200 && b.contains(NODE.first)
    }) {
        panic!("replicas: never served {:?}: {e:#}", NODE.first);
    }
    dev.wait_line(0, "Watching for changes", Duration::from_mins(1))
        .unwrap();
    let project = dev.project();
    kubectl(
        project,
        &[
            "rollout",
            "status",
            &format!("deployment/{name}"),
            "--timeout=5m",
        ],
    );
    let pods = pods(project, &name);
    assert_eq!(pods.len(), REPLICAS, "the Deployment's pods: {pods:?}");
    let mut figures = Vec::new();
    for v in 2..=3 {
        figures.extend(one_save(&dev, &pods, v));
    }
    let restarts = kubectl(
        project,
        &[
            "get",
            "pods",
            "-l",
            &format!("app={name}"),
            "-o",
            "jsonpath={.items[*].status.containerStatuses[0].restartCount}",
        ],
    );
    assert!(
        restarts.split_whitespace().all(|r| r == "0"),
        "a container restarted: {restarts}"
    );
    let mut live = figures.clone();
    live.sort_unstable();
    eprintln!(
        "sync-to-live node (base, generated, kubectl, {REPLICAS} replicas): median {} ms; each pod and save: {figures:?} ms",
        live[live.len() / 2]
    );
    drop(dev);
    // Skaffold's cleanup deletes the Deployment; its pods then terminate.
    let selector = format!("app={name}");
    let cluster = Cluster::get();
    let waited = cluster.kubectl_out(&[
        "wait",
        "--for=delete",
        "pod",
        "-l",
        &selector,
        "--timeout=120s",
    ]);
    if let Err(e) = waited {
        assert!(format!("{e:#}").contains("no matching resources"), "{e:#}");
    }
    let left = cluster
        .kubectl_out(&["get", "pods", "-l", &selector, "-o", "name"])
        .unwrap();
    assert!(left.trim().is_empty(), "after Ctrl-C: {left}");
}

/// Save `v`: Skaffold syncs it (no image build); each pod logs one live
/// line for it and serves it through its own forward; so does the
/// Service through Skaffold's. Returns each pod's live figure.
fn one_save(dev: &SkaffoldDev, pods: &[String], v: usize) -> Vec<u64> {
    let what = format!("replicas: save {v}");
    let project = dev.project();
    let before: Vec<usize> = pods.iter().map(|p| live_lines(project, p).len()).collect();
    let (content, marker) = (NODE.make)(v);
    let mark = dev.mark();
    let saved = dev.write(NODE.edit, &content);
    dev.wait_line(mark, "Syncing 1 files", TO_SYNC)
        .unwrap_or_else(|e| panic!("{what}: not synced: {e:#}"));
    let mut ms = Vec::new();
    for (pod, n) in pods.iter().zip(&before) {
        let live = wait_live(project, pod, n + 1, &what);
        served_by(project, pod, &marker, &what);
        ms.push(live.ms);
    }
    eprintln!(
        "{what}: each of the {REPLICAS} pods live and serving {marker:?} {} ms after the save (live lines {ms:?} ms)",
        saved.elapsed().as_millis()
    );
    for (pod, n) in pods.iter().zip(&before) {
        let count = live_lines(project, pod).len();
        assert_eq!(count, n + 1, "{what}: {pod} reloaded {} times", count - n);
    }
    let served = wait_for(dev.port, NODE.page, Duration::from_mins(1), |s, b| {
        s == 200 && b.contains(&marker)
    });
    assert!(served.is_ok(), "{what}: the Service answered {served:?}");
    assert_no_image_build(dev, mark, &what);
    ms
}
