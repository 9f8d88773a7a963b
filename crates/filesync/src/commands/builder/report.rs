//! What `filesync builder` tells the user once pack has made NEW: what was
//! kept, which sync modes NEW supports, what `--auto` costs, and the
//! `builder:` line for skaffold.yaml.

use super::labels::BuilderLabels;
use std::fmt::Write;

/// What a build on a lifecycle that offers only Platform API ≤ 0.8 goes
/// without, read from the Platform API gates of lifecycle v0.21.17
/// (`cmd/lifecycle/*.go`, `phase/*.go`, `launch/*.go`: `AtLeast("0.9")` …
/// `AtLeast("0.15")`). Buildpack-provided SBOM layers (`/layers/sbom`) are
/// exported from 0.8 on, so they are kept.
pub(super) const AUTO_COSTS: &[&str] = &[
    "SOURCE_DATE_EPOCH is ignored: image timestamps are the fixed 1980 date (0.9)",
    "no image extensions: Dockerfiles that extend the build or run image do not run (0.10)",
    "no SBOM of the lifecycle and launcher themselves in the image, no /cnb/build-config env (0.11)",
    "no run.toml [[images]] or target-aware (os/arch/distro) detection, no layer history, no run image name and mirrors in io.buildpacks.lifecycle.metadata (0.12)",
    "no --insecure-registry for the phases (0.13), no system buildpacks or CNB_EXEC_ENV (0.15)",
    "the legacy BOM of every buildpack goes into the io.buildpacks.build.metadata label (0.9 moved it out because labels grew too large)",
];

pub(super) struct Summary<'a> {
    pub from: &'a str,
    pub new: &'a str,
    pub labels: &'a BuilderLabels,
    /// The Platform APIs NEW's lifecycle offers.
    pub platform_apis: &'a [String],
    /// The newest of them, which pack and Skaffold will use.
    pub newest_platform: &'a str,
    pub auto: bool,
    pub published: bool,
}

impl Summary<'_> {
    pub(super) fn to_text(&self) -> String {
        let mut out = String::new();
        let l = self.labels;
        let _ = writeln!(
            out,
            "\nfilesync builder: made {} from {}",
            self.new, self.from
        );
        let _ = writeln!(
            out,
            "  kept: {} buildpacks, {} order groups (skaffold-filesync added optional and last to each), build image and build user of {}, lifecycle {}",
            l.buildpacks.len(),
            l.order.len(),
            self.from,
            l.lifecycle.version
        );
        let runs: Vec<&str> = l.run_images.iter().map(|r| r.image.as_str()).collect();
        let _ = writeln!(out, "  run images: {}", runs.join(", "));
        let _ = writeln!(
            out,
            "  Platform APIs offered: {} (builds use {})",
            self.platform_apis.join(", "),
            self.newest_platform
        );
        out.push_str("sync modes:\n");
        out.push_str("  generated rules: yes — `filesync skaffold --write` adds sync.manual rules and a dev profile to skaffold.yaml (works with every Platform API)\n");
        if self.auto {
            out.push_str("  Skaffold's auto sync: yes — a skaffold.yaml with no sync block and no profile syncs: the builds' Platform API (<= 0.8) puts the devmode.sync BOM in the label Skaffold reads\n");
            out.push_str(
                "--auto costs (what Platform API 0.9 and later add, missing from these builds):\n",
            );
            for cost in AUTO_COSTS {
                let _ = writeln!(out, "  - {cost}");
            }
        } else {
            let _ = writeln!(
                out,
                "  Skaffold's auto sync: no — with Platform API {} the lifecycle puts no BOM in the label Skaffold reads (0.8 or older needed); derive with --auto for it",
                self.newest_platform
            );
        }
        if !self.published {
            let _ = writeln!(
                out,
                "note: {} is in the local Docker daemon only. `skaffold dev` pulls the builder on its first build: push it (`docker push {}`) or derive with --publish",
                self.new, self.new
            );
        }
        out.push_str("In skaffold.yaml, under build.artifacts[].buildpacks (with `trustBuilder: true`, so pack runs the lifecycle in one container):\n");
        let _ = writeln!(out, "builder: {}", self.new);
        out
    }
}
