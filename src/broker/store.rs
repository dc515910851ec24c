//! Messages the broker holds, each once, however many sessions it is queued or in flight for.
//!
//! A slab of reference-counted entries: queueing a message for a subscriber stores a 4-byte
//! [`MessageId`] and bumps a counter, with no allocation and no copy of the message.

use alloc::vec::Vec;

use bytes::Bytes;

use crate::packet::{Delivery, Outgoing, Publish};
use crate::time::Instant;
use crate::types::ProtocolVersion;

/// A message in the [`Store`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct MessageId(u32);

/// One stored message.
#[derive(Debug)]
pub(crate) struct Stored {
    /// The message as received, its topic resolved from any alias, with no alias, Packet
    /// Identifier or Subscription Identifier of its own.
    pub(crate) publish: Publish<Bytes>,
    /// When it arrived, to count down its Message Expiry Interval.
    pub(crate) received_at: Instant,
    refs: u32,
    /// Whether `publish` holds its own copy rather than slices of a receive buffer.
    detached: bool,
    /// The head of its plain QoS 0 deliveries, for 3.x and for 5.0 subscribers.
    heads: [Option<CachedHead>; 2],
    /// The PUBLISH as received, when that is byte for byte what a plain QoS 0 delivery
    /// (RETAIN 0, no Subscription Identifier) to a 3.x subscriber writes: a 3.x QoS 0
    /// PUBLISH without RETAIN. It shares the receive buffer the topic and payload are
    /// sliced from.
    wire: Option<Bytes>,
}

/// The longest head [`Stored::plain_head`] keeps.
const CACHED_HEAD: usize = 30;

/// The encoded head (fixed header, topic, 5.0 properties) of a QoS 0 delivery that carries
/// nothing of its subscriber's (no Subscription Identifier, no Message Expiry to count down):
/// the same bytes for every subscriber of one protocol family, so a fan-out writes it once and
/// copies it to each.
#[derive(Clone, Copy, Debug)]
struct CachedHead {
    retain: bool,
    len: u8,
    bytes: [u8; CACHED_HEAD],
}

impl Stored {
    /// When the message expires, if it has a Message Expiry Interval.
    pub(crate) fn expires_at(&self) -> Option<Instant> {
        let interval = self.publish.properties.message_expiry_interval?;
        Some(
            self.received_at
                .saturating_add(core::time::Duration::from_secs(u64::from(interval))),
        )
    }

    /// The Message Expiry Interval left at `now` (`[MQTT-3.3.2-6]`), `Some(0)` once expired.
    pub(crate) fn remaining_expiry(&self, now: Instant) -> Option<u32> {
        let interval = self.publish.properties.message_expiry_interval?;
        let waited = now.saturating_duration_since(self.received_at).as_secs();
        Some(interval.saturating_sub(u32::try_from(waited).unwrap_or(u32::MAX)))
    }

    /// The head of a plain QoS 0 delivery of this message (see [`CachedHead`]) to a
    /// `version` subscriber with RETAIN `retain`, written on first use; `None` when the
    /// message has a Message Expiry (counted down per delivery) or a head too long to keep.
    ///
    /// Returns the head and the payload. Only worth it for a message with other deliveries
    /// still to write: `None` for its last holder.
    #[inline]
    pub(crate) fn plain_head(
        &mut self,
        version: ProtocolVersion,
        retain: bool,
    ) -> Option<(&[u8], &[u8])> {
        if self.refs <= 1 || self.publish.properties.message_expiry_interval.is_some() {
            return None;
        }
        let slot = self.heads.get_mut(usize::from(version.is_v5()))?;
        if slot.is_none_or(|head| head.retain != retain) {
            let outgoing = Outgoing {
                retain,
                ..Outgoing::new(Delivery::AtMostOnce)
            };
            let mut bytes = [0u8; CACHED_HEAD];
            let len = self
                .publish
                .encode_head_for(version, &outgoing, &mut &mut bytes[..])
                .ok()?;
            *slot = Some(CachedHead {
                retain,
                len: u8::try_from(len).ok()?,
                bytes,
            });
        }
        let head = slot.as_ref()?;
        let head = head.bytes.get(..usize::from(head.len))?;
        Some((head, self.publish.payload.as_ref()))
    }

    /// The bytes of a plain QoS 0 delivery to a 3.x subscriber with RETAIN 0, if the message
    /// was received as just that (see the field).
    #[inline]
    pub(crate) fn plain_wire(&self) -> Option<&[u8]> {
        self.wire.as_deref()
    }

    /// One more holder, for a caller that has the message at hand (see [`Store::retain`]).
    #[inline]
    pub(crate) fn hold(&mut self) {
        self.refs = self.refs.saturating_add(1);
    }

    /// Whether the message has expired at `now`.
    pub(crate) fn is_expired(&self, now: Instant) -> bool {
        self.expires_at().is_some_and(|at| now >= at)
    }
}

/// A retained message as the retained store keeps it: the message and when it arrived (to count
/// down its Message Expiry Interval). Each subscriber it is sent to gets it through the slab.
#[derive(Clone, Debug)]
pub(crate) struct RetainedMessage {
    pub(crate) publish: Publish<Bytes>,
    pub(crate) received_at: Instant,
}

impl super::retained::RetainedSize for RetainedMessage {
    fn retained_size(&self) -> usize {
        self.publish.payload.len()
    }
}

/// The message slab; see the module docs.
#[derive(Debug, Default)]
pub(crate) struct Store {
    slots: Vec<Option<Stored>>,
    free: Vec<u32>,
    len: usize,
    bytes: usize,
}

impl Store {
    /// Stores a message with no reference yet; the caller takes the first with
    /// [`retain`](Self::retain) (a message no one refers to is dropped by
    /// [`release_if_unused`](Self::release_if_unused)).
    pub(crate) fn insert(&mut self, publish: Publish<Bytes>, received_at: Instant) -> MessageId {
        self.bytes = self.bytes.saturating_add(publish.payload.len());
        self.insert_with(received_at, || publish)
    }

    /// Stores an empty message, for a PUBLISH to be decoded straight into its slot (not
    /// copied on its way there), then counted by [`filled`](Self::filled).
    #[inline]
    pub(crate) fn insert_blank(&mut self, received_at: Instant) -> MessageId {
        self.insert_with(received_at, || Publish {
            delivery: Delivery::AtMostOnce,
            retain: false,
            topic: None,
            properties: crate::property::PublishProperties::new(),
            payload: Bytes::new(),
        })
    }

    /// Stores the message `publish` makes in a free slot, where it is written in place: built
    /// on the way, it would be copied once more.
    #[inline(always)]
    fn insert_with(
        &mut self,
        received_at: Instant,
        publish: impl FnOnce() -> Publish<Bytes>,
    ) -> MessageId {
        self.len = self.len.saturating_add(1);
        let index = match self.free.pop() {
            Some(index) if (index as usize) < self.slots.len() => index as usize,
            _ => {
                self.slots.push(None);
                self.slots.len().saturating_sub(1)
            }
        };
        if let Some(slot) = self.slots.get_mut(index) {
            // Free slots are empty; emptied first all the same, the new message is written
            // into an empty slot, which needs no drop.
            if slot.is_some() {
                *slot = None;
            }
            slot.get_or_insert_with(|| Stored {
                publish: publish(),
                received_at,
                refs: 0,
                detached: false,
                heads: [None; 2],
                wire: None,
            });
        }
        MessageId(u32::try_from(index).unwrap_or(u32::MAX))
    }

    /// Counts the payload of the message decoded into the slot of `id` since
    /// [`insert_blank`](Self::insert_blank), and keeps the bytes it was read from if they are
    /// what a plain QoS 0 delivery to a 3.x subscriber writes (see [`Stored::plain_wire`]).
    #[inline]
    pub(crate) fn filled(&mut self, id: MessageId, wire: Option<Bytes>) {
        if let Some(Some(stored)) = self.slots.get_mut(id.0 as usize) {
            self.bytes = self.bytes.saturating_add(stored.publish.payload.len());
            stored.wire = wire;
        }
    }

    pub(crate) fn get(&self, id: MessageId) -> Option<&Stored> {
        self.slots.get(id.0 as usize)?.as_ref()
    }

    pub(crate) fn get_mut(&mut self, id: MessageId) -> Option<&mut Stored> {
        self.slots.get_mut(id.0 as usize)?.as_mut()
    }

    /// Gives message `id` a copy of its own, so that holding it no longer holds the buffer
    /// it was read in (done once, for a message kept for an absent client).
    pub(crate) fn detach(&mut self, id: MessageId) {
        if let Some(Some(stored)) = self.slots.get_mut(id.0 as usize)
            && !stored.detached
        {
            stored.publish = stored.publish.detach();
            stored.wire = None;
            stored.detached = true;
        }
    }

    /// One more holder of `id`.
    pub(crate) fn retain(&mut self, id: MessageId) {
        if let Some(Some(stored)) = self.slots.get_mut(id.0 as usize) {
            stored.refs = stored.refs.saturating_add(1);
        }
    }

    /// One holder fewer; the message is dropped with its last holder.
    pub(crate) fn release(&mut self, id: MessageId) {
        self.release_by(id, 1);
    }

    /// Drops `id` if nothing refers to it (a message that matched no one).
    #[inline]
    pub(crate) fn release_if_unused(&mut self, id: MessageId) {
        self.release_by(id, 0);
    }

    /// `holders` holders fewer (one lookup), then drops `id` if none is left.
    #[inline]
    fn release_by(&mut self, id: MessageId, holders: u32) {
        let Some(slot) = self.slots.get_mut(id.0 as usize) else {
            return;
        };
        if let Some(stored) = slot.as_mut() {
            stored.refs = stored.refs.saturating_sub(holders);
        }
        if let Some(stored) = slot.as_ref()
            && stored.refs == 0
        {
            self.len = self.len.saturating_sub(1);
            self.bytes = self.bytes.saturating_sub(stored.publish.payload.len());
            // Dropped where it lies: taking it out first would copy it.
            *slot = None;
            self.free.push(id.0);
        }
    }

    /// Messages held.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Payload bytes held.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }
}
