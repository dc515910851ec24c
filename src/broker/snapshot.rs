//! Snapshot and restore: the broker's durable state in a versioned binary format, so that a
//! driver can restart the process without losing a QoS 1 or 2 message it acknowledged.
//!
//! [`Broker::snapshot`] writes every session (its Client Identifier, protocol version,
//! Session Expiry, subscriptions with their options and Subscription Identifiers, the QoS 1
//! and 2 deliveries in flight with their Packet Identifiers and PUBREL state, the deliveries
//! queued, the incoming QoS 2 identifiers awaiting PUBREL, and its Will with its delay) and
//! every retained message. [`Broker::restore`] builds a broker from those bytes. Neither does
//! I/O: where the bytes are kept, and how often, is the driver's choice.
//!
//! # What a restart does
//!
//! - **Connections** are not kept. A session whose client was connected at the snapshot is
//!   restored as if its network connection had closed without a DISCONNECT at that moment: a
//!   restart is an abnormal end for the client (3.1.1 `[MQTT-3.1.2-8]`, 5.0 §3.1.2.5), so its
//!   Will is published after its Will Delay (at once in 3.x), unless the client reconnects
//!   first (5.0 `[MQTT-3.1.3-9]`); and its Session Expiry starts counting. A session whose
//!   expiry is 0 ends at the restore (after publishing its Will, if it had one).
//! - **Time** is stored relative to the `now` given to `snapshot` and rebased on the `now`
//!   given to `restore`, since a restarted driver's clock may have another origin: a session
//!   with 60 s of expiry left at the snapshot has 60 s left after the restore. The time the
//!   process was down is not counted, as the broker cannot know it.
//! - **In-flight deliveries** are re-sent when their client resumes its session, PUBLISH
//!   with DUP set and the same Packet Identifier, PUBREL for those whose PUBREC arrived
//!   (`[MQTT-4.4.0-1]`), then the queued ones.
//! - **QoS 0**: deliveries waiting in a connection's output are not kept (at most once
//!   allows losing them). Queued deliveries of any QoS are kept, although the broker queues
//!   QoS 0 only for a connected client.
//! - **Message Expiry**: a message's age is stored and counts on after the restore; a message
//!   that expires meanwhile is dropped as it would have been. If the restore's `now` is
//!   earlier than a message's arrival on the new clock (a clock that starts at zero), the
//!   message's Message Expiry Interval is shortened by whole seconds so that it expires at
//!   the same moment; the remaining interval it is forwarded with may then read up to a second
//!   less than the exact one.
//! - **Not kept**: counters ([`Stats`](super::Stats)), the turn within shared subscription
//!   groups, the next Packet Identifier each session would pick, and retained messages that
//!   expired before the snapshot.
//!
//! # Limits
//!
//! The configuration given to `restore` applies: a session holding more subscriptions than
//! `max_subscriptions`, more queued messages or bytes than `max_queued_messages` or
//! `max_queued_bytes`, or a filter or retained topic with more levels than
//! `max_topic_levels`, refuses the whole snapshot with [`SnapshotError::Limit`] (raise the
//! limit and restore again: nothing is dropped silently). Session Expiry is capped at
//! `max_session_expiry` and granted QoS at `maximum_qos`, as on a new connection; retained
//! messages are skipped when `retain_available` is off.
//!
//! # Format, version 1
//!
//! Integers are big-endian. A *string* is a 2-byte length and that many bytes of UTF-8. A
//! *PUBLISH* is an MQTT 5.0 PUBLISH packet as the crate's codec writes and reads it (QoS 1
//! and 2 with Packet Identifier 1, no Topic Alias, no Subscription Identifier). A *count* is
//! 4 bytes; a *duration* is 8 bytes of milliseconds after the snapshot's `now`.
//!
//! ```text
//! snapshot  = "MQBS" 0x01 messages retained sessions          (and nothing after)
//! messages  = count { age:8 PUBLISH }           stored messages deliveries refer to, by index
//! retained  = count { age:8 PUBLISH }           RETAIN set, sorted by topic
//! sessions  = count session                     sorted by Client Identifier
//! session   = client_id:string level:1 expiry:4 expires_in:duration will
//!             count { filter:string options:1 subscription_id:4 }   (0: none)
//!             count { packet_id:2 flags:1 message:4 count { subscription_id:4 } }   in flight
//!             count { flags:1 message:4 count { subscription_id:4 } }               queued
//!             count { packet_id:2 }             incoming QoS 2 awaiting PUBREL, ascending
//! will      = 0x00 | 0x01 will_in:duration PUBLISH | 0x03 will_in:duration delay:4 PUBLISH
//! flags     = QoS (bits 0-1) | RETAIN (bit 2) | PUBREL sent (bit 3, in flight QoS 2 only)
//! ```
//!
//! `age` is how old the message was at the snapshot (0 for a message without a Message
//! Expiry Interval); `level` the protocol level (3, 4 or 5); `expiry` the Session Expiry
//! Interval in seconds; `expires_in` the time left before the session ends, all ones when it
//! never does; `options` the subscription options byte of a 5.0 SUBSCRIBE. The Will is a
//! PUBLISH of its topic, payload, QoS, RETAIN, Message Expiry Interval and message
//! properties, with its Will Delay Interval beside it when it had one.
//!
//! Restoring checks everything: the header and version, every count against the bytes left
//! (before anything is allocated for it), every packet as strictly as on the wire, every
//! reference, order and flag; truncated input, trailing bytes and inconsistencies are
//! refused, and no input makes it panic. A snapshot restored and taken again at the same
//! `now` is the same bytes.
//!
//! # One session
//!
//! [`Broker::export_session`] writes one session in this format, for
//! [`Broker::import_session`] on another broker of a cluster: a snapshot whose `sessions` hold
//! that one session, whose `messages` hold the messages its deliveries refer to, and whose
//! `retained` is empty. Its client's connection, if it had one, was closed before it was
//! written, so it is written as a disconnected session. The import checks it as a restore
//! does, and refuses a snapshot of any other number of sessions or with retained messages.

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;
use core::time::Duration;

use bytes::{BufMut, Bytes};
use bytestring::ByteString;

use super::session::{Delivery, Inflight, Session, SessionKey, SubIds};
use super::store::{MessageId, RetainedMessage, Stored};
use super::{Broker, BrokerConfig, Policy, SessionSlot, Timer};
use crate::codec::{BinaryData, Decoded, Limits, MqttString};
use crate::error::{DecodeError, EncodeError};
use crate::packet::{Delivery as Wire, Packet, Publish, SubscriptionOptions, Will};
use crate::property::{SubscriptionId, WillProperties};
use crate::time::Instant;
use crate::topic::{TopicFilter, TopicName};
use crate::types::{PacketId, ProtocolVersion, QoS};

/// The first bytes of a snapshot: the format's name.
const MAGIC: &[u8; 4] = b"MQBS";

/// The format version this build writes and reads.
const VERSION: u8 = 1;

/// A duration that never ends.
const NEVER: u64 = u64::MAX;

/// Will flag: a Will follows.
const WILL: u8 = 0b01;
/// Will flag: with a Will Delay Interval.
const WILL_DELAY: u8 = 0b10;

/// Delivery flags: the QoS bits.
const QOS_BITS: u8 = 0b0011;
/// Delivery flags: RETAIN.
const RETAIN: u8 = 0b0100;
/// Delivery flags: PUBREC received, PUBREL sent.
const RELEASED: u8 = 0b1000;

/// The fewest bytes a PUBLISH takes: fixed header (2), topic length (2), one topic byte and
/// the property length (1).
const MIN_PUBLISH: usize = 6;
/// The fewest bytes of one message record.
pub(super) const MIN_MESSAGE: usize = 8 + MIN_PUBLISH;
/// The fewest bytes of one session: client id (2 + 1), level, expiry, expires in, will
/// flags, and four counts.
pub(super) const MIN_SESSION: usize = 3 + 1 + 4 + 8 + 1 + 4 * 4;
/// The fewest bytes of one subscription.
const MIN_SUBSCRIPTION: usize = 2 + 1 + 1 + 4;
/// The fewest bytes of one delivery in flight.
const MIN_INFLIGHT: usize = 2 + 1 + 4 + 4;
/// The fewest bytes of one queued delivery.
const MIN_QUEUED: usize = 1 + 4 + 4;

/// Why bytes are not a snapshot [`Broker::restore`] can restore.
///
/// ```
/// use mqtt_sansio::broker::{AllowAll, SnapshotError};
/// use mqtt_sansio::{Broker, BrokerConfig, Instant};
///
/// let config = BrokerConfig::default();
/// let error = Broker::restore(config, AllowAll, Instant::ZERO, b"MQBS\x09").unwrap_err();
/// assert_eq!(error, SnapshotError::Version(9));
/// assert_eq!(error.to_string(), "broker snapshot format version 9 is not supported");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SnapshotError {
    /// They do not start with the snapshot's name.
    #[error("not a broker snapshot")]
    Header,
    /// The format version (the byte after the name) is one this build does not read.
    #[error("broker snapshot format version {0} is not supported")]
    Version(u8),
    /// They end before the snapshot does.
    #[error("broker snapshot is truncated")]
    Truncated,
    /// Bytes follow the end of the snapshot; how many.
    #[error("{0} bytes after the end of the broker snapshot")]
    TrailingBytes(usize),
    /// A message or Will in them is not a valid MQTT 5.0 PUBLISH.
    #[error("broker snapshot message: {0}")]
    Packet(DecodeError),
    /// A field holds what no broker writes: what.
    #[error("broker snapshot is invalid: {0}")]
    Invalid(&'static str),
    /// The state exceeds the configuration's limit of that name.
    #[error("broker snapshot exceeds the configured {0}")]
    Limit(&'static str),
}

impl<P: Policy> Broker<P> {
    /// The broker's durable state at `now`, in the format the [module docs](self) describe,
    /// for [`restore`](Self::restore): every session, connected or not, with its
    /// subscriptions, QoS 1 and 2 deliveries in flight or queued, incoming QoS 2 identifiers
    /// and Will, and every retained message. A message several sessions hold is written once.
    ///
    /// # Errors
    ///
    /// An [`EncodeError`] if a message cannot be written as an MQTT 5.0 PUBLISH (one received
    /// in 3.1.1 within a byte of the protocol's 256 MiB limit); never for the state a broker
    /// with the default limits holds.
    ///
    /// ```
    /// use mqtt_sansio::broker::AllowAll;
    /// use mqtt_sansio::{Broker, BrokerConfig, Instant};
    ///
    /// let mut broker = Broker::new(BrokerConfig::default());
    /// let connection = broker.accept(Instant::ZERO)?;
    /// // CONNECT of "dev1" in 3.1.1 with Clean Session 0: its session outlives the connection.
    /// let connect = b"\x10\x10\x00\x04MQTT\x04\x00\x00\x3c\x00\x04dev1";
    /// broker.handle_data(Instant::ZERO, connection, connect);
    ///
    /// let snapshot = broker.snapshot(Instant::from_millis(5_000))?;
    /// assert!(snapshot.starts_with(b"MQBS\x01"));
    /// let restored = Broker::restore(BrokerConfig::default(), AllowAll, Instant::ZERO, &snapshot)?;
    /// assert_eq!(restored.stats().sessions, 1);
    /// assert_eq!(restored.stats().connections, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn snapshot(&self, now: Instant) -> Result<Vec<u8>, EncodeError> {
        let mut sessions: Vec<Written<'_>> = self
            .sessions
            .iter()
            .enumerate()
            .filter_map(|(index, slot)| {
                let index = u32::try_from(index).ok()?;
                let session = slot.session.as_deref()?;
                // A connected session that ends with its connection: only its Will is left.
                let ends = session.connection.is_some() && session.expiry == 0;
                if ends && session.will.is_none() {
                    return None;
                }
                let key = SessionKey {
                    index,
                    generation: slot.generation,
                };
                Some(Written {
                    key,
                    session,
                    full: !ends,
                })
            })
            .collect();
        // In Client Identifier order, so that equal states write equal bytes.
        sessions.sort_unstable_by(|a, b| a.session.client_id.cmp(&b.session.client_id));
        self.write(now, &sessions, true)
    }

    /// One session at `now` in the snapshot format, with the messages its deliveries refer to
    /// and no retained message: what [`export_session`](Self::export_session) hands out.
    pub(super) fn write_session_alone(
        &self,
        now: Instant,
        key: SessionKey,
    ) -> Result<Option<Vec<u8>>, EncodeError> {
        let Some(session) = self.session(key) else {
            return Ok(None);
        };
        let written = Written {
            key,
            session,
            full: true,
        };
        self.write(now, core::slice::from_ref(&written), false)
            .map(Some)
    }

    /// Writes a snapshot of `sessions` (in Client Identifier order), the messages they refer
    /// to and, if `with_retained`, the retained messages.
    fn write(
        &self,
        now: Instant,
        sessions: &[Written<'_>],
        with_retained: bool,
    ) -> Result<Vec<u8>, EncodeError> {
        // The stored messages, each once, by first reference.
        let mut table: BTreeMap<MessageId, u32> = BTreeMap::new();
        let mut messages: Vec<&Stored> = Vec::new();
        for Written { session, full, .. } in sessions {
            if !full {
                continue;
            }
            let flows = session.flows();
            let deliveries = flows
                .inflight
                .iter()
                .map(|inflight| &inflight.delivery)
                .chain(flows.queue.iter());
            for delivery in deliveries {
                if table.contains_key(&delivery.message) {
                    continue;
                }
                if let Some(stored) = self.store.get(delivery.message) {
                    let index = u32::try_from(messages.len()).unwrap_or(u32::MAX);
                    table.insert(delivery.message, index);
                    messages.push(stored);
                }
            }
        }

        let mut out = Vec::new();
        out.put_slice(MAGIC);
        out.put_u8(VERSION);

        put_count(&mut out, messages.len())?;
        for stored in messages {
            let age = age(now, stored.received_at, &stored.publish);
            out.put_u64(age);
            stored.publish.encode(ProtocolVersion::V5, &mut out)?;
        }

        let mut retained: Vec<&RetainedMessage> = self
            .retained
            .iter()
            .filter(|_| with_retained)
            .filter(|(_, expires_at)| expires_at.is_none_or(|at| at > now))
            .map(|(message, _)| message)
            .collect();
        retained.sort_by(|a, b| topic_of(&a.publish).cmp(topic_of(&b.publish)));
        put_count(&mut out, retained.len())?;
        for message in retained {
            out.put_u64(age(now, message.received_at, &message.publish));
            message.publish.encode(ProtocolVersion::V5, &mut out)?;
        }

        put_count(&mut out, sessions.len())?;
        for written in sessions {
            write_session(&mut out, self, written, &table, now)?;
        }
        Ok(out)
    }

    /// A broker with `config` and `policy` holding the state a [`snapshot`](Self::snapshot)
    /// wrote, its times rebased on `now`: every session disconnected, waiting for its client
    /// (the [module docs](self) say what a restart does to wills and expiry). Wills and
    /// expiries already due at `now` are handled before it returns; the rest wait for
    /// [`handle_timeout`](Self::handle_timeout) as usual. With
    /// [`report_interest`](BrokerConfig::report_interest) on, each filter the sessions
    /// subscribe to is reported once as [`Event::Interest`](super::Event::Interest).
    ///
    /// # Errors
    ///
    /// A [`SnapshotError`] if the bytes are not a whole snapshot of this format's version, or
    /// hold more than `config` allows. Any input is checked without panicking and without
    /// allocating more than its size warrants.
    ///
    /// ```
    /// use mqtt_sansio::broker::{AllowAll, SnapshotError};
    /// use mqtt_sansio::{Broker, BrokerConfig, Instant};
    ///
    /// let empty = Broker::new(BrokerConfig::default()).snapshot(Instant::ZERO)?;
    /// assert_eq!(empty, b"MQBS\x01\0\0\0\0\0\0\0\0\0\0\0\0");
    /// let broker = Broker::restore(BrokerConfig::default(), AllowAll, Instant::ZERO, &empty)?;
    /// assert_eq!(broker.stats().sessions, 0);
    ///
    /// let cut = &empty[..empty.len() - 1];
    /// let error = Broker::restore(BrokerConfig::default(), AllowAll, Instant::ZERO, cut);
    /// assert_eq!(error.unwrap_err(), SnapshotError::Truncated);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn restore(
        config: BrokerConfig,
        policy: P,
        now: Instant,
        snapshot: &[u8],
    ) -> Result<Self, SnapshotError> {
        let mut input = Input::header(snapshot)?;
        let mut broker = Self::with_policy(config, policy);
        broker.now = now;
        let messages = broker.read_messages(&mut input)?;
        // On an error the broker is dropped with whatever it holds so far.
        broker.restore_parts(&mut input, &messages)?;
        let left = input.left();
        if left != 0 {
            return Err(SnapshotError::TrailingBytes(left));
        }
        // Messages no delivery refers to are dropped.
        for &id in &messages {
            broker.store.release_if_unused(id);
        }
        broker.handle_timeout(now);
        Ok(broker)
    }

    /// Reads the message table into the store (with no reference yet), its times rebased on
    /// the broker's `now`.
    pub(super) fn read_messages(
        &mut self,
        input: &mut Input<'_>,
    ) -> Result<Vec<MessageId>, SnapshotError> {
        let now = self.now;
        let count = input.count(MIN_MESSAGE)?;
        let mut messages = Vec::new();
        for _ in 0..count {
            let age = input.u64()?;
            let publish = input.publish()?;
            let (received_at, publish) = rebase(now, age, publish);
            messages.push(self.store.insert(publish, received_at));
        }
        Ok(messages)
    }

    /// Reads one session record, from its Client Identifier on, into a new session slot;
    /// `previous` is the Client Identifier of the record before it, if any (they are sorted).
    pub(super) fn read_session<'a>(
        &mut self,
        input: &mut Input<'a>,
        previous: Option<&str>,
        messages: &[MessageId],
    ) -> Result<&'a str, SnapshotError> {
        let client_id = input.string()?;
        if client_id.is_empty() || MqttString::<Bytes>::new(ByteString::from(client_id)).is_err() {
            return Err(SnapshotError::Invalid("client identifier"));
        }
        if previous.is_some_and(|before| before >= client_id) {
            return Err(SnapshotError::Invalid("sessions out of order"));
        }
        self.restore_session(input, client_id, messages)?;
        Ok(client_id)
    }

    /// Restores the retained messages and the sessions, after the message table.
    fn restore_parts(
        &mut self,
        input: &mut Input<'_>,
        messages: &[MessageId],
    ) -> Result<(), SnapshotError> {
        let now = self.now;
        let count = input.count(MIN_MESSAGE)?;
        let mut previous: Option<TopicName<Bytes>> = None;
        for _ in 0..count {
            let age = input.u64()?;
            let publish = input.publish()?;
            let Some(topic) = publish.topic.clone() else {
                return Err(SnapshotError::Invalid("retained message without a topic"));
            };
            if !publish.retain || publish.payload.is_empty() {
                return Err(SnapshotError::Invalid("retained message"));
            }
            if previous
                .as_ref()
                .is_some_and(|before| before.as_str() >= topic.as_str())
            {
                return Err(SnapshotError::Invalid("retained topics out of order"));
            }
            if topic.levels().count() > self.config.max_topic_levels {
                return Err(SnapshotError::Limit("max_topic_levels"));
            }
            let (received_at, publish) = rebase(now, age, publish);
            if self.config.retain_available {
                let expires_at = publish
                    .properties
                    .message_expiry_interval
                    .map(|interval| received_at.saturating_add(secs(interval)));
                let message = RetainedMessage {
                    publish,
                    received_at,
                };
                self.retained
                    .set(&topic, Some(message), expires_at)
                    .map_err(|_| SnapshotError::Limit("retained topics"))?;
            }
            previous = Some(topic);
        }
        if let Some(at) = self.retained.next_expiry() {
            self.timers.insert((at, Timer::Retained));
        }

        let count = input.count(MIN_SESSION)?;
        let mut previous: Option<&str> = None;
        for _ in 0..count {
            previous = Some(self.read_session(input, previous, messages)?);
        }
        Ok(())
    }

    /// Restores one session, from after its Client Identifier.
    fn restore_session(
        &mut self,
        input: &mut Input<'_>,
        client_id: &str,
        messages: &[MessageId],
    ) -> Result<(), SnapshotError> {
        let now = self.now;
        let version = ProtocolVersion::from_level(input.u8()?)
            .ok_or(SnapshotError::Invalid("protocol version"))?;
        let index = u32::try_from(self.sessions.len())
            .map_err(|_| SnapshotError::Limit("session table"))?;
        let key = SessionKey {
            index,
            generation: 1,
        };
        let mut session = Session::new(Box::from(client_id), version);

        // Session Expiry, capped as on a new connection.
        let maximum = self.config.max_session_expiry;
        session.expiry = input.u32()?.min(maximum);
        let limit = if maximum == u32::MAX {
            NEVER
        } else {
            u64::from(maximum).saturating_mul(1000)
        };
        let expires_in = input.u64()?.min(limit);
        session.expires_at = (expires_in != NEVER).then(|| after(now, expires_in));

        let flags = input.u8()?;
        if ![0, WILL, WILL | WILL_DELAY].contains(&flags) {
            return Err(SnapshotError::Invalid("will flags"));
        }
        if flags & WILL != 0 {
            let will_in = input.u64()?;
            let delay = if flags & WILL_DELAY != 0 {
                Some(input.u32()?)
            } else {
                None
            };
            let will = will_of(input.publish()?, delay)?;
            session.will = Some(Box::new(will));
            session.will_at = Some(after(now, will_in));
        }

        let count = input.count(MIN_SUBSCRIPTION)?;
        if count > self.config.max_subscriptions {
            return Err(SnapshotError::Limit("max_subscriptions"));
        }
        for _ in 0..count {
            let filter = TopicFilter::<Bytes>::new(ByteString::from(input.string()?))
                .map_err(|_| SnapshotError::Invalid("topic filter"))?;
            if filter.check_levels(self.config.max_topic_levels).is_err() {
                return Err(SnapshotError::Limit("max_topic_levels"));
            }
            let mut options = SubscriptionOptions::from_byte(input.u8()?, ProtocolVersion::V5)
                .map_err(SnapshotError::Packet)?;
            options.qos = options.qos.min(self.config.maximum_qos);
            let id = match input.u32()? {
                0 => None,
                id => Some(
                    SubscriptionId::new(id)
                        .ok_or(SnapshotError::Invalid("subscription identifier"))?,
                ),
            };
            if self.subscriptions.get(filter.as_str(), key).is_some() {
                return Err(SnapshotError::Invalid("a filter subscribed twice"));
            }
            self.subscriptions
                .subscribe(&filter, key, options, id)
                .map_err(|_| SnapshotError::Limit("subscription trie"))?;
            self.interest_gained(filter.as_str());
            session.filters.push(Box::from(filter.as_str()));
        }

        let count = input.count(MIN_INFLIGHT)?;
        let mut ids = BTreeSet::new();
        for _ in 0..count {
            let id =
                PacketId::new(input.u16()?).ok_or(SnapshotError::Invalid("packet identifier 0"))?;
            let flags = input.u8()?;
            let delivery = self.read_delivery(input, flags & !RELEASED, messages)?;
            let released = flags & RELEASED != 0;
            if delivery.qos == QoS::AtMostOnce || (released && delivery.qos != QoS::ExactlyOnce) {
                return Err(SnapshotError::Invalid("delivery in flight"));
            }
            if !ids.insert(id.get()) {
                return Err(SnapshotError::Invalid("packet identifier in flight twice"));
            }
            self.store.retain(delivery.message);
            session.flows_mut().inflight.push_back(Inflight {
                id,
                delivery,
                released,
                unsent: false,
            });
        }

        let count = input.count(MIN_QUEUED)?;
        if count > self.config.max_queued_messages {
            return Err(SnapshotError::Limit("max_queued_messages"));
        }
        for _ in 0..count {
            let flags = input.u8()?;
            let delivery = self.read_delivery(input, flags, messages)?;
            let size = self
                .store
                .get(delivery.message)
                .map_or(0, |stored| stored.publish.payload.len());
            let flows = session.flows_mut();
            flows.queued_bytes = flows.queued_bytes.saturating_add(size);
            if flows.queued_bytes > self.config.max_queued_bytes {
                return Err(SnapshotError::Limit("max_queued_bytes"));
            }
            self.store.retain(delivery.message);
            session.flows_mut().queue.push_back(delivery);
        }

        let count = input.count(2)?;
        for _ in 0..count {
            let id = input.u16()?;
            let incoming = &mut session.flows_mut().incoming_qos2;
            if id == 0 || incoming.last().is_some_and(|&last| last >= id) {
                return Err(SnapshotError::Invalid("incoming QoS 2 identifiers"));
            }
            incoming.push(id);
        }

        let next = session.next_deadline();
        if let Some(at) = next {
            self.timers.insert((at, Timer::Session(key)));
        }
        self.sessions.push(SessionSlot {
            generation: key.generation,
            session: Some(Box::new(session)),
        });
        self.by_client_id.insert(client_id, index);
        Ok(())
    }

    /// Reads a delivery of a stored message after its `flags` (QoS and RETAIN only).
    fn read_delivery(
        &self,
        input: &mut Input<'_>,
        flags: u8,
        messages: &[MessageId],
    ) -> Result<Delivery, SnapshotError> {
        if flags & !(QOS_BITS | RETAIN) != 0 {
            return Err(SnapshotError::Invalid("delivery flags"));
        }
        let qos = QoS::from_bits(flags & QOS_BITS).ok_or(SnapshotError::Invalid("QoS 3"))?;
        let index = input.u32()?;
        let message = *messages
            .get(index as usize)
            .ok_or(SnapshotError::Invalid("message index"))?;
        let message_qos = self
            .store
            .get(message)
            .map_or(QoS::AtMostOnce, |stored| stored.publish.qos());
        if qos > message_qos {
            return Err(SnapshotError::Invalid("delivery above the message's QoS"));
        }
        let count = input.count(4)?;
        let mut sub_ids = SubIds::None;
        for _ in 0..count {
            let id = SubscriptionId::new(input.u32()?)
                .ok_or(SnapshotError::Invalid("subscription identifier"))?;
            sub_ids.push(id);
        }
        Ok(Delivery {
            message,
            qos,
            retain: flags & RETAIN != 0,
            sub_ids,
            group: None,
        })
    }
}

/// A session a snapshot writes.
struct Written<'a> {
    key: SessionKey,
    session: &'a Session,
    /// False for a connected session that ends with its connection: it is written with its
    /// Will only.
    full: bool,
}

/// Writes one session.
fn write_session<P: Policy>(
    out: &mut Vec<u8>,
    broker: &Broker<P>,
    written: &Written<'_>,
    table: &BTreeMap<MessageId, u32>,
    now: Instant,
) -> Result<(), EncodeError> {
    let session = written.session;
    put_string(out, &session.client_id)?;
    out.put_u8(session.version.level());
    out.put_u32(session.expiry);
    let connected = session.connection.is_some();
    // A connected session is written as if its connection closed abnormally now.
    let expires_in = if connected {
        if session.expiry == u32::MAX {
            NEVER
        } else {
            u64::from(session.expiry).saturating_mul(1000)
        }
    } else {
        session.expires_at.map_or(NEVER, |at| until(now, at))
    };
    out.put_u64(expires_in);
    let will = session.will.as_deref().and_then(|will| {
        let will_in = if connected {
            let delay = will.properties.will_delay_interval.unwrap_or(0);
            u64::from(delay.min(session.expiry)).saturating_mul(1000)
        } else {
            // Without a due time, a disconnected session's Will is never published.
            until(now, session.will_at?)
        };
        Some((will, will_in))
    });
    match will {
        None => out.put_u8(0),
        Some((will, will_in)) => {
            let delay = will.properties.will_delay_interval;
            out.put_u8(if delay.is_some() {
                WILL | WILL_DELAY
            } else {
                WILL
            });
            out.put_u64(will_in);
            if let Some(delay) = delay {
                out.put_u32(delay);
            }
            will_publish(will).encode(ProtocolVersion::V5, out)?;
        }
    }
    if !written.full {
        // No subscription, delivery or identifier: the session ends at the restore.
        for _ in 0..4 {
            out.put_u32(0);
        }
        return Ok(());
    }

    let subscriptions: Vec<_> = session
        .filters
        .iter()
        .filter_map(|filter| {
            let (options, id) = broker.subscriptions.get(filter, written.key)?;
            Some((filter, options, id))
        })
        .collect();
    put_count(out, subscriptions.len())?;
    for (filter, options, id) in subscriptions {
        put_string(out, filter)?;
        out.put_u8(options.to_byte());
        out.put_u32(id.map_or(0, SubscriptionId::get));
    }

    let flows = session.flows();
    let inflight: Vec<_> = flows
        .inflight
        .iter()
        .filter_map(|inflight| Some((inflight, *table.get(&inflight.delivery.message)?)))
        .collect();
    put_count(out, inflight.len())?;
    for (inflight, index) in inflight {
        out.put_u16(inflight.id.get());
        let released = if inflight.released { RELEASED } else { 0 };
        put_delivery(out, &inflight.delivery, index, released)?;
    }

    let queue: Vec<_> = flows
        .queue
        .iter()
        .filter_map(|delivery| Some((delivery, *table.get(&delivery.message)?)))
        .collect();
    put_count(out, queue.len())?;
    for (delivery, index) in queue {
        put_delivery(out, delivery, index, 0)?;
    }

    put_count(out, flows.incoming_qos2.len())?;
    for &id in &flows.incoming_qos2 {
        out.put_u16(id);
    }
    Ok(())
}

/// Writes a delivery: its flags (with `extra`), message index and Subscription Identifiers.
fn put_delivery(
    out: &mut Vec<u8>,
    delivery: &Delivery,
    index: u32,
    extra: u8,
) -> Result<(), EncodeError> {
    let retain = if delivery.retain { RETAIN } else { 0 };
    out.put_u8(delivery.qos as u8 | retain | extra);
    out.put_u32(index);
    let sub_ids = delivery.sub_ids.as_slice();
    put_count(out, sub_ids.len())?;
    for id in sub_ids {
        out.put_u32(id.get());
    }
    Ok(())
}

/// Writes a count of 4 bytes.
fn put_count(out: &mut Vec<u8>, count: usize) -> Result<(), EncodeError> {
    let count = u32::try_from(count).map_err(|_| EncodeError::PacketTooLarge {
        remaining_length: count,
    })?;
    out.put_u32(count);
    Ok(())
}

/// Writes a string with its 2-byte length.
fn put_string(out: &mut Vec<u8>, text: &str) -> Result<(), EncodeError> {
    let len = u16::try_from(text.len()).map_err(|_| EncodeError::PacketTooLarge {
        remaining_length: text.len(),
    })?;
    out.put_u16(len);
    out.put_slice(text.as_bytes());
    Ok(())
}

/// A stored message's topic (every stored message has one).
fn topic_of(publish: &Publish<Bytes>) -> &str {
    publish.topic.as_ref().map_or("", TopicName::as_str)
}

/// How old a message is at `now`, in milliseconds; 0 when it does not expire, as its age
/// matters only then.
fn age(now: Instant, received_at: Instant, publish: &Publish<Bytes>) -> u64 {
    if publish.properties.message_expiry_interval.is_none() {
        return 0;
    }
    now.as_millis().saturating_sub(received_at.as_millis())
}

/// The milliseconds from `now` to `at`, 0 if it passed.
fn until(now: Instant, at: Instant) -> u64 {
    at.as_millis().saturating_sub(now.as_millis())
}

/// `millis` after `now`.
fn after(now: Instant, millis: u64) -> Instant {
    Instant::from_millis(now.as_millis().saturating_add(millis))
}

/// `seconds` as a duration.
fn secs(seconds: u32) -> Duration {
    Duration::from_secs(u64::from(seconds))
}

/// When a message `age` milliseconds old at the snapshot arrived, on the clock of `now`,
/// with its Message Expiry Interval adjusted if that moment is before the clock's origin
/// (see the module docs).
fn rebase(now: Instant, age: u64, mut publish: Publish<Bytes>) -> (Instant, Publish<Bytes>) {
    let Some(interval) = publish.properties.message_expiry_interval else {
        return (now, publish);
    };
    let now_ms = now.as_millis();
    if let Some(at) = now_ms.checked_sub(age) {
        return (Instant::from_millis(at), publish);
    }
    // Arrived `deficit` ms before the origin: move the arrival `shift` whole seconds later
    // and shorten the interval as much, so that it expires at the same moment.
    let deficit = age.saturating_sub(now_ms);
    let shift = deficit.div_ceil(1000);
    let remaining = u64::from(interval).checked_sub(shift);
    let Some(remaining) = remaining.and_then(|left| u32::try_from(left).ok()) else {
        // Expired before the origin.
        publish.properties.message_expiry_interval = Some(0);
        return (now, publish);
    };
    publish.properties.message_expiry_interval = Some(remaining);
    let at = shift.saturating_mul(1000).saturating_sub(deficit);
    (Instant::from_millis(at), publish)
}

/// A Will as the PUBLISH a snapshot stores it in.
fn will_publish(will: &Will<Bytes>) -> Publish<Bytes> {
    let mut publish = Publish::new(will.topic.clone(), will.payload.clone().into_inner());
    publish.delivery = Wire::new(will.qos, PacketId::MIN);
    publish.retain = will.retain;
    publish.properties.message_expiry_interval = will.properties.message_expiry_interval;
    publish.properties.message = will.properties.message.clone();
    publish
}

/// The Will a snapshot's PUBLISH stores, with its Will Delay Interval.
fn will_of(publish: Publish<Bytes>, delay: Option<u32>) -> Result<Will<Bytes>, SnapshotError> {
    let Some(topic) = publish.topic else {
        return Err(SnapshotError::Invalid("will without a topic"));
    };
    let payload =
        BinaryData::new(publish.payload).map_err(|_| SnapshotError::Invalid("will payload"))?;
    let mut properties = WillProperties::new();
    properties.will_delay_interval = delay;
    properties.message_expiry_interval = publish.properties.message_expiry_interval;
    properties.message = publish.properties.message;
    Ok(Will {
        qos: publish.delivery.qos(),
        retain: publish.retain,
        topic,
        payload,
        properties,
    })
}

/// The snapshot being read: bounds-checked reads that fail with
/// [`SnapshotError::Truncated`].
pub(super) struct Input<'a> {
    bytes: &'a [u8],
}

impl<'a> Input<'a> {
    /// The input after a checked header.
    pub(super) fn header(snapshot: &'a [u8]) -> Result<Self, SnapshotError> {
        let Some(rest) = snapshot.strip_prefix(MAGIC.as_slice()) else {
            return Err(if MAGIC.starts_with(snapshot) {
                SnapshotError::Truncated
            } else {
                SnapshotError::Header
            });
        };
        let mut input = Self { bytes: rest };
        match input.u8()? {
            VERSION => Ok(input),
            other => Err(SnapshotError::Version(other)),
        }
    }

    /// Bytes not read yet.
    pub(super) fn left(&self) -> usize {
        self.bytes.len()
    }

    fn take<const N: usize>(&mut self) -> Result<[u8; N], SnapshotError> {
        let (first, rest) = self
            .bytes
            .split_first_chunk::<N>()
            .ok_or(SnapshotError::Truncated)?;
        self.bytes = rest;
        Ok(*first)
    }

    fn u8(&mut self) -> Result<u8, SnapshotError> {
        self.take::<1>().map(u8::from_be_bytes)
    }

    fn u16(&mut self) -> Result<u16, SnapshotError> {
        self.take::<2>().map(u16::from_be_bytes)
    }

    fn u32(&mut self) -> Result<u32, SnapshotError> {
        self.take::<4>().map(u32::from_be_bytes)
    }

    fn u64(&mut self) -> Result<u64, SnapshotError> {
        self.take::<8>().map(u64::from_be_bytes)
    }

    /// A count of records of at least `min_size` bytes each, refused as truncated if the
    /// bytes left cannot hold them (so nothing is allocated for records that are not there).
    pub(super) fn count(&mut self, min_size: usize) -> Result<usize, SnapshotError> {
        let count = self.u32()? as usize;
        if count.saturating_mul(min_size) > self.left() {
            return Err(SnapshotError::Truncated);
        }
        Ok(count)
    }

    /// A string with its 2-byte length.
    fn string(&mut self) -> Result<&'a str, SnapshotError> {
        let len = usize::from(self.u16()?);
        let (text, rest) = self
            .bytes
            .split_at_checked(len)
            .ok_or(SnapshotError::Truncated)?;
        self.bytes = rest;
        core::str::from_utf8(text).map_err(|_| SnapshotError::Invalid("string not UTF-8"))
    }

    /// A stored message: a 5.0 PUBLISH with a topic and nothing of a connection's, copied out
    /// of the snapshot (a message must not keep the whole snapshot alive).
    fn publish(&mut self) -> Result<Publish<Bytes>, SnapshotError> {
        let limits = Limits::new(u32::MAX);
        let (packet, consumed) = match Packet::decode(ProtocolVersion::V5, self.bytes, &limits) {
            Ok(Decoded::Complete { packet, consumed }) => (packet, consumed),
            Ok(Decoded::Incomplete { .. }) => return Err(SnapshotError::Truncated),
            Err(error) => return Err(SnapshotError::Packet(error)),
        };
        self.bytes = self.bytes.get(consumed..).unwrap_or_default();
        let Packet::Publish(publish) = packet else {
            return Err(SnapshotError::Invalid("a packet other than PUBLISH"));
        };
        if publish.topic.is_none()
            || publish.properties.topic_alias.is_some()
            || !publish.properties.subscription_identifiers.is_empty()
            || publish.is_dup()
            || publish.packet_id().is_some_and(|id| id != PacketId::MIN)
        {
            return Err(SnapshotError::Invalid("stored PUBLISH"));
        }
        let Packet::Publish(publish) = Packet::Publish(publish).into_owned() else {
            return Err(SnapshotError::Invalid("a packet other than PUBLISH"));
        };
        Ok(publish)
    }
}
