//! The bytes every generated message carries: which publisher sent it, its sequence number and
//! when it was sent, so that the subscriber side can tell loss, duplicates and latency from the
//! payload alone.

/// Bytes the stamp takes at the start of a payload; the rest is filler.
pub(crate) const STAMP_LEN: usize = 20;

/// What a payload says about its message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Stamp {
    /// The publisher's index in the scenario.
    pub(crate) publisher: u32,
    /// The publisher's count of messages before this one.
    pub(crate) seq: u64,
    /// Nanoseconds from the run's epoch to the moment the message was encoded.
    pub(crate) sent_ns: u64,
}

impl Stamp {
    /// Writes the stamp at the start of `payload` (big-endian fields); the rest is untouched.
    ///
    /// `payload` is at least [`STAMP_LEN`] long: the argument parser refuses smaller payloads.
    pub(crate) fn write(self, payload: &mut [u8]) {
        payload[0..4].copy_from_slice(&self.publisher.to_be_bytes());
        payload[4..12].copy_from_slice(&self.seq.to_be_bytes());
        payload[12..20].copy_from_slice(&self.sent_ns.to_be_bytes());
    }

    /// Reads the stamp at the start of `payload`; `None` if it is too short to hold one.
    pub(crate) fn read(payload: &[u8]) -> Option<Self> {
        let publisher = payload.get(0..4)?.try_into().ok()?;
        let seq = payload.get(4..12)?.try_into().ok()?;
        let sent_ns = payload.get(12..20)?.try_into().ok()?;
        Some(Self {
            publisher: u32::from_be_bytes(publisher),
            seq: u64::from_be_bytes(seq),
            sent_ns: u64::from_be_bytes(sent_ns),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamp_reads_back_what_was_written_and_leaves_the_filler() {
        let stamp = Stamp {
            publisher: 7,
            seq: 0x0102_0304_0506_0708,
            sent_ns: u64::MAX - 1,
        };
        let mut payload = [0xAA; 64];
        stamp.write(&mut payload);
        assert_eq!(Stamp::read(&payload), Some(stamp));
        assert!(payload[STAMP_LEN..].iter().all(|&b| b == 0xAA));
    }

    #[test]
    fn payload_shorter_than_a_stamp_reads_as_none() {
        assert_eq!(Stamp::read(&[0; STAMP_LEN - 1]), None);
    }
}
