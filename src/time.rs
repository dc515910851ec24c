//! Time as the state machines see it: a millisecond [`Instant`] the driver passes in. The
//! library never reads a clock, so it runs the same on a server, on a device with a tick
//! counter and in a test that jumps time forward.

use core::ops::{Add, Sub};
use core::time::Duration;

/// A point in time, in milliseconds since an origin the driver chooses (boot, process start,
/// the Unix epoch): only differences between instants matter.
///
/// Arithmetic saturates instead of overflowing, so no input can make it panic.
///
/// ```
/// use core::time::Duration;
/// use mqtt_sansio::Instant;
///
/// let start = Instant::from_millis(1_000);
/// let later = start + Duration::from_secs(30);
/// assert_eq!(later.as_millis(), 31_000);
/// assert_eq!(later - start, Duration::from_secs(30));
/// assert_eq!(start - later, Duration::ZERO);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(u64);

impl Instant {
    /// The origin.
    pub const ZERO: Self = Self(0);

    /// The instant `millis` milliseconds after the origin.
    #[must_use]
    pub const fn from_millis(millis: u64) -> Self {
        Self(millis)
    }

    /// Milliseconds since the origin.
    #[must_use]
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// The time from `earlier` to `self`, or zero if `earlier` is later.
    #[must_use]
    pub const fn saturating_duration_since(self, earlier: Self) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }

    /// `self + duration`, saturating at the largest instant; sub-millisecond parts are
    /// dropped.
    #[must_use]
    pub fn saturating_add(self, duration: Duration) -> Self {
        let millis = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
        Self(self.0.saturating_add(millis))
    }
}

impl Add<Duration> for Instant {
    type Output = Self;

    fn add(self, duration: Duration) -> Self {
        self.saturating_add(duration)
    }
}

impl Sub for Instant {
    type Output = Duration;

    fn sub(self, earlier: Self) -> Duration {
        self.saturating_duration_since(earlier)
    }
}
