//! A save that does not compile, under the real `skaffold dev` (Skaffold
//! v2.24.0's CLI, the docker deployer, the example's generated profile):
//! Skaffold syncs it like any edit (`Syncing 1 files`, no new build), the
//! supervisor's rebuild in the container fails with the compiler's error
//! in the container's log (which Skaffold prints), the old version keeps
//! serving, and the next good save is served. For the compiled examples:
//! Go on the tiny stack (`go build`), Java on base (`mvn -o package`).

// Required due to: https://github.com/rust-lang/rust/issues/95513
#![allow(unused_crate_dependencies)]
// A panic in a test is its failure, carrying its message.
#![allow(clippy::unwrap_used)]

mod common;

use common::{assert_no_image_build, save_synced_served, Case, FIRST_BUILD, GO, JAVA, TO_SYNC};
use filesync_e2e::http::get;
use filesync_e2e::skaffold_dev::{Mode, SkaffoldDev};
use std::time::Duration;

/// How long a rebuild in the container may take on a loaded machine.
const REBUILD: Duration = Duration::from_mins(5);

/// `bad` is a version of `case.edit` that does not compile; `error` a
/// piece of the compiler's message for it.
fn compile_error_keeps_the_old_version(case: &Case, bad: &str, error: &str) {
    let label = format!("{} ({:?})", case.example, case.stack).to_lowercase();
    let dev = SkaffoldDev::start(case.example, Mode::Generated, case.stack)
        .unwrap_or_else(|e| panic!("{label}: {e:#}"));
    if let Err(e) = dev.wait_up(case.page, FIRST_BUILD, |s, b| {
        s == 200 && b.contains(case.first)
    }) {
        panic!("{label}: never served {:?}: {e:#}", case.first);
    }
    dev.wait_line(0, "Watching for changes", Duration::from_mins(1))
        .unwrap_or_else(|e| panic!("{label}: {e:#}"));

    // The broken save: synced, not rebuilt by Skaffold; the compiler's
    // error, then the supervisor's verdict, in the container's log.
    let mark = dev.mark();
    dev.write(case.edit, bad);
    let synced = dev
        .wait_line(mark, "Syncing 1 files", TO_SYNC)
        .unwrap_or_else(|e| panic!("{label}: the broken save was not synced: {e:#}"));
    let shown = dev
        .wait_line(mark, error, REBUILD)
        .unwrap_or_else(|e| panic!("{label}: no compiler error {error:?}: {e:#}"));
    assert!(
        shown.text.contains("[filesync] build:"),
        "{label}: the compiler's error comes through the supervisor's build log: {:?}",
        shown.text
    );
    let failed = dev
        .wait_line(shown.index, "rebuild failed", REBUILD)
        .unwrap_or_else(|e| panic!("{label}: no failed rebuild reported: {e:#}"));
    assert!(
        failed.text.contains("the previous version keeps running"),
        "{label}: {:?}",
        failed.text
    );
    eprintln!(
        "{label}: failed rebuild reported {} ms after Skaffold's sync; the error: {}",
        (failed.at - synced.at).as_millis(),
        shown.text
    );
    // Asked after the failure was reported: the old version answers.
    let old = get(dev.port, case.page);
    assert!(
        old.as_ref()
            .is_ok_and(|(s, b)| *s == 200 && b.contains(case.first)),
        "{label}: the old version must keep serving after the failed rebuild: {old:?}\n{}",
        dev.log()
    );

    // The fix: synced and served.
    let (good, marker) = (case.make)(2);
    let fix = save_synced_served(
        &dev,
        case.edit,
        &good,
        case.page,
        &marker,
        REBUILD,
        &format!("{label}: the fix"),
    );
    eprintln!(
        "{label}: the fix served {} ms after Skaffold's sync (rebuild in the container and restart)",
        (fix.live - fix.synced.at).as_millis()
    );
    // Neither the broken save nor the fix built an image.
    assert_no_image_build(&dev, mark, &format!("{label}: source edits"));
}

mod skaffold_compile_error {
    use super::*;

    #[test]
    fn go_on_tiny() {
        compile_error_keeps_the_old_version(
            &GO,
            "package main\n\nfunc message() string { return oops }\n",
            "undefined: oops",
        );
    }

    #[test]
    fn java_on_base() {
        compile_error_keeps_the_old_version(
            &JAVA,
            "package example;\n\nfinal class Message {\n  static final String TEXT = oops;\n\n  private Message() {}\n}\n",
            "cannot find symbol",
        );
    }
}
