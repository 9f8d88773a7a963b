//! The examples with third-party dependencies: the files their
//! added-dependency fixture writes, and the check that what only the
//! dependencies produce is still served.

use super::Case;
use filesync_e2e::http::wait_for;
use filesync_e2e::skaffold_dev::SkaffoldDev;
use std::time::Duration;

/// Manifests and lockfiles among a fixture's files: written last.
const MANIFESTS: &[&str] = &[
    "package.json",
    "package-lock.json",
    "requirements.txt",
    "pom.xml",
    "go.mod",
    "go.sum",
];

/// The files of the example's added-dependency fixture (path relative to
/// the fixture, content), code first and manifests last.
pub(super) fn added_dependency_files(example: &str) -> Vec<(String, String)> {
    let root = filesync_e2e::tools::repo_root()
        .join(filesync_e2e::dependencies::ADDED_DEPENDENCY)
        .join(example);
    let mut files = Vec::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                let rel = path
                    .strip_prefix(&root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                files.push((rel, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    let is_manifest = |rel: &str| MANIFESTS.iter().any(|m| rel.rsplit('/').next() == Some(m));
    files.sort_by_key(|(rel, _)| (is_manifest(rel), rel.clone()));
    files
}

/// Fails unless `page`'s next successful answer shows everything the
/// dependencies produce (waiting for it: a deletion may be restarting the
/// app).
pub(super) fn assert_dependencies_load(dev: &SkaffoldDev, case: &Case, what: &str) {
    let Some(deps) = &case.deps else {
        return;
    };
    let answer = std::cell::RefCell::new(String::new());
    let answered = wait_for(dev.port, case.page, Duration::from_mins(1), |s, b| {
        *answer.borrow_mut() = b.to_string();
        s == 200
    });
    assert!(
        answered.is_ok(),
        "{what}: {} does not answer: {answered:?}\n{}",
        case.page,
        dev.log()
    );
    let body = answer.into_inner();
    for want in deps.shows {
        assert!(
            body.contains(want),
            "{what}: the dependencies no longer load: {:?} lacks {want:?}\n{}",
            body,
            dev.log()
        );
    }
}
