//! An edit and a deletion in one save: one batch through the shims.

use super::{FIRST_BUILD, TO_SYNC};
use filesync_e2e::builder::Stack;
use filesync_e2e::http::{get, wait_for};
use filesync_e2e::skaffold_dev::{Deployer, Mode, SkaffoldDev};
use std::time::Duration;

/// One save of the node example that edits `lib/message.js` and deletes
/// `public/contact.html`: Skaffold syncs both in one batch (`Syncing 2
/// files`: `tar`, then `rm`, then — kubectl deployer only — the after-sync
/// hook). Waits until the app's own start record (`/starts`: one line per
/// start, with the files of public/ it found) ends with a start that saw
/// the file deleted, checks the edit is served and the file is not, and
/// returns how many times the app restarted for the save.
pub(crate) fn edit_and_delete_in_one_save(deployer: Deployer) -> usize {
    let dev = SkaffoldDev::start_with("node", Mode::Generated, Stack::Base, deployer)
        .unwrap_or_else(|e| panic!("{e:#}"));
    if let Err(e) = dev.wait_up("/", FIRST_BUILD, |s, b| {
        s == 200 && b.contains("Node.js v1")
    }) {
        panic!("never served v1: {e:#}");
    }
    dev.wait_line(0, "Watching for changes", Duration::from_mins(1))
        .unwrap();
    let starts = || get(dev.port, "/starts").map(|r| r.1).unwrap_or_default();
    let before = starts().lines().count();
    assert_eq!(before, 1, "one start so far: {}", starts());

    let mark = dev.mark();
    dev.write(
        "lib/message.js",
        "module.exports = \"Hello from Node.js, edited and deleted\";\n",
    );
    dev.remove("public/contact.html");
    let synced = dev
        .wait_line(mark, "Syncing 2 files", TO_SYNC)
        .unwrap_or_else(|e| panic!("one batch of 2 files: {e:#}\n{}", dev.log()));
    dev.wait_line(synced.index, "Watching for changes", TO_SYNC)
        .unwrap_or_else(|e| panic!("{e:#}\n{}", dev.log()));
    let settled = wait_for(dev.port, "/starts", Duration::from_secs(30), |s, b| {
        s == 200
            && b.lines()
                .last()
                .is_some_and(|l| l.contains("public=about.html") && !l.contains("contact"))
    });
    assert!(
        settled.is_ok(),
        "the last start must see contact.html deleted: {settled:?}\n{}",
        dev.log()
    );
    let record = starts();
    let restarts = record.lines().count() - before;
    eprintln!(
        "edit+delete in one save ({deployer:?} deployer): {restarts} restart(s); starts:\n{record}"
    );
    assert!(get(dev.port, "/").unwrap().1.contains("edited and deleted"));
    assert_eq!(get(dev.port, "/static/contact.html").unwrap().0, 404);
    restarts
}
