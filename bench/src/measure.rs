//! The measurements: a small Node.js app, the two supervisors around it,
//! and timing by HTTP polling on loopback.

use crate::figures::{Burst, Idle, Samples, SaveToLive};
use crate::proc_stats::{cpu_time, inotify_watches, peak_rss_kb};
use anyhow::Context;
use filesync_e2e::http::free_port;
use filesync_e2e::skaffold_tar;
use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) enum Tool {
    Ours(PathBuf),
    /// watchexec as Paketo runs it (its default debounce, 50 ms).
    Watchexec(PathBuf),
    /// The same with `--debounce 0`: what watchexec costs without the
    /// wait a plain write needs (our tar path needs none: the shim says
    /// when the batch is complete).
    WatchexecNoDebounce(PathBuf),
}

impl Tool {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Tool::Ours(_) => "filesync",
            Tool::Watchexec(_) => "watchexec",
            Tool::WatchexecNoDebounce(_) => "watchexec --debounce 0",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    /// Skaffold's path: a tar stream into `tar xmf - -C / --no-same-owner`
    /// (our shim for filesync, GNU tar for watchexec, which has none).
    TarSync,
    /// An editor-style write of the file in place.
    PlainWrite,
}

impl Change {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Change::TarSync => "tar-sync",
            Change::PlainWrite => "plain-write",
        }
    }
}

pub(crate) struct App {
    pub dir: PathBuf,
}

const SERVER: &str = r#"const http = require("http");
const fs = require("fs");
// performance.timeOrigin: when this node process began (Unix ms, sub-ms).
fs.appendFileSync(process.env.STARTS_LOG, performance.timeOrigin + "\n");
const message = require("./lib/message");
http.createServer((req, res) => res.end(message + "\n")).listen(Number(process.env.PORT), "127.0.0.1");
"#;

/// Now, in Unix milliseconds (comparable with node's `performance.timeOrigin`).
fn epoch_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        * 1000.0
}

/// The `performance.timeOrigin` of the newest start recorded in `log`.
fn last_origin(log: &Path) -> anyhow::Result<f64> {
    let text = std::fs::read_to_string(log)?;
    let last = text.lines().last().context("no start recorded")?;
    Ok(last.trim().parse()?)
}

fn from_ms(ms: f64) -> Duration {
    Duration::from_secs_f64(ms.max(0.0) / 1000.0)
}

/// Polls every 1 ms until the body is exactly `want`.
fn wait_body(port: u16, want: &str, timeout: Duration) -> anyhow::Result<Duration> {
    let every = Duration::from_millis(1);
    filesync_e2e::http::poll(port, "/", timeout, every, |_, body| body == want)
        .map_err(|last| anyhow::anyhow!("no response {want:?} within {timeout:?} (last: {last})"))
}

struct Running {
    child: Child,
    port: u16,
}

impl Drop for Running {
    /// Stops the tool as a user's Ctrl-C or a container stop would: SIGTERM
    /// to the supervisor (or watchexec), which stops the app it started —
    /// the app runs in a process group of its own, out of reach of a
    /// signal to the tool's group. Only a tool that has not exited after
    /// [`STOP_WAIT`] gets SIGKILL, its group with it.
    fn drop(&mut self) {
        let pid = Pid::from_raw(
            i32::try_from(self.child.id()).expect("Linux pids fit i32 (pid_max <= 2^22)"),
        );
        let _ = kill(pid, Signal::SIGTERM);
        let deadline = Instant::now() + STOP_WAIT;
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = killpg(pid, Signal::SIGKILL);
        let _ = self.child.wait();
    }
}

/// How long a tool may take to stop its app and exit.
const STOP_WAIT: Duration = Duration::from_secs(10);

impl App {
    pub(crate) fn create(dir: &Path) -> anyhow::Result<App> {
        std::fs::create_dir_all(dir.join("lib"))?;
        std::fs::write(dir.join("server.js"), SERVER)?;
        std::fs::write(dir.join("lib/message.js"), "module.exports = \"v0\";\n")?;
        std::fs::write(
            dir.join("package.json"),
            "{\"name\":\"bench\",\"version\":\"1.0.0\"}\n",
        )?;
        std::fs::write(dir.join("package-lock.json"), "{\"lockfileVersion\":3}\n")?;
        Ok(App {
            dir: dir.to_path_buf(),
        })
    }

    fn starts(&self) -> usize {
        std::fs::read_to_string(self.dir.join("../").join(self.starts_name()))
            .map_or(0, |s| s.lines().count())
    }

    fn starts_name(&self) -> String {
        format!("{}.starts", self.dir.file_name().unwrap().to_string_lossy())
    }

    fn spawn(&self, tool: &Tool) -> anyhow::Result<Running> {
        let port = free_port();
        let mut cmd = match tool {
            Tool::Ours(bin) => {
                let plan = filesync_rules::plan_for_app(
                    &self.dir,
                    self.dir.to_str().unwrap(),
                    &filesync_rules::Overrides::default(),
                )?;
                let config = filesync_contract::config::RuntimeConfig {
                    plan,
                    process_type: "web".into(),
                    debounce_ms: 50,
                    socket: self.socket().display().to_string(),
                    stop_signal: None,
                    batch_end: filesync_contract::config::BatchEnd::default(),
                    // No restart record: the benchmark measures reloads only.
                    build_id: None,
                };
                let cfg = self
                    .dir
                    .join("../")
                    .join(format!("{}.toml", self.starts_name()));
                std::fs::write(&cfg, toml::to_string(&config)?)?;
                let mut c = Command::new(bin);
                c.arg("supervise")
                    .arg("--config")
                    .arg(cfg)
                    .args(["--", "node", "server.js"]);
                c
            }
            Tool::Watchexec(bin) | Tool::WatchexecNoDebounce(bin) => {
                // Paketo's live-reload invocation, ignoring what it ignores.
                let mut c = Command::new(bin);
                if matches!(tool, Tool::WatchexecNoDebounce(_)) {
                    c.args(["--debounce", "0"]);
                }
                c.args(["--restart", "--shell", "none", "--watch"])
                    .arg(&self.dir)
                    .args([
                        "--ignore",
                        "**/node_modules/**",
                        "--ignore",
                        "**/package.json",
                        "--ignore",
                        "**/package-lock.json",
                        "--",
                        "node",
                        "server.js",
                    ]);
                c
            }
        };
        let child = cmd
            .current_dir(&self.dir)
            .env("PORT", port.to_string())
            .env("STARTS_LOG", self.dir.join("../").join(self.starts_name()))
            .env(filesync_contract::config::SOCKET_ENV, self.socket())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .context("starting the supervisor")?;
        Ok(Running { child, port })
    }

    fn socket(&self) -> PathBuf {
        self.dir
            .join("../")
            .join(format!("{}.sock", self.starts_name()))
    }

    fn tar_sync(&self, tool: &Tool, stream: &[u8]) -> anyhow::Result<()> {
        let mut cmd = match tool {
            Tool::Ours(bin) => {
                let mut c = Command::new(bin);
                c.arg("tar");
                c
            }
            Tool::Watchexec(_) | Tool::WatchexecNoDebounce(_) => Command::new("tar"),
        };
        let mut child = cmd
            .args(["xmf", "-", "-C", "/", "--no-same-owner"])
            .env(filesync_contract::config::SOCKET_ENV, self.socket())
            .stdin(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        child.stdin.take().unwrap().write_all(stream)?;
        anyhow::ensure!(child.wait()?.success(), "tar failed");
        Ok(())
    }

    /// One cold start of the app as it is now: spawn → first response
    /// with `want`.
    fn cold_once(&self, want: &str) -> anyhow::Result<(Duration, Duration)> {
        let port = free_port();
        let log = self.dir.join("../cold.starts");
        let spawned_at = epoch_ms();
        let start = Instant::now();
        let mut child = Command::new("node")
            .arg("server.js")
            .current_dir(&self.dir)
            .env("PORT", port.to_string())
            .env("STARTS_LOG", self.dir.join("../cold.starts"))
            .stdout(Stdio::null())
            .spawn()?;
        let waited = wait_body(port, want, Duration::from_secs(10));
        let t = start.elapsed();
        let _ = child.kill();
        let _ = child.wait();
        waited?;
        Ok((t, from_ms(last_origin(&log)? - spawned_at)))
    }

    pub(crate) fn cold_start(&self, runs: usize) -> anyhow::Result<Samples> {
        let mut s = Samples::default();
        for _ in 0..runs {
            s.0.push(self.cold_once("v0\n")?.0);
        }
        Ok(s)
    }

    /// Save-to-live samples, each paired with a cold start of the same app
    /// taken right after it (same files, same machine state): the overhead
    /// is the difference of their medians, so drift of the machine over a
    /// run does not count as ours or watchexec's.
    pub(crate) fn save_to_live(
        &self,
        tool: &Tool,
        how: Change,
        runs: usize,
    ) -> anyhow::Result<SaveToLive> {
        let r = self.spawn(tool)?;
        wait_body(r.port, "v0\n", Duration::from_secs(15))?;
        std::thread::sleep(Duration::from_millis(500));
        let file = self.dir.join("lib/message.js");
        let mut out = SaveToLive::default();
        let starts_log = self.dir.join("../").join(self.starts_name());
        for i in 1..=runs {
            let content = format!("module.exports = \"v{i}\";\n").into_bytes();
            let stream = skaffold_tar::stream(&[(file.clone(), content.clone())]);
            let started_at = epoch_ms();
            let start = Instant::now();
            match how {
                Change::TarSync => self.tar_sync(tool, &stream)?,
                Change::PlainWrite => std::fs::write(&file, &content)?,
            }
            wait_body(r.port, &format!("v{i}\n"), Duration::from_secs(15))?;
            out.live.0.push(start.elapsed());
            // The first start after the change: the process now serving.
            out.to_process
                .0
                .push(from_ms(last_origin(&starts_log)? - started_at));
            // Let a second restart (if the tool does one) happen before the next change.
            std::thread::sleep(Duration::from_millis(250));
            let (cold, init) = self.cold_once(&format!("v{i}\n"))?;
            out.cold.0.push(cold);
            out.node_init.0.push(init);
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(out)
    }

    pub(crate) fn burst(&self, tool: &Tool, n: usize) -> anyhow::Result<Burst> {
        let r = self.spawn(tool)?;
        wait_body(r.port, "v0\n", Duration::from_secs(15))?;
        std::thread::sleep(Duration::from_millis(500));
        let before = self.starts();
        let mut files: Vec<(PathBuf, Vec<u8>)> = (0..n)
            .map(|i| {
                (
                    self.dir.join(format!("src/burst/d{}/f{i}.js", i % 20)),
                    b"module.exports = 1;\n".to_vec(),
                )
            })
            .collect();
        files.push((
            self.dir.join("lib/message.js"),
            b"module.exports = \"burst\";\n".to_vec(),
        ));
        let stream = skaffold_tar::stream(&files);
        let start = Instant::now();
        self.tar_sync(tool, &stream)?;
        wait_body(r.port, "burst\n", Duration::from_mins(1))?;
        let to_new_version = start.elapsed();
        std::thread::sleep(Duration::from_secs(3));
        Ok(Burst {
            restarts: self.starts() - before,
            to_new_version,
        })
    }

    pub(crate) fn node_modules(&self, files: usize) -> anyhow::Result<()> {
        for i in 0..files {
            let dir = self.dir.join(format!("node_modules/pkg{}/lib", i / 100));
            if i % 100 == 0 {
                std::fs::create_dir_all(&dir)?;
            }
            std::fs::write(dir.join(format!("f{i}.js")), "module.exports = 0;\n")?;
        }
        Ok(())
    }

    pub(crate) fn idle(&self, tool: &Tool, duration: Duration) -> anyhow::Result<Idle> {
        let start = Instant::now();
        let r = self.spawn(tool)?;
        wait_body(r.port, "v0\n", Duration::from_mins(2))?;
        let startup = start.elapsed();
        std::thread::sleep(Duration::from_secs(1));
        let pid = r.child.id();
        let cpu0 = cpu_time(pid)?;
        std::thread::sleep(duration);
        let cpu = cpu_time(pid)?
            .checked_sub(cpu0)
            .expect("a process's CPU time never decreases");
        Ok(Idle {
            cpu,
            peak_rss_kb: peak_rss_kb(pid)?,
            watches: inotify_watches(pid),
            startup,
        })
    }
}
