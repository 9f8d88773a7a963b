//! The held-sockets protocol between the app's preloaded `bind`
//! interposer (`crates/listen-preload`, `libfilesync_listen.so`) and the
//! supervisor (`filesync-runtime`, `supervisor/held_sockets.rs`): the
//! names and the wire format, written once for both sides.
//!
//! Why it exists: between two versions of a restarted app its port is
//! closed for ~100 ms; a connection then is refused, and since kubectl
//! 1.23 a port-forward dies on the first such error (client-go
//! `tools/portforward/portforward.go`, kubernetes#103526). The supervisor
//! keeps a dup of the app's listening socket, so the kernel keeps it
//! listening while no version runs, and hands it to the next version's
//! `bind` of the same address.
//!
//! The wire: one `SOCK_SEQPACKET` connection per call to the socket named
//! by [`SOCKET_ENV`]; each message one packet, `KIND KEY` in ASCII, where
//! KEY is [`key`]. A [`LOOKUP`] is answered with [`HELD`] carrying the
//! socket in `SCM_RIGHTS`, or [`NONE`]; a [`REGISTER`] carries the app's
//! listening socket in `SCM_RIGHTS` and is not answered.

use std::net::SocketAddr;

/// Set in the app's environment only: the supervisor's unix socket.
pub const SOCKET_ENV: &str = "FILESYNC_LISTEN_SOCKET";
/// The interposer's file name, installed next to the runtime binary (the
/// buildpack's `bin/`, the launch layer's `bin/`).
pub const PRELOAD_FILE: &str = "libfilesync_listen.so";
/// Overrides where the supervisor finds the interposer; empty: no
/// interposer (connections during a restart may then be refused).
pub const PRELOAD_ENV: &str = "FILESYNC_LISTEN_PRELOAD";
/// The socket's name in the supervisor's temporary directory.
pub const SOCKET_FILE: &str = "filesync-listen.sock";

/// Is a socket held for KEY? (from the app's `bind`)
pub const LOOKUP: u8 = b'L';
/// Hold this listening socket for KEY (after the app's `listen`).
pub const REGISTER: u8 = b'R';
/// The answer to a lookup: the held socket is attached.
pub const HELD: u8 = b'Y';
/// The answer to a lookup: nothing held for KEY.
pub const NONE: u8 = b'N';

/// The longest message either side sends or reads.
pub const MAX_MESSAGE: usize = 128;

/// What identifies a held socket: the exact address and, for IPv6,
/// whether it is IPv6-only (a dual-stack `[::]` socket also takes IPv4,
/// so it is never handed to an app asking for an IPv6-only one, nor the
/// other way round). `[::]:8080 v6only=0`, `0.0.0.0:8080`.
pub fn key(addr: &SocketAddr, v6only: bool) -> String {
    match addr {
        SocketAddr::V4(_) => addr.to_string(),
        SocketAddr::V6(_) => format!("{addr} v6only={}", u8::from(v6only)),
    }
}

/// A message: `kind` then the key.
pub fn message(kind: u8, key: &str) -> Vec<u8> {
    let mut m = Vec::with_capacity(key.len() + 2);
    m.push(kind);
    m.push(b' ');
    m.extend_from_slice(key.as_bytes());
    m
}

/// A message's kind and key; `None` when it is not one.
pub fn parse(message: &[u8]) -> Option<(u8, &str)> {
    let (&kind, rest) = message.split_first()?;
    let key = std::str::from_utf8(rest.strip_prefix(b" ")?).ok()?;
    Some((kind, key))
}

/// The port a key names (for the log).
pub fn port(key: &str) -> Option<u16> {
    let addr = key.split(' ').next()?;
    addr.parse::<SocketAddr>().ok().map(|a| a.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_tell_families_and_dual_stack_apart() {
        let v4: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        let v6: SocketAddr = "[::]:8080".parse().unwrap();
        assert_eq!(key(&v4, false), "0.0.0.0:8080");
        assert_eq!(key(&v6, false), "[::]:8080 v6only=0");
        assert_ne!(key(&v6, true), key(&v6, false));
        assert_eq!(port(&key(&v6, true)), Some(8080));
    }

    #[test]
    fn a_message_round_trips_and_garbage_is_none() {
        let m = message(LOOKUP, "127.0.0.1:3000");
        assert_eq!(parse(&m), Some((LOOKUP, "127.0.0.1:3000")));
        assert_eq!(parse(b""), None);
        assert_eq!(parse(b"L"), None);
        assert_eq!(parse(&[b'L', b' ', 0xff]), None);
    }
}
