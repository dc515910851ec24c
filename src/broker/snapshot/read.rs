//! Reading a snapshot back: every count, packet, reference and order checked before it is
//! trusted.

use alloc::boxed::Box;
use alloc::collections::BTreeSet;
use alloc::vec::Vec;
use core::time::Duration;

use bytes::Bytes;
use bytestring::ByteString;

use super::{
    MAGIC, MIN_INFLIGHT, MIN_MESSAGE, MIN_QUEUED, MIN_SESSION, MIN_SUBSCRIPTION, NEVER, QOS_BITS,
    RELEASED, RETAIN, SnapshotError, WILL, WILL_DELAY,
};
use crate::broker::session::{Delivery, Inflight, Session, SessionKey, SubIds};
use crate::broker::store::{MessageId, RetainedMessage};
use crate::broker::{Broker, BrokerConfig, Policy, SessionSlot, Timer};
use crate::codec::{BinaryData, Decoded, Limits, MqttString};
use crate::packet::{Packet, Publish, SubscriptionOptions, Will};
use crate::property::{SubscriptionId, WillProperties};
use crate::time::Instant;
use crate::topic::{TopicFilter, TopicName};
use crate::types::{PacketId, ProtocolVersion, QoS, stored};

impl<P: Policy> Broker<P> {
    /// A broker with `config` and `policy` holding the state a [`snapshot`](Self::snapshot)
    /// wrote, its times rebased on `now`: every session disconnected, waiting for its client
    /// (the [module docs](crate::broker::snapshot) say what a restart does to wills and expiry). Wills and
    /// expiries already due at `now` are handled before it returns; the rest wait for
    /// [`handle_timeout`](Self::handle_timeout) as usual. With
    /// [`report_interest`](BrokerConfig::report_interest) on, each filter the sessions
    /// subscribe to is reported once as [`Event::Interest`](crate::broker::Event::Interest).
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
    pub(in crate::broker) fn read_messages(
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
    pub(in crate::broker) fn read_session<'a>(
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
            let mut options = SubscriptionOptions::from_byte(input.u8()?, input.layout)
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
pub(in crate::broker) struct Input<'a> {
    bytes: &'a [u8],
    /// The layout of the snapshot's PUBLISH packets, from its format version.
    layout: ProtocolVersion,
}

impl<'a> Input<'a> {
    /// The input after a checked header.
    pub(in crate::broker) fn header(snapshot: &'a [u8]) -> Result<Self, SnapshotError> {
        let Some(rest) = snapshot.strip_prefix(MAGIC.as_slice()) else {
            return Err(if MAGIC.starts_with(snapshot) {
                SnapshotError::Truncated
            } else {
                SnapshotError::Header
            });
        };
        let mut input = Self {
            bytes: rest,
            layout: ProtocolVersion::V3_1_1,
        };
        let version = input.u8()?;
        input.layout = stored::layout(version).ok_or(SnapshotError::Version(version))?;
        Ok(input)
    }

    /// Bytes not read yet.
    pub(in crate::broker) fn left(&self) -> usize {
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
    pub(in crate::broker) fn count(&mut self, min_size: usize) -> Result<usize, SnapshotError> {
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

    /// A stored message: a PUBLISH (5.0, or 3.1.1 in format 2) with a topic and nothing of a
    /// connection's, copied out of the snapshot (a message must not keep the whole snapshot
    /// alive).
    fn publish(&mut self) -> Result<Publish<Bytes>, SnapshotError> {
        let limits = Limits::new(u32::MAX);
        let (packet, consumed) = match Packet::decode(self.layout, self.bytes, &limits) {
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
