//! The broker example (`examples/broker/`) run in-process for the tests: [`BrokerServer`]
//! starts it on a thread bound to 127.0.0.1:0 (or on the listeners its `-l` options name),
//! reports every listener's address, and stops it gracefully on
//! [`stop`](BrokerServer::stop) or drop. Also what those tests share: the outside programs they
//! run ([`program`], killed on drop by [`ChildGuard`]) and a scratch directory ([`TempDir`]).
//!
//! Include it with `#[path = "common/broker_server.rs"] mod broker_server;`.

// Each test binary uses a different part of this module.
#![allow(dead_code)]

#[path = "../../examples/broker/acl.rs"]
pub(crate) mod acl;
#[path = "../../examples/broker/admission.rs"]
mod admission;
#[path = "../../examples/broker/args.rs"]
pub(crate) mod args;
#[path = "../../examples/broker/connections.rs"]
mod connections;
#[path = "../../examples/broker/listener.rs"]
pub(crate) mod listener;
#[path = "../../examples/broker/log.rs"]
pub(crate) mod log;
#[path = "../../examples/broker/password.rs"]
mod password;
#[path = "../../examples/broker/persist.rs"]
pub(crate) mod persist;
#[path = "../../examples/broker/server.rs"]
pub(crate) mod server;
#[path = "../../examples/broker/sys.rs"]
mod sys;
#[path = "../../examples/broker/tls.rs"]
mod tls;
#[path = "../../examples/broker/transport.rs"]
mod transport;
#[path = "../../examples/broker/websocket.rs"]
mod websocket;

use std::io::Read;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mqtt_sansio::broker::Stats;

use args::{Options, Parsed};
use listener::{ListenerKind, ListenerSpec};
use server::{Server, Shutdown};

/// How long a test waits for anything: a server to start or stop, a program to finish, a
/// counter to reach a value.
pub(crate) const WAIT: Duration = Duration::from_secs(20);
/// The pause between two looks at something a test waits for.
const POLL_EVERY: Duration = Duration::from_millis(5);

/// The broker example running on a thread of the test.
#[derive(Debug)]
pub(crate) struct BrokerServer {
    /// Each listener's transport and address, in `-l` order.
    listeners: Vec<(ListenerKind, SocketAddr)>,
    shutdown: Shutdown,
    stats: Arc<Mutex<Stats>>,
    thread: Option<JoinHandle<Result<(), String>>>,
}

impl BrokerServer {
    /// A server with the command-line options `args`, listening on 127.0.0.1 on a port the
    /// system chooses (any `-p`/`-l` in `args` replaces that), logging warnings and errors
    /// only unless `args` says otherwise.
    pub(crate) fn start(args: &[&str]) -> Self {
        let mut argv = vec!["--log-level", "warn"];
        argv.extend_from_slice(args);
        let mut options = match args::parse(&argv) {
            Ok(Parsed::Run(options)) => *options,
            other => panic!("options {args:?}: {other:?}"),
        };
        if !args
            .iter()
            .any(|arg| matches!(*arg, "-p" | "--port" | "-l" | "--listen"))
        {
            options.listeners = vec![loopback_any_port()];
        }
        Self::start_with(options)
    }

    /// A server with `options` as given (a test may change what no option reaches, such as
    /// the connect timeout).
    pub(crate) fn start_with(options: Options) -> Self {
        log::set_level(options.log_level);
        let (sender, receiver) = mpsc::channel();
        // The server holds `Rc`s, so it is built on its own thread and never moves.
        let thread = std::thread::spawn(move || {
            let mut server = match Server::new(&options) {
                Ok(server) => server,
                Err(message) => {
                    let _ = sender.send(Err(message.clone()));
                    return Err(message);
                }
            };
            let listeners = server.bound();
            let _ = sender.send(Ok((listeners, server.shutdown_handle(), server.stats())));
            server.run()
        });
        let started = receiver
            .recv_timeout(WAIT)
            .expect("the broker thread did not report its address");
        let (listeners, shutdown, stats) = match started {
            Ok(started) => started,
            Err(message) => {
                let _ = thread.join();
                panic!("the broker did not start: {message}")
            }
        };
        assert!(!listeners.is_empty(), "the broker listens nowhere");
        Self {
            listeners,
            shutdown,
            stats,
            thread: Some(thread),
        }
    }

    /// The address of its first listener.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.listeners[0].1
    }

    /// The port of its first listener, as a command-line argument.
    pub(crate) fn port(&self) -> String {
        self.addr().port().to_string()
    }

    /// Each listener's transport and address, in `-l` order (ports as the system chose them).
    pub(crate) fn listeners(&self) -> &[(ListenerKind, SocketAddr)] {
        &self.listeners
    }

    /// The address of its first listener of transport `kind`.
    ///
    /// # Panics
    ///
    /// When it has none.
    pub(crate) fn addr_of(&self, kind: ListenerKind) -> SocketAddr {
        self.listeners
            .iter()
            .find_map(|&(k, addr)| (k == kind).then_some(addr))
            .unwrap_or_else(|| panic!("no {kind} listener among {:?}", self.listeners))
    }

    /// Its counters after its last wake-up.
    pub(crate) fn stats(&self) -> Stats {
        *self.stats.lock().expect("stats lock")
    }

    /// Waits until its counters satisfy `ready` (within [`WAIT`]); panics naming `what`
    /// otherwise.
    pub(crate) fn wait_for(&self, what: &str, ready: impl Fn(&Stats) -> bool) {
        let until = Instant::now() + WAIT;
        loop {
            let stats = self.stats();
            if ready(&stats) {
                return;
            }
            assert!(
                Instant::now() < until,
                "timed out waiting for {what}: {stats:?}"
            );
            std::thread::sleep(POLL_EVERY);
        }
    }

    /// Stops it gracefully and returns what its run returned.
    pub(crate) fn stop(mut self) -> Result<(), String> {
        self.stop_and_join()
    }

    fn stop_and_join(&mut self) -> Result<(), String> {
        self.shutdown.stop();
        match self.thread.take() {
            Some(thread) => thread.join().unwrap_or_else(|_| Err("panicked".to_owned())),
            None => Ok(()),
        }
    }
}

impl Drop for BrokerServer {
    fn drop(&mut self) {
        let stopped = self.stop_and_join();
        if !std::thread::panicking() {
            stopped.expect("the broker stopped with an error");
        }
    }
}

/// 127.0.0.1 on a port the system chooses.
pub(crate) fn loopback_any_port() -> ListenerSpec {
    ListenerSpec::tcp(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
}

/// The path of outside program `name` (`mosquitto_sub`, ...), or `None` with a printed note
/// when it is not installed; on CI (`CI` set and non-empty) a missing program fails the test.
pub(crate) fn program(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|path| path.is_file())
    });
    if found.is_none() {
        let on_ci = std::env::var_os("CI").is_some_and(|value| !value.is_empty());
        assert!(
            !on_ci,
            "{name} is not installed but CI is set: `.ci/run` installs what the tests need"
        );
        println!("skipped: {name} is not installed (`.ci/run` shows how to install it)");
    }
    found
}

/// `mosquitto_pub` or `mosquitto_sub` (the `program` [`program`] found) aimed at `server` in
/// `version` (`mqttv31`, `mqttv311` or `mqttv5`): the arguments every such run starts with.
pub(crate) fn mosquitto_client(program: &Path, server: &BrokerServer, version: &str) -> Command {
    let mut command = Command::new(program);
    command.args(["-h", "127.0.0.1", "-p", &server.port(), "-V", version]);
    command
}

/// A child process, killed and reaped when dropped.
#[derive(Debug)]
pub(crate) struct ChildGuard(pub(crate) Child);

impl ChildGuard {
    /// Starts `command` with its output captured.
    pub(crate) fn spawn(command: &mut Command) -> Self {
        let child = command
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
        Self(child)
    }

    /// Waits (within [`WAIT`]) for it to exit; its status, standard output and error.
    pub(crate) fn finish(mut self) -> (ExitStatus, String, String) {
        let until = Instant::now() + WAIT;
        let status = loop {
            if let Some(status) = self.0.try_wait().expect("try_wait") {
                break status;
            }
            assert!(Instant::now() < until, "{:?} did not finish", self.0);
            std::thread::sleep(POLL_EVERY);
        };
        let mut stdout = String::new();
        let mut stderr = String::new();
        if let Some(out) = &mut self.0.stdout {
            let _ = out.read_to_string(&mut stdout);
        }
        if let Some(err) = &mut self.0.stderr {
            let _ = err.read_to_string(&mut stderr);
        }
        (status, stdout, stderr)
    }

    /// Kills it at once (SIGKILL): its sockets close without a word from it.
    pub(crate) fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A directory of its own under the system's temporary directory, removed when dropped.
#[derive(Debug)]
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    /// A new empty directory named after `test`.
    pub(crate) fn new(test: &str) -> Self {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .subsec_nanos();
        let name = format!(
            "mqtt-sansio-{test}-{}-{}-{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let path = std::env::temp_dir().join(name);
        std::fs::create_dir_all(&path).expect("create a scratch directory");
        Self(path)
    }

    /// The directory.
    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A name no other test or run uses, for topics and Client Identifiers.
pub(crate) fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A QoS 1 PUBLISH of `payload` on `topic` (Packet Identifier 7).
pub(crate) fn qos1(topic: &str, payload: bytes::Bytes) -> mqtt_sansio::Publish {
    let topic =
        mqtt_sansio::TopicName::new(bytestring::ByteString::from(topic)).expect("a valid topic");
    let mut message = mqtt_sansio::Publish::new(topic, payload);
    message.delivery = mqtt_sansio::Delivery::AtLeastOnce {
        packet_id: mqtt_sansio::PacketId::new(7).expect("a packet id"),
        dup: false,
    };
    message
}

/// A bare MQTT client over a blocking socket, for tests that need to see each packet: it
/// sends packets as given and decodes what the server sends.
#[derive(Debug)]
pub(crate) struct RawClient {
    stream: std::net::TcpStream,
    decoder: mqtt_sansio::Decoder,
    version: mqtt_sansio::ProtocolVersion,
}

impl RawClient {
    /// A TCP connection to `addr`, speaking `version`, nothing sent yet.
    pub(crate) fn connect(addr: SocketAddr, version: mqtt_sansio::ProtocolVersion) -> Self {
        let stream = std::net::TcpStream::connect(addr).expect("connect to the broker");
        stream
            .set_read_timeout(Some(WAIT))
            .expect("set a read timeout");
        let decoder = mqtt_sansio::Decoder::client(version, mqtt_sansio::Limits::default());
        Self {
            stream,
            decoder,
            version,
        }
    }

    /// Sends `packet`.
    pub(crate) fn send(&mut self, packet: impl Into<mqtt_sansio::Packet>) {
        use std::io::Write;
        let mut bytes = Vec::new();
        packet
            .into()
            .encode(self.version, &mut bytes)
            .expect("encode a packet");
        self.stream.write_all(&bytes).expect("send a packet");
    }

    /// Publishes `count` QoS 1 messages of `size` bytes (at least 4) to `topic`, each starting
    /// with its number (big-endian `u32`, from 0), one at a time: each waits for its PUBACK,
    /// so that each has reached the subscribers' sockets before the next is sent.
    pub(crate) fn publish_numbered(&mut self, topic: &str, count: u32, size: usize) {
        for n in 0..count {
            let mut payload = vec![b'x'; size];
            payload[..4].copy_from_slice(&n.to_be_bytes());
            self.send(qos1(topic, bytes::Bytes::from(payload)));
            assert!(
                matches!(self.receive(), Some(mqtt_sansio::Packet::PubAck(_))),
                "message {n} acknowledged"
            );
        }
    }

    /// The next packet from the server (within [`WAIT`]); `None` when it closed the connection.
    pub(crate) fn receive(&mut self) -> Option<mqtt_sansio::Packet> {
        let mut buf = [0u8; 4096];
        loop {
            if let Some(packet) = self.decoder.decode().expect("a valid packet") {
                return Some(packet);
            }
            match self.stream.read(&mut buf) {
                Ok(0) => return None,
                Ok(read) => self.decoder.push(&buf[..read]),
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return None,
                Err(e) => panic!("reading from the broker: {e}"),
            }
        }
    }

    /// Whether the server closes the connection within [`WAIT`] (reading and dropping
    /// whatever it sends first).
    pub(crate) fn closed_by_server(&mut self) -> bool {
        let mut buf = [0u8; 4096];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
                Err(_) => return false,
            }
        }
    }
}

/// The example's own executable (`target/<profile>/examples/broker`), found from this test's
/// executable (`target/<profile>/deps/...`) and built first if it is missing or older than
/// the test (a `cargo nextest run --test ...` builds only the test).
pub(crate) fn example_binary() -> PathBuf {
    let test = std::env::current_exe().expect("the test's own path");
    let deps = test.parent().expect("deps directory");
    let profile_dir = deps.parent().expect("profile directory");
    let binary = profile_dir.join("examples").join("broker");
    let modified = |path: &Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let fresh = match (modified(&binary), modified(&test)) {
        (Some(binary), Some(test)) => binary >= test,
        _ => false,
    };
    if !fresh {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let profile = match profile_dir.file_name().and_then(|name| name.to_str()) {
            Some("debug") | None => "dev".to_owned(),
            Some(other) => other.to_owned(),
        };
        let target_dir = profile_dir.parent().expect("target directory");
        let mut build = Command::new(cargo);
        build
            .args([
                "build",
                "--quiet",
                "--example",
                "broker",
                "--profile",
                &profile,
            ])
            .arg("--manifest-path")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
            .arg("--target-dir")
            .arg(target_dir);
        let status = build
            .status()
            .unwrap_or_else(|e| panic!("cannot run {build:?}: {e}"));
        assert!(status.success(), "{build:?} failed: {status}");
    }
    assert!(binary.is_file(), "{} is missing", binary.display());
    binary
}
