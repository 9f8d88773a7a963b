//! The README's main job: the real `skaffold dev` (Skaffold v2.24.0, docker
//! deployer) on `examples/node`, built by pack and the CNB lifecycle on a
//! builder shaped like Paketo's with skaffold-filesync in it. It saves an
//! edit and shows Skaffold's own `Syncing 1 files` line and the app
//! reloading in place, then changes `package.json` and shows the rebuild
//! and redeploy that sync replaces, with both times side by side.

use filesync_e2e::builder::Stack;
use filesync_e2e::http::{get, wait_for};
use filesync_e2e::skaffold_dev::{Mode, SkaffoldDev};
use std::time::{Duration, Instant};

fn step(n: u32, text: &str) {
    println!("\n[{n}/5] {text}");
}

/// Prints Skaffold's lines from `from` on that match `keep`.
fn show(dev: &SkaffoldDev, from: usize, keep: impl Fn(&str) -> bool) {
    for line in dev.lines_from(from).iter().filter(|l| keep(l)) {
        println!("      skaffold | {line}");
    }
}

fn main() -> anyhow::Result<()> {
    anyhow::ensure!(
        is_root(),
        "the demo starts a private Docker Engine (scripts/docker.sh): run it as root"
    );
    let total = Instant::now();
    step(
        1,
        "making the builders: `pack builder create` from lifecycle v0.21.17, skaffold-filesync and \
         Paketo-shaped stacks (build user 1001, run user 1002), published to a registry on 127.0.0.1",
    );
    let t = Instant::now();
    let builder = filesync_e2e::builder::Builders::get()
        .builder(Stack::Base, filesync_e2e::builder::Platform::Current);
    println!(
        "      {builder} ready in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    step(
        2,
        "`skaffold dev` on a copy of examples/node (first build: pull the builder, detect, build, export, deploy)",
    );
    let t = Instant::now();
    let dev = SkaffoldDev::start("node", Mode::Generated, Stack::Base)?;
    println!("      context: {}", dev.ctx().display());
    let shown = std::cell::Cell::new(0);
    let up = wait_for(dev.port, "/", Duration::from_secs(900), |s, b| {
        // Progress while it builds: Skaffold's and the buildpacks' headlines.
        let now = dev.mark();
        if now > shown.get() {
            show(&dev, shown.get(), |l| {
                l.contains("===>")
                    || l.contains("[skaffold-filesync]") && !l.contains("  ")
                    || l.starts_with("Build [")
                    || l.contains("Forwarding container port")
            });
            shown.set(now);
        }
        s == 200 && b.contains("v1")
    });
    if let Err(e) = up {
        anyhow::bail!("the app never came up: {e}\n{}", dev.log());
    }
    let watching = dev.wait_line(0, "Watching for changes", Duration::from_secs(60))?;
    show(&dev, shown.get(), |l| {
        l.contains("Forwarding") || l.contains("[filesync]")
    });
    println!(
        "      GET http://127.0.0.1:{}/ -> {:?} ({:.1} s)",
        dev.port,
        get(dev.port, "/")?.1.trim(),
        t.elapsed().as_secs_f64()
    );

    step(
        3,
        "saving lib/message.js: Skaffold syncs it into the container, the app reloads in place",
    );
    let mark = dev.mark().max(watching.index + 1);
    let saved = dev.write(
        "lib/message.js",
        "module.exports = \"Hello from Node.js v2, synced by skaffold-filesync\";\n",
    );
    let synced = dev.wait_line(mark, "Syncing 1 files", Duration::from_secs(30))?;
    wait_for(dev.port, "/", Duration::from_secs(60), |s, b| {
        s == 200 && b.contains("v2")
    })
    .map_err(|e| anyhow::anyhow!("the edit never showed: {e}\n{}", dev.log()))?;
    let sync_live = saved.elapsed();
    let after_sync = synced.at.elapsed();
    // The supervisor's log line comes through Skaffold's log stream.
    let _ = dev.wait_line(mark, "[filesync] sync:", Duration::from_secs(10));
    show(&dev, synced.index, |l| {
        l.contains("Syncing") || l.contains("[filesync]") || l.contains("listening")
    });
    println!(
        "      GET http://127.0.0.1:{}/ -> {:?}",
        dev.port,
        get(dev.port, "/")?.1.trim()
    );

    step(
        4,
        "changing package.json: a dependency manifest is never synced, Skaffold rebuilds and redeploys",
    );
    let mark = dev.mark();
    let manifest = dev.ctx().join("package.json");
    let old = std::fs::read_to_string(&manifest)?;
    let saved = dev.write("package.json", &format!("{old}\n"));
    let building = dev.wait_line(mark, "Building [", Duration::from_secs(30))?;
    dev.wait_line(
        building.index,
        "Watching for changes",
        Duration::from_secs(900),
    )?;
    wait_for(dev.port, "/", Duration::from_secs(120), |s, b| {
        s == 200 && b.contains("v2")
    })
    .map_err(|e| anyhow::anyhow!("not served after the redeploy: {e}\n{}", dev.log()))?;
    let rebuild_live = saved.elapsed();
    show(&dev, mark, |l| {
        l.starts_with("Building [")
            || l.starts_with("Build [")
            || l.starts_with("Starting deploy")
            || l.contains("Forwarding")
    });

    step(5, "side by side");
    println!(
        "      save-to-live with file sync:        {:>6} ms  (Skaffold's watcher until its `Syncing` line: {} ms; \
         sync, reload and app start: {} ms)",
        sync_live.as_millis(),
        sync_live.saturating_sub(after_sync).as_millis(),
        after_sync.as_millis()
    );
    println!(
        "      save-to-live with rebuild+redeploy: {:>6} ms  ({:.1}x the sync)",
        rebuild_live.as_millis(),
        rebuild_live.as_secs_f64() / sync_live.as_secs_f64()
    );
    println!("      whole demo: {:.0} s", total.elapsed().as_secs_f64());
    Ok(())
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
