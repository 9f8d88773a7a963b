//! The project's own single-node Kubernetes cluster (`scripts/cluster.sh`:
//! Kubernetes v1.33.13 built from tools/kubernetes, Debian's etcd, containerd,
//! runc and CNI plugins, everything on 127.0.0.1, nothing on the host
//! changed). [`Cluster::get`] starts it once per test process and leaves it
//! running for the next one, the way [`crate::docker::Docker::get`] does;
//! whoever runs the suite stops it with `scripts/cluster.sh stop`.
//!
//! [`host_snapshot`] and [`assert_host_unchanged`] record and compare what
//! a cluster could change on the host and must not: the six kernel settings
//! the kubelet wants (and `net.ipv4.ip_forward`), iptables and ip6tables
//! rules, network links, mounts, cgroups and the host directories
//! Kubernetes components like to create. [`leftovers`] lists whatever of a
//! stopped cluster still exists (processes, mounts, its bridge, cgroups).

use crate::tools::{repo_root, run, work_dir};
use anyhow::{bail, Context};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The pods' cgroup root in every hierarchy (`cgroupRoot` of the kubelet).
pub const CGROUP_ROOT: &str = "filesync-k8s";
/// The CNI bridge the pods' veth pairs hang on.
pub const BRIDGE: &str = "fsk8s0";

pub struct Cluster {
    /// `.work/cluster/kubeconfig`: admin credentials, context `local`.
    pub kubeconfig: PathBuf,
}

impl Cluster {
    /// The cluster, started on first use (an already running one is reused).
    pub fn get() -> &'static Cluster {
        static C: OnceLock<Cluster> = OnceLock::new();
        C.get_or_init(|| {
            Cluster::start().unwrap_or_else(|e| panic!("the Kubernetes cluster: {e:#}"))
        })
    }

    /// `scripts/cluster.sh start`: idempotent; builds Kubernetes first when
    /// `.work/bin` lacks it (minutes, once).
    pub fn start() -> anyhow::Result<Cluster> {
        let out = Command::new(script())
            .arg("start")
            .output()
            .context("running scripts/cluster.sh start")?;
        if !out.status.success() {
            bail!(
                "scripts/cluster.sh start failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        let stdout = String::from_utf8_lossy(&out.stdout);
        let kubeconfig = stdout
            .lines()
            .find_map(|l| l.strip_prefix("export KUBECONFIG="))
            .context("scripts/cluster.sh start printed no KUBECONFIG")?;
        Ok(Cluster {
            kubeconfig: PathBuf::from(kubeconfig),
        })
    }

    /// `scripts/cluster.sh stop`: every process it started, by pid; the
    /// pods' cgroups and the CNI bridge removed.
    pub fn stop() -> anyhow::Result<()> {
        run(Command::new(script()).arg("stop"))?;
        Ok(())
    }

    /// Whether a cluster of this checkout is up (`scripts/cluster.sh status`).
    pub fn running() -> bool {
        Command::new(script())
            .arg("status")
            .output()
            .is_ok_and(|o| o.status.success())
    }

    /// kubectl v1.33.13 (built with the cluster), pointed at it.
    pub fn kubectl(&self) -> Command {
        let mut c = Command::new(kubectl_bin());
        c.env("KUBECONFIG", &self.kubeconfig);
        c
    }

    /// `kubectl ARGS…` (stdout), failing with kubectl's output.
    pub fn kubectl_out(&self, args: &[&str]) -> anyhow::Result<String> {
        let out = run(self.kubectl().args(args))?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

fn script() -> PathBuf {
    repo_root().join("scripts/cluster.sh")
}

/// kubectl built from k8s.io/kubernetes by `scripts/cluster.sh build` (the
/// machine's own `kubectl`, if any, is not used).
pub fn kubectl_bin() -> PathBuf {
    work_dir().join("bin/kubectl")
}

/// What a cluster could change on the host, section by section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostSnapshot {
    pub sections: BTreeMap<&'static str, String>,
}

/// Kernel settings the kubelet rewrites when it can (see
/// `pkg/kubelet/cm/container_manager_linux.go`, setupKernelTunables), and the
/// one a CNI gateway would turn on.
pub const WATCHED_SYSCTLS: [&str; 7] = [
    "vm.overcommit_memory",
    "vm.panic_on_oom",
    "kernel.panic",
    "kernel.panic_on_oops",
    "kernel.keys.root_maxkeys",
    "kernel.keys.root_maxbytes",
    "net.ipv4.ip_forward",
];

/// Host directories whose top-level entries are recorded: where
/// Kubernetes components, containerd and CNI put state by default.
pub const WATCHED_DIRS: [&str; 8] = [
    "/var/lib",
    "/run",
    "/var/log",
    "/etc/cni",
    "/etc/kubernetes",
    "/opt",
    "/usr/libexec",
    "/var/run/kubernetes",
];

/// Records the host's state (see [`HostSnapshot`]).
pub fn host_snapshot() -> HostSnapshot {
    let mut s = BTreeMap::new();
    let mut sysctls = String::new();
    for name in WATCHED_SYSCTLS {
        let path = Path::new("/proc/sys").join(name.replace('.', "/"));
        let value = std::fs::read_to_string(&path).unwrap_or_else(|e| format!("<{e}>"));
        let _ = writeln!(sysctls, "{name} = {}", value.trim());
    }
    s.insert("sysctl", sysctls);
    s.insert("iptables-save", rules("iptables-save"));
    s.insert("ip6tables-save", rules("ip6tables-save"));
    s.insert("iptables-legacy-save", rules("iptables-legacy-save"));
    s.insert("ip -o link", links());
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    s.insert("mount count", mountinfo.lines().count().to_string());
    let mut dirs = String::new();
    for dir in WATCHED_DIRS {
        let _ = writeln!(dirs, "{dir}: {}", list_dir(Path::new(dir)));
    }
    s.insert("dirs", dirs);
    s.insert("cgroups", cluster_cgroups().join("\n"));
    HostSnapshot { sections: s }
}

/// Panics, naming every section that differs, unless the host is as
/// `before` recorded it.
pub fn assert_host_unchanged(before: &HostSnapshot) {
    let after = host_snapshot();
    if let Some(diff) = snapshot_diff(before, &after) {
        panic!("the host changed:\n{diff}");
    }
}

/// `None` when equal, else a readable account of each differing section.
pub fn snapshot_diff(before: &HostSnapshot, after: &HostSnapshot) -> Option<String> {
    let mut out = String::new();
    for (name, b) in &before.sections {
        let a = after.sections.get(name).map_or("<missing>", String::as_str);
        if a == b {
            continue;
        }
        let mut section = String::new();
        for l in b.lines().filter(|l| !a.lines().any(|x| x == *l)) {
            let _ = writeln!(section, "- {l}");
        }
        for l in a.lines().filter(|l| !b.lines().any(|x| x == *l)) {
            let _ = writeln!(section, "+ {l}");
        }
        if section.is_empty() {
            // Same lines, in another order or number.
            let _ = writeln!(section, "before:\n{b}\nafter:\n{a}");
        }
        let _ = write!(out, "== {name}\n{section}");
    }
    (!out.is_empty()).then_some(out)
}

/// What is left of a stopped cluster (`scripts/cluster.sh leftovers`, the
/// one place that knows what the cluster leaves): processes, host mounts
/// of it, its bridge and the veths on it, its cgroups, one line each.
/// Empty when it is gone; a script that cannot tell is a leftover line too.
pub fn leftovers() -> Vec<String> {
    match Command::new(script()).arg("leftovers").output() {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect(),
        Ok(out) => vec![format!(
            "scripts/cluster.sh leftovers failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )],
        Err(e) => vec![format!("running scripts/cluster.sh leftovers: {e}")],
    }
}

fn rules(cmd: &str) -> String {
    // Comments carry a timestamp and `[packets:bytes]` counters move on
    // their own: neither is a change anyone made.
    match Command::new(cmd).output() {
        Ok(o) => String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(strip_counters)
            .collect::<Vec<_>>()
            .join("\n"),
        Err(e) => format!("<{cmd}: {e}>"),
    }
}

fn strip_counters(line: &str) -> String {
    match (line.rfind(" ["), line.ends_with(']')) {
        (Some(i), true) if line.starts_with(':') => line[..i].to_string(),
        _ => line.to_string(),
    }
}

fn links_raw() -> String {
    Command::new("ip")
        .args(["-o", "link"])
        .output()
        .map_or_else(
            |e| format!("<ip: {e}>"),
            |o| String::from_utf8_lossy(&o.stdout).into_owned(),
        )
}

/// `ip -o link` without interface indexes and without the interfaces of
/// the private Docker daemon's user-defined networks (`br-<12 hex>` and the
/// `veth<7 hex>` ends it makes), which another suite may create and remove
/// at any time. CNI's veths (`veth<8 hex>`) are kept.
fn links() -> String {
    links_raw()
        .lines()
        .filter_map(|l| {
            let rest = l.split_once(": ").map(|(_, r)| r)?;
            let name: String = rest
                .chars()
                .take_while(|c| *c != ':' && *c != '@')
                .collect();
            let docker = is_hex_suffixed(&name, "br-", 12)
                || is_hex_suffixed(&name, "veth", 7)
                || rest.split_once(" master ").is_some_and(|(_, m)| {
                    is_hex_suffixed(m.split(' ').next().unwrap_or(""), "br-", 12)
                });
            (!docker).then(|| rest.to_string())
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_hex_suffixed(name: &str, prefix: &str, len: usize) -> bool {
    name.strip_prefix(prefix)
        .is_some_and(|h| h.len() == len && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn list_dir(dir: &Path) -> String {
    match std::fs::read_dir(dir) {
        Ok(entries) => {
            let mut names: Vec<String> = entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names.join(" ")
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => "<absent>".into(),
        Err(e) => format!("<{e}>"),
    }
}

/// `/sys/fs/cgroup/<hierarchy>/filesync-k8s` directories that exist.
fn cluster_cgroups() -> Vec<String> {
    let mut found = Vec::new();
    if let Ok(hierarchies) = std::fs::read_dir("/sys/fs/cgroup") {
        for h in hierarchies.flatten() {
            let p = h.path().join(CGROUP_ROOT);
            if p.is_dir() {
                found.push(p.display().to_string());
            }
        }
    }
    found.sort();
    found
}

/// `kubectl port-forward pod/POD :REMOTE --address 127.0.0.1`: the app in
/// a pod reached on a free port of 127.0.0.1 (never by pod IP); stopped
/// when dropped.
pub struct PortForward {
    child: std::process::Child,
    /// The local port kubectl chose.
    pub port: u16,
}

impl PortForward {
    /// Starts the forward with `kubectl` (a kubectl command for the
    /// cluster, e.g. [`Cluster::kubectl`]) and returns once kubectl says
    /// which local port it listens on.
    pub fn start(mut kubectl: Command, pod: &str, remote: u16) -> anyhow::Result<PortForward> {
        use std::io::{BufRead, BufReader};
        let mut child = kubectl
            .args(["port-forward", &format!("pod/{pod}"), &format!(":{remote}")])
            .args(["--address", "127.0.0.1"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .context("starting kubectl port-forward")?;
        let mut stdout = BufReader::new(child.stdout.take().context("kubectl's stdout")?);
        let mut line = String::new();
        stdout
            .read_line(&mut line)
            .context("reading kubectl port-forward")?;
        // Keep reading: kubectl reports each connection, and a closed pipe
        // would end it.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        // "Forwarding from 127.0.0.1:PORT -> REMOTE"
        let port = line
            .split("127.0.0.1:")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .and_then(|p| p.parse().ok());
        let mut forward = PortForward { child, port: 0 };
        match port {
            Some(port) => {
                forward.port = port;
                Ok(forward)
            }
            None => bail!("kubectl port-forward said {line:?}"),
        }
    }
}

impl Drop for PortForward {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_not_changes() {
        assert_eq!(strip_counters(":INPUT ACCEPT [12:3456]"), ":INPUT ACCEPT");
        assert_eq!(
            strip_counters("-A INPUT -j KUBE-FIREWALL"),
            "-A INPUT -j KUBE-FIREWALL"
        );
    }

    #[test]
    fn docker_interfaces_are_told_from_cni_ones() {
        assert!(is_hex_suffixed("br-05811fd402da", "br-", 12));
        assert!(is_hex_suffixed("vethf05d50c", "veth", 7));
        assert!(!is_hex_suffixed("veth09ec4fe5", "veth", 7));
        assert!(!is_hex_suffixed(BRIDGE, "br-", 12));
    }

    #[test]
    fn a_snapshot_equals_itself_and_names_what_differs() {
        let a = host_snapshot();
        assert_eq!(snapshot_diff(&a, &a.clone()), None);
        let mut b = a.clone();
        b.sections.insert(
            "sysctl",
            a.sections["sysctl"].replace("kernel.panic = ", "kernel.panic = 9"),
        );
        let diff = snapshot_diff(&a, &b).expect("a difference");
        assert!(diff.contains("== sysctl"), "{diff}");
        assert!(diff.contains("+ kernel.panic = 9"), "{diff}");
    }
}
