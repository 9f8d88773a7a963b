//! The held listening sockets, by key (`filesync_contract::held_sockets::
//! key`: the exact address, and for IPv6 whether it is IPv6-only), and
//! which start of the app last used each: a socket no start has used
//! since the one before is released, so a port the app no longer listens
//! on stops taking connections nobody will accept.

use filesync_contract::held_sockets;
use nix::sys::stat::fstat;
use std::collections::{BTreeMap, BTreeSet};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

/// What [`Table::register`] did with a socket.
#[derive(Debug, PartialEq, Eq)]
pub enum Registered {
    /// Now held: the first socket for this port (the log says so once).
    First(u16),
    /// Now held, for an address of a port already held (e.g. IPv4 and
    /// IPv6 both).
    Another,
    /// This very socket was held already: the copy is closed.
    Again,
    /// Another socket is held for the address (an app binding it twice
    /// with `SO_REUSEPORT`): the first stays, this copy is closed.
    Kept,
}

struct Entry {
    fd: OwnedFd,
    /// The socket's identity (`st_dev`, `st_ino`): a dup compares equal.
    id: (u64, u64),
    /// The start of the app that registered or claimed it last.
    used: u64,
}

#[derive(Default)]
pub struct Table {
    held: BTreeMap<String, Entry>,
    start: u64,
}

impl Table {
    /// A new start of the app: what it claims or registers is its own.
    pub fn started(&mut self) {
        self.start += 1;
    }

    /// Hold `fd`, a listening socket the app bound to `key`.
    pub fn register(&mut self, key: &str, fd: OwnedFd) -> Registered {
        let id = identity(&fd);
        if let Some(e) = self.held.get_mut(key) {
            e.used = self.start;
            return if e.id == id {
                Registered::Again
            } else {
                Registered::Kept
            };
        }
        let port = held_sockets::port(key);
        let first = port.is_some_and(|p| !self.ports().contains(&p));
        let used = self.start;
        self.held.insert(key.to_owned(), Entry { fd, id, used });
        match port {
            Some(p) if first => Registered::First(p),
            _ => Registered::Another,
        }
    }

    /// The socket held for `key`, now used by the current start.
    pub fn lookup(&mut self, key: &str) -> Option<BorrowedFd<'_>> {
        let start = self.start;
        self.held.get_mut(key).map(|e| {
            e.used = start;
            e.fd.as_fd()
        })
    }

    /// The ports held.
    pub fn ports(&self) -> BTreeSet<u16> {
        self.held
            .keys()
            .filter_map(|k| held_sockets::port(k))
            .collect()
    }

    /// Closes the sockets the current start has not used; returns their
    /// keys.
    pub fn release_unused(&mut self) -> Vec<String> {
        let start = self.start;
        let unused: Vec<String> = self
            .held
            .iter()
            .filter(|(_, e)| e.used != start)
            .map(|(k, _)| k.clone())
            .collect();
        for k in &unused {
            self.held.remove(k);
        }
        unused
    }
}

fn identity(fd: &OwnedFd) -> (u64, u64) {
    fstat(fd.as_raw_fd()).map_or((0, 0), |s| (s.st_dev, s.st_ino))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{SocketAddr, TcpListener};

    fn listener(addr: &str) -> (TcpListener, String) {
        let l = TcpListener::bind(addr).expect("a local listener");
        let local = l.local_addr().unwrap();
        (l, held_sockets::key(&local, false))
    }

    fn dup(l: &TcpListener) -> OwnedFd {
        l.as_fd().try_clone_to_owned().unwrap()
    }

    #[test]
    fn a_held_socket_is_found_by_its_exact_address_only() {
        let mut t = Table::default();
        let (l, key) = listener("127.0.0.1:0");
        let port = l.local_addr().unwrap().port();
        assert_eq!(t.register(&key, dup(&l)), Registered::First(port));
        assert!(t.lookup(&key).is_some());
        assert!(t.lookup(&format!("0.0.0.0:{port}")).is_none());
        assert!(t.lookup(&format!("127.0.0.1:{}", port ^ 1)).is_none());
        assert_eq!(t.ports(), BTreeSet::from([port]));
    }

    #[test]
    fn dual_stack_and_ipv6_only_are_different_sockets() {
        let mut t = Table::default();
        let (l, _) = listener("[::1]:0");
        let addr: SocketAddr = l.local_addr().unwrap();
        let dual = held_sockets::key(&addr, false);
        let only = held_sockets::key(&addr, true);
        assert_eq!(t.register(&dual, dup(&l)), Registered::First(addr.port()));
        assert!(t.lookup(&dual).is_some());
        assert!(
            t.lookup(&only).is_none(),
            "never handed to an IPv6-only bind"
        );
        let v4 = format!("127.0.0.1:{}", addr.port());
        assert!(t.lookup(&v4).is_none());
    }

    #[test]
    fn a_socket_registered_twice_is_held_once_and_another_is_kept_out() {
        let mut t = Table::default();
        let (l, key) = listener("127.0.0.1:0");
        t.register(&key, dup(&l));
        assert_eq!(t.register(&key, dup(&l)), Registered::Again);
        let (other, _) = listener("127.0.0.1:0");
        assert_eq!(t.register(&key, dup(&other)), Registered::Kept);
        // The first stays: it is the socket the address is held by.
        let held = t.lookup(&key).unwrap();
        assert_eq!(
            identity(&held.try_clone_to_owned().unwrap()),
            identity(&dup(&l))
        );
        assert_eq!(t.held.len(), 1);
    }

    #[test]
    fn a_second_address_of_a_held_port_is_not_a_first() {
        let mut t = Table::default();
        let (l, key) = listener("127.0.0.1:0");
        let port = l.local_addr().unwrap().port();
        t.register(&key, dup(&l));
        let (l6, _) = listener(&format!("[::1]:{port}"));
        let key6 = held_sockets::key(&l6.local_addr().unwrap(), true);
        assert_eq!(t.register(&key6, dup(&l6)), Registered::Another);
    }

    #[test]
    fn what_the_current_start_did_not_use_is_released() {
        let mut t = Table::default();
        t.started();
        let (a, ka) = listener("127.0.0.1:0");
        let (b, kb) = listener("127.0.0.1:0");
        t.register(&ka, dup(&a));
        t.register(&kb, dup(&b));
        t.started();
        assert!(t.lookup(&ka).is_some());
        assert_eq!(t.release_unused(), vec![kb.clone()]);
        assert!(t.lookup(&kb).is_none());
        assert!(t.lookup(&ka).is_some());
    }
}
