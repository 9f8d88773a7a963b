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

/// Debian's PHP 8.2 CLI and the libraries it links that the base run
/// image lacks (libssl, zlib and libpcre2 it has), for the `e2e/php`
/// provider (platform env `E2E_PHP_DEBS`). Only the `php` binary is used:
/// the extensions of php8.2-common would be loaded from `/etc/php`, which
/// the layer does not provide, and `php -S` needs none of them.
pub const PHP_DEBS: &[&str] = &[
    "php8.2-cli",
    "libxml2",
    "libicu72",
    "liblzma5",
    "libsodium23",
    "libargon2-1",
];

pub fn python_debs() -> anyhow::Result<PathBuf> {
    debs("python", PYTHON_DEBS)
}

pub fn php_debs() -> anyhow::Result<PathBuf> {
    debs("php", PHP_DEBS)
}

/// Downloads `packages` with `apt-get download` into `.work/debs/<name>`,
/// once per package list (a changed list downloads afresh).
fn debs(name: &str, packages: &[&str]) -> anyhow::Result<PathBuf> {
    let dir = work_dir().join("debs").join(name);
    let done = dir.join(".complete");
    let want = packages.join("\n");
    if std::fs::read_to_string(&done).ok().as_deref() != Some(want.as_str()) {
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(&dir)?;
        let mut cmd = Command::new("apt-get");
        cmd.arg("download")
            .arg("-qq")
            .args(packages)
            .current_dir(&dir);
        if run(&mut cmd).is_err() {
            run(Command::new("apt-get").args(["update", "-qq"]))?;
            run(&mut cmd)?;
        }
        std::fs::write(&done, want)?;
    }
    Ok(dir)
}

/// Inputs of the `e2e/java` provider (platform env `E2E_JAVA_INPUTS`): the
/// host's JDK and Maven (their homes, in `java_home`/`maven_home`) and an
/// offline Maven repository holding what `mvn package` of `project` needs,
/// filled once from Maven Central into `.work/java/<pom hash>/m2`.
pub fn java_inputs(project: &std::path::Path) -> anyhow::Result<PathBuf> {
    use anyhow::Context;
    let pom = std::fs::read(project.join("pom.xml")).context("reading pom.xml")?;
    let hash = pom.iter().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100000001b3)
    });
    let dir = work_dir().join(format!("java/{hash:016x}"));
    let done = dir.join(".complete");
    if done.exists() {
        return Ok(dir);
    }
    let java = std::fs::canonicalize(crate::tools::tool("java"))?;
    let java_home = java
        .parent()
        .and_then(|bin| bin.parent())
        .context("JAVA_HOME of the host's java")?;
    let mvn = std::fs::canonicalize(crate::tools::tool("mvn"))?;
    let maven_home = mvn
        .parent()
        .and_then(|bin| bin.parent())
        .context("home of the host's mvn")?;
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("m2"))?;
    std::fs::write(dir.join("java_home"), java_home.to_str().unwrap())?;
    std::fs::write(dir.join("maven_home"), maven_home.to_str().unwrap())?;
    // A throwaway copy: the build must not leave target/ in the example.
    let scratch = tempfile::tempdir()?;
    std::fs::copy(project.join("pom.xml"), scratch.path().join("pom.xml"))?;
    run(Command::new("cp")
        .arg("-a")
        .arg(project.join("src"))
        .arg(scratch.path()))?;
    run(Command::new(&mvn)
        .args(["-q", "-B", "package", "-DskipTests"])
        .arg(format!(
            "-Dmaven.repo.local={}",
            dir.join("m2/repository").display()
        ))
        .env("JAVA_HOME", java_home)
        .current_dir(scratch.path()))?;
    std::fs::write(&done, "")?;
    Ok(dir)
}
