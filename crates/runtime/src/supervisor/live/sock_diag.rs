//! The listening TCP sockets of the supervisor's own network namespace,
//! asked of the kernel with a `sock_diag` dump filtered to `LISTEN`
//! (`sock_diag(7)`; what `ss -lt` does).
//!
//! Why not `/proc/net/tcp`: the kernel generates that file from every TCP
//! socket of the namespace, `TIME_WAIT` included, and a server answering a
//! client that polls it every 50 ms collects hundreds of those. Measured
//! on the benchmark's host with 1,047 entries: 14 ms of system time per
//! read — paid once before every stop signal and every 5 ms while a new
//! version starts, on the cores that version starts on. The filtered dump
//! visits only the listening hash: a few microseconds, whatever the
//! traffic.
//!
//! Only for the supervisor's own namespace (a netlink socket answers for
//! the namespace it was created in); [`super::sockets`] falls back to
//! `/proc/<pid>/net/tcp` for an app in another, or when the kernel has no
//! `inet_diag`.

use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_DUMP, NLM_F_REQUEST,
};
use netlink_packet_sock_diag::constants::{AF_INET, AF_INET6, IPPROTO_TCP};
use netlink_packet_sock_diag::inet::{ExtensionFlags, InetRequest, SocketId, StateFlags};
use netlink_packet_sock_diag::SockDiagMessage;
use nix::sys::socket::{
    recv, send, socket, AddressFamily, MsgFlags, NetlinkAddr, SockFlag, SockProtocol, SockType,
};
use std::collections::BTreeMap;
use std::os::fd::{AsRawFd, OwnedFd};

/// Inode -> port of every `LISTEN` TCP socket (IPv4 and IPv6) of this
/// process's network namespace; `None` when the kernel does not answer.
pub fn listening() -> Option<BTreeMap<u64, u16>> {
    let fd = socket(
        AddressFamily::Netlink,
        SockType::Datagram,
        SockFlag::SOCK_CLOEXEC,
        SockProtocol::NetlinkSockDiag,
    )
    .ok()?;
    nix::sys::socket::connect(fd.as_raw_fd(), &NetlinkAddr::new(0, 0)).ok()?;
    let mut out = BTreeMap::new();
    for (family, id) in [
        (AF_INET, SocketId::new_v4()),
        (AF_INET6, SocketId::new_v6()),
    ] {
        dump(&fd, family, id, &mut out)?;
    }
    Some(out)
}

/// One dump request for `family`, its answers added to `out`.
fn dump(fd: &OwnedFd, family: u8, socket_id: SocketId, out: &mut BTreeMap<u64, u16>) -> Option<()> {
    let mut header = NetlinkHeader::default();
    header.flags = NLM_F_REQUEST | NLM_F_DUMP;
    let mut packet = NetlinkMessage::new(
        header,
        SockDiagMessage::InetRequest(InetRequest {
            family,
            protocol: IPPROTO_TCP,
            extensions: ExtensionFlags::empty(),
            states: StateFlags::LISTEN,
            socket_id,
        })
        .into(),
    );
    packet.finalize();
    let mut request = vec![0; packet.buffer_len()];
    packet.serialize(&mut request);
    send(fd.as_raw_fd(), &request, MsgFlags::empty()).ok()?;
    // The kernel fills each datagram up to the page size it allocates
    // (at most 32 KiB); a smaller buffer would truncate it.
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        let size = recv(fd.as_raw_fd(), &mut buf, MsgFlags::empty()).ok()?;
        let mut offset = 0;
        while offset < size {
            let message =
                NetlinkMessage::<SockDiagMessage>::deserialize(&buf[offset..size]).ok()?;
            match message.payload {
                NetlinkPayload::InnerMessage(SockDiagMessage::InetResponse(r)) => {
                    out.insert(u64::from(r.header.inode), r.header.socket_id.source_port);
                }
                NetlinkPayload::Done(_) => return Some(()),
                NetlinkPayload::Error(_) => return None,
                _ => {}
            }
            let length = usize::try_from(message.header.length).ok()?;
            if length == 0 {
                break;
            }
            offset += length;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{TcpListener, TcpStream};
    use std::os::unix::fs::MetadataExt;

    fn inode_of(fd: &impl AsRawFd) -> u64 {
        std::fs::metadata(format!("/proc/self/fd/{}", fd.as_raw_fd()))
            .unwrap()
            .ino()
    }

    #[test]
    fn a_listener_is_listed_with_its_inode_and_port_and_a_connection_is_not() {
        let v4 = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = v4.local_addr().unwrap().port();
        let client = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let listed = listening().expect("the kernel answers sock_diag");
        assert_eq!(listed.get(&inode_of(&v4)), Some(&port));
        assert!(!listed.contains_key(&inode_of(&client)));
    }

    #[test]
    fn an_ipv6_listener_is_listed() {
        let Ok(v6) = TcpListener::bind("[::1]:0") else {
            eprintln!("no IPv6 loopback on this machine: nothing to check");
            return;
        };
        let port = v6.local_addr().unwrap().port();
        assert_eq!(listening().unwrap().get(&inode_of(&v6)), Some(&port));
    }

    #[test]
    fn a_closed_listener_is_gone() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let inode = inode_of(&l);
        drop(l);
        assert!(!listening().unwrap().contains_key(&inode));
    }
}
