//! The generator's command line: a hand-written parser into [`Options`], with the defaults of
//! each scenario.

use std::net::SocketAddr;
use std::time::Duration;

use mqtt_sansio::{ProtocolVersion, QoS};

/// The usage text `--help` prints.
pub(crate) const USAGE: &str = "\
loadgen: drives an MQTT broker with many connections and measures what comes back

USAGE:
    loadgen [OPTIONS] --scenario NAME

SCENARIOS:
    fan-in    8 publishers -> 1 subscriber, one topic (msgs/s delivered)
    fan-out   1 publisher -> 100 subscribers, one topic (deliveries/s)
    pairs     16 publisher -> subscriber pairs, a topic each
    qos1      1 -> 1 at QoS 1, the publisher keeps 100 PUBLISH awaiting PUBACK
    idle      10,000 connections that only CONNECT (and with --subscribe, SUBSCRIBE once);
              with --broker-pid, the broker's VmRSS before and after, per connection

OPTIONS:
    -b, --broker ADDR        the broker, host:port [default: 127.0.0.1:1883]
    -s, --scenario NAME      one of the scenarios above
    -V, --version V          MQTT version: 3.1.1 or 5.0 (also 311, 5) [default: 3.1.1]
    -q, --qos N              QoS of publications and subscriptions: 0 or 1
                             [default: 1 for qos1, else 0]
    -d, --duration SECS      the measured window [default: 10]
    -w, --warmup SECS        traffic before the window, not measured [default: 1]
        --drain SECS         the most to wait, after sending stops, for messages and PUBACKs
                             still under way [default: 10]
        --payload BYTES      payload size, at least 20 [default: 64]
        --publishers N       publishers (pairs: the number of pairs) [default: per scenario]
        --subscribers N      subscribers (fan-in, fan-out) [default: per scenario]
        --inflight N         QoS 1: PUBLISH packets a publisher keeps unacknowledged [default: 100]
        --max-lag N          a publisher waits while its oldest message not yet received by all
                             its subscribers is N messages back; 0: no bound but TCP's
                             [default: 1000]
        --rate N             messages per second per publisher, for latency at a set load;
                             0: as fast as the broker takes them [default: 0]
        --coalesce MICROS    pause this long before each wait for events, so that a wake-up
                             finds more to read: less generator CPU against brokers that
                             write each packet on its own, at the price of latency and of
                             fewer QoS 1 round trips [default: 0]
        --threads N          event-loop threads sharing the connections [default: 1]
        --keep-alive SECS    Keep Alive in CONNECT (0 disables it) [default: 300]
        --topic-prefix P     first topic level; client ids are unique per process anyway
                             [default: loadgen]
    -n, --connections N      idle: connections to open [default: 1000]
        --subscribe          idle: each connection subscribes to a topic of its own
        --settle SECS        idle: wait before reading VmRSS after the last CONNACK [default: 1]
        --broker-pid PID     the broker's process: its CPU time over the window (and, for idle,
                             its VmRSS) from /proc
    -h, --help               this text

OUTPUT:
    a human-readable line, then one line starting with `result ` of key=value pairs
";

/// Which traffic to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scenario {
    /// Many publishers, one subscriber, one topic.
    FanIn,
    /// One publisher, many subscribers, one topic.
    FanOut,
    /// Publisher-subscriber pairs, a topic each.
    Pairs,
    /// One publisher, one subscriber, at QoS 1 with a window of unacknowledged messages.
    Qos1,
    /// Connections that stay idle, for the broker's memory per connection.
    Idle,
}

impl Scenario {
    /// The name on the command line and in results.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::FanIn => "fan-in",
            Self::FanOut => "fan-out",
            Self::Pairs => "pairs",
            Self::Qos1 => "qos1",
            Self::Idle => "idle",
        }
    }

    /// Publishers and subscribers by default.
    fn default_clients(self) -> (usize, usize) {
        match self {
            Self::FanIn => (8, 1),
            Self::FanOut => (1, 100),
            Self::Pairs => (16, 16),
            Self::Qos1 | Self::Idle => (1, 1),
        }
    }
}

/// Everything the command line sets.
#[derive(Clone, Debug)]
pub(crate) struct Options {
    /// The broker's address.
    pub(crate) broker: SocketAddr,
    /// The scenario.
    pub(crate) scenario: Scenario,
    /// The MQTT version of every connection.
    pub(crate) version: ProtocolVersion,
    /// QoS of publications and subscriptions.
    pub(crate) qos: QoS,
    /// The measured window.
    pub(crate) duration: Duration,
    /// Traffic before the window.
    pub(crate) warmup: Duration,
    /// The bound on waiting for traffic under way once sending stops.
    pub(crate) drain: Duration,
    /// Payload size in bytes.
    pub(crate) payload: usize,
    /// Publisher connections (pairs: pairs).
    pub(crate) publishers: usize,
    /// Subscriber connections.
    pub(crate) subscribers: usize,
    /// QoS 1 window per publisher.
    pub(crate) inflight: usize,
    /// Messages a publisher may be ahead of its slowest subscriber; 0 for no bound.
    pub(crate) max_lag: u64,
    /// Messages per second per publisher; 0 for no pacing.
    pub(crate) rate: u64,
    /// Pause before each wait for events.
    pub(crate) coalesce: Duration,
    /// Event-loop threads.
    pub(crate) threads: usize,
    /// Keep Alive in seconds.
    pub(crate) keep_alive: u16,
    /// First topic level.
    pub(crate) topic_prefix: String,
    /// Idle connections to open.
    pub(crate) connections: usize,
    /// Whether each idle connection subscribes.
    pub(crate) subscribe: bool,
    /// Wait between the last CONNACK and reading the broker's memory.
    pub(crate) settle: Duration,
    /// The broker's process id.
    pub(crate) broker_pid: Option<u32>,
}

/// What the command line asks for.
#[derive(Debug)]
pub(crate) enum Parsed {
    /// Print [`USAGE`].
    Help,
    /// Run with these options.
    Run(Box<Options>),
}

/// Parses the arguments after the program name; `Err` is a message for the user.
pub(crate) fn parse(args: &[String]) -> Result<Parsed, String> {
    let mut broker = "127.0.0.1:1883".to_owned();
    let mut scenario = None;
    let mut version = ProtocolVersion::V3_1_1;
    let mut qos = None;
    let mut duration = 10.0;
    let mut warmup = 1.0;
    let mut drain = 10.0;
    let mut payload = 64;
    let mut publishers = None;
    let mut subscribers = None;
    let mut inflight = 100;
    let mut threads = 1;
    let mut max_lag = 1_000;
    let mut rate = 0;
    let mut coalesce: u64 = 0;
    let mut keep_alive = 300;
    let mut topic_prefix = "loadgen".to_owned();
    let mut connections = 10_000;
    let mut subscribe = false;
    let mut settle = 1.0;
    let mut broker_pid = None;

    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .map(String::as_str)
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(Parsed::Help),
            "-b" | "--broker" => broker = value()?.to_owned(),
            "-s" | "--scenario" => scenario = Some(parse_scenario(value()?)?),
            "-V" | "--version" => version = parse_version(value()?)?,
            "-q" | "--qos" => qos = Some(parse_qos(value()?)?),
            "-d" | "--duration" => duration = number(flag, value()?)?,
            "-w" | "--warmup" => warmup = number(flag, value()?)?,
            "--drain" => drain = number(flag, value()?)?,
            "--payload" => payload = number(flag, value()?)?,
            "--publishers" => publishers = Some(number(flag, value()?)?),
            "--subscribers" => subscribers = Some(number(flag, value()?)?),
            "--inflight" => inflight = number(flag, value()?)?,
            "--threads" => threads = number(flag, value()?)?,
            "--max-lag" => max_lag = number(flag, value()?)?,
            "--rate" => rate = number(flag, value()?)?,
            "--coalesce" => coalesce = number(flag, value()?)?,
            "--keep-alive" => keep_alive = number(flag, value()?)?,
            "--topic-prefix" => topic_prefix = value()?.to_owned(),
            "-n" | "--connections" => connections = number(flag, value()?)?,
            "--subscribe" => subscribe = true,
            "--settle" => settle = number(flag, value()?)?,
            "--broker-pid" => broker_pid = Some(number(flag, value()?)?),
            other => return Err(format!("unknown option '{other}' (see --help)")),
        }
    }

    let scenario = scenario.ok_or("--scenario is required (see --help)")?;
    let broker = broker
        .parse()
        .map_err(|_| format!("--broker '{broker}' is not an IP address and port"))?;
    let (default_publishers, default_subscribers) = scenario.default_clients();
    let publishers = publishers.unwrap_or(default_publishers);
    let subscribers = if scenario == Scenario::Pairs {
        publishers
    } else {
        subscribers.unwrap_or(default_subscribers)
    };
    let qos = qos.unwrap_or(if scenario == Scenario::Qos1 {
        QoS::AtLeastOnce
    } else {
        QoS::AtMostOnce
    });
    if payload < crate::payload::STAMP_LEN {
        return Err(format!(
            "--payload must be at least {} bytes (the stamp)",
            crate::payload::STAMP_LEN
        ));
    }
    if publishers == 0 || subscribers == 0 || threads == 0 || connections == 0 {
        return Err("--publishers, --subscribers, --threads and --connections must be > 0".into());
    }
    if !(1..=65_535).contains(&inflight) {
        return Err("--inflight must be between 1 and 65535".into());
    }
    if topic_prefix.is_empty() || topic_prefix.contains(['+', '#', '/']) {
        return Err("--topic-prefix must be one topic level without wildcards".into());
    }
    Ok(Parsed::Run(Box::new(Options {
        broker,
        scenario,
        version,
        qos,
        duration: seconds("--duration", duration)?,
        warmup: seconds("--warmup", warmup)?,
        drain: seconds("--drain", drain)?,
        payload,
        publishers,
        subscribers,
        inflight,
        max_lag,
        rate,
        coalesce: Duration::from_micros(coalesce),
        threads,
        keep_alive,
        topic_prefix,
        connections,
        subscribe,
        settle: seconds("--settle", settle)?,
        broker_pid,
    })))
}

/// A scenario by its name.
fn parse_scenario(value: &str) -> Result<Scenario, String> {
    [
        Scenario::FanIn,
        Scenario::FanOut,
        Scenario::Pairs,
        Scenario::Qos1,
        Scenario::Idle,
    ]
    .into_iter()
    .find(|scenario| scenario.name() == value)
    .ok_or_else(|| format!("unknown scenario '{value}' (see --help)"))
}

/// An MQTT version by its number.
fn parse_version(value: &str) -> Result<ProtocolVersion, String> {
    match value {
        "3.1.1" | "311" | "4" => Ok(ProtocolVersion::V3_1_1),
        #[cfg(feature = "v5")]
        "5.0" | "5" => Ok(ProtocolVersion::V5),
        other if cfg!(feature = "v5") => {
            Err(format!("unknown MQTT version '{other}': 3.1.1 or 5.0"))
        }
        other => Err(format!(
            "unknown MQTT version '{other}': 3.1.1 (built without the v5 feature)"
        )),
    }
}

/// QoS 0 or 1.
fn parse_qos(value: &str) -> Result<QoS, String> {
    match value {
        "0" => Ok(QoS::AtMostOnce),
        "1" => Ok(QoS::AtLeastOnce),
        other => Err(format!("--qos {other}: the generator does QoS 0 and 1")),
    }
}

/// A number, or a message naming the flag.
fn number<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("{flag}: '{value}' is not a valid number"))
}

/// A duration from seconds, or a message naming the flag.
fn seconds(flag: &str, value: f64) -> Result<Duration, String> {
    Duration::try_from_secs_f64(value).map_err(|_| format!("{flag}: {value} is not a duration"))
}

/// The version's name in results.
pub(crate) fn version_name(version: ProtocolVersion) -> &'static str {
    if version.is_v5() { "5.0" } else { "3.1.1" }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The options `args` give, or the error.
    fn run(args: &[&str]) -> Result<Options, String> {
        let args: Vec<String> = args.iter().map(|&arg| arg.to_owned()).collect();
        match parse(&args)? {
            Parsed::Run(options) => Ok(*options),
            Parsed::Help => Err("help".into()),
        }
    }

    #[test]
    fn scenario_sets_its_client_counts_and_qos() {
        let fan_out = run(&["--scenario", "fan-out"]).unwrap();
        assert_eq!((fan_out.publishers, fan_out.subscribers), (1, 100));
        assert_eq!(fan_out.qos, QoS::AtMostOnce);
        let qos1 = run(&["-s", "qos1"]).unwrap();
        assert_eq!(qos1.qos, QoS::AtLeastOnce);
        #[cfg(feature = "v5")]
        assert!(run(&["-s", "qos1", "-V", "5.0"]).unwrap().version.is_v5());
        let pairs = run(&["-s", "pairs", "--publishers", "4"]).unwrap();
        assert_eq!((pairs.publishers, pairs.subscribers), (4, 4));
    }

    #[test]
    fn payload_too_small_for_the_stamp_is_refused() {
        let error = run(&["-s", "fan-in", "--payload", "19"]).unwrap_err();
        assert!(error.contains("at least 20"), "{error}");
    }

    #[test]
    fn missing_scenario_and_unknown_option_are_refused() {
        assert!(run(&[]).unwrap_err().contains("--scenario"));
        assert!(
            run(&["-s", "idle", "--bogus"])
                .unwrap_err()
                .contains("--bogus")
        );
        assert!(run(&["-s", "idle", "--qos", "2"]).is_err());
    }
}
