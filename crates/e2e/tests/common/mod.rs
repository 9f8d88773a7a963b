//! What the real-`skaffold dev` suites share (`tests/skaffold_dev.rs`, docker
//! deployer; `tests/skaffold_kubectl.rs`, kubectl deployer on the project's
//! cluster): each example, what a developer does to it, and the case
//! itself. An edit gives Skaffold's own `Syncing 1 files` line, no new
//! build, and the app serves it; a deleted file stops being served; a
//! dependency-manifest change makes Skaffold rebuild and redeploy. The
//! examples with third-party dependencies ([`Deps`]) also show, after
//! every sync and restart, what only their dependencies produce, and
//! their manifest change adds a dependency that the new container serves.
//!
//! Each case prints `save-to-live` lines: the time from the save to the
//! app serving it, split into Skaffold's part (save → its `Syncing` line:
//! its watcher's 1 s poll and debounce) and the rest (`docker exec` or
//! `kubectl exec` of `tar`, our shim, the reload, the app's start-up).

// Each test binary uses part of this module.
#![allow(dead_code)]

mod cases;
mod dependencies;
mod one_batch;

pub(crate) use cases::*;
use dependencies::{added_dependency_files, assert_dependencies_load};
// (Not every test binary uses it.)
#[allow(unused_imports)]
pub(crate) use one_batch::edit_and_delete_in_one_save;
pub(crate) mod port_forward;
pub(crate) mod restart;

use filesync_e2e::builder::Stack;
use filesync_e2e::http::{get, wait_for};
use filesync_e2e::live_line::{self, Figures, Reloaded};
use filesync_e2e::skaffold_dev::{Deployer, Line, Mode, SkaffoldDev};
use std::time::{Duration, Instant, SystemTime};

/// The first build of a `skaffold dev` (builder and run image pulled,
/// every layer made) on a loaded 2-core CI machine.
pub(crate) const FIRST_BUILD: Duration = Duration::from_mins(15);
/// From a save to Skaffold's `Syncing` line (its watcher polls once a
/// second).
pub(crate) const TO_SYNC: Duration = Duration::from_secs(30);

/// One example and what a developer does to it.
pub(crate) struct Case {
    pub example: &'static str,
    pub stack: Stack,
    /// Where the app shows the text the edits change.
    pub page: &'static str,
    pub first: &'static str,
    /// The file a developer edits, and its content for version `i`
    /// with the marker the page then shows.
    pub edit: &'static str,
    pub make: fn(usize) -> (String, String),
    /// A file to delete and the path that serves it.
    pub delete: (&'static str, &'static str),
    /// A dependency manifest: a change must rebuild, not sync.
    pub manifest: &'static str,
    /// The app's reload rebuilds in the container (slower).
    pub rebuilds: bool,
    /// For an example with third-party dependencies: what they show.
    pub deps: Option<Deps>,
}

/// An example's third-party dependencies, seen from its pages.
pub(crate) struct Deps {
    /// On `page` after every sync and restart: text only the installed
    /// dependencies produce (and where the app found them).
    pub shows: &'static [&'static str],
    /// The page that the added dependency serves after the manifest
    /// change, and what only it produces there. The change is the files
    /// of `crates/e2e/fixtures/added-dependency/<example>/`, written in
    /// one save (code first, manifests last).
    pub added_page: &'static str,
    pub added_shows: &'static str,
}

/// A case's medians, in ms, for a suite's closing table.
#[derive(Debug, Clone)]
pub(crate) struct CaseFigures {
    pub label: String,
    /// Save → new content served.
    pub save_to_live: u128,
    /// Skaffold's `Syncing` line → new content served.
    pub sync_to_live: u128,
    /// The live line's own figure (0: nothing to reload).
    pub live_line: u64,
    pub rebuild: u128,
}

/// One whole case: the first build served, edits synced and served (their
/// save-to-live printed), a deletion synced, a manifest change rebuilt.
/// Returns the case's medians.
pub(crate) fn run(case: &Case, mode: Mode, deployer: Deployer) -> CaseFigures {
    let label = label(case, mode, deployer);
    let started = Instant::now();
    let dev = start_served(case, mode, deployer, &label);
    let edits = edits_synced_served(&dev, case, &label);
    deletion_synced(&dev, case, &label);
    let rebuild = manifest_rebuilt(&dev, case, deployer, edits.count + 1, &label);
    eprintln!("case {label}: {} s in all", started.elapsed().as_secs());
    live_line::print_agreement(&label, &edits.figures);
    // One line for scripts/bench-skaffold.sh to tabulate.
    eprintln!(
        "BENCH example={} stack={:?} mode={mode:?} edits={} sync_ms={} skaffold_ms={} ours_ms={} rebuild_ms={rebuild} live_ms={}{}",
        case.example,
        case.stack,
        edits.count,
        edits.total,
        edits.total.saturating_sub(edits.after_sync),
        edits.after_sync,
        edits.live_ms,
        match deployer {
            Deployer::Docker => "",
            Deployer::Kubectl => " deployer=kubectl",
        }
    );
    CaseFigures {
        label,
        save_to_live: edits.total,
        sync_to_live: edits.after_sync,
        live_line: edits.live_ms,
        rebuild,
    }
}

/// The case's name in every message: example, stack, mode and deployer.
fn label(case: &Case, mode: Mode, deployer: Deployer) -> String {
    format!(
        "{} ({:?}, {}{})",
        case.example,
        case.stack,
        match mode {
            Mode::Generated => "generated",
            Mode::Auto => "auto",
        },
        match deployer {
            Deployer::Docker => "",
            Deployer::Kubectl => ", kubectl",
        }
    )
    .to_lowercase()
}

/// `skaffold dev` on the example, its first build and deploy served, and
/// Skaffold watching.
fn start_served(case: &Case, mode: Mode, deployer: Deployer, label: &str) -> SkaffoldDev {
    let started = Instant::now();
    let dev = SkaffoldDev::start_with(case.example, mode, case.stack, deployer)
        .unwrap_or_else(|e| panic!("{label}: {e:#}"));
    let up = dev.wait_up(case.page, FIRST_BUILD, |s, b| {
        s == 200 && b.contains(case.first)
    });
    if let Err(e) = up {
        panic!("{label}: never served {:?}: {e:#}", case.first);
    }
    eprintln!(
        "{label}: first build and deploy served after {} s",
        started.elapsed().as_secs()
    );
    dev.wait_line(0, "Watching for changes", Duration::from_mins(1))
        .unwrap();
    dev
}

/// How long a synced change may take to be served.
fn within(case: &Case) -> Duration {
    if case.rebuilds {
        Duration::from_mins(5)
    } else {
        Duration::from_mins(1)
    }
}

/// The medians of a case's edits, in ms: save to served, Skaffold's
/// `Syncing` line to served, and the live line's figure; each reload's
/// live and HTTP figures.
struct Edits {
    count: usize,
    total: u128,
    after_sync: u128,
    live_ms: u64,
    figures: Vec<Figures>,
}

/// Edits: synced (Skaffold's own line), never rebuilt, and served; the
/// save-to-live median printed.
fn edits_synced_served(dev: &SkaffoldDev, case: &Case, label: &str) -> Edits {
    let mut totals = Vec::new();
    let mut ours = Vec::new();
    let mut figures = Vec::new();
    // FILESYNC_EDITS=N for more edits per case (scripts/bench-skaffold.sh).
    let edits: usize = std::env::var("FILESYNC_EDITS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    for i in 2..=edits + 1 {
        let (content, marker) = (case.make)(i);
        let edit = save_synced_served(
            dev,
            case.edit,
            &content,
            case.page,
            &marker,
            within(case),
            &format!("{label}: edit {i} of {}", case.edit),
        );
        assert_dependencies_load(dev, case, &format!("{label}: after edit {i}"));
        figures.extend(edit.figures);
        let (saved, synced, live) = (edit.saved, edit.synced, edit.live);
        totals.push(live - saved);
        ours.push(live.saturating_duration_since(synced.at));
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2].as_millis()
    };
    let (total, after_sync) = (median(&mut totals), median(&mut ours));
    eprintln!(
        "save-to-live {label}: median of {edits} = {total} ms (Skaffold's watch → `Syncing` line: {} ms; sync, reload and app start: {after_sync} ms)",
        total.saturating_sub(after_sync)
    );
    let live_ms = live_line::print_sync_to_live(label, &figures);
    Edits {
        count: edits,
        total,
        after_sync,
        live_ms,
        figures,
    }
}

/// A deletion is synced and the file stops being served.
fn deletion_synced(dev: &SkaffoldDev, case: &Case, label: &str) {
    let (rel, path) = case.delete;
    assert_eq!(
        get(dev.port, path).map(|r| r.0).ok(),
        Some(200),
        "{label}: {path} is served before it is deleted"
    );
    let mark = dev.mark();
    dev.remove(rel);
    dev.wait_line(mark, "Syncing 1 files", TO_SYNC)
        .unwrap_or_else(|e| panic!("{label}: deleting {rel} not synced: {e:#}"));
    let gone = wait_for(dev.port, path, within(case), |s, _| s == 404);
    assert!(
        gone.is_ok(),
        "{label}: {path} after deleting {rel}: {gone:?}\n{}",
        dev.log()
    );
    assert_dependencies_load(dev, case, &format!("{label}: after deleting {rel}"));
}

/// A dependency manifest: Skaffold rebuilds and redeploys (nothing is
/// synced), and the new container or Pod serves edit `last`. With
/// dependencies, the change adds one (and code using it). Returns the ms
/// from the save to the new version serving.
fn manifest_rebuilt(
    dev: &SkaffoldDev,
    case: &Case,
    deployer: Deployer,
    last: usize,
    label: &str,
) -> u128 {
    let (_, last_marker) = (case.make)(last);
    let mark = dev.mark();
    // (No other case of this process may redeploy or stop meanwhile.)
    let prune = filesync_e2e::skaffold_dev::prune_lock();
    let saved = save_manifest_change(dev, case);
    let building = dev
        .wait_line(mark, "Building [", TO_SYNC)
        .unwrap_or_else(|e| panic!("{label}: {} did not rebuild: {e:#}", case.manifest));
    let deployed = dev
        .wait_line(building.index, "Watching for changes", FIRST_BUILD)
        .unwrap_or_else(|e| panic!("{label}: no redeploy: {e:#}"));
    let served = wait_for(dev.port, case.page, Duration::from_mins(2), |s, b| {
        s == 200 && b.contains(&last_marker)
    });
    assert!(
        served.is_ok(),
        "{label}: not served after the redeploy: {served:?}\n{}",
        dev.log()
    );
    added_dependency_served(dev, case, label);
    drop(prune);
    let synced: Vec<_> = dev
        .lines_from(mark)
        .into_iter()
        .filter(|l| l.contains("Syncing"))
        .collect();
    assert!(
        synced.is_empty(),
        "{label}: {} must not be synced: {synced:?}",
        case.manifest
    );
    let rebuild = saved.elapsed().as_millis();
    eprintln!(
        "rebuild-and-redeploy {label}: {rebuild} ms from saving {} to the new {} serving ({} ms to Skaffold's `Watching` line)",
        case.manifest,
        match deployer {
            Deployer::Docker => "container",
            Deployer::Kubectl => "pod",
        },
        (deployed.at - saved).as_millis()
    );
    rebuild
}

/// Saves the manifest change (the added-dependency fixture's files, or a
/// blank line at the manifest's end); returns when the first was saved.
fn save_manifest_change(dev: &SkaffoldDev, case: &Case) -> Instant {
    if case.deps.is_none() {
        let old = std::fs::read_to_string(dev.ctx().join(case.manifest)).unwrap();
        dev.write(case.manifest, &format!("{old}\n"))
    } else {
        let files = added_dependency_files(case.example);
        let mut saved = None;
        for (rel, content) in &files {
            saved.get_or_insert(dev.write(rel, content));
        }
        saved.expect("an added-dependency fixture has files")
    }
}

/// With dependencies: the one the manifest change added is served, and the
/// others still load.
fn added_dependency_served(dev: &SkaffoldDev, case: &Case, label: &str) {
    let Some(deps) = &case.deps else {
        return;
    };
    let added = wait_for(dev.port, deps.added_page, Duration::from_mins(1), |s, b| {
        s == 200 && b.contains(deps.added_shows)
    });
    assert!(
        added.is_ok(),
        "{label}: the added dependency is not served on {}: {added:?}\n{}",
        deps.added_page,
        dev.log()
    );
    assert_dependencies_load(dev, case, &format!("{label}: after the rebuild"));
}

/// A save that Skaffold synced and the app serves.
// The field names say which event; the shared suffix is the point.
#[allow(clippy::struct_field_names)]
pub(crate) struct Synced {
    pub saved: Instant,
    /// Skaffold's `Syncing 1 files` line.
    pub synced: Line,
    /// When the app first answered `page` with the marker.
    pub live: Instant,
    /// The reload's live line and HTTP figures (none for an app whose
    /// files are served as they are).
    pub figures: Option<Figures>,
}

/// Saves `content` as `rel`, then asserts, waiting on each event, that
/// Skaffold syncs it (`Syncing 1 files` within [`TO_SYNC`]), the app
/// serves `marker` on `page` within `within`, its reload gives exactly
/// one live line (its figure and the HTTP one returned, for
/// [`live_line::print_agreement`]), and Skaffold built no image for it.
/// `what` names the save in failures.
///
/// With the docker deployer the page is polled from the `Syncing` line
/// on (the HTTP figure is then measured independently of the live line);
/// through kubectl's port-forward a connection refused while the app
/// restarts closes the forward (issue 23), so there the suite waits on
/// the live line first and then asks once the page must show the marker.
pub(crate) fn save_synced_served(
    dev: &SkaffoldDev,
    rel: &str,
    content: &str,
    page: &str,
    marker: &str,
    within: Duration,
    what: &str,
) -> Synced {
    let mark = dev.mark();
    let saved = dev.write(rel, content);
    let synced = dev
        .wait_line(mark, "Syncing 1 files", TO_SYNC)
        .unwrap_or_else(|e| panic!("{what}: not synced: {e:#}"));
    let reloaded = |timeout| {
        live_line::wait_reloaded(dev, synced.index, timeout)
            .unwrap_or_else(|e| panic!("{what}: no live line: {e:#}"))
    };
    let polls = dev.project().deployer == Deployer::Docker;
    let early = (!polls).then(|| reloaded(within));
    let served = wait_for(dev.port, page, within, |s, b| {
        s == 200 && b.contains(marker)
    });
    let (live, served_at) = (Instant::now(), SystemTime::now());
    assert!(
        served.is_ok(),
        "{what}: never served: {served:?}\n{}",
        dev.log()
    );
    // Served already: the supervisor's line is due within seconds.
    let after_served = within.min(Duration::from_secs(15));
    let figures = match early.unwrap_or_else(|| reloaded(after_served)) {
        Reloaded::Live(..) => Some(live_line::measure(dev, served_at, what)),
        Reloaded::Nothing => None,
    };
    assert_no_image_build(dev, mark, what);
    // The next save's mark is taken after this reload's lines: a second
    // live line for one save would show in its count.
    if figures.is_some() {
        assert_eq!(
            live_line::count_since(dev, mark),
            1,
            "{what}: one live line per reload\n{}",
            dev.log()
        );
    }
    Synced {
        saved,
        synced,
        live,
        figures,
    }
}

/// Skaffold built no image since output line `mark`: the saves since were
/// synced, not rebuilt.
pub(crate) fn assert_no_image_build(dev: &SkaffoldDev, mark: usize, what: &str) {
    let rebuilt: Vec<_> = dev
        .lines_from(mark)
        .into_iter()
        .filter(|l| l.contains("Building ["))
        .collect();
    assert!(
        rebuilt.is_empty(),
        "{what}: must sync, not rebuild the image: {rebuilt:?}"
    );
}
