//! Holding the app's listening sockets across restarts, so that no
//! connection is refused while it reloads.
//!
//! **Why.** A restart-type reload closes the app's port for ~100 ms; a
//! connection then is refused, and since kubectl 1.23 a port-forward
//! closes on the first such error (client-go
//! `tools/portforward/portforward.go`, kubernetes#103526): Skaffold then
//! waits 500 ms and starts a new kubectl, which waits up to 1 s for the pod
//! (`pkg/skaffold/kubernetes/portforward/kubectl_forwarder.go`). Docker
//! publishes ports without a forwarder, so it never shows there.
//!
//! **How.** The app runs with `libfilesync_listen.so` preloaded
//! (`crates/listen-preload`; `LD_PRELOAD`, appended to the image's, and
//! [`SOCKET_ENV`] for the app's process only, never a build's). After the
//! app's `listen`, the interposer hands the supervisor a copy of the
//! socket ([`server`]), held in a [`table`] by address. While the app is
//! stopped between versions the kernel keeps that socket listening (our
//! copy), so a connection arriving then completes its handshake, waits in
//! the backlog and is accepted by the next version, whose `bind` of the
//! same address gets the held socket instead of a new one. A held socket
//! the next version does not take again is closed once that version is
//! live (or given up on): a port the app left stops taking connections.
//!
//! **Fall-back, said once.** No interposer (not installed, or turned off
//! with [`PRELOAD_ENV`]), no socket for it, or an app that listens
//! without glibc's `bind` (a static Go binary, a runtime making its own
//! syscalls): the app runs as before, and at its first stop while it
//! listens on a port nothing holds, one line says that connections
//! during a restart may be refused, and why.

pub mod server;
pub mod table;

use crate::log;
use filesync_contract::held_sockets::{PRELOAD_ENV, PRELOAD_FILE, SOCKET_ENV, SOCKET_FILE};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use table::Table;

/// The supervisor's held sockets, or why there are none.
pub struct Holding {
    active: Result<Active, String>,
    said: bool,
}

struct Active {
    preload: PathBuf,
    socket: PathBuf,
    table: Arc<Mutex<Table>>,
}

impl Holding {
    /// Serves the held-sockets socket in `dir` when the interposer is
    /// there to use it (`own_env`: the supervisor's environment).
    pub fn start(dir: &Path, own_env: &BTreeMap<String, String>) -> Holding {
        let active = find_preload(own_env).and_then(|preload| {
            let socket = dir.join(SOCKET_FILE);
            let table = Arc::new(Mutex::new(Table::default()));
            server::serve(&socket, Arc::clone(&table))
                .map_err(|e| format!("its socket {} cannot be made ({e})", socket.display()))?;
            Ok(Active {
                preload,
                socket,
                table,
            })
        });
        Holding {
            active,
            said: false,
        }
    }

    /// The app's environment: `env` with the interposer preloaded.
    pub fn app_env(&self, env: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        let mut env = env.clone();
        if let Ok(a) = &self.active {
            let ours = a.preload.display().to_string();
            let preload = match env.get("LD_PRELOAD").filter(|p| !p.trim().is_empty()) {
                Some(theirs) => format!("{theirs}:{ours}"),
                None => ours,
            };
            env.insert("LD_PRELOAD".into(), preload);
            env.insert(SOCKET_ENV.into(), a.socket.display().to_string());
        }
        env
    }

    /// The ports held: those the app bound by number.
    pub fn ports(&self) -> BTreeSet<u16> {
        self.with_table(|t| t.ports()).unwrap_or_default()
    }

    /// The app has started again.
    pub fn started(&self) {
        self.with_table(Table::started);
    }

    /// The app is being stopped while it listens on `ports` (not counting
    /// ephemeral ones): once, a line for those nothing holds.
    pub fn stopping(&mut self, ports: &BTreeSet<u16>) {
        if self.said {
            return;
        }
        let held = self.ports();
        let unheld: Vec<String> = ports.difference(&held).map(u16::to_string).collect();
        if unheld.is_empty() {
            return;
        }
        self.said = true;
        let why = match &self.active {
            Ok(_) => "the app does not listen through glibc's bind (a static binary, or a runtime making its own system calls)".to_owned(),
            Err(why) => why.clone(),
        };
        log!(
            "port {} is not held across restarts: {why}; a connection while the app restarts may be refused (a kubectl port-forward then closes)",
            unheld.join(", port ")
        );
    }

    /// The new version is live (or given up on): what it did not take
    /// again is released.
    pub fn settled(&self) {
        self.with_table(Table::release_unused);
    }

    fn with_table<T>(&self, f: impl FnOnce(&mut Table) -> T) -> Option<T> {
        let a = self.active.as_ref().ok()?;
        let mut t = a.table.lock().unwrap_or_else(PoisonError::into_inner);
        Some(f(&mut t))
    }
}

/// The interposer: [`PRELOAD_ENV`] when set (empty: none), else
/// [`PRELOAD_FILE`] next to the running binary.
fn find_preload(own_env: &BTreeMap<String, String>) -> Result<PathBuf, String> {
    if let Some(p) = own_env.get(PRELOAD_ENV) {
        if p.is_empty() {
            return Err(format!("{PRELOAD_ENV} is empty"));
        }
        let path = PathBuf::from(p);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("{PRELOAD_ENV} names {p}, which is not a file"))
        };
    }
    let exe =
        std::env::current_exe().map_err(|e| format!("the runtime's path is unknown ({e})"))?;
    let path = exe.with_file_name(PRELOAD_FILE);
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!("{} is not installed", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_app_gets_the_interposer_after_the_images_preload() {
        let dir = tempfile::tempdir().unwrap();
        let so = dir.path().join(PRELOAD_FILE);
        std::fs::write(&so, "").unwrap();
        let own = env(&[(PRELOAD_ENV, so.to_str().unwrap())]);
        let holding = Holding::start(dir.path(), &own);
        let app = holding.app_env(&env(&[("LD_PRELOAD", "/lib/theirs.so"), ("A", "1")]));
        assert_eq!(
            app["LD_PRELOAD"],
            format!("/lib/theirs.so:{}", so.display())
        );
        assert_eq!(
            app[SOCKET_ENV],
            dir.path().join(SOCKET_FILE).display().to_string()
        );
        assert_eq!(app["A"], "1");
        let bare = holding.app_env(&env(&[]));
        assert_eq!(bare["LD_PRELOAD"], so.display().to_string());
    }

    #[test]
    fn without_the_interposer_the_app_env_is_untouched_and_the_reason_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        for (value, why) in [("", "is empty"), ("/nonexistent.so", "not a file")] {
            let holding = Holding::start(dir.path(), &env(&[(PRELOAD_ENV, value)]));
            let app = env(&[("LD_PRELOAD", "/lib/theirs.so")]);
            assert_eq!(holding.app_env(&app), app);
            let reason = holding.active.as_ref().err().unwrap();
            assert!(reason.contains(why), "{reason}");
        }
    }
}
