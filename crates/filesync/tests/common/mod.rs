//! Shared helpers for the runtime's process-level tests: a temp app dir,
//! a recorded config, the real `filesync` binary, tar streams laid out the
//! way Skaffold's `CreateMappedTar` lays them out (absolute names).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_filesync");

pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    /// An app dir and a config with `action` (TOML of `[plan.action]`).
    pub fn new(action_toml: &str) -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        let app = dir.path().join("app");
        std::fs::create_dir_all(&app).unwrap();
        let cfg = format!(
            "process_type = \"web\"\ndebounce_ms = 50\nsocket = \"{sock}\"\n[plan]\nfamily = \"node\"\napp_dir = \"{app}\"\nignore = []\n\
             [plan.action]\n{action_toml}\n[[plan.rules]]\nsrc = \"**/*\"\ndest = \"{app}\"\n",
            sock = dir.path().join("sock").display(),
            app = app.display(),
        );
        std::fs::write(dir.path().join("cfg.toml"), cfg).unwrap();
        Sandbox { dir }
    }

    pub fn app(&self) -> PathBuf {
        self.dir.path().join("app")
    }

    pub fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    /// `filesync supervise -- CMD…` in the app dir.
    pub fn supervise(&self, cmd: &[&str]) -> Child {
        Command::new(BIN)
            .arg("supervise")
            .arg("--config")
            .arg(self.path("cfg.toml"))
            .arg("--")
            .args(cmd)
            .current_dir(self.app())
            .env("FILESYNC_SOCKET", self.path("sock"))
            .env("FILESYNC_STOP_GRACE_SECONDS", "2")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// Runs the tar shim in Skaffold's form with `stream` on stdin.
    pub fn tar(&self, stream: &[u8]) -> Output {
        shim(
            self,
            &["tar", "xmf", "-", "-C", "/", "--no-same-owner"],
            stream,
        )
    }

    pub fn rm(&self, paths: &[&Path]) -> Output {
        let mut args = vec!["rm".to_string(), "-rf".into(), "--".into()];
        args.extend(paths.iter().map(|p| p.display().to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        shim(self, &args, b"")
    }

    pub fn socket_ready(&self) {
        wait_until(Duration::from_secs(10), || self.path("sock").exists());
    }
}

pub fn shim(sb: &Sandbox, args: &[&str], stdin: &[u8]) -> Output {
    use std::io::Write;
    let mut child = Command::new(BIN)
        .args(args)
        .env("FILESYNC_SOCKET", sb.path("sock"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let w = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    w.join().unwrap();
    out
}

/// A tar stream of `(absolute path, content)` files, as Skaffold writes it.
pub fn stream(files: &[(PathBuf, Vec<u8>)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        // Absolute names, like Skaffold's: set the raw name bytes.
        let name = path.to_str().unwrap().as_bytes();
        h.as_old_mut().name[..name.len()].copy_from_slice(name);
        h.set_cksum();
        b.append(&h, data.as_slice()).unwrap();
    }
    b.into_inner().unwrap()
}

pub fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

pub fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

pub fn stop(child: Child) -> (Option<i32>, String) {
    let _ = nix_kill(child.id() as i32, 15);
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn nix_kill(pid: i32, sig: i32) -> std::io::Result<()> {
    let st = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .stderr(Stdio::null())
        .status()?;
    if st.success() {
        Ok(())
    } else {
        Err(std::io::Error::other("kill failed"))
    }
}
