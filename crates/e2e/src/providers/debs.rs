//! Debian packages the python and php providers carry, downloaded once
//! with `apt-get download` and extracted into their `vendor/`.

use super::unique;
use crate::tools::{run, work_dir};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Downloads `packages` with `apt-get download` into `.work/debs/<name>`,
/// once per package list (a changed list downloads afresh).
pub(super) fn debs(name: &str, packages: &[&str]) -> anyhow::Result<PathBuf> {
    let dir = work_dir().join("debs").join(name);
    let done = dir.join(".complete");
    let want = packages.join("\n");
    if std::fs::read_to_string(&done).ok().as_deref() == Some(want.as_str()) {
        return Ok(dir);
    }
    std::fs::create_dir_all(work_dir().join("debs"))?;
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}.tmp-"))
        .tempdir_in(work_dir().join("debs"))?;
    let mut cmd = Command::new("apt-get");
    cmd.arg("download")
        .arg("-qq")
        .args(packages)
        .current_dir(tmp.path());
    if run(&mut cmd).is_err() {
        run(Command::new("apt-get").args(["update", "-qq"]))?;
        run(&mut cmd)?;
    }
    std::fs::write(tmp.path().join(".complete"), &want)?;
    let fresh = tmp.keep();
    if dir.exists() && std::fs::read_to_string(&done).ok().as_deref() != Some(want.as_str()) {
        let old = work_dir().join("debs").join(format!(
            ".{name}.old-{}-{}",
            std::process::id(),
            unique()
        ));
        if std::fs::rename(&dir, &old).is_ok() {
            let _ = std::fs::remove_dir_all(&old);
        }
    }
    if std::fs::rename(&fresh, &dir).is_err() {
        let _ = std::fs::remove_dir_all(&fresh);
        anyhow::ensure!(
            std::fs::read_to_string(&done).ok().as_deref() == Some(want.as_str()),
            "could not install {}",
            dir.display()
        );
    }
    Ok(dir)
}

/// Extracts every `.deb` in `debs` into `to` with `dpkg-deb -x`.
pub(super) fn extract(debs: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    let mut found = 0;
    let mut entries: Vec<PathBuf> = std::fs::read_dir(debs)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for deb in entries
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "deb"))
    {
        run(Command::new("dpkg-deb").arg("-x").arg(deb).arg(to))?;
        found += 1;
    }
    anyhow::ensure!(found > 0, "no .deb in {}", debs.display());
    Ok(())
}
