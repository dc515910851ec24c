//! The command line of `examples/broker.rs`: mosquitto's option names where mosquitto has one,
//! parsed by hand into [`Options`].

// The example and the tests each use a part of this module.
#![allow(dead_code)]

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use mqtt_sansio::BrokerConfig;

use super::listener::{DEFAULT_WS_PATH, ListenerKind, ListenerSpec};
use super::log::Level;

/// The port of the default listener, MQTT's registered port.
pub(crate) const DEFAULT_PORT: u16 = 1883;
/// How often the snapshot is written with `--persist`, by default: five minutes, so that a
/// crash loses at most that much while a busy broker does not rewrite its file every second.
pub(crate) const DEFAULT_AUTOSAVE: Duration = Duration::from_secs(300);
/// How often `$SYS` topics are published, by default: every 10 s, as mosquitto's
/// `sys_interval`.
pub(crate) const DEFAULT_SYS_INTERVAL: Duration = Duration::from_secs(10);

/// What `--help` prints.
pub(crate) const USAGE: &str = "\
broker: an MQTT 3.1, 3.1.1 and 5.0 broker on mqtt-sansio, one thread over mio.

Usage: broker [options]
       broker --help

With no option it listens on 127.0.0.1:1883 and lets anyone in, like a fresh mosquitto.

Options:
 -p, --port PORT           listen on 127.0.0.1:PORT over TCP (may be repeated); default:
                           1883 when no -l is given
 -l, --listen [SCHEME://]ADDR:PORT[/PATH]
                           listen on ADDR:PORT, e.g. 0.0.0.0:1883 or [::]:1883 (may be
                           repeated), with SCHEME one of:
                             tcp  MQTT over TCP (the default)
                             tls  MQTT over TLS (needs --tls-cert and --tls-key)
                             ws   MQTT over WebSocket, upgraded on PATH only (/mqtt if none)
                             wss  MQTT over WebSocket over TLS, upgraded on PATH only (/mqtt
                                  if none; needs --tls-cert and --tls-key)
     --tls-cert FILE       the PEM certificate chain of the tls and wss listeners, the
                           server's own certificate first
     --tls-key FILE        the PEM private key of that certificate (PKCS#8, PKCS#1 or SEC1)
     --max-connections N   open connections at once; more are accepted and closed at once;
                           default: 10000
     --max-packet-size BYTES
                           largest packet accepted; default: 1048576
     --max-inflight N      QoS 1 and 2 messages in flight to one client; default: 64
     --max-queued-messages N
                           messages queued for one session (offline or beyond its in-flight
                           window); default: 1000
     --max-queued-bytes BYTES
                           payload bytes queued for one session; default: 1048576
     --max-keepalive SECONDS
                           longest Keep Alive a client may ask for (1-65535); default: none
     --password-file FILE  mosquitto password file (mosquitto_passwd): every client must give
                           a user name and password in it; default: none
     --acl-file FILE       mosquitto ACL file: who may publish and subscribe to what;
                           default: none (everything allowed)
     --allow-anonymous true|false
                           let clients in without a user name; default: true, false with
                           --password-file
     --persist FILE        keep sessions and retained messages across restarts in FILE:
                           read at start (a missing file is a fresh start), written on
                           shutdown and every --autosave-interval; default: none
     --autosave-interval SECONDS
                           how often to write the --persist file; 0: only on shutdown;
                           default: 300
     --sys-interval SECONDS
                           how often to publish $SYS/broker/... (retained); 0: never;
                           default: 10
     --log-level LEVEL     error | warn | info | debug; default: info
     --help                print this help

SIGINT and SIGTERM stop the broker gracefully: MQTT 5.0 clients get DISCONNECT Server
shutting down (0x8B), every socket is flushed (5 s at most) and closed, the --persist file is
written, and the exit status is 0. The exit status is 1 on an error (bad options, a port
that cannot be bound, a --persist file that cannot be read).
";

/// What the command line asks for.
#[derive(Debug)]
pub(crate) enum Parsed {
    /// `--help`.
    Help,
    /// Run with these options.
    Run(Box<Options>),
}

/// Every option, with its default filled in.
#[derive(Clone, Debug)]
pub(crate) struct Options {
    /// Where to listen; never empty.
    pub(crate) listeners: Vec<ListenerSpec>,
    /// The broker core's limits (`--max-*`); `allow_anonymous` is set by [`Options::finish`].
    pub(crate) broker: BrokerConfig,
    /// `--password-file`.
    pub(crate) password_file: Option<PathBuf>,
    /// `--acl-file`.
    pub(crate) acl_file: Option<PathBuf>,
    /// `--tls-cert`: set whenever a listener uses TLS.
    pub(crate) tls_cert: Option<PathBuf>,
    /// `--tls-key`: set whenever a listener uses TLS.
    pub(crate) tls_key: Option<PathBuf>,
    /// `--allow-anonymous`, or its default.
    pub(crate) allow_anonymous: bool,
    /// `--persist`.
    pub(crate) persist: Option<PathBuf>,
    /// `--autosave-interval`; `None`: only on shutdown.
    pub(crate) autosave: Option<Duration>,
    /// `--sys-interval`; `None`: never.
    pub(crate) sys_interval: Option<Duration>,
    /// `--log-level`.
    pub(crate) log_level: Level,
}

impl Default for Options {
    /// The options of a command line without any: 127.0.0.1:1883, anonymous access.
    fn default() -> Self {
        Self {
            listeners: vec![ListenerSpec::tcp(SocketAddr::from((
                Ipv4Addr::LOCALHOST,
                DEFAULT_PORT,
            )))],
            broker: BrokerConfig::default(),
            password_file: None,
            acl_file: None,
            tls_cert: None,
            tls_key: None,
            allow_anonymous: true,
            persist: None,
            autosave: Some(DEFAULT_AUTOSAVE),
            sys_interval: Some(DEFAULT_SYS_INTERVAL),
            log_level: Level::Info,
        }
    }
}

impl Options {
    /// Whether every CONNECT goes to the driver for a verdict: with a password file, an ACL
    /// file (which needs to know each client's user) or anonymous access switched off.
    pub(crate) fn checks_connect(&self) -> bool {
        self.password_file.is_some() || self.acl_file.is_some() || !self.allow_anonymous
    }
}

/// Parses the arguments (without the program name).
pub(crate) fn parse<S: AsRef<str>>(argv: &[S]) -> Result<Parsed, String> {
    let mut options = Options {
        listeners: Vec::new(),
        ..Options::default()
    };
    let mut allow_anonymous = None;
    let mut args = argv.iter().map(AsRef::as_ref);
    while let Some(arg) = args.next() {
        // `--name=value` is the same as `--name value`.
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name, Some(value)),
            _ => (arg, None),
        };
        let mut value = || -> Result<&str, String> {
            inline
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match name {
            "--help" => return Ok(Parsed::Help),
            "-p" | "--port" => {
                let port = number::<u16>(name, value()?)?;
                options.listeners.push(ListenerSpec::tcp(SocketAddr::from((
                    Ipv4Addr::LOCALHOST,
                    port,
                ))));
            }
            "-l" | "--listen" => options.listeners.push(listener(value()?)?),
            "--max-connections" => {
                options.broker.max_connections = positive(name, value()?)?;
            }
            "--max-packet-size" => {
                let size = positive::<u32>(name, value()?)?;
                // The smallest size that still holds a CONNECT with a short Client Identifier,
                // and MQTT's own ceiling (a Remaining Length of 268,435,455 plus its header).
                if !(64..=268_435_460).contains(&size) {
                    return Err(format!("{name} must be between 64 and 268435460"));
                }
                options.broker.max_packet_size = size;
            }
            "--max-inflight" => options.broker.max_inflight = positive(name, value()?)?,
            "--max-queued-messages" => {
                options.broker.max_queued_messages = positive(name, value()?)?;
            }
            "--max-queued-bytes" => options.broker.max_queued_bytes = positive(name, value()?)?,
            "--max-keepalive" => {
                options.broker.max_keep_alive = Some(positive(name, value()?)?);
            }
            "--password-file" => options.password_file = Some(PathBuf::from(value()?)),
            "--acl-file" => options.acl_file = Some(PathBuf::from(value()?)),
            "--tls-cert" => options.tls_cert = Some(PathBuf::from(value()?)),
            "--tls-key" => options.tls_key = Some(PathBuf::from(value()?)),
            "--allow-anonymous" => {
                allow_anonymous = Some(match value()? {
                    "true" => true,
                    "false" => false,
                    other => return Err(format!("{name} must be true or false, not '{other}'")),
                });
            }
            "--persist" => options.persist = Some(PathBuf::from(value()?)),
            "--autosave-interval" => options.autosave = seconds(name, value()?)?,
            "--sys-interval" => options.sys_interval = seconds(name, value()?)?,
            "--log-level" => {
                let level = value()?;
                options.log_level = Level::parse(level).ok_or_else(|| {
                    format!("{name} must be error, warn, info or debug, not '{level}'")
                })?;
            }
            other => return Err(format!("unknown option '{other}'")),
        }
    }
    if options.listeners.is_empty() {
        options.listeners = Options::default().listeners;
    }
    if let Some(spec) = options.listeners.iter().find(|spec| spec.kind.uses_tls())
        && (options.tls_cert.is_none() || options.tls_key.is_none())
    {
        return Err(format!(
            "--listen {spec} needs --tls-cert FILE and --tls-key FILE (the server's \
             certificate chain and private key, PEM)"
        ));
    }
    options.allow_anonymous = allow_anonymous.unwrap_or(options.password_file.is_none());
    options.broker.allow_anonymous = !options.checks_connect();
    Ok(Parsed::Run(Box::new(options)))
}

/// A `-l` value: `[SCHEME://]ADDR:PORT[/PATH]`, SCHEME `tcp` (or `mqtt`, or none), `tls` (or
/// `mqtts`), `ws` or `wss`; PATH only for `ws` and `wss`, `/mqtt` when none is given.
fn listener(value: &str) -> Result<ListenerSpec, String> {
    let (kind, rest) = match value.split_once("://") {
        None => (ListenerKind::Tcp, value),
        Some((scheme, rest)) => match scheme.to_ascii_lowercase().as_str() {
            "tcp" | "mqtt" => (ListenerKind::Tcp, rest),
            "tls" | "mqtts" => (ListenerKind::Tls, rest),
            "ws" => (ListenerKind::WebSocket, rest),
            "wss" => (ListenerKind::SecureWebSocket, rest),
            _ => {
                return Err(format!(
                    "--listen {value}: unknown transport '{scheme}' (tcp, tls, ws or wss)"
                ));
            }
        },
    };
    // An address never holds a '/', so the first one starts the path.
    let (addr, path) = match rest.find('/') {
        Some(at) => (&rest[..at], Some(&rest[at..])),
        None => (rest, None),
    };
    let path = match (kind.uses_websocket(), path) {
        (true, Some(path)) => path.to_owned(),
        (true, None) => DEFAULT_WS_PATH.to_owned(),
        (false, None) => String::new(),
        (false, Some(_)) => {
            return Err(format!(
                "--listen {value}: only ws:// and wss:// listeners take a path"
            ));
        }
    };
    let addr = addr.parse::<SocketAddr>().map_err(|_| {
        format!("--listen {value}: not a [SCHEME://]ADDR:PORT[/PATH] such as 127.0.0.1:1883")
    })?;
    Ok(ListenerSpec { kind, addr, path })
}

/// A number of the option's type.
fn number<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("{name} needs a number in range, not '{value}'"))
}

/// A number above zero.
fn positive<T: std::str::FromStr + PartialOrd + Default>(
    name: &str,
    value: &str,
) -> Result<T, String> {
    let number = number::<T>(name, value)?;
    if number <= T::default() {
        return Err(format!("{name} must be above 0"));
    }
    Ok(number)
}

/// An interval in whole seconds; 0 is `None` (off).
fn seconds(name: &str, value: &str) -> Result<Option<Duration>, String> {
    let seconds = number::<u64>(name, value)?;
    Ok((seconds > 0).then(|| Duration::from_secs(seconds)))
}
