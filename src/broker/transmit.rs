//! Writing what one connection is owed into the driver's buffer.

use alloc::boxed::Box;

use bytes::BufMut;

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

impl<P: Policy> Broker<P> {
    /// Writes the packets queued for one connection into `buf`, as many as fit (a packet
    /// larger than `buf` goes in pieces over several calls), and says which connection they
    /// are for; `None` when no connection has anything to send. Connections take turns.
    pub fn poll_transmit(&mut self, buf: &mut [u8]) -> Option<Transmit> {
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
            let (len, packets) = write_connection(conn, &mut self.store, now, buf);
            if conn.has_output() {
                conn.ready = true;
                self.ready.push_back(handle);
            }
            if len == 0 {
                continue;
            }
            self.stats.bytes_out = self.stats.bytes_out.saturating_add(len as u64);
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
        let backlog = backlog_size(&out, store);
        conn.backlog_bytes = conn.backlog_bytes.saturating_sub(backlog);
        let alias = match &out {
            Out::Publish { delivery, .. } if conn.alias_maximum != 0 => store
                .get(delivery.message)
                .and_then(|stored| stored.publish.topic.as_ref())
                .map_or(TopicAliasUse::None, |topic| {
                    conn.outbound_alias(topic.as_str())
                }),
            _ => TopicAliasUse::None,
        };
        // A plain QoS 0 delivery: the message's cached head, then its payload.
        if let Out::Publish {
            delivery, id: None, ..
        } = &out
            && alias == TopicAliasUse::None
            && delivery.sub_ids.as_slice().is_empty()
            && let Some(stored) = store.get_mut(delivery.message)
            && let Some((head, payload)) = stored.plain_head(version, delivery.retain)
        {
            let total = head.len().saturating_add(payload.len());
            let room = buf.get_mut(written..).unwrap_or_default();
            if let Some(to) = room.get_mut(..total) {
                let (to_head, to_payload) = to.split_at_mut(head.len());
                to_head.copy_from_slice(head);
                to_payload.copy_from_slice(payload);
                written = written.saturating_add(total);
                packets = packets.saturating_add(1);
                release(&out, store);
                continue;
            }
        }
        // The common case, a delivery that fits, is measured and written in one pass.
        if let Out::Publish { delivery, id, dup } = &out
            && let Some(stored) = store.get(delivery.message)
        {
            let outgoing = outgoing(delivery, *id, *dup, stored.remaining_expiry(now), alias);
            let mut slice = buf.get_mut(written..).unwrap_or_default();
            if let Ok(len) = stored.publish.encode_for(version, &outgoing, &mut slice) {
                written = written.saturating_add(len);
                packets = packets.saturating_add(1);
                commit_alias(conn, store, &out, alias);
                release(&out, store);
                continue;
            }
        }
        let Some(len) = encoded_len(&out, store, version, now, alias) else {
            release(&out, store);
            continue;
        };
        let room = buf.len().saturating_sub(written);
        if len <= room {
            let mut slice = buf.get_mut(written..).unwrap_or_default();
            if encode(&out, store, version, now, alias, &mut slice).is_ok() {
                written = written.saturating_add(len);
                packets = packets.saturating_add(1);
                commit_alias(conn, store, &out, alias);
            }
            release(&out, store);
        } else if written == 0 {
            // Larger than the whole buffer: encoded aside, handed out in pieces.
            let mut spill = Box::new(Spill::default());
            spill.bytes.reserve_exact(len);
            let encoded = encode(&out, store, version, now, alias, &mut spill.bytes).is_ok();
            if encoded {
                commit_alias(conn, store, &out, alias);
            }
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
            conn.backlog_bytes = conn.backlog_bytes.saturating_add(backlog);
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

/// The payload bytes a queued packet counts in its connection's QoS 0 backlog.
fn backlog_size(out: &Out, store: &Store) -> u32 {
    match out {
        Out::Publish {
            delivery, id: None, ..
        } => store.get(delivery.message).map_or(0, |stored| {
            u32::try_from(stored.publish.payload.len()).unwrap_or(u32::MAX)
        }),
        _ => 0,
    }
}

/// Records the Topic Alias a written PUBLISH set up.
fn commit_alias(conn: &mut Connection, store: &Store, out: &Out, alias: TopicAliasUse) {
    if let (TopicAliasUse::Set(_), Out::Publish { delivery, .. }) = (alias, out)
        && let Some(topic) = store
            .get(delivery.message)
            .and_then(|stored| stored.publish.topic.as_ref())
    {
        conn.commit_alias(topic.as_str(), alias);
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

fn encoded_len(
    out: &Out,
    store: &Store,
    version: ProtocolVersion,
    now: Instant,
    alias: TopicAliasUse,
) -> Option<usize> {
    let len = match out {
        Out::Publish { delivery, id, dup } => {
            let stored = store.get(delivery.message)?;
            let outgoing = outgoing(delivery, *id, *dup, stored.remaining_expiry(now), alias);
            stored.publish.encoded_len_for(version, &outgoing)
        }
        Out::Ack(ack) => Ok(ack_len(*ack, version)),
        Out::ConnAck(connack) => connack.encoded_len(version),
        Out::SubAck(suback) => suback.encoded_len(version),
        Out::UnsubAck(unsuback) => unsuback.encoded_len(version),
        Out::PingResp => PingResp.encoded_len(version),
        Out::Disconnect(code) => Disconnect::<bytes::Bytes>::new(*code).encoded_len(version),
        Out::Auth(auth) => auth.encoded_len(version),
    };
    len.ok()
}

fn encode(
    out: &Out,
    store: &Store,
    version: ProtocolVersion,
    now: Instant,
    alias: TopicAliasUse,
    buf: &mut impl BufMut,
) -> Result<(), EncodeError> {
    match out {
        Out::Publish { delivery, id, dup } => {
            if let Some(stored) = store.get(delivery.message) {
                let outgoing = outgoing(delivery, *id, *dup, stored.remaining_expiry(now), alias);
                stored.publish.encode_for(version, &outgoing, buf)?;
            }
        }
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
            Disconnect::<bytes::Bytes>::new(*code).encode(version, buf)?;
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
            let mut packet = PubAck::<bytes::Bytes>::new(id);
            if v5 {
                packet.reason_code =
                    PubAckReasonCode::from_u8(code).unwrap_or(PubAckReasonCode::UnspecifiedError);
            }
            packet.encode(version, buf)?;
        }
        Ack::PubRec(id, code) => {
            let mut packet = PubRec::<bytes::Bytes>::new(id);
            if v5 {
                packet.reason_code =
                    PubAckReasonCode::from_u8(code).unwrap_or(PubAckReasonCode::UnspecifiedError);
            }
            packet.encode(version, buf)?;
        }
        Ack::PubRel(id, code) => {
            let mut packet = PubRel::<bytes::Bytes>::new(id);
            if v5 {
                packet.reason_code = PubRelReasonCode::from_u8(code)
                    .unwrap_or(PubRelReasonCode::PacketIdentifierNotFound);
            }
            packet.encode(version, buf)?;
        }
        Ack::PubComp(id, code) => {
            let mut packet = PubComp::<bytes::Bytes>::new(id);
            if v5 {
                packet.reason_code = PubRelReasonCode::from_u8(code)
                    .unwrap_or(PubRelReasonCode::PacketIdentifierNotFound);
            }
            packet.encode(version, buf)?;
        }
    }
    Ok(())
}
