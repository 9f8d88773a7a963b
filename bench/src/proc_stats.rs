//! What Linux's /proc tells of a supervisor process: CPU time, peak RSS
//! and inotify watches.

use anyhow::Context;
use nix::unistd::{sysconf, SysconfVar};
use std::time::Duration;

/// utime + stime of a process (all its threads), from /proc/PID/stat.
pub(crate) fn cpu_time(pid: u32) -> anyhow::Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let after = stat.rsplit_once(") ").context("stat")?.1;
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = f[11].parse::<u64>()? + f[12].parse::<u64>()?;
    // The kernel counts these in clock ticks of CLK_TCK per second.
    let per_second = sysconf(SysconfVar::CLK_TCK)?
        .filter(|&t| t > 0)
        .context("CLK_TCK unknown")?;
    Ok(Duration::from_secs_f64(ticks as f64 / per_second as f64))
}

pub(crate) fn peak_rss_kb(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .context("VmHWM")?;
    Ok(line
        .split_whitespace()
        .nth(1)
        .context("VmHWM value")?
        .parse()?)
}

pub(crate) fn inotify_watches(pid: u32) -> usize {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fdinfo")) else {
        return 0;
    };
    fds.flatten()
        .filter_map(|f| std::fs::read_to_string(f.path()).ok())
        .map(|info| {
            info.lines()
                .filter(|l| l.starts_with("inotify wd:"))
                .count()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_spent_cpu_time_and_memory() {
        let me = std::process::id();
        // Spin until the kernel has counted at least one tick of ours.
        let start = std::time::Instant::now();
        let mut spent = cpu_time(me).unwrap();
        while spent.is_zero() && start.elapsed() < Duration::from_secs(10) {
            std::hint::black_box((0..100_000u64).sum::<u64>());
            spent = cpu_time(me).unwrap();
        }
        assert!(!spent.is_zero(), "no CPU time counted");
        assert!(peak_rss_kb(me).unwrap() > 0);
    }
}
