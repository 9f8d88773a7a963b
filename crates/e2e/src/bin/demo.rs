//! The README's main job: build the Node.js example with the real CNB
//! lifecycle and skaffold-filesync (as `skaffold dev` would: GOOGLE_DEVMODE=1),
//! run it as a real OCI container (runc), change a file, sync it exactly the
//! way Skaffold does, and show the app serving the change — with timings.

use filesync_e2e::container::Container;
use filesync_e2e::http::{get, wait_for};
use filesync_e2e::skaffold_sync::{rules_of, sync, Decision};
use filesync_e2e::tools::repo_root;
use filesync_e2e::{BuildSpec, Harness};
use std::time::{Duration, Instant};

fn step(n: u32, text: &str) {
    println!("\n[{n}/6] {text}");
}

fn main() -> anyhow::Result<()> {
    anyhow::ensure!(
        nix_is_root(),
        "the demo runs containers with runc and builds as an unprivileged user: run it as root"
    );
    let total = Instant::now();
    step(
        1,
        "copying examples/node to a scratch dir (the Skaffold context you edit)",
    );
    let ctx = tempfile::Builder::new()
        .prefix("filesync-demo-")
        .tempdir()?;
    std::process::Command::new("cp")
        .arg("-a")
        .arg(repo_root().join("examples/node/."))
        .arg(ctx.path())
        .status()?;
    println!("      {}", ctx.path().display());

    step(2, "building the image: CNB lifecycle v0.21.17 + skaffold-filesync, GOOGLE_DEVMODE=1, pushed to a registry on 127.0.0.1");
    let t = Instant::now();
    let harness = Harness::get();
    let spec = BuildSpec::new(ctx.path())
        .devmode()
        .provider(filesync_e2e::providers::stage("node")?);
    let out = harness.build(&spec)?;
    let image = out
        .image
        .ok_or_else(|| anyhow::anyhow!("build failed:\n{}", out.log))?;
    for line in out
        .log
        .lines()
        .filter(|l| l.contains("[skaffold-filesync]") && !l.contains("  "))
    {
        println!("      {line}");
    }
    println!(
        "      built {} in {:.1} s",
        image.reference,
        t.elapsed().as_secs_f64()
    );
    let rules = rules_of(&image.labels()?);
    println!("      {} sync rule(s) in the image", rules.len());

    step(3, "running it with runc as its default process (the filesync supervisor around `node server.js`)");
    let c = Container::start(&image, &[])?;
    let up = wait_for(c.port, "/", Duration::from_secs(60), |s, b| {
        s == 200 && b.contains("v1")
    })
    .map_err(|e| anyhow::anyhow!("the app did not come up: {e}\n{}", c.logs()))?;
    println!(
        "      GET http://127.0.0.1:{}/ -> {:?} (up in {} ms)",
        c.port,
        get(c.port, "/")?.1.trim(),
        up.as_millis()
    );

    step(4, "editing lib/message.js");
    std::fs::write(
        ctx.path().join("lib/message.js"),
        "module.exports = \"Hello from Node.js v2, synced by skaffold-filesync\";\n",
    )?;

    step(
        5,
        "syncing like Skaffold: match the rules, `tar xmf - -C / --no-same-owner` in the container",
    );
    let t = Instant::now();
    let decision = sync(&c, ctx.path(), &rules, &["lib/message.js"], &[])?;
    anyhow::ensure!(
        matches!(decision, Decision::Synced(_)),
        "expected a sync, got {decision:?}"
    );
    wait_for(c.port, "/", Duration::from_secs(30), |s, b| {
        s == 200 && b.contains("v2")
    })
    .map_err(|e| anyhow::anyhow!("the change never showed: {e}\n{}", c.logs()))?;
    let save_to_live = t.elapsed();

    step(6, "the app reloaded in place");
    println!(
        "      GET http://127.0.0.1:{}/ -> {:?}",
        c.port,
        get(c.port, "/")?.1.trim()
    );
    println!("      container log:");
    for line in c.logs().lines() {
        println!("        {line}");
    }
    println!(
        "\nsave-to-live: {} ms (sync start to first response with the new content); whole demo {:.1} s",
        save_to_live.as_millis(),
        total.elapsed().as_secs_f64()
    );
    let d = sync(&c, ctx.path(), &rules, &["package.json"], &[])?;
    println!(
        "and a change to package.json is not synced: Skaffold would {}",
        if d == Decision::Rebuild {
            "rebuild the image"
        } else {
            "sync it (unexpected!)"
        }
    );
    Ok(())
}

fn nix_is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}
