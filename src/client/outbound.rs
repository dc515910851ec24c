//! The client's outgoing session state: every packet that holds a Packet Identifier until the
//! server acknowledges it, in the order the spec makes it re-send them.
//!
//! A table of `capacity` slots. Slot `s` hands out the identifiers `s + 1`, `s + 1 + capacity`,
//! `s + 1 + 2 × capacity`, … in turn, so allocating an identifier is taking a free slot (O(1)),
//! finding an entry by identifier is `(id - 1) % capacity` (O(1)), and an identifier in use
//! can never be handed out again: only its own slot could produce it, and that slot is taken
//! (3.1.1 `[MQTT-2.3.1-2]`, 5.0 `[MQTT-2.2.1-3]`). Slots are created as they are first needed,
//! so a large capacity costs nothing until it is used.
//!
//! Entries are linked in sending order: a PUBLISH joins the end when it is first sent, and
//! moves to the end again when its PUBREC arrives and it becomes a PUBREL, so walking the list
//! re-sends PUBLISH packets in their original order (`[MQTT-4.6.0-1]`) and PUBREL packets in
//! the order of their PUBRECs (`[MQTT-4.6.0-4]`).

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::num::NonZeroU16;

use bytes::Bytes;

use crate::packet::{Delivery, Publish, Subscribe, Unsubscribe};
use crate::types::PacketId;

/// Where a QoS 1 or 2 PUBLISH in the table stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Waiting for the send quota; never sent on this session unless its DUP flag is set.
    Waiting,
    /// Sent, awaiting PUBACK or PUBREC.
    Sent,
}

/// No slot: the end of a list.
const NONE: u16 = u16::MAX;

/// What a slot holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Entry {
    /// Free for the next identifier.
    Free,
    /// A QoS 1 or 2 PUBLISH, waiting for the send quota or sent (the phase changes in place,
    /// without moving the message).
    Publish(Publish<Bytes>, Phase),
    /// A PUBREL sent, awaiting PUBCOMP.
    Released,
    /// A SUBSCRIBE awaiting SUBACK.
    Subscribe(Box<Subscribe<Bytes>>),
    /// An UNSUBSCRIBE awaiting UNSUBACK.
    Unsubscribe(Box<Unsubscribe<Bytes>>),
}

impl Entry {
    /// Puts `id` where the entry's packet carries its Packet Identifier.
    fn set_packet_id(&mut self, id: PacketId) {
        match self {
            Self::Publish(publish, _) => publish.delivery = Delivery::new(publish.qos(), id),
            Self::Subscribe(subscribe) => subscribe.packet_id = id,
            Self::Unsubscribe(unsubscribe) => unsubscribe.packet_id = id,
            Self::Free | Self::Released => {}
        }
    }
}

#[derive(Debug)]
struct Slot {
    /// The identifier the slot holds, or 0 when free.
    id: u16,
    /// How many identifiers this slot has handed out, modulo the number it can.
    round: u16,
    prev: u16,
    next: u16,
    entry: Entry,
}

/// The outgoing table; see the module docs.
#[derive(Debug)]
pub(crate) struct Outbound {
    capacity: NonZeroU16,
    slots: Vec<Slot>,
    free: Vec<u16>,
    /// The sending-order list of sent entries (`Sent` and `Released`).
    head: u16,
    tail: u16,
    /// QoS 1 and 2 PUBLISH packets waiting for the send quota, oldest first.
    waiting: VecDeque<u16>,
    /// Entries that count against the server's Receive Maximum: `Sent` and `Released`.
    in_flight: u16,
    used: u16,
}

impl Outbound {
    pub(crate) fn new(capacity: u16) -> Self {
        Self {
            capacity: NonZeroU16::new(capacity.min(u16::MAX - 1)).unwrap_or(NonZeroU16::MIN),
            slots: Vec::new(),
            free: Vec::new(),
            head: NONE,
            tail: NONE,
            waiting: VecDeque::new(),
            in_flight: 0,
            used: 0,
        }
    }

    /// Entries held.
    pub(crate) fn len(&self) -> u16 {
        self.used
    }

    pub(crate) fn is_full(&self) -> bool {
        self.used >= self.capacity.get()
    }

    /// PUBLISH and PUBREL flows counted against the send quota.
    pub(crate) fn in_flight(&self) -> u16 {
        self.in_flight
    }

    /// Takes a free slot for `entry`, gives the entry the slot's new identifier, and returns
    /// that identifier; `None` when full. (One function for every kind of entry, not a
    /// builder closure per caller: a firmware links it once.)
    pub(crate) fn insert(&mut self, entry: Entry) -> Option<PacketId> {
        if self.is_full() {
            return None;
        }
        let index = match self.free.pop() {
            Some(index) => index,
            None => {
                let index = u16::try_from(self.slots.len()).ok()?;
                self.slots.push(Slot {
                    id: 0,
                    round: 0,
                    prev: NONE,
                    next: NONE,
                    entry: Entry::Free,
                });
                index
            }
        };
        let id = self.next_id(index)?;
        let slot = self.slots.get_mut(usize::from(index))?;
        slot.id = id.get();
        slot.entry = entry;
        slot.entry.set_packet_id(id);
        self.used = self.used.saturating_add(1);
        if matches!(slot.entry, Entry::Publish(_, Phase::Waiting)) {
            self.waiting.push_back(index);
        }
        Some(id)
    }

    /// The identifier slot `index` hands out next, advancing its round.
    fn next_id(&mut self, index: u16) -> Option<PacketId> {
        let capacity = self.capacity;
        let slot = self.slots.get_mut(usize::from(index))?;
        // Rounds r with index + 1 + r × capacity <= 65,535; `capacity` is at least 1 and
        // `index` below it, so none of this overflows or divides by zero.
        let rounds = (u16::MAX.wrapping_sub(index).wrapping_sub(1) / capacity).wrapping_add(1);
        let rounds = NonZeroU16::new(rounds).unwrap_or(NonZeroU16::MIN);
        let round = slot.round % rounds;
        slot.round = round.wrapping_add(1) % rounds;
        PacketId::new(
            index
                .wrapping_add(1)
                .wrapping_add(round.wrapping_mul(capacity.get())),
        )
    }

    /// The slot holding `id`, if any.
    fn index_of(&self, id: PacketId) -> Option<u16> {
        let index = slot_of(id, self.capacity);
        let slot = self.slots.get(usize::from(index))?;
        (slot.id == id.get()).then_some(index)
    }

    pub(crate) fn get(&self, id: PacketId) -> Option<&Entry> {
        let index = self.index_of(id)?;
        self.slots.get(usize::from(index)).map(|slot| &slot.entry)
    }

    /// Frees the slot of `id`, returning what it held.
    pub(crate) fn remove(&mut self, id: PacketId) -> Option<Entry> {
        let index = self.index_of(id)?;
        self.unlink(index);
        if self.is_counted(index) {
            self.in_flight = self.in_flight.saturating_sub(1);
        }
        let slot = self.slots.get_mut(usize::from(index))?;
        let entry = core::mem::replace(&mut slot.entry, Entry::Free);
        slot.id = 0;
        if matches!(entry, Entry::Publish(_, Phase::Waiting)) {
            self.waiting.retain(|&waiting| waiting != index);
        }
        self.free.push(index);
        self.used = self.used.saturating_sub(1);
        Some(entry)
    }

    fn is_counted(&self, index: u16) -> bool {
        self.slots.get(usize::from(index)).is_some_and(|slot| {
            matches!(slot.entry, Entry::Publish(_, Phase::Sent) | Entry::Released)
        })
    }

    /// Marks a waiting or re-sent PUBLISH as sent and appends it to the sending order.
    /// Returns the message, whose DUP flag says whether this is a re-delivery.
    pub(crate) fn mark_sent(&mut self, id: PacketId) -> Option<&Publish<Bytes>> {
        let index = self.index_of(id)?;
        let slot = self.slots.get_mut(usize::from(index))?;
        let was_waiting = match &mut slot.entry {
            Entry::Publish(_, phase @ Phase::Waiting) => {
                *phase = Phase::Sent;
                true
            }
            _ => false,
        };
        if was_waiting {
            self.in_flight = self.in_flight.saturating_add(1);
            self.link_last(index);
        }
        match &self.slots.get(usize::from(index))?.entry {
            Entry::Publish(publish, Phase::Sent) => Some(publish),
            _ => None,
        }
    }

    /// The oldest waiting PUBLISH, removed from the waiting queue.
    pub(crate) fn pop_waiting(&mut self) -> Option<PacketId> {
        let index = self.waiting.pop_front()?;
        let slot = self.slots.get(usize::from(index))?;
        PacketId::new(slot.id)
    }

    pub(crate) fn has_waiting(&self) -> bool {
        !self.waiting.is_empty()
    }

    pub(crate) fn waiting_len(&self) -> usize {
        self.waiting.len()
    }

    /// Turns a sent QoS 2 PUBLISH into a PUBREL awaiting PUBCOMP, moved to the end of the
    /// sending order. Returns whether it was a sent QoS 2 PUBLISH.
    pub(crate) fn release(&mut self, id: PacketId) -> bool {
        let Some(index) = self.index_of(id) else {
            return false;
        };
        let Some(slot) = self.slots.get_mut(usize::from(index)) else {
            return false;
        };
        if !matches!(&slot.entry, Entry::Publish(publish, Phase::Sent) if publish.qos() == crate::types::QoS::ExactlyOnce)
        {
            return false;
        }
        slot.entry = Entry::Released;
        self.unlink(index);
        self.link_last(index);
        true
    }

    /// The sent flows in sending order, for a resumed session: `(id, true)` for a PUBREL,
    /// `(id, false)` for a PUBLISH, whose DUP flag is set from now on (3.1.1
    /// `[MQTT-3.3.1-1]`).
    pub(crate) fn resend_order(&mut self, out: &mut Vec<(PacketId, bool)>) {
        out.clear();
        let mut index = self.head;
        while let Some(slot) = self.slots.get_mut(usize::from(index)) {
            if let Some(id) = PacketId::new(slot.id) {
                match &mut slot.entry {
                    Entry::Publish(publish, Phase::Sent) => {
                        publish.delivery = publish.delivery.with_dup(true);
                        out.push((id, false));
                    }
                    Entry::Released => out.push((id, true)),
                    _ => {}
                }
            }
            index = slot.next;
        }
    }

    /// Sends sent PUBLISH packets back to the waiting queue, ahead of the never-sent ones and
    /// in the order given, when a resumed session's send quota is smaller than before.
    pub(crate) fn defer(&mut self, ids: &[PacketId]) {
        for &id in ids.iter().rev() {
            let Some(index) = self.index_of(id) else {
                continue;
            };
            self.unlink(index);
            let Some(slot) = self.slots.get_mut(usize::from(index)) else {
                continue;
            };
            if let Entry::Publish(_, phase @ Phase::Sent) = &mut slot.entry {
                *phase = Phase::Waiting;
                self.in_flight = self.in_flight.saturating_sub(1);
                self.waiting.push_front(index);
            }
        }
    }

    /// Discards every entry the server held state for (Session Present 0, or a session that
    /// ended): returns the identifiers of the sent PUBLISH / PUBREL flows, which can no longer
    /// complete. Waiting messages that were never sent are kept, to go out as new ones, and
    /// so are SUBSCRIBE / UNSUBSCRIBE packets without an answer, to go to the new session.
    pub(crate) fn discard_session(&mut self, lost: &mut Vec<PacketId>) {
        lost.clear();
        for slot in &self.slots {
            let Some(id) = PacketId::new(slot.id) else {
                continue;
            };
            match &slot.entry {
                Entry::Publish(_, Phase::Sent) | Entry::Released => lost.push(id),
                Entry::Publish(publish, Phase::Waiting) if publish.is_dup() => lost.push(id),
                Entry::Publish(_, Phase::Waiting)
                | Entry::Subscribe(_)
                | Entry::Unsubscribe(_)
                | Entry::Free => {}
            }
        }
        for &id in lost.iter() {
            self.remove(id);
        }
    }

    /// Every entry, for exporting a session: sent flows in sending order, then waiting
    /// messages in queue order.
    pub(crate) fn entries(&self) -> impl Iterator<Item = (PacketId, &Entry)> {
        let mut index = self.head;
        let sent = core::iter::from_fn(move || {
            let slot = self.slots.get(usize::from(index))?;
            index = slot.next;
            Some((PacketId::new(slot.id)?, &slot.entry))
        });
        let waiting = self.waiting.iter().filter_map(|&index| {
            let slot = self.slots.get(usize::from(index))?;
            Some((PacketId::new(slot.id)?, &slot.entry))
        });
        let requests = self.slots.iter().filter_map(|slot| {
            matches!(slot.entry, Entry::Subscribe(_) | Entry::Unsubscribe(_))
                .then(|| Some((PacketId::new(slot.id)?, &slot.entry)))
                .flatten()
        });
        sent.chain(waiting).chain(requests)
    }

    /// Puts back an entry with a known identifier (a restored session), appended to the
    /// sending order if it was sent. Fails if the identifier's slot is taken.
    pub(crate) fn restore(&mut self, id: PacketId, entry: Entry) -> Result<(), &'static str> {
        if self.is_full() {
            return Err("more entries than max_outgoing");
        }
        let index = slot_of(id, self.capacity);
        while self.slots.len() <= usize::from(index) {
            let new = u16::try_from(self.slots.len()).map_err(|_| "identifier out of range")?;
            self.slots.push(Slot {
                id: 0,
                round: 0,
                prev: NONE,
                next: NONE,
                entry: Entry::Free,
            });
            self.free.push(new);
        }
        let capacity = self.capacity;
        let slot = self
            .slots
            .get_mut(usize::from(index))
            .ok_or("identifier out of range")?;
        if slot.id != 0 {
            return Err("two entries share a slot");
        }
        slot.id = id.get();
        slot.round = (id.get().wrapping_sub(1) / capacity).wrapping_add(1);
        let sent = matches!(entry, Entry::Publish(_, Phase::Sent) | Entry::Released);
        let waiting = matches!(entry, Entry::Publish(_, Phase::Waiting));
        slot.entry = entry;
        self.free.retain(|&free| free != index);
        self.used = self.used.saturating_add(1);
        if sent {
            self.in_flight = self.in_flight.saturating_add(1);
            self.link_last(index);
        } else if waiting {
            self.waiting.push_back(index);
        }
        Ok(())
    }

    fn link_last(&mut self, index: u16) {
        let tail = self.tail;
        if let Some(slot) = self.slots.get_mut(usize::from(index)) {
            slot.prev = tail;
            slot.next = NONE;
        }
        match self.slots.get_mut(usize::from(tail)) {
            Some(last) => last.next = index,
            None => self.head = index,
        }
        self.tail = index;
    }

    fn unlink(&mut self, index: u16) {
        let Some(slot) = self.slots.get(usize::from(index)) else {
            return;
        };
        let (prev, next) = (slot.prev, slot.next);
        let linked = prev != NONE || next != NONE || self.head == index;
        if !linked {
            return;
        }
        match self.slots.get_mut(usize::from(prev)) {
            Some(before) => before.next = next,
            None => self.head = next,
        }
        match self.slots.get_mut(usize::from(next)) {
            Some(after) => after.prev = prev,
            None => self.tail = prev,
        }
        if let Some(slot) = self.slots.get_mut(usize::from(index)) {
            slot.prev = NONE;
            slot.next = NONE;
        }
    }
}

/// The slot that hands out `id`; `capacity` is never 0.
fn slot_of(id: PacketId, capacity: NonZeroU16) -> u16 {
    id.get().wrapping_sub(1) % capacity
}

#[cfg(test)]
mod tests {
    use super::*;

    fn publish(qos: crate::types::QoS) -> Publish<Bytes> {
        let mut publish = Publish::new(
            crate::topic::TopicName::new("t").unwrap(),
            Bytes::from_static(b"x"),
        );
        publish.delivery = Delivery::new(qos, PacketId::MIN);
        publish
    }

    /// conformance: v311:MQTT-2.3.1-2, v5:MQTT-2.2.1-3
    #[test]
    fn identifiers_are_never_reused_while_in_use() {
        let mut table = Outbound::new(3);
        let mut held = Vec::new();
        for round in 0..100_000u32 {
            if table.is_full() {
                let id = held.remove((round as usize) % held.len());
                table.remove(id).unwrap();
            }
            let id = table
                .insert(Entry::Publish(
                    publish(crate::types::QoS::AtLeastOnce),
                    Phase::Waiting,
                ))
                .unwrap();
            assert!(!held.contains(&id), "{id} handed out twice");
            held.push(id);
        }
    }

    #[test]
    fn a_full_table_refuses_and_a_freed_slot_gives_a_new_identifier() {
        let mut table = Outbound::new(2);
        let a = table.insert(Entry::Released).unwrap();
        let b = table.insert(Entry::Released).unwrap();
        assert_eq!(table.insert(Entry::Released), None);
        table.remove(a).unwrap();
        let c = table.insert(Entry::Released).unwrap();
        assert_ne!(c, a);
        assert_ne!(c, b);
        assert!(table.get(a).is_none());
    }

    #[test]
    fn resend_keeps_publish_order_and_pubrel_order() {
        let mut table = Outbound::new(8);
        let ids: Vec<_> = (0..3)
            .map(|_| {
                table
                    .insert(Entry::Publish(
                        publish(crate::types::QoS::ExactlyOnce),
                        Phase::Waiting,
                    ))
                    .unwrap()
            })
            .collect();
        for _ in 0..3 {
            let id = table.pop_waiting().unwrap();
            table.mark_sent(id).unwrap();
        }
        assert_eq!(table.in_flight(), 3);
        // The second message's PUBREC arrives first.
        assert!(table.release(ids[1]));
        let mut resend = Vec::new();
        table.resend_order(&mut resend);
        assert_eq!(resend, [(ids[0], false), (ids[2], false), (ids[1], true)]);
        assert!(matches!(table.get(ids[0]), Some(Entry::Publish(p, Phase::Sent)) if p.is_dup()));
        table.defer(&[ids[0], ids[2]]);
        assert_eq!(table.in_flight(), 1);
        assert_eq!(table.pop_waiting(), Some(ids[0]));
        assert_eq!(table.pop_waiting(), Some(ids[2]));
    }
}
