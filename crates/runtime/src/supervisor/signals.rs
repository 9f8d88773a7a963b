//! The signals the supervisor takes: every one an app may expect from its
//! platform or operator, plus SIGCHLD for reaping.
//!
//! - TERM, INT, QUIT: stop the app (TERM as the configured stop signal,
//!   INT and QUIT as they are) and then the supervisor;
//! - HUP, USR1, USR2, WINCH: forwarded to the app's process group (Puma,
//!   Unicorn, nginx, Apache and `node --inspect` use them);
//! - not forwarded: the job-control signals TSTP, TTIN, TTOU and CONT. A
//!   dev container has no job control; a stopped app would look like a
//!   hung one to the supervisor and to the developer (and STOP/KILL cannot
//!   be caught at all). PIPE and ALRM are the supervisor's own business.

use nix::sys::signal::Signal;
use signal_hook::consts::{SIGCHLD, SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH};

/// Forwarded to the app (and, for TERM/INT/QUIT, the supervisor's stop).
pub const FORWARDED: [i32; 7] = [SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH];

/// Delivers every forwarded signal and SIGCHLD to `deliver` from a thread
/// of its own.
pub fn spawn(deliver: impl Fn(i32) -> bool + Send + 'static) -> std::io::Result<()> {
    let mut all = FORWARDED.to_vec();
    all.push(SIGCHLD);
    let mut signals = signal_hook::iterator::Signals::new(all)?;
    std::thread::spawn(move || {
        for s in signals.forever() {
            if !deliver(s) {
                return;
            }
        }
    });
    Ok(())
}

/// The signal named by a stop-signal setting (see
/// `config::parse_stop_signal`).
pub fn by_name(name: &str) -> Option<Signal> {
    let canonical = crate::config::parse_stop_signal(name).ok()?;
    format!("SIG{canonical}").parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_signal_names_map_to_signals() {
        assert_eq!(by_name("TERM"), Some(Signal::SIGTERM));
        assert_eq!(by_name("sigquit"), Some(Signal::SIGQUIT));
        assert_eq!(by_name("WINCH"), Some(Signal::SIGWINCH));
        assert_eq!(by_name("KILL"), Some(Signal::SIGKILL));
        assert_eq!(by_name("CHLD"), None);
        for name in crate::config::STOP_SIGNALS {
            assert!(by_name(name).is_some(), "{name}");
        }
    }
}
