//! The fifteen MQTT control packets, one type per packet family for all three versions.
//!
//! Each type holds the union of what the versions carry; the version is passed to every
//! encode and decode call. Fields a version cannot carry (5.0 properties and reason codes in a
//! 3.1.1 packet) decode to their defaults, and encoding a non-default value into that version
//! is an [`EncodeError::NotInVersion`], never a silent drop.

mod ack;
mod auth;
mod connack;
mod connect;
mod disconnect;
mod outgoing;
mod ping;
mod publish;
mod suback;
mod subscribe;
mod unsuback;
mod unsubscribe;

use alloc::boxed::Box;

use bytes::{BufMut, Bytes};

use crate::codec::arena::{Arena, Detach};
use crate::codec::buffer::Buffer;
use crate::codec::frame::{self, FixedHeader, Header};
use crate::codec::reader::Reader;
use crate::codec::{Decoded, Limits};
use crate::error::{DecodeError, EncodeError};
pub use crate::types::PacketType;
use crate::types::{PacketId, ProtocolVersion};

pub(crate) use ack::encode_plain_ack;
pub use ack::{PubAck, PubComp, PubRec, PubRel};
pub use auth::Auth;
pub use connack::ConnAck;
pub use connect::{Connect, Will};
pub use disconnect::Disconnect;
pub use outgoing::{Outgoing, TopicAliasUse};
pub use ping::{PingReq, PingResp};
pub use publish::{Delivery, Publish};
pub use suback::SubAck;
pub use subscribe::{RetainHandling, Subscribe, Subscription, SubscriptionOptions};
pub use unsuback::UnsubAck;
pub use unsubscribe::Unsubscribe;

/// Any MQTT control packet.
///
/// `B` is the storage the packet's fields share with the input it was decoded from: `&[u8]`
/// for zero-allocation decoding ([`Packet::decode`]), [`Bytes`] for packets that outlive the
/// read buffer ([`Packet::decode_bytes`]). See [`Buffer`].
///
/// CONNECT and CONNACK, the two large packets that come once per connection, are boxed, so
/// that the value every PUBLISH and acknowledgement decodes into stays small (112 bytes for
/// `Packet<&[u8]>` on 64-bit targets, where it would be twice that): decoding either of them
/// allocates that one box, and nothing else allocates. [`Connect::decode`] reads a CONNECT
/// without it.
///
/// ```
/// use bytes::BytesMut;
/// use mqtt_sansio::{Limits, Packet, ProtocolVersion, Publish, TopicName};
///
/// let publish = Publish::new(TopicName::new("a/b").unwrap(), &b"hi!!"[..]);
/// let mut buf = BytesMut::new();
/// let len = Packet::Publish(publish.clone()).encode(ProtocolVersion::V5, &mut buf)?;
/// assert_eq!(&buf[..], b"\x30\x0a\x00\x03a/b\x00hi!!");
///
/// let (decoded, consumed) =
///     Packet::decode(ProtocolVersion::V5, &buf, &Limits::default())?.complete().unwrap();
/// assert_eq!((decoded, consumed), (Packet::Publish(publish), len));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Packet<B: Buffer = Bytes> {
    /// CONNECT.
    Connect(Box<Connect<B>>),
    /// CONNACK.
    ConnAck(Box<ConnAck<B>>),
    /// PUBLISH.
    Publish(Publish<B>),
    /// PUBACK.
    PubAck(PubAck<B>),
    /// PUBREC.
    PubRec(PubRec<B>),
    /// PUBREL.
    PubRel(PubRel<B>),
    /// PUBCOMP.
    PubComp(PubComp<B>),
    /// SUBSCRIBE.
    Subscribe(Subscribe<B>),
    /// SUBACK.
    SubAck(SubAck<B>),
    /// UNSUBSCRIBE.
    Unsubscribe(Unsubscribe<B>),
    /// UNSUBACK.
    UnsubAck(UnsubAck<B>),
    /// PINGREQ.
    PingReq(PingReq),
    /// PINGRESP.
    PingResp(PingResp),
    /// DISCONNECT.
    Disconnect(Disconnect<B>),
    /// AUTH (MQTT 5.0 only).
    Auth(Auth<B>),
}

impl<'a> Packet<&'a [u8]> {
    /// Decodes the packet at the start of `input` without allocating (but the box of a
    /// CONNECT or CONNACK): strings, binary fields and the payload borrow from `input`.
    ///
    /// A CONNECT is decoded in the version its own Protocol Level names; every other packet in
    /// `version`. See [`Packet::decode_from`] for the checks.
    ///
    /// ```
    /// use mqtt_sansio::{Decoded, Limits, Packet, ProtocolVersion};
    ///
    /// let limits = Limits::default();
    /// let input = [0xD0, 0x00, 0xC0]; // PINGRESP, then the first byte of a PINGREQ
    /// let Decoded::Complete { packet, consumed } = Packet::decode(ProtocolVersion::V3_1_1, &input, &limits)? else {
    ///     unreachable!()
    /// };
    /// assert!(matches!(packet, Packet::PingResp(_)));
    /// assert_eq!(
    ///     Packet::decode(ProtocolVersion::V3_1_1, &input[consumed..], &limits)?,
    ///     Decoded::Incomplete { needed: 1 }
    /// );
    /// # Ok::<(), mqtt_sansio::DecodeError>(())
    /// ```
    #[inline]
    pub fn decode(
        version: ProtocolVersion,
        input: &'a [u8],
        limits: &Limits,
    ) -> Result<Decoded<Self>, DecodeError> {
        Self::decode_from(version, &input, limits)
    }

    /// Copies the packet out of the buffer it borrows, into one allocation that holds exactly
    /// its strings, binary fields and payload: the way from a packet decoded from a stack or
    /// read buffer to state that is kept (a queued message, a session's client id).
    ///
    /// Lists (User Properties, subscriptions, reason codes) are copied in their wire form,
    /// so no `Vec` is allocated. Strings are checked as UTF-8 again as they are copied: the
    /// `bytestring` crate has no safe constructor that skips the check, and the crate forbids
    /// `unsafe`.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use mqtt_sansio::{Limits, Packet, ProtocolVersion};
    ///
    /// let owned: Packet<Bytes> = {
    ///     let read_buf = [0x30, 0x06, 0x00, 0x03, b'a', b'/', b'b', b'!'];
    ///     let (packet, _) = Packet::decode(ProtocolVersion::V3_1_1, &read_buf, &Limits::default())?
    ///         .complete()
    ///         .unwrap();
    ///     packet.into_owned()
    /// };
    /// let Packet::Publish(publish) = owned else { unreachable!() };
    /// assert_eq!(publish.topic.unwrap().as_str(), "a/b");
    /// assert_eq!(publish.payload, Bytes::from_static(b"!"));
    /// # Ok::<(), mqtt_sansio::DecodeError>(())
    /// ```
    #[must_use]
    pub fn into_owned(self) -> Packet<Bytes> {
        self.detached()
    }
}

impl Packet<Bytes> {
    /// Decodes the packet at the start of `input` into a packet whose fields are slices of
    /// `input`'s storage (no copy).
    ///
    /// ```
    /// use bytes::Bytes;
    /// use mqtt_sansio::{Limits, Packet, ProtocolVersion};
    ///
    /// let input = Bytes::from_static(b"\x30\x06\x00\x03a/bX");
    /// let (packet, _) = Packet::decode_bytes(ProtocolVersion::V3_1_1, &input, &Limits::default())?
    ///     .complete()
    ///     .unwrap();
    /// let Packet::Publish(publish) = packet else { unreachable!() };
    /// assert_eq!(publish.payload, Bytes::from_static(b"X"));
    /// # Ok::<(), mqtt_sansio::DecodeError>(())
    /// ```
    pub fn decode_bytes(
        version: ProtocolVersion,
        input: &Bytes,
        limits: &Limits,
    ) -> Result<Decoded<Self>, DecodeError> {
        Self::decode_from(version, input, limits)
    }

    /// Copies the packet into one allocation that holds exactly its strings, binary fields and
    /// payload, so that keeping it (a retained message, a stored Will) no longer keeps alive
    /// the whole receive buffer it was decoded from.
    ///
    /// A packet decoded with [`decode_bytes`](Self::decode_bytes) or the
    /// [`Decoder`](crate::Decoder) shares the input's allocation, which may be far larger than
    /// the packet; call this on the packets you keep and not on those you drop. Copies the
    /// same way as [`into_owned`](Packet::into_owned).
    ///
    /// ```
    /// use bytes::{BufMut, BytesMut};
    /// use mqtt_sansio::{Limits, Packet, ProtocolVersion};
    ///
    /// let mut read_buf = BytesMut::with_capacity(64 * 1024);
    /// read_buf.put_slice(b"\x30\x06\x00\x03a/b!");
    /// let input = read_buf.freeze();
    /// let (packet, _) = Packet::decode_bytes(ProtocolVersion::V3_1_1, &input, &Limits::default())?
    ///     .complete()
    ///     .unwrap();
    /// let kept = packet.detach();
    /// assert_eq!(kept, packet);
    /// drop(packet);
    /// // Nothing but `input` refers to the 64 KiB buffer any more.
    /// assert!(input.is_unique());
    /// # Ok::<(), mqtt_sansio::DecodeError>(())
    /// ```
    #[must_use]
    pub fn detach(&self) -> Self {
        self.detached()
    }
}

impl<B: Buffer> Packet<B> {
    /// Decodes the packet at the start of `input` for any [`Buffer`] type.
    ///
    /// Returns [`Decoded::Incomplete`] while `input` holds less than the whole packet; once the
    /// fixed header is there its type, flags and size are checked, so a packet larger than
    /// [`Limits::max_packet_size`] is refused before its body arrives. Every field is bounded
    /// by the Remaining Length and bytes left after the last field are an error.
    ///
    /// ```
    /// use mqtt_sansio::{DecodeError, Limits, Packet, ProtocolVersion};
    ///
    /// // A PUBLISH announcing 268,435,455 bytes is refused from its fixed header alone.
    /// let header: &[u8] = &[0x30, 0xFF, 0xFF, 0xFF, 0x7F];
    /// let error = Packet::decode_from(ProtocolVersion::V5, &header, &Limits::default()).unwrap_err();
    /// assert!(matches!(error, DecodeError::PacketTooLarge { .. }));
    /// ```
    #[inline]
    pub fn decode_from(
        version: ProtocolVersion,
        input: &B,
        limits: &Limits,
    ) -> Result<Decoded<Self>, DecodeError> {
        match frame_packet(Some(version), input, limits)? {
            Framed::Complete { header, mut reader } => {
                Self::decode_body(version, &header, &mut reader)
            }
            Framed::Incomplete { needed } => Ok(Decoded::Incomplete { needed }),
        }
    }

    /// The packet's type.
    #[must_use]
    pub fn packet_type(&self) -> PacketType {
        match self {
            Self::Connect(_) => PacketType::Connect,
            Self::ConnAck(_) => PacketType::ConnAck,
            Self::Publish(_) => PacketType::Publish,
            Self::PubAck(_) => PacketType::PubAck,
            Self::PubRec(_) => PacketType::PubRec,
            Self::PubRel(_) => PacketType::PubRel,
            Self::PubComp(_) => PacketType::PubComp,
            Self::Subscribe(_) => PacketType::Subscribe,
            Self::SubAck(_) => PacketType::SubAck,
            Self::Unsubscribe(_) => PacketType::Unsubscribe,
            Self::UnsubAck(_) => PacketType::UnsubAck,
            Self::PingReq(_) => PacketType::PingReq,
            Self::PingResp(_) => PacketType::PingResp,
            Self::Disconnect(_) => PacketType::Disconnect,
            Self::Auth(_) => PacketType::Auth,
        }
    }

    /// The exact number of bytes [`encode`](Self::encode) writes for `version`, or why the
    /// packet cannot be encoded in it.
    pub fn encoded_len(&self, version: ProtocolVersion) -> Result<usize, EncodeError> {
        match self {
            Self::Connect(p) => p.encoded_len(version),
            Self::ConnAck(p) => p.encoded_len(version),
            Self::Publish(p) => p.encoded_len(version),
            Self::PubAck(p) => p.encoded_len(version),
            Self::PubRec(p) => p.encoded_len(version),
            Self::PubRel(p) => p.encoded_len(version),
            Self::PubComp(p) => p.encoded_len(version),
            Self::Subscribe(p) => p.encoded_len(version),
            Self::SubAck(p) => p.encoded_len(version),
            Self::Unsubscribe(p) => p.encoded_len(version),
            Self::UnsubAck(p) => p.encoded_len(version),
            Self::PingReq(p) => p.encoded_len(version),
            Self::PingResp(p) => p.encoded_len(version),
            Self::Disconnect(p) => p.encoded_len(version),
            Self::Auth(p) => p.encoded_len(version),
        }
    }

    /// Encodes the packet for `version` into `buf` and returns the bytes written.
    ///
    /// The size is computed (and the packet checked) before anything is written, so on error
    /// `buf` is untouched; a buffer with too little room gives
    /// [`EncodeError::BufferTooSmall`]. For a `BytesMut`, `reserve(encoded_len)` first makes
    /// the write a single copy of each field.
    pub fn encode(
        &self,
        version: ProtocolVersion,
        buf: &mut impl BufMut,
    ) -> Result<usize, EncodeError> {
        match self {
            Self::Connect(p) => p.encode(version, buf),
            Self::ConnAck(p) => p.encode(version, buf),
            Self::Publish(p) => p.encode(version, buf),
            Self::PubAck(p) => p.encode(version, buf),
            Self::PubRec(p) => p.encode(version, buf),
            Self::PubRel(p) => p.encode(version, buf),
            Self::PubComp(p) => p.encode(version, buf),
            Self::Subscribe(p) => p.encode(version, buf),
            Self::SubAck(p) => p.encode(version, buf),
            Self::Unsubscribe(p) => p.encode(version, buf),
            Self::UnsubAck(p) => p.encode(version, buf),
            Self::PingReq(p) => p.encode(version, buf),
            Self::PingResp(p) => p.encode(version, buf),
            Self::Disconnect(p) => p.encode(version, buf),
            Self::Auth(p) => p.encode(version, buf),
        }
    }

    /// Decodes the body of a framed packet into the final [`Decoded`]: each arm builds it in
    /// one expression, so the packet is written once instead of being moved through
    /// intermediate results (a measurable cost for a value of this size).
    #[inline]
    pub(crate) fn decode_body(
        version: ProtocolVersion,
        header: &FixedHeader,
        reader: &mut Reader<'_, B>,
    ) -> Result<Decoded<Self>, DecodeError> {
        let consumed = header.packet_len();
        macro_rules! complete {
            ($packet:expr) => {
                Ok(Decoded::Complete {
                    packet: $packet,
                    consumed,
                })
            };
        }
        match header.packet_type {
            PacketType::Connect => {
                complete!(Self::Connect(Box::new(Connect::decode_body(reader)?)))
            }
            PacketType::ConnAck => complete!(Self::ConnAck(Box::new(ConnAck::decode_body(
                version, reader
            )?))),
            PacketType::Publish => {
                complete!(Self::Publish(Publish::decode_body(
                    version, header, reader
                )?))
            }
            PacketType::PubAck => complete!(Self::PubAck(PubAck::decode_body(version, reader)?)),
            PacketType::PubRec => complete!(Self::PubRec(PubRec::decode_body(version, reader)?)),
            PacketType::PubRel => complete!(Self::PubRel(PubRel::decode_body(version, reader)?)),
            PacketType::PubComp => {
                complete!(Self::PubComp(PubComp::decode_body(version, reader)?))
            }
            PacketType::Subscribe => {
                complete!(Self::Subscribe(Subscribe::decode_body(version, reader)?))
            }
            PacketType::SubAck => complete!(Self::SubAck(SubAck::decode_body(version, reader)?)),
            PacketType::Unsubscribe => {
                complete!(Self::Unsubscribe(Unsubscribe::decode_body(
                    version, reader
                )?))
            }
            PacketType::UnsubAck => {
                complete!(Self::UnsubAck(UnsubAck::decode_body(version, reader)?))
            }
            PacketType::PingReq => {
                reader.finish(PacketType::PingReq)?;
                complete!(Self::PingReq(PingReq))
            }
            PacketType::PingResp => {
                reader.finish(PacketType::PingResp)?;
                complete!(Self::PingResp(PingResp))
            }
            PacketType::Disconnect => {
                complete!(Self::Disconnect(Disconnect::decode_body(version, reader)?))
            }
            PacketType::Auth => complete!(Self::Auth(Auth::decode_body(version, reader)?)),
        }
    }
}

impl<B: Buffer> Packet<B> {
    /// [`decode_body`](Self::decode_body) for the packets a server sends, and only those, so
    /// that a client links no decoder of a packet it never reads. The decoder's direction
    /// check refuses the others from their fixed header; should one reach here, it is refused
    /// as a packet type this side cannot receive.
    ///
    /// Never inlined: inside a client's input loop, the packet built by each arm was split
    /// into scalars and merged field by field; here each arm writes it to the result once.
    /// It returns the packet alone (a body decoder only completes or fails), which saves the
    /// client's decoder one more move of it.
    #[inline(never)]
    pub(crate) fn decode_server_body(
        version: ProtocolVersion,
        header: &FixedHeader,
        reader: &mut Reader<'_, B>,
    ) -> Result<Self, DecodeError> {
        // Each arm builds the result in one expression: merging the arms' packets into one
        // value first costs a firmware a copy of every field.
        match header.packet_type {
            PacketType::ConnAck => Ok(Self::ConnAck(Box::new(ConnAck::decode_body(
                version, reader,
            )?))),
            PacketType::Publish => Ok(Self::Publish(Publish::decode_body(
                version, header, reader,
            )?)),
            PacketType::PubAck => Ok(Self::PubAck(PubAck::decode_body(version, reader)?)),
            PacketType::PubRec => Ok(Self::PubRec(PubRec::decode_body(version, reader)?)),
            PacketType::PubRel => Ok(Self::PubRel(PubRel::decode_body(version, reader)?)),
            PacketType::PubComp => Ok(Self::PubComp(PubComp::decode_body(version, reader)?)),
            PacketType::SubAck => Ok(Self::SubAck(SubAck::decode_body(version, reader)?)),
            PacketType::UnsubAck => Ok(Self::UnsubAck(UnsubAck::decode_body(version, reader)?)),
            PacketType::PingResp => {
                reader.finish(PacketType::PingResp)?;
                Ok(Self::PingResp(PingResp))
            }
            PacketType::Disconnect => {
                Ok(Self::Disconnect(Disconnect::decode_body(version, reader)?))
            }
            PacketType::Auth => Ok(Self::Auth(Auth::decode_body(version, reader)?)),
            PacketType::Connect
            | PacketType::Subscribe
            | PacketType::Unsubscribe
            | PacketType::PingReq => Err(DecodeError::ReservedPacketType(header.packet_type as u8)),
        }
    }
}

impl<B: Buffer> Packet<B> {
    /// The packet copied into one allocation of its fields' size. A boxed CONNECT or CONNACK
    /// is detached inside its new box, so the arena's measuring pass builds no box to drop.
    fn detached(&self) -> Packet<Bytes> {
        match self {
            Self::Connect(packet) => Packet::Connect(Box::new(Arena::run(|arena| {
                packet.as_ref().detach_in(arena)
            }))),
            Self::ConnAck(packet) => Packet::ConnAck(Box::new(Arena::run(|arena| {
                packet.as_ref().detach_in(arena)
            }))),
            other => Arena::run(|arena| other.detach_in(arena)),
        }
    }
}

impl<B: Buffer> Detach for Packet<B> {
    type Detached = Packet<Bytes>;

    fn detach_in(&self, arena: &mut Arena) -> Packet<Bytes> {
        match self {
            Self::Connect(packet) => Packet::Connect(Box::new(packet.as_ref().detach_in(arena))),
            Self::ConnAck(packet) => Packet::ConnAck(Box::new(packet.as_ref().detach_in(arena))),
            Self::Publish(packet) => Packet::Publish(packet.detach_in(arena)),
            Self::PubAck(packet) => Packet::PubAck(packet.detach_in(arena)),
            Self::PubRec(packet) => Packet::PubRec(packet.detach_in(arena)),
            Self::PubRel(packet) => Packet::PubRel(packet.detach_in(arena)),
            Self::PubComp(packet) => Packet::PubComp(packet.detach_in(arena)),
            Self::Subscribe(packet) => Packet::Subscribe(packet.detach_in(arena)),
            Self::SubAck(packet) => Packet::SubAck(packet.detach_in(arena)),
            Self::Unsubscribe(packet) => Packet::Unsubscribe(packet.detach_in(arena)),
            Self::UnsubAck(packet) => Packet::UnsubAck(packet.detach_in(arena)),
            Self::PingReq(packet) => Packet::PingReq(*packet),
            Self::PingResp(packet) => Packet::PingResp(*packet),
            Self::Disconnect(packet) => Packet::Disconnect(packet.detach_in(arena)),
            Self::Auth(packet) => Packet::Auth(packet.detach_in(arena)),
        }
    }
}

macro_rules! from_packets {
    ($($variant:ident),+) => {
        $(
            impl<B: Buffer> From<$variant<B>> for Packet<B> {
                fn from(packet: $variant<B>) -> Self {
                    Self::$variant(packet)
                }
            }
        )+
    };
}

from_packets!(
    Publish,
    PubAck,
    PubRec,
    PubRel,
    PubComp,
    Subscribe,
    SubAck,
    Unsubscribe,
    UnsubAck,
    Disconnect,
    Auth
);

impl<B: Buffer> From<Connect<B>> for Packet<B> {
    fn from(packet: Connect<B>) -> Self {
        Self::Connect(Box::new(packet))
    }
}

impl<B: Buffer> From<ConnAck<B>> for Packet<B> {
    fn from(packet: ConnAck<B>) -> Self {
        Self::ConnAck(Box::new(packet))
    }
}

impl<B: Buffer> From<PingReq> for Packet<B> {
    fn from(packet: PingReq) -> Self {
        Self::PingReq(packet)
    }
}

impl<B: Buffer> From<PingResp> for Packet<B> {
    fn from(packet: PingResp) -> Self {
        Self::PingResp(packet)
    }
}

/// One packet framed at the start of the input.
pub(crate) enum Framed<'b, B> {
    /// The whole packet is there: its fixed header and a reader over its body.
    Complete {
        header: FixedHeader,
        reader: Reader<'b, B>,
    },
    /// More bytes are needed.
    Incomplete { needed: usize },
}

/// Frames one packet at the start of `input`: checks its fixed header (type, flags, size
/// against `limits`) and, once all of it has arrived, gives a reader over its body.
///
/// `version` is `None` before CONNECT, when only a CONNECT is accepted.
#[inline]
pub(crate) fn frame_packet<'b, B: Buffer>(
    version: Option<ProtocolVersion>,
    input: &'b B,
    limits: &Limits,
) -> Result<Framed<'b, B>, DecodeError> {
    let available = input.as_ref().len();
    let header = match frame::parse(input.as_ref(), version, limits.max_packet_size)? {
        Header::Complete(header) => header,
        Header::Incomplete { needed } => return Ok(Framed::Incomplete { needed }),
    };
    let packet_len = header.packet_len();
    if available < packet_len {
        return Ok(Framed::Incomplete {
            needed: packet_len.saturating_sub(available),
        });
    }
    let reader = Reader::new(input, header.header_len..packet_len);
    Ok(Framed::Complete { header, reader })
}

/// The fixed-header byte, Remaining Length and body writer of one packet type; every packet
/// gets `encoded_len` and `encode` from it through [`encode_packet`].
pub(crate) trait EncodeBody {
    /// Checks that the packet can be encoded in `version` and returns its Remaining Length.
    fn remaining_len(&self, version: ProtocolVersion) -> Result<usize, EncodeError>;

    /// The first byte of the fixed header.
    fn first_byte(&self) -> u8;

    /// Writes the variable header and payload; only called after `remaining_len` succeeded.
    fn write_body(&self, version: ProtocolVersion, buf: &mut impl BufMut);
}

/// The whole encoded size of `packet`.
pub(crate) fn encoded_len(
    packet: &impl EncodeBody,
    version: ProtocolVersion,
) -> Result<usize, EncodeError> {
    let remaining_len = packet.remaining_len(version)?;
    Ok(frame::header_len(remaining_len)?.saturating_add(remaining_len))
}

/// Encodes `packet`: checks it, checks the room in `buf`, then writes.
pub(crate) fn encode_packet(
    packet: &impl EncodeBody,
    version: ProtocolVersion,
    buf: &mut impl BufMut,
) -> Result<usize, EncodeError> {
    let remaining_len = packet.remaining_len(version)?;
    let total = frame::header_len(remaining_len)?.saturating_add(remaining_len);
    check_room(buf, total)?;
    frame::write_header(buf, packet.first_byte(), remaining_len);
    packet.write_body(version, buf);
    Ok(total)
}

/// Refuses a buffer with less room than `needed`, before anything is written.
pub(crate) fn check_room(buf: &impl BufMut, needed: usize) -> Result<(), EncodeError> {
    if buf.remaining_mut() < needed {
        return Err(EncodeError::BufferTooSmall {
            needed,
            available: buf.remaining_mut(),
        });
    }
    Ok(())
}

/// Gives a packet type its public `encoded_len` and `encode` methods.
macro_rules! encode_methods {
    ($packet:ty) => {
        /// The exact number of bytes [`encode`](Self::encode) writes for `version`, or why the
        /// packet cannot be encoded in it.
        pub fn encoded_len(
            &self,
            version: $crate::types::ProtocolVersion,
        ) -> Result<usize, $crate::error::EncodeError> {
            $crate::packet::encoded_len(self, version)
        }

        /// Encodes the packet for `version` into `buf` and returns the bytes written; on error
        /// nothing is written.
        pub fn encode(
            &self,
            version: $crate::types::ProtocolVersion,
            buf: &mut impl bytes::BufMut,
        ) -> Result<usize, $crate::error::EncodeError> {
            $crate::packet::encode_packet(self, version, buf)
        }
    };
}
pub(crate) use encode_methods;

/// Reads a Packet Identifier, rejecting 0 (`[MQTT-2.3.1-1]` in 3.1.1, `[MQTT-2.2.1-3]` in 5.0).
pub(crate) fn read_packet_id<B: Buffer>(
    reader: &mut Reader<'_, B>,
    packet: PacketType,
) -> Result<PacketId, DecodeError> {
    PacketId::new(reader.u16("packet identifier")?).ok_or(DecodeError::ZeroPacketId { packet })
}

/// The error for a non-default 5.0 field in a packet encoded for 3.1 or 3.1.1.
pub(crate) fn not_in_version(what: &'static str, version: ProtocolVersion) -> EncodeError {
    EncodeError::NotInVersion { what, version }
}
