//! The supervisor's end of the held-sockets protocol
//! (`filesync_contract::held_sockets`): a `SOCK_SEQPACKET` socket served
//! on a thread of its own, off the policy loop. Each connection carries
//! one request, read with a timeout, so a stuck app cannot stall it.

use super::table::{Registered, Table};
use crate::log;
use filesync_contract::held_sockets::{self, HELD, LOOKUP, MAX_MESSAGE, NONE, REGISTER};
use nix::sys::socket::{
    accept4, bind, listen, recvmsg, sendmsg, setsockopt, socket, sockopt, AddressFamily, Backlog,
    ControlMessage, ControlMessageOwned, MsgFlags, SockFlag, SockType, UnixAddr,
};
use nix::sys::time::TimeVal;
use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

/// How long one request may take to arrive.
const REQUEST_TIMEOUT_MS: i64 = 500;

/// Listens on `path` (a stale file there is replaced) and serves `table`
/// on a thread until the process ends.
pub fn serve(path: &Path, table: Arc<Mutex<Table>>) -> std::io::Result<()> {
    let listener = socket(
        AddressFamily::Unix,
        SockType::SeqPacket,
        SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    let _ = std::fs::remove_file(path);
    bind(listener.as_raw_fd(), &UnixAddr::new(path)?)?;
    // Whoever may connect may take the app's listening socket: only the
    // container's user (the app runs as it), as for the sync socket.
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    listen(&listener, Backlog::new(64)?)?;
    std::thread::Builder::new()
        .name("held-sockets".into())
        .spawn(move || loop {
            match accept4(listener.as_raw_fd(), SockFlag::SOCK_CLOEXEC) {
                // SAFETY: accept4 returned a new fd that nothing else owns.
                Ok(fd) => answer(&unsafe { OwnedFd::from_raw_fd(fd) }, &table),
                Err(nix::Error::EINTR | nix::Error::ECONNABORTED) => {}
                Err(_) => return,
            }
        })?;
    Ok(())
}

/// One request on `conn`.
fn answer(conn: &OwnedFd, table: &Mutex<Table>) {
    let timeout = TimeVal::new(0, REQUEST_TIMEOUT_MS * 1000);
    if setsockopt(conn, sockopt::ReceiveTimeout, &timeout).is_err()
        || setsockopt(conn, sockopt::SendTimeout, &timeout).is_err()
    {
        return;
    }
    let Some((kind, key, fd)) = receive(conn) else {
        return;
    };
    let mut table = table.lock().unwrap_or_else(PoisonError::into_inner);
    match (kind, fd) {
        (LOOKUP, None) => {
            let held = table.lookup(&key).map(|fd| fd.as_raw_fd());
            reply(conn, held);
        }
        (REGISTER, Some(fd)) => {
            if let Registered::First(port) = table.register(&key, fd) {
                log!("holding port {port} across restarts");
            }
        }
        // Anything else is not ours: dropped (a stray fd is closed).
        _ => {}
    }
}

/// A request: its kind, key and the fd it carried.
fn receive(conn: &OwnedFd) -> Option<(u8, String, Option<OwnedFd>)> {
    let mut buf = [0u8; MAX_MESSAGE];
    let mut cmsg = nix::cmsg_space!([RawFd; 1]);
    let mut iov = [IoSliceMut::new(&mut buf)];
    let msg = recvmsg::<()>(
        conn.as_raw_fd(),
        &mut iov,
        Some(&mut cmsg),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )
    .ok()?;
    let mut fds: Vec<OwnedFd> = Vec::new();
    for c in msg.cmsgs().ok()? {
        if let ControlMessageOwned::ScmRights(received) = c {
            // SAFETY: fds the kernel just installed for us.
            fds.extend(
                received
                    .into_iter()
                    .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) }),
            );
        }
    }
    let n = msg.bytes;
    let (kind, key) = held_sockets::parse(buf.get(..n)?)?;
    let key = key.to_owned();
    // One fd at most; any more are closed as they drop.
    Some((kind, key, fds.into_iter().next()))
}

fn reply(conn: &OwnedFd, held: Option<RawFd>) {
    let fds = held.map(|fd| [fd]);
    let (kind, cmsgs) = match &fds {
        Some(fds) => (HELD, vec![ControlMessage::ScmRights(fds)]),
        None => (NONE, vec![]),
    };
    let message = [kind];
    let iov = [IoSlice::new(&message)];
    let _ = sendmsg::<()>(conn.as_raw_fd(), &iov, &cmsgs, MsgFlags::MSG_NOSIGNAL, None);
}
