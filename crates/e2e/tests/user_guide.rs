//! docs/user-guide.md, exercised. Every fenced block of the guide carries a
//! `<!-- check: KIND … -->` comment on the line before it saying how it is
//! exercised, and this file makes that true:
//!
//! - `run in=DIR`: run in bash, in document order, in a scratch directory
//!   (`in=checkout`: the repository; `in=app`: a copy of `examples/node`;
//!   any other name: a directory of that name in the scratch area), with
//!   `~` a scratch home and only the substitutions of [`Walk::substitute`]
//!   and [`builder_toml`];
//! - `builder.toml in=DIR` and `skaffold.yaml in=DIR`: written into DIR for
//!   the blocks that follow; the skaffold.yaml is validated by the real
//!   Skaffold (`skaffold diagnose`, which refuses unknown fields and bad
//!   profile patches) before and after `filesync skaffold --write`;
//! - `skaffold-fragment`: a `build:` fragment, validated by Skaffold;
//! - `skaffold-profile`: the example of the generated profile: Skaffold
//!   validates it with the profile active, and it must have the shape
//!   `filesync skaffold --write` actually wrote (only `src` may differ);
//! - `tested-by FILE::TEST…`: tests that run the same commands; each must
//!   exist (`#[test] fn TEST` in FILE);
//! - `script FILE`: each command of the block is run by that script (its
//!   words, in order, on one line of it, with extra flags allowed);
//! - `output`: text a command prints, not a command.
//!
//! A block without a valid marker fails the check, naming its line. The
//! guide must also name the workspace version in its file names, every
//! `BP_FILESYNC_*`/`FILESYNC_*` variable the code reads and every option of
//! `filesync supervise --help`, so that neither the code nor the guide can
//! change without the other.
//!
//! `every_block_says_how_it_is_checked` needs no daemon and runs in seconds;
//! `the_guide_runs_from_install_to_an_inspected_dev_image` runs the guide
//! for real (scripts/release.sh, `pack builder create` from the guide's
//! builder.toml, Skaffold, a published dev build with pack, `filesync
//! inspect` of it) against the private Docker Engine and a registry on
//! 127.0.0.1.

// Required due to: https://github.com/rust-lang/rust/issues/95513
#![allow(unused_crate_dependencies)]
// A panic in a test is its failure, carrying its message.
#![allow(clippy::unwrap_used)]

use filesync_e2e::builder::Builders;
use filesync_e2e::docker::Docker;
use filesync_e2e::tools::{filesync_bin, repo_root, run, tool, work_dir};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const GUIDE: &str = "docs/user-guide.md";

/// A fenced block of the guide.
#[derive(Debug, Clone)]
struct Block {
    /// 1-based line of the opening fence.
    line: usize,
    lang: String,
    text: String,
    marker: Marker,
}

/// What the `<!-- check: … -->` comment before a block says.
#[derive(Debug, Clone, PartialEq)]
enum Marker {
    Run { dir: String },
    BuilderToml { dir: String },
    SkaffoldYaml { dir: String },
    SkaffoldFragment,
    SkaffoldProfile,
    TestedBy(Vec<(String, String)>),
    Script(String),
    Output,
}

fn guide_text() -> String {
    std::fs::read_to_string(repo_root().join(GUIDE)).expect("reading docs/user-guide.md")
}

/// The guide's fenced blocks with their markers; every problem found (a
/// block without a marker, a marker that does not fit its block) is
/// returned, each naming the line.
fn parse(md: &str) -> (Vec<Block>, Vec<String>) {
    let lines: Vec<&str> = md.lines().collect();
    let mut blocks = Vec::new();
    let mut problems = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let Some(lang) = lines[i].trim_start().strip_prefix("```") else {
            i += 1;
            continue;
        };
        let start = i;
        let lang = lang.trim().to_string();
        let mut body = Vec::new();
        i += 1;
        while i < lines.len() && lines[i].trim_start() != "```" {
            body.push(lines[i]);
            i += 1;
        }
        if i == lines.len() {
            problems.push(format!("{GUIDE}:{}: unclosed fence", start + 1));
            break;
        }
        i += 1;
        let previous = lines[..start]
            .iter()
            .rev()
            .find(|l| !l.trim().is_empty())
            .copied()
            .unwrap_or("");
        let marker = match parse_marker(previous) {
            Ok(m) => m,
            Err(e) => {
                problems.push(format!(
                    "{GUIDE}:{}: a ```{lang} block without a valid `<!-- check: … -->` comment on the line before it ({e}); say how it is exercised (see crates/e2e/tests/user_guide.rs)",
                    start + 1
                ));
                continue;
            }
        };
        let fits = matches!(
            (&marker, lang.as_str()),
            (
                Marker::Run { .. } | Marker::TestedBy(_) | Marker::Script(_),
                "sh"
            ) | (
                Marker::TestedBy(_)
                    | Marker::SkaffoldYaml { .. }
                    | Marker::SkaffoldFragment
                    | Marker::SkaffoldProfile,
                "yaml"
            ) | (Marker::BuilderToml { .. }, "toml")
                | (Marker::Output, "" | "text")
        );
        if !fits {
            problems.push(format!(
                "{GUIDE}:{}: marker {marker:?} does not fit a ```{lang} block",
                start + 1
            ));
            continue;
        }
        blocks.push(Block {
            line: start + 1,
            lang,
            text: body.join("\n") + "\n",
            marker,
        });
    }
    (blocks, problems)
}

fn parse_marker(line: &str) -> Result<Marker, String> {
    let inner = line
        .trim()
        .strip_prefix("<!-- check:")
        .and_then(|s| s.strip_suffix("-->"))
        .ok_or("no marker")?;
    let mut words = inner.split_whitespace();
    let kind = words.next().ok_or("empty marker")?;
    let rest: Vec<&str> = words.collect();
    let dir = || -> Result<String, String> {
        match rest.as_slice() {
            [d] => d
                .strip_prefix("in=")
                .filter(|d| !d.is_empty() && !d.contains('/') && !d.contains(".."))
                .map(str::to_string)
                .ok_or_else(|| format!("{kind} takes in=DIR, got {d:?}")),
            _ => Err(format!("{kind} takes exactly in=DIR")),
        }
    };
    let none = |m: Marker| {
        if rest.is_empty() {
            Ok(m)
        } else {
            Err(format!("{kind} takes no arguments"))
        }
    };
    match kind {
        "run" => Ok(Marker::Run { dir: dir()? }),
        "builder.toml" => Ok(Marker::BuilderToml { dir: dir()? }),
        "skaffold.yaml" => Ok(Marker::SkaffoldYaml { dir: dir()? }),
        "skaffold-fragment" => none(Marker::SkaffoldFragment),
        "skaffold-profile" => none(Marker::SkaffoldProfile),
        "output" => none(Marker::Output),
        "script" => match rest.as_slice() {
            [f] => Ok(Marker::Script(f.to_string())),
            _ => Err("script takes one FILE".into()),
        },
        "tested-by" if !rest.is_empty() => rest
            .iter()
            .map(|t| {
                t.split_once("::")
                    .map(|(f, n)| (f.to_string(), n.to_string()))
                    .ok_or_else(|| format!("tested-by takes FILE::TEST, got {t:?}"))
            })
            .collect::<Result<_, _>>()
            .map(Marker::TestedBy),
        other => Err(format!("unknown kind {other:?}")),
    }
}

/// `#[test] fn name` in `file` (the attributes and doc comments above the
/// `fn` line searched for `#[test]`).
fn test_exists(file: &str, name: &str) -> Result<(), String> {
    let path = repo_root().join(file);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{file}: {e}"))?;
    let lines: Vec<&str> = text.lines().collect();
    let found = lines.iter().enumerate().any(|(i, l)| {
        l.trim_start().starts_with(&format!("fn {name}("))
            && lines[..i]
                .iter()
                .rev()
                .take_while(|l| {
                    let t = l.trim_start();
                    t.starts_with("#[") || t.starts_with("///")
                })
                .any(|l| l.trim() == "#[test]")
    });
    if found {
        Ok(())
    } else {
        Err(format!("{file} has no #[test] fn {name}"))
    }
}

/// The commands of an `sh` block: its lines without comments, joined over
/// trailing backslashes.
fn commands(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let line = match line.find(" #") {
            Some(i) => &line[..i],
            None if line.trim_start().starts_with('#') => "",
            None => line,
        };
        let line = line.trim_end();
        if let Some(cont) = line.strip_suffix('\\') {
            current.push_str(cont);
            current.push(' ');
            continue;
        }
        current.push_str(line);
        if !current.trim().is_empty() {
            out.push(current.split_whitespace().collect::<Vec<_>>().join(" "));
        }
        current.clear();
    }
    out
}

/// `command`'s words appear, in order, on one line of `script`.
fn script_runs(script: &str, command: &str) -> bool {
    script.lines().any(|line| {
        let mut words = line.split_whitespace();
        command
            .split_whitespace()
            .all(|w| words.by_ref().any(|x| x == w))
    })
}

/// Each block's marker holds (the named tests and scripts exist and run
/// it), and YAML and TOML blocks parse.
fn check_each_block(blocks: &[Block], problems: &mut Vec<String>) {
    for b in blocks {
        match &b.marker {
            Marker::TestedBy(tests) => {
                for (file, name) in tests {
                    if let Err(e) = test_exists(file, name) {
                        problems.push(format!("{GUIDE}:{}: tested-by: {e}", b.line));
                    }
                }
            }
            Marker::Script(file) => {
                let script = std::fs::read_to_string(repo_root().join(file)).unwrap_or_default();
                for c in commands(&b.text) {
                    if !script_runs(&script, &c) {
                        problems.push(format!("{GUIDE}:{}: {file} does not run `{c}`", b.line));
                    }
                }
            }
            _ => {}
        }
        if b.lang == "yaml" {
            if let Err(e) = serde_norway::from_str::<serde_norway::Value>(&b.text) {
                problems.push(format!("{GUIDE}:{}: not YAML: {e}", b.line));
            }
        }
        if b.lang == "toml" {
            if let Err(e) = toml::from_str::<toml::Value>(&b.text) {
                problems.push(format!("{GUIDE}:{}: not TOML: {e}", b.line));
            }
        }
    }
}

/// Each kind of block the walk needs is there.
fn check_the_walk_has_each_kind(blocks: &[Block], problems: &mut Vec<String>) {
    for (what, present) in [
        (
            "a builder.toml",
            blocks
                .iter()
                .any(|b| matches!(b.marker, Marker::BuilderToml { .. })),
        ),
        (
            "a skaffold.yaml",
            blocks
                .iter()
                .any(|b| matches!(b.marker, Marker::SkaffoldYaml { .. })),
        ),
        (
            "an install block running scripts/release.sh",
            blocks.iter().any(|b| {
                matches!(b.marker, Marker::Run { .. }) && b.text.contains("scripts/release.sh")
            }),
        ),
    ] {
        if !present {
            problems.push(format!("{GUIDE} has no {what}"));
        }
    }
}

/// The sections a user needs, and the failures users actually meet.
fn check_sections_and_troubleshooting(md: &str, problems: &mut Vec<String>) {
    for heading in [
        "## Install",
        "## A builder that includes the buildpack",
        "## Skaffold: a skaffold.yaml to paste",
        "## Paketo specifics",
        "## Configuration variables",
        "## Runtime settings",
        "## Troubleshooting",
        "## Supported platforms",
    ] {
        if !md.lines().any(|l| l == heading) {
            problems.push(format!("{GUIDE} has no section {heading:?}"));
        }
    }
    let troubleshooting = md.split("## Troubleshooting").nth(1).unwrap_or("");
    for failure in [
        "does not match any sync pattern",
        "/layers/group.toml: permission denied",
        "Permission denied",
        "executable file not found",
        "crash loop",
    ] {
        if !troubleshooting.contains(failure) {
            problems.push(format!(
                "{GUIDE}: Troubleshooting does not cover {failure:?}"
            ));
        }
    }
}

/// File names carry the workspace version.
fn check_file_names_carry_the_version(md: &str, problems: &mut Vec<String>) {
    let version = env!("CARGO_PKG_VERSION");
    for (n, line) in md.lines().enumerate() {
        for prefix in ["skaffold-filesync-", "filesync-"] {
            let mut rest = line;
            while let Some(i) = rest.find(prefix) {
                let after = &rest[i + prefix.len()..];
                let v: String = after
                    .chars()
                    .take_while(|c| c.is_ascii_digit() || *c == '.')
                    .collect();
                let v = v.trim_end_matches('.');
                if v.chars().next().is_some_and(|c| c.is_ascii_digit()) && v != version {
                    problems.push(format!(
                        "{GUIDE}:{}: names version {v}, the workspace is {version}",
                        n + 1
                    ));
                }
                rest = after;
            }
        }
    }
}

/// Every option of `filesync supervise` is documented.
fn check_supervise_options_are_documented(md: &str, problems: &mut Vec<String>) {
    let help = run(Command::new(filesync_e2e::tools::runtime_bin()).args(["supervise", "--help"]))
        .unwrap();
    for option in String::from_utf8_lossy(&help.stdout)
        .split_whitespace()
        .filter(|w| w.starts_with("--") && w.len() > 2)
        .map(|w| w.trim_end_matches(|c: char| !c.is_ascii_alphanumeric()))
        .filter(|w| *w != "--help")
    {
        if !md.contains(&format!("`{option}")) {
            problems.push(format!(
                "{GUIDE} does not document `filesync supervise {option}`"
            ));
        }
    }
}

/// The static checks: markers, named tests and scripts, the version, the
/// variables the code reads, `filesync supervise`'s options.
#[test]
fn every_block_says_how_it_is_checked() {
    let md = guide_text();
    let (blocks, mut problems) = parse(&md);
    check_each_block(&blocks, &mut problems);
    check_the_walk_has_each_kind(&blocks, &mut problems);

    check_sections_and_troubleshooting(&md, &mut problems);

    check_file_names_carry_the_version(&md, &mut problems);

    // Every variable the buildpack and the runtime read.
    for var in variables_in_code() {
        if !md.contains(&format!("`{var}`")) {
            problems.push(format!(
                "{GUIDE} does not document {var}, which the code reads"
            ));
        }
    }

    check_supervise_options_are_documented(&md, &mut problems);

    problems.dedup();
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
    eprintln!("{GUIDE}: {} blocks, each with its check", blocks.len());
}

/// The `"BP_FILESYNC_…"`/`"FILESYNC_…"` string literals in the shipped
/// crates' sources (not the test harness's).
fn variables_in_code() -> Vec<String> {
    let mut files = Vec::new();
    for krate in ["buildpack", "contract", "filesync", "rules", "runtime"] {
        walk(
            &repo_root().join("crates").join(krate).join("src"),
            &mut files,
        );
    }
    let mut vars = std::collections::BTreeSet::new();
    for f in files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "rs"))
    {
        let text = std::fs::read_to_string(f).unwrap();
        for (i, _) in text.match_indices('"') {
            let rest = &text[i + 1..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                .collect();
            if (name.starts_with("BP_FILESYNC_") || name.starts_with("FILESYNC_"))
                && rest[name.len()..].starts_with('"')
            {
                vars.insert(name);
            }
        }
    }
    assert!(
        vars.contains("FILESYNC_STOP_GRACE_SECONDS"),
        "found no variables in the sources: {vars:?}"
    );
    vars.into_iter().collect()
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
        let p = entry.path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// The registry name the guide uses for "yours".
const GUIDE_REGISTRY: &str = "registry.example.com/me";

/// The guide's image name; the walk's is unique, as the Docker daemon is
/// shared with other test processes.
const GUIDE_IMAGE: &str = "my-app";

/// The state the guide's blocks share, in document order.
struct Walk {
    /// The image name in place of [`GUIDE_IMAGE`].
    image: String,
    scratch: tempfile::TempDir,
    registry: String,
    docker_host: String,
    /// The guide's skaffold.yaml, as written (before substitutions).
    skaffold_yaml: Option<String>,
}

impl Drop for Walk {
    /// The images and the pack cache volumes the guide's builds left in
    /// the shared daemon.
    fn drop(&mut self) {
        filesync_e2e::pack_volumes::remove_for_home(&self.home());
        let images = Docker::get()
            .cli()
            .args(["images", "-q", &self.image])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        for id in images.split_whitespace() {
            let _ = Docker::get().cli().args(["rmi", "-f", id]).output();
        }
    }
}

impl Walk {
    fn home(&self) -> PathBuf {
        self.scratch.path().join("home")
    }

    /// `in=DIR`: the repository, the app copy, or a scratch directory.
    fn dir(&self, name: &str) -> PathBuf {
        match name {
            "checkout" => repo_root(),
            other => {
                let d = self.scratch.path().join(other);
                std::fs::create_dir_all(&d).unwrap();
                d
            }
        }
    }

    /// The one substitution of commands and configs: the guide's
    /// placeholder for the user's registry is the test registry.
    fn substitute(&self, text: &str) -> String {
        text.replace(GUIDE_REGISTRY, &format!("{}/me", self.registry))
            .replace(GUIDE_IMAGE, &self.image)
    }

    /// Runs an `sh` block in bash; `pack`, `skaffold` and `filesync` are
    /// this repository's (shell functions, so the block's text is run as
    /// written).
    fn run_block(&self, b: &Block, dir: &Path) -> String {
        let script = format!(
            "set -euo pipefail\n\
             pack() {{ {pack:?} \"$@\"; }}\n\
             skaffold() {{ {skaffold:?} \"$@\"; }}\n\
             filesync() {{ {filesync:?} \"$@\"; }}\n\
             {body}",
            pack = tool("pack").display().to_string(),
            skaffold = tool("skaffold").display().to_string(),
            filesync = filesync_bin().display().to_string(),
            body = self.substitute(&b.text),
        );
        let started = Instant::now();
        let out = Command::new("bash")
            .arg("-c")
            .arg(&script)
            .current_dir(dir)
            .env("HOME", self.home())
            .env("DOCKER_HOST", &self.docker_host)
            .env("KUBECONFIG", self.home().join("no-kubeconfig"))
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.status.success(),
            "{GUIDE}:{}: the block failed ({}) in {}:\n{}\n--- output:\n{text}",
            b.line,
            out.status,
            dir.display(),
            b.text
        );
        eprintln!(
            "{GUIDE}:{}: ran in {:.1?} ({})",
            b.line,
            started.elapsed(),
            commands(&b.text).join("; ")
        );
        text
    }

    /// `skaffold diagnose --yaml-only [-p PROFILE]` in `dir`: the real
    /// Skaffold parses the config strictly (unknown fields, bad types) and
    /// applies the profile's patches; the effective config is returned.
    fn diagnose(&self, dir: &Path, profile: Option<&str>) -> Result<String, String> {
        let mut c = Command::new(tool("skaffold"));
        c.args(["diagnose", "--yaml-only", "--update-check=false"]);
        if let Some(p) = profile {
            c.args(["-p", p]);
        }
        let out = c
            .current_dir(dir)
            .env("HOME", self.home())
            .env("KUBECONFIG", self.home().join("no-kubeconfig"))
            .output()
            .unwrap();
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }
}

/// The guide's builder.toml with the test suite's stand-ins for Paketo's
/// parts: the provider buildpacks of `crates/e2e/buildpacks` for Paketo's
/// Node.js and Python buildpacks (and their ids), the Paketo-shaped stack
/// images in the test registry, the release the guide's install block
/// made (under the scratch home), and a `[lifecycle]` entry for the
/// lifecycle the tests build (without one pack downloads the lifecycle
/// from GitHub). Each replaced text must be in the guide's block, so a
/// changed guide fails here rather than building something else.
fn builder_toml(text: &str, walk: &Walk, lifecycle: &Path) -> String {
    let node = filesync_e2e::providers::stage("node").unwrap();
    let python = filesync_e2e::providers::stage("python").unwrap();
    let r = &walk.registry;
    let home = walk.home().display().to_string();
    let subs: [(&str, String); 7] = [
        (
            "docker://paketobuildpacks/nodejs",
            node.display().to_string(),
        ),
        (
            "docker://paketobuildpacks/python",
            python.display().to_string(),
        ),
        ("\"paketo-buildpacks/nodejs\"", "\"e2e/node\"".into()),
        ("\"paketo-buildpacks/python\"", "\"e2e/python\"".into()),
        ("/home/me/", format!("{home}/")),
        (
            "\"paketobuildpacks/build-jammy-base\"",
            format!("\"{r}/stack/build:latest\""),
        ),
        (
            "\"paketobuildpacks/run-jammy-base\"",
            format!("\"{r}/stack/run-base:latest\""),
        ),
    ];
    let mut out = text.to_string();
    for (from, to) in &subs {
        assert!(
            out.contains(from),
            "{GUIDE}: the builder.toml no longer has {from:?}; update crates/e2e/tests/user_guide.rs's stand-ins"
        );
        out = out.replace(from, to);
    }
    let code: String = out
        .lines()
        .map(|l| l.split('#').next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        !code.contains("paketo"),
        "{GUIDE}: the builder.toml names a Paketo part the check has no stand-in for:\n{out}"
    );
    out + &format!(
        "\n[lifecycle]\n  uri = {:?}\n",
        lifecycle.display().to_string()
    )
}

/// A lifecycle "release" directory for `pack builder create` (what the
/// harness's builders use, `crates/e2e/src/builder.rs`): `lifecycle.toml`
/// and `lifecycle/<phase>`, from the binaries scripts/setup.sh built, with
/// every Platform API lifecycle v0.21.17 supports, as Paketo's builders.
fn lifecycle_dist(dir: &Path) -> PathBuf {
    let bin = dir.join("lifecycle");
    std::fs::create_dir_all(&bin).unwrap();
    for b in ["lifecycle", "launcher"] {
        std::fs::copy(work_dir().join("lifecycle").join(b), bin.join(b)).unwrap();
    }
    for phase in [
        "detector", "analyzer", "restorer", "builder", "exporter", "creator", "rebaser",
    ] {
        std::os::unix::fs::symlink("lifecycle", bin.join(phase)).unwrap();
    }
    std::fs::write(
        dir.join("lifecycle.toml"),
        "[apis]\n[apis.buildpack]\n  deprecated = []\n  \
         supported = [\"0.7\", \"0.8\", \"0.9\", \"0.10\", \"0.11\", \"0.12\"]\n\
         [apis.platform]\n  deprecated = []\n  \
         supported = [\"0.7\", \"0.8\", \"0.9\", \"0.10\", \"0.11\", \"0.12\", \"0.13\", \"0.14\", \"0.15\"]\n\n\
         [api]\n  platform = \"0.7\"\n  buildpack = \"0.7\"\n\n\
         [lifecycle]\n  version = \"0.21.17\"\n",
    )
    .unwrap();
    dir.to_path_buf()
}

/// The `filesync` profile of a skaffold.yaml, its `src` values blanked
/// (they are the app's; everything else is the shape of the profile).
fn profile_shape(yaml: &str) -> serde_norway::Value {
    let doc: serde_norway::Value = serde_norway::from_str(yaml).unwrap();
    let mut profile = doc["profiles"]
        .as_sequence()
        .and_then(|ps| ps.iter().find(|p| p["name"] == "filesync"))
        .cloned()
        .unwrap_or_else(|| panic!("no filesync profile in:\n{yaml}"));
    if let Some(patches) = profile["patches"].as_sequence_mut() {
        for patch in patches {
            if let Some(rules) = patch
                .get_mut("value")
                .and_then(serde_norway::Value::as_mapping_mut)
                .and_then(|v| v.get_mut("manual"))
                .and_then(serde_norway::Value::as_sequence_mut)
            {
                for rule in rules {
                    rule["src"] = "".into();
                }
            }
        }
    }
    profile
}

/// For a run block containing the command: what its output must contain
/// (what the guide says it prints, or what shows it did its job).
const EXPECTED: &[(&str, &[&str])] = &[
    (
        "sha256sum -c SHA256SUMS",
        &[".cnb: OK", "-x86_64-linux: OK"],
    ),
    (
        "filesync --version",
        &[concat!("filesync ", env!("CARGO_PKG_VERSION"))],
    ),
    (
        "skaffold build -p filesync",
        &[
            "[skaffold-filesync] wrapping process 'web'",
            "app files writable by the run user",
        ],
    ),
    (
        "filesync inspect",
        &[
            "legacy rules: none",
            "wraps process web",
            "default process: filesync",
        ],
    ),
    (
        "cargo run -q -p filesync-runtime -- supervise --help",
        &[
            "--config",
            "--process",
            "--grace",
            "FILESYNC_STOP_GRACE_SECONDS",
        ],
    ),
];

/// Skaffold's global config in the walk's home (no metrics, no prompts, no
/// update check) and the developer's app: examples/node without its
/// generated profile (the guide's skaffold.yaml replaces the example's).
fn prepare_home_and_app(walk: &Walk) {
    // Skaffold's global config: no metrics, no prompts, no update check.
    std::fs::create_dir_all(walk.home().join(".skaffold")).unwrap();
    std::fs::write(
        walk.home().join(".skaffold/config"),
        "global:\n  collect-metrics: false\n  survey:\n    disable-prompt: true\n  \
         update:\n    disable-prompt: true\nkubeContexts: []\n",
    )
    .unwrap();
    // The developer's app: examples/node without its generated profile
    // (the guide's skaffold.yaml replaces the example's).
    run(Command::new("cp")
        .arg("-a")
        .arg(repo_root().join("examples/node"))
        .arg(walk.scratch.path().join("app")))
    .unwrap();
}

/// What the guide's prose promises the commands of run block `b` print.
fn assert_the_promised_output(b: &Block, out: &str) {
    for (command, wants) in EXPECTED {
        if b.text.contains(command) {
            for want in *wants {
                assert!(
                    out.contains(want),
                    "{GUIDE}:{}: `{command}` did not print {want:?}:\n{out}",
                    b.line
                );
            }
        }
    }
}

/// A profile example: active on the guide's skaffold.yaml, it sets the
/// trigger, the hook and manual rules, and has the shape of the profile
/// `filesync skaffold --write` wrote into the app's config.
fn check_the_profile_example(walk: &Walk, b: &Block) {
    let base = walk.skaffold_yaml.clone().unwrap_or_else(|| {
        panic!(
            "{GUIDE}:{}: a profile example before the skaffold.yaml",
            b.line
        )
    });
    // The example, active, on the guide's config.
    let dir = walk.dir("profile");
    std::fs::write(dir.join("skaffold.yaml"), format!("{base}{}", b.text)).unwrap();
    let effective = walk.diagnose(&dir, Some("filesync")).unwrap_or_else(|e| {
        panic!(
            "{GUIDE}:{}: skaffold diagnose -p filesync refused it:\n{e}",
            b.line
        )
    });
    for want in ["BP_FILESYNC_ENABLED=true", "filesync-sync-done", "manual:"] {
        assert!(
            effective.contains(want),
            "{GUIDE}:{}: with the profile active, no {want}:\n{effective}",
            b.line
        );
    }
    // What `filesync skaffold --write` wrote into the app's
    // config (an earlier block), active and of the same shape.
    let app = walk.dir("app");
    let written = std::fs::read_to_string(app.join("skaffold.yaml")).unwrap();
    walk.diagnose(&app, Some("filesync"))
        .unwrap_or_else(|e| panic!("the generated profile, refused by skaffold diagnose:\n{e}"));
    assert_eq!(
        profile_shape(&format!("{base}{}", b.text)),
        profile_shape(&written),
        "{GUIDE}:{}: the example profile is not what `filesync skaffold --write` wrote:\n{written}",
        b.line
    );
}

/// The guide, run from top to bottom as a user would, against real parts.
#[test]
fn the_guide_runs_from_install_to_an_inspected_dev_image() {
    let started = Instant::now();
    let (blocks, problems) = parse(&guide_text());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let builders = Builders::get(); // the registry, with the stack images
    let mut walk = Walk {
        image: format!("filesync-user-guide-{}", std::process::id()),
        scratch: tempfile::Builder::new()
            .prefix("filesync-user-guide-")
            .tempdir()
            .unwrap(),
        registry: builders.registry().to_string(),
        docker_host: Docker::get().host.clone(),
        skaffold_yaml: None,
    };
    prepare_home_and_app(&walk);
    let lifecycle = lifecycle_dist(&walk.scratch.path().join("lifecycle-dist"));

    let mut ran = BTreeMap::new();
    let mut inspected = None;
    for b in &blocks {
        match &b.marker {
            Marker::Run { dir } => {
                let out = walk.run_block(b, &walk.dir(dir));
                assert_the_promised_output(b, &out);
                if b.text.contains("filesync inspect") {
                    inspected = Some(out);
                }
                *ran.entry("run").or_insert(0) += 1;
            }
            Marker::BuilderToml { dir } => {
                let toml = builder_toml(&b.text, &walk, &lifecycle);
                std::fs::write(walk.dir(dir).join("builder.toml"), toml).unwrap();
                *ran.entry("builder.toml").or_insert(0) += 1;
            }
            Marker::SkaffoldYaml { dir } => {
                let dir = walk.dir(dir);
                std::fs::write(dir.join("skaffold.yaml"), walk.substitute(&b.text)).unwrap();
                walk.diagnose(&dir, None).unwrap_or_else(|e| {
                    panic!("{GUIDE}:{}: skaffold diagnose refused it:\n{e}", b.line)
                });
                walk.skaffold_yaml = Some(b.text.clone());
                *ran.entry("skaffold.yaml").or_insert(0) += 1;
            }
            Marker::SkaffoldFragment => {
                let dir = walk.dir("fragment");
                std::fs::write(
                    dir.join("skaffold.yaml"),
                    format!("apiVersion: skaffold/v4beta14\nkind: Config\n{}", b.text),
                )
                .unwrap();
                walk.diagnose(&dir, None).unwrap_or_else(|e| {
                    panic!("{GUIDE}:{}: skaffold diagnose refused it:\n{e}", b.line)
                });
                *ran.entry("skaffold-fragment").or_insert(0) += 1;
            }
            Marker::SkaffoldProfile => {
                check_the_profile_example(&walk, b);
                *ran.entry("skaffold-profile").or_insert(0) += 1;
            }
            Marker::TestedBy(_) | Marker::Script(_) | Marker::Output => {}
        }
    }
    // The walk ended on a dev image the guide inspected.
    let inspected = inspected.expect("the guide has a run block with `filesync inspect`");
    eprintln!(
        "{GUIDE}: {ran:?} in {:.1?}; inspect said:\n{inspected}",
        started.elapsed()
    );
}
