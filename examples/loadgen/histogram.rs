//! A latency histogram with a fixed set of buckets: recording is an index computation and an
//! increment, never an allocation, and quantiles are within about 3 % of the true value.
//!
//! Values below 32 ns have a bucket each; above, every power of two is split into 32 equal
//! buckets (the top five significant bits select one), up to 2^40 ns (about 18 minutes), where
//! values are clamped. The maximum is kept exactly beside the buckets.

/// Significant bits that select a bucket within a power of two.
const SUB_BITS: u32 = 5;
/// Buckets per power of two.
const SUB_BUCKETS: usize = 1 << SUB_BITS;
/// The largest value recorded as itself; larger ones land in the last bucket.
const MAX_TRACKED: u64 = (1 << 40) - 1;
/// Buckets in all: the exact ones below 32, then 32 per power of two from 2^5 to 2^39.
const BUCKETS: usize = (40 - SUB_BITS as usize + 1) * SUB_BUCKETS;

/// Counts of latencies in nanoseconds, in fixed buckets.
#[derive(Clone)]
pub(crate) struct Histogram {
    counts: Box<[u64; BUCKETS]>,
    total: u64,
    max: u64,
}

impl Histogram {
    /// An empty histogram (its one allocation is made here, never while recording).
    pub(crate) fn new() -> Self {
        Self {
            counts: Box::new([0; BUCKETS]),
            total: 0,
            max: 0,
        }
    }

    /// Counts one value.
    #[inline]
    pub(crate) fn record(&mut self, nanos: u64) {
        self.counts[index(nanos.min(MAX_TRACKED))] += 1;
        self.total += 1;
        self.max = self.max.max(nanos);
    }

    /// Adds another histogram's counts to this one.
    pub(crate) fn merge(&mut self, other: &Self) {
        for (mine, theirs) in self.counts.iter_mut().zip(other.counts.iter()) {
            *mine += theirs;
        }
        self.total += other.total;
        self.max = self.max.max(other.max);
    }

    /// How many values were recorded.
    pub(crate) fn count(&self) -> u64 {
        self.total
    }

    /// The largest value recorded, exactly; 0 when empty.
    pub(crate) fn max(&self) -> u64 {
        self.max
    }

    /// The value at quantile `q` (0 to 1): the middle of the bucket holding it, capped at the
    /// maximum; 0 when empty.
    pub(crate) fn quantile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        // The rank of the value wanted, 1-based: at least the first, at most the last.
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (bucket, &count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                let (low, high) = bounds(bucket);
                return (low + (high - low) / 2).min(self.max);
            }
        }
        self.max
    }
}

impl std::fmt::Debug for Histogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Histogram")
            .field("count", &self.total)
            .field("p50", &self.quantile(0.5))
            .field("max", &self.max)
            .finish()
    }
}

/// The bucket of a value no larger than [`MAX_TRACKED`].
#[inline]
fn index(value: u64) -> usize {
    if value < SUB_BUCKETS as u64 {
        return value as usize;
    }
    let exponent = 63 - value.leading_zeros(); // at least SUB_BITS
    let sub = (value >> (exponent - SUB_BITS)) as usize & (SUB_BUCKETS - 1);
    (exponent - SUB_BITS + 1) as usize * SUB_BUCKETS + sub
}

/// The lowest and highest value of a bucket.
fn bounds(bucket: usize) -> (u64, u64) {
    if bucket < SUB_BUCKETS {
        return (bucket as u64, bucket as u64);
    }
    let exponent = (bucket / SUB_BUCKETS) as u32 + SUB_BITS - 1;
    let sub = (bucket % SUB_BUCKETS) as u64;
    let width = 1u64 << (exponent - SUB_BITS);
    let low = (1u64 << exponent) + sub * width;
    (low, low + width - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_falls_within_its_buckets_bounds() {
        let mut value = 0u64;
        while value <= MAX_TRACKED {
            let (low, high) = bounds(index(value));
            assert!(low <= value && value <= high, "{value} in [{low}, {high}]");
            assert!(index(value) < BUCKETS);
            value = value * 3 / 2 + 1;
        }
        assert_eq!(index(MAX_TRACKED), BUCKETS - 1);
    }

    #[test]
    fn quantiles_are_within_three_percent() {
        let mut histogram = Histogram::new();
        for micros in 1..=10_000u64 {
            histogram.record(micros * 1_000);
        }
        for (q, exact) in [(0.5, 5_000_000.0), (0.99, 9_900_000.0)] {
            let got = histogram.quantile(q) as f64;
            assert!((got - exact).abs() / exact < 0.03, "q{q}: {got} vs {exact}");
        }
        assert_eq!(histogram.max(), 10_000_000);
        assert_eq!(histogram.count(), 10_000);
    }

    #[test]
    fn merged_histogram_counts_both_and_keeps_the_larger_maximum() {
        let mut a = Histogram::new();
        let mut b = Histogram::new();
        a.record(100);
        b.record(5_000);
        b.record(u64::MAX);
        a.merge(&b);
        assert_eq!(a.count(), 3);
        assert_eq!(a.max(), u64::MAX);
        assert_eq!(a.quantile(0.0), 100);
    }

    #[test]
    fn empty_histogram_reports_zero() {
        assert_eq!(Histogram::new().quantile(0.99), 0);
    }
}
