//! [`Decoder`]: frames the byte stream one side of a connection receives into owned packets,
//! and says what to answer when the peer gets it wrong ([`DecodeFailure`], [`Reply`]).

use bytes::{Buf, Bytes, BytesMut};

use crate::codec::frame::{self, Header};
use crate::codec::reader::Reader;
use crate::codec::{Decoded, Limits};
use crate::error::{DecodeError, PeerError, ProtocolError};
use crate::packet::{Connect, Packet, Publish};
use crate::reason::{ConnectReasonCode, DisconnectReasonCode};
use crate::types::{PacketId, PacketType, ProtocolVersion, Side};

/// A packet at least this large is not left sharing its allocation with a few pending bytes:
/// those are moved to a buffer of their own, so that the large allocation is freed with the
/// packet instead of living on in an idle connection.
const LARGE_PACKET: usize = 4 * 1024;

/// Frames the byte stream one side of a connection receives into [`Packet<Bytes>`]s that share
/// the stream buffer's storage, checking the rules of the connection as well as those of each
/// packet.
///
/// Bytes go in with [`push`](Self::push) (or straight into [`buffer_mut`](Self::buffer_mut)
/// from a socket read), packets come out of [`decode`](Self::decode). Each packet is split off
/// the buffer without copying, so its payload and strings keep that part of the buffer's
/// allocation alive for as long as the packet lives.
///
/// # Sides
///
/// [`Decoder::server`] reads what a client sends: the first packet must be a CONNECT, whose
/// Protocol Level sets the version of the rest of the stream, and a second CONNECT, or a packet
/// only a server sends (CONNACK, SUBACK, UNSUBACK, PINGRESP), is a [`ProtocolError`]; so is a
/// 5.0 PUBLISH carrying a Subscription Identifier (`[MQTT-3.3.4-6]`). [`Decoder::client`] reads
/// what a server sends, in the version the client chose, and refuses CONNECT, SUBSCRIBE,
/// UNSUBSCRIBE and PINGREQ (and DISCONNECT before 5.0, when only clients send it).
/// [`Decoder::new`] and [`Decoder::with_version`] check no direction, for tools that read
/// captures.
///
/// # Memory
///
/// The decoder keeps only the bytes it was given and not yet returned as packets. A fixed
/// header announcing more than [`Limits::max_packet_size`] is an error as soon as it is
/// complete, before its body is buffered; a server typically decodes the CONNECT under a small
/// limit and raises it with [`set_limits`](Self::set_limits) once it accepts the connection.
/// Once the fixed header is known, the buffer grows straight to the packet's size, but only
/// when the peer has already sent at least half of it, so a few bytes announcing a large
/// packet never make the decoder reserve much more than it was given. When nothing is pending
/// the buffer is released: an idle decoder holds no heap at all
/// ([`buffer_capacity`](Self::buffer_capacity) is 0).
///
/// # Errors
///
/// After an error the stream cannot be resynchronised: the buffer is released, later bytes are
/// ignored and every later call returns the same [`DecodeFailure`], whose
/// [`reply`](DecodeFailure::reply) says what to send before closing the connection.
///
/// ```
/// use mqtt_sansio::{Decoder, Limits, Packet, ProtocolVersion};
///
/// let mut decoder = Decoder::client(ProtocolVersion::V3_1_1, Limits::default());
/// decoder.push(&[0x30, 0x06, 0x00, 0x03, b'a']); // part of a PUBLISH
/// assert_eq!(decoder.decode()?, None);
/// decoder.push(&[b'/', b'b', b'!', 0xD0, 0x00]); // its end, and a PINGRESP
/// assert!(matches!(decoder.decode()?, Some(Packet::Publish(_))));
/// assert!(matches!(decoder.decode()?, Some(Packet::PingResp(_))));
/// assert_eq!(decoder.decode()?, None);
/// assert_eq!(decoder.buffer_capacity(), 0);
/// # Ok::<(), mqtt_sansio::DecodeFailure>(())
/// ```
#[derive(Debug)]
pub struct Decoder {
    buf: BytesMut,
    /// Received bytes handed over whole ([`push_bytes`](Self::push_bytes)), read before
    /// `buf` is used: complete packets are sliced out of them without a copy.
    shared: Bytes,
    side: Option<Side>,
    version: Option<ProtocolVersion>,
    limits: Limits,
    failed: Option<DecodeFailure>,
    /// Keep the receive buffer when it empties, to read into it again without allocating
    /// (one connection, as a client has); off, the idle decoder holds no heap (many
    /// connections, as a broker has).
    keep_buffer: bool,
    /// The least the receive buffer grows by when it is full: 0 grows it by what arrives (a
    /// client, on a small heap); a chunk lets the packets of many reads be cut from one
    /// allocation (the broker's working decoder, which serves every connection).
    read_chunk: usize,
}

impl Decoder {
    /// The decoder for the server side of a connection: it reads what a client sends, starting
    /// with CONNECT.
    ///
    /// ```
    /// use mqtt_sansio::{Decoder, Limits, Packet, ProtocolVersion, Reply};
    ///
    /// // Until the CONNECT is accepted, allow only a small packet.
    /// let mut decoder = Decoder::server(Limits::new(512));
    /// decoder.push(b"\x10\x0d\x00\x04MQTT\x05\x02\x00\x3c\x00\x00\x00");
    /// let Some(Packet::Connect(connect)) = decoder.decode()? else { unreachable!() };
    /// assert_eq!(decoder.version(), Some(ProtocolVersion::V5));
    /// decoder.set_limits(Limits::default());
    ///
    /// // A client may not send a PINGRESP: DISCONNECT with Protocol Error, then close.
    /// decoder.push(&[0xD0, 0x00]);
    /// let failure = decoder.decode().unwrap_err();
    /// assert!(matches!(failure.reply, Reply::Disconnect(code) if code.as_u8() == 0x82));
    /// # Ok::<(), mqtt_sansio::DecodeFailure>(())
    /// ```
    #[must_use]
    pub fn server(limits: Limits) -> Self {
        Self {
            side: Some(Side::Server),
            ..Self::new(limits)
        }
    }

    /// The decoder for the client side of a connection: it reads what the server sends, in the
    /// `version` the client's CONNECT named.
    ///
    /// ```
    /// use mqtt_sansio::{Decoder, Limits, Packet, ProtocolVersion, Reply};
    ///
    /// let mut decoder = Decoder::client(ProtocolVersion::V3_1_1, Limits::default());
    /// decoder.push(&[0x20, 0x02, 0x00, 0x00]); // CONNACK, accepted
    /// assert!(matches!(decoder.decode()?, Some(Packet::ConnAck(_))));
    /// decoder.push(&[0xC0, 0x00]); // a PINGREQ, which only clients send
    /// let failure = decoder.decode().unwrap_err();
    /// assert_eq!(failure.reply, Reply::Close); // 3.1.1 has no DISCONNECT from the server
    /// # Ok::<(), mqtt_sansio::DecodeFailure>(())
    /// ```
    #[must_use]
    pub fn client(version: ProtocolVersion, limits: Limits) -> Self {
        Self {
            side: Some(Side::Client),
            version: Some(version),
            ..Self::new(limits)
        }
    }

    /// A decoder for a stream that starts with CONNECT, checking no direction: packets either
    /// side may send are accepted. For reading captures; a connection uses
    /// [`server`](Self::server).
    #[must_use]
    pub fn new(limits: Limits) -> Self {
        Self {
            buf: BytesMut::new(),
            shared: Bytes::new(),
            side: None,
            version: None,
            limits,
            failed: None,
            keep_buffer: false,
            read_chunk: 0,
        }
    }

    /// A decoder for a stream of `version` packets, checking no direction. For reading
    /// captures; a connection uses [`client`](Self::client).
    #[must_use]
    pub fn with_version(version: ProtocolVersion, limits: Limits) -> Self {
        Self {
            version: Some(version),
            ..Self::new(limits)
        }
    }

    /// The side of the connection this decoder reads for; `None` if it checks no direction.
    #[must_use]
    pub fn side(&self) -> Option<Side> {
        self.side
    }

    /// The stream's version, once known.
    #[must_use]
    pub fn version(&self) -> Option<ProtocolVersion> {
        self.version
    }

    /// The limits the next packet is checked against.
    #[must_use]
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Changes the limits from the next packet on, for instance to raise the maximum packet
    /// size once a server has accepted the CONNECT.
    ///
    /// A packet whose fixed header is already buffered is checked against the new limits when
    /// [`decode`](Self::decode) is next called.
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// Keeps the receive buffer between reads (see the field); for a client's one connection.
    pub(crate) fn keep_buffer(mut self) -> Self {
        self.keep_buffer = true;
        self
    }

    /// Grows the receive buffer by at least `chunk` bytes at a time (see the field).
    pub(crate) fn read_chunk(mut self, chunk: usize) -> Self {
        self.read_chunk = chunk;
        self
    }

    /// Takes up the stream of another connection: the bytes it left unread (from
    /// [`suspend`](Self::suspend)), the version its CONNECT named (`None` before it), and its
    /// limits. One working decoder thus serves many connections, which hold only their
    /// unread bytes between reads (nothing at all when idle). A failure is forgotten: the
    /// caller resumes only streams that have not failed.
    #[inline]
    pub(crate) fn resume(
        &mut self,
        unread: Option<BytesMut>,
        version: Option<ProtocolVersion>,
        limits: Limits,
    ) {
        if let Some(unread) = unread {
            if unread.len() >= LARGE_PACKET {
                self.buf = unread;
            } else {
                // A few bytes: copied into the buffer kept for reading, and its spare room.
                self.buf.clear();
                self.append(&unread);
            }
        }
        self.version = version;
        self.limits = limits;
        self.failed = None;
    }

    /// The bytes not yet decoded, for [`resume`](Self::resume) to take up later; `None` when
    /// every packet was read, in which case the decoder keeps its buffer for the next stream.
    #[inline]
    pub(crate) fn suspend(&mut self) -> Option<BytesMut> {
        self.unshare_input();
        if self.buf.is_empty() {
            None
        } else if self.buf.len() < LARGE_PACKET {
            // A few bytes: copied out at their size, rather than taking the buffer with its
            // spare room (which the next stream reads into).
            let unread = BytesMut::from(&self.buf[..]);
            self.buf.clear();
            Some(unread)
        } else {
            Some(core::mem::take(&mut self.buf))
        }
    }

    /// Appends received bytes, copying them; ignored once decoding has failed.
    pub fn push(&mut self, data: &[u8]) {
        if self.failed.is_none() {
            self.unshare_input();
            self.append(data);
        }
    }

    /// Appends to the receive buffer, growing it by at least its read chunk (see the field).
    fn append(&mut self, data: &[u8]) {
        let spare = self.buf.capacity().saturating_sub(self.buf.len());
        if self.read_chunk != 0 && spare < data.len() {
            self.buf.reserve(data.len().max(self.read_chunk));
        }
        self.buf.extend_from_slice(data);
    }

    /// Appends received bytes without copying them: the packets complete within `data` are
    /// sliced out of it and share its allocation, and only the bytes of a packet that it
    /// leaves incomplete are copied, to wait for the rest. Ignored once decoding has failed.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use mqtt_sansio::{Decoder, Limits, Packet, ProtocolVersion};
    ///
    /// let mut decoder = Decoder::client(ProtocolVersion::V3_1_1, Limits::default());
    /// let read = Bytes::from_static(b"\x30\x05\x00\x01tab\xd0");
    /// decoder.push_bytes(read.clone());
    /// let Some(Packet::Publish(publish)) = decoder.decode()? else { unreachable!() };
    /// assert_eq!(publish.payload.as_ptr(), read[5..].as_ptr()); // no copy
    /// assert_eq!(decoder.decode()?, None); // half a PINGRESP, kept for the next read
    /// decoder.push_bytes(Bytes::from_static(b"\x00"));
    /// assert!(matches!(decoder.decode()?, Some(Packet::PingResp(_))));
    /// # Ok::<(), mqtt_sansio::DecodeFailure>(())
    /// ```
    pub fn push_bytes(&mut self, data: Bytes) {
        if self.failed.is_some() || data.is_empty() {
            return;
        }
        if self.buf.is_empty() && self.shared.is_empty() {
            self.shared = data;
        } else {
            self.unshare_input();
            self.buf.extend_from_slice(&data);
        }
    }

    /// Moves bytes given by [`push_bytes`](Self::push_bytes) into the receive buffer, ahead
    /// of bytes that arrive after them.
    fn unshare_input(&mut self) {
        if !self.shared.is_empty() {
            let shared = core::mem::take(&mut self.shared);
            self.buf.extend_from_slice(&shared);
        }
    }

    /// The buffer received bytes are appended to, for reading from a socket without an extra
    /// copy. It is released whenever [`decode`](Self::decode) leaves it empty, so reserve
    /// room before each read.
    pub fn buffer_mut(&mut self) -> &mut BytesMut {
        &mut self.buf
    }

    /// How many received bytes are not yet part of a returned packet.
    #[must_use]
    pub fn buffered(&self) -> usize {
        self.buf.len().saturating_add(self.shared.len())
    }

    /// The capacity of the receive buffer, in bytes. It is 0 whenever nothing is buffered
    /// after a call to [`decode`](Self::decode), and the decoder then holds no heap at all.
    /// While bytes are pending, the buffer may share its allocation with packets it returned.
    #[must_use]
    pub fn buffer_capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// The next complete packet, `Ok(None)` if more bytes are needed, or the failure that ends
    /// the stream, with what to answer.
    pub fn decode(&mut self) -> Result<Option<Packet<Bytes>>, DecodeFailure> {
        self.decode_with::<false>()
    }

    /// [`decode`](Self::decode) for a [`client`](Self::client) decoder, which names only the
    /// packet bodies a server sends: a client that calls it links no CONNECT, SUBSCRIBE or
    /// UNSUBSCRIBE decoder (their fixed headers are refused from a server all the same).
    pub(crate) fn decode_from_server(&mut self) -> Result<Option<Packet<Bytes>>, DecodeFailure> {
        self.decode_with::<true>()
    }

    /// The next packet if it is a PUBACK, PUBREC, PUBREL or PUBCOMP in its short form
    /// (Remaining Length 2: a Packet Identifier alone, which is Success in 5.0), consumed
    /// without building a [`Packet`]: acknowledgements are half the packets of QoS 1 and 2
    /// flows, and need no more than their type and identifier. `None`, consuming nothing, for
    /// anything else, which [`decode`](Self::decode) then reads (and refuses, if it must).
    pub(crate) fn short_ack(&mut self) -> Option<(PacketType, PacketId)> {
        // The four flow both ways and need a connection's version: only the first packet of a
        // stream is not one of them.
        if self.failed.is_some() || self.version.is_none() || self.limits.max_packet_size < 4 {
            return None;
        }
        // `shared` is read before `buf`, and is empty whenever `buf` is not.
        let from_shared = !self.shared.is_empty();
        let head: &[u8] = if from_shared { &self.shared } else { &self.buf };
        let [first, 2, high, low, ..] = *head else {
            return None;
        };
        let kind = match first {
            0x40 => PacketType::PubAck,
            0x50 => PacketType::PubRec,
            0x62 => PacketType::PubRel,
            0x70 => PacketType::PubComp,
            _ => return None,
        };
        let id = PacketId::new(u16::from_be_bytes([high, low]))?;
        if from_shared {
            self.shared.advance(4);
        } else {
            self.buf.advance(4);
        }
        if self.buf.is_empty() {
            self.release();
        }
        Some((kind, id))
    }

    /// Whether the next packet is a PUBLISH on a stream whose version is known, which
    /// [`decode_publish_into`](Self::decode_publish_into) then reads.
    #[inline]
    pub(crate) fn next_is_publish(&self) -> bool {
        // `shared` is read before `buf`, and is empty whenever `buf` is not.
        let head: &[u8] = if self.shared.is_empty() {
            &self.buf
        } else {
            &self.shared
        };
        self.version.is_some()
            && self.failed.is_none()
            && head.first().is_some_and(|first| first >> 4 == 3)
    }

    /// The next packet, a PUBLISH ([`next_is_publish`](Self::next_is_publish)), decoded into
    /// `publish`, with the same checks as [`decode`](Self::decode) but no [`Packet`] around
    /// it, which a server that receives mostly PUBLISH packets would build and take apart
    /// for each: a caller that keeps messages in place decodes each straight to its place.
    /// Returns the bytes of its whole frame (sharing their allocation), `Ok(None)` if more
    /// bytes are needed (`publish` is then untouched).
    #[inline]
    pub(crate) fn decode_publish_into(
        &mut self,
        publish: &mut Publish<Bytes>,
    ) -> Result<Option<Bytes>, DecodeFailure> {
        if let Some(failure) = self.failed {
            self.release();
            return Err(failure);
        }
        let connecting = self.version.is_none();
        let decoded = match self.decode_next_publish(publish) {
            Ok(decoded) => Ok(decoded),
            Err(failed) => Err(self.fail(failed, connecting)),
        };
        if self.buf.is_empty() || self.failed.is_some() {
            self.release();
        }
        decoded
    }

    /// The PUBLISH [`decode_publish_into`](Self::decode_publish_into) reads.
    #[inline(always)]
    fn decode_next_publish(
        &mut self,
        publish: &mut Publish<Bytes>,
    ) -> Result<Option<Bytes>, Failed> {
        let Some((bytes, header)) = self.next_frame()? else {
            return Ok(None);
        };
        let packet_type = header.packet_type;
        let version = self.version;
        let failed = |error: PeerError| (error, Some(packet_type), version);
        let (PacketType::Publish, Some(known)) = (packet_type, version) else {
            // Unreachable after `next_is_publish`.
            return Err(failed(ProtocolError::Unexpected(packet_type).into()));
        };
        let mut reader = Reader::new(&bytes, header.header_len..header.packet_len());
        *publish = match Publish::decode_body(known, &header, &mut reader) {
            Ok(decoded) => decoded,
            Err(error) => return Err(failed(error.into())),
        };
        // [MQTT-3.3.4-6]: Subscription Identifiers go from server to client only.
        if self.side == Some(Side::Server)
            && !publish.properties.subscription_identifiers.is_empty()
        {
            return Err(failed(ProtocolError::SubscriptionIdFromClient.into()));
        }
        Ok(Some(bytes))
    }

    fn decode_with<const FROM_SERVER: bool>(
        &mut self,
    ) -> Result<Option<Packet<Bytes>>, DecodeFailure> {
        if let Some(failure) = self.failed {
            self.release();
            return Err(failure);
        }
        // The failing packet opens the connection if it comes before any version is known.
        let connecting = self.version.is_none();
        // The packet is returned as `decode_next` built it: matching it out and wrapping it
        // again would copy it twice on every call.
        let decoded = self
            .decode_next::<FROM_SERVER>()
            .map_err(|failed| self.fail(failed, connecting));
        if self.buf.is_empty() || self.failed.is_some() {
            self.release();
        }
        decoded
    }

    /// Records the failure that ends the stream.
    #[cold]
    fn fail(&mut self, (error, packet_type, version): Failed, connecting: bool) -> DecodeFailure {
        let failure = DecodeFailure {
            error,
            packet_type,
            version,
            reply: Reply::for_error(&error, version, connecting),
        };
        self.failed = Some(failure);
        failure
    }

    /// Drops the receive buffer and its hold on any allocation. An empty buffer split off the
    /// end of a shared one has no capacity but still holds a reference to that allocation, so
    /// the capacity alone does not say whether there is anything to release.
    fn release(&mut self) {
        if self.keep_buffer && self.failed.is_none() {
            // Reclaimed in place by the next read once the packets cut from it are dropped.
            self.buf.clear();
        } else {
            self.buf = BytesMut::new();
        }
        // An empty slice still holds the allocation it was cut from.
        if self.failed.is_some() || self.shared.is_empty() {
            self.shared = Bytes::new();
        }
    }

    fn decode_next<const FROM_SERVER: bool>(&mut self) -> Result<Option<Packet<Bytes>>, Failed> {
        let Some((bytes, header)) = self.next_frame()? else {
            return Ok(None);
        };
        let packet_type = header.packet_type;
        let packet_len = header.packet_len();
        let mut reader = Reader::new(&bytes, header.header_len..packet_len);
        let version = match self.version {
            Some(version) => version,
            // A client decoder knows its version from the start.
            None if FROM_SERVER => {
                return Err((
                    ProtocolError::Unexpected(packet_type).into(),
                    Some(packet_type),
                    None,
                ));
            }
            // The first packet: `frame::parse` let only a CONNECT through.
            None => return self.decode_connect(&bytes, &mut reader),
        };
        let failed = |error: DecodeError| (error.into(), Some(packet_type), Some(version));
        let packet = if FROM_SERVER {
            // A packet and no `Decoded` around it: one move less of it in a client.
            match Packet::decode_server_body(version, &header, &mut reader) {
                Ok(packet) => packet,
                Err(error) => return Err(failed(error)),
            }
        } else {
            match Packet::decode_body(version, &header, &mut reader) {
                Ok(Decoded::Complete { packet, .. }) => packet,
                // Not produced by `decode_body`, which only ever completes or fails.
                Ok(Decoded::Incomplete { .. }) => return Ok(None),
                Err(error) => return Err(failed(error)),
            }
        };
        if let (Some(Side::Server), Packet::Publish(publish)) = (self.side, &packet) {
            // [MQTT-3.3.4-6]: Subscription Identifiers go from server to client only.
            if !publish.properties.subscription_identifiers.is_empty() {
                return Err((
                    ProtocolError::SubscriptionIdFromClient.into(),
                    Some(packet_type),
                    Some(version),
                ));
            }
        }
        Ok(Some(packet))
    }

    /// The first packet of a server's stream, which `frame::parse` made a CONNECT.
    fn decode_connect(
        &mut self,
        bytes: &Bytes,
        reader: &mut Reader<'_, Bytes>,
    ) -> Result<Option<Packet<Bytes>>, Failed> {
        match Connect::decode_body(reader) {
            Ok(connect) => {
                self.version = Some(connect.protocol_version);
                Ok(Some(Packet::from(connect)))
            }
            // The version survives a CONNECT that fails after its Protocol Level, so that the
            // refusal can be framed for the client.
            Err(error) => Err((
                error.into(),
                Some(PacketType::Connect),
                Connect::peek_version(bytes),
            )),
        }
    }

    /// The next whole packet's bytes and fixed header (checked against the limits and the
    /// direction), sliced from the shared input while it starts there, else from `buf`.
    fn next_frame(&mut self) -> Result<Option<(Bytes, frame::FixedHeader)>, Failed> {
        if self.buf.is_empty() && !self.shared.is_empty() {
            match frame::parse(&self.shared, self.version, self.limits.max_packet_size) {
                Ok(Header::Complete(header)) if self.shared.len() >= header.packet_len() => {
                    self.check_frame(&header)?;
                    let bytes = self.shared.split_to(header.packet_len());
                    return Ok(Some((bytes, header)));
                }
                Err(error) => return Err(self.header_failure(error, &self.shared)),
                // The packet continues in later input: wait for it in `buf`.
                Ok(_) => self.unshare_input(),
            }
        }
        let header = match frame::parse(&self.buf, self.version, self.limits.max_packet_size) {
            Ok(Header::Complete(header)) => header,
            Ok(Header::Incomplete { .. }) => return Ok(None),
            Err(error) => return Err(self.header_failure(error, &self.buf)),
        };
        self.check_frame(&header)?;
        let packet_len = header.packet_len();
        if self.buf.len() < packet_len {
            self.reserve_packet(packet_len);
            return Ok(None);
        }
        // The header is already checked; the body is decoded straight from it rather than
        // framing the split-off bytes a second time.
        let bytes = self.buf.split_to(packet_len).freeze();
        self.unshare_remainder(packet_len);
        Ok(Some((bytes, header)))
    }

    /// Refuses a packet that may not flow towards this side, before its body is read.
    fn check_frame(&self, header: &frame::FixedHeader) -> Result<(), Failed> {
        let packet_type = header.packet_type;
        self.check_direction(packet_type)
            .map_err(|error| (error.into(), Some(packet_type), self.version))
    }

    /// What is known about a packet whose fixed header is refused.
    fn header_failure(&self, error: DecodeError, input: &[u8]) -> Failed {
        let packet_type = match error {
            DecodeError::ReservedPacketType(_) => None,
            _ => input
                .first()
                .and_then(|first| PacketType::from_nibble(first >> 4)),
        };
        // Not peeked from an oversized CONNECT even when its Protocol Level is buffered:
        // whether it is depends on how the bytes were chunked, and the failure must not.
        (error.into(), packet_type, self.version)
    }

    /// Refuses a packet that may not flow towards this side, or a second CONNECT.
    fn check_direction(&self, packet_type: PacketType) -> Result<(), ProtocolError> {
        let (Some(side), Some(version)) = (self.side, self.version) else {
            // No side to check, or the first packet, which `frame::parse` made a CONNECT.
            return Ok(());
        };
        if side == Side::Server && packet_type == PacketType::Connect {
            // [MQTT-3.1.0-2]
            return Err(ProtocolError::SecondConnect);
        }
        if side.may_receive(packet_type, version) {
            Ok(())
        } else {
            Err(ProtocolError::WrongDirection {
                packet: packet_type,
                receiver: side,
            })
        }
    }

    /// Grows the buffer straight to `packet_len` once the peer has sent at least half of the
    /// packet; before that, it grows only as bytes arrive, so that a header alone cannot make
    /// the decoder reserve up to the maximum packet size.
    fn reserve_packet(&mut self, packet_len: usize) {
        let have = self.buf.len();
        let missing = packet_len.saturating_sub(have);
        if self.buf.capacity() >= packet_len || missing > have {
            return;
        }
        // `BytesMut::reserve` may round up (it doubles a `Vec`); a new buffer of exactly the
        // packet's size does not.
        let mut exact = BytesMut::with_capacity(packet_len);
        exact.extend_from_slice(&self.buf);
        self.buf = exact;
    }

    /// After a large packet was split off, moves a few pending bytes to a buffer of their own,
    /// so that they do not keep the packet's allocation alive after the packet is dropped.
    fn unshare_remainder(&mut self, packet_len: usize) {
        let pending = self.buf.len();
        if pending != 0 && pending < LARGE_PACKET && packet_len >= LARGE_PACKET {
            self.buf = BytesMut::from(&self.buf[..]);
        }
    }
}

/// A failure as `decode_next` reports it: the error, the packet type and the version if known.
type Failed = (PeerError, Option<PacketType>, Option<ProtocolVersion>);

/// Why a [`Decoder`] stopped, and what the spec says to send to the peer before closing.
///
/// ```
/// use mqtt_sansio::{ConnectReasonCode, DecodeError, Decoder, Limits, PacketType, ProtocolVersion, Reply};
///
/// // A 3.1.1 CONNECT with Clean Session 0 and an empty Client Identifier: [MQTT-3.1.3-8].
/// let mut decoder = Decoder::server(Limits::default());
/// decoder.push(b"\x10\x0c\x00\x04MQTT\x04\x00\x00\x3c\x00\x00");
/// let failure = decoder.decode().unwrap_err();
/// assert_eq!(failure.error, DecodeError::InvalidClientId.into());
/// assert_eq!(failure.packet_type, Some(PacketType::Connect));
/// assert_eq!(failure.version, Some(ProtocolVersion::V3_1_1));
/// // CONNACK with return code 0x02, in 3.1.1 framing, then close.
/// assert_eq!(
///     failure.reply,
///     Reply::ConnAck {
///         version: ProtocolVersion::V3_1_1,
///         code: ConnectReasonCode::ClientIdentifierNotValid,
///     }
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{error}")]
#[non_exhaustive]
pub struct DecodeFailure {
    /// What the peer did wrong.
    pub error: PeerError,
    /// The type of the packet that failed, if its first byte names one.
    pub packet_type: Option<PacketType>,
    /// The version of the stream, or for a failed CONNECT the version its Protocol Name and
    /// Level name, if they were read.
    pub version: Option<ProtocolVersion>,
    /// What to send before closing the connection.
    pub reply: Reply,
}

/// What a receiver sends before it closes a connection whose peer got something wrong
/// ([`DecodeFailure::reply`]); every variant ends with closing the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reply {
    /// Send nothing; close the connection.
    Close,
    /// Send a CONNACK refusing the connection, encoded in `version` (in 3.1 and 3.1.1 as the
    /// [`ConnectReturnCode`](crate::ConnectReturnCode) with the same meaning, which `code`
    /// always has then), then close.
    ConnAck {
        /// The version to frame the CONNACK in: the client's, so that it can read it.
        version: ProtocolVersion,
        /// The refusal.
        code: ConnectReasonCode,
    },
    /// Send a 5.0 DISCONNECT with this reason code, then close.
    Disconnect(DisconnectReasonCode),
}

impl Reply {
    /// What to answer `error`, met in a stream of `version` (if known), on the packet that
    /// opens the connection (`connecting`: a server's first packet) or on a later one. The one
    /// place that maps errors to replies:
    ///
    /// - On the first packet, an unsupported Protocol Level (or a level that does not go with
    ///   the name) is a CONNACK "unsupported protocol version" in the framing of the version the
    ///   level names, or of 3.1.1 if it names none (3.1.1 `[MQTT-3.1.2-2]`, 5.0
    ///   `[MQTT-3.1.2-2]`).
    /// - Any other failure before the version is read (not a CONNECT, `[MQTT-3.1.0-1]`;
    ///   an unknown protocol name, `[MQTT-3.1.2-1]`; bad framing) closes without a word: the
    ///   peer may not speak MQTT, and its framing is unknown.
    /// - A bad 5.0 CONNECT is refused with a CONNACK carrying the error's reason code
    ///   (`[MQTT-3.1.4-1]`, which allows one of 0x80 or above).
    /// - A bad 3.1 / 3.1.1 CONNECT closes without a CONNACK (3.1.1 `[MQTT-3.1.4-1]`), except a
    ///   refused Client Identifier, answered with return code 0x02 (`[MQTT-3.1.3-9]`).
    /// - After the CONNECT, 5.0 sends a DISCONNECT with the error's reason code; 3.1 and 3.1.1
    ///   have no way to say why and close (3.1.1 `[MQTT-4.8.0-1]`).
    fn for_error(error: &PeerError, version: Option<ProtocolVersion>, connecting: bool) -> Self {
        if !connecting {
            return match version {
                #[cfg(feature = "v5")]
                Some(ProtocolVersion::V5) => Self::Disconnect(error.disconnect_reason_code()),
                _ => Self::Close,
            };
        }
        if let PeerError::Decode(DecodeError::UnsupportedProtocolLevel { level }) = error {
            return Self::ConnAck {
                version: match ProtocolVersion::from_level(*level) {
                    Some(version) => version,
                    None => ProtocolVersion::V3_1_1,
                },
                code: ConnectReasonCode::UnsupportedProtocolVersion,
            };
        }
        match version {
            None => Self::Close,
            #[cfg(feature = "v5")]
            Some(ProtocolVersion::V5) => Self::ConnAck {
                version: ProtocolVersion::V5,
                code: error.connect_reason_code(),
            },
            Some(version) => match error.connect_return_code() {
                Some(code) => Self::ConnAck {
                    version,
                    code: code.to_reason_code(),
                },
                None => Self::Close,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reason::ConnectReasonCode as Connack;
    use crate::reason::DisconnectReasonCode as Disc;

    const V31: Option<ProtocolVersion> = Some(ProtocolVersion::V3_1);
    const V311: Option<ProtocolVersion> = Some(ProtocolVersion::V3_1_1);
    #[cfg(feature = "v5")]
    const V5: Option<ProtocolVersion> = Some(ProtocolVersion::V5);

    fn connack(version: ProtocolVersion, code: ConnectReasonCode) -> Reply {
        Reply::ConnAck { version, code }
    }

    /// The mapping from errors to replies, row by row.
    /// conformance: v311:MQTT-3.1.0-1, v5:MQTT-3.1.0-1, v311:MQTT-3.1.2-1, v5:MQTT-3.1.2-1,
    /// v311:MQTT-3.1.2-2, v5:MQTT-3.1.2-2, v311:MQTT-3.1.3-9, v311:MQTT-3.1.4-1,
    /// v5:MQTT-3.1.4-1, v311:MQTT-4.8.0-1
    #[test]
    fn reply_for_each_error_row_by_row() {
        #[cfg(feature = "v5")]
        use crate::types::PropertyId;
        use ProtocolVersion::{V3_1, V3_1_1};
        let d = |error: DecodeError| PeerError::Decode(error);
        let p = |error: ProtocolError| PeerError::Protocol(error);
        let malformed = d(DecodeError::ConnectReservedFlag);
        let too_large = d(DecodeError::PacketTooLarge { size: 9, max: 8 });
        let level = |level| d(DecodeError::UnsupportedProtocolLevel { level });
        let wrong_way = p(ProtocolError::WrongDirection {
            packet: PacketType::PingResp,
            receiver: Side::Server,
        });
        #[rustfmt::skip]
        let rows: &[(PeerError, Option<ProtocolVersion>, bool, Reply)] = &[
            // First packet, version unknown.
            (d(DecodeError::ExpectedConnect(3)), None, true, Reply::Close),
            (d(DecodeError::UnknownProtocolName), None, true, Reply::Close),
            (d(DecodeError::UnexpectedEnd { field: "protocol name" }), None, true, Reply::Close),
            (too_large, None, true, Reply::Close),
            (level(6), None, true, connack(V3_1_1, Connack::UnsupportedProtocolVersion)),
            (level(0), None, true, connack(V3_1_1, Connack::UnsupportedProtocolVersion)),
            // A level that names a version but not with this name: that version's framing.
            #[cfg(feature = "v5")]
            (level(5), None, true, connack(ProtocolVersion::V5, Connack::UnsupportedProtocolVersion)),
            // Without 5.0, level 5 is one this server does not speak: 3.1.1's refusal.
            #[cfg(not(feature = "v5"))]
            (level(5), None, true, connack(V3_1_1, Connack::UnsupportedProtocolVersion)),
            (level(4), None, true, connack(V3_1_1, Connack::UnsupportedProtocolVersion)),
            (level(3), None, true, connack(V3_1, Connack::UnsupportedProtocolVersion)),
            // First packet, 5.0: CONNACK with the error's code.
            #[cfg(feature = "v5")]
            (malformed, V5, true, connack(ProtocolVersion::V5, Connack::MalformedPacket)),
            #[cfg(feature = "v5")]
            (too_large, V5, true, connack(ProtocolVersion::V5, Connack::PacketTooLarge)),
            #[cfg(feature = "v5")]
            (d(DecodeError::InvalidClientId), V5, true, connack(ProtocolVersion::V5, Connack::ClientIdentifierNotValid)),
            #[cfg(feature = "v5")]
            (d(DecodeError::AuthDataWithoutMethod), V5, true, connack(ProtocolVersion::V5, Connack::ProtocolError)),
            // First packet, 3.x: close, unless a return code says it.
            (malformed, V311, true, Reply::Close),
            (too_large, V311, true, Reply::Close),
            (malformed, V31, true, Reply::Close),
            (d(DecodeError::InvalidClientId), V311, true, connack(V3_1_1, Connack::ClientIdentifierNotValid)),
            (d(DecodeError::InvalidClientId), V31, true, connack(V3_1, Connack::ClientIdentifierNotValid)),
            // Later packets: DISCONNECT in 5.0, close in 3.x.
            #[cfg(feature = "v5")]
            (malformed, V5, false, Reply::Disconnect(Disc::MalformedPacket)),
            #[cfg(feature = "v5")]
            (too_large, V5, false, Reply::Disconnect(Disc::PacketTooLarge)),
            #[cfg(feature = "v5")]
            (wrong_way, V5, false, Reply::Disconnect(Disc::ProtocolError)),
            #[cfg(feature = "v5")]
            (p(ProtocolError::SecondConnect), V5, false, Reply::Disconnect(Disc::ProtocolError)),
            #[cfg(feature = "v5")]
            (p(ProtocolError::SubscriptionIdFromClient), V5, false, Reply::Disconnect(Disc::ProtocolError)),
            #[cfg(feature = "v5")]
            (d(DecodeError::InvalidPropertyValue(PropertyId::TopicAlias)), V5, false, Reply::Disconnect(Disc::TopicAliasInvalid)),
            #[cfg(feature = "v5")]
            (d(DecodeError::ZeroPacketId { packet: PacketType::PubAck }), V5, false, Reply::Disconnect(Disc::ProtocolError)),
            (malformed, V311, false, Reply::Close),
            (wrong_way, V311, false, Reply::Close),
            (malformed, V31, false, Reply::Close),
        ];
        for (index, &(error, version, connecting, expected)) in rows.iter().enumerate() {
            assert_eq!(
                Reply::for_error(&error, version, connecting),
                expected,
                "row {index}: {error:?} in {version:?}, connecting: {connecting}"
            );
        }
    }

    /// Every reason code an error maps to has a DISCONNECT and a CONNACK form, and the
    /// fallback is Protocol Error.
    #[test]
    fn reason_code_getters_never_fail() {
        let unsupported = PeerError::from(DecodeError::UnknownProtocolName);
        assert_eq!(unsupported.disconnect_reason_code(), Disc::ProtocolError);
        assert_eq!(
            unsupported.connect_reason_code(),
            Connack::UnsupportedProtocolVersion
        );
        let alias = PeerError::from(DecodeError::InvalidPropertyValue(
            crate::types::PropertyId::TopicAlias,
        ));
        assert_eq!(alias.disconnect_reason_code(), Disc::TopicAliasInvalid);
        assert_eq!(alias.connect_reason_code(), Connack::ProtocolError);
        assert_eq!(alias.connect_return_code(), None);
    }

    #[test]
    fn release_drops_the_allocation() {
        let mut decoder = Decoder::client(ProtocolVersion::LATEST, Limits::default());
        decoder.buffer_mut().reserve(4096);
        assert!(decoder.buffer_capacity() >= 4096);
        assert_eq!(decoder.decode(), Ok(None));
        assert_eq!(decoder.buffer_capacity(), 0);
    }

    #[test]
    fn reserves_the_packet_once_half_of_it_has_arrived() {
        let mut decoder = Decoder::client(ProtocolVersion::V3_1_1, Limits::default());
        // PUBLISH of 3 + 200 bytes: header only, nothing reserved beyond what was given.
        decoder.push(&[0x30, 0xC9, 0x01, 0x00, 0x01, b't']);
        assert_eq!(decoder.decode(), Ok(None));
        assert!(decoder.buffer_capacity() < 64);
        decoder.push(&[0; 100]);
        assert_eq!(decoder.decode(), Ok(None));
        assert_eq!(decoder.buffer_capacity(), 204);
    }
}
