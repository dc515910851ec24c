//! What `/proc` says about a process: its resident memory and the CPU time it has used.

use std::fs;

/// Clock ticks per second in `/proc/PID/stat` (`USER_HZ`, which Linux fixes at 100 for user
/// space on every common architecture; reading `sysconf` would need `unsafe`).
const TICKS_PER_SECOND: f64 = 100.0;

/// Which process to read: this one or another.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Process {
    /// The generator itself.
    Own,
    /// Another process, by id.
    Pid(u32),
}

impl Process {
    /// The path of `file` under the process's `/proc` directory.
    fn path(self, file: &str) -> String {
        match self {
            Self::Own => format!("/proc/self/{file}"),
            Self::Pid(pid) => format!("/proc/{pid}/{file}"),
        }
    }

    /// The resident set size in bytes (`VmRSS` in `/proc/PID/status`).
    pub(crate) fn rss(self) -> Result<u64, String> {
        let path = self.path("status");
        let status = fs::read_to_string(&path).map_err(|error| format!("{path}: {error}"))?;
        let kib = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.trim().strip_suffix("kB"))
            .and_then(|number| number.trim().parse::<u64>().ok())
            .ok_or_else(|| format!("{path}: no VmRSS line"))?;
        Ok(kib * 1024)
    }

    /// User plus system CPU time in seconds, of every thread (`utime` and `stime` in
    /// `/proc/PID/stat`).
    pub(crate) fn cpu_seconds(self) -> Result<f64, String> {
        let path = self.path("stat");
        let stat = fs::read_to_string(&path).map_err(|error| format!("{path}: {error}"))?;
        cpu_ticks(&stat)
            .map(|ticks| ticks as f64 / TICKS_PER_SECOND)
            .ok_or_else(|| format!("{path}: unexpected format"))
    }
}

/// `utime + stime` from the text of `/proc/PID/stat`. The command name (field 2) is in
/// parentheses and may hold spaces, so fields are counted from the last `)`: `utime` and
/// `stime` are fields 14 and 15, the 12th and 13th after it.
fn cpu_ticks(stat: &str) -> Option<u64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_ticks_are_counted_after_a_name_with_spaces() {
        let stat = "1234 (my broker) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 1 0";
        assert_eq!(cpu_ticks(stat), Some(325));
    }

    #[test]
    fn own_process_has_memory_and_cpu_time() {
        assert!(Process::Own.rss().unwrap() > 0);
        assert!(Process::Own.cpu_seconds().unwrap() >= 0.0);
    }
}
