//! The real client: `skaffold dev` (Skaffold v2.24.0's CLI, the docker
//! deployer) builds each example with pack v0.40.6 and lifecycle v0.21.17
//! on a builder made by `pack builder create` from Paketo-shaped stacks
//! (build user 1001, run user 1002), runs it in the private Docker Engine,
//! and syncs a developer's edits. Each case waits on Skaffold's own output
//! (`Syncing 1 files`, `Building [`) and on the app's answers through the
//! port Skaffold publishes on 127.0.0.1.
//!
//! Two modes per example: `generated` (the example's skaffold.yaml as
//! shipped, rules from `filesync skaffold --write`, newest Platform API)
//! and `auto` (no sync block; Skaffold's auto sync reads the BOM from the
//! label of an image built with Platform API 0.8).
//!
//! Each case prints `save-to-live` lines: the time from the save to the
//! app serving it, split into Skaffold's part (save → its `Syncing` line:
//! its watcher's 1 s poll and debounce) and the rest (`docker exec tar`,
//! our shim, the reload, the app's start-up). The cases and their steps
//! are in tests/common (shared with the kubectl-deployer suite).

// Required due to: https://github.com/rust-lang/rust/issues/95513
#![allow(unused_crate_dependencies)]
// A panic in a test is its failure, carrying its message.
#![allow(clippy::unwrap_used)]

mod common;

use filesync_e2e::skaffold_dev::{Deployer, Mode};

mod skaffold_dev {
    use super::common::{
        edit_and_delete_in_one_save, run, GO, GO_MODULES, JAVA, JAVA_SPRING_BOOT, NODE,
        NODE_EXPRESS, PHP, PYTHON, PYTHON_FLASK, STATIC,
    };
    use super::*;

    /// One save that edits a file and deletes another. Skaffold copies,
    /// then deletes (`tar`, then `rm`, in one batch); the docker deployer
    /// runs no sync hooks, so the app may restart after each — at most
    /// twice — and must end on the final files: the last start (read from
    /// the app's own start record, not from our log) saw the file deleted.
    #[test]
    fn node_edit_and_delete_in_one_save_ends_on_the_final_files() {
        let restarts = edit_and_delete_in_one_save(Deployer::Docker);
        assert!(
            (1..=2).contains(&restarts),
            "at most two restarts for one save"
        );
    }

    /// Bad input to the suite gets one line naming it, not a page of
    /// Skaffold's output: a builder or run image that the registry lacks.
    #[test]
    fn a_missing_builder_or_run_image_is_named_in_one_line() {
        let registry = filesync_e2e::builder::Builders::get().registry();
        for (what, reference) in [
            ("builder", format!("{registry}/no-such-builder:latest")),
            ("run image", format!("{registry}/stack/no-such-run:latest")),
        ] {
            let e = filesync_e2e::skaffold_dev::require_in_registry(&reference, what)
                .expect_err("a missing image is an error")
                .to_string();
            assert_eq!(e.lines().count(), 1, "one line: {e}");
            assert!(
                e.contains(&reference) && e.contains(what) && e.contains("not in the registry"),
                "names the {what}: {e}"
            );
        }
    }

    /// Skaffold's watch interval lowered as the user guide suggests
    /// (`skaffold dev -i 100`): saves are still synced, not rebuilt, and
    /// served; the save-to-live and Skaffold's part are printed, to set
    /// beside the default interval's (`node_generated`).
    #[test]
    fn node_with_the_watch_interval_lowered_to_100_ms() {
        use super::common::{save_synced_served, FIRST_BUILD};
        use filesync_e2e::builder::Stack;
        use filesync_e2e::skaffold_dev::{Project, SkaffoldDev};
        use std::time::Duration;
        let project = Project::new("node", Mode::Generated, Stack::Base, Deployer::Docker)
            .unwrap_or_else(|e| panic!("{e:#}"));
        let dev = SkaffoldDev::dev_with(project, &["-i", "100"]).unwrap();
        dev.wait_up("/", FIRST_BUILD, |s, b| {
            s == 200 && b.contains("Node.js v1")
        })
        .unwrap_or_else(|e| panic!("never served v1: {e:#}"));
        dev.wait_line(0, "Watching for changes", Duration::from_mins(1))
            .unwrap();
        for v in 2..=4 {
            let s = save_synced_served(
                &dev,
                "lib/message.js",
                &format!("module.exports = \"Hello from Node.js v{v}\";\n"),
                "/",
                &format!("Node.js v{v}"),
                Duration::from_secs(30),
                &format!("save {v} at -i 100"),
            );
            eprintln!(
                "save-to-live at -i 100: {} ms (Skaffold's part: {} ms)",
                s.live.duration_since(s.saved).as_millis(),
                s.synced.at.saturating_duration_since(s.saved).as_millis()
            );
            if let Some(f) = s.figures {
                eprintln!(
                    "sync-to-live at -i 100: {} ms (HTTP {} ms)",
                    f.live_ms, f.http_ms
                );
            }
        }
    }

    #[test]
    fn node_generated() {
        run(&NODE, Mode::Generated, Deployer::Docker);
    }
    #[test]
    fn node_auto() {
        run(&NODE, Mode::Auto, Deployer::Docker);
    }
    #[test]
    fn python_generated() {
        run(&PYTHON, Mode::Generated, Deployer::Docker);
    }
    #[test]
    fn python_auto() {
        run(&PYTHON, Mode::Auto, Deployer::Docker);
    }
    #[test]
    fn php_generated() {
        run(&PHP, Mode::Generated, Deployer::Docker);
    }
    #[test]
    fn php_auto() {
        run(&PHP, Mode::Auto, Deployer::Docker);
    }
    #[test]
    fn static_generated() {
        run(&STATIC, Mode::Generated, Deployer::Docker);
    }
    #[test]
    fn static_auto() {
        run(&STATIC, Mode::Auto, Deployer::Docker);
    }
    #[test]
    fn go_on_tiny_generated() {
        run(&GO, Mode::Generated, Deployer::Docker);
    }
    #[test]
    fn go_on_tiny_auto() {
        run(&GO, Mode::Auto, Deployer::Docker);
    }
    #[test]
    fn java_generated() {
        run(&JAVA, Mode::Generated, Deployer::Docker);
    }
    #[test]
    fn java_auto() {
        run(&JAVA, Mode::Auto, Deployer::Docker);
    }

    // The examples with third-party dependencies (generated rules only:
    // the auto mode's path is the same for every family, and each of
    // these costs a first build with its dependencies).
    #[test]
    fn node_express_generated() {
        run(&NODE_EXPRESS, Mode::Generated, Deployer::Docker);
    }
    #[test]
    fn python_flask_generated() {
        run(&PYTHON_FLASK, Mode::Generated, Deployer::Docker);
    }
    #[test]
    fn go_modules_on_tiny_generated() {
        run(&GO_MODULES, Mode::Generated, Deployer::Docker);
    }
    #[test]
    fn java_spring_boot_generated() {
        run(&JAVA_SPRING_BOOT, Mode::Generated, Deployer::Docker);
    }
}
