//! Shared subscriptions: what a member that goes leaves to the other members of its groups.
//!
//! Routing hands each message of a share group to one member, in turn (5.0 section 4.8.2),
//! and the delivery remembers the group ([`Delivery::group`]). When that member goes before
//! the delivery is done, MQTT 5.0 section 4.8.2 says:
//!
//! - QoS 2 already sent: the member keeps it. The broker completes it when the member
//!   reconnects (`[MQTT-4.8.2-4]`) and, if its session ends first, sends it to no other
//!   member (`[MQTT-4.8.2-5]`): it goes with the session, whether or not the member answered
//!   with PUBREC.
//! - QoS 1 sent and not acknowledged: the broker "MAY wait for the Client to reconnect", and
//!   if the session ends first "SHOULD send the Application Message to another Client that is
//!   subscribed to the same Shared Subscription". This broker waits while the session lives
//!   (the member gets it again, DUP set, when it resumes) and hands it over when the session
//!   ends.
//! - Not sent yet (queued behind the member's in-flight window, or while it was away): no
//!   copy reached the member, so handing it over cannot duplicate it. The broker hands it to
//!   a *connected* member as soon as the member's connection ends, and to any member (a
//!   disconnected one with a session queues it) when the member's session ends.
//!
//! A delivery handed over is a fresh one to the member the group's turn picks (connected
//! members first): a new Packet Identifier from that member's session, DUP 0, the QoS, RETAIN
//! (Retain As Published) and Subscription Identifier of that member's own subscription to the
//! group (`[MQTT-4.8.2-3]`). It counts in [`Stats::shared_handed_over`]. A delivery whose group
//! has no member left (the member that went was the last) is dropped and counted in
//! [`Stats::dropped_no_member`]. A member that refused the message (PUBACK or PUBREC 0x80 or
//! above) has finished it: nothing is handed over (`[MQTT-4.8.2-6]`).
//!
//! [`Delivery::group`]: super::session::Delivery
//! [`Stats::shared_handed_over`]: super::Stats::shared_handed_over
//! [`Stats::dropped_no_member`]: super::Stats::dropped_no_member

use alloc::collections::VecDeque;

use super::session::{Delivery, Flows, SessionKey, SubIds};
use super::{Broker, Policy};
use crate::types::QoS;

impl<P: Policy> Broker<P> {
    /// A session ended (its subscriptions are gone already): its shared deliveries that may
    /// go to another member do, the rest of its messages are released.
    pub(super) fn release_ended_flows(&mut self, flows: Flows) {
        for inflight in flows.inflight {
            let delivery = inflight.delivery;
            // [MQTT-4.8.2-5]: a QoS 2 delivery sent goes to no other member.
            if delivery.qos == QoS::AtLeastOnce && delivery.group.is_some() {
                self.hand_over_or_drop(&delivery);
            }
            self.store.release(delivery.message);
        }
        for delivery in flows.queue {
            if delivery.group.is_some() {
                self.hand_over_or_drop(&delivery);
            }
            self.store.release(delivery.message);
        }
    }

    /// A connection ended and its session lives on: its queued shared deliveries (none of
    /// them sent) go to connected members of their groups; those no connected member can
    /// take stay queued. Does not allocate unless the queue holds a shared delivery.
    pub(super) fn hand_over_queued(&mut self, key: SessionKey) {
        let Some(session) = self.session_mut(key) else {
            return;
        };
        if session.connection.is_some()
            || !session
                .flows()
                .queue
                .iter()
                .any(|delivery| delivery.group.is_some())
        {
            return;
        }
        let queue = core::mem::take(&mut session.flows_mut().queue);
        let mut kept = VecDeque::with_capacity(queue.len());
        let mut handed_bytes = 0usize;
        for delivery in queue {
            if delivery.group.is_some() && self.hand_over(&delivery, key, true) {
                handed_bytes = handed_bytes.saturating_add(
                    self.store
                        .get(delivery.message)
                        .map_or(0, |stored| stored.publish.payload.len()),
                );
                self.store.release(delivery.message);
            } else {
                kept.push_back(delivery);
            }
        }
        if let Some(session) = self.session_mut(key) {
            let flows = session.flows_mut();
            flows.queue = kept;
            flows.queued_bytes = flows.queued_bytes.saturating_sub(handed_bytes);
            session.free_idle_flows();
        } else {
            // Unreachable: handing over delivers to other sessions only. Nothing leaks if
            // it were reached.
            for delivery in kept {
                self.store.release(delivery.message);
            }
        }
    }

    /// Hands `delivery` to another member of its group, any member; counts it as dropped if
    /// the group has none left. The caller still holds (and releases) `delivery`'s message.
    fn hand_over_or_drop(&mut self, delivery: &Delivery) {
        let gone = SessionKey {
            index: u32::MAX,
            generation: 0,
        };
        if !self.hand_over(delivery, gone, false) {
            self.stats.dropped_no_member = self.stats.dropped_no_member.saturating_add(1);
        }
    }

    /// Queues a fresh delivery of `delivery`'s message for the member of its group whose
    /// turn it is, other than `from`: a connected one first, or (unless `only_connected`)
    /// the next in turn. Returns whether a member took it; the caller still holds (and
    /// releases) `delivery`'s message either way.
    fn hand_over(&mut self, delivery: &Delivery, from: SessionKey, only_connected: bool) -> bool {
        let Some(group) = delivery.group else {
            return false;
        };
        let Some((message_qos, message_retain)) = self
            .store
            .get(delivery.message)
            .map(|stored| (stored.publish.qos(), stored.publish.retain))
        else {
            return false;
        };
        let member = {
            let sessions = &self.sessions;
            let connected = |key: SessionKey| {
                key != from
                    && sessions
                        .get(key.index as usize)
                        .filter(|slot| slot.generation == key.generation)
                        .and_then(|slot| slot.session.as_ref())
                        .is_some_and(|session| session.connection.is_some())
            };
            self.subscriptions
                .next_member(group, connected, only_connected)
        };
        let Some(member) = member.filter(|member| member.key != from) else {
            return false;
        };
        let mut sub_ids = SubIds::None;
        if let Some(id) = member.id {
            sub_ids.push(id);
        }
        let fresh = Delivery {
            message: delivery.message,
            // [MQTT-4.8.2-3]: the QoS granted to the member chosen.
            qos: message_qos.min(member.options.qos),
            // [MQTT-3.3.1-12]/[MQTT-3.3.1-13] (5.0): Retain As Published keeps the flag.
            retain: member.options.retain_as_published && message_retain,
            sub_ids,
            group: Some(group),
        };
        self.stats.shared_handed_over = self.stats.shared_handed_over.saturating_add(1);
        self.deliver(member.key, fresh);
        true
    }
}
