//! The traffic scenarios (fan-in, fan-out, pairs, qos1): opens the connections, runs the event
//! loops through warm-up, the measured window and the drain, and adds up what they counted.

use std::sync::atomic::Ordering;
use std::thread;
use std::time::{Duration, Instant};

use mqtt_sansio::QoS;

use crate::args::{Options, Scenario, version_name};
use crate::conn::{Conn, Publisher, Role, Schedule, Settings, Subscriber};
use crate::histogram::Histogram;
use crate::procfs::Process;
use crate::tracker::SeqSet;
use crate::worker::{self, Shared};

/// The bound on every connection finishing its handshake.
const HANDSHAKE: Duration = Duration::from_secs(30);
/// After sending stops, the drain ends once nothing arrived (and no PUBACK) for this long.
const QUIET: Duration = Duration::from_secs(1);
/// How often the main thread looks at the totals while waiting.
const TICK: Duration = Duration::from_millis(10);

/// What a traffic run measured.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// Messages encoded in the window, per second.
    pub(crate) sent_per_s: f64,
    /// Deliveries received in the window (copies included), per second.
    pub(crate) received_per_s: f64,
    /// Messages encoded over the whole run.
    pub(crate) sent: u64,
    /// Deliveries received over the whole run.
    pub(crate) received: u64,
    /// Deliveries that never arrived. QoS 0: expected minus distinct received; QoS 1:
    /// acknowledged messages missing at a subscriber (exact).
    pub(crate) lost: u64,
    /// Copies of deliveries that had arrived already.
    pub(crate) duplicated: u64,
    /// Deliveries whose payload was not the generator's.
    pub(crate) foreign: u64,
    /// QoS 1: messages never acknowledged.
    pub(crate) unacked: u64,
    /// Whether everything under way arrived before the drain bound.
    pub(crate) drained: bool,
    /// QoS 1: the window each publisher used (smaller if the broker's Receive Maximum is).
    pub(crate) window: usize,
    /// Latency of the deliveries received in the window.
    pub(crate) latency: Histogram,
    /// The generator's CPU seconds over the window.
    pub(crate) generator_cpu: f64,
    /// The broker's CPU seconds over the window, when its pid was given.
    pub(crate) broker_cpu: Option<f64>,
}

/// Runs a traffic scenario.
pub(crate) fn run(options: &Options) -> Result<Outcome, String> {
    let shared = Shared::new(
        options.publishers,
        options.subscribers,
        options.scenario == Scenario::Pairs,
        options.max_lag,
    );
    let conns = open(options)?;
    let mut shares: Vec<Vec<Conn>> = (0..options.threads).map(|_| Vec::new()).collect();
    for (index, conn) in conns.into_iter().enumerate() {
        shares[index % options.threads].push(conn);
    }
    let paced = options.rate != 0;
    let total = (options.publishers + options.subscribers) as u64;
    let (conns, measured) = thread::scope(|scope| {
        let handles: Vec<_> = shares
            .into_iter()
            .map(|share| scope.spawn(|| worker::run(share, &shared, paced, options.coalesce)))
            .collect();
        let measured = measure(options, &shared, total);
        if measured.is_err() || shared.failure.lock().map(|f| f.is_some()).unwrap_or(true) {
            shared.stop.store(true, Ordering::Release);
        }
        let conns: Vec<Conn> = handles
            .into_iter()
            .flat_map(|handle| {
                handle.join().unwrap_or_else(|_| {
                    shared.fail("an event-loop thread panicked".into());
                    Vec::new()
                })
            })
            .collect();
        (conns, measured)
    });
    if let Some(failure) = shared.failure.lock().ok().and_then(|mut f| f.take()) {
        return Err(failure);
    }
    let measured = measured?;
    Ok(add_up(options, conns, measured))
}

/// What the main thread measured while the loops ran.
#[derive(Debug)]
struct Measured {
    generator_cpu: f64,
    broker_cpu: Option<f64>,
    drained: bool,
}

/// Connects every publisher and subscriber of the scenario.
fn open(options: &Options) -> Result<Vec<Conn>, String> {
    let settings = Settings {
        version: options.version,
        qos: options.qos,
        keep_alive: options.keep_alive,
        inflight: if options.qos == QoS::AtMostOnce {
            0
        } else {
            options.inflight
        },
        rate: options.rate,
    };
    // Topics and client ids carry the process id, so that runs side by side do not mix.
    let tag = std::process::id() & 0xF_FFFF;
    let base = format!(
        "{}/{tag:05x}/{}",
        options.topic_prefix,
        options.scenario.name()
    );
    let pairs = options.scenario == Scenario::Pairs;
    let topic = |index: usize| {
        if pairs {
            format!("{base}/{index}")
        } else {
            base.clone()
        }
    };
    let mut conns = Vec::with_capacity(options.publishers + options.subscribers);
    let roles = (0..options.subscribers)
        .map(|index| Role::Subscriber(Subscriber::new(index, topic(index), options.publishers)))
        .chain((0..options.publishers).map(|index| {
            Role::Publisher(Publisher::new(index as u32, topic(index), options.payload))
        }));
    for (index, role) in roles.enumerate() {
        // 16 characters, as the memory budget assumes.
        let client_id = format!("lg{tag:05x}{index:09}");
        let conn = Conn::open(options.broker, &client_id, role, settings)
            .map_err(|error| format!("connect to {}: {error}", options.broker))?;
        conns.push(conn);
    }
    Ok(conns)
}

/// Waits for the handshakes, starts the run, reads CPU times at the window's edges and waits
/// for the drain.
fn measure(options: &Options, shared: &Shared, total: u64) -> Result<Measured, String> {
    let failed = || shared.stop.load(Ordering::Acquire);
    let deadline = Instant::now() + HANDSHAKE;
    while shared.ready.load(Ordering::Relaxed) < total {
        if failed() {
            return Err("stopped during the handshakes".into());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "only {} of {total} connections were accepted within {HANDSHAKE:?}",
                shared.ready.load(Ordering::Relaxed)
            ));
        }
        thread::sleep(TICK);
    }
    let start = shared.now();
    let window_start = start + options.warmup.as_nanos() as u64;
    let window_end = window_start + options.duration.as_nanos() as u64;
    let _ = shared.schedule.set(Schedule {
        start,
        window_start,
        window_end,
    });
    let broker = options.broker_pid.map(Process::Pid);
    let sleep_until = |ns: u64| {
        while shared.now() < ns && !failed() {
            thread::sleep(Duration::from_nanos(ns - shared.now()).min(TICK * 10));
        }
    };
    sleep_until(window_start);
    let own_before = Process::Own.cpu_seconds()?;
    let broker_before = broker.map(Process::cpu_seconds).transpose()?;
    sleep_until(window_end);
    let own_after = Process::Own.cpu_seconds()?;
    let broker_after = broker.map(Process::cpu_seconds).transpose()?;

    // The drain: until every delivery and PUBACK arrived, nothing moved for QUIET, or the
    // bound passed.
    let fan_out = match options.scenario {
        Scenario::Pairs => 1,
        _ => options.subscribers as u64,
    };
    let drain_end = Instant::now() + options.drain;
    let mut last = (u64::MAX, u64::MAX);
    let mut last_change = Instant::now();
    let drained = loop {
        if failed() {
            break false;
        }
        let sent = shared.sent.load(Ordering::Relaxed);
        let unique = shared.unique.load(Ordering::Relaxed);
        let acked = shared.acked.load(Ordering::Relaxed);
        let all_acked = options.qos == QoS::AtMostOnce || acked == sent;
        if unique >= sent * fan_out && all_acked {
            break true;
        }
        if (unique, acked) != last {
            last = (unique, acked);
            last_change = Instant::now();
        } else if last_change.elapsed() >= QUIET {
            // Nothing more is coming: what is missing is lost (QoS 0 drops, say).
            break all_acked;
        }
        if Instant::now() >= drain_end {
            break false;
        }
        thread::sleep(TICK);
    };
    shared.stop.store(true, Ordering::Release);
    Ok(Measured {
        generator_cpu: own_after - own_before,
        broker_cpu: broker_before
            .zip(broker_after)
            .map(|(before, after)| after - before),
        drained,
    })
}

/// Adds up the counts of every connection.
fn add_up(options: &Options, conns: Vec<Conn>, measured: Measured) -> Outcome {
    let mut publishers: Vec<Publisher> = Vec::new();
    let mut subscribers: Vec<Subscriber> = Vec::new();
    for conn in conns {
        match conn.role {
            Role::Publisher(publisher) => publishers.push(publisher),
            Role::Subscriber(subscriber) => subscribers.push(subscriber),
        }
    }
    publishers.sort_by_key(|publisher| publisher.id);
    let seconds = options.duration.as_secs_f64();
    let qos1 = options.qos != QoS::AtMostOnce;
    let empty = SeqSet::default();
    let mut latency = Histogram::new();
    let mut lost = 0;
    let (mut received, mut received_in_window, mut duplicated, mut foreign) = (0, 0, 0, 0);
    for subscriber in &subscribers {
        latency.merge(&subscriber.latency);
        received += subscriber.received;
        received_in_window += subscriber.received_in_window;
        duplicated += subscriber.tracker.duplicates();
        foreign += subscriber.tracker.foreign();
        let expected = if options.scenario == Scenario::Pairs {
            subscriber.index..subscriber.index + 1
        } else {
            0..publishers.len()
        };
        for publisher in &publishers[expected] {
            let arrived = subscriber
                .tracker
                .received_from(publisher.id as usize)
                .unwrap_or(&empty);
            lost += if qos1 {
                publisher.acked.missing_from(arrived)
            } else {
                publisher.sent - arrived.len()
            };
        }
    }
    let sent: u64 = publishers.iter().map(|publisher| publisher.sent).sum();
    let sent_in_window: u64 = publishers.iter().map(|p| p.sent_in_window).sum();
    let unacked = if qos1 {
        publishers.iter().map(|p| p.sent - p.acked.len()).sum()
    } else {
        0
    };
    Outcome {
        sent_per_s: sent_in_window as f64 / seconds,
        received_per_s: received_in_window as f64 / seconds,
        sent,
        received,
        lost,
        duplicated,
        foreign,
        unacked,
        drained: measured.drained,
        window: publishers.iter().map(|p| p.window).min().unwrap_or(0),
        latency,
        generator_cpu: measured.generator_cpu,
        broker_cpu: measured.broker_cpu,
    }
}

/// The two output lines: one for people, one of `key=value` pairs for scripts.
pub(crate) fn report(options: &Options, outcome: &Outcome) -> (String, String) {
    let seconds = options.duration.as_secs_f64();
    let micros = |nanos: u64| nanos as f64 / 1_000.0;
    let p50 = micros(outcome.latency.quantile(0.5));
    let p99 = micros(outcome.latency.quantile(0.99));
    let max = micros(outcome.latency.max());
    let percent = |cpu: f64| 100.0 * cpu / seconds;
    let broker_cpu = outcome.broker_cpu.map_or_else(
        || "broker CPU unknown".to_owned(),
        |cpu| format!("broker CPU {:.0} %", percent(cpu)),
    );
    let human = format!(
        "{} {} QoS {}: {} pub -> {} sub, sent {:.0} msgs/s, received {:.0} deliveries/s, \
         lost {}, duplicated {}{}, latency p50 {:.0} us p99 {:.0} us max {:.0} us; \
         generator CPU {:.0} %, {}{}",
        options.scenario.name(),
        version_name(options.version),
        options.qos.bits(),
        options.publishers,
        options.subscribers,
        outcome.sent_per_s,
        outcome.received_per_s,
        outcome.lost,
        outcome.duplicated,
        if options.qos == QoS::AtMostOnce {
            String::new()
        } else {
            format!(", unacked {} (window {})", outcome.unacked, outcome.window)
        },
        p50,
        p99,
        max,
        percent(outcome.generator_cpu),
        broker_cpu,
        if outcome.drained {
            ""
        } else {
            " (NOT DRAINED: counts include messages under way)"
        },
    );
    let machine = format!(
        "result scenario={} version={} qos={} publishers={} subscribers={} payload={} \
         duration_s={} sent_per_s={:.0} received_per_s={:.0} sent={} received={} lost={} \
         duplicated={} foreign={} unacked={} window={} drained={} latency_samples={} p50_us={:.1} \
         p99_us={:.1} max_us={:.1} generator_cpu_s={:.2} broker_cpu_s={}",
        options.scenario.name(),
        version_name(options.version),
        options.qos.bits(),
        options.publishers,
        options.subscribers,
        options.payload,
        seconds,
        outcome.sent_per_s,
        outcome.received_per_s,
        outcome.sent,
        outcome.received,
        outcome.lost,
        outcome.duplicated,
        outcome.foreign,
        outcome.unacked,
        outcome.window,
        outcome.drained,
        outcome.latency.count(),
        p50,
        p99,
        max,
        outcome.generator_cpu,
        outcome
            .broker_cpu
            .map_or_else(|| "na".to_owned(), |cpu| format!("{cpu:.2}")),
    );
    (human, machine)
}
