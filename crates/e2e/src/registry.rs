//! A real OCI registry (Debian's `docker-registry`) on 127.0.0.1, storage
//! in a temp dir; stopped, and its storage removed, when dropped or when
//! the test process that started it is gone.

use crate::tools::tool;
use anyhow::{bail, Context};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Registry {
    /// The watchdog shell (see [`Registry::start`]).
    child: Child,
    port: u16,
}

impl Registry {
    pub fn start() -> anyhow::Result<Registry> {
        // Removed by the watchdog, not by a TempDir: the harness's registry
        // lives in a static, which is never dropped (each test process
        // left its images, hundreds of MB, in /tmp).
        let dir = tempfile::Builder::new()
            .prefix("filesync-registry-")
            .tempdir()?
            .keep();
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let config = dir.join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n\
                 http:\n  addr: 127.0.0.1:{port}\nlog:\n  level: error\n",
                dir.join("data").display()
            ),
        )?;
        // The harness keeps one registry for the whole test process (in a
        // static, never dropped): a watchdog shell stops it and removes its
        // storage when the process that started it is gone (or on TERM,
        // from Drop), so no registry outlives its tests.
        let watchdog = format!(
            "{registry} serve {config} >/dev/null 2>&1 & r=$!; \
             trap 'kill $r 2>/dev/null; wait $r; rm -rf {dir}' EXIT; trap 'exit 0' TERM; \
             while kill -0 {parent} 2>/dev/null && kill -0 $r 2>/dev/null; do sleep 0.5; done",
            registry = tool("docker-registry").display(),
            config = config.display(),
            dir = dir.display(),
            parent = std::process::id(),
        );
        let child = Command::new("sh")
            .args(["-c", &watchdog])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting docker-registry")?;
        let registry = Registry { child, port };
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                bail!("docker-registry did not listen on 127.0.0.1:{port}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(registry)
    }

    /// `127.0.0.1:PORT` — go-containerregistry (lifecycle) and skopeo
    /// (with --tls-verify=false) talk plain HTTP to loopback.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        // TERM, not SIGKILL: the watchdog's trap stops the registry and
        // removes the storage.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}
