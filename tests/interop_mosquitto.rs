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

#[path = "common/broker_server.rs"]
mod broker_server;
#[path = "common/interop.rs"]
mod interop;

use std::fs;
use std::io;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use broker_server::{ChildGuard, TempDir, program};
use interop::{Tools, interop_dir, run_script, setup};

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
    let (Some(_tools), Some(mosquitto)) = (Tools::find(), mosquitto()) else {
        return;
    };
    let python = setup();
    let broker = Mosquitto::start(&mosquitto);
    let script = interop_dir().join("paho_scenarios.py");
    let port = broker.tcp_port.to_string();
    run_script(
        "paho",
        Command::new(python)
            .arg(script)
            .args(["--host", "127.0.0.1", "--port", &port])
            .args(MOSQUITTO_ALLOWS),
        || broker.log(),
    );
}

/// The MQTT.js scenarios (3.1.1 and 5.0 over TCP and WebSocket) all pass against mosquitto.
#[test]
fn mqttjs_scenarios_pass_against_mosquitto() {
    let (Some(tools), Some(mosquitto)) = (Tools::find(), mosquitto()) else {
        return;
    };
    setup();
    let broker = Mosquitto::start(&mosquitto);
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
        || broker.log(),
    );
}

/// Debian's mosquitto (on `PATH` or in `/usr/sbin`); see [`program`] for when it is missing.
fn mosquitto() -> Option<PathBuf> {
    let debian = PathBuf::from("/usr/sbin/mosquitto");
    if debian.is_file() {
        return Some(debian);
    }
    program("mosquitto")
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
        let config = dir.path().join("mosquitto.conf");
        fs::write(
            &config,
            format!(
                "allow_anonymous true\npersistence false\n\
                 listener {tcp_port} 127.0.0.1\n\
                 listener {ws_port} 127.0.0.1\nprotocol websockets\n"
            ),
        )
        .expect("write mosquitto.conf");
        readable_by_all(dir.path()).expect("make the configuration readable");
        let log = fs::File::create(dir.path().join("log")).expect("mosquitto log file");
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
        fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
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
