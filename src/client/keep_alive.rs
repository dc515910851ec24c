//! The client's timers: the CONNACK deadline, the next PINGREQ and the PINGRESP deadline,
//! behind one [`poll_timeout`](super::Client::poll_timeout).

use core::time::Duration;

use crate::time::Instant;

/// The timers of one connection.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Timers {
    /// Until CONNACK: when to give up waiting for it.
    pub(crate) connack_deadline: Option<Instant>,
    /// The Keep Alive in force; zero when off.
    pub(crate) keep_alive: Duration,
    /// When the client last sent a packet.
    pub(crate) last_sent: Instant,
    /// After a PINGREQ: when the connection is declared dead unless a packet arrives.
    pub(crate) ping_deadline: Option<Instant>,
}

/// What a timer that fired asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Expired {
    ConnectTimeout,
    KeepAliveTimeout,
    SendPing,
}

impl Timers {
    /// The earliest deadline.
    pub(crate) fn next(&self) -> Option<Instant> {
        let ping = (!self.keep_alive.is_zero() && self.connack_deadline.is_none())
            .then(|| later(self.last_sent, self.keep_alive));
        [self.connack_deadline, self.ping_deadline, ping]
            .into_iter()
            .flatten()
            .min()
    }

    /// The timer that has fired at `now`, if any.
    pub(crate) fn expired(&self, now: Instant) -> Option<Expired> {
        if self
            .connack_deadline
            .is_some_and(|deadline| now >= deadline)
        {
            return Some(Expired::ConnectTimeout);
        }
        if self.ping_deadline.is_some_and(|deadline| now >= deadline) {
            return Some(Expired::KeepAliveTimeout);
        }
        // [MQTT-3.1.2-23] (3.1.1), [MQTT-3.1.2-20] (5.0): a PINGREQ when nothing else was sent
        // for a Keep Alive period, also while an earlier one is unanswered.
        let ping_due = !self.keep_alive.is_zero()
            && self.connack_deadline.is_none()
            && now >= later(self.last_sent, self.keep_alive);
        ping_due.then_some(Expired::SendPing)
    }
}

/// `at + duration`, saturating: [`Instant::saturating_add`] out of line, because the client
/// computes its deadlines in four places and a firmware wants one copy of the arithmetic
/// (the broker keeps the inlined one on its hot path).
#[inline(never)]
pub(crate) fn later(at: Instant, duration: Duration) -> Instant {
    at.saturating_add(duration)
}
