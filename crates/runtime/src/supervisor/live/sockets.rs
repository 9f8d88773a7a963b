//! Which TCP ports the app's process tree listens on, read from `/proc`
//! without ever connecting to the app (a connection would be a request
//! the app sees, and through a port-forward one that can fail).
//!
//! A listening socket is a `LISTEN` socket of the app's network namespace
//! (from the kernel's `sock_diag`, or `/proc/<pid>/net/tcp{,6}`); it is
//! the tree's when one of the tree's `/proc/<pid>/fd/*` links to its
//! inode (`socket:[INODE]`). The tree is the app's main process, its
//! descendants and its process group: the server may be a child of what
//! the supervisor started (gunicorn's workers, `npm start`'s node).

use procfs::net::{TcpNetEntry, TcpState};
use procfs::process::{all_processes, FDTarget, Process};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// The `LISTEN` sockets of `pid`'s network namespace: inode -> port.
/// `None`: `pid` is gone (or its `/proc` cannot be read). Asked of the
/// kernel by [`super::sock_diag`] when `pid` shares the supervisor's
/// network namespace (the case in a container), else read from its
/// `/proc/<pid>/net/tcp{,6}`.
pub fn listening_in_netns(pid: i32) -> Option<BTreeMap<u64, u16>> {
    // Reading another process's `ns` link takes ptrace access; without it
    // (an app that changed its uid) the `/proc` path below still works.
    let namespace = |p: &str| std::fs::read_link(format!("/proc/{p}/ns/net")).ok();
    if namespace(&pid.to_string()).is_some_and(|theirs| namespace("self") == Some(theirs)) {
        if let Some(listening) = super::sock_diag::listening() {
            return Some(listening);
        }
    }
    let process = Process::new(pid).ok()?;
    let v4 = process.tcp().ok()?;
    // No IPv6 in the namespace is no IPv6 socket.
    let v6 = process.tcp6().unwrap_or_default();
    Some(listening(v4.iter().chain(&v6)))
}

/// Whether `pid` runs (exists and is not a zombie).
pub fn alive(pid: i32) -> bool {
    Process::new(pid)
        .and_then(|p| p.stat())
        .is_ok_and(|s| s.state != 'Z')
}

fn listening<'a>(entries: impl Iterator<Item = &'a TcpNetEntry>) -> BTreeMap<u64, u16> {
    entries
        .filter(|e| e.state == TcpState::Listen)
        .map(|e| (e.inode, e.local_address.port()))
        .collect()
}

/// The app's process tree: `root`, its descendants, and the members of
/// its process group (which may have been reparented to us).
pub fn tree(root: i32) -> Vec<i32> {
    let Ok(all) = all_processes() else {
        return vec![root];
    };
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    let mut members = vec![root];
    for stat in all.flatten().filter_map(|p| p.stat().ok()) {
        children.entry(stat.ppid).or_default().push(stat.pid);
        if stat.pgrp == root && stat.pid != root {
            members.push(stat.pid);
        }
    }
    let mut seen: HashSet<i32> = members.iter().copied().collect();
    let mut todo = vec![root];
    while let Some(pid) = todo.pop() {
        for &child in children.get(&pid).into_iter().flatten() {
            if seen.insert(child) {
                members.push(child);
                todo.push(child);
            }
        }
    }
    members
}

/// The socket inodes the processes `pids` hold (a process that is gone
/// meanwhile holds none).
pub fn socket_inodes(pids: &[i32]) -> HashSet<u64> {
    pids.iter()
        .filter_map(|&pid| Process::new(pid).ok()?.fd().ok())
        .flat_map(std::iter::Iterator::flatten)
        .filter_map(|fd| match fd.target {
            FDTarget::Socket(inode) => Some(inode),
            _ => None,
        })
        .collect()
}

/// The ports `root`'s tree listens on now; `None` when `root` is gone.
pub fn tree_ports(root: i32) -> Option<BTreeSet<u16>> {
    let listening = listening_in_netns(root)?;
    if listening.is_empty() {
        return Some(BTreeSet::new());
    }
    let held = socket_inodes(&tree(root));
    Some(
        listening
            .iter()
            .filter(|(inode, _)| held.contains(inode))
            .map(|(_, port)| *port)
            .collect(),
    )
}

/// The kernel's range for ports it picks itself (`bind` to port 0):
/// such a port changes from one start to the next, so it is never waited
/// for. Linux's default when the file cannot be read.
pub fn ephemeral_range() -> std::ops::RangeInclusive<u16> {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| parse_range(&s))
        .unwrap_or(32768..=60999)
}

fn parse_range(s: &str) -> Option<std::ops::RangeInclusive<u16>> {
    let mut it = s.split_whitespace().map(str::parse::<u16>);
    let (lo, hi) = (it.next()?.ok()?, it.next()?.ok()?);
    (lo <= hi).then_some(lo..=hi)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};

    #[test]
    fn our_own_listener_is_seen_as_ours_and_a_closed_one_is_not() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let me = i32::try_from(std::process::id()).expect("Linux pids fit i32 (pid_max <= 2^22)");
        let ports = tree_ports(me).unwrap();
        assert!(ports.contains(&port), "{port} not in {ports:?}");
        drop(listener);
        assert!(!tree_ports(me).unwrap().contains(&port));
    }

    #[test]
    fn a_listener_of_the_apps_child_counts_for_its_tree() {
        // sh (the "app") starts python, which listens: the listener is a
        // child's, not the app's own.
        let mut app = Command::new("sh")
            .process_group(0)
            .args([
                "-c",
                "python3 -c \"import socket,sys,time; s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(30)\"; :",
            ])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(app.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        let port: u16 = line.trim().parse().unwrap();
        let pid = i32::try_from(app.id()).expect("Linux pids fit i32 (pid_max <= 2^22)");
        let ports = tree_ports(pid).unwrap();
        let _ =
            nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pid), nix::sys::signal::SIGKILL);
        let _ = app.wait();
        assert_eq!(ports, BTreeSet::from([port]));
    }

    #[test]
    fn a_process_that_is_gone_has_no_ports() {
        let mut child = Command::new("true").spawn().unwrap();
        let pid = i32::try_from(child.id()).expect("Linux pids fit i32 (pid_max <= 2^22)");
        child.wait().unwrap();
        assert_eq!(tree_ports(pid), None);
    }

    #[test]
    fn the_ephemeral_range_is_parsed_and_a_bad_one_refused() {
        assert_eq!(parse_range("32768\t60999\n"), Some(32768..=60999));
        assert_eq!(parse_range("9 3"), None);
        assert_eq!(parse_range("x"), None);
        assert!(ephemeral_range().contains(&40000));
    }
}
