//! The interposer's side of the held-sockets protocol
//! (`filesync_contract::held_sockets`): one `SOCK_SEQPACKET` connection
//! per call, bounded by a timeout, every failure a `false` or nothing.

use filesync_contract::held_sockets::{self, HELD, LOOKUP, MAX_MESSAGE, REGISTER};
use libc::{c_int, c_void};
use std::os::unix::ffi::OsStrExt;

/// How long the app's `bind` may wait for the supervisor.
const TIMEOUT_MS: libc::suseconds_t = 500;

/// A connection to the supervisor, closed on drop.
struct Conn(c_int);

impl Drop for Conn {
    fn drop(&mut self) {
        // SAFETY: our own fd.
        unsafe { libc::close(self.0) };
    }
}

fn connect() -> Option<Conn> {
    let path = std::env::var_os(held_sockets::SOCKET_ENV)?;
    let path = path.as_bytes();
    // SAFETY: sockaddr_un is plain data; zeroed is a valid value.
    let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    if path.is_empty() || path.len() >= addr.sun_path.len() {
        return None;
    }
    addr.sun_family = libc::sa_family_t::try_from(libc::AF_UNIX).ok()?;
    for (dst, src) in addr.sun_path.iter_mut().zip(path) {
        *dst = libc::c_char::from_ne_bytes([*src]);
    }
    let flags = libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC;
    // SAFETY: plain socket(2).
    let conn = Conn(unsafe { libc::socket(libc::AF_UNIX, flags, 0) });
    if conn.0 < 0 {
        return None;
    }
    let timeout = libc::timeval {
        tv_sec: 0,
        tv_usec: TIMEOUT_MS * 1000,
    };
    let tlen = libc::socklen_t::try_from(std::mem::size_of::<libc::timeval>()).ok()?;
    let alen = libc::socklen_t::try_from(std::mem::size_of::<libc::sockaddr_un>()).ok()?;
    for opt in [libc::SO_RCVTIMEO, libc::SO_SNDTIMEO] {
        // SAFETY: a timeval and its length.
        let set = unsafe {
            libc::setsockopt(
                conn.0,
                libc::SOL_SOCKET,
                opt,
                (&raw const timeout).cast(),
                tlen,
            )
        };
        if set != 0 {
            return None;
        }
    }
    // SAFETY: a sockaddr_un and its length.
    let r = unsafe { libc::connect(conn.0, (&raw const addr).cast(), alen) };
    (r == 0).then_some(conn)
}

/// Asks for a socket held for `key`; when one comes, puts it in place of
/// `fd` and says true.
pub(crate) fn claim(fd: c_int, key: &str) -> bool {
    let Some(conn) = connect() else { return false };
    if !send(&conn, &held_sockets::message(LOOKUP, key), None) {
        return false;
    }
    match receive(&conn) {
        Some((HELD, Some(held))) => adopt(fd, held),
        Some((_, Some(stray))) => {
            // SAFETY: a fd we were given and do not use.
            unsafe { libc::close(stray) };
            false
        }
        _ => false,
    }
}

/// Hands a copy of the listening `fd` to the supervisor.
pub(crate) fn register(fd: c_int, key: &str) {
    if let Some(conn) = connect() {
        let _ = send(&conn, &held_sockets::message(REGISTER, key), Some(fd));
    }
}

/// `held` over `fd`, with the flags the app gave `fd`.
fn adopt(fd: c_int, held: c_int) -> bool {
    // SAFETY: fcntl/dup3/close on fds: the app's and the one we were given.
    unsafe {
        let fd_flags = libc::fcntl(fd, libc::F_GETFD);
        let status = libc::fcntl(fd, libc::F_GETFL);
        let cloexec = if fd_flags >= 0 && fd_flags & libc::FD_CLOEXEC != 0 {
            libc::O_CLOEXEC
        } else {
            0
        };
        let ok = fd_flags >= 0 && status >= 0 && libc::dup3(held, fd, cloexec) == fd;
        libc::close(held);
        // O_NONBLOCK belongs to the open socket (shared with the
        // supervisor's copy, which never reads it): as this app set it.
        ok && libc::fcntl(fd, libc::F_SETFL, status) == 0
    }
}

/// Room for one `SCM_RIGHTS` fd (`CMSG_SPACE(4)` is 24 on 64-bit Linux),
/// aligned as a cmsghdr.
#[repr(C, align(8))]
struct CmsgBuf([u8; 32]);

fn send(conn: &Conn, message: &[u8], fd: Option<c_int>) -> bool {
    let mut iov = libc::iovec {
        iov_base: message.as_ptr().cast_mut().cast::<c_void>(),
        iov_len: message.len(),
    };
    let mut cmsg = CmsgBuf([0; 32]);
    // SAFETY: msghdr is plain data; zeroed is a valid value.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &raw mut iov;
    msg.msg_iovlen = 1;
    if let Some(fd) = fd {
        let Ok(fd_len) = u32::try_from(std::mem::size_of::<c_int>()) else {
            return false;
        };
        // SAFETY: the CMSG_* arithmetic for one fd, inside `cmsg`.
        unsafe {
            msg.msg_control = cmsg.0.as_mut_ptr().cast();
            msg.msg_controllen = libc::CMSG_SPACE(fd_len) as usize;
            let hdr = libc::CMSG_FIRSTHDR(&raw const msg);
            if hdr.is_null() {
                return false;
            }
            (*hdr).cmsg_level = libc::SOL_SOCKET;
            (*hdr).cmsg_type = libc::SCM_RIGHTS;
            (*hdr).cmsg_len = libc::CMSG_LEN(fd_len) as usize;
            std::ptr::write_unaligned(libc::CMSG_DATA(hdr).cast::<c_int>(), fd);
        }
    }
    // SAFETY: a complete msghdr over live buffers.
    let sent = unsafe { libc::sendmsg(conn.0, &raw const msg, libc::MSG_NOSIGNAL) };
    usize::try_from(sent).is_ok_and(|n| n == message.len())
}

/// One reply: its kind and the fd it carried, if any.
fn receive(conn: &Conn) -> Option<(u8, Option<c_int>)> {
    let mut buf = [0u8; MAX_MESSAGE];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    let mut cmsg = CmsgBuf([0; 32]);
    // SAFETY: msghdr is plain data; zeroed is a valid value.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &raw mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cmsg.0.as_mut_ptr().cast();
    msg.msg_controllen = cmsg.0.len();
    // SAFETY: a complete msghdr over live buffers.
    let n = unsafe { libc::recvmsg(conn.0, &raw mut msg, libc::MSG_CMSG_CLOEXEC) };
    let n = usize::try_from(n).ok().filter(|n| *n > 0)?;
    let mut fd = None;
    // SAFETY: walking the control messages the kernel wrote into `cmsg`.
    unsafe {
        let hdr = libc::CMSG_FIRSTHDR(&raw const msg);
        if !hdr.is_null()
            && (*hdr).cmsg_level == libc::SOL_SOCKET
            && (*hdr).cmsg_type == libc::SCM_RIGHTS
        {
            fd = Some(std::ptr::read_unaligned(
                libc::CMSG_DATA(hdr).cast::<c_int>(),
            ));
        }
    }
    Some((buf.get(..n)?.first().copied()?, fd))
}
