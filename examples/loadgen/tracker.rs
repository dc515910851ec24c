//! Which sequence numbers arrived: a bitmap per publisher, so that loss and duplicates are
//! exact, and so that a QoS 1 run can check every acknowledged message against what arrived.
//!
//! The bitmaps grow by doubling as sequence numbers rise (an amortised allocation every few
//! thousand messages, none per message).

/// A set of sequence numbers, as a bitmap.
#[derive(Clone, Debug, Default)]
pub(crate) struct SeqSet {
    words: Vec<u64>,
    len: u64,
}

impl SeqSet {
    /// Adds `seq`; `false` if it was there already.
    #[inline]
    pub(crate) fn insert(&mut self, seq: u64) -> bool {
        let word = (seq / 64) as usize;
        if word >= self.words.len() {
            let wanted = (word + 1).max(self.words.len() * 2).max(1024);
            self.words.resize(wanted, 0);
        }
        let bit = 1u64 << (seq % 64);
        let fresh = self.words[word] & bit == 0;
        self.words[word] |= bit;
        self.len += u64::from(fresh);
        fresh
    }

    /// How many numbers are in the set.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// How many numbers of this set are missing from `other`.
    pub(crate) fn missing_from(&self, other: &Self) -> u64 {
        self.words
            .iter()
            .enumerate()
            .map(|(index, &word)| {
                let theirs = other.words.get(index).copied().unwrap_or(0);
                u64::from((word & !theirs).count_ones())
            })
            .sum()
    }
}

/// What one subscriber received, per publisher.
#[derive(Clone, Debug, Default)]
pub(crate) struct Tracker {
    by_publisher: Vec<SeqSet>,
    duplicates: u64,
    foreign: u64,
}

impl Tracker {
    /// A tracker expecting messages from `publishers` publishers (indices below it).
    pub(crate) fn new(publishers: usize) -> Self {
        Self {
            by_publisher: vec![SeqSet::default(); publishers],
            duplicates: 0,
            foreign: 0,
        }
    }

    /// Counts a message; `true` if it is the first copy of that message.
    #[inline]
    pub(crate) fn record(&mut self, publisher: u32, seq: u64) -> bool {
        match self.by_publisher.get_mut(publisher as usize) {
            Some(set) => {
                let fresh = set.insert(seq);
                self.duplicates += u64::from(!fresh);
                fresh
            }
            None => {
                self.foreign += 1;
                false
            }
        }
    }

    /// The sequence numbers that arrived from `publisher`.
    pub(crate) fn received_from(&self, publisher: usize) -> Option<&SeqSet> {
        self.by_publisher.get(publisher)
    }

    /// Copies of messages that had arrived before.
    pub(crate) fn duplicates(&self) -> u64 {
        self.duplicates
    }

    /// Messages whose payload named no publisher of the scenario (or had no stamp).
    pub(crate) fn foreign(&self) -> u64 {
        self.foreign
    }

    /// Counts a message whose payload carried no stamp.
    pub(crate) fn record_foreign(&mut self) {
        self.foreign += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_copy_of_a_message_is_a_duplicate() {
        let mut tracker = Tracker::new(2);
        assert!(tracker.record(1, 5));
        assert!(!tracker.record(1, 5));
        assert!(tracker.record(0, 5));
        assert_eq!(tracker.duplicates(), 1);
        assert_eq!(tracker.received_from(1).map(SeqSet::len), Some(1));
    }

    #[test]
    fn unknown_publisher_is_counted_as_foreign() {
        let mut tracker = Tracker::new(1);
        assert!(!tracker.record(3, 0));
        assert_eq!(tracker.foreign(), 1);
    }

    #[test]
    fn missing_from_counts_numbers_the_other_set_lacks() {
        let mut acked = SeqSet::default();
        let mut received = SeqSet::default();
        for seq in 0..200_000 {
            acked.insert(seq);
            if seq % 1000 != 7 {
                received.insert(seq);
            }
        }
        assert_eq!(acked.missing_from(&received), 200);
        assert!(!received.insert(8) && received.insert(7));
        assert_eq!(received.missing_from(&acked), 0);
    }
}
