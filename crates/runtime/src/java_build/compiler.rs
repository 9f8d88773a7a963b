//! Compiling: javac's arguments in an argument file, run by the resident
//! compiler (`FilesyncCompiler`, a JVM kept warm across syncs: a compile
//! costs javac's work only) or, when that cannot start, by a `javac`
//! process (a JVM start and javac's warm-up on every sync).
//!
//! The resident compiler is started on the first compile, in a process
//! group of its own (the supervisor stops a cancelled rebuild's whole
//! group; the compiler outlives it) with its output in
//! `/tmp/filesync-javac.log`, never on the rebuild's pipes (the
//! supervisor waits for their end). It runs without `JAVA_TOOL_OPTIONS`:
//! that is for the app (the dev loop's flags, Paketo's memory settings).

use super::state::Found;
use super::JavaBuildConfig;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long the resident compiler may take to listen after its start.
const START_TIMEOUT: Duration = Duration::from_secs(30);
const SERVER_LOG: &str = "/tmp/filesync-javac.log";

/// Compiles every source into `out`; `Ok(false)`: javac reported errors
/// (on our stderr).
pub(super) fn compile(
    config: &JavaBuildConfig,
    sources: &[Found],
    out: &Path,
) -> anyhow::Result<bool> {
    let argfile = out.with_extension("args");
    std::fs::write(&argfile, argfile_text(config, sources, out))?;
    let result = match server(config) {
        Some(stream) => ask(stream, &argfile),
        None => javac_process(&argfile),
    };
    let _ = std::fs::remove_file(&argfile);
    result
}

/// javac's arguments, one a line, each quoted (argument-file syntax: a
/// `"…"` string with `\\` and `\"` escapes). `-g` and `-parameters` as
/// Maven's compiler plugin passes them by default and with Spring Boot's
/// parent POM; an explicit class path, else javac would read the app's
/// `CLASSPATH`.
pub(super) fn argfile_text(config: &JavaBuildConfig, sources: &[Found], out: &Path) -> String {
    let classpath = std::env::join_paths(&config.classpath)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut args: Vec<String> = vec![
        "-d".into(),
        out.display().to_string(),
        "-classpath".into(),
        classpath,
        "-encoding".into(),
        "UTF-8".into(),
        "-g".into(),
        "-parameters".into(),
    ];
    if let Some(release) = config.release {
        args.extend(["--release".into(), release.to_string()]);
    }
    args.extend(
        sources
            .iter()
            .map(|s| config.sources.join(&s.path).display().to_string()),
    );
    args.iter()
        .map(|a| format!("\"{}\"\n", a.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect()
}

/// A connection to the resident compiler, started if need be; `None`
/// when there is none to have (not recorded, or it did not start).
fn server(config: &JavaBuildConfig) -> Option<UnixStream> {
    if let Ok(stream) = UnixStream::connect(&config.socket) {
        return Some(stream);
    }
    let dir = config.compiler.as_ref()?;
    let mut child = start_server(dir, &config.socket)
        .map_err(|e| eprintln!("the resident compiler did not start ({e}); running javac"))
        .ok()?;
    let deadline = Instant::now() + START_TIMEOUT;
    while Instant::now() < deadline {
        if let Ok(stream) = UnixStream::connect(&config.socket) {
            // Left running: reaped by the supervisor (PID 1) once orphaned.
            std::mem::forget(child);
            return Some(stream);
        }
        if let Ok(Some(status)) = child.try_wait() {
            eprintln!("the resident compiler exited ({status}, see {SERVER_LOG}); running javac");
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    eprintln!("the resident compiler did not listen within {START_TIMEOUT:?}; running javac");
    None
}

fn start_server(dir: &Path, socket: &Path) -> std::io::Result<std::process::Child> {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(SERVER_LOG)?;
    Command::new("java")
        .arg("-cp")
        .arg(dir)
        .arg("FilesyncCompiler")
        .arg(socket)
        .env_remove("JAVA_TOOL_OPTIONS")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .process_group(0)
        .spawn()
}

/// One compile by the resident compiler: its output to our stderr, its
/// last line `exit N` the status.
fn ask(mut stream: UnixStream, argfile: &Path) -> anyhow::Result<bool> {
    writeln!(stream, "{}", argfile.display())?;
    let mut status = None;
    for line in BufReader::new(stream).lines() {
        let line = line?;
        match line.strip_prefix("exit ") {
            Some(code) => status = code.trim().parse::<i32>().ok(),
            None => eprintln!("{line}"),
        }
    }
    status
        .map(|s| s == 0)
        .ok_or_else(|| anyhow::anyhow!("the resident compiler gave no status"))
}

/// The same compile by a `javac` process (on the image's PATH: the JDK).
fn javac_process(argfile: &Path) -> anyhow::Result<bool> {
    let mut arg = std::ffi::OsString::from("@");
    arg.push(argfile);
    let status = Command::new("javac")
        .arg(arg)
        .env_remove("JAVA_TOOL_OPTIONS")
        .status()
        .map_err(|e| anyhow::anyhow!("running javac: {e}"))?;
    Ok(status.success())
}
