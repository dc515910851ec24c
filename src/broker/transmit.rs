//! Writing what one connection is owed into the driver's buffer.

use alloc::boxed::Box;
use alloc::vec::Vec;

use bytes::{BufMut, Bytes};

use super::connection::{Ack, Connection, Out, Spill};
use super::event::ConnectionHandle;
use super::store::Store;
use super::{Broker, Policy};
use crate::error::EncodeError;
use crate::packet::{
    Delivery, Disconnect, Outgoing, PingResp, PubAck, PubComp, PubRec, PubRel, TopicAliasUse,
};
use crate::reason::{PubAckReasonCode, PubRelReasonCode};
use crate::time::Instant;
use crate::types::ProtocolVersion;

/// What the driver's buffer received from one [`Broker::poll_transmit`] call: bytes for one
/// connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[must_use = "the bytes written must be sent"]
#[non_exhaustive]
pub struct Transmit {
    /// The connection to write them to.
    pub connection: ConnectionHandle,
    /// Bytes written at the start of the buffer.
    pub len: usize,
    /// Packets whose last byte is among them.
    pub packets: usize,
}

/// A payload [`Broker::poll_transmit_vectored`] hands out by reference instead of copying it
/// into the buffer: on the wire it comes right after the first `at` bytes of the buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SharedPayload {
    /// Where in the buffer the payload goes: after `buf[..at]`, before `buf[at..]`.
    pub at: usize,
    /// The payload, shared with the stored message (and with every other subscriber's
    /// delivery of it).
    pub bytes: Bytes,
}

/// The smallest payload [`Broker::poll_transmit_vectored`] hands out by reference; a smaller
/// one costs less to copy than an entry of a vectored write.
pub const SHARED_PAYLOAD_MIN: usize = 1024;

/// The most payloads one [`Broker::poll_transmit_vectored`] call hands out by reference, so
/// that its write needs at most `2 * SHARED_PAYLOADS_MAX + 1` slices (Linux takes 1,024 in one
/// `writev`).
pub const SHARED_PAYLOADS_MAX: usize = 256;

impl<P: Policy> Broker<P> {
    /// Writes the packets queued for one connection into `buf`, as many as fit (a packet
    /// larger than `buf` goes in pieces over several calls), and says which connection they
    /// are for; `None` when no connection has anything to send. Connections take turns.
    pub fn poll_transmit(&mut self, buf: &mut [u8]) -> Option<Transmit> {
        self.poll_transmit_with(buf, None)
    }

    /// [`poll_transmit`](Self::poll_transmit) for a vectored write: each PUBLISH payload of
    /// at least [`SHARED_PAYLOAD_MIN`] bytes is not copied into `buf` but handed out in
    /// `payloads` (cleared first) as a [`SharedPayload`], which shares the stored message's
    /// bytes (up to [`SHARED_PAYLOADS_MAX`] a call). The bytes to send are `buf[..at]` of
    /// the first payload, its `bytes`, the buffer up to the next payload's `at`, and so on,
    /// then the buffer up to [`Transmit::len`]: a message fanned out to many subscribers is
    /// never copied once per subscriber, and one larger than `buf` needs no copy at all.
    ///
    /// ```
    /// use mqtt_sansio::broker::SharedPayload;
    /// use mqtt_sansio::{Broker, BrokerConfig, Instant};
    ///
    /// let mut broker = Broker::new(BrokerConfig::default());
    /// let now = Instant::ZERO;
    /// let sub = broker.accept(now)?;
    /// // 3.1.1 CONNECT of "s", then SUBSCRIBE to "t" at QoS 0.
    /// broker.handle_data(now, sub, b"\x10\x0d\x00\x04MQTT\x04\x02\x00\x3c\x00\x01s");
    /// broker.handle_data(now, sub, b"\x82\x06\x00\x01\x00\x01t\x00");
    /// let mut buf = [0u8; 64];
    /// while broker.poll_transmit(&mut buf).is_some() {} // CONNACK, SUBACK
    ///
    /// let message = vec![b'x'; 4096];
    /// let mut publish = vec![0x30, 0x83, 0x20, 0x00, 0x01, b't']; // PUBLISH "t", 4,099 bytes
    /// publish.extend_from_slice(&message);
    /// let publisher = broker.accept(now)?;
    /// broker.handle_data(now, publisher, b"\x10\x0d\x00\x04MQTT\x04\x02\x00\x3c\x00\x01p");
    /// while broker.poll_transmit(&mut buf).is_some() {} // CONNACK
    /// broker.handle_data(now, publisher, &publish);
    ///
    /// let mut payloads = Vec::new();
    /// let transmit = broker.poll_transmit_vectored(&mut buf, &mut payloads).unwrap();
    /// assert_eq!(transmit.connection, sub);
    /// // The head in the buffer, the payload by reference right after it.
    /// assert_eq!(&buf[..transmit.len], b"\x30\x83\x20\x00\x01t");
    /// assert_eq!(payloads, [SharedPayload { at: 6, bytes: message.into() }]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn poll_transmit_vectored(
        &mut self,
        buf: &mut [u8],
        payloads: &mut Vec<SharedPayload>,
    ) -> Option<Transmit> {
        payloads.clear();
        self.poll_transmit_with(buf, Some(payloads))
    }

    fn poll_transmit_with(
        &mut self,
        buf: &mut [u8],
        mut payloads: Option<&mut Vec<SharedPayload>>,
    ) -> Option<Transmit> {
        let now = self.now;
        while let Some(handle) = self.ready.pop_front() {
            let Some(slot) = self.connections.get_mut(handle.index as usize) else {
                continue;
            };
            if slot.generation != handle.generation {
                continue;
            }
            let Some(conn) = slot.connection.as_deref_mut() else {
                continue;
            };
            conn.ready = false;
            let (len, packets) =
                write_connection(conn, &mut self.store, now, buf, payloads.as_deref_mut());
            if conn.has_output() {
                conn.ready = true;
                self.ready.push_back(handle);
            }
            if len == 0 {
                continue;
            }
            let shared: usize = payloads
                .as_deref()
                .map_or(0, |payloads| payloads.iter().map(|p| p.bytes.len()).sum());
            let total = len.saturating_add(shared);
            self.stats.bytes_out = self.stats.bytes_out.saturating_add(total as u64);
            return Some(Transmit {
                connection: handle,
                len,
                packets,
            });
        }
        None
    }
}

/// Writes what fits of `conn`'s queue into `buf`; returns bytes and packets written.
fn write_connection(
    conn: &mut Connection,
    store: &mut Store,
    now: Instant,
    buf: &mut [u8],
    mut payloads: Option<&mut Vec<SharedPayload>>,
) -> (usize, usize) {
    let mut written = 0;
    let mut packets: usize = 0;
    if conn.spill.is_some() {
        let (n, done) = drain_spill(conn, buf);
        written = n;
        if done {
            packets = 1;
        }
        if !done || written == buf.len() {
            return (written, packets);
        }
    }
    while let Some(out) = conn.out.pop_front() {
        let version = conn.version;
        // A PUBLISH is taken apart, so that only its Subscription Identifiers are left to
        // drop, not a whole `Out`.
        let out = match out {
            Out::Publish { delivery, id, dup } => {
                let shared = payloads.as_deref_mut();
                match write_publish(conn, store, now, &delivery, id, dup, buf, written, shared) {
                    Wrote::Bytes(len) => {
                        written = written.saturating_add(len);
                        packets = packets.saturating_add(1);
                    }
                    Wrote::Spilled(len) => {
                        written = len;
                        if conn.spill.is_none() {
                            packets = packets.saturating_add(1);
                        }
                        store.release(delivery.message);
                        break;
                    }
                    Wrote::Later(backlog) => {
                        conn.backlog_bytes = conn.backlog_bytes.saturating_add(backlog);
                        conn.out.push_front(Out::Publish { delivery, id, dup });
                        break;
                    }
                    Wrote::Nothing => {}
                }
                store.release(delivery.message);
                continue;
            }
            other => other,
        };
        let Some(len) = encoded_len(&out, version) else {
            release(&out, store);
            continue;
        };
        let room = buf.len().saturating_sub(written);
        if len <= room {
            let mut slice = buf.get_mut(written..).unwrap_or_default();
            if encode(&out, version, &mut slice).is_ok() {
                written = written.saturating_add(len);
                packets = packets.saturating_add(1);
            }
            release(&out, store);
        } else if written == 0 {
            // Larger than the whole buffer: encoded aside, handed out in pieces.
            let mut spill = Box::new(Spill::default());
            spill.bytes.reserve_exact(len);
            let encoded = encode(&out, version, &mut spill.bytes).is_ok();
            release(&out, store);
            if encoded {
                conn.spill = Some(spill);
                let (n, done) = drain_spill(conn, buf);
                written = n;
                if done {
                    packets = packets.saturating_add(1);
                }
            }
            break;
        } else {
            conn.out.push_front(out);
            break;
        }
    }
    (written, packets)
}

/// Copies what fits of the spilled packet; returns the bytes copied and whether it is done
/// (and its buffer freed).
fn drain_spill(conn: &mut Connection, buf: &mut [u8]) -> (usize, bool) {
    let Some(spill) = conn.spill.as_mut() else {
        return (0, true);
    };
    let rest = spill.bytes.get(spill.offset..).unwrap_or_default();
    let n = rest.len().min(buf.len());
    if let (Some(from), Some(to)) = (rest.get(..n), buf.get_mut(..n)) {
        to.copy_from_slice(from);
    }
    spill.offset = spill.offset.saturating_add(n);
    let done = spill.offset >= spill.bytes.len();
    if done {
        conn.spill = None;
    }
    (n, done)
}

/// A queued PUBLISH holds its own reference to the message until it is written (for QoS 1
/// and 2 beside the session's in-flight entry, which an early acknowledgement or a takeover
/// may drop before the PUBLISH is written).
fn release(out: &Out, store: &mut Store) {
    if let Out::Publish { delivery, .. } = out {
        store.release(delivery.message);
    }
}

/// What became of a PUBLISH [`write_publish`] was given.
enum Wrote {
    /// Written into the buffer: this many bytes.
    Bytes(usize),
    /// Larger than the whole buffer: encoded into the connection's spill, of which this many
    /// bytes are in the buffer.
    Spilled(usize),
    /// Does not fit what is left of the buffer: to be written by the next call (it counted
    /// this many bytes in the connection's QoS 0 backlog).
    Later(u32),
    /// Dropped: its message is gone, or it cannot be encoded.
    Nothing,
}

/// Writes one queued PUBLISH at `buf[written..]`: the message's cached head and its payload
/// for a plain QoS 0 delivery, else the delivery encoded for this connection (its Packet
/// Identifier, DUP, RETAIN, Topic Alias, Subscription Identifiers and remaining Message
/// Expiry), measured and written in one pass. The caller releases the message's reference
/// unless it is [`Wrote::Later`].
#[allow(clippy::too_many_arguments)] // the parts of one queued PUBLISH, unpacked
fn write_publish(
    conn: &mut Connection,
    store: &mut Store,
    now: Instant,
    delivery: &super::session::Delivery,
    id: Option<crate::types::PacketId>,
    dup: bool,
    buf: &mut [u8],
    written: usize,
    payloads: Option<&mut Vec<SharedPayload>>,
) -> Wrote {
    let version = conn.version;
    let Some(stored) = store.get_mut(delivery.message) else {
        return Wrote::Nothing;
    };
    let backlog = if id.is_none() {
        u32::try_from(stored.publish.payload.len()).unwrap_or(u32::MAX)
    } else {
        0
    };
    conn.backlog_bytes = conn.backlog_bytes.saturating_sub(backlog);
    let alias = match stored.publish.topic.as_ref() {
        Some(topic) if conn.alias_maximum != 0 => conn.outbound_alias(topic.as_str()),
        _ => TopicAliasUse::None,
    };
    let room = buf.get_mut(written..).unwrap_or_default();
    // A large payload by reference: only its head goes into the buffer.
    if let Some(payloads) = payloads
        && stored.publish.payload.len() >= SHARED_PAYLOAD_MIN
        && payloads.len() < SHARED_PAYLOADS_MAX
    {
        let outgoing = outgoing(delivery, id, dup, stored.remaining_expiry(now), alias);
        let mut slice = &mut *room;
        match stored
            .publish
            .encode_head_for(version, &outgoing, &mut slice)
        {
            Ok(head) => {
                payloads.push(SharedPayload {
                    at: written.saturating_add(head),
                    bytes: stored.publish.payload.clone(),
                });
                if let (TopicAliasUse::Set(_), Some(topic)) = (alias, stored.publish.topic.as_ref())
                {
                    conn.commit_alias(topic.as_str(), alias);
                }
                return Wrote::Bytes(head);
            }
            Err(EncodeError::BufferTooSmall { .. }) if written != 0 => {
                return Wrote::Later(backlog);
            }
            // A buffer too small for even the head: whole, in pieces, below.
            Err(EncodeError::BufferTooSmall { .. }) => {}
            Err(_) => return Wrote::Nothing,
        }
    }
    let plain = id.is_none() && alias == TopicAliasUse::None && delivery.sub_ids.is_empty();
    // Received as what it is to be sent as: copied whole.
    if plain
        && !delivery.retain
        && !version.is_v5()
        && let Some(wire) = stored.plain_wire()
    {
        if let Some(to) = room.get_mut(..wire.len()) {
            to.copy_from_slice(wire);
            return Wrote::Bytes(wire.len());
        }
        if written != 0 {
            return Wrote::Later(backlog);
        }
    }
    if plain && let Some((head, payload)) = stored.plain_head(version, delivery.retain) {
        let total = head.len().saturating_add(payload.len());
        if let Some(to) = room.get_mut(..total) {
            let (to_head, to_payload) = to.split_at_mut(head.len());
            to_head.copy_from_slice(head);
            to_payload.copy_from_slice(payload);
            return Wrote::Bytes(total);
        }
        // Larger than what is left: the next call, or the spill below if it is larger than
        // the whole buffer.
        if written != 0 {
            return Wrote::Later(backlog);
        }
    }
    let outgoing = outgoing(delivery, id, dup, stored.remaining_expiry(now), alias);
    let mut slice = &mut *room;
    let wrote = match stored.publish.encode_for(version, &outgoing, &mut slice) {
        Ok(len) => Wrote::Bytes(len),
        Err(EncodeError::BufferTooSmall { needed, .. }) if written == 0 => {
            // Larger than the whole buffer: encoded aside, handed out in pieces.
            let mut spill = Box::new(Spill::default());
            spill.bytes.reserve_exact(needed);
            if stored
                .publish
                .encode_for(version, &outgoing, &mut spill.bytes)
                .is_err()
            {
                return Wrote::Nothing;
            }
            conn.spill = Some(spill);
            Wrote::Spilled(0)
        }
        Err(EncodeError::BufferTooSmall { .. }) => return Wrote::Later(backlog),
        Err(_) => return Wrote::Nothing,
    };
    if let (TopicAliasUse::Set(_), Some(topic)) = (alias, stored.publish.topic.as_ref()) {
        conn.commit_alias(topic.as_str(), alias);
    }
    match wrote {
        Wrote::Spilled(_) => Wrote::Spilled(drain_spill(conn, buf).0),
        other => other,
    }
}

fn outgoing<'a>(
    delivery: &'a super::session::Delivery,
    id: Option<crate::types::PacketId>,
    dup: bool,
    remaining_expiry: Option<u32>,
    topic_alias: TopicAliasUse,
) -> Outgoing<'a> {
    let wire = match id {
        Some(id) => Delivery::new(delivery.qos, id).with_dup(dup),
        None => Delivery::AtMostOnce,
    };
    Outgoing {
        delivery: wire,
        retain: delivery.retain,
        topic_alias,
        subscription_ids: delivery.sub_ids.as_slice(),
        message_expiry_interval: remaining_expiry,
    }
}

fn encoded_len(out: &Out, version: ProtocolVersion) -> Option<usize> {
    let len = match out {
        // Written by `write_publish`.
        Out::Publish { .. } => return None,
        Out::Ack(ack) => Ok(ack_len(*ack, version)),
        Out::ConnAck(connack) => connack.encoded_len(version),
        Out::SubAck(suback) => suback.encoded_len(version),
        Out::UnsubAck(unsuback) => unsuback.encoded_len(version),
        Out::PingResp => PingResp.encoded_len(version),
        Out::Disconnect(code) => Disconnect::<Bytes>::new(*code).encoded_len(version),
        Out::Auth(auth) => auth.encoded_len(version),
    };
    len.ok()
}

fn encode(out: &Out, version: ProtocolVersion, buf: &mut impl BufMut) -> Result<(), EncodeError> {
    match out {
        // Written by `write_publish`.
        Out::Publish { .. } => {}
        Out::Ack(ack) => encode_ack(*ack, version, buf)?,
        Out::ConnAck(connack) => {
            connack.encode(version, buf)?;
        }
        Out::SubAck(suback) => {
            suback.encode(version, buf)?;
        }
        Out::UnsubAck(unsuback) => {
            unsuback.encode(version, buf)?;
        }
        Out::PingResp => {
            PingResp.encode(version, buf)?;
        }
        Out::Disconnect(code) => {
            Disconnect::<Bytes>::new(*code).encode(version, buf)?;
        }
        Out::Auth(auth) => {
            auth.encode(version, buf)?;
        }
    }
    Ok(())
}

/// An acknowledgement: four bytes, or five with a reason code other than Success in 5.0.
fn ack_len(ack: Ack, version: ProtocolVersion) -> usize {
    let code = match ack {
        Ack::PubAck(_, code)
        | Ack::PubRec(_, code)
        | Ack::PubRel(_, code)
        | Ack::PubComp(_, code) => code,
    };
    if version.is_v5() && code != 0 { 5 } else { 4 }
}

fn encode_ack(
    ack: Ack,
    version: ProtocolVersion,
    buf: &mut impl BufMut,
) -> Result<(), EncodeError> {
    let v5 = version.is_v5();
    match ack {
        Ack::PubAck(id, code) => {
            let mut packet = PubAck::<Bytes>::new(id);
            if v5 {
                packet.reason_code =
                    PubAckReasonCode::from_u8(code).unwrap_or(PubAckReasonCode::UnspecifiedError);
            }
            packet.encode(version, buf)?;
        }
        Ack::PubRec(id, code) => {
            let mut packet = PubRec::<Bytes>::new(id);
            if v5 {
                packet.reason_code =
                    PubAckReasonCode::from_u8(code).unwrap_or(PubAckReasonCode::UnspecifiedError);
            }
            packet.encode(version, buf)?;
        }
        Ack::PubRel(id, code) => {
            let mut packet = PubRel::<Bytes>::new(id);
            if v5 {
                packet.reason_code = PubRelReasonCode::from_u8(code)
                    .unwrap_or(PubRelReasonCode::PacketIdentifierNotFound);
            }
            packet.encode(version, buf)?;
        }
        Ack::PubComp(id, code) => {
            let mut packet = PubComp::<Bytes>::new(id);
            if v5 {
                packet.reason_code = PubRelReasonCode::from_u8(code)
                    .unwrap_or(PubRelReasonCode::PacketIdentifierNotFound);
            }
            packet.encode(version, buf)?;
        }
    }
    Ok(())
}
