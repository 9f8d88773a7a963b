//! Faults under the real client (issue 23), each ending on the saved files
//! with no lost change and no stuck supervisor, told by HTTP answers
//! through Skaffold's forward on 127.0.0.1 and by the container's own log
//! (`kubectl logs`: Skaffold mutes the container's log for its whole
//! dev-loop iteration, see `filesync_e2e::live_line`):
//!
//! - the app (not PID 1) killed while a sync is applied: the supervisor
//!   starts it again, the save is served, the next save reloads as usual;
//! - `skaffold dev` interrupted (SIGINT) while it syncs, then started
//!   again: its first deploy serves the saved file and its first sync is
//!   served (both on one Node.js session, the first fault's);
//! - a sync while the app rebuilds in the container (examples/java, whose
//!   Maven rebuild lasts seconds; Go's lasts less than Skaffold's watch
//!   interval): the running build is cancelled and the second version is
//!   built and served, with one live line.
//!
//! PID 1 killed is `restart: kill 1, then a rebuild and redeploy`
//! (tests/common/restart.rs).

use crate::common::{save_synced_served, FIRST_BUILD, JAVA, NODE, TO_SYNC};
use filesync_e2e::builder::Stack;
use filesync_e2e::http::wait_for;
use filesync_e2e::live_line;
use filesync_e2e::skaffold_dev::{Deployer, Mode, Project, SkaffoldDev};
use std::time::{Duration, Instant};

/// SIGKILL to every child of PID 1 (the supervisor's: the app), their
/// pids printed. `kubectl exec`'s own processes have parent 0 in the
/// container's pid namespace, so they are not among them.
const KILL_THE_APP: &str = r#"for s in /proc/[0-9]*/stat; do
  read -r pid comm state ppid rest < "$s" 2>/dev/null || continue
  if [ "$ppid" = 1 ]; then kill -KILL "$pid" && echo "$pid"; fi
done"#;

/// `skaffold dev` (with `extra` flags) on `example` with the kubectl
/// deployer, its first deploy serving `first` on `page`.
fn started(example: &str, stack: Stack, page: &str, first: &str, extra: &[&str]) -> SkaffoldDev {
    let project = Project::new(example, Mode::Generated, stack, Deployer::Kubectl)
        .unwrap_or_else(|e| panic!("{e:#}"));
    let dev = SkaffoldDev::dev_with(project, extra).unwrap_or_else(|e| panic!("{e:#}"));
    if let Err(e) = dev.wait_up(page, FIRST_BUILD, |s, b| s == 200 && b.contains(first)) {
        panic!("{example}: never served {first:?}: {e:#}");
    }
    dev.wait_line(0, "Watching for changes", Duration::from_mins(1))
        .unwrap();
    dev
}

/// The Pod's app container log lines, without timestamps.
fn pod_log(dev: &SkaffoldDev) -> Vec<String> {
    let pod = dev
        .project()
        .pod
        .as_deref()
        .expect("the kubectl deployer's Pod");
    live_line::pod_log(dev.project(), pod)
        .unwrap_or_else(|e| panic!("kubectl logs {pod}: {e:#}"))
        .into_iter()
        .map(|(_, l)| l)
        .collect()
}

/// Waits (reading `kubectl logs` again while it is not so) until the
/// Pod's log satisfies `done`; returns it.
fn wait_pod_log(
    dev: &SkaffoldDev,
    timeout: Duration,
    what: &str,
    done: impl Fn(&[String]) -> bool,
) -> Vec<String> {
    let deadline = Instant::now() + timeout;
    loop {
        let log = pod_log(dev);
        if done(&log) {
            return log;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: not in the container's log within {timeout:?}:\n{}",
            log.join("\n")
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The app container's restart count (the supervisor, PID 1, restarted).
fn container_restarts(dev: &SkaffoldDev) -> String {
    let pod = dev.project().pod.clone().unwrap();
    dev.project()
        .kubectl()
        .args(["get", "pod", &pod, "-o"])
        .arg("jsonpath={.status.containerStatuses[0].restartCount}")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// The supervisor's lines of `log` from line `from` on, for the report.
fn supervisor_lines(log: &[String], from: usize) -> String {
    log.iter()
        .skip(from)
        .filter(|l| l.contains("[filesync]"))
        .cloned()
        .collect::<Vec<_>>()
        .join("\n")
}

/// Node.js: the app killed mid-sync, then `skaffold dev` interrupted
/// mid-sync and started again, on one session.
pub(super) fn app_killed_then_skaffold_interrupted() {
    let mut dev = started("node", Stack::Base, NODE.page, NODE.first, &[]);
    app_killed_mid_sync(&dev);
    skaffold_interrupted_mid_sync(&mut dev);
}

fn app_killed_mid_sync(dev: &SkaffoldDev) {
    let what = "node: the app killed mid-sync";
    let (v2, marker) = (NODE.make)(2);
    let before = pod_log(dev).len();
    let mark = dev.mark();
    dev.write(NODE.edit, &v2);
    let synced = dev
        .wait_line(mark, "Syncing 1 files", TO_SYNC)
        .unwrap_or_else(|e| panic!("{what}: not synced: {e:#}"));
    let killed = dev
        .exec(&["sh", "-c", KILL_THE_APP])
        .unwrap_or_else(|e| panic!("{what}: kubectl exec kill: {e:#}"));
    let killed_after = synced.at.elapsed();
    assert!(
        !killed.trim().is_empty(),
        "{what}: no child of PID 1 to kill"
    );
    // Through Skaffold's forward, which a refused connection may close
    // and Skaffold then opens again.
    let served = wait_for(dev.port, NODE.page, Duration::from_mins(2), |s, b| {
        s == 200 && b.contains(&marker)
    });
    let log = pod_log(dev);
    assert!(
        served.is_ok(),
        "{what}: never served {marker:?}: {served:?}\n{}\n{}",
        supervisor_lines(&log, before),
        dev.log()
    );
    eprintln!(
        "{what}: killed pid {} {} ms after Skaffold's `Syncing` line; the supervisor then logged:\n{}",
        killed.split_whitespace().collect::<Vec<_>>().join(","),
        killed_after.as_millis(),
        supervisor_lines(&log, before)
    );
    assert_eq!(container_restarts(dev), "0", "{what}: PID 1 was restarted");
    let in_pod = dev.exec(&["cat", "/workspace/lib/message.js"]).unwrap();
    assert_eq!(in_pod, v2, "{what}: the synced file in the Pod");
    // Not stuck: the next save reloads as any, with one live line.
    let (v3, marker) = (NODE.make)(3);
    save_synced_served(
        dev,
        NODE.edit,
        &v3,
        NODE.page,
        &marker,
        Duration::from_mins(1),
        &format!("{what}: the next save"),
    );
}

/// SIGINT to `skaffold dev` right after its `Syncing` line (the `kubectl
/// exec … tar` under way), and a new `skaffold dev`: its first deploy
/// serves the saved file, and its first sync is served.
fn skaffold_interrupted_mid_sync(dev: &mut SkaffoldDev) {
    let what = "node: skaffold dev interrupted mid-sync";
    let (v4, marker) = (NODE.make)(4);
    let mark = dev.mark();
    dev.write(NODE.edit, &v4);
    dev.wait_line(mark, "Syncing 1 files", TO_SYNC)
        .unwrap_or_else(|e| panic!("{what}: not synced: {e:#}"));
    let t = Instant::now();
    // SIGINT at once; Skaffold's cleanup deletes the Pod (waited for).
    dev.restart_with(&[])
        .unwrap_or_else(|e| panic!("{what}: starting skaffold dev again: {e:#}"));
    let up = dev.wait_up(NODE.page, FIRST_BUILD, |s, b| {
        s == 200 && b.contains(&marker)
    });
    if let Err(e) = up {
        panic!("{what}: the new session's deploy never served {marker:?}: {e:#}");
    }
    dev.wait_line(0, "Watching for changes", Duration::from_mins(1))
        .unwrap();
    eprintln!(
        "{what}: the new session served the saved file {:.1?} after the SIGINT",
        t.elapsed()
    );
    let (v5, marker) = (NODE.make)(5);
    save_synced_served(
        dev,
        NODE.edit,
        &v5,
        NODE.page,
        &marker,
        Duration::from_mins(1),
        &format!("{what}: the new session's first sync"),
    );
}

/// examples/java: a save, and a second one while the first one's Maven
/// rebuild runs in the container. The build is cancelled, the second
/// version built and served; one live line for the two; a third save
/// reloads as usual.
pub(super) fn sync_during_a_rebuild() {
    let what = "java: a sync during the in-container rebuild";
    // Skaffold's file watcher's debounce at 100 ms (its default: 1 s):
    // the second sync then lands well inside the first rebuild.
    let poll = ["--watch-poll-interval=100"];
    let dev = started("java", JAVA.stack, JAVA.page, JAVA.first, &poll);
    let before = pod_log(&dev).len();
    let (v2, _) = (JAVA.make)(2);
    let mark = dev.mark();
    let saved = dev.write(JAVA.edit, &v2);
    let first = dev
        .wait_line(mark, "Syncing 1 files", TO_SYNC)
        .unwrap_or_else(|e| panic!("{what}: the first save not synced: {e:#}"));
    // Skaffold's dev-loop iteration ends after the after-sync hook, which
    // ends the batch: the rebuild has started (the container's log says
    // so below).
    dev.wait_line(first.index, "Watching for changes", TO_SYNC)
        .unwrap_or_else(|e| panic!("{what}: the first sync never ended: {e:#}"));
    let (v3, marker) = (JAVA.make)(3);
    let mark = dev.mark();
    dev.write(JAVA.edit, &v3);
    let synced = dev
        .wait_line(mark, "Syncing 1 files", TO_SYNC)
        .unwrap_or_else(|e| panic!("{what}: the second save not synced: {e:#}"));
    let live = |l: &String| live_line::parse(l).is_some();
    let log = wait_pod_log(&dev, Duration::from_mins(5), "the live line", |log| {
        log.iter().skip(before).any(live)
    });
    let served = wait_for(dev.port, JAVA.page, Duration::from_mins(2), |s, b| {
        s == 200 && b.contains(&marker)
    });
    let lines = supervisor_lines(&log, before);
    assert!(
        served.is_ok(),
        "{what}: never served {marker:?}: {served:?}\n{lines}"
    );
    eprintln!(
        "{what}: v3 served {} ms after its `Syncing` line ({} ms after the first save); the supervisor logged:\n{lines}",
        synced.at.elapsed().as_millis(),
        saved.elapsed().as_millis()
    );
    assert!(
        lines.contains(" -> rebuilding: "),
        "{what}: the first save did not rebuild:\n{lines}"
    );
    assert!(
        lines.contains("while a build runs -> cancelling it")
            || lines.contains("while a build is being cancelled"),
        "{what}: the second sync did not meet the first rebuild:\n{lines}"
    );
    // Only the build on the final files restarted the app.
    let log = pod_log(&dev);
    let lives = log.iter().skip(before).filter(|l| live(l)).count();
    assert_eq!(lives, 1, "{what}: one live line for the two saves\n{lines}");
    let (v4, marker) = (JAVA.make)(4);
    save_synced_served(
        &dev,
        JAVA.edit,
        &v4,
        JAVA.page,
        &marker,
        Duration::from_mins(5),
        &format!("{what}: the next save"),
    );
}
