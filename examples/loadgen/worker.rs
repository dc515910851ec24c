//! An event-loop thread: one `mio` poll over a share of the run's connections, and the totals
//! every thread adds to so that the main thread can follow the run.
//!
//! One thread drives many connections because a thread per connection would cost a context
//! switch per read (a fan-out to 100 subscribers wakes 100 threads per message burst) and
//! would make the generator, not the broker, the thing measured on a 2-core machine.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use mio::{Events, Interest, Poll, Token};

use crate::conn::{Conn, Pump, Schedule, Tally};

/// How long a loop waits for events when nothing else is due: the delay before it notices the
/// start of the run, the order to stop, or subscribers' progress on another thread.
const POLL_TIMEOUT: Duration = Duration::from_millis(5);
/// The wait with paced publishers (`--rate`): the granularity of their bursts.
const PACED_POLL_TIMEOUT: Duration = Duration::from_millis(1);

/// What the threads of a run share.
#[derive(Debug)]
pub(crate) struct Shared {
    /// Time stamps are nanoseconds since this instant.
    pub(crate) epoch: Instant,
    /// Set once every connection is ready: publishers start.
    pub(crate) schedule: OnceLock<Schedule>,
    /// Set when the run is over: the threads return.
    pub(crate) stop: AtomicBool,
    /// The first error of any thread.
    pub(crate) failure: Mutex<Option<String>>,
    /// Connections whose handshake is over.
    pub(crate) ready: AtomicU64,
    /// Messages encoded.
    pub(crate) sent: AtomicU64,
    /// QoS 1 messages acknowledged.
    pub(crate) acked: AtomicU64,
    /// First copies of messages received.
    pub(crate) unique: AtomicU64,
    /// Per subscriber and publisher (`subscriber * publishers + publisher`): one past the
    /// highest sequence number that subscriber received from that publisher.
    progress: Vec<AtomicU64>,
    publishers: usize,
    subscribers: usize,
    /// Whether subscriber `i` hears publisher `i` only (else every subscriber hears all).
    pairs: bool,
    /// A publisher stops while its oldest message not yet at every subscriber is this many
    /// messages back; 0 for no bound.
    max_lag: u64,
}

impl Shared {
    /// Totals at zero, with the epoch now, for a run of `publishers` and `subscribers`
    /// (`pairs`: subscriber `i` hears publisher `i` only) holding publishers `max_lag`
    /// messages ahead of their slowest subscriber at most (0: no bound).
    pub(crate) fn new(publishers: usize, subscribers: usize, pairs: bool, max_lag: u64) -> Self {
        Self {
            progress: (0..publishers * subscribers)
                .map(|_| AtomicU64::new(0))
                .collect(),
            publishers,
            subscribers,
            pairs,
            max_lag,
            epoch: Instant::now(),
            schedule: OnceLock::new(),
            stop: AtomicBool::new(false),
            failure: Mutex::new(None),
            ready: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            acked: AtomicU64::new(0),
            unique: AtomicU64::new(0),
        }
    }

    /// Records that `subscriber` has received up to `seq` from `publisher` (the caller stores
    /// only increases, so a plain store keeps the highest).
    pub(crate) fn advance(&self, subscriber: usize, publisher: u32, seq: u64) {
        if let Some(slot) = self
            .progress
            .get(subscriber * self.publishers + publisher as usize)
        {
            slot.store(seq + 1, Ordering::Relaxed);
        }
    }

    /// How many more messages `publisher` may send now that it has sent `sent`, under the lag
    /// bound (0 until at least a quarter of the bound is free); `u64::MAX` without one.
    pub(crate) fn allowance(&self, publisher: u32, sent: u64) -> u64 {
        if self.max_lag == 0 {
            return u64::MAX;
        }
        let publisher = publisher as usize;
        let slot = |subscriber: usize| {
            self.progress[subscriber * self.publishers + publisher].load(Ordering::Relaxed)
        };
        let frontier = if self.pairs {
            slot(publisher)
        } else {
            (0..self.subscribers).map(slot).min().unwrap_or(0)
        };
        let allowed = (frontier + self.max_lag).saturating_sub(sent);
        // Wait for a quarter of the bound to free up rather than sending a few messages at a
        // time: each wake-up would cost the generator a write for very few messages.
        if allowed < self.max_lag.div_ceil(4) {
            0
        } else {
            allowed
        }
    }

    /// Nanoseconds since the epoch.
    pub(crate) fn now(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }

    /// Records an error (the first one is kept) and stops every thread.
    pub(crate) fn fail(&self, error: String) {
        let mut failure = self
            .failure
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        failure.get_or_insert(error);
        self.stop.store(true, Ordering::Release);
    }

    /// Adds one turn's counts to the totals.
    fn add(&self, tally: Tally) {
        for (total, delta) in [
            (&self.ready, tally.ready),
            (&self.sent, tally.sent),
            (&self.acked, tally.acked),
            (&self.unique, tally.unique),
        ] {
            if delta != 0 {
                total.fetch_add(delta, Ordering::Relaxed);
            }
        }
    }
}

/// Runs the loop over `conns` until [`Shared::stop`], then says goodbye on each connection and
/// hands them back with their counts. An error stops every thread through [`Shared::fail`].
/// `paced`: publishers send at a set rate, so wake up more often. `coalesce`: a pause before
/// each wait for events, so that each wake-up finds more to read (0 for none).
pub(crate) fn run(
    mut conns: Vec<Conn>,
    shared: &Shared,
    paced: bool,
    coalesce: Duration,
) -> Vec<Conn> {
    let idle_wait = if paced {
        PACED_POLL_TIMEOUT
    } else {
        POLL_TIMEOUT
    };
    if let Err(error) = drive(&mut conns, shared, idle_wait, coalesce) {
        shared.fail(error);
    }
    for conn in &mut conns {
        conn.disconnect();
    }
    conns
}

/// The event loop itself; an `Err` ends it.
fn drive(
    conns: &mut [Conn],
    shared: &Shared,
    idle_wait: Duration,
    coalesce: Duration,
) -> Result<(), String> {
    let mut poll = Poll::new().map_err(|error| format!("epoll: {error}"))?;
    for (index, conn) in conns.iter_mut().enumerate() {
        poll.registry()
            .register(
                conn.stream(),
                Token(index),
                Interest::READABLE | Interest::WRITABLE,
            )
            .map_err(|error| format!("register: {error}"))?;
    }
    let mut events = Events::with_capacity(1024);
    let mut busy = false;
    while !shared.stop.load(Ordering::Acquire) {
        let timeout = if busy { Duration::ZERO } else { idle_wait };
        if !busy && !coalesce.is_zero() {
            // Let more bytes gather before the next wake-up (--coalesce).
            std::thread::sleep(coalesce);
        }
        if let Err(error) = poll.poll(&mut events, Some(timeout)) {
            if error.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(format!("poll: {error}"));
        }
        let schedule = shared.schedule.get().copied();
        let now = shared.now();
        let mut tally = Tally::default();
        for event in &events {
            let conn = &mut conns[event.token().0];
            if event.is_readable() || event.is_read_closed() || event.is_error() {
                conn.on_readable(now, schedule, shared, &mut tally)?;
            }
            if event.is_writable() {
                conn.on_writable(now, schedule, shared, &mut tally)?;
            }
        }
        busy = false;
        if let Some(schedule) = schedule {
            for conn in conns.iter_mut() {
                if conn.pump(schedule, shared, &mut tally)? == Pump::More {
                    busy = true;
                }
            }
        }
        shared.add(tally);
    }
    Ok(())
}
