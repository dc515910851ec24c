//! PINGREQ and PINGRESP ([§3.12], [§3.13]): a fixed header and nothing else, in every version.
//!
//! [§3.12]: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901195
//! [§3.13]: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901200

use bytes::BufMut;

use crate::error::EncodeError;
use crate::packet::{EncodeBody, encode_methods};
use crate::types::ProtocolVersion;

/// PINGREQ: the client is alive and asks the server to answer.
///
/// ```
/// use mqtt_sansio::{PingReq, ProtocolVersion};
///
/// let mut buf = Vec::new();
/// PingReq.encode(ProtocolVersion::V3_1_1, &mut buf).unwrap();
/// assert_eq!(buf, [0xC0, 0x00]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PingReq;

/// PINGRESP: the server's answer to PINGREQ.
///
/// ```
/// use mqtt_sansio::{PingResp, ProtocolVersion};
///
/// let mut buf = Vec::new();
/// PingResp.encode(ProtocolVersion::V5, &mut buf).unwrap();
/// assert_eq!(buf, [0xD0, 0x00]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PingResp;

impl PingReq {
    encode_methods!(PingReq);
}

impl PingResp {
    encode_methods!(PingResp);
}

impl EncodeBody for PingReq {
    fn remaining_len(&self, _version: ProtocolVersion) -> Result<usize, EncodeError> {
        Ok(0)
    }

    fn first_byte(&self) -> u8 {
        0xC0
    }

    fn write_body(&self, _version: ProtocolVersion, _buf: &mut impl BufMut) {}
}

impl EncodeBody for PingResp {
    fn remaining_len(&self, _version: ProtocolVersion) -> Result<usize, EncodeError> {
        Ok(0)
    }

    fn first_byte(&self) -> u8 {
        0xD0
    }

    fn write_body(&self, _version: ProtocolVersion, _buf: &mut impl BufMut) {}
}
