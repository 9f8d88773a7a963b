//! `libfilesync_listen.so`: preloaded into a dev image's app (only the
//! app, never the supervisor or a build) so that its listening sockets
//! outlive a restart.
//!
//! Why: during a restart-type reload the app's port is closed for ~100 ms;
//! a connection then is refused, and since kubectl 1.23 a port-forward
//! closes for good on the first such error (client-go
//! `tools/portforward/portforward.go`, kubernetes#103526), so Skaffold
//! re-forwards after 500 ms and more
//! (`pkg/skaffold/kubernetes/portforward/kubectl_forwarder.go`).
//!
//! How: it shadows `bind` and `listen` (the real ones through
//! `dlsym(RTLD_NEXT, ..)`), for a `SOCK_STREAM` socket of `AF_INET` or
//! `AF_INET6` bound to a non-zero port only:
//! - `bind`: asks the supervisor (the socket in
//!   [`SOCKET_ENV`](filesync_contract::held_sockets::SOCKET_ENV)) for a socket it holds for that exact
//!   address; if it has one, `dup3`s it over the app's fd, keeping the
//!   flags the app set on its fd (`FD_CLOEXEC`, `O_NONBLOCK`), and returns
//!   0. The socket already listens; the app's `listen` then only sets its
//!   backlog. Otherwise the real `bind`.
//! - `listen`: after the real one succeeds on a socket the real `bind`
//!   bound here, hands a copy to the supervisor (`SCM_RIGHTS`), which
//!   keeps it listening while no version of the app runs.
//!
//! Any failure talking to the supervisor gives the real behaviour,
//! silently; other sockets get nothing but the real call. The code does
//! not panic (the release profile aborts on panic, which would kill the
//! app), and unwinding, in a debug build, is caught at the boundary.

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod interpose;
#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod supervisor;

#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub use interpose::{bind, listen};
