//! Exporting and restoring the client's session state, so that an application that restarts
//! (a device that reboots) does not lose an unacknowledged QoS 1 or 2 message.

use alloc::boxed::Box;
use alloc::vec::Vec;

use bytes::{BufMut, Bytes};

use super::outbound::{Entry, Phase};
use super::{Client, State};
use crate::codec::Limits;
use crate::decoder::{DecodeFailure, Decoder};
use crate::error::{DecodeError, EncodeError, PeerError, UsageError};
use crate::packet::{Packet, PubRec, PubRel};
use crate::types::PacketType;
use crate::types::{PacketId, stored};

/// The first bytes of an encoded [`SessionState`]: the format's name, then its version.
const MAGIC: &[u8; 4] = b"MQSS";

/// The size of the header: [`MAGIC`] and the version byte.
const HEADER_LEN: usize = MAGIC.len() + 1;

/// The size of the packet count after the header.
const COUNT_LEN: usize = 4;

/// The state a client keeps for its session between connections (3.1.1 `[MQTT-4.1.0-1]`,
/// 5.0 `[MQTT-4.1.0-1]`): QoS 1 and 2 messages sent or waiting, PUBREL flows, SUBSCRIBE and
/// UNSUBSCRIBE packets without an answer, and the QoS 2 identifiers received and not yet
/// released. It is keyed by the Client Identifier (`[MQTT-3.1.3-2]`), which the application
/// stores beside it.
///
/// Encoded, it is the 5-byte header `MQSS\x01`, the number of packets that follow (4 bytes,
/// big-endian), and MQTT 5.0 packets (a build without the `v5` feature writes `MQSS\x02`
/// and 3.1.1 packets, which a build with it reads too): each PUBLISH as it will be re-sent
/// (DUP set if it was sent), each PUBREL, SUBSCRIBE and UNSUBSCRIBE, and a PUBREC for each
/// identifier received.
/// Decoding checks every packet as strictly as the wire, and the count, so that a state cut
/// short, even between two packets, is refused rather than restored with messages missing.
///
/// ```
/// use bytes::{Bytes, BytesMut};
/// use mqtt_sansio::{Client, ClientConfig, ConnectOptions, Instant, ProtocolVersion};
/// use mqtt_sansio::{Publish, QoS, SessionState, TopicName};
///
/// let config = ClientConfig { queue_while_offline: true, ..ClientConfig::default() };
/// let mut client = Client::new(config.clone());
/// let message = Publish::new(TopicName::new("a")?, Bytes::from_static(b"1"))
///     .with_qos(QoS::AtLeastOnce);
/// let id = client.publish(Instant::ZERO, message)?.unwrap();
///
/// // Before a reboot: save it.
/// let mut saved = BytesMut::new();
/// client.session().encode(&mut saved)?;
///
/// // After it: restore it into a new client; the message goes out on the next connection.
/// let mut restored = Client::new(config);
/// restored.restore_session(SessionState::decode(saved.freeze())?)?;
/// assert_eq!(restored.session().len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionState {
    /// Outgoing entries, in the order they go out again.
    outgoing: Vec<(PacketId, Entry)>,
    /// Incoming QoS 2 identifiers awaiting PUBREL.
    incoming: Vec<PacketId>,
}

impl SessionState {
    /// Entries held: outgoing flows and requests, and incoming QoS 2 identifiers.
    #[must_use]
    pub fn len(&self) -> usize {
        self.outgoing.len().saturating_add(self.incoming.len())
    }

    /// Whether there is nothing to keep.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The exact size [`encode`](Self::encode) writes.
    pub fn encoded_len(&self) -> Result<usize, EncodeError> {
        let mut len = HEADER_LEN.saturating_add(COUNT_LEN);
        self.for_each_packet(|packet| {
            len = len.saturating_add(packet.encoded_len(stored::LAYOUT)?);
            Ok(())
        })?;
        Ok(len)
    }

    /// Writes the state; see the type's docs for the format.
    pub fn encode(&self, buf: &mut impl BufMut) -> Result<(), EncodeError> {
        let needed = self.encoded_len()?;
        if buf.remaining_mut() < needed {
            return Err(EncodeError::BufferTooSmall {
                needed,
                available: buf.remaining_mut(),
            });
        }
        buf.put_slice(MAGIC);
        buf.put_u8(stored::FORMAT);
        let count = u32::try_from(self.len()).map_err(|_| EncodeError::PacketTooLarge {
            remaining_length: self.len(),
        })?;
        buf.put_u32(count);
        self.for_each_packet(|packet| packet.encode(stored::LAYOUT, buf).map(drop))
    }

    /// Reads a state written by [`encode`](Self::encode).
    pub fn decode(bytes: Bytes) -> Result<Self, SessionStateError> {
        let Some((&version, body)) = bytes
            .strip_prefix(MAGIC.as_slice())
            .and_then(<[u8]>::split_first)
        else {
            return Err(SessionStateError::Header);
        };
        let layout = stored::layout(version).ok_or(SessionStateError::Header)?;
        let Some((count, _)) = body.split_first_chunk::<COUNT_LEN>() else {
            return Err(SessionStateError::Truncated);
        };
        let count = u32::from_be_bytes(*count);
        let offset = bytes
            .len()
            .saturating_sub(body.len())
            .saturating_add(COUNT_LEN);
        let mut decoder = Decoder::with_version(layout, Limits::new(u32::MAX));
        decoder.push_bytes(bytes.slice(offset..));
        let mut state = Self::default();
        loop {
            let packet = match decoder.decode() {
                Ok(Some(packet)) => packet,
                Ok(None) if decoder.buffered() == 0 => {
                    return if u32::try_from(state.len()) == Ok(count) {
                        Ok(state)
                    } else {
                        Err(SessionStateError::Truncated)
                    };
                }
                Ok(None) => return Err(SessionStateError::Truncated),
                Err(DecodeFailure {
                    error: PeerError::Decode(error),
                    ..
                }) => return Err(SessionStateError::Packet(error)),
                Err(failure) => {
                    return Err(SessionStateError::Unexpected(failure.packet_type));
                }
            };
            match packet {
                Packet::Publish(publish) => {
                    let Some(id) = publish.packet_id() else {
                        return Err(SessionStateError::Unexpected(Some(PacketType::Publish)));
                    };
                    let entry = if publish.is_dup() {
                        Entry::Publish(publish, Phase::Sent)
                    } else {
                        Entry::Publish(publish, Phase::Waiting)
                    };
                    state.outgoing.push((id, entry));
                }
                Packet::PubRel(rel) => state.outgoing.push((rel.packet_id, Entry::Released)),
                Packet::Subscribe(subscribe) => state
                    .outgoing
                    .push((subscribe.packet_id, Entry::Subscribe(Box::new(subscribe)))),
                Packet::Unsubscribe(unsubscribe) => state.outgoing.push((
                    unsubscribe.packet_id,
                    Entry::Unsubscribe(Box::new(unsubscribe)),
                )),
                Packet::PubRec(rec) => state.incoming.push(rec.packet_id),
                packet => {
                    return Err(SessionStateError::Unexpected(Some(packet.packet_type())));
                }
            }
        }
    }

    fn for_each_packet(
        &self,
        mut each: impl FnMut(&Packet<Bytes>) -> Result<(), EncodeError>,
    ) -> Result<(), EncodeError> {
        for (id, entry) in &self.outgoing {
            let packet = match entry {
                Entry::Publish(publish, Phase::Sent) => {
                    let mut publish = publish.clone();
                    publish.delivery = publish.delivery.with_dup(true);
                    Packet::Publish(publish)
                }
                Entry::Publish(publish, Phase::Waiting) => Packet::Publish(publish.clone()),
                Entry::Released => Packet::PubRel(PubRel::new(*id)),
                Entry::Subscribe(subscribe) => Packet::Subscribe((**subscribe).clone()),
                Entry::Unsubscribe(unsubscribe) => Packet::Unsubscribe((**unsubscribe).clone()),
                Entry::Free => continue,
            };
            each(&packet)?;
        }
        for id in &self.incoming {
            each(&Packet::PubRec(PubRec::new(*id)))?;
        }
        Ok(())
    }
}

/// Why bytes are not a [`SessionState`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionStateError {
    /// They do not start with the header of this format's version.
    #[error("not a session state of this format")]
    Header,
    /// They end inside a packet, or hold fewer packets than their count says.
    #[error("session state is truncated")]
    Truncated,
    /// A packet in them is malformed.
    #[error("session state packet: {0}")]
    Packet(DecodeError),
    /// A packet a session state does not hold (or a QoS 0 PUBLISH), if its type is known.
    #[error("unexpected packet in a session state")]
    Unexpected(Option<PacketType>),
}

impl Client {
    /// A copy of the session state, to store where it survives a restart. Messages share
    /// their payloads with the client; nothing is copied but the bookkeeping.
    #[must_use]
    pub fn session(&self) -> SessionState {
        SessionState {
            outgoing: self
                .outbound
                .entries()
                .map(|(id, entry)| (id, entry.clone()))
                .collect(),
            incoming: self.inbound.qos2_ids().collect(),
        }
    }

    /// Restores a session state into a client that holds none and is not connected; the next
    /// [`connect`](Self::connect) without Clean Start resumes it.
    pub fn restore_session(&mut self, state: SessionState) -> Result<(), UsageError> {
        if self.state != State::Disconnected {
            return Err(UsageError::AlreadyConnected);
        }
        if self.outbound.len() != 0 || self.inbound.len() != 0 {
            return Err(UsageError::SessionDoesNotFit(
                "the client already holds a session",
            ));
        }
        // The table holds up to twice the Receive Maximum when re-deliveries arrive.
        let limit = usize::from(self.config.receive_maximum.get()).saturating_mul(2);
        if state.incoming.len() > limit {
            return Err(UsageError::SessionDoesNotFit(
                "more QoS 2 identifiers than twice receive_maximum",
            ));
        }
        for (id, entry) in state.outgoing {
            let request = matches!(entry, Entry::Subscribe(_) | Entry::Unsubscribe(_));
            if let Err(reason) = self.outbound.restore(id, entry) {
                self.outbound = super::outbound::Outbound::new(self.config.max_outgoing);
                self.held_requests.clear();
                return Err(UsageError::SessionDoesNotFit(reason));
            }
            if request {
                self.held_requests.push_back(id);
            }
        }
        for id in state.incoming {
            self.inbound.restore_qos2(id);
        }
        Ok(())
    }
}
