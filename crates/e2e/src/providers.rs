//! The test-only provider buildpacks (`crates/e2e/buildpacks/<name>`),
//! staged self-contained: each carries under `vendor/` what its build
//! installs, prepared here on the host (builds have no network, and in a
//! builder image no host paths or tools either).
//!
//! | provider   | `vendor/` payload                                          |
//! |------------|------------------------------------------------------------|
//! | node       | `node/bin/node`, `npm/`: the host's node binary and npm;   |
//! |            | `npm-cache/`: the examples' npm packages                   |
//! | python     | `python/`: [`PYTHON_DEBS`] extracted; `wheels/`: pip and   |
//! |            | the examples' packages from `PyPI`                           |
//! | php        | `php/`: [`PHP_DEBS`] extracted                             |
//! | go         | `go/`: the host's Go toolchain (GOROOT of /usr/local/go);  |
//! |            | `gomodcache/`: the examples' modules                       |
//! | java       | `jdk/`, `jre/`, `maven/`, `m2/repository`: the host's JDK, |
//! |            | a JRE linked from it (no compiler), Maven, and an offline  |
//! |            | Maven repository for the Java examples                     |
//! | static-web | `static-web`: the server, built statically with host Go    |
//! | procfile   | none                                                       |
//!
//! The examples' dependencies come from the real registries, fetched on
//! the host by [`crate::dependencies`].
//!
//! Every staged provider also gets `lib/`: the shell helpers all of them
//! share (`crates/e2e/buildpacks/shared/`, each reproducing a piece of
//! Paketo's Go libraries: source removal globs, shellwords, plan metadata).

use crate::tools::{repo_root, run, work_dir};
use anyhow::{bail, Context};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

mod debs;
mod host;
mod jre;

use debs::{debs, extract};
use host::{check_node_libs, host_goroot, host_node, host_npm, java_homes};
use jre::{link_jre, JRE_MODULES};

/// Debian's Python 3.11 and its libraries, for the `e2e/python` provider.
/// Downloaded once with `apt-get download` into `.work/debs/python`.
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
/// provider. Only the `php` binary is used: the extensions of
/// php8.2-common would be loaded from `/etc/php`, which the layer does not
/// provide, and `php -S` needs none of them.
pub const PHP_DEBS: &[&str] = &[
    "php8.2-cli",
    "libxml2",
    "libicu72",
    "liblzma5",
    "libsodium23",
    "libargon2-1",
];

/// Where the key of a staged provider is recorded, inside it.
const STAMP: &str = ".staged";

/// The helpers every provider sources (`lib/` in the staged provider).
const SHARED: &str = "crates/e2e/buildpacks/shared";

/// The provider buildpack `name`, staged as `.work/providers/<name>/`: a
/// copy of `crates/e2e/buildpacks/<name>/` plus its `vendor/` payload, all
/// readable by everyone (builds run as another user). Cached, keyed by a
/// hash of the buildpack's files and the payload's inputs; restaged when
/// they change. Safe to call from several threads and processes at once.
pub fn stage(name: &str) -> anyhow::Result<PathBuf> {
    // One stager per provider in this process; other processes race
    // through the rename below.
    static LOCKS: Mutex<Option<HashMap<String, Arc<Mutex<()>>>>> = Mutex::new(None);
    let lock = LOCKS
        .lock()
        .unwrap()
        .get_or_insert_with(HashMap::new)
        .entry(name.to_string())
        .or_default()
        .clone();
    let _guard = lock
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);

    let src = repo_root().join("crates/e2e/buildpacks").join(name);
    anyhow::ensure!(
        src.join("buildpack.toml").is_file(),
        "no provider buildpack {}",
        src.display()
    );
    let key = stage_key(name, &src)?;
    let root = work_dir().join("providers");
    let target = root.join(name);
    if staged_key(&target).as_deref() == Some(key.as_str()) {
        return Ok(target);
    }
    std::fs::create_dir_all(&root)?;
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}.tmp-"))
        .tempdir_in(&root)?;
    let dir = tmp.path();
    run(Command::new("cp").arg("-a").arg(src.join(".")).arg(dir))?;
    run(Command::new("cp")
        .arg("-a")
        .arg(repo_root().join(SHARED))
        .arg(dir.join("lib")))?;
    let vendor = dir.join("vendor");
    payload(name, &vendor).with_context(|| format!("staging the {name} provider's payload"))?;
    std::fs::write(dir.join(STAMP), &key)?;
    run(Command::new("chmod").args(["-R", "a+rX"]).arg(dir))?;

    let staged = tmp.keep();
    for _ in 0..5 {
        match std::fs::rename(&staged, &target) {
            Ok(()) => return Ok(target),
            Err(e) => {
                if staged_key(&target).as_deref() == Some(key.as_str()) {
                    // Another process staged the same meanwhile: keep it.
                    std::fs::remove_dir_all(&staged)?;
                    return Ok(target);
                }
                if !target.exists() {
                    let _ = std::fs::remove_dir_all(&staged);
                    return Err(e).context(format!("renaming to {}", target.display()));
                }
                // A stale staging: move it aside, then retry.
                let old = root.join(format!(".{name}.old-{}-{}", std::process::id(), unique()));
                if std::fs::rename(&target, &old).is_ok() {
                    let _ = std::fs::remove_dir_all(&old);
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&staged);
    bail!("could not install {}", target.display())
}

/// The key recorded in a staged provider, if any.
fn staged_key(dir: &Path) -> Option<String> {
    std::fs::read_to_string(dir.join(STAMP)).ok()
}

pub(crate) fn unique() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

/// Hash of the buildpack's files (path, mode, content) and of what its
/// payload is made from.
fn stage_key(name: &str, src: &Path) -> anyhow::Result<String> {
    let mut h = Sha256::new();
    let mut files = Vec::new();
    walk(src, &mut files)?;
    files.sort();
    for f in &files {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::symlink_metadata(f)?;
        h.update(f.strip_prefix(src)?.to_string_lossy().as_bytes());
        h.update([0]);
        h.update(format!("{:o}", meta.permissions().mode()).as_bytes());
        h.update([0]);
        if meta.file_type().is_symlink() {
            h.update(std::fs::read_link(f)?.to_string_lossy().as_bytes());
        } else {
            h.update(std::fs::read(f)?);
        }
        h.update([0]);
    }
    let shared = repo_root().join(SHARED);
    let mut lib = Vec::new();
    walk(&shared, &mut lib)?;
    lib.sort();
    h.update(b"lib\0");
    for f in &lib {
        h.update(f.strip_prefix(&shared)?.to_string_lossy().as_bytes());
        h.update([0]);
        h.update(std::fs::read(f)?);
        h.update([0]);
    }
    h.update(b"payload\0");
    h.update(payload_inputs(name)?.as_bytes());
    h.update(b"dependencies\0");
    h.update(crate::dependencies::key(name)?.as_bytes());
    Ok(format!("{:x}", h.finalize()))
}

/// Every file (and symlink) under `dir`.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if std::fs::symlink_metadata(&path)?.is_dir() {
            walk(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// Path, size and modification time of `path`: enough to notice a changed
/// host tool without hashing hundreds of megabytes.
fn fingerprint(path: &Path) -> anyhow::Result<String> {
    let meta = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
    let mtime = meta
        .modified()?
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    Ok(format!("{} {} {mtime}\n", path.display(), meta.len()))
}

/// What a provider's payload is made from, as text for its key.
fn payload_inputs(name: &str) -> anyhow::Result<String> {
    Ok(match name {
        "node" => format!(
            "{}{}",
            fingerprint(&host_node()?)?,
            fingerprint(&host_npm()?.join("package.json"))?
        ),
        "python" => PYTHON_DEBS.join("\n"),
        "php" => PHP_DEBS.join("\n"),
        "go" | "static-web" => {
            let goroot = host_goroot()?;
            format!(
                "{}{}",
                fingerprint(&goroot.join("VERSION"))?,
                fingerprint(&goroot.join("bin/go"))?
            )
        }
        "java" => {
            let (java_home, maven_home) = java_homes()?;
            format!(
                "{}{}{}jre {}\n",
                fingerprint(&java_home.join("release"))?,
                fingerprint(&java_home.join("lib/modules"))?,
                fingerprint(&maven_home.join("bin/mvn"))?,
                JRE_MODULES.join(",")
            )
        }
        _ => String::new(),
    })
}

/// Fills `vendor` (not yet existing) with provider `name`'s payload.
fn payload(name: &str, vendor: &Path) -> anyhow::Result<()> {
    match name {
        "node" => {
            let node = host_node()?;
            check_node_libs(&node)?;
            std::fs::create_dir_all(vendor.join("node/bin"))?;
            std::fs::copy(&node, vendor.join("node/bin/node"))?;
            copy_dereferenced(&host_npm()?, &create(&vendor.join("npm"))?, &[])?;
            copy_dependencies(name, "npm-cache", vendor)?;
        }
        "python" => {
            extract(&debs("python", PYTHON_DEBS)?, &vendor.join("python"))?;
            copy_dependencies(name, "wheels", vendor)?;
        }
        "php" => extract(&debs("php", PHP_DEBS)?, &vendor.join("php"))?,
        "go" => {
            let goroot = host_goroot()?;
            std::fs::create_dir_all(vendor)?;
            run(Command::new("cp")
                .arg("-a")
                .arg(&goroot)
                .arg(vendor.join("go")))?;
            for d in ["test", "doc", "api"] {
                let p = vendor.join("go").join(d);
                if p.exists() {
                    std::fs::remove_dir_all(p)?;
                }
            }
            copy_dependencies(name, "gomodcache", vendor)?;
        }
        "static-web" => {
            std::fs::create_dir_all(vendor)?;
            let tmp = tempfile::tempdir()?;
            let src = repo_root().join("crates/e2e/buildpacks/static-web/src/main.go");
            std::fs::copy(src, tmp.path().join("main.go"))?;
            std::fs::write(tmp.path().join("go.mod"), "module static-web\n\ngo 1.22\n")?;
            for d in ["cache", "path"] {
                std::fs::create_dir(tmp.path().join(d))?;
            }
            let out = vendor.join("static-web");
            let res = run(Command::new(host_goroot()?.join("bin/go"))
                .args(["build", "-trimpath", "-o"])
                .arg(&out)
                .arg(".")
                .env("GOTOOLCHAIN", "local")
                .env("CGO_ENABLED", "0")
                .env("GOFLAGS", "-buildvcs=false")
                .env("GOCACHE", tmp.path().join("cache"))
                .env("GOPATH", tmp.path().join("path"))
                .current_dir(tmp.path()));
            // The module cache is read-only; let the temp dir go.
            let _ = Command::new("chmod")
                .args(["-R", "u+w"])
                .arg(tmp.path())
                .status();
            res?;
        }
        "java" => {
            let (java_home, maven_home) = java_homes()?;
            for d in ["jdk", "maven", "m2"] {
                std::fs::create_dir_all(vendor.join(d))?;
            }
            // Dereference Debian's symlinks into /etc; its src.zip link
            // dangles. The jmods only serve jlink, below.
            copy_dereferenced(
                &java_home,
                &vendor.join("jdk"),
                &["./lib/src.zip", "./jmods"],
            )?;
            link_jre(&java_home, &vendor.join("jre"))?;
            copy_dereferenced(&maven_home, &vendor.join("maven"), &[])?;
            copy_dependencies(name, "m2/repository", vendor)?;
        }
        "procfile" => {}
        other => bail!("unknown provider {other}"),
    }
    Ok(())
}

/// `tar --dereference` of `from` into `to`.
fn copy_dereferenced(from: &Path, to: &Path, exclude: &[&str]) -> anyhow::Result<()> {
    let mut pack = Command::new("tar");
    pack.arg("-C").arg(from).arg("--dereference");
    for e in exclude {
        pack.arg(format!("--exclude={e}"));
    }
    pack.args(["-cf", "-", "."])
        .stdout(std::process::Stdio::piped());
    let mut child = pack.spawn().context("starting tar")?;
    let stdout = child.stdout.take().unwrap();
    let unpacked = Command::new("tar")
        .arg("-C")
        .arg(to)
        .arg("-xf")
        .arg("-")
        .stdin(stdout)
        .status()?;
    let packed = child.wait()?;
    anyhow::ensure!(
        packed.success() && unpacked.success(),
        "copying {} to {}: tar {packed} / {unpacked}",
        from.display(),
        to.display()
    );
    Ok(())
}

/// Copies `rel` of the provider's fetched dependencies
/// ([`crate::dependencies::fetch`]) to `vendor/rel`.
fn copy_dependencies(name: &str, rel: &str, vendor: &Path) -> anyhow::Result<()> {
    let from = crate::dependencies::fetch(name)?.join(rel);
    let to = vendor.join(rel);
    std::fs::create_dir_all(to.parent().unwrap_or(vendor))?;
    run(Command::new("cp").arg("-a").arg(&from).arg(&to))?;
    Ok(())
}

/// `dir`, created.
fn create(dir: &Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    Ok(dir.to_path_buf())
}
