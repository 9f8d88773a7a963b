//! The supervisor: the image's default process in dev builds. It runs the
//! app's own process and keeps it current.
//!
//! What it decides lives in [`policy`], a pure state machine composed of
//! small parts: the [`batcher`] (when a batch of changes is complete), one
//! [`graceful`] child each for the app and the build (stop, grace,
//! SIGKILL), the crash backoff in [`restart`]; their module docs state
//! every rule. This module only wires the world to it: it feeds
//! events in (shim and hook messages from [`crate::protocol`], file events
//! from [`crate::watch`], signals from [`signals`], children reaped by
//! [`process`], timers) and carries the actions out (start or signal the
//! app, start or signal a build in [`rebuild`], answer a shim, log, exit)
//! through its [`executor`]. Nothing in the loop blocks: stops and builds
//! are children watched through SIGCHLD and timers, never waited for.
//!
//! - **PID 1.** Every child is reaped (orphaned grandchildren too: we are
//!   a subreaper). When the app's main process is gone, whatever is left of
//!   its process group is killed, as a container's processes die with its
//!   PID 1.
//! - **Degrades instead of exiting.** Without a notification socket (see
//!   [`crate::protocol`] for where it may be) the app still runs and file
//!   events still reload it; without an inotify watcher, syncs through the
//!   shims still reload it. Either way one log line says what still works.
//! - **No refused connection during a restart.** The app's listening
//!   sockets are held across its restarts ([`held_sockets`]).

pub mod batcher;
pub mod events;
pub mod executor;
pub mod graceful;
pub mod held_sockets;
pub mod live;
pub mod policy;
pub mod process;
pub mod rebuild;
pub mod restart;
pub mod signals;

use crate::config::BatchEnd;
use crate::errors::{ListenError, WatchError};
use crate::log;
use crate::protocol::Candidate;
use crate::watch::{Gate, Watching};
use executor::{Executor, Msg};
use filesync_rules::ReloadAction;
pub use nix::sys::signal::Signal;
use policy::{Policy, Reload, Settings};
use rebuild::BuildCommand;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::mpsc::{channel, Sender};
use std::time::Duration;

pub use process::resolve;

/// Everything the supervisor needs, resolved by the caller.
pub struct Options {
    pub argv: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub cwd: PathBuf,
    pub app_dir: PathBuf,
    pub plan: filesync_rules::Plan,
    pub debounce: Duration,
    /// The configured socket path (fallbacks: [`crate::protocol::candidates`]).
    pub socket: PathBuf,
    pub grace: Duration,
    pub stop_signal: Signal,
    pub batch_end: BatchEnd,
}

/// Runs the app under supervision until a stop signal; returns the exit
/// status the supervisor ends with (the app's, see [`policy`]).
pub fn run(opts: Options) -> anyhow::Result<i32> {
    let _ = nix::sys::prctl::set_child_subreaper(true);
    let (tx, rx) = channel::<Msg>();
    {
        let tx = tx.clone();
        signals::spawn(move |s| tx.send(Msg::Signal(s)).is_ok())?;
    }
    let (socket, watching) = listen_and_watch(&opts, &tx);
    log_inputs(&opts, &socket, &watching);
    let (settings, build_cmd) = settings(&opts);
    // Next to the sync socket, which found a writable directory.
    let dir = socket
        .as_ref()
        .ok()
        .and_then(|p| p.parent())
        .map_or_else(std::env::temp_dir, PathBuf::from);
    let holding = held_sockets::Holding::start(&dir, &opts.env);
    let executor = Executor::new(opts, Policy::new(settings), build_cmd, holding, tx);
    Ok(executor.run(&rx))
}

type Listening = Result<PathBuf, ListenError>;

/// The two ways changes reach the loop: the shims' socket and the
/// file-system watcher (either may be missing, see the module docs).
fn listen_and_watch(opts: &Options, tx: &Sender<Msg>) -> (Listening, Result<Watching, WatchError>) {
    let gate = Gate::new(Some(opts.app_dir.clone()));
    let socket = {
        let tx = tx.clone();
        let candidates: Vec<Candidate> = crate::protocol::candidates(&opts.socket);
        crate::protocol::listen(&candidates, gate.clone(), move |e| {
            tx.send(Msg::Shim(e)).is_ok()
        })
    };
    let watching = {
        let tx = tx.clone();
        crate::watch::start(opts.app_dir.clone(), &opts.plan, gate, move |rel| {
            tx.send(Msg::Fs(rel)).is_ok()
        })
    };
    (socket, watching)
}

/// One line saying what reloads the app, and one per part that is missing
/// saying what still works without it.
fn log_inputs(opts: &Options, socket: &Listening, watching: &Result<Watching, WatchError>) {
    let socket_note = match socket {
        Ok(path) if *path == opts.socket => format!("sync socket {}", path.display()),
        Ok(path) => format!(
            "sync socket {} ({} could not be created)",
            path.display(),
            opts.socket.display()
        ),
        Err(_) => "no sync socket".into(),
    };
    match watching {
        Ok(w) => log!(
            "watching {} ({} directories); {socket_note}",
            opts.app_dir.display(),
            w.dirs
        ),
        Err(_) => log!("not watching {}; {socket_note}", opts.app_dir.display()),
    }
    if let Err(why) = socket {
        log!(
            "degraded: no sync socket ({why}). The app runs, and file changes still reload it through file-system events (debounced), but syncs are not batched: a large sync may restart it more than once"
        );
    }
    match watching {
        Err(e) => log!(
            "degraded: no file-system watcher ({e}; on a shared node, fs.inotify.max_user_instances may be exhausted). The app runs, and syncs through Skaffold's tar and rm still reload it; changes made any other way (kubectl cp, an editor in the container) are not seen"
        ),
        Ok(w) => {
            if let Some((n, first)) = &w.failed {
                log!(
                    "degraded: {n} directories are not watched (first: {first}; fs.inotify.max_user_watches may be reached); syncs through Skaffold's tar and rm still reload the app"
                );
            }
        }
    }
}

/// The policy's settings from the options, and the rebuild command when
/// the plan rebuilds.
fn settings(opts: &Options) -> (Settings, Option<BuildCommand>) {
    let (reload, build_cmd) = match &opts.plan.action {
        ReloadAction::None => (Reload::None, None),
        ReloadAction::Restart => (Reload::Restart, None),
        ReloadAction::Rebuild { command } => (
            Reload::Rebuild,
            Some(BuildCommand::new(command, &opts.argv[0], &opts.env)),
        ),
    };
    let settings = Settings {
        reload,
        build_command: build_cmd
            .as_ref()
            .map(BuildCommand::display)
            .unwrap_or_default(),
        debounce: opts.debounce,
        batch_end: opts.batch_end,
        grace: opts.grace,
        stop_signal: opts.stop_signal,
    };
    (settings, build_cmd)
}
