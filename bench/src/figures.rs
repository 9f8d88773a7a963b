//! The figures a run collects, and their medians and percentiles.

use std::time::Duration;

/// `d` in milliseconds.
pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[derive(Default)]
pub(crate) struct Samples(pub Vec<Duration>);

/// One tool's save-to-live runs for one kind of change.
#[derive(Default)]
pub(crate) struct SaveToLive {
    /// Change start → first response with the new content.
    pub live: Samples,
    /// Change start → `performance.timeOrigin` of the app process serving it.
    pub to_process: Samples,
    /// Paired cold starts (spawn → first response), one after each run.
    pub cold: Samples,
    /// Paired: spawn → `performance.timeOrigin` when node is started directly.
    pub node_init: Samples,
}

impl SaveToLive {
    /// What the tool adds before the app's own start: change start → the
    /// new process's timeOrigin, minus node's own spawn → timeOrigin.
    pub(crate) fn overhead_ms(&self) -> f64 {
        (ms(self.to_process.median()) - ms(self.node_init.median())).max(0.0)
    }

    /// Cross-check: save-to-live median minus paired cold-start median
    /// (noisy: node's start-up varies by tens of ms run to run).
    pub(crate) fn paired_difference_ms(&self) -> f64 {
        ms(self.live.median()) - ms(self.cold.median())
    }
}

impl Samples {
    fn sorted(&self) -> Vec<Duration> {
        let mut v = self.0.clone();
        v.sort();
        v
    }
    pub(crate) fn median(&self) -> Duration {
        let v = self.sorted();
        v.get(v.len() / 2).copied().unwrap_or_default()
    }
    pub(crate) fn p90(&self) -> Duration {
        let v = self.sorted();
        v.get((v.len() * 9 / 10).min(v.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    }
}

pub(crate) struct Burst {
    pub restarts: usize,
    pub to_new_version: Duration,
}

pub(crate) struct Idle {
    pub cpu: Duration,
    pub peak_rss_kb: u64,
    pub watches: usize,
    pub startup: Duration,
}

pub(crate) struct Sizes {
    pub filesync: u64,
    pub watchexec: u64,
    /// The layers the buildpack adds to a dev image of a Node.js app, read
    /// from an image built by the real lifecycle; the error when that
    /// build could not run.
    pub layers: Result<Vec<filesync_e2e::image::LayerBytes>, String>,
}
