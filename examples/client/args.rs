//! The command line of `examples/client.rs`: mosquitto_pub's and mosquitto_sub's flags, parsed
//! by hand.

use std::time::Duration;

use mqtt_sansio::{ProtocolVersion, QoS};

/// What `--help` prints.
pub(crate) const USAGE: &str = "\
client: publish or subscribe with mqtt-sansio over TCP, with mosquitto_pub's and
mosquitto_sub's flags.

Usage: client pub -t topic {-m message | -n} [options]
       client sub -t topic [-t topic ...] [-C count] [-v] [options]
       client --help

Options (both commands):
 -h, --host HOST          broker host; default: localhost (127.0.0.1)
 -p, --port PORT          broker port; default: 1883
 -V, --protocol-version V 31 | 311 | 5 (also mqttv31 | mqttv311 | mqttv5); default: 311
 -t, --topic TOPIC        topic to publish to (pub: once), or filter to subscribe to (sub:
                          may be repeated)
 -q, --qos QOS            0 | 1 | 2: the message's QoS (pub), the subscriptions' (sub);
                          default: 0
 -i, --id ID              client identifier; default: sansio_pub_<pid> / sansio_sub_<pid>
 -k, --keepalive SECONDS  keep alive; 0 switches it off; default: 60
 -c, --disable-clean-session
                          keep the session when the connection ends (needs -i); with -V 5 the
                          session never expires unless -x says otherwise
 -x, --session-expiry-interval SECONDS
                          5.0 Session Expiry Interval (-1 or 4294967295: never expires)
 -u, --username NAME      user name
 -P, --pw PASSWORD        password (needs -u)
 -W SECONDS               give up after this many seconds (exit status 27)
 -d, --debug              print every packet sent and received on stderr
 --will-topic TOPIC       topic of the Will Message, published if the connection is lost
 --will-payload PAYLOAD   payload of the Will Message; default: empty
 --will-qos QOS           QoS of the Will Message; default: 0
 --will-retain            retain the Will Message
 --help                   print this help

Options of pub:
 -m, --message MESSAGE    the payload
 -n, --null-message       an empty payload
 -r, --retain             retain the message

Options of sub:
 -C, --count N            exit after receiving N messages
 -v, --verbose            print the topic, a space, then the payload

pub waits for the PUBACK (QoS 1) or PUBCOMP (QoS 2), then disconnects. sub prints one payload
per line. The exit status is 0 on success, 1 on an error (bad arguments, a broker that cannot be
reached or refuses the connection, a lost connection) and 27 when -W runs out.
";

/// `pub` or `sub`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Command {
    /// Publish one message.
    Pub,
    /// Subscribe and print messages.
    Sub,
}

/// The Will Message flags.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct WillArgs {
    /// `--will-topic`.
    pub(crate) topic: String,
    /// `--will-payload`.
    pub(crate) payload: Vec<u8>,
    /// `--will-qos`.
    pub(crate) qos: QoS,
    /// `--will-retain`.
    pub(crate) retain: bool,
}

/// Every flag, parsed and checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Options {
    /// `-h`.
    pub(crate) host: String,
    /// `-p`.
    pub(crate) port: u16,
    /// `-V`.
    pub(crate) version: ProtocolVersion,
    /// `-t`: one for pub, at least one for sub.
    pub(crate) topics: Vec<String>,
    /// `-m` or `-n` (pub).
    pub(crate) message: Vec<u8>,
    /// `-q`.
    pub(crate) qos: QoS,
    /// `-r` (pub).
    pub(crate) retain: bool,
    /// `-i`, or the default.
    pub(crate) client_id: String,
    /// `-k`.
    pub(crate) keep_alive: u16,
    /// Not `-c`.
    pub(crate) clean: bool,
    /// `-x`, or what `-c` implies in 5.0.
    pub(crate) session_expiry: u32,
    /// `-u`.
    pub(crate) username: Option<String>,
    /// `-P`.
    pub(crate) password: Option<String>,
    /// `-C` (sub).
    pub(crate) count: Option<u64>,
    /// `-W`.
    pub(crate) timeout: Option<Duration>,
    /// `-v` (sub).
    pub(crate) verbose: bool,
    /// `-d`.
    pub(crate) debug: bool,
    /// `--will-*`.
    pub(crate) will: Option<WillArgs>,
}

impl Options {
    /// `host:port`, with an IPv6 literal in brackets.
    pub(crate) fn address(&self) -> String {
        if self.host.contains(':') && !self.host.starts_with('[') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// What the command line asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Parsed {
    /// `--help`, or nothing at all.
    Help,
    /// A command to run.
    Run(Command, Box<Options>),
}

/// Parses the arguments after the program name; `Err` is a message for the user.
pub(crate) fn parse(args: &[String]) -> Result<Parsed, String> {
    let Some((command, rest)) = args.split_first() else {
        return Ok(Parsed::Help);
    };
    let command = match command.as_str() {
        "pub" => Command::Pub,
        "sub" => Command::Sub,
        "--help" => return Ok(Parsed::Help),
        other => return Err(format!("unknown command '{other}': expected pub or sub")),
    };
    let mut host = None;
    let mut port = 1883;
    let mut version = ProtocolVersion::V3_1_1;
    let mut topics = Vec::new();
    let mut message = None;
    let mut qos = QoS::AtMostOnce;
    let mut retain = false;
    let mut client_id = None;
    let mut keep_alive = 60;
    let mut clean = true;
    let mut session_expiry = None;
    let mut username = None;
    let mut password = None;
    let mut count = None;
    let mut timeout = None;
    let mut verbose = false;
    let mut debug = false;
    let mut will_topic = None;
    let mut will_payload = None;
    let mut will_qos = None;
    let mut will_retain = false;

    let mut args = rest.iter();
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        let only = |wanted: Command| {
            if command == wanted {
                Ok(())
            } else {
                Err(format!("{flag} is not an option of this command"))
            }
        };
        match flag.as_str() {
            "--help" => return Ok(Parsed::Help),
            "-h" | "--host" => host = Some(value()?),
            "-p" | "--port" => port = number(flag, &value()?)?,
            "-V" | "--protocol-version" => version = protocol_version(&value()?)?,
            "-t" | "--topic" => topics.push(value()?),
            "-m" | "--message" => {
                only(Command::Pub)?;
                message = Some(value()?.into_bytes());
            }
            "-n" | "--null-message" => {
                only(Command::Pub)?;
                message = Some(Vec::new());
            }
            "-q" | "--qos" => qos = parse_qos(flag, &value()?)?,
            "-r" | "--retain" => {
                only(Command::Pub)?;
                retain = true;
            }
            "-i" | "--id" => client_id = Some(value()?),
            "-k" | "--keepalive" => keep_alive = number(flag, &value()?)?,
            "-c" | "--disable-clean-session" => clean = false,
            "-x" | "--session-expiry-interval" => session_expiry = Some(expiry(&value()?)?),
            "-u" | "--username" => username = Some(value()?),
            "-P" | "--pw" => password = Some(value()?),
            "-C" | "--count" => {
                only(Command::Sub)?;
                let n: u64 = number(flag, &value()?)?;
                if n == 0 {
                    return Err("-C needs a count above 0".to_owned());
                }
                count = Some(n);
            }
            "-W" => {
                let seconds: u64 = number(flag, &value()?)?;
                if seconds == 0 {
                    return Err("-W needs a timeout above 0".to_owned());
                }
                timeout = Some(Duration::from_secs(seconds));
            }
            "-v" | "--verbose" => {
                only(Command::Sub)?;
                verbose = true;
            }
            "-d" | "--debug" => debug = true,
            "--will-topic" => will_topic = Some(value()?),
            "--will-payload" => will_payload = Some(value()?.into_bytes()),
            "--will-qos" => will_qos = Some(parse_qos(flag, &value()?)?),
            "--will-retain" => will_retain = true,
            other => return Err(format!("unknown option '{other}'")),
        }
    }

    if topics.is_empty() {
        return Err("no topic given (-t)".to_owned());
    }
    let message = match command {
        Command::Pub => {
            if topics.len() > 1 {
                return Err("pub takes one topic".to_owned());
            }
            message.ok_or("no message given (-m, or -n for an empty one)")?
        }
        Command::Sub => Vec::new(),
    };
    if !clean && client_id.is_none() {
        return Err("You must provide a client id if you are using the -c option.".to_owned());
    }
    if session_expiry.is_some() && !version.is_v5() {
        return Err("-x needs MQTT 5.0 (-V 5)".to_owned());
    }
    // Like mosquitto: a persistent 5.0 session never expires unless -x says otherwise.
    let session_expiry = session_expiry.unwrap_or(if clean || !version.is_v5() {
        0
    } else {
        u32::MAX
    });
    if password.is_some() && username.is_none() {
        return Err("a password (-P) needs a user name (-u)".to_owned());
    }
    let will = match will_topic {
        Some(topic) => Some(WillArgs {
            topic,
            payload: will_payload.unwrap_or_default(),
            qos: will_qos.unwrap_or(QoS::AtMostOnce),
            retain: will_retain,
        }),
        None if will_payload.is_some() || will_qos.is_some() || will_retain => {
            return Err("a will payload, QoS or retain flag needs --will-topic".to_owned());
        }
        None => None,
    };
    let client_id = client_id.unwrap_or_else(|| {
        let name = match command {
            Command::Pub => "pub",
            Command::Sub => "sub",
        };
        format!("sansio_{name}_{}", std::process::id())
    });
    Ok(Parsed::Run(
        command,
        Box::new(Options {
            host: host.unwrap_or_else(|| "127.0.0.1".to_owned()),
            port,
            version,
            topics,
            message,
            qos,
            retain,
            client_id,
            keep_alive,
            clean,
            session_expiry,
            username,
            password,
            count,
            timeout,
            verbose,
            debug,
            will,
        }),
    ))
}

fn number<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("{flag}: '{value}' is not a valid number here"))
}

fn protocol_version(value: &str) -> Result<ProtocolVersion, String> {
    match value {
        "31" | "mqttv31" => Ok(ProtocolVersion::V3_1),
        "311" | "mqttv311" => Ok(ProtocolVersion::V3_1_1),
        #[cfg(feature = "v5")]
        "5" | "mqttv5" => Ok(ProtocolVersion::V5),
        other if cfg!(feature = "v5") => Err(format!(
            "unknown protocol version '{other}': use 31, 311 or 5 (or mqttv31, mqttv311, mqttv5)"
        )),
        other => Err(format!(
            "unknown protocol version '{other}': use 31 or 311 (or mqttv31, mqttv311); \
             5.0 needs the v5 feature"
        )),
    }
}

fn parse_qos(flag: &str, value: &str) -> Result<QoS, String> {
    value
        .parse()
        .ok()
        .and_then(QoS::from_bits)
        .ok_or_else(|| format!("{flag}: QoS must be 0, 1 or 2, not '{value}'"))
}

fn expiry(value: &str) -> Result<u32, String> {
    match value {
        "-1" | "∞" => Ok(u32::MAX),
        other => number("-x", other),
    }
}
