//! The private Docker Engine that `skaffold dev` and pack drive
//! (`scripts/docker.sh`: Debian's docker.io in its own mount namespace,
//! changing no host setting). The harness starts it if it is not running
//! and leaves it running for the next test process; `scripts/test.sh` and
//! `scripts/demo.sh` stop it when they are done.

use crate::tools::{repo_root, work_dir};
use anyhow::{bail, Context};
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

pub struct Docker {
    /// `unix:///…/.work/docker/docker.sock`: what clients get as `DOCKER_HOST`.
    pub host: String,
}

impl Docker {
    /// The private daemon, started on first use.
    pub fn get() -> &'static Docker {
        static D: OnceLock<Docker> = OnceLock::new();
        D.get_or_init(|| {
            Docker::start().unwrap_or_else(|e| panic!("the private Docker Engine: {e:#}"))
        })
    }

    fn start() -> anyhow::Result<Docker> {
        let out = Command::new(repo_root().join("scripts/docker.sh"))
            .arg("start")
            .output()
            .context("running scripts/docker.sh start")?;
        if !out.status.success() {
            bail!(
                "scripts/docker.sh start failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        let stdout = String::from_utf8_lossy(&out.stdout);
        let host = stdout
            .lines()
            .find_map(|l| l.strip_prefix("export DOCKER_HOST="))
            .context("scripts/docker.sh start printed no DOCKER_HOST")?
            .to_string();
        Ok(Docker { host })
    }

    /// The docker CLI that came with the daemon, pointed at it.
    pub fn cli(&self) -> Command {
        let mut c = Command::new(docker_cli());
        c.env("DOCKER_HOST", &self.host);
        c
    }

    /// `docker exec CONTAINER ARGS…` (stdout), as a user would look inside.
    pub fn exec(&self, container: &str, args: &[&str]) -> anyhow::Result<String> {
        let out = crate::tools::run(self.cli().arg("exec").arg(container).args(args))?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

/// Debian's docker CLI, extracted next to the daemon by `scripts/docker.sh`.
pub fn docker_cli() -> PathBuf {
    work_dir().join("docker/root/usr/bin/docker")
}
