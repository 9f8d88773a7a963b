//! Inputs of the test-only provider buildpacks that the harness prepares
//! on the host (no network inside builds).

use crate::tools::{run, work_dir};
use std::path::PathBuf;
use std::process::Command;

/// Debian's Python 3.11 and its libraries, for the `e2e/python` provider
/// (passed to it as the platform env `E2E_PYTHON_DEBS`). Downloaded once
/// with `apt-get download` into `.work/debs/python`.
pub const PYTHON_DEBS: &[&str] = &[
    "python3.11-minimal",
    "libpython3.11-minimal",
    "libpython3.11-stdlib",
    "libexpat1",
    "libffi8",
    "libbz2-1.0",
    "liblzma5",
    "libsqlite3-0",
    "libncursesw6",
    "libtinfo6",
    "libreadline8",
    "libuuid1",
    "libdb5.3",
    "libgdbm6",
    "libnsl2",
    "libtirpc3",
    "libcrypt1",
    "media-types",
];

pub fn python_debs() -> anyhow::Result<PathBuf> {
    let dir = work_dir().join("debs/python");
    let done = dir.join(".complete");
    if !done.exists() {
        std::fs::create_dir_all(&dir)?;
        let mut cmd = Command::new("apt-get");
        cmd.arg("download")
            .arg("-qq")
            .args(PYTHON_DEBS)
            .current_dir(&dir);
        if run(&mut cmd).is_err() {
            run(Command::new("apt-get").args(["update", "-qq"]))?;
            run(&mut cmd)?;
        }
        std::fs::write(&done, "")?;
    }
    Ok(dir)
}
