//! The client's incoming session state: QoS 2 Packet Identifiers between PUBLISH and PUBREL,
//! acknowledgements waiting for the application, and the connection's Topic Aliases.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use bytes::Bytes;

use crate::topic::TopicName;
use crate::types::{PacketId, QoS};

/// What became of an incoming QoS 1 or 2 PUBLISH.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Arrival {
    /// A new message: deliver it, and acknowledge it now (`true`) or when the application
    /// says so (`false`).
    Deliver { ack_now: bool },
    /// A re-delivery of a QoS 2 message already delivered and acknowledged with PUBREC:
    /// answer PUBREC again, deliver nothing (`[MQTT-4.3.3-10]`).
    RepeatPubRec,
    /// A re-delivery of a message the application has not acknowledged yet: its
    /// acknowledgement is still to come.
    Pending,
    /// One unacknowledged message more than the Receive Maximum allows.
    OverLimit,
}

/// One incoming message awaiting the application's acknowledgement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Awaiting {
    id: PacketId,
    qos: QoS,
    acked: bool,
    /// Arrived as a re-delivery (DUP): possibly one the server no longer counts.
    dup: bool,
}

/// The incoming state; see the module docs.
#[derive(Debug, Default)]
pub(crate) struct Inbound {
    /// QoS 2 identifiers from PUBLISH to PUBREL, sorted.
    qos2: Vec<u16>,
    /// Those of `qos2` that arrived as re-deliveries, sorted.
    qos2_dup: Vec<u16>,
    /// Messages delivered to the application and not yet acknowledged, in arrival order
    /// (manual acknowledgement only).
    awaiting: VecDeque<Awaiting>,
}

impl Inbound {
    /// Records an incoming QoS 1 or 2 PUBLISH and says what to do with it. `limit` is the
    /// Receive Maximum: the unacknowledged messages the server may have outstanding.
    ///
    /// A re-delivery (DUP) may be one the server sent before our acknowledgement of it reached
    /// it: a new message to us (`[MQTT-4.3.2-5]` in 5.0) that the server no longer counts.
    /// So a message counts against the limit of a new one only if it arrived without DUP,
    /// and a re-delivery is held to twice the limit over all, which still bounds the table.
    pub(crate) fn arrive(
        &mut self,
        id: PacketId,
        qos: QoS,
        dup: bool,
        manual: bool,
        limit: u16,
    ) -> Arrival {
        // A re-delivery of a message the application holds, or acknowledged while an older
        // one holds its acknowledgement back: that acknowledgement is still to go out.
        if self.awaiting.iter().any(|awaiting| awaiting.id == id) {
            return Arrival::Pending;
        }
        if qos == QoS::ExactlyOnce && self.qos2.binary_search(&id.get()).is_ok() {
            return Arrival::RepeatPubRec;
        }
        let qos1 = |only_new: bool| {
            self.awaiting
                .iter()
                .filter(|awaiting| awaiting.qos == QoS::AtLeastOnce && !(only_new && awaiting.dup))
                .count()
        };
        let all = self.qos2.len().saturating_add(qos1(false));
        let new = self
            .qos2
            .len()
            .saturating_sub(self.qos2_dup.len())
            .saturating_add(qos1(true));
        let limit = usize::from(limit);
        let over = all >= limit.saturating_mul(2) || (!dup && new >= limit);
        let counted = qos == QoS::ExactlyOnce || manual;
        if counted && over {
            return Arrival::OverLimit;
        }
        if qos == QoS::ExactlyOnce
            && let Err(at) = self.qos2.binary_search(&id.get())
        {
            self.qos2.insert(at, id.get());
            if dup && let Err(at) = self.qos2_dup.binary_search(&id.get()) {
                self.qos2_dup.insert(at, id.get());
            }
        }
        if manual {
            self.awaiting.push_back(Awaiting {
                id,
                qos,
                acked: false,
                dup,
            });
        }
        Arrival::Deliver { ack_now: !manual }
    }

    /// A PUBREL for `id`: forgets the identifier. Returns whether it was known, and whether
    /// its PUBREC went out (a PUBREL before the PUBREC is a protocol error).
    pub(crate) fn release(&mut self, id: PacketId) -> Release {
        if self
            .awaiting
            .iter()
            .any(|awaiting| awaiting.id == id && awaiting.qos == QoS::ExactlyOnce)
        {
            return Release::BeforePubRec;
        }
        if let Ok(at) = self.qos2_dup.binary_search(&id.get()) {
            self.qos2_dup.remove(at);
        }
        match self.qos2.binary_search(&id.get()) {
            Ok(at) => {
                self.qos2.remove(at);
                Release::Known
            }
            Err(_) => Release::Unknown,
        }
    }

    /// The application acknowledges `id`; returns the acknowledgements now due, oldest first
    /// (`[MQTT-4.6.0-2]`, `[MQTT-4.6.0-3]`), or `None` if `id` awaits none.
    pub(crate) fn ack(&mut self, id: PacketId, due: &mut Vec<(PacketId, QoS)>) -> bool {
        let Some(awaiting) = self
            .awaiting
            .iter_mut()
            .find(|awaiting| awaiting.id == id && !awaiting.acked)
        else {
            return false;
        };
        awaiting.acked = true;
        due.clear();
        while let Some(front) = self.awaiting.front() {
            if !front.acked {
                break;
            }
            due.push((front.id, front.qos));
            self.awaiting.pop_front();
        }
        true
    }

    /// QoS 2 identifiers awaiting PUBREL, for exporting a session.
    pub(crate) fn qos2_ids(&self) -> impl Iterator<Item = PacketId> + '_ {
        self.qos2.iter().filter_map(|&id| PacketId::new(id))
    }

    /// Restores a QoS 2 identifier awaiting PUBREL.
    pub(crate) fn restore_qos2(&mut self, id: PacketId) {
        if let Err(at) = self.qos2.binary_search(&id.get()) {
            self.qos2.insert(at, id.get());
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.qos2.len().saturating_add(self.awaiting.len())
    }

    /// Forgets everything (Session Present 0, or a session that ended).
    pub(crate) fn clear(&mut self) {
        self.qos2 = Vec::new();
        self.qos2_dup = Vec::new();
        self.awaiting = VecDeque::new();
    }
}

/// What a PUBREL found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Release {
    Known,
    Unknown,
    BeforePubRec,
}

/// Topic Aliases the server set up on this connection (5.0), by alias.
#[derive(Debug, Default)]
pub(crate) struct IncomingAliases {
    topics: Vec<Option<TopicName<Bytes>>>,
}

impl IncomingAliases {
    /// Records that `alias` names `topic` (`maximum` already checked).
    pub(crate) fn set(&mut self, alias: u16, topic: TopicName<Bytes>) {
        let index = usize::from(alias).saturating_sub(1);
        if self.topics.len() <= index {
            self.topics.resize(index.saturating_add(1), None);
        }
        if let Some(entry) = self.topics.get_mut(index) {
            *entry = Some(topic);
        }
    }

    /// The topic `alias` names, if set.
    pub(crate) fn get(&self, alias: u16) -> Option<&TopicName<Bytes>> {
        self.topics
            .get(usize::from(alias).saturating_sub(1))
            .and_then(Option::as_ref)
    }

    pub(crate) fn clear(&mut self) {
        self.topics = Vec::new();
    }
}
