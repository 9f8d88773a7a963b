//! The real client on Kubernetes: `skaffold dev` (Skaffold v2.24.0's CLI)
//! with the **kubectl deployer** on the project's own cluster
//! (`scripts/cluster.sh`, Kubernetes v1.33.13), for every example, with
//! the example's own manifest (`k8s/pod.yaml`, a Pod). Skaffold builds with
//! the test builder in the private Docker Engine, pushes the image to the
//! registry on 127.0.0.1 (`--default-repo`), which the cluster's containerd
//! pulls from, applies the Pod with kubectl, forwards its port to 127.0.0.1
//! (`portForward`, `resourceType: pod`) and syncs through `kubectl exec …
//! tar` / `rm`. The app is reached only on 127.0.0.1, never by pod IP.
//!
//! Per example (generated rules, newest Platform API; Go on tiny): an edit
//! gives Skaffold's `Syncing 1 files` and is served, no rebuild; a deleted
//! file is no longer served; a dependency-manifest change rebuilds and
//! redeploys (the steps are tests/common's, shared with the docker suite).
//! A save that edits one file and deletes another restarts the app exactly
//! once, after the deletion: the generated profile's after-sync hook
//! (`filesync-sync-done`) ends the batch (read from the app's own start
//! record). Issue 23's faults under this client (`skaffold_kubectl/faults.rs`:
//! the app killed mid-sync, `skaffold dev` interrupted mid-sync and started
//! again, a sync during an in-container rebuild; PID 1 killed is the
//! `restart` case) and a 3-replica Deployment with a Service
//! (`skaffold_kubectl/replicas.rs`). The examples' medians are printed
//! in one table (`kubectl figures:`) for BENCHMARKS.md's kubectl section.
//! Then `examples/basic`, the seed's example as written: `skaffold run`,
//! `kubectl get pod example-basic` Running, `skaffold delete`, and
//! `skaffold dev` syncing an edit into the Pod.
//!
//! One test owns the cluster: it stops one an earlier test process left
//! running, starts it, runs every case in sequence (a failing case is
//! reported at the end, after the others ran), stops the cluster and
//! asserts that the host is as it was before the start, with nothing of
//! the cluster left.

// Required due to: https://github.com/rust-lang/rust/issues/95513
#![allow(unused_crate_dependencies)]
// A panic in a test is its failure, carrying its message.
#![allow(clippy::unwrap_used)]

mod common;

mod skaffold_kubectl {
    mod faults;
    mod replicas;

    use super::common::{self, Case, CaseFigures, CASES, FIRST_BUILD};
    use filesync_e2e::builder::{Builders, Platform, Stack};
    use filesync_e2e::cluster::{
        assert_host_unchanged, host_snapshot, leftovers, Cluster, PortForward,
    };
    use filesync_e2e::docker::Docker;
    use filesync_e2e::http::{get, wait_for};
    use filesync_e2e::skaffold_dev::{Deployer, Mode, Project, SkaffoldDev};
    use std::panic::{catch_unwind, AssertUnwindSafe};
    use std::time::{Duration, Instant};

    /// Stops the cluster when the test ends, however it ends.
    struct StopOnDrop(bool);

    impl Drop for StopOnDrop {
        fn drop(&mut self) {
            if self.0 {
                let _ = Cluster::stop();
            }
        }
    }

    #[test]
    fn every_example_and_examples_basic_then_the_cluster_stopped_and_the_host_unchanged() {
        let t0 = Instant::now();
        // What is not the cluster's comes first: the private Docker Engine,
        // the registry on 127.0.0.1 and the builders in it.
        Docker::get();
        for stack in [Stack::Base, Stack::Tiny] {
            Builders::get().builder(stack, Platform::Current);
        }
        if Cluster::running() {
            Cluster::stop().expect("stopping the cluster an earlier test process left running");
        }
        let before = host_snapshot();
        let mut guard = StopOnDrop(true);
        let t = Instant::now();
        let cluster = Cluster::get();
        eprintln!("cluster: schedulable after {:.1?}", t.elapsed());

        let failed = run_the_cases(cluster);

        let pods = cluster
            .kubectl_out(&["get", "pods", "-A", "-o", "name"])
            .unwrap_or_else(|e| format!("{e:#}"));
        let t = Instant::now();
        guard.0 = false;
        Cluster::stop().expect("scripts/cluster.sh stop");
        eprintln!("cluster: stopped in {:.1?}", t.elapsed());
        assert_host_unchanged(&before);
        let left = leftovers();
        assert!(
            left.is_empty(),
            "left of the cluster after stop:\n{}",
            left.join("\n")
        );
        eprintln!("whole kubectl suite: {:.0?}", t0.elapsed());
        assert!(failed.is_empty(), "{}", failed.join("\n\n"));
        assert!(
            pods.trim().is_empty(),
            "Skaffold left pods after Ctrl-C or delete: {pods}"
        );
    }

    /// Runs every case on `cluster`, each one's panic caught and kept:
    /// the failures, as "name: message".
    fn run_the_cases(cluster: &Cluster) -> Vec<String> {
        // FILESYNC_KUBECTL_ONLY=node,basic runs only those cases (while
        // working on one); the suite runs them all.
        let only = std::env::var("FILESYNC_KUBECTL_ONLY").ok();
        let wanted = |name: &str| {
            only.as_deref().is_none_or(|o| {
                o.split(',')
                    .any(|w| name.split(':').next() == Some(w.trim()))
            })
        };
        let mut failed = Vec::new();
        let mut each = |name: &str, f: &dyn Fn()| {
            if !wanted(name) {
                eprintln!("skipped: {name} (FILESYNC_KUBECTL_ONLY)");
                return;
            }
            let t = Instant::now();
            match catch_unwind(AssertUnwindSafe(f)) {
                Ok(()) => eprintln!("ok: {name} ({:.0?})", t.elapsed()),
                Err(e) => {
                    let msg = e
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| {
                            e.downcast_ref::<&str>()
                                .map(std::string::ToString::to_string)
                        })
                        .unwrap_or_default();
                    eprintln!("FAILED: {name} ({:.0?})", t.elapsed());
                    failed.push(format!("{name}: {msg}"));
                }
            }
        };
        let figures = std::sync::Mutex::new(Vec::new());
        for case in CASES {
            each(case.example, &|| {
                // (Not under the lock: a failing case panics.)
                let f = kubectl_case(case);
                figures.lock().unwrap().push(f);
            });
        }
        print_figures(&figures.into_inner().unwrap());
        each("node: edit and delete in one save", &|| {
            // The after-sync hook ends the batch: one restart, after `rm`
            // (the start record's last line saw the file deleted).
            let restarts = common::edit_and_delete_in_one_save(Deployer::Kubectl);
            assert_eq!(restarts, 1, "exactly one restart for the save");
        });
        // Issue 23: synced changes survive a container restart in the pod.
        each("restart: kill 1, then a rebuild and redeploy", &|| {
            common::restart::synced_changes_survive(common::restart::Restart::KillPid1, true);
        });
        each(
            "liveness: a failed probe restarts on the last sync",
            &|| {
                common::restart::synced_changes_survive(
                    common::restart::Restart::LivenessProbe,
                    false,
                );
            },
        );
        // Issue 23: faults under the real client, and replicas.
        each(
            "faults: the app killed mid-sync, then skaffold dev interrupted mid-sync",
            &faults::app_killed_then_skaffold_interrupted,
        );
        each(
            "rebuild: a sync during the in-container rebuild",
            &faults::sync_during_a_rebuild,
        );
        each(
            "replicas: 3 pods, each reloaded once per save",
            &replicas::three_replicas_each_reload_once_per_save,
        );
        // Issue 23: no refused connection through the port-forward.
        for example in ["node", "python", "java"] {
            each(&format!("{example}: port-forward never refused"), &|| {
                common::port_forward::never_refused(example);
            });
        }
        each("basic: skaffold run", &|| basic_run(cluster));
        each("basic: skaffold dev", &basic_dev);
        failed
    }

    fn kubectl_case(case: &Case) -> CaseFigures {
        common::run(case, Mode::Generated, Deployer::Kubectl)
    }

    /// The examples' medians in one table, as BENCHMARKS.md's kubectl
    /// section shows them beside the docker suite's (the `BENCH` lines
    /// carry the same figures for scripts).
    fn print_figures(figures: &[CaseFigures]) {
        eprintln!("kubectl figures (medians, ms): example | save→live | sync→live | live line | rebuild+redeploy");
        for f in figures {
            eprintln!(
                "kubectl figures: {} | {} | {} | {} | {}",
                f.label, f.save_to_live, f.sync_to_live, f.live_line, f.rebuild
            );
        }
    }

    /// examples/basic's Pod is Running (as `kubectl get pod` and its
    /// phase say) on the image Skaffold pushed to --default-repo.
    fn assert_running_from_the_registry(cluster: &Cluster, log: &str) {
        let get_pod = cluster
            .kubectl_out(&["get", "pod", "example-basic"])
            .unwrap_or_else(|e| panic!("{e:#}\nskaffold run said:\n{log}"));
        eprintln!("$ kubectl get pod example-basic\n{}", get_pod.trim_end());
        let row = get_pod
            .lines()
            .find(|l| l.starts_with("example-basic "))
            .unwrap_or_else(|| panic!("no example-basic row: {get_pod}"));
        assert!(
            row.split_whitespace().any(|c| c == "Running"),
            "example-basic is not Running: {get_pod}"
        );
        let phase = cluster
            .kubectl_out(&[
                "get",
                "pod",
                "example-basic",
                "-o",
                "jsonpath={.status.phase}",
            ])
            .unwrap();
        assert_eq!(phase, "Running");
        // The image Skaffold deployed is the one it pushed to --default-repo.
        let image = cluster
            .kubectl_out(&[
                "get",
                "pod",
                "example-basic",
                "-o",
                "jsonpath={.spec.containers[0].image}",
            ])
            .unwrap();
        let registry = Builders::get().registry();
        assert!(
            image.starts_with(&format!("{registry}/example-basic")),
            "the Pod's image {image} is not in {registry}"
        );
    }

    /// examples/basic with `skaffold run` as the seed describes it: built,
    /// pushed, deployed; `kubectl get pod example-basic` reports it
    /// Running; the app answers through `kubectl port-forward` on
    /// 127.0.0.1; `skaffold delete` removes it.
    // The helper items sit beside the one step that uses them.
    #[allow(clippy::items_after_statements)]
    fn basic_run(cluster: &Cluster) {
        let project = Project::new("basic", Mode::Generated, Stack::Base, Deployer::Kubectl)
            .unwrap_or_else(|e| panic!("{e:#}"));
        assert_eq!(project.pod.as_deref(), Some("example-basic"));
        // `skaffold run` leaves what it deployed, also when it fails.
        struct DeleteOnDrop<'a>(&'a Project, bool);
        impl Drop for DeleteOnDrop<'_> {
            fn drop(&mut self) {
                if self.1 {
                    let _ = self.0.run(&["delete"]);
                }
            }
        }
        let mut deployed = DeleteOnDrop(&project, true);
        let t = Instant::now();
        let out = project
            .run(&["run", "--cache-artifacts=false"])
            .unwrap_or_else(|e| panic!("{e:#}"));
        eprintln!("examples/basic: skaffold run done in {:.1?}", t.elapsed());
        let log = String::from_utf8_lossy(&out.stdout);
        assert_running_from_the_registry(cluster, &log);
        let served = port_forward_get(&project, "example-basic", "/");
        assert!(
            served.contains("Hello from example-basic v1"),
            "example-basic served {served:?}"
        );
        deployed.1 = false;
        project.run(&["delete"]).unwrap_or_else(|e| panic!("{e:#}"));
        // `skaffold delete` asks for the deletion and returns; the Pod
        // then terminates (its grace period).
        let t = Instant::now();
        cluster
            .kubectl_out(&[
                "wait",
                "--for=delete",
                "pod/example-basic",
                "--timeout=120s",
            ])
            .unwrap_or_else(|e| panic!("example-basic after skaffold delete: {e:#}"));
        eprintln!(
            "examples/basic: skaffold delete; the Pod gone {:.1?} later",
            t.elapsed()
        );
        let gone = cluster.kubectl_out(&["get", "pods", "-o", "name"]).unwrap();
        assert!(gone.trim().is_empty(), "after skaffold delete: {gone}");
    }

    /// examples/basic under `skaffold dev`: an edit of message.js is synced
    /// into the running Pod (Skaffold's `Syncing 1 files`, no rebuild), the
    /// file in the Pod is the edited one, and the app serves it.
    fn basic_dev() {
        let started = Instant::now();
        let dev = SkaffoldDev::start_with("basic", Mode::Generated, Stack::Base, Deployer::Kubectl)
            .unwrap_or_else(|e| panic!("{e:#}"));
        if let Err(e) = dev.wait_up("/", FIRST_BUILD, |s, b| {
            s == 200 && b.contains("example-basic v1")
        }) {
            panic!("never served v1: {e:#}");
        }
        dev.wait_line(0, "Watching for changes", Duration::from_mins(1))
            .unwrap();
        eprintln!(
            "examples/basic (base, generated, kubectl): first build and deploy served after {} s",
            started.elapsed().as_secs()
        );
        let content = "module.exports = \"Hello from example-basic v2\";\n";
        let edit = common::save_synced_served(
            &dev,
            "message.js",
            content,
            "/",
            "example-basic v2",
            Duration::from_mins(1),
            "examples/basic: the edit of message.js",
        );
        let (saved, synced, live) = (edit.saved, edit.synced, edit.live);
        let in_pod = dev
            .exec(&["cat", "/workspace/message.js"])
            .unwrap_or_else(|e| panic!("kubectl exec example-basic -- cat: {e:#}"));
        assert_eq!(in_pod, content, "message.js in the Pod");
        eprintln!(
            "save-to-live examples/basic (base, generated, kubectl): {} ms ({:?}: {} ms after the save)",
            (live - saved).as_millis(),
            synced.text.trim(),
            (synced.at - saved).as_millis()
        );
        if let Some(f) = edit.figures {
            eprintln!(
                "sync-to-live examples/basic (base, generated, kubectl): {} ms (HTTP {} ms)",
                f.live_ms, f.http_ms
            );
            filesync_e2e::live_line::print_agreement("examples/basic", &[f]);
        }
    }

    /// `kubectl port-forward pod/POD :8080 --address 127.0.0.1` and a GET of
    /// `path` through it (retried while the forward comes up).
    fn port_forward_get(project: &Project, pod: &str, path: &str) -> String {
        let result = PortForward::start(project.kubectl(), pod, 8080)
            .map_err(|e| format!("{e:#}"))
            .and_then(|pf| {
                wait_for(pf.port, path, Duration::from_secs(30), |s, _| s == 200)
                    .and_then(|_| get(pf.port, path).map(|r| r.1).map_err(|e| e.to_string()))
            });
        result.unwrap_or_else(|e| panic!("GET {path} through port-forward: {e}"))
    }
}
