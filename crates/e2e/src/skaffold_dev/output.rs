//! Skaffold's output, read line by line as it prints it, and waited on.

use anyhow::Context;
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use super::Project;

/// Skaffold's output, each line with the moment it was read.
#[derive(Default)]
pub(super) struct Output {
    pub(super) lines: Mutex<Vec<(Instant, String)>>,
    pub(super) grew: Condvar,
    /// Streams (stdout, stderr) that reached their end: both closed means
    /// Skaffold exited.
    pub(super) closed: std::sync::atomic::AtomicUsize,
}

/// A line of Skaffold's output that a test waited for.
#[derive(Debug, Clone)]
pub struct Line {
    pub index: usize,
    pub at: Instant,
    pub text: String,
}

/// `skaffold dev` (port forwards of the user's config, no artifact cache)
/// with `extra` flags, its output read line by line into an [`Output`].
pub(super) fn spawn_dev(project: &Project, extra: &[&str]) -> anyhow::Result<(Child, Arc<Output>)> {
    let mut child = project
        .skaffold(&["dev", "--port-forward=user", "--cache-artifacts=false"])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting skaffold dev")?;
    let output = Arc::new(Output::default());
    for stream in [
        Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ] {
        let output = output.clone();
        let echo = std::env::var_os("FILESYNC_SKAFFOLD_ECHO").is_some();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                let line = strip_ansi(&line);
                if echo {
                    eprintln!("  | {line}");
                }
                output
                    .lines
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push((Instant::now(), line));
                output.grew.notify_all();
            }
            output
                .closed
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            output.grew.notify_all();
        });
    }
    Ok((child, output))
}

/// `line` without terminal colour sequences (pack colours its phase
/// headers even when Skaffold's own colours are off).
pub(super) fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ parameters… final byte in @..~
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn colour_sequences_are_stripped_and_text_kept() {
        assert_eq!(
            super::strip_ansi("\u{1b}[36m===> BUILDING\u{1b}[0m done"),
            "===> BUILDING done"
        );
        assert_eq!(super::strip_ansi("plain [x]"), "plain [x]");
    }
}
