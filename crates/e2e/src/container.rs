//! Runs an exported image as a real OCI container with runc: unpacked by
//! umoci into a bundle, started detached as its default process (the
//! image's entrypoint, as Kubernetes would), in the host network namespace
//! so its port is reachable on 127.0.0.1. `exec` is what `kubectl exec`
//! does: a new process in the container with its env, user and cwd.

use crate::image::Image;
use crate::tools::{run, tool};
use anyhow::Context;
use serde_json::Value;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub struct Container {
    pub id: String,
    pub port: u16,
    bundle: PathBuf,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Container {
    /// Starts `image` with `PORT` set (and `env`), detached.
    pub fn start(image: &Image, env: &[(&str, &str)]) -> anyhow::Result<Container> {
        Container::start_in_pod(image, env, None)
    }

    /// Same, with `/dev/shm` bound to `shm` when given: what containerd's
    /// CRI does for the containers of one pod (the sandbox's shm, shared by
    /// them and kept across their restarts). A container started again on
    /// the same `shm` is a container restart in the same pod: a new root
    /// file system from the image, the same `/dev/shm`.
    pub fn start_in_pod(
        image: &Image,
        env: &[(&str, &str)],
        shm: Option<&Path>,
    ) -> anyhow::Result<Container> {
        let dir = tempfile::Builder::new().prefix("filesync-ctr-").tempdir()?;
        let bundle = image.unpack(dir.path())?;
        let port = crate::http::free_port();
        let config_path = bundle.join("config.json");
        let mut config: Value = serde_json::from_slice(&std::fs::read(&config_path)?)?;
        // Host network: the app's port on 127.0.0.1, nothing else exposed.
        if let Some(ns) = config["linux"]["namespaces"].as_array_mut() {
            ns.retain(|n| n["type"] != "network");
        }
        config["process"]["terminal"] = Value::Bool(false);
        if let Some(shm) = shm {
            let mounts = config["mounts"].as_array_mut().context("mounts")?;
            mounts.retain(|m| m["destination"] != "/dev/shm");
            mounts.push(serde_json::json!({
                "destination": "/dev/shm",
                "type": "bind",
                "source": shm,
                "options": ["rbind", "rw", "nosuid", "nodev"],
            }));
        }
        let envs = config["process"]["env"]
            .as_array_mut()
            .context("process.env")?;
        envs.push(Value::String(format!("PORT={port}")));
        for (k, v) in env {
            envs.push(Value::String(format!("{k}={v}")));
        }
        std::fs::write(&config_path, serde_json::to_vec_pretty(&config)?)?;
        let id = format!("filesync-{}-{port}", std::process::id());
        let log = dir.path().join("container.log");
        let out = File::create(&log)?;
        let status = Command::new(tool("runc"))
            .args(["run", "-d", "--bundle"])
            .arg(&bundle)
            .arg(&id)
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .status()
            .context("runc run")?;
        anyhow::ensure!(
            status.success(),
            "runc run failed: {}",
            std::fs::read_to_string(&log)?
        );
        Ok(Container {
            id,
            port,
            bundle,
            log,
            _dir: dir,
        })
    }

    /// The container's root file system (as seen from the host).
    pub fn rootfs(&self) -> PathBuf {
        self.bundle.join("rootfs")
    }

    /// What the container printed (app output and the supervisor's lines).
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `runc exec` of `args` with `stdin` — the container's env, user, cwd.
    pub fn exec(&self, args: &[&str], stdin: &[u8]) -> anyhow::Result<Output> {
        let mut child = Command::new(tool("runc"))
            .arg("exec")
            .arg(&self.id)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context("runc exec")?;
        let mut input = child.stdin.take().expect("stdin");
        let data = stdin.to_vec();
        let writer = std::thread::spawn(move || {
            let _ = input.write_all(&data);
        });
        let out = child.wait_with_output()?;
        let _ = writer.join();
        Ok(out)
    }

    /// Does `path` (absolute, in the container) exist in its file system?
    pub fn has(&self, path: &str) -> bool {
        let p = self.rootfs().join(path.trim_start_matches('/'));
        p.symlink_metadata().is_ok()
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = Command::new(tool("runc"))
            .args(["kill", &self.id, "KILL"])
            .output();
        let _ = Command::new(tool("runc"))
            .args(["delete", "-f", &self.id])
            .output();
    }
}

/// Reads `path` inside the container's root file system.
pub fn read_in(rootfs: &Path, path: &str) -> anyhow::Result<String> {
    let p = rootfs.join(path.trim_start_matches('/'));
    std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))
}

/// Kills every leftover container of this harness (best effort).
pub fn cleanup_all() {
    if let Ok(out) = run(Command::new(tool("runc")).args(["list", "-q"])) {
        for id in String::from_utf8_lossy(&out.stdout).lines() {
            if id.starts_with(&format!("filesync-{}-", std::process::id())) {
                let _ = Command::new(tool("runc"))
                    .args(["delete", "-f", id])
                    .output();
            }
        }
    }
}
