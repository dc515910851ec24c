//! Messages the broker holds, each once, however many sessions it is queued or in flight for.
//!
//! A slab of reference-counted entries: queueing a message for a subscriber stores a 4-byte
//! [`MessageId`] and bumps a counter, with no allocation and no copy of the message.

use alloc::vec::Vec;

use bytes::Bytes;

use crate::packet::Publish;
use crate::time::Instant;

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
        self.len = self.len.saturating_add(1);
        self.bytes = self.bytes.saturating_add(publish.payload.len());
        let stored = Stored {
            publish,
            received_at,
            refs: 0,
            detached: false,
        };
        match self.free.pop() {
            Some(index) => {
                if let Some(slot) = self.slots.get_mut(index as usize) {
                    *slot = Some(stored);
                }
                MessageId(index)
            }
            None => {
                let index = u32::try_from(self.slots.len()).unwrap_or(u32::MAX);
                self.slots.push(Some(stored));
                MessageId(index)
            }
        }
    }

    pub(crate) fn get(&self, id: MessageId) -> Option<&Stored> {
        self.slots.get(id.0 as usize)?.as_ref()
    }

    /// Gives message `id` a copy of its own, so that holding it no longer holds the buffer
    /// it was read in (done once, for a message kept for an absent client).
    pub(crate) fn detach(&mut self, id: MessageId) {
        if let Some(Some(stored)) = self.slots.get_mut(id.0 as usize)
            && !stored.detached
        {
            stored.publish = stored.publish.detach();
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
        if let Some(Some(stored)) = self.slots.get_mut(id.0 as usize) {
            stored.refs = stored.refs.saturating_sub(1);
        }
        self.release_if_unused(id);
    }

    /// Drops `id` if nothing refers to it (a message that matched no one).
    pub(crate) fn release_if_unused(&mut self, id: MessageId) {
        let Some(slot) = self.slots.get_mut(id.0 as usize) else {
            return;
        };
        if slot.as_ref().is_some_and(|stored| stored.refs == 0) {
            if let Some(stored) = slot.take() {
                self.len = self.len.saturating_sub(1);
                self.bytes = self.bytes.saturating_sub(stored.publish.payload.len());
            }
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
