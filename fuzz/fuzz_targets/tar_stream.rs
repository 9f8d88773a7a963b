//! The tar shim's extraction on arbitrary streams: never panics, and when
//! it fails it leaves the target exactly as it was (two-phase extraction);
//! when it succeeds nothing was written outside the target.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fn listing(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            out.push(p.strip_prefix(root).unwrap().display().to_string());
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                stack.push(p);
            }
        }
    }
    out.sort();
    out
}

fuzz_target!(|data: &[u8]| {
    let outer = tempfile::tempdir().unwrap();
    let target = outer.path().join("target");
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("existing"), "keep").unwrap();
    let before = listing(outer.path());
    match filesync_runtime::tar_shim::extract(data, &target) {
        Err(_) => {
            assert_eq!(listing(outer.path()), before, "a failed extraction changed files");
            assert_eq!(std::fs::read_to_string(target.join("existing")).unwrap(), "keep");
        }
        Ok(_) => {
            for p in listing(outer.path()) {
                assert!(p == "target" || p.starts_with("target/"), "wrote outside the target: {p}");
            }
        }
    }
});
