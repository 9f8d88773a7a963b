//! `filesync builder` run as a developer runs it, and its refusals read.

use filesync_e2e::docker::Docker;
use filesync_e2e::release::Release;
use filesync_e2e::tools::{filesync_bin, work_dir};
use std::ffi::OsString;
use std::process::{Command, Output};

/// `filesync builder ARGS…` with the harness's pack (`.work/bin`) first
/// on PATH, or with `path` as the whole PATH.
pub(super) fn filesync_builder(args: &[&str], path: Option<&str>) -> Output {
    let home = tempfile::tempdir().unwrap();
    let path: OsString = if let Some(p) = path {
        p.into()
    } else {
        let mut dirs = vec![work_dir().join("bin")];
        dirs.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        std::env::join_paths(dirs).unwrap()
    };
    Command::new(filesync_bin())
        .arg("builder")
        .args(args)
        .env("PATH", path)
        .env("HOME", home.path())
        .env("DOCKER_HOST", &Docker::get().host)
        .output()
        .unwrap()
}

pub(super) fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The refusal's text: exit status 2, one paragraph on stderr.
pub(super) fn refusal(out: &Output) -> String {
    let (stdout, stderr) = text(out);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    let error = stderr
        .lines()
        .find(|l| l.starts_with("filesync: error: "))
        .unwrap_or_else(|| panic!("no error line: {stderr}"))
        .to_string();
    assert!(
        error.contains(". Why: ") && error.contains(". Fix: "),
        "what, why and fix in one paragraph: {error}"
    );
    error
}

pub(super) fn cnb() -> String {
    Release::get().cnb().display().to_string()
}
