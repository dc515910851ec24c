//! Running the interop scenarios of `tests/interop/` (Python paho-mqtt and MQTT.js, real
//! clients we did not write) against a broker: [`Tools`] finds the programs, [`setup`]
//! installs the pinned clients, [`run_script`] runs one script and asserts every scenario
//! passed.
//!
//! Include it after `broker_server.rs`, whose [`program`], [`ChildGuard`] and [`TempDir`] it
//! uses: `#[path = "common/interop.rs"] mod interop;`.

// Each test binary uses a different part of this module.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::broker_server::{ChildGuard, TempDir, program};

/// The bound on `setup.sh`: a first install downloads both clients; later runs take
/// milliseconds.
const SETUP: Duration = Duration::from_secs(600);
/// The bound on one script's whole run (each scenario has its own 15 s deadline inside).
const SCRIPT: Duration = Duration::from_secs(240);
/// How often a bounded wait looks again.
const POLL: Duration = Duration::from_millis(20);

/// The programs the scripts need, found on `PATH`.
#[derive(Debug)]
pub(crate) struct Tools {
    /// `node`, to run the MQTT.js script.
    pub(crate) node: PathBuf,
}

impl Tools {
    /// Finds `python3`, `node` and `npm`, or returns `None` after a note when one is missing
    /// outside CI; on CI (`CI` set and non-empty) a missing program fails the test.
    pub(crate) fn find() -> Option<Self> {
        let python = program("python3");
        let node = program("node");
        let npm = program("npm");
        python?;
        npm?;
        Some(Self { node: node? })
    }
}

/// `tests/interop/` of this crate.
pub(crate) fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop")
}

/// Runs `setup.sh` and returns the virtual environment's Python it names.
///
/// # Panics
///
/// When the setup fails or outlasts [`SETUP`].
pub(crate) fn setup() -> PathBuf {
    let dir = TempDir::new("interop-setup");
    let (status, out, err) = run_bounded(
        Command::new("bash").arg(interop_dir().join("setup.sh")),
        &dir,
        SETUP,
    );
    assert!(
        status.is_some_and(|s| s.success()),
        "setup.sh failed ({status:?}):\n{out}\n{err}"
    );
    let python = out
        .lines()
        .find_map(|line| line.strip_prefix("python="))
        .unwrap_or_else(|| panic!("setup.sh named no python:\n{out}"));
    PathBuf::from(python)
}

/// Runs `command` with its output in files of `dir` (a pipe nobody reads could fill and stall
/// it), waits at most `bound`, and returns its status (`None`: timed out and killed) with
/// what it printed on stdout and stderr.
pub(crate) fn run_bounded(
    command: &mut Command,
    dir: &TempDir,
    bound: Duration,
) -> (Option<ExitStatus>, String, String) {
    let (out, err) = (dir.path().join("stdout"), dir.path().join("stderr"));
    let child = command
        .stdin(Stdio::null())
        .stdout(fs::File::create(&out).expect("stdout file"))
        .stderr(fs::File::create(&err).expect("stderr file"))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
    let mut child = ChildGuard(child);
    let until = Instant::now() + bound;
    let status = loop {
        if let Some(status) = child.0.try_wait().expect("wait for a child") {
            break Some(status);
        }
        if Instant::now() >= until {
            break None;
        }
        std::thread::sleep(POLL);
    };
    drop(child);
    let read = |path: &Path| fs::read_to_string(path).unwrap_or_default();
    (status, read(&out), read(&err))
}

/// Runs one scenario script and asserts it passed: exit status 0, at least one `ok` line, no
/// `FAIL` line. Its output is printed either way (nextest shows it for a failing test), with
/// `broker_log()` in the failure message.
pub(crate) fn run_script(name: &str, command: &mut Command, broker_log: impl Fn() -> String) {
    let dir = TempDir::new("interop-run");
    let (status, out, err) = run_bounded(command, &dir, SCRIPT);
    println!("{out}");
    eprintln!("{err}");
    let context = || {
        format!(
            "{name} ({status:?}):\n{out}\n{err}\nbroker:\n{}",
            broker_log()
        )
    };
    let passed = out.lines().filter(|line| line.starts_with("ok ")).count();
    let failed: Vec<&str> = out.lines().filter(|l| l.starts_with("FAIL ")).collect();
    assert!(
        failed.is_empty(),
        "scenarios failed: {failed:#?}\n{}",
        context()
    );
    assert!(passed > 0, "no scenario ran: {}", context());
    assert!(status.is_some_and(|s| s.success()), "{}", context());
}
