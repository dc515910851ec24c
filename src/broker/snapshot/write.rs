//! Writing a snapshot: every session and the messages they hold, each message once.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use bytes::{BufMut, Bytes};

use super::{MAGIC, NEVER, RELEASED, RETAIN, VERSION, WILL, WILL_DELAY};
use crate::broker::session::{Delivery, Session, SessionKey};
use crate::broker::store::{MessageId, RetainedMessage, Stored};
use crate::broker::{Broker, Policy};
use crate::error::EncodeError;
use crate::packet::{Delivery as Wire, Publish, Will};
use crate::property::SubscriptionId;
use crate::time::Instant;
use crate::topic::TopicName;
use crate::types::{PacketId, stored};

impl<P: Policy> Broker<P> {
    /// The broker's durable state at `now`, in the format the [module docs](crate::broker::snapshot) describe,
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
    pub(in crate::broker) fn write_session_alone(
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
            stored.publish.encode(stored::LAYOUT, &mut out)?;
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
            message.publish.encode(stored::LAYOUT, &mut out)?;
        }

        put_count(&mut out, sessions.len())?;
        for written in sessions {
            write_session(&mut out, self, written, &table, now)?;
        }
        Ok(out)
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
            will_publish(will).encode(stored::LAYOUT, out)?;
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

/// A Will as the PUBLISH a snapshot stores it in.
fn will_publish(will: &Will<Bytes>) -> Publish<Bytes> {
    let mut publish = Publish::new(will.topic.clone(), will.payload.clone().into_inner());
    publish.delivery = Wire::new(will.qos, PacketId::MIN);
    publish.retain = will.retain;
    publish.properties.message_expiry_interval = will.properties.message_expiry_interval;
    publish.properties.message = will.properties.message.clone();
    publish
}
