//! One client's session on the broker: what outlives its connections (3.1.1 `[MQTT-4.1.0-1]`).

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::vec::Vec;

use bytes::Bytes;

use super::event::ConnectionHandle;
use super::store::MessageId;
use super::subscriptions::GroupId;
use crate::packet::Will;
use crate::property::SubscriptionId;
use crate::time::Instant;
use crate::types::{PacketId, ProtocolVersion, QoS};

/// A session in the broker's slab: its index and the generation that tells a reused slot
/// from the session a stale reference meant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct SessionKey {
    pub(crate) index: u32,
    pub(crate) generation: u32,
}

/// The Subscription Identifiers one delivery carries (5.0 `[MQTT-3.3.4-3]`, `-4`, `-5`).
///
/// 16 bytes: several identifiers (overlapping subscriptions, rare) sit behind a thin pointer,
/// so that a [`Delivery`] keeps room for its share group within 32 bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) enum SubIds {
    #[default]
    None,
    One(SubscriptionId),
    #[allow(clippy::box_collection)] // a thin pointer on purpose: see above
    Many(Box<Box<[SubscriptionId]>>),
}

impl SubIds {
    pub(crate) fn as_slice(&self) -> &[SubscriptionId] {
        match self {
            Self::None => &[],
            Self::One(id) => core::slice::from_ref(id),
            Self::Many(ids) => ids,
        }
    }

    /// Whether there is no identifier.
    pub(crate) fn is_empty(&self) -> bool {
        matches!(self, Self::None)
    }

    pub(crate) fn push(&mut self, id: SubscriptionId) {
        *self = match core::mem::take(self) {
            Self::None => Self::One(id),
            Self::One(first) => Self::Many(Box::new(Box::new([first, id]))),
            Self::Many(ids) => {
                let mut ids = Vec::from(*ids);
                ids.push(id);
                Self::Many(Box::new(ids.into_boxed_slice()))
            }
        };
    }
}

/// One delivery of a stored message to this session: at which QoS, with which RETAIN flag
/// and Subscription Identifiers, and through which share group if it came through a shared
/// subscription (to hand it to another member if this one's session ends first: see
/// `shared.rs`). 32 bytes, cloned without allocating unless it carries several identifiers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Delivery {
    pub(crate) message: MessageId,
    pub(crate) qos: QoS,
    pub(crate) retain: bool,
    pub(crate) sub_ids: SubIds,
    /// The share group it was chosen by, `None` for an ordinary subscription (or a delivery
    /// restored from a snapshot, which does not record groups).
    pub(crate) group: Option<GroupId>,
}

/// A QoS 1 or 2 delivery sent and not yet acknowledged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Inflight {
    pub(crate) id: PacketId,
    pub(crate) delivery: Delivery,
    /// PUBREC received, PUBREL sent: awaiting PUBCOMP.
    pub(crate) released: bool,
    /// Sent on an earlier connection and not yet again on this one: a resumed session
    /// re-sends only what the client's Receive Maximum allows, the rest as acks make room.
    pub(crate) unsent: bool,
}

/// A session; see the module docs.
#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) client_id: Box<str>,
    pub(crate) connection: Option<ConnectionHandle>,
    /// The protocol version of its last connection.
    pub(crate) version: ProtocolVersion,
    /// Session Expiry Interval in seconds; `u32::MAX` never expires.
    pub(crate) expiry: u32,
    /// While disconnected: when the session ends.
    pub(crate) expires_at: Option<Instant>,
    /// Its subscriptions' filters, to remove them when the session ends.
    pub(crate) filters: Vec<Box<str>>,
    /// Its message flows, boxed when it first has one: an idle session holds a pointer.
    flows: Option<Box<Flows>>,
    /// The Will, and when it is due once the connection ended abnormally.
    pub(crate) will: Option<Box<Will<Bytes>>>,
    pub(crate) will_at: Option<Instant>,
}

impl Session {
    pub(crate) fn new(client_id: Box<str>, version: ProtocolVersion) -> Self {
        Self {
            client_id,
            connection: None,
            version,
            expiry: 0,
            expires_at: None,
            filters: Vec::new(),
            flows: None,
            will: None,
            will_at: None,
        }
    }

    /// When its timer is next due while disconnected: its Will or its expiry, whichever
    /// comes first.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        [self.will_at, self.expires_at].into_iter().flatten().min()
    }

    /// Its message flows; empty ones if it never had any.
    pub(crate) fn flows(&self) -> &Flows {
        self.flows.as_deref().unwrap_or(&NO_FLOWS)
    }

    /// Its message flows, allocated on first use.
    pub(crate) fn flows_mut(&mut self) -> &mut Flows {
        self.flows.get_or_insert_with(|| Box::new(Flows::new()))
    }

    /// Its message flows, taken away (the session ends).
    pub(crate) fn take_flows(&mut self) -> Flows {
        self.flows.take().map_or_else(Flows::new, |flows| *flows)
    }

    /// The in-flight delivery with `id`, by position.
    pub(crate) fn inflight_position(&self, id: PacketId) -> Option<usize> {
        self.flows().inflight_position(id)
    }

    /// Records an incoming QoS 2 identifier; false if it was already recorded.
    pub(crate) fn receive_qos2(&mut self, id: PacketId) -> bool {
        self.flows_mut().receive_qos2(id)
    }

    /// Forgets an incoming QoS 2 identifier; whether it was known.
    pub(crate) fn release_qos2(&mut self, id: PacketId) -> bool {
        self.flows
            .as_mut()
            .is_some_and(|flows| flows.release_qos2(id))
    }

    /// Frees the flows' allocation if nothing is in them (the client went away).
    pub(crate) fn free_idle_flows(&mut self) {
        if self.flows.as_ref().is_some_and(|flows| flows.is_empty()) {
            self.flows = None;
        }
    }
}

/// The flows of a session that ever had a message in flight, queued, or coming in at QoS 2.
#[derive(Debug)]
pub(crate) struct Flows {
    /// Deliveries sent, in sending order.
    pub(crate) inflight: VecDeque<Inflight>,
    /// Deliveries waiting: offline, or beyond the in-flight window.
    pub(crate) queue: VecDeque<Delivery>,
    /// Payload bytes of `queue`.
    pub(crate) queued_bytes: usize,
    /// Deliveries of `inflight` marked `unsent`.
    pub(crate) unsent: usize,
    next_id: u16,
    /// QoS 2 identifiers received, PUBREC sent, PUBREL awaited.
    pub(crate) incoming_qos2: Vec<u16>,
}

/// The flows of a session that has none.
static NO_FLOWS: Flows = Flows::new();

impl Flows {
    const fn new() -> Self {
        Self {
            inflight: VecDeque::new(),
            queue: VecDeque::new(),
            queued_bytes: 0,
            unsent: 0,
            next_id: 0,
            incoming_qos2: Vec::new(),
        }
    }

    /// Deliveries in flight on the current connection: sent, and not yet acknowledged.
    pub(crate) fn on_the_wire(&self) -> usize {
        self.inflight.len().saturating_sub(self.unsent)
    }

    /// Removes the delivery in flight at `at`.
    pub(crate) fn remove_inflight(&mut self, at: usize) -> Option<Inflight> {
        let inflight = self.inflight.remove(at)?;
        if inflight.unsent {
            self.unsent = self.unsent.saturating_sub(1);
        }
        Some(inflight)
    }

    /// Whether nothing is in flight, queued or awaiting a PUBREL.
    fn is_empty(&self) -> bool {
        self.inflight.is_empty() && self.queue.is_empty() && self.incoming_qos2.is_empty()
    }

    /// A Packet Identifier no delivery in flight holds (`[MQTT-2.2.1-3]`); `None` if all
    /// 65,535 are.
    pub(crate) fn allocate_id(&mut self) -> Option<PacketId> {
        for _ in 0..u16::MAX {
            self.next_id = self.next_id.checked_add(1).unwrap_or(1);
            let id = PacketId::new(self.next_id)?;
            if !self.inflight.iter().any(|inflight| inflight.id == id) {
                return Some(id);
            }
        }
        None
    }

    /// The in-flight delivery with `id`, by position.
    pub(crate) fn inflight_position(&self, id: PacketId) -> Option<usize> {
        self.inflight.iter().position(|inflight| inflight.id == id)
    }

    /// Records an incoming QoS 2 identifier; false if it was already recorded.
    pub(crate) fn receive_qos2(&mut self, id: PacketId) -> bool {
        match self.incoming_qos2.binary_search(&id.get()) {
            Ok(_) => false,
            Err(at) => {
                self.incoming_qos2.insert(at, id.get());
                true
            }
        }
    }

    /// Forgets an incoming QoS 2 identifier; whether it was known.
    pub(crate) fn release_qos2(&mut self, id: PacketId) -> bool {
        match self.incoming_qos2.binary_search(&id.get()) {
            Ok(at) => {
                self.incoming_qos2.remove(at);
                true
            }
            Err(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A delivery stays within 32 bytes with its share group, and one in flight within 40:
    /// both are cloned and queued on the routing path.
    #[test]
    fn deliveries_stay_small() {
        assert!(size_of::<SubIds>() <= 16);
        assert!(size_of::<Delivery>() <= 32);
        assert!(size_of::<Inflight>() <= 40);
    }

    /// Identifiers pushed one by one come back in order, however many.
    #[test]
    fn sub_ids_keep_every_identifier_in_order() {
        let mut ids = SubIds::None;
        assert_eq!(ids.as_slice(), []);
        let values: Vec<SubscriptionId> = (1..=4).filter_map(SubscriptionId::new).collect();
        for (count, &id) in values.iter().enumerate() {
            ids.push(id);
            assert_eq!(ids.as_slice(), values.get(..=count).unwrap_or_default());
        }
    }
}
