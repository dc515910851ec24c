//! Snapshot and restore: the broker's durable state in a versioned binary format, so that a
//! driver can restart the process without losing a QoS 1 or 2 message it acknowledged.
//!
//! [`Broker::snapshot`](super::Broker::snapshot) writes every session (its Client Identifier, protocol version,
//! Session Expiry, subscriptions with their options and Subscription Identifiers, the QoS 1
//! and 2 deliveries in flight with their Packet Identifiers and PUBREL state, the deliveries
//! queued, the incoming QoS 2 identifiers awaiting PUBREL, and its Will with its delay) and
//! every retained message. [`Broker::restore`](super::Broker::restore) builds a broker from those bytes. Neither does
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
//! and 2 with Packet Identifier 1, no Topic Alias, no Subscription Identifier). Format
//! version 2, written by a build without the `v5` feature, is the same with 3.1.1 PUBLISH
//! packets; a build with `v5` reads both. A *count* is
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
//! [`Broker::export_session`](super::Broker::export_session) writes one session in this format, for
//! [`Broker::import_session`](super::Broker::import_session) on another broker of a cluster: a snapshot whose `sessions` hold
//! that one session, whose `messages` hold the messages its deliveries refer to, and whose
//! `retained` is empty. Its client's connection, if it had one, was closed before it was
//! written, so it is written as a disconnected session. The import checks it as a restore
//! does, and refuses a snapshot of any other number of sessions or with retained messages.

mod read;
mod write;

pub(super) use read::Input;

use crate::error::DecodeError;

/// The first bytes of a snapshot: the format's name.
const MAGIC: &[u8; 4] = b"MQBS";

/// The format version this build writes (1: 5.0 PUBLISH packets; 2: 3.1.1 ones).
const VERSION: u8 = crate::types::stored::FORMAT;

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

/// Why bytes are not a snapshot [`Broker::restore`](super::Broker::restore) can restore.
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
