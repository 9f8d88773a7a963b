//! The Markdown report of a run (BENCHMARKS.md): the figures, and the
//! issue's targets judged on them.

use crate::figures::{ms, Burst, Idle, SaveToLive, Sizes};
use crate::measure::Change;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

#[derive(Default)]
pub(crate) struct Report {
    pub cold_start: Duration,
    pub save_to_live: Vec<(&'static str, Change, SaveToLive)>,
    pub burst: Vec<(&'static str, Burst)>,
    pub idle: Vec<(&'static str, Idle, u64)>,
    pub sizes: Option<Sizes>,
}

fn cmd_out(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_string()
        })
        .unwrap_or_default()
}

fn ratio(a: f64, b: f64) -> String {
    if b <= 0.0 {
        "—".into()
    } else {
        format!("{:.2}×", a / b)
    }
}

/// The title, how to reproduce, and the machine and versions of this run.
fn machine(runs: usize, filesync: &Path, watchexec: &Path) -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    let mut s = String::from("# Benchmarks: filesync vs watchexec\n\n");
    s += "Reproduce with `scripts/bench.sh` (builds the release binaries, installs watchexec with \
          `cargo install watchexec-cli --locked` into `.work/tools`, runs `filesync-bench`). Same Node.js HTTP app, \
          same changes, same machine, one run. watchexec is run the way Paketo's live reload runs it \
          (`--restart --shell none --watch APP`, ignoring node_modules and the manifests), and once more with \
          `--debounce 0` (its default waits 50 ms for more events; ours waits only on a plain write, the shim \
          saying when a sync's batch is complete).\n\n";
    s += &format!(
        "Machine: {} cores, {cpu}, Linux {}. node {}, {}, filesync {}. {runs} runs per figure.\n\n",
        std::thread::available_parallelism().map_or(0, std::num::NonZero::get),
        cmd_out("uname", &["-r"]),
        cmd_out("node", &["--version"]),
        cmd_out(watchexec.to_str().unwrap(), &["--version"]),
        cmd_out(filesync.to_str().unwrap(), &["--version"]),
    );
    s
}

impl Report {
    /// The whole report: the machine, each measurement's table, the targets.
    pub(crate) fn markdown(
        &self,
        runs: usize,
        idle_seconds: u64,
        filesync: &Path,
        watchexec: &Path,
    ) -> String {
        let mut s = machine(runs, filesync, watchexec);
        let cold = ms(self.cold_start);
        s += &format!(
            "App cold start (node, spawn → first response), measured alone before the runs: median **{cold:.1} ms**.\n\n"
        );
        s += &self.save_to_live_table();
        s += &self.burst_table();
        s += &self.idle_table(idle_seconds);
        s += &self.size_table();
        s += &self.targets();
        s
    }

    fn save_to_live_table(&self) -> String {
        let mut s = String::new();
        s += "## Save-to-live\n\n*Save-to-live*: from the moment the sync command (or write) starts to the first HTTP \
              response with the new content. *Overhead*: what the supervisor adds before the app's own start — from \
              the moment the change starts to the `performance.timeOrigin` of the node process that then serves it, \
              minus the same interval when node is spawned directly (measured by a cold start of the same app paired \
              with every run: spawn → first response, and spawn → timeOrigin). The *paired difference* (save-to-live \
              median minus paired cold-start median) is shown as a cross-check; node's own start-up varies by tens \
              of ms from run to run, so it is noisy and can come out negative.\n\n";
        s += "| change | tool | save-to-live median | p90 | paired cold start | change → new process (median) | node spawn → timeOrigin | **overhead** | paired difference |\n|---|---|---|---|---|---|---|---|---|\n";
        for how in [Change::TarSync, Change::PlainWrite] {
            for tool in ["filesync", "watchexec", "watchexec --debounce 0"] {
                if let Some(r) = self.run(tool, how) {
                    s += &format!(
                        "| {} | {tool} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | **{:.1} ms** | {:.1} ms |\n",
                        how.name(),
                        ms(r.live.median()),
                        ms(r.live.p90()),
                        ms(r.cold.median()),
                        ms(r.to_process.median()),
                        ms(r.node_init.median()),
                        r.overhead_ms(),
                        r.paired_difference_ms(),
                    );
                }
            }
            for anchor in ["watchexec", "watchexec --debounce 0"] {
                if let (Some(o), Some(w)) = (self.run("filesync", how), self.run(anchor, how)) {
                    s += &format!(
                        "| {} | ratio ours/{anchor} | {} | | | | | **{}** | |\n",
                        how.name(),
                        ratio(ms(o.live.median()), ms(w.live.median())),
                        ratio(o.overhead_ms(), w.overhead_ms()),
                    );
                }
            }
        }
        s
    }

    fn burst_table(&self) -> String {
        let mut s = String::new();
        s += "\n## Burst: a 2,000-file sync\n\n| | restarts | time to the new version |\n|---|---|---|\n";
        for (name, b) in &self.burst {
            s += &format!(
                "| {name} | {} | {:.0} ms |\n",
                b.restarts,
                ms(b.to_new_version)
            );
        }
        s
    }

    fn idle_table(&self, idle_seconds: u64) -> String {
        let mut s = String::new();
        s += &format!(
            "\n## Idle with a 100,000-file node_modules\n\nThe supervisor process only (not the app), over {idle_seconds} s idle.\n\n\
             | | CPU | CPU per minute | peak RSS | inotify watches | start-up (to first response) |\n|---|---|---|---|---|---|\n"
        );
        for (name, i, secs) in &self.idle {
            s += &format!(
                "| {name} | {:.3} s | {:.4} s | {:.1} MB | {} | {:.0} ms |\n",
                i.cpu.as_secs_f64(),
                i.cpu.as_secs_f64() * 60.0 / *secs as f64,
                i.peak_rss_kb as f64 / 1024.0,
                i.watches,
                ms(i.startup)
            );
        }
        s
    }

    fn size_table(&self) -> String {
        let mut s = String::new();
        if let Some(z) = &self.sizes {
            s += &format!(
                "\n## Size\n\n| | bytes |\n|---|---|\n| filesync runtime binary (static, as packaged) | {} |\n",
                z.filesync
            );
            match &z.layers {
                Ok(layers) => {
                    for l in layers {
                        s += &format!(
                            "| image layer `{}` of a Node.js dev image (tar, as the container gets it; gzip'd, as a registry stores it) | {} ({} gzip'd) |\n",
                            l.name, l.tar, l.compressed
                        );
                    }
                }
                Err(e) => {
                    s += &format!(
                        "| image bytes the buildpack adds | not measured: {} |\n",
                        e.lines().next().unwrap_or_default()
                    );
                }
            }
            s += &format!(
                "| watchexec binary (dynamic, for reference) | {} |\n",
                z.watchexec
            );
        }
        s
    }

    fn run(&self, tool: &str, how: Change) -> Option<&SaveToLive> {
        self.save_to_live
            .iter()
            .find(|(n, h, _)| *n == tool && *h == how)
            .map(|(_, _, r)| r)
    }

    /// The issue's targets, judged on this run's figures.
    fn targets(&self) -> String {
        let verdict = |ok: bool| if ok { "met" } else { "**missed**" };
        let mut s = String::from(
            "\n## Against the targets (this run)\n\n| target | measured | |\n|---|---|---|\n",
        );
        if let (Some(o), Some(w)) = (
            self.run("filesync", Change::TarSync),
            self.run("watchexec", Change::TarSync),
        ) {
            let (oo, wo) = (o.overhead_ms(), w.overhead_ms());
            let r = if wo > 0.0 { oo / wo } else { f64::INFINITY };
            s += &format!(
                "| save-to-live overhead (tar-sync, excl. cold start) median ≤ 10 ms and ≤ 0.25× watchexec | {oo:.1} ms, {} watchexec ({wo:.1} ms); paired difference {:.1} ms vs {:.1} ms | {} |\n",
                ratio(oo, wo),
                o.paired_difference_ms(),
                w.paired_difference_ms(),
                verdict(oo <= 10.0 && r <= 0.25)
            );
        }
        let restarts = |n: &str| {
            self.burst
                .iter()
                .find(|(t, _)| *t == n)
                .map(|(_, b)| b.restarts)
        };
        if let (Some(o), Some(w)) = (restarts("filesync"), restarts("watchexec")) {
            s += &format!(
                "| burst: exactly 1 restart | {o} (watchexec: {w}) | {} |\n",
                verdict(o == 1)
            );
        }
        if let Some((_, i, secs)) = self.idle.iter().find(|(n, _, _)| *n == "filesync") {
            let per_min = i.cpu.as_secs_f64() * 60.0 / *secs as f64;
            let mb = i.peak_rss_kb as f64 / 1024.0;
            s += &format!(
                "| idle CPU ≤ 0.01 s/min, RSS ≤ 8 MB, no watches on node_modules | {per_min:.4} s/min, {mb:.1} MB, {} watches (none in node_modules) | {} |\n",
                i.watches,
                verdict(per_min <= 0.01 && mb <= 8.0 && i.watches < 10)
            );
        }
        if let Some(Ok(layers)) = self.sizes.as_ref().map(|z| &z.layers) {
            let added: u64 = layers.iter().map(|l| l.tar).sum();
            s += &format!(
                "| image bytes added ≤ 5 MB | {:.2} MB ({} layer(s), measured in a dev image's layer tar) | {} |\n",
                added as f64 / 1e6,
                layers.len(),
                verdict(added <= 5_000_000)
            );
        }
        s
    }
}
