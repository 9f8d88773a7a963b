//! Benchmarks the filesync supervisor against watchexec — the anchor both
//! Paketo (`BP_LIVE_RELOAD_ENABLED`) and Google's devmode use — on the same
//! Node.js HTTP app and the same changes, on this machine, in one run:
//!
//! - save-to-live: sync command start → first HTTP response with the new
//!   content (median, p90), by Skaffold's tar path (our shim / the real
//!   GNU tar) and by a plain file write; also minus the app's cold start;
//! - burst: a 2,000-file sync: restarts, time to the new version;
//! - idle with a 100,000-file `node_modules`: CPU, peak RSS, inotify watches,
//!   start-up time;
//! - size: the runtime binary and the bytes the buildpack adds to an image.
//!
//! Run with `scripts/bench.sh` (builds everything, installs watchexec).

// A benchmark harness: a panic here ends the run with its message.
#![allow(clippy::unwrap_used)]

mod figures;
mod measure;
mod proc_stats;
mod report;

use anyhow::{bail, Context};
use figures::{ms, Sizes};
use measure::{App, Change, Tool};
use report::Report;
use std::path::{Path, PathBuf};
use std::time::Duration;

struct Args {
    runs: usize,
    idle_seconds: u64,
    out: PathBuf,
    filesync: PathBuf,
    watchexec: PathBuf,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut a = Args {
        runs: 30,
        idle_seconds: 60,
        out: PathBuf::from("BENCHMARKS.md"),
        filesync: PathBuf::from("target/x86_64-unknown-linux-gnu/release/filesync-runtime"),
        watchexec: PathBuf::from(".work/tools/bin/watchexec"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--runs" => a.runs = val()?.parse()?,
            "--idle-seconds" => a.idle_seconds = val()?.parse()?,
            "--out" => a.out = val()?.into(),
            "--filesync" => a.filesync = val()?.into(),
            "--watchexec" => a.watchexec = val()?.into(),
            other => bail!("unknown argument {other}; see scripts/bench.sh"),
        }
    }
    for p in [&a.filesync, &a.watchexec] {
        anyhow::ensure!(
            p.is_file(),
            "{} not found: run scripts/bench.sh",
            p.display()
        );
    }
    Ok(a)
}

fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let work = tempfile::Builder::new()
        .prefix("filesync-bench-")
        .tempdir()?;
    let ours = Tool::Ours(args.filesync.canonicalize()?);
    let anchor = Tool::Watchexec(args.watchexec.canonicalize()?);
    let undebounced = Tool::WatchexecNoDebounce(args.watchexec.canonicalize()?);
    let mut report = Report::default();

    eprintln!("==> app cold start (node, {} runs)", args.runs.min(15));
    let app = App::create(&work.path().join("cold"))?;
    let cold = app.cold_start(args.runs.min(15))?;
    report.cold_start = cold.median();
    eprintln!("    median {:.1} ms", ms(cold.median()));

    save_to_live_and_burst(
        work.path(),
        [&ours, &anchor, &undebounced],
        args.runs,
        &mut report,
    )?;
    idle(
        work.path(),
        [&ours, &anchor],
        args.idle_seconds,
        &mut report,
    )?;

    report.sizes = Some(sizes(&args.filesync, &args.watchexec)?);
    let md = report.markdown(
        args.runs,
        args.idle_seconds,
        &args.filesync,
        &args.watchexec,
    );
    println!("{md}");
    // Keep what follows this harness's part: the section
    // scripts/bench-skaffold.sh writes and those after it (measured under
    // the real `skaffold dev`, not by this harness).
    let kept = std::fs::read_to_string(&args.out)
        .ok()
        .and_then(|old| {
            let start = old.find("<!-- skaffold-dev:begin")?;
            Some(format!("\n{}", &old[start..]))
        })
        .unwrap_or_default();
    let md = md + &kept;
    std::fs::write(&args.out, &md).with_context(|| format!("writing {}", args.out.display()))?;
    eprintln!("==> wrote {}", args.out.display());
    Ok(())
}

/// Save-to-live by each kind of change, then the 2,000-file burst, for
/// each tool.
fn save_to_live_and_burst(
    work: &Path,
    tools: [&Tool; 3],
    runs: usize,
    report: &mut Report,
) -> anyhow::Result<()> {
    for tool in tools {
        for how in [Change::TarSync, Change::PlainWrite] {
            eprintln!(
                "==> save-to-live: {} via {} ({} runs)",
                tool.name(),
                how.name(),
                runs
            );
            let app = App::create(&work.join(format!(
                "s2l-{}-{}",
                tool.name().replace([' ', '-'], ""),
                how.name()
            )))?;
            let r = app.save_to_live(tool, how, runs)?;
            eprintln!(
                "    median {:.1} ms, p90 {:.1} ms; change -> new process {:.1} ms, node spawn -> timeOrigin {:.1} ms: \
                 overhead {:.1} ms (paired difference {:.1} ms)",
                ms(r.live.median()),
                ms(r.live.p90()),
                ms(r.to_process.median()),
                ms(r.node_init.median()),
                r.overhead_ms(),
                r.paired_difference_ms()
            );
            report.save_to_live.push((tool.name(), how, r));
        }
        eprintln!("==> burst: {} with a 2,000-file sync", tool.name());
        let app = App::create(&work.join(format!("burst-{}", tool.name())))?;
        let b = app.burst(tool, 2000)?;
        eprintln!(
            "    {} restart(s), new version after {:.0} ms",
            b.restarts,
            ms(b.to_new_version)
        );
        report.burst.push((tool.name(), b));
    }
    Ok(())
}

/// Each tool idle over a 100,000-file `node_modules`.
fn idle(
    work: &Path,
    tools: [&Tool; 2],
    idle_seconds: u64,
    report: &mut Report,
) -> anyhow::Result<()> {
    eprintln!("==> creating a 100,000-file node_modules");
    let idle_app = App::create(&work.join("idle"))?;
    idle_app.node_modules(100_000)?;
    for tool in tools {
        eprintln!("==> idle: {} for {} s", tool.name(), idle_seconds);
        let i = idle_app.idle(tool, Duration::from_secs(idle_seconds))?;
        eprintln!(
            "    cpu {:.3} s, peak RSS {:.1} MB, {} inotify watches, start-up {:.0} ms",
            i.cpu.as_secs_f64(),
            i.peak_rss_kb as f64 / 1024.0,
            i.watches,
            ms(i.startup)
        );
        report.idle.push((tool.name(), i, idle_seconds));
    }
    Ok(())
}

fn sizes(filesync: &Path, watchexec: &Path) -> anyhow::Result<Sizes> {
    eprintln!("==> image bytes: a dev image of a Node.js app, built by the real lifecycle");
    let layers = dev_image_layers().map_err(|e| format!("{e:#}"));
    match &layers {
        Ok(l) => eprintln!(
            "    {}",
            l.iter()
                .map(|b| format!("{}: {} bytes ({} gzip'd)", b.name, b.tar, b.compressed))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Err(e) => eprintln!("    not measured: {e}"),
    }
    Ok(Sizes {
        filesync: std::fs::metadata(filesync)?.len(),
        watchexec: std::fs::metadata(watchexec)?.len(),
        layers,
    })
}

/// What skaffold-filesync adds to a dev image: the layers of its own a
/// lifecycle build of the rule engine's Node.js fixture (with the test
/// suite's Procfile provider, as `crates/e2e/tests/lifecycle_buildpack.rs`
/// builds it) exports, measured in the image.
fn dev_image_layers() -> anyhow::Result<Vec<filesync_e2e::image::LayerBytes>> {
    use filesync_e2e::lifecycle::{BuildSpec, Harness};
    let spec = BuildSpec::new("crates/rules/tests/fixtures/node-npm").devmode();
    let out = Harness::get().build(&spec)?;
    let image = out
        .image
        .with_context(|| format!("the build failed:\n{}", out.log))?;
    let dir = tempfile::tempdir()?;
    image.layer_bytes("skaffold-filesync", dir.path())
}
