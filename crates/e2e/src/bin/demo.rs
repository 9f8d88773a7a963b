//! The README's main job: the real `skaffold dev` (Skaffold v2.24.0, docker
//! deployer) on `examples/node`, built by pack and the CNB lifecycle on a
//! builder shaped like Paketo's with skaffold-filesync in it. It saves
//! edits and shows Skaffold's own `Syncing 1 files` line and the app
//! reloading in place, changes `package.json` and shows the rebuild and
//! redeploy that sync replaces, then runs `skaffold dev` again with its
//! watch interval lowered to 100 ms (`--watch-poll-interval`, also
//! `SKAFFOLD_WATCH_POLL_INTERVAL`) and saves again: the times side by side.

// The binary drives the filesync-e2e library, which uses the dependencies.
#![allow(unused_crate_dependencies)]

use filesync_e2e::builder::{Builders, Platform, Stack};
use filesync_e2e::http::{get, wait_for};
use filesync_e2e::skaffold_dev::{Deployer, Mode, Project, SkaffoldDev};
use std::time::{Duration, Instant};

/// Saves per interval; the medians are printed.
const SAVES: u32 = 3;
/// The lowered interval of the second run, in ms.
const FAST_INTERVAL_MS: u64 = 100;

fn step(n: u32, text: &str) {
    println!("\n[{n}/7] {text}");
}

/// Prints Skaffold's lines from `from` on that match `keep`.
fn show(dev: &SkaffoldDev, from: usize, keep: impl Fn(&str) -> bool) {
    for line in dev.lines_from(from).iter().filter(|l| keep(l)) {
        println!("      skaffold | {line}");
    }
}

/// One save of `lib/message.js`: the whole save-to-live and the part until
/// Skaffold's `Syncing` line (its watcher's wait).
struct Save {
    live: Duration,
    skaffold: Duration,
}

fn main() -> anyhow::Result<()> {
    anyhow::ensure!(
        is_root(),
        "the demo starts a private Docker Engine (scripts/docker.sh): run it as root"
    );
    let total = Instant::now();
    let builder = make_builder();
    step(
        2,
        "`skaffold dev` on a copy of examples/node (first build: pull the builder, detect, build, export, deploy)",
    );
    let project = Project::with_builder("node", Mode::Generated, &builder, Deployer::Docker)?;
    let mut dev = SkaffoldDev::dev(project)?;
    println!("      context: {}", dev.ctx().display());
    let watching = first_deploy(&dev, "v1")?;

    step(
        3,
        "saving lib/message.js (Skaffold's default watch interval, 1000 ms): Skaffold syncs it, the app reloads in place",
    );
    let slow = saves(&dev, watching, 2)?;

    step(
        4,
        "changing package.json: a dependency manifest is never synced, Skaffold rebuilds and redeploys",
    );
    let rebuild = rebuild(&dev, SAVES + 1)?;

    step(
        5,
        &format!(
            "`skaffold dev --watch-poll-interval={FAST_INTERVAL_MS}` on the same copy (Ctrl-C to the first; the \
             rebuild uses pack's cache)"
        ),
    );
    let t = Instant::now();
    dev.restart_with(&[&format!("--watch-poll-interval={FAST_INTERVAL_MS}")])?;
    let watching = first_deploy(&dev, &format!("v{}", SAVES + 1))?;
    println!("      up again in {:.1} s", t.elapsed().as_secs_f64());

    step(
        6,
        &format!("saving lib/message.js again, Skaffold's interval now {FAST_INTERVAL_MS} ms"),
    );
    let fast = saves(&dev, watching, SAVES + 2)?;

    step(7, "side by side");
    summary(&slow, &fast, rebuild);
    println!("      whole demo: {:.0} s", total.elapsed().as_secs_f64());
    Ok(())
}

/// Step 1: the builder, with the Node.js order group alone.
fn make_builder() -> String {
    step(
        1,
        "making the builder: `pack builder create` from lifecycle v0.21.17, skaffold-filesync and \
         Paketo-shaped stacks (build user 1001, run user 1002), published to a registry on 127.0.0.1",
    );
    let t = Instant::now();
    let builder = Builders::get().builder_of(Stack::Base, Platform::Current, &["node"]);
    println!(
        "      {builder} ready in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    builder
}

/// Waits for the first build and deploy to serve `version`, showing the
/// build's headlines meanwhile; returns the index of Skaffold's
/// `Watching for changes` line.
fn first_deploy(dev: &SkaffoldDev, version: &str) -> anyhow::Result<usize> {
    let t = Instant::now();
    let shown = std::cell::Cell::new(0);
    let up = wait_for(dev.port, "/", Duration::from_mins(15), |s, b| {
        // Progress while it builds: Skaffold's and the buildpacks' headlines.
        let now = dev.mark();
        if now > shown.get() {
            show(dev, shown.get(), |l| {
                l.contains("===>")
                    || l.contains("[skaffold-filesync]") && !l.contains("  ")
                    || l.starts_with("Build [")
                    || l.contains("Forwarding container port")
            });
            shown.set(now);
        }
        s == 200 && b.contains(version)
    });
    if let Err(e) = up {
        anyhow::bail!("the app never came up: {e}\n{}", dev.log());
    }
    let watching = dev.wait_line(0, "Watching for changes", Duration::from_mins(1))?;
    show(dev, shown.get(), |l| {
        l.contains("Forwarding") || l.contains("[filesync]")
    });
    println!(
        "      GET http://127.0.0.1:{}/ -> {:?} ({:.1} s)",
        dev.port,
        get(dev.port, "/")?.1.trim(),
        t.elapsed().as_secs_f64()
    );
    Ok(watching.index)
}

/// [`SAVES`] saves of `lib/message.js`, versions `first`, `first + 1`, …,
/// each waited for until served; Skaffold's lines and the supervisor's
/// reload are shown for the first.
fn saves(dev: &SkaffoldDev, watching: usize, first: u32) -> anyhow::Result<Vec<Save>> {
    let mut out = Vec::new();
    for v in first..first + SAVES {
        let mark = dev.mark().max(watching + 1);
        let saved = dev.write(
            "lib/message.js",
            &format!(
                "module.exports = \"Hello from Node.js v{v}, synced by skaffold-filesync\";\n"
            ),
        );
        let synced = dev.wait_line(mark, "Syncing 1 files", Duration::from_secs(30))?;
        wait_for(dev.port, "/", Duration::from_mins(1), |s, b| {
            s == 200 && b.contains(&format!("v{v}"))
        })
        .map_err(|e| anyhow::anyhow!("the edit never showed: {e}\n{}", dev.log()))?;
        let save = Save {
            live: saved.elapsed(),
            skaffold: synced.at.saturating_duration_since(saved),
        };
        if v == first {
            // The supervisor's log line comes through Skaffold's log stream.
            let _ = dev.wait_line(mark, "[filesync] sync:", Duration::from_secs(10));
            show(dev, synced.index, |l| {
                l.contains("Syncing") || l.contains("[filesync] sync:")
            });
        }
        println!(
            "      save {} -> {:?} live after {} ms (Skaffold's wait until `Syncing`: {} ms)",
            v - first + 1,
            get(dev.port, "/")?.1.trim(),
            save.live.as_millis(),
            save.skaffold.as_millis()
        );
        out.push(save);
    }
    Ok(out)
}

/// A `package.json` change: Skaffold rebuilds and redeploys; returns the
/// save-to-live of version `version` (already in lib/message.js) served
/// by the new container.
fn rebuild(dev: &SkaffoldDev, version: u32) -> anyhow::Result<Duration> {
    let mark = dev.mark();
    let manifest = dev.ctx().join("package.json");
    let old = std::fs::read_to_string(&manifest)?;
    let saved = dev.write("package.json", &format!("{old}\n"));
    let building = dev.wait_line(mark, "Building [", Duration::from_secs(30))?;
    dev.wait_line(
        building.index,
        "Watching for changes",
        Duration::from_mins(15),
    )?;
    wait_for(dev.port, "/", Duration::from_mins(2), |s, b| {
        s == 200 && b.contains(&format!("v{version}"))
    })
    .map_err(|e| anyhow::anyhow!("not served after the redeploy: {e}\n{}", dev.log()))?;
    let live = saved.elapsed();
    show(dev, mark, |l| {
        l.starts_with("Building [")
            || l.starts_with("Build [")
            || l.starts_with("Starting deploy")
            || l.contains("Forwarding")
    });
    println!(
        "      rebuilt and redeployed: live after {} ms",
        live.as_millis()
    );
    Ok(live)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn summary(slow: &[Save], fast: &[Save], rebuild: Duration) {
    let row = |name: &str, saves: &[Save]| {
        let live = median(saves.iter().map(|s| s.live).collect());
        let skaffold = median(saves.iter().map(|s| s.skaffold).collect());
        println!(
            "      {name:<38} {:>6} ms  (Skaffold's wait until `Syncing`: {} ms; sync, reload and app start: {} ms)",
            live.as_millis(),
            skaffold.as_millis(),
            live.saturating_sub(skaffold).as_millis()
        );
        live
    };
    println!("      save-to-live, median of {SAVES} saves each:");
    let slow_live = row("file sync, Skaffold's default 1000 ms", slow);
    row(
        &format!("file sync, skaffold dev -i {FAST_INTERVAL_MS}"),
        fast,
    );
    println!(
        "      {:<38} {:>6} ms  ({:.1}x the sync at the default interval)",
        "rebuild+redeploy (package.json)",
        rebuild.as_millis(),
        rebuild.as_secs_f64() / slow_live.as_secs_f64()
    );
    for line in [
        "Skaffold waits its watch interval after every file event before it syncs: `skaffold dev",
        "-i MS` (`--watch-poll-interval`, SKAFFOLD_WATCH_POLL_INTERVAL), default 1000 ms. Each",
        "event restarts the wait, so it is also a debounce: a change that touches many files over",
        "longer than the interval may become several syncs. Without inotify, Skaffold's poll",
        "fallback polls the files that often.",
    ] {
        println!("      {line}");
    }
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}
