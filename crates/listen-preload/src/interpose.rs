//! The shadowed `bind` and `listen`, and what they look at: the socket's
//! type and family, the address asked for, and a small table of the fds
//! the real `bind` bound to a non-zero port (so `listen` offers only
//! those, never a socket bound to port 0 or never bound by the app).

use crate::supervisor;
use filesync_contract::held_sockets;
use libc::{c_int, sockaddr, sockaddr_in, sockaddr_in6, socklen_t};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

type BindFn = unsafe extern "C" fn(c_int, *const sockaddr, socklen_t) -> c_int;
type ListenFn = unsafe extern "C" fn(c_int, c_int) -> c_int;

static REAL_BIND: AtomicUsize = AtomicUsize::new(0);
static REAL_LISTEN: AtomicUsize = AtomicUsize::new(0);

/// The next definition of `name` after ours (glibc's), once; 0 if none.
fn next_symbol(slot: &AtomicUsize, name: &std::ffi::CStr) -> usize {
    let cached = slot.load(Ordering::Relaxed);
    if cached != 0 {
        return cached;
    }
    // SAFETY: dlsym with a NUL-terminated name; RTLD_NEXT is valid in a
    // shared object.
    let found = unsafe { libc::dlsym(libc::RTLD_NEXT, name.as_ptr()) } as usize;
    slot.store(found, Ordering::Relaxed);
    found
}

unsafe fn real_bind(fd: c_int, addr: *const sockaddr, len: socklen_t) -> c_int {
    match next_symbol(&REAL_BIND, c"bind") {
        // No libc bind after ours (cannot happen with glibc): the syscall.
        0 => syscall_result(unsafe { libc::syscall(libc::SYS_bind, fd, addr, len) }),
        // SAFETY: the address dlsym gave for `bind`, which has this type.
        f => unsafe { std::mem::transmute::<usize, BindFn>(f)(fd, addr, len) },
    }
}

unsafe fn real_listen(fd: c_int, backlog: c_int) -> c_int {
    match next_symbol(&REAL_LISTEN, c"listen") {
        0 => syscall_result(unsafe { libc::syscall(libc::SYS_listen, fd, backlog) }),
        // SAFETY: the address dlsym gave for `listen`, which has this type.
        f => unsafe { std::mem::transmute::<usize, ListenFn>(f)(fd, backlog) },
    }
}

/// bind(2) and listen(2) return 0 or -1.
fn syscall_result(r: libc::c_long) -> c_int {
    c_int::try_from(r).unwrap_or(-1)
}

/// `bind(2)`, with a held socket handed over when the supervisor has one.
///
/// # Safety
/// As `bind(2)`: `addr` points to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn bind(fd: c_int, addr: *const sockaddr, len: socklen_t) -> c_int {
    let asked = std::panic::catch_unwind(|| {
        // SAFETY: the caller's address and length, as bind(2) takes them.
        let addr = unsafe { inet_addr(addr, len) }?;
        let key = eligible(fd, &addr)?;
        Some((addr.port(), key))
    });
    let Ok(Some((port, key))) = asked else {
        return unsafe { real_bind(fd, addr, len) };
    };
    let errno = Errno::save();
    if std::panic::catch_unwind(|| supervisor::claim(fd, &key)).unwrap_or(false) {
        errno.restore();
        return 0;
    }
    errno.restore();
    let bound = unsafe { real_bind(fd, addr, len) };
    if bound == 0 {
        remember(fd, port);
    }
    bound
}

/// `listen(2)`; then the socket is offered to the supervisor.
///
/// # Safety
/// As `listen(2)`.
#[no_mangle]
pub unsafe extern "C" fn listen(fd: c_int, backlog: c_int) -> c_int {
    let listening = unsafe { real_listen(fd, backlog) };
    if listening == 0 {
        if let Some(port) = take(fd) {
            let errno = Errno::save();
            let _ = std::panic::catch_unwind(|| offer(fd, port));
            errno.restore();
        }
    }
    listening
}

/// Hands `fd` (bound by the real `bind` to `port`) to the supervisor.
fn offer(fd: c_int, port: u16) {
    let Some(addr) = local_addr(fd).filter(|a| a.port() == port) else {
        return;
    };
    if let Some(key) = eligible(fd, &addr) {
        supervisor::register(fd, &key);
    }
}

/// The key for `fd` bound to `addr` when it is a TCP socket of that
/// family with a non-zero port and the supervisor's socket is set.
fn eligible(fd: c_int, addr: &SocketAddr) -> Option<String> {
    if addr.port() == 0 || std::env::var_os(held_sockets::SOCKET_ENV).is_none() {
        return None;
    }
    let family = if addr.is_ipv4() {
        libc::AF_INET
    } else {
        libc::AF_INET6
    };
    let stream = int_option(fd, libc::SOL_SOCKET, libc::SO_TYPE)? == libc::SOCK_STREAM;
    let same_family = int_option(fd, libc::SOL_SOCKET, libc::SO_DOMAIN)? == family;
    if !stream || !same_family {
        return None;
    }
    let v6only = addr.is_ipv6() && int_option(fd, libc::IPPROTO_IPV6, libc::IPV6_V6ONLY)? != 0;
    Some(held_sockets::key(addr, v6only))
}

fn int_option(fd: c_int, level: c_int, name: c_int) -> Option<c_int> {
    let mut value: c_int = 0;
    let mut len = socklen_t::try_from(std::mem::size_of::<c_int>()).ok()?;
    // SAFETY: a c_int-sized out buffer and its length.
    let r = unsafe { libc::getsockopt(fd, level, name, (&raw mut value).cast(), &raw mut len) };
    (r == 0).then_some(value)
}

/// The address `fd` is bound to.
fn local_addr(fd: c_int) -> Option<SocketAddr> {
    // SAFETY: sockaddr_storage is plain data; zeroed is a valid value.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = socklen_t::try_from(std::mem::size_of::<libc::sockaddr_storage>()).ok()?;
    // SAFETY: an out buffer of the length given.
    let r = unsafe { libc::getsockname(fd, (&raw mut storage).cast(), &raw mut len) };
    if r != 0 {
        return None;
    }
    // SAFETY: getsockname wrote `len` bytes of a socket address there.
    unsafe { inet_addr((&raw const storage).cast(), len) }
}

/// An IPv4 or IPv6 socket address from C; `None` for any other.
unsafe fn inet_addr(addr: *const sockaddr, len: socklen_t) -> Option<SocketAddr> {
    if addr.is_null() {
        return None;
    }
    let len = usize::try_from(len).ok()?;
    // SAFETY: non-null; sa_family is the first field of every sockaddr.
    let family = c_int::from(unsafe { std::ptr::read_unaligned(&raw const (*addr).sa_family) });
    if family == libc::AF_INET && len >= std::mem::size_of::<sockaddr_in>() {
        // SAFETY: the caller's buffer holds a whole sockaddr_in.
        let a: sockaddr_in = unsafe { std::ptr::read_unaligned(addr.cast()) };
        let ip = Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr));
        Some(SocketAddrV4::new(ip, u16::from_be(a.sin_port)).into())
    } else if family == libc::AF_INET6 && len >= std::mem::size_of::<sockaddr_in6>() {
        // SAFETY: the caller's buffer holds a whole sockaddr_in6.
        let a: sockaddr_in6 = unsafe { std::ptr::read_unaligned(addr.cast()) };
        let ip = Ipv6Addr::from(a.sin6_addr.s6_addr);
        let port = u16::from_be(a.sin6_port);
        Some(SocketAddrV6::new(ip, port, a.sin6_flowinfo, a.sin6_scope_id).into())
    } else {
        None
    }
}

/// fds the real `bind` bound to a non-zero port, each `(fd + 1) << 16 |
/// port`, 0 for a free slot. 64 at once is far more than an app listens
/// on; beyond that a socket is simply not held.
static BOUND: [AtomicU64; 64] = [const { AtomicU64::new(0) }; 64];

fn remember(fd: c_int, port: u16) {
    let Ok(fd) = u64::try_from(fd) else { return };
    let entry = ((fd + 1) << 16) | u64::from(port);
    let _ = take(c_int::try_from(fd).unwrap_or(-1));
    for slot in &BOUND {
        if slot
            .compare_exchange(0, entry, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
        {
            return;
        }
    }
}

/// The port `fd` was bound to, forgotten.
fn take(fd: c_int) -> Option<u16> {
    let fd = u64::try_from(fd).ok()?;
    for slot in &BOUND {
        let entry = slot.load(Ordering::Acquire);
        if entry >> 16 == fd + 1
            && slot
                .compare_exchange(entry, 0, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        {
            return u16::try_from(entry & 0xffff).ok();
        }
    }
    None
}

/// The caller's errno, kept across our own calls.
struct Errno(c_int);

impl Errno {
    fn save() -> Errno {
        // SAFETY: glibc's thread-local errno.
        Errno(unsafe { *libc::__errno_location() })
    }

    fn restore(self) {
        // SAFETY: as above.
        unsafe { *libc::__errno_location() = self.0 };
    }
}
