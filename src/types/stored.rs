//! The packet layout of the crate's durable formats (the broker's snapshot, the client's
//! session state), which store messages as packets: their format version byte names it, so
//! that a build with the `v5` feature reads what a build without it wrote.

use super::ProtocolVersion;

/// The format version this build writes: 1, with packets in the 5.0 layout, or 2, the same
/// in the 3.1.1 layout, from a build without `v5` (whose messages have no properties to keep).
pub(crate) const FORMAT: u8 = if cfg!(feature = "v5") { 1 } else { 2 };

/// The layout [`FORMAT`] writes: the newest version of the build.
pub(crate) const LAYOUT: ProtocolVersion = ProtocolVersion::LATEST;

/// The protocol version whose layout the packets of format `version` take, if this build
/// reads that format: a build with `v5` reads both, one without it only format 2.
pub(crate) const fn layout(version: u8) -> Option<ProtocolVersion> {
    match version {
        #[cfg(feature = "v5")]
        1 => Some(ProtocolVersion::V5),
        2 => Some(ProtocolVersion::V3_1_1),
        _ => None,
    }
}
