//! The measurements: a small Node.js app, the two supervisors around it,
//! and timing by HTTP polling on loopback.

use anyhow::Context;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub enum Tool {
    Ours(PathBuf),
    Watchexec(PathBuf),
}

impl Tool {
    pub fn name(&self) -> &'static str {
        match self {
            Tool::Ours(_) => "filesync",
            Tool::Watchexec(_) => "watchexec",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Skaffold's path: a tar stream into `tar xmf - -C / --no-same-owner`
    /// (our shim for filesync, GNU tar for watchexec, which has none).
    TarSync,
    /// An editor-style write of the file in place.
    PlainWrite,
}

impl Change {
    pub fn name(self) -> &'static str {
        match self {
            Change::TarSync => "tar-sync",
            Change::PlainWrite => "plain-write",
        }
    }
}

#[derive(Default)]
pub struct Samples(pub Vec<Duration>);

/// One tool's save-to-live runs for one kind of change.
#[derive(Default)]
pub struct SaveToLive {
    /// Change start → first response with the new content.
    pub live: Samples,
    /// Change start → `performance.timeOrigin` of the app process serving it.
    pub to_process: Samples,
    /// Paired cold starts (spawn → first response), one after each run.
    pub cold: Samples,
    /// Paired: spawn → `performance.timeOrigin` when node is started directly.
    pub node_init: Samples,
}

impl SaveToLive {
    /// What the tool adds before the app's own start: change start → the
    /// new process's timeOrigin, minus node's own spawn → timeOrigin.
    pub fn overhead_ms(&self) -> f64 {
        (ms(self.to_process.median()) - ms(self.node_init.median())).max(0.0)
    }

    /// Cross-check: save-to-live median minus paired cold-start median
    /// (noisy: node's start-up varies by tens of ms run to run).
    pub fn paired_difference_ms(&self) -> f64 {
        ms(self.live.median()) - ms(self.cold.median())
    }
}

impl Samples {
    fn sorted(&self) -> Vec<Duration> {
        let mut v = self.0.clone();
        v.sort();
        v
    }
    pub fn median(&self) -> Duration {
        let v = self.sorted();
        v.get(v.len() / 2).copied().unwrap_or_default()
    }
    pub fn p90(&self) -> Duration {
        let v = self.sorted();
        v.get((v.len() * 9 / 10).min(v.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    }
}

pub struct Burst {
    pub restarts: usize,
    pub to_new_version: Duration,
}

pub struct Idle {
    pub cpu: Duration,
    pub peak_rss_kb: u64,
    pub watches: usize,
    pub startup: Duration,
}

pub struct Sizes {
    pub filesync: u64,
    pub watchexec: u64,
}

pub struct App {
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

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn get(port: u16) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.write_all(b"GET / HTTP/1.0\r\n\r\n").ok()?;
    let mut raw = String::new();
    s.read_to_string(&mut raw).ok()?;
    raw.split_once("\r\n\r\n").map(|(_, b)| b.to_string())
}

/// Polls every 1 ms until the body is exactly `want`.
fn wait_body(port: u16, want: &str, timeout: Duration) -> anyhow::Result<Duration> {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if get(port).as_deref() == Some(want) {
            return Ok(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    anyhow::bail!("no response {want:?} within {timeout:?}")
}

struct Running {
    child: Child,
    port: u16,
}

impl Drop for Running {
    fn drop(&mut self) {
        let pg = nix_pgid(self.child.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{pg}")])
            .output();
        let _ = self.child.wait();
    }
}

fn nix_pgid(pid: u32) -> u32 {
    pid // spawned with process_group(0): its own group
}

impl App {
    pub fn create(dir: &Path) -> anyhow::Result<App> {
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
            .map(|s| s.lines().count())
            .unwrap_or(0)
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
                    &Default::default(),
                )?;
                let config = filesync_contract::config::RuntimeConfig {
                    plan,
                    process_type: "web".into(),
                    debounce_ms: 50,
                    socket: self.socket().display().to_string(),
                    stop_signal: None,
                    batch_end: Default::default(),
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
            Tool::Watchexec(bin) => {
                // Paketo's live-reload invocation, ignoring what it ignores.
                let mut c = Command::new(bin);
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

    /// Skaffold's tar stream for `files` (absolute names).
    fn stream(files: &[(PathBuf, Vec<u8>)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (path, data) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            let name = path.to_str().unwrap().as_bytes();
            h.as_old_mut().name[..name.len()].copy_from_slice(name);
            h.set_cksum();
            b.append(&h, data.as_slice()).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn tar_sync(&self, tool: &Tool, stream: &[u8]) -> anyhow::Result<()> {
        let mut cmd = match tool {
            Tool::Ours(bin) => {
                let mut c = Command::new(bin);
                c.arg("tar");
                c
            }
            Tool::Watchexec(_) => Command::new("tar"),
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

    pub fn cold_start(&self, runs: usize) -> anyhow::Result<Samples> {
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
    pub fn save_to_live(
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
            let stream = Self::stream(&[(file.clone(), content.clone())]);
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

    pub fn burst(&self, tool: &Tool, n: usize) -> anyhow::Result<Burst> {
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
        let stream = Self::stream(&files);
        let start = Instant::now();
        self.tar_sync(tool, &stream)?;
        wait_body(r.port, "burst\n", Duration::from_secs(60))?;
        let to_new_version = start.elapsed();
        std::thread::sleep(Duration::from_secs(3));
        Ok(Burst {
            restarts: self.starts() - before,
            to_new_version,
        })
    }

    pub fn node_modules(&self, files: usize) -> anyhow::Result<()> {
        for i in 0..files {
            let dir = self.dir.join(format!("node_modules/pkg{}/lib", i / 100));
            if i % 100 == 0 {
                std::fs::create_dir_all(&dir)?;
            }
            std::fs::write(dir.join(format!("f{i}.js")), "module.exports = 0;\n")?;
        }
        Ok(())
    }

    pub fn idle(&self, tool: &Tool, duration: Duration) -> anyhow::Result<Idle> {
        let start = Instant::now();
        let r = self.spawn(tool)?;
        wait_body(r.port, "v0\n", Duration::from_secs(120))?;
        let startup = start.elapsed();
        std::thread::sleep(Duration::from_secs(1));
        let pid = r.child.id();
        let cpu0 = cpu_time(pid)?;
        std::thread::sleep(duration);
        let cpu = cpu_time(pid)? - cpu0;
        Ok(Idle {
            cpu,
            peak_rss_kb: peak_rss_kb(pid)?,
            watches: inotify_watches(pid),
            startup,
        })
    }
}

/// utime + stime of a process (all its threads), from /proc/PID/stat.
fn cpu_time(pid: u32) -> anyhow::Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let after = stat.rsplit_once(") ").context("stat")?.1;
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = f[11].parse::<u64>()? + f[12].parse::<u64>()?;
    Ok(Duration::from_millis(ticks * 10)) // CLK_TCK = 100 on Linux
}

fn peak_rss_kb(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .context("VmHWM")?;
    Ok(line
        .split_whitespace()
        .nth(1)
        .context("VmHWM value")?
        .parse()?)
}

fn inotify_watches(pid: u32) -> usize {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fdinfo")) else {
        return 0;
    };
    fds.flatten()
        .filter_map(|f| std::fs::read_to_string(f.path()).ok())
        .map(|info| {
            info.lines()
                .filter(|l| l.starts_with("inotify wd:"))
                .count()
        })
        .sum()
}

#[derive(Default)]
pub struct Report {
    pub cold_start: Duration,
    pub save_to_live: Vec<(&'static str, Change, SaveToLive)>,
    pub burst: Vec<(&'static str, Burst)>,
    pub idle: Vec<(&'static str, Idle, u64)>,
    pub sizes: Option<Sizes>,
}

fn cmd_out(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_string()
        })
        .unwrap_or_default()
}

fn ratio(a: f64, b: f64) -> String {
    if b <= 0.0 {
        "—".into()
    } else {
        format!("{:.2}×", a / b)
    }
}

impl Report {
    pub fn markdown(
        &self,
        runs: usize,
        idle_seconds: u64,
        filesync: &Path,
        watchexec: &Path,
    ) -> String {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|c| {
                c.lines()
                    .find(|l| l.starts_with("model name"))
                    .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
            })
            .unwrap_or_default();
        let mut s = String::from("# Benchmarks: filesync vs watchexec\n\n");
        s += "Reproduce with `scripts/bench.sh` (builds the release binaries, installs watchexec with \
              `cargo install watchexec-cli --locked` into `.work/tools`, runs `filesync-bench`). Same Node.js HTTP app, \
              same changes, same machine, one run. watchexec is run the way Paketo's live reload runs it \
              (`--restart --shell none --watch APP`, ignoring node_modules and the manifests).\n\n";
        s += &format!(
            "Machine: {} cores, {cpu}, Linux {}. node {}, {}, filesync {}. {runs} runs per figure.\n\n",
            std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
            cmd_out("uname", &["-r"]),
            cmd_out("node", &["--version"]),
            cmd_out(watchexec.to_str().unwrap(), &["--version"]),
            cmd_out(filesync.to_str().unwrap(), &["--version"]),
        );
        let cold = ms(self.cold_start);
        s += &format!(
            "App cold start (node, spawn → first response), measured alone before the runs: median **{cold:.1} ms**.\n\n"
        );
        s += "## Save-to-live\n\n*Save-to-live*: from the moment the sync command (or write) starts to the first HTTP \
              response with the new content. *Overhead*: what the supervisor adds before the app's own start — from \
              the moment the change starts to the `performance.timeOrigin` of the node process that then serves it, \
              minus the same interval when node is spawned directly (measured by a cold start of the same app paired \
              with every run: spawn → first response, and spawn → timeOrigin). The *paired difference* (save-to-live \
              median minus paired cold-start median) is shown as a cross-check; node's own start-up varies by tens \
              of ms from run to run, so it is noisy and can come out negative.\n\n";
        s += "| change | tool | save-to-live median | p90 | paired cold start | change → new process (median) | node spawn → timeOrigin | **overhead** | paired difference |\n|---|---|---|---|---|---|---|---|---|\n";
        for how in [Change::TarSync, Change::PlainWrite] {
            for tool in ["filesync", "watchexec"] {
                if let Some(r) = self.run(tool, how) {
                    s += &format!(
                        "| {} | {tool} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | **{:.1} ms** | {:.1} ms |\n",
                        how.name(),
                        ms(r.live.median()),
                        ms(r.live.p90()),
                        ms(r.cold.median()),
                        ms(r.to_process.median()),
                        ms(r.node_init.median()),
                        r.overhead_ms(),
                        r.paired_difference_ms(),
                    );
                }
            }
            if let (Some(o), Some(w)) = (self.run("filesync", how), self.run("watchexec", how)) {
                s += &format!(
                    "| {} | ratio ours/watchexec | {} | | | | | **{}** | |\n",
                    how.name(),
                    ratio(ms(o.live.median()), ms(w.live.median())),
                    ratio(o.overhead_ms(), w.overhead_ms()),
                );
            }
        }
        s += "\n## Burst: a 2,000-file sync\n\n| | restarts | time to the new version |\n|---|---|---|\n";
        for (name, b) in &self.burst {
            s += &format!(
                "| {name} | {} | {:.0} ms |\n",
                b.restarts,
                ms(b.to_new_version)
            );
        }
        s += &format!(
            "\n## Idle with a 100,000-file node_modules\n\nThe supervisor process only (not the app), over {idle_seconds} s idle.\n\n\
             | | CPU | CPU per minute | peak RSS | inotify watches | start-up (to first response) |\n|---|---|---|---|---|---|\n"
        );
        for (name, i, secs) in &self.idle {
            s += &format!(
                "| {name} | {:.3} s | {:.4} s | {:.1} MB | {} | {:.0} ms |\n",
                i.cpu.as_secs_f64(),
                i.cpu.as_secs_f64() * 60.0 / *secs as f64,
                i.peak_rss_kb as f64 / 1024.0,
                i.watches,
                ms(i.startup)
            );
        }
        if let Some(z) = &self.sizes {
            s += &format!(
                "\n## Size\n\n| | bytes |\n|---|---|\n| filesync runtime binary (static, as packaged) | {} |\n\
                 | image bytes the buildpack adds (the binary + its config, one layer) | ≈ {} |\n| watchexec binary (dynamic, for reference) | {} |\n",
                z.filesync,
                z.filesync + 4096,
                z.watchexec
            );
        }
        s += &self.targets();
        s
    }

    fn run(&self, tool: &str, how: Change) -> Option<&SaveToLive> {
        self.save_to_live
            .iter()
            .find(|(n, h, _)| *n == tool && *h == how)
            .map(|(_, _, r)| r)
    }

    /// The issue's targets, judged on this run's figures.
    fn targets(&self) -> String {
        let verdict = |ok: bool| if ok { "met" } else { "**missed**" };
        let mut s = String::from(
            "\n## Against the targets (this run)\n\n| target | measured | |\n|---|---|---|\n",
        );
        if let (Some(o), Some(w)) = (
            self.run("filesync", Change::TarSync),
            self.run("watchexec", Change::TarSync),
        ) {
            let (oo, wo) = (o.overhead_ms(), w.overhead_ms());
            let r = if wo > 0.0 { oo / wo } else { f64::INFINITY };
            s += &format!(
                "| save-to-live overhead (tar-sync, excl. cold start) median ≤ 10 ms and ≤ 0.25× watchexec | {oo:.1} ms, {} watchexec ({wo:.1} ms); paired difference {:.1} ms vs {:.1} ms | {} |\n",
                ratio(oo, wo),
                o.paired_difference_ms(),
                w.paired_difference_ms(),
                verdict(oo <= 10.0 && r <= 0.25)
            );
        }
        let restarts = |n: &str| {
            self.burst
                .iter()
                .find(|(t, _)| *t == n)
                .map(|(_, b)| b.restarts)
        };
        if let (Some(o), Some(w)) = (restarts("filesync"), restarts("watchexec")) {
            s += &format!(
                "| burst: exactly 1 restart | {o} (watchexec: {w}) | {} |\n",
                verdict(o == 1)
            );
        }
        if let Some((_, i, secs)) = self.idle.iter().find(|(n, _, _)| *n == "filesync") {
            let per_min = i.cpu.as_secs_f64() * 60.0 / *secs as f64;
            let mb = i.peak_rss_kb as f64 / 1024.0;
            s += &format!(
                "| idle CPU ≤ 0.01 s/min, RSS ≤ 8 MB, no watches on node_modules | {per_min:.4} s/min, {mb:.1} MB, {} watches (none in node_modules) | {} |\n",
                i.watches,
                verdict(per_min <= 0.01 && mb <= 8.0 && i.watches < 10)
            );
        }
        if let Some(z) = &self.sizes {
            let added = z.filesync + 4096;
            s += &format!(
                "| image bytes added ≤ 5 MB | ≈ {:.2} MB (one layer: the static binary and its config) | {} |\n",
                added as f64 / 1e6,
                verdict(added <= 5_000_000)
            );
        }
        s
    }
}
