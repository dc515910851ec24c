//! [`Decoder`]: frames a byte stream into owned packets.

use bytes::{Bytes, BytesMut};

use crate::codec::frame::{self, Header};
use crate::codec::reader::Reader;
use crate::codec::{Decoded, Limits};
use crate::error::DecodeError;
use crate::packet::{Connect, Packet};
use crate::types::ProtocolVersion;

/// Frames a byte stream into [`Packet<Bytes>`]s that share the stream buffer's storage.
///
/// Bytes go in with [`push`](Self::push) (or straight into [`buffer_mut`](Self::buffer_mut)
/// from a socket read), packets come out of [`decode`](Self::decode). The decoder keeps only
/// the bytes it was given and not yet returned as packets; a fixed header announcing more than
/// [`Limits::max_packet_size`] is an error as soon as it is complete, before its body is
/// buffered. Each packet is split off the buffer without copying, so its payload and strings
/// keep that part of the buffer's allocation alive for as long as the packet lives.
///
/// A server-side decoder starts without a version: the first packet must be a CONNECT, whose
/// Protocol Level then sets the version of the rest of the stream.
///
/// After an error the stream cannot be resynchronised: every later call returns the same
/// error, and the connection should be closed (after a DISCONNECT or CONNACK carrying
/// [`DecodeError::reason_code`]).
///
/// ```
/// use mqtt_sansio::{Decoder, Limits, Packet, ProtocolVersion};
///
/// let mut decoder = Decoder::with_version(ProtocolVersion::V3_1_1, Limits::default());
/// decoder.push(&[0x30, 0x06, 0x00, 0x03, b'a']); // part of a PUBLISH
/// assert_eq!(decoder.decode()?, None);
/// decoder.push(&[b'/', b'b', b'!', 0xD0, 0x00]); // its end, and a PINGRESP
/// assert!(matches!(decoder.decode()?, Some(Packet::Publish(_))));
/// assert!(matches!(decoder.decode()?, Some(Packet::PingResp(_))));
/// assert_eq!(decoder.decode()?, None);
/// # Ok::<(), mqtt_sansio::DecodeError>(())
/// ```
#[derive(Debug)]
pub struct Decoder {
    buf: BytesMut,
    version: Option<ProtocolVersion>,
    limits: Limits,
    failed: Option<DecodeError>,
}

impl Decoder {
    /// A decoder for a stream that starts with CONNECT (the server side of a connection).
    #[must_use]
    pub fn new(limits: Limits) -> Self {
        Self {
            buf: BytesMut::new(),
            version: None,
            limits,
            failed: None,
        }
    }

    /// A decoder for a stream of `version` packets (the client side, which chose the version).
    #[must_use]
    pub fn with_version(version: ProtocolVersion, limits: Limits) -> Self {
        Self {
            version: Some(version),
            ..Self::new(limits)
        }
    }

    /// The stream's version, once known.
    #[must_use]
    pub fn version(&self) -> Option<ProtocolVersion> {
        self.version
    }

    /// Appends received bytes.
    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// The buffer received bytes are appended to, for reading from a socket without an extra
    /// copy.
    pub fn buffer_mut(&mut self) -> &mut BytesMut {
        &mut self.buf
    }

    /// How many received bytes are not yet part of a returned packet.
    #[must_use]
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The next complete packet, `Ok(None)` if more bytes are needed, or the error that ends
    /// the stream.
    pub fn decode(&mut self) -> Result<Option<Packet<Bytes>>, DecodeError> {
        if let Some(error) = self.failed {
            return Err(error);
        }
        let result = self.decode_next();
        if let Err(error) = result {
            self.failed = Some(error);
        }
        result
    }

    fn decode_next(&mut self) -> Result<Option<Packet<Bytes>>, DecodeError> {
        let header = match frame::parse(&self.buf, self.version, self.limits.max_packet_size)? {
            Header::Complete(header) => header,
            Header::Incomplete { .. } => return Ok(None),
        };
        let packet_len = header.packet_len();
        if self.buf.len() < packet_len {
            return Ok(None);
        }
        // The header is already checked; decode the body straight from it rather than framing
        // the split-off bytes a second time.
        let bytes = self.buf.split_to(packet_len).freeze();
        let mut reader = Reader::new(&bytes, header.header_len..packet_len);
        match self.version {
            Some(version) => match Packet::decode_body(version, &header, &mut reader)? {
                Decoded::Complete { packet, .. } => Ok(Some(packet)),
                // Not produced by `decode_body`, which only ever completes or fails.
                Decoded::Incomplete { .. } => Ok(None),
            },
            None => {
                let connect = Connect::decode_body(&mut reader)?;
                self.version = Some(connect.protocol_version);
                Ok(Some(Packet::from(connect)))
            }
        }
    }
}
