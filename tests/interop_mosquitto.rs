//! The interop scenarios of `tests/interop/` (Python paho-mqtt and MQTT.js, real clients we
//! did not write) pass against mosquitto, so that when they are pointed at our broker a
//! failure means our broker, not the scripts.
//!
//! Each test runs `tests/interop/setup.sh` (installs the pinned clients under `target/interop`
//! and `tests/interop/node_modules`; quick once done), starts its own mosquitto on two free
//! 127.0.0.1 ports (TCP and WebSocket), runs one script and stops mosquitto on drop, also when
//! the test fails. The script prints `ok NAME` / `FAIL NAME: why` per scenario; the test shows
//! that output and asserts the script passed.
//!
//! Needs `python3`, `node`, `npm` and `mosquitto` (on `PATH`, or Debian's
//! `/usr/sbin/mosquitto`). Without one of them the tests are skipped with a note, except on CI
//! (`CI` set and non-empty), where a missing program is a failure.

use std::env;
use std::fs;
use std::io;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{self, Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// The bound on `setup.sh`: a first install downloads both clients; later runs take
/// milliseconds.
const SETUP: Duration = Duration::from_secs(600);
/// The bound on one script's whole run (each scenario has its own 15 s deadline inside).
const SCRIPT: Duration = Duration::from_secs(240);
/// The bound on mosquitto starting to listen.
const BROKER_START: Duration = Duration::from_secs(10);
/// mosquitto 2.0.11's known departures from the spec, which the strict scripts accept only
/// when told (`tests/interop/README.md` lists them).
const MOSQUITTO_ALLOWS: [&str; 2] = ["--allow", "retained-to-shared"];
/// How often a bounded wait looks again.
const POLL: Duration = Duration::from_millis(20);

/// The paho-mqtt scenarios (3.1.1 and 5.0 over TCP) all pass against mosquitto.
#[test]
fn paho_scenarios_pass_against_mosquitto() {
    let Some(tools) = Tools::find() else {
        return;
    };
    let python = setup();
    let broker = Mosquitto::start(&tools.mosquitto);
    let script = interop_dir().join("paho_scenarios.py");
    let port = broker.tcp_port.to_string();
    run_script(
        "paho",
        Command::new(python)
            .arg(script)
            .args(["--host", "127.0.0.1", "--port", &port])
            .args(MOSQUITTO_ALLOWS),
        &broker,
    );
}

/// The MQTT.js scenarios (3.1.1 and 5.0 over TCP and WebSocket) all pass against mosquitto.
#[test]
fn mqttjs_scenarios_pass_against_mosquitto() {
    let Some(tools) = Tools::find() else {
        return;
    };
    setup();
    let broker = Mosquitto::start(&tools.mosquitto);
    let script = interop_dir().join("mqttjs_scenarios.mjs");
    let port = broker.tcp_port.to_string();
    let ws_url = format!("ws://127.0.0.1:{}/mqtt", broker.ws_port);
    run_script(
        "mqttjs",
        Command::new(&tools.node)
            .arg(script)
            .args(["--host", "127.0.0.1", "--port", &port])
            .args(["--ws-url", &ws_url])
            .args(MOSQUITTO_ALLOWS),
        &broker,
    );
}

// ---- the outside programs ----

/// The programs the tests need, found on `PATH`.
struct Tools {
    /// `node`, to run the MQTT.js script.
    node: PathBuf,
    /// The broker.
    mosquitto: PathBuf,
}

impl Tools {
    /// Finds every program, or returns `None` after a note when one is missing outside CI.
    ///
    /// # Panics
    ///
    /// On CI (`CI` set and non-empty) when a program is missing.
    fn find() -> Option<Self> {
        let python = on_path("python3");
        let node = on_path("node");
        let npm = on_path("npm");
        let mosquitto = on_path("mosquitto").or_else(|| {
            let debian = PathBuf::from("/usr/sbin/mosquitto");
            debian.is_file().then_some(debian)
        });
        let missing: Vec<&str> = [
            ("python3", python.is_some()),
            ("node", node.is_some()),
            ("npm", npm.is_some()),
            ("mosquitto", mosquitto.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, found)| (!found).then_some(name))
        .collect();
        if missing.is_empty() {
            return Some(Self {
                node: node?,
                mosquitto: mosquitto?,
            });
        }
        let on_ci = env::var_os("CI").is_some_and(|value| !value.is_empty());
        assert!(
            !on_ci,
            "CI is set but {} missing: the interop tests must run on CI",
            missing.join(", ")
        );
        eprintln!(
            "note: interop test skipped: {} not found (install them to run it)",
            missing.join(", ")
        );
        None
    }
}

/// The first executable file called `name` in a directory of `PATH`.
fn on_path(name: &str) -> Option<PathBuf> {
    let path = env::var_os("PATH")?;
    env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// `tests/interop/` of this crate.
fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop")
}

/// A directory of this test alone under the system's temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    /// Creates a fresh directory named after the process and a counter.
    fn new(what: &str) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = env::temp_dir().join(format!("mqtt-sansio-{what}-{}-{n}", process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("temporary directory");
        Self(dir)
    }

    /// A path inside the directory.
    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A child process killed and reaped on drop, so that a failing test leaves none behind.
struct ChildGuard(Child);

impl ChildGuard {
    /// Waits for the child to exit, at most `bound`; `None` if it is still running then.
    fn wait_for(&mut self, bound: Duration) -> Option<ExitStatus> {
        let until = Instant::now() + bound;
        loop {
            if let Some(status) = self.0.try_wait().expect("wait for a child") {
                return Some(status);
            }
            if Instant::now() >= until {
                return None;
            }
            thread::sleep(POLL);
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `command` with its output in files of `dir`, waits at most `bound`, and returns its
/// status (`None`: timed out and killed) with what it printed on stdout and stderr.
fn run_bounded(
    command: &mut Command,
    dir: &TempDir,
    bound: Duration,
) -> (Option<ExitStatus>, String, String) {
    let (out, err) = (dir.join("stdout"), dir.join("stderr"));
    let child = command
        .stdin(Stdio::null())
        .stdout(fs::File::create(&out).expect("stdout file"))
        .stderr(fs::File::create(&err).expect("stderr file"))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
    let mut child = ChildGuard(child);
    let status = child.wait_for(bound);
    drop(child);
    let read = |path: &Path| fs::read_to_string(path).unwrap_or_default();
    (status, read(&out), read(&err))
}

/// Runs `setup.sh` and returns the virtual environment's Python it names.
///
/// # Panics
///
/// When the setup fails or outlasts [`SETUP`].
fn setup() -> PathBuf {
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

// ---- the broker ----

/// A mosquitto listening on 127.0.0.1 with TCP and WebSocket listeners, stopped on drop.
struct Mosquitto {
    /// The MQTT-over-TCP port.
    tcp_port: u16,
    /// The MQTT-over-WebSocket port.
    ws_port: u16,
    /// The running broker (declared before `dir`, so it stops before its files go).
    child: ChildGuard,
    /// Its configuration and log.
    dir: TempDir,
}

impl Mosquitto {
    /// Starts mosquitto on two ports the OS chose and waits until both accept connections.
    ///
    /// # Panics
    ///
    /// When mosquitto exits or does not listen within [`BROKER_START`] (its log is shown).
    fn start(binary: &Path) -> Self {
        let dir = TempDir::new("interop-mosquitto");
        let (tcp_port, ws_port) = (free_port(), free_port());
        let config = dir.join("mosquitto.conf");
        fs::write(
            &config,
            format!(
                "allow_anonymous true\npersistence false\n\
                 listener {tcp_port} 127.0.0.1\n\
                 listener {ws_port} 127.0.0.1\nprotocol websockets\n"
            ),
        )
        .expect("write mosquitto.conf");
        readable_by_all(&dir.0).expect("make the configuration readable");
        let log = fs::File::create(dir.join("log")).expect("mosquitto log file");
        let child = Command::new(binary)
            .arg("-c")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let mut broker = Self {
            tcp_port,
            ws_port,
            child: ChildGuard(child),
            dir,
        };
        let until = Instant::now() + BROKER_START;
        for port in [tcp_port, ws_port] {
            while TcpStream::connect(("127.0.0.1", port)).is_err() {
                let exited = broker.child.0.try_wait().expect("poll mosquitto");
                assert!(
                    exited.is_none() && Instant::now() < until,
                    "mosquitto is not listening on {port} ({exited:?}):\n{}",
                    broker.log()
                );
                thread::sleep(POLL);
            }
        }
        broker
    }

    /// What mosquitto logged so far.
    fn log(&self) -> String {
        fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }
}

/// A port free on 127.0.0.1 a moment ago (the OS chose it; mosquitto binds it next).
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

/// Lets every user read `dir` and its files: started as root, mosquitto drops to its own user
/// before it has read everything.
fn readable_by_all(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755))?;
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644))?;
    }
    Ok(())
}

// ---- the scripts ----

/// Runs one scenario script and asserts it passed: exit status 0, at least one `ok` line, no
/// `FAIL` line. Its output is printed either way (nextest shows it for a failing test).
fn run_script(name: &str, command: &mut Command, broker: &Mosquitto) {
    let dir = TempDir::new("interop-run");
    let (status, out, err) = run_bounded(command, &dir, SCRIPT);
    println!("{out}");
    eprintln!("{err}");
    let context = || {
        format!(
            "{name} ({status:?}):\n{out}\n{err}\nmosquitto:\n{}",
            broker.log()
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
