//! Routing: one PUBLISH in, deliveries queued for every matching session.

use alloc::vec::Vec;

use bytes::Bytes;

use super::connection::{Ack, Connection, Out};
use super::event::ConnectionHandle;
use super::session::{Delivery, Inflight, SessionKey, SubIds};
use super::store::{MessageId, RetainedMessage, Stored};
use super::subscriptions::Match;
use super::{Broker, Policy, Timer};
use crate::packet::{Delivery as Wire, Outgoing, Publish, TopicAliasUse};
use crate::types::{PacketId, QoS};

impl<P: Policy> Broker<P> {
    /// Stores a message, keeps or clears it as retained, and queues a delivery for every
    /// session with a matching subscription.
    pub(super) fn route(&mut self, publish: Publish<Bytes>, origin: Option<SessionKey>) {
        let id = self.store.insert(publish, self.now);
        self.route_stored(id, origin);
    }

    /// [`route`](Self::route) for a message already in the store (with no holder yet),
    /// which it drops if no one takes it.
    pub(super) fn route_stored(&mut self, id: MessageId, origin: Option<SessionKey>) {
        let now = self.now;
        let Some(stored) = self.store.get_mut(id) else {
            return;
        };
        let publish = &mut stored.publish;
        if publish.topic.is_none() {
            self.store.release_if_unused(id);
            return;
        }
        let qos = publish.qos();
        // Stored without what belongs to the publisher's connection.
        publish.delivery = Wire::new(qos, PacketId::MIN);
        publish.properties.topic_alias = None;
        let retain = publish.retain;
        let empty = publish.payload.is_empty();
        if origin.is_some() {
            self.stats.messages_in = self.stats.messages_in.saturating_add(1);
        }

        if retain && self.config.retain_available {
            // [MQTT-3.3.1-5]: stored (replacing any); [MQTT-3.3.1-10]/[MQTT-3.3.1-11] (3.1.1),
            // [MQTT-3.3.1-6]/[MQTT-3.3.1-7] (5.0): an empty payload clears it, and is not
            // stored.
            let stored = self.store.get(id);
            let expires_at = stored.and_then(Stored::expires_at);
            // A copy of its own: a slice would keep the whole buffer it was read in alive
            // for as long as it is retained.
            let message = stored.filter(|_| !empty).map(|stored| RetainedMessage {
                publish: stored.publish.detach(),
                received_at: now,
            });
            // The store is bounded by the topic-level limit PUBLISH packets are held to.
            let set = match self.store.get(id).and_then(|s| s.publish.topic.as_ref()) {
                Some(topic) => self.retained.set(topic, message, expires_at).is_ok(),
                None => false,
            };
            if set
                && let Some(at) = expires_at
                && !empty
            {
                self.timers.insert((at, Timer::Retained));
            }
        }

        let mut matches = core::mem::take(&mut self.matches);
        matches.clear();
        if let Some(topic) = self.store.get(id).and_then(|s| s.publish.topic.as_ref()) {
            let sessions = &self.sessions;
            self.subscriptions.matches(
                topic.as_str(),
                |key: SessionKey| {
                    sessions
                        .get(key.index as usize)
                        .and_then(|slot| slot.session.as_ref())
                        .is_some_and(|session| session.connection.is_some())
                },
                &mut matches,
            );
        }
        // Overlapping subscriptions of one session: one delivery, at the highest granted QoS,
        // with every Subscription Identifier (5.0 [MQTT-3.3.4-3], 3.1.1 [MQTT-3.3.5-1]). A
        // shared subscription's match is a delivery of its own (5.0 section 4.8.2).
        // Often in order already (the subscribers of one filter are kept sorted).
        if !matches.is_sorted_by_key(|m| (m.key, m.shared)) {
            matches.sort_unstable_by_key(|m| (m.key, m.shared));
        }
        let mut start = 0;
        while let Some(first) = matches.get(start) {
            // A session's non-shared matches, side by side once sorted; a shared one alone.
            let mut end = start.saturating_add(1);
            if !first.shared {
                while matches
                    .get(end)
                    .is_some_and(|m| m.key == first.key && !m.shared)
                {
                    end = end.saturating_add(1);
                }
            }
            if let Some(group) = matches.get(start..end) {
                self.deliver_matches((id, qos, retain), group, origin);
            }
            start = end;
        }
        self.matches = matches;
        self.forward(id);
        self.store.release_if_unused(id);
    }

    /// Queues one delivery of message `id`, of QoS `message_qos` and RETAIN flag
    /// `message_retain`, for the session all of `group` belong to.
    fn deliver_matches(
        &mut self,
        (id, message_qos, message_retain): (MessageId, QoS, bool),
        group: &[Match<SessionKey>],
        origin: Option<SessionKey>,
    ) {
        let Some(first) = group.first() else {
            return;
        };
        let key = first.key;
        let mut granted = None;
        let mut retain = false;
        let mut sub_ids = SubIds::None;
        for m in group {
            // [MQTT-3.8.3-3] (5.0): No Local, no delivery to the publisher's own session.
            if m.options.no_local && origin == Some(key) {
                continue;
            }
            granted = granted.max(Some(m.options.qos));
            // [MQTT-3.3.1-12]/[MQTT-3.3.1-13] (5.0): Retain As Published keeps the flag.
            retain |= m.options.retain_as_published && message_retain;
            if let Some(sub_id) = m.id {
                sub_ids.push(sub_id);
            }
        }
        let Some(granted) = granted else {
            return;
        };
        let delivery = Delivery {
            message: id,
            qos: message_qos.min(granted),
            retain,
            sub_ids,
            group: first.group,
        };
        // The hot path of fan-out inline, the rest out of line.
        if delivery.qos == QoS::AtMostOnce {
            self.deliver_qos0(key, delivery);
        } else {
            self.deliver(key, delivery);
        }
    }

    /// [`deliver`](Self::deliver) of a QoS 0 delivery: queued on the session's connection,
    /// with one look-up of the connection and of the message, or dropped (expired, absent
    /// client, too large, queue full).
    #[inline]
    fn deliver_qos0(&mut self, key: SessionKey, delivery: Delivery) {
        let now = self.now;
        let Some(stored) = self.store.get_mut(delivery.message) else {
            return;
        };
        if stored.is_expired(now) {
            self.stats.dropped_expired = self.stats.dropped_expired.saturating_add(1);
            return;
        }
        let size = stored.publish.payload.len();
        // QoS 0 is not queued for an absent client.
        let Some(handle) = super::session_in(&self.sessions, key).and_then(|s| s.connection) else {
            return;
        };
        let max_queued = self.config.max_queued_messages;
        let max_bytes = self.config.max_queued_bytes;
        let Some(conn) = super::connection_in(&mut self.connections, handle) else {
            return;
        };
        if !fits(conn, stored, &delivery) {
            // [MQTT-3.1.2-25] (5.0): too large for the client: dropped, as if sent.
            self.stats.dropped_too_large = self.stats.dropped_too_large.saturating_add(1);
            return;
        }
        // A client that does not read: its QoS 0 messages are dropped past the session
        // queue's limits, in messages and in bytes, so that what waits on its connection
        // stays bounded.
        let backlog = conn
            .backlog_bytes
            .saturating_add(u32::try_from(size).unwrap_or(u32::MAX));
        if conn.out.len() >= max_queued || backlog as usize > max_bytes {
            self.stats.dropped_queue_full = self.stats.dropped_queue_full.saturating_add(1);
            return;
        }
        conn.backlog_bytes = backlog;
        conn.out.push_back(Out::Publish {
            delivery,
            id: None,
            dup: false,
        });
        if !conn.ready {
            conn.ready = true;
            self.ready.push_back(handle);
        }
        stored.hold();
        self.stats.messages_out = self.stats.messages_out.saturating_add(1);
    }

    /// Queues `delivery` for a session: straight to its connection when the in-flight window
    /// has room, else to its queue (QoS 0 to an absent client is dropped).
    pub(super) fn deliver(&mut self, key: SessionKey, delivery: Delivery) {
        if delivery.qos == QoS::AtMostOnce {
            self.deliver_qos0(key, delivery);
            return;
        }
        let now = self.now;
        let Some(stored) = self.store.get(delivery.message) else {
            return;
        };
        if stored.is_expired(now) {
            self.stats.dropped_expired = self.stats.dropped_expired.saturating_add(1);
            return;
        }
        let size = stored.publish.payload.len();
        let Some(session) = super::session_in(&self.sessions, key) else {
            return;
        };
        let connection = session.connection;
        if let Some(handle) = connection {
            if !self.fits(handle, delivery.message, &delivery) {
                // [MQTT-3.1.2-25] (5.0): too large for the client: dropped, as if sent.
                self.stats.dropped_too_large = self.stats.dropped_too_large.saturating_add(1);
                return;
            }
            // QoS 1 and 2 with room in the window and none waiting: straight into flight,
            // as `fill_window` would move it.
            let window = self.connection(handle).map_or(0, |conn| {
                usize::from(self.config.max_inflight.min(conn.receive_maximum))
            });
            let Some(session) = self.session_mut(key) else {
                return;
            };
            let flows = session.flows_mut();
            if flows.queue.is_empty()
                && flows.unsent == 0
                && flows.inflight.len() < window
                && let Some(id) = flows.allocate_id()
            {
                // A reference for the flight; `launch` takes the PUBLISH's.
                self.store.retain(delivery.message);
                self.launch(key, handle, id, delivery);
                return;
            }
        }
        let limits = (
            self.config.max_queued_messages,
            self.config.max_queued_bytes,
        );
        let Some(session) = self.session_mut(key) else {
            return;
        };
        let flows = session.flows_mut();
        if flows.queue.len() >= limits.0 || flows.queued_bytes.saturating_add(size) > limits.1 {
            self.stats.dropped_queue_full = self.stats.dropped_queue_full.saturating_add(1);
            return;
        }
        flows.queued_bytes = flows.queued_bytes.saturating_add(size);
        flows.queue.push_back(delivery.clone());
        self.store.retain(delivery.message);
        if connection.is_none() {
            // Held for an absent client, maybe for long: no longer by the buffer it was
            // read in.
            self.store.detach(delivery.message);
        }
        self.fill_window(key);
    }

    /// Whether a delivery fits the client's Maximum Packet Size.
    fn fits(&self, handle: ConnectionHandle, message: MessageId, delivery: &Delivery) -> bool {
        match (self.connection(handle), self.store.get(message)) {
            (Some(conn), Some(stored)) => fits(conn, stored, delivery),
            _ => false,
        }
    }

    /// Moves queued deliveries into flight while the client's window has room
    /// (`[MQTT-4.9.0-2]` in 5.0: its Receive Maximum is the broker's send quota).
    pub(super) fn fill_window(&mut self, key: SessionKey) {
        let now = self.now;
        let window = self.config.max_inflight;
        let Some(handle) = self.session(key).and_then(|session| session.connection) else {
            return;
        };
        let Some(receive_maximum) = self.connection(handle).map(|conn| conn.receive_maximum) else {
            return;
        };
        let window = window.min(receive_maximum);
        loop {
            let Some(session) = self.session_mut(key) else {
                return;
            };
            let flows = session.flows();
            if flows.on_the_wire() >= usize::from(window) {
                return;
            }
            // First what a resumed session still owes the client, in order.
            if flows.unsent != 0 {
                let flows = session.flows_mut();
                let next = flows.inflight.iter_mut().find(|inflight| inflight.unsent);
                let Some(inflight) = next else {
                    flows.unsent = 0;
                    continue;
                };
                inflight.unsent = false;
                let out = Out::Publish {
                    delivery: inflight.delivery.clone(),
                    id: Some(inflight.id),
                    dup: true,
                };
                let message = inflight.delivery.message;
                flows.unsent = flows.unsent.saturating_sub(1);
                self.store.retain(message);
                self.send(handle, out);
                continue;
            }
            if flows.queue.is_empty() {
                return;
            }
            let Some(delivery) = session.flows_mut().queue.pop_front() else {
                return;
            };
            let size = self
                .store
                .get(delivery.message)
                .map_or(0, |stored| stored.publish.payload.len());
            let Some(session) = self.session_mut(key) else {
                return;
            };
            let flows = session.flows_mut();
            flows.queued_bytes = flows.queued_bytes.saturating_sub(size);
            let expired = self
                .store
                .get(delivery.message)
                .is_none_or(|stored| stored.is_expired(now));
            if expired {
                self.stats.dropped_expired = self.stats.dropped_expired.saturating_add(1);
                self.store.release(delivery.message);
                continue;
            }
            // Queued while the client was away: its Maximum Packet Size is known only now
            // ([MQTT-3.1.2-25] in 5.0).
            if !self.fits(handle, delivery.message, &delivery) {
                self.stats.dropped_too_large = self.stats.dropped_too_large.saturating_add(1);
                self.store.release(delivery.message);
                continue;
            }
            if delivery.qos == QoS::AtMostOnce {
                self.stats.messages_out = self.stats.messages_out.saturating_add(1);
                if let Some(conn) = self.connection_mut(handle) {
                    conn.backlog_bytes = conn
                        .backlog_bytes
                        .saturating_add(u32::try_from(size).unwrap_or(u32::MAX));
                }
                self.send(
                    handle,
                    Out::Publish {
                        delivery,
                        id: None,
                        dup: false,
                    },
                );
                continue;
            }
            let Some(session) = self.session_mut(key) else {
                return;
            };
            let flows = session.flows_mut();
            let Some(id) = flows.allocate_id() else {
                flows.queue.push_front(delivery);
                return;
            };
            // The queue's reference passes to the flight.
            self.launch(key, handle, id, delivery);
        }
    }

    /// Puts `delivery` in flight to session `key` under `id` and queues its PUBLISH on
    /// `handle`, which takes a reference of its own to the message until it is written (the
    /// caller provides the flight's).
    fn launch(
        &mut self,
        key: SessionKey,
        handle: ConnectionHandle,
        id: PacketId,
        delivery: Delivery,
    ) {
        let Some(session) = self.session_mut(key) else {
            return;
        };
        session.flows_mut().inflight.push_back(Inflight {
            id,
            delivery: delivery.clone(),
            released: false,
            unsent: false,
        });
        self.store.retain(delivery.message);
        self.stats.messages_out = self.stats.messages_out.saturating_add(1);
        self.send(
            handle,
            Out::Publish {
                delivery,
                id: Some(id),
                dup: false,
            },
        );
    }

    /// A resumed session: every delivery in flight goes again, in order, a PUBLISH with DUP
    /// and a PUBREL as PUBREL (`[MQTT-4.4.0-1]`, `[MQTT-3.3.1-1]`), as far as the client's
    /// Receive Maximum allows (`[MQTT-3.3.4-9]` in 5.0): a delivery past it waits, marked
    /// unsent, until acknowledgements make room (`fill_window` sends it then, with its
    /// identifier and DUP). Released deliveries count against the window but their PUBRELs
    /// always go: a PUBREL is not a PUBLISH.
    pub(super) fn resend_session(&mut self, key: SessionKey, handle: ConnectionHandle) {
        let window = self.connection(handle).map_or(0, |conn| {
            usize::from(self.config.max_inflight.min(conn.receive_maximum))
        });
        let Some(session) = self.session_mut(key) else {
            return;
        };
        if session.flows().inflight.is_empty() {
            return;
        }
        let flows = session.flows_mut();
        let mut on_the_wire = flows
            .inflight
            .iter()
            .filter(|inflight| inflight.released)
            .count();
        let mut resend = Vec::with_capacity(flows.inflight.len());
        let mut held = Vec::new();
        let mut unsent: usize = 0;
        for inflight in &mut flows.inflight {
            if inflight.released {
                inflight.unsent = false;
                resend.push(Out::Ack(Ack::PubRel(inflight.id, 0)));
            } else if on_the_wire < window {
                inflight.unsent = false;
                on_the_wire = on_the_wire.saturating_add(1);
                resend.push(Out::Publish {
                    delivery: inflight.delivery.clone(),
                    id: Some(inflight.id),
                    dup: true,
                });
                held.push(inflight.delivery.message);
            } else {
                inflight.unsent = true;
                unsent = unsent.saturating_add(1);
            }
        }
        flows.unsent = unsent;
        for message in held {
            self.store.retain(message);
        }
        for out in resend {
            self.send(handle, out);
        }
    }
}

/// Whether `delivery` of `stored` fits `conn`'s client's Maximum Packet Size (written by
/// name: an alias would only make it smaller).
#[inline]
fn fits(conn: &Connection, stored: &Stored, delivery: &Delivery) -> bool {
    let Some(maximum) = conn.max_packet_size.map(core::num::NonZeroU32::get) else {
        return true;
    };
    let outgoing = Outgoing {
        delivery: Wire::new(delivery.qos, PacketId::MAX),
        retain: delivery.retain,
        topic_alias: TopicAliasUse::None,
        subscription_ids: delivery.sub_ids.as_slice(),
        message_expiry_interval: stored.publish.properties.message_expiry_interval,
    };
    stored
        .publish
        .encoded_len_for(conn.version, &outgoing)
        .is_ok_and(|len| len <= usize::try_from(maximum).unwrap_or(usize::MAX))
}
