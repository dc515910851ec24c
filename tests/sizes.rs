//! The sizes of the decoded packet types, pinned so that they do not creep back up: every
//! decode writes one of these, and a larger value costs a larger copy on every move.
//!
//! The figures are for 64-bit targets; `BENCHMARKS.md` records them before and after the
//! property sets were reshaped.

use core::mem::size_of;

use bytes::Bytes;
use mqtt_sansio::{MessageProperties, Packet, Publish, PublishProperties};

#[cfg(target_pointer_width = "64")]
#[test]
fn decoded_packets_stay_small() {
    assert_eq!(size_of::<MessageProperties<&[u8]>>(), 24);
    assert_eq!(size_of::<MessageProperties<Bytes>>(), 40);
    assert_eq!(size_of::<PublishProperties<&[u8]>>(), 72);
    assert_eq!(size_of::<PublishProperties<Bytes>>(), 104);
    assert_eq!(size_of::<Publish<&[u8]>>(), 112);
    assert_eq!(size_of::<Publish<Bytes>>(), 176);
    assert_eq!(size_of::<Packet<&[u8]>>(), 112);
    assert_eq!(size_of::<Packet<Bytes>>(), 176);
}
