//! Rebuilds as tracked children: the build command runs in its own process
//! group (so cancelling it stops everything it started), its stdout and
//! stderr are streamed line by line to our log with a `[filesync] build:`
//! prefix as they come, and its exit is seen by the main loop's reaper,
//! never waited for.

use super::process::{resolve, Spec};
use crate::log;
use nix::unistd::Pid;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// The rebuild command, with `{process_command}` resolved once.
pub struct BuildCommand {
    pub argv: Vec<String>,
    /// The app's program as started.
    pub exe: PathBuf,
    /// Where the build writes it (differs from `exe` when the original
    /// cannot be replaced in place; see [`rebuild_output`]).
    pub output: PathBuf,
}

impl BuildCommand {
    pub fn new(
        command: &[String],
        app_argv0: &str,
        env: &BTreeMap<String, String>,
    ) -> BuildCommand {
        let path = env.get("PATH").map(String::as_str).unwrap_or_default();
        let exe = resolve(app_argv0, path).unwrap_or_else(|| PathBuf::from(app_argv0));
        // Only a command that writes the program itself (Go's
        // `-o {process_command}`) may need it elsewhere.
        let writes_program = command.iter().any(|a| a.contains("{process_command}"));
        let output = if writes_program {
            rebuild_output(&exe)
        } else {
            exe.clone()
        };
        let argv = command
            .iter()
            .map(|a| a.replace("{process_command}", &output.to_string_lossy()))
            .collect();
        BuildCommand { argv, exe, output }
    }

    pub fn display(&self) -> String {
        self.argv.join(" ")
    }

    /// Starts the build in `cwd`; `closed(id)` is called from a reader
    /// thread when each of its two output pipes reaches EOF.
    pub fn spawn(
        &self,
        env: &BTreeMap<String, String>,
        cwd: &Path,
        id: u64,
        closed: impl Fn(u64) + Send + Clone + 'static,
    ) -> std::io::Result<Pid> {
        if self.argv.is_empty() {
            return Err(std::io::Error::other("the rebuild command is empty"));
        }
        let path = env.get("PATH").map(String::as_str).unwrap_or_default();
        let program = resolve(&self.argv[0], path).unwrap_or_else(|| PathBuf::from(&self.argv[0]));
        let spec = Spec {
            program: &program,
            argv: &self.argv,
            env,
            cwd,
        };
        let mut child = spec
            .command()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let pid =
            Pid::from_raw(i32::try_from(child.id()).expect("Linux pids fit i32 (pid_max <= 2^22)"));
        let out = child.stdout.take().expect("piped");
        let err = child.stderr.take().expect("piped");
        // Reaped by the main loop (waitpid(-1)), not through `Child`.
        std::mem::forget(child);
        stream(out, id, closed.clone());
        stream(err, id, closed);
        Ok(pid)
    }
}

/// Copies `pipe` to our log line by line (lossy UTF-8), then reports EOF.
fn stream(pipe: impl Read + Send + 'static, id: u64, closed: impl Fn(u64) + Send + 'static) {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(pipe);
        let mut line = Vec::new();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let text = String::from_utf8_lossy(&line);
                    log!("build: {}", text.trim_end_matches(['\n', '\r']));
                }
            }
        }
        closed(id);
    });
}

/// Where a rebuild writes the app's program: over the original when the
/// container's user may replace it, else (the layer belongs to root under
/// Skaffold, to the build user under Paketo) a copy under
/// `/tmp/filesync-rebuilt/`, which is then started instead.
fn rebuild_output(exe: &Path) -> PathBuf {
    let replaceable = exe
        .parent()
        .is_some_and(|dir| nix::unistd::access(dir, nix::unistd::AccessFlags::W_OK).is_ok());
    if replaceable {
        return exe.to_path_buf();
    }
    let dir = std::env::temp_dir().join("filesync-rebuilt");
    if let Err(e) = std::fs::create_dir_all(&dir) {
        log!("cannot create {}: {e}", dir.display());
    }
    dir.join(
        exe.file_name()
            .unwrap_or_else(|| std::ffi::OsStr::new("app")),
    )
}
