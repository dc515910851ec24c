//! Sessions by Client Identifier, with each identifier stored once, in its session.
//!
//! The index is a B-tree of (keyed hash of the identifier, session slot): 16 bytes an entry
//! however long the identifier. A lookup walks the entries of one hash and compares each
//! candidate's identifier, so a collision costs a comparison, never a wrong answer. The hash
//! is SipHash-1-3 keyed by [`BrokerConfig::hash_seed`](super::BrokerConfig::hash_seed): a
//! driver that sets a random seed denies clients the knowledge needed to make their
//! identifiers collide.

use alloc::collections::BTreeSet;

/// The index; see the module docs.
#[derive(Debug)]
pub(crate) struct ClientIndex {
    entries: BTreeSet<(u64, u32)>,
    key: (u64, u64),
}

impl ClientIndex {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            entries: BTreeSet::new(),
            key: (seed, seed.rotate_left(32) ^ 0x6d71_7474_2d73_616e),
        }
    }

    /// The slot of the session named `client_id`, given each slot's identifier.
    pub(crate) fn find<'a>(
        &self,
        client_id: &str,
        id_of: impl Fn(u32) -> Option<&'a str>,
    ) -> Option<u32> {
        let hash = self.hash(client_id);
        self.entries
            .range((hash, 0)..=(hash, u32::MAX))
            .map(|&(_, slot)| slot)
            .find(|&slot| id_of(slot) == Some(client_id))
    }

    /// Records that slot `slot` holds the session named `client_id`.
    pub(crate) fn insert(&mut self, client_id: &str, slot: u32) {
        self.entries.insert((self.hash(client_id), slot));
    }

    /// Forgets that slot `slot` holds the session named `client_id`.
    pub(crate) fn remove(&mut self, client_id: &str, slot: u32) {
        self.entries.remove(&(self.hash(client_id), slot));
    }

    /// Sessions indexed.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    fn hash(&self, client_id: &str) -> u64 {
        sip13(self.key, client_id.as_bytes())
    }
}

/// SipHash-1-3 of `data` under `key` (one compression round, three finalization rounds).
fn sip13(key: (u64, u64), data: &[u8]) -> u64 {
    let mut v = [
        key.0 ^ 0x736f_6d65_7073_6575,
        key.1 ^ 0x646f_7261_6e64_6f6d,
        key.0 ^ 0x6c79_6765_6e65_7261,
        key.1 ^ 0x7465_6462_7974_6573,
    ];
    let mut chunks = data.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        compress(&mut v, u64::from_le_bytes(word), 1);
    }
    let rest = chunks.remainder();
    let mut last = [0u8; 8];
    for (byte, &value) in last.iter_mut().zip(rest) {
        *byte = value;
    }
    // The length's low byte goes in the last word's top byte.
    last[7] = data.len() as u8;
    compress(&mut v, u64::from_le_bytes(last), 1);
    v[2] ^= 0xff;
    sip_rounds(&mut v, 3);
    v[0] ^ v[1] ^ v[2] ^ v[3]
}

fn compress(v: &mut [u64; 4], word: u64, rounds: usize) {
    v[3] ^= word;
    sip_rounds(v, rounds);
    v[0] ^= word;
}

fn sip_rounds(v: &mut [u64; 4], rounds: usize) {
    for _ in 0..rounds {
        v[0] = v[0].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(13) ^ v[0];
        v[0] = v[0].rotate_left(32);
        v[2] = v[2].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(16) ^ v[2];
        v[0] = v[0].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(21) ^ v[0];
        v[2] = v[2].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(17) ^ v[2];
        v[2] = v[2].rotate_left(32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference implementation's SipHash-1-3 of the empty input and of 0..15 under key
    /// 00..0f (the published SipHash-2-4 vectors' key), as std's `SipHasher13` computes it.
    #[test]
    fn matches_siphash_1_3() {
        let key = (0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908);
        let data: [u8; 15] = core::array::from_fn(|n| n as u8);
        assert_eq!(sip13(key, &[]), EXPECTED_EMPTY);
        assert_eq!(sip13(key, &data), EXPECTED_15);
    }

    const EXPECTED_EMPTY: u64 = 0xabac_0158_050f_c4dc;
    const EXPECTED_15: u64 = 0xd320_d86d_2a51_9956;

    /// Every identifier is found in its slot, whatever collides with it.
    #[test]
    fn finds_each_identifier_among_colliding_ones() {
        let ids = ["a", "b", "client-000000001", ""];
        let mut index = ClientIndex::new(7);
        for (slot, id) in ids.iter().enumerate() {
            index.insert(id, slot as u32);
        }
        // Force collisions: a second entry under a's hash that names another identifier.
        let hash_a = index.hash("a");
        index.entries.insert((hash_a, 9));
        let id_of = |slot: u32| match slot {
            9 => Some("not-a"),
            slot => ids.get(slot as usize).copied(),
        };
        for (slot, id) in ids.iter().enumerate() {
            assert_eq!(index.find(id, id_of), Some(slot as u32), "{id}");
        }
        assert_eq!(index.find("missing", id_of), None);
        index.remove("a", 0);
        assert_eq!(index.find("a", id_of), None);
        assert_eq!(index.len(), 4);
    }
}
