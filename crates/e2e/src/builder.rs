//! Builders made the way a platform team makes them: the real
//! `pack builder create` (pack v0.40.6, built from its module by
//! `scripts/setup.sh`) from the CNB lifecycle v0.21.17 (a `lifecycle.toml`
//! descriptor beside the binaries, as in a lifecycle release archive), the
//! packaged skaffold-filesync buildpack, the provider buildpacks that stand
//! in for Paketo's (each carrying what it installs), and the Paketo-shaped
//! stack images (`scripts/run-images.sh`: build user 1001, run user 1002),
//! all published to the registry on 127.0.0.1 that Skaffold pulls from.

use crate::lifecycle::Harness;
use crate::tools::{run, tool, work_dir};
use anyhow::Context;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// Which run image the builder's apps get.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stack {
    /// Like Paketo's jammy *base*: a shell, tar and coreutils.
    Base,
    /// Like Paketo's jammy *tiny*: no shell, no tar, no rm.
    Tiny,
}

/// Which Platform APIs the builder's lifecycle descriptor offers; pack
/// (and Skaffold, which embeds it) uses the newest one both support.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Platform {
    /// 0.7–0.15, all that lifecycle v0.21.17 supports: from 0.9 on the
    /// lifecycle no longer writes the BOM into the image label Skaffold's
    /// auto sync reads, so rules come from `filesync skaffold --write`.
    Current,
    /// 0.7–0.8 only: the BOM's `devmode.sync` reaches the
    /// `io.buildpacks.build.metadata` label and Skaffold's auto sync.
    Legacy,
}

impl Stack {
    fn run_image(self) -> &'static str {
        match self {
            Stack::Base => "run-base",
            Stack::Tiny => "run-tiny",
        }
    }

    /// The provider buildpacks (order groups) the builder carries, like
    /// Paketo's builder-jammy-base (the interpreted languages and Java) and
    /// builder-jammy-tiny (compiled apps). Paketo's base builder has Go
    /// too; ours leaves it to the tiny one, where the Go example runs, so
    /// that each base builder (two per test run) is 240 MB smaller.
    pub fn providers(self) -> &'static [&'static str] {
        match self {
            Stack::Base => &["java", "node", "python", "php", "static-web"],
            Stack::Tiny => &["go"],
        }
    }
}

/// A builder's stack, Platform APIs and provider order groups.
type BuilderKind = (Stack, Platform, Vec<String>);

/// Builders published to the harness's registry, made once per test
/// process and kind.
pub struct Builders {
    registry: String,
    made: Mutex<BTreeMap<BuilderKind, String>>,
}

impl Builders {
    pub fn get() -> &'static Builders {
        static B: OnceLock<Builders> = OnceLock::new();
        B.get_or_init(|| {
            Builders::start().unwrap_or_else(|e| panic!("preparing the builders: {e:#}"))
        })
    }

    fn start() -> anyhow::Result<Builders> {
        let registry = Harness::get().registry_host();
        let layout = work_dir().join("images/stack");
        for tag in ["build", "run-base", "run-tiny"] {
            run(Command::new(tool("skopeo")).args([
                "copy",
                "-q",
                "--dest-tls-verify=false",
                &format!("oci:{}:{tag}", layout.display()),
                &format!("docker://{registry}/stack/{tag}:latest"),
            ]))
            .with_context(|| format!("pushing the stack image {tag} to {registry}"))?;
        }
        Ok(Builders {
            registry,
            made: Mutex::new(BTreeMap::new()),
        })
    }

    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The reference of the builder for `stack` and `platform`, made (and
    /// published) on first use.
    pub fn builder(&self, stack: Stack, platform: Platform) -> String {
        self.builder_of(stack, platform, stack.providers())
    }

    /// As [`Builders::builder`], with only the order groups of `providers`
    /// (of the stack's): the demo's builder has the Node.js group alone,
    /// so that it stages no JDK, Maven repository, Python or PHP it would
    /// never use.
    pub fn builder_of(&self, stack: Stack, platform: Platform, providers: &[&str]) -> String {
        let key = (
            stack,
            platform,
            providers
                .iter()
                .map(std::string::ToString::to_string)
                .collect(),
        );
        let mut made = self
            .made
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(r) = made.get(&key) {
            return r.clone();
        }
        let reference = self
            .create(stack, platform, providers)
            .unwrap_or_else(|e| panic!("pack builder create ({stack:?}, {platform:?}): {e:#}"));
        made.insert(key, reference.clone());
        reference
    }

    fn create(
        &self,
        stack: Stack,
        platform: Platform,
        providers: &[&str],
    ) -> anyhow::Result<String> {
        let mut name = format!(
            "builder-{}-{}",
            stack.run_image().trim_start_matches("run-"),
            match platform {
                Platform::Current => "current",
                Platform::Legacy => "legacy",
            }
        );
        if providers != stack.providers() {
            name = format!("{name}-{}", providers.join("-"));
        }
        let reference = format!("{}/{name}:latest", self.registry);
        let dir = tempfile::Builder::new()
            .prefix("filesync-builder-")
            .tempdir()?;
        let mut toml = format!(
            "description = \"skaffold-filesync test builder: {name} (stands in for Paketo's)\"\n\n"
        );
        let mut uris: Vec<PathBuf> = Vec::new();
        for p in providers {
            uris.push(crate::providers::stage(p)?);
        }
        uris.push(crate::providers::stage("procfile")?);
        // The released buildpackage itself (pack takes a `.cnb` as a uri).
        // Paketo's builders lack it; a builder that includes it (optional,
        // last in every group) is what Skaffold needs: a buildpack added
        // per artifact makes pack use its five-phase flow, which fails
        // under Skaffold with a non-root build user (docs/user-guide.md).
        uris.push(crate::release::Release::get().cnb());
        for uri in &uris {
            toml += &format!("[[buildpacks]]\nuri = {:?}\n\n", uri.display().to_string());
        }
        for p in providers {
            let (id, _) = crate::lifecycle::buildpack_id(&crate::providers::stage(p)?)?;
            toml += &format!(
                "[[order]]\n[[order.group]]\nid = \"{id}\"\n\
                 [[order.group]]\nid = \"e2e/procfile\"\noptional = true\n\
                 [[order.group]]\nid = \"skaffold-filesync\"\noptional = true\n\n"
            );
        }
        toml += &format!(
            "[build]\nimage = \"{r}/stack/build:latest\"\n\n\
             [[run.images]]\nimage = \"{r}/stack/{run}:latest\"\n\n\
             [lifecycle]\nuri = {lc:?}\n",
            r = self.registry,
            run = stack.run_image(),
            lc = lifecycle_dist(platform)?.display().to_string(),
        );
        let config = dir.path().join("builder.toml");
        std::fs::write(&config, &toml)?;
        std::fs::create_dir_all(dir.path().join("home"))?;
        run(Command::new(tool("pack"))
            .args(["builder", "create", &reference, "--config"])
            .arg(&config)
            .args(["--publish", "--no-color", "--quiet"])
            .env("HOME", dir.path().join("home"))
            .env("DOCKER_HOST", &crate::docker::Docker::get().host))
        .with_context(|| format!("builder.toml:\n{toml}"))?;
        Ok(reference)
    }
}

/// A lifecycle "release" directory for `pack builder create`:
/// `lifecycle.toml` and `lifecycle/<phase>` (the binaries setup built).
pub fn lifecycle_dist(platform: Platform) -> anyhow::Result<PathBuf> {
    let (name, platform_apis) = match platform {
        Platform::Current => (
            "current",
            r#"["0.7", "0.8", "0.9", "0.10", "0.11", "0.12", "0.13", "0.14", "0.15"]"#,
        ),
        Platform::Legacy => ("legacy", r#"["0.7", "0.8"]"#),
    };
    let dir = work_dir().join("lifecycle-dist").join(name);
    let bin = dir.join("lifecycle");
    std::fs::create_dir_all(&bin)?;
    for b in ["lifecycle", "launcher"] {
        let src = work_dir().join("lifecycle").join(b);
        copy_if_changed(&src, &bin.join(b))?;
    }
    for phase in [
        "detector", "analyzer", "restorer", "builder", "exporter", "creator", "rebaser",
    ] {
        let link = bin.join(phase);
        if std::fs::symlink_metadata(&link).is_err() {
            std::os::unix::fs::symlink("lifecycle", &link)?;
        }
    }
    // The same fields as the lifecycle's own release descriptor.
    std::fs::write(
        dir.join("lifecycle.toml"),
        format!(
            "[apis]\n[apis.buildpack]\n  deprecated = []\n  \
             supported = [\"0.7\", \"0.8\", \"0.9\", \"0.10\", \"0.11\", \"0.12\"]\n\
             [apis.platform]\n  deprecated = []\n  supported = {platform_apis}\n\n\
             [api]\n  platform = \"0.7\"\n  buildpack = \"0.7\"\n\n\
             [lifecycle]\n  version = \"0.21.17\"\n"
        ),
    )?;
    Ok(dir)
}

fn copy_if_changed(src: &Path, dest: &Path) -> anyhow::Result<()> {
    let same = match (std::fs::metadata(src), std::fs::metadata(dest)) {
        (Ok(a), Ok(b)) => a.len() == b.len() && a.modified()? <= b.modified()?,
        _ => false,
    };
    if !same {
        std::fs::copy(src, dest).with_context(|| format!("copying {}", src.display()))?;
    }
    Ok(())
}
