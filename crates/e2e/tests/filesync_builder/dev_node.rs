//! The real `skaffold dev` on examples/node with a derived builder.

use crate::common::{save_synced_served, FIRST_BUILD, NODE};
use filesync_e2e::skaffold_dev::{Deployer, Mode, Project, SkaffoldDev};
use std::time::{Duration, Instant};

/// `skaffold dev` on examples/node with `builder`: the first build
/// served, then two edits synced (no image build) and served.
pub(super) fn dev_node(builder: &str, mode: Mode, deployer: Deployer, label: &str) {
    let project = Project::with_builder(NODE.example, mode, builder, deployer)
        .unwrap_or_else(|e| panic!("{label}: {e:#}"));
    if mode == Mode::Auto {
        let yaml = std::fs::read_to_string(project.ctx().join("skaffold.yaml")).unwrap();
        let doc: serde_norway::Value = serde_norway::from_str(&yaml).unwrap();
        let artifacts = doc["build"]["artifacts"].as_sequence().unwrap();
        assert!(
            artifacts.iter().all(|a| a.get("sync").is_none()) && doc.get("profiles").is_none(),
            "{label}: no sync block, no profile:\n{yaml}"
        );
    }
    let started = Instant::now();
    let dev = SkaffoldDev::dev(project).unwrap_or_else(|e| panic!("{label}: {e:#}"));
    dev.wait_up(NODE.page, FIRST_BUILD, |s, b| {
        s == 200 && b.contains(NODE.first)
    })
    .unwrap_or_else(|e| panic!("{label}: never served: {e:#}"));
    eprintln!(
        "{label}: first build served after {:.0?}",
        started.elapsed()
    );
    dev.wait_line(0, "Watching for changes", Duration::from_mins(1))
        .unwrap_or_else(|e| panic!("{label}: {e:#}"));
    for i in 2..=3 {
        let (content, marker) = (NODE.make)(i);
        let s = save_synced_served(
            &dev,
            NODE.edit,
            &content,
            NODE.page,
            &marker,
            Duration::from_mins(1),
            &format!("{label}: edit {i}"),
        );
        eprintln!(
            "save-to-live {label}: edit {i}: {} ms (to Skaffold's `Syncing` line: {} ms)",
            (s.live - s.saved).as_millis(),
            (s.synced.at - s.saved).as_millis()
        );
    }
}
