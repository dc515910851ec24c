//! [`WireList`]: a list of packet entries that is either validated wire bytes (decoded, no
//! allocation) or values (built by the caller).

use alloc::vec::Vec;
use core::fmt;

use bytes::{BufMut, Bytes};

use crate::codec::arena::{Arena, Detach};
use crate::codec::buffer::Buffer;
use crate::codec::reader::Reader;

/// The entries of a SUBSCRIBE, SUBACK, UNSUBSCRIBE or UNSUBACK payload, or the occurrences of
/// a repeatable property (User Property, Subscription Identifier).
///
/// A decoded list keeps the validated bytes it was decoded from and decodes each entry again
/// as it is iterated, so decoding allocates nothing; a list built by the caller holds a `Vec`.
/// Both compare equal when they hold the same entries in the same order.
///
/// ```
/// use mqtt_sansio::{QoS, Subscription, SubscriptionOptions, TopicFilter, WireList};
///
/// let mut list: WireList<&[u8], Subscription<&[u8]>> = WireList::new();
/// list.push(Subscription::new(TopicFilter::new("a/+").unwrap(), QoS::AtLeastOnce));
/// assert_eq!(list.len(), 1);
/// assert_eq!(list.iter().next().unwrap().options.qos, QoS::AtLeastOnce);
/// ```
pub struct WireList<B: Buffer, T> {
    repr: Repr<B, T>,
}

enum Repr<B, T> {
    /// Validated encoded entries; `raw` may also hold other properties between them.
    Wire {
        raw: B,
        count: usize,
        encoded_len: usize,
    },
    /// Entries given by the caller.
    Values(Vec<T>),
}

pub(crate) mod sealed {
    use bytes::BufMut;

    use crate::codec::buffer::Buffer;
    use crate::codec::reader::Reader;

    /// How one entry of a [`WireList`](super::WireList) is read and written.
    pub trait WireItem<B: Buffer>: Sized {
        /// Reads the next entry from validated bytes, skipping bytes that belong to something
        /// else (another property); `None` at the end.
        fn read_next(reader: &mut Reader<'_, B>) -> Option<Self>;

        /// The entry's encoded size.
        fn encoded_len(&self) -> usize;

        /// Writes the entry.
        fn write(&self, buf: &mut impl BufMut);
    }
}

use sealed::WireItem;

impl<B: Buffer, T> WireList<B, T> {
    /// An empty list; allocates nothing.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            repr: Repr::Values(Vec::new()),
        }
    }

    /// A list over validated bytes holding `count` entries of `encoded_len` bytes in all.
    pub(crate) fn from_wire(raw: B, count: usize, encoded_len: usize) -> Self {
        Self {
            repr: Repr::Wire {
                raw,
                count,
                encoded_len,
            },
        }
    }

    /// How many entries there are.
    #[must_use]
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Wire { count, .. } => *count,
            Repr::Values(values) => values.len(),
        }
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<B: Buffer, T: WireItem<B> + Clone> WireList<B, T> {
    /// The entries, in order.
    pub fn iter(&self) -> Iter<'_, B, T> {
        let inner = match &self.repr {
            Repr::Wire { raw, count, .. } => IterRepr::Wire {
                reader: Reader::new(raw, 0..raw.as_ref().len()),
                left: *count,
            },
            Repr::Values(values) => IterRepr::Values(values.iter()),
        };
        Iter { inner }
    }

    /// Appends an entry (a decoded list is first copied into a `Vec`).
    pub fn push(&mut self, item: T) {
        if let Repr::Wire { .. } = self.repr {
            let values: Vec<T> = self.iter().collect();
            self.repr = Repr::Values(values);
        }
        if let Repr::Values(values) = &mut self.repr {
            values.push(item);
        }
    }

    /// The encoded size of all entries.
    pub(crate) fn encoded_len(&self) -> usize {
        match &self.repr {
            Repr::Wire { encoded_len, .. } => *encoded_len,
            Repr::Values(values) => values
                .iter()
                .fold(0, |sum, item| sum.saturating_add(item.encoded_len())),
        }
    }

    /// Writes all entries; a decoded list whose bytes hold nothing else is copied in one go.
    pub(crate) fn write(&self, buf: &mut impl BufMut) {
        match &self.repr {
            Repr::Wire {
                raw, encoded_len, ..
            } if raw.as_ref().len() == *encoded_len => {
                buf.put_slice(raw.as_ref());
            }
            Repr::Wire { .. } => self.iter().for_each(|item| item.write(buf)),
            Repr::Values(values) => values.iter().for_each(|item| item.write(buf)),
        }
    }

    /// Calls `check` on every entry, stopping at the first error, and returns the entries'
    /// encoded length. A built list is walked once, by reference (no clone of each entry's
    /// strings), summing as it checks; a decoded one is read entry by entry and keeps the length
    /// it was decoded with.
    pub(crate) fn checked_encoded_len<E>(
        &self,
        mut check: impl FnMut(&T) -> Result<(), E>,
    ) -> Result<usize, E> {
        match &self.repr {
            Repr::Wire { encoded_len, .. } => {
                self.iter().try_for_each(|item| check(&item))?;
                Ok(*encoded_len)
            }
            Repr::Values(values) => values.iter().try_fold(0usize, |sum, item| {
                check(item)?;
                Ok(sum.saturating_add(item.encoded_len()))
            }),
        }
    }
}

/// A detached list is always in wire form, written into the arena, even if it was built from
/// values: no `Vec` is allocated, and entries are decoded again as they are iterated.
impl<B: Buffer, T: WireItem<B> + Clone + Detach> Detach for WireList<B, T> {
    type Detached = WireList<Bytes, T::Detached>;

    fn detach_in(&self, arena: &mut Arena) -> Self::Detached {
        if self.is_empty() {
            return WireList::new();
        }
        let encoded_len = self.encoded_len();
        let raw = arena.write_with(encoded_len, |buf| self.write(buf));
        WireList::from_wire(raw, self.len(), encoded_len)
    }
}

impl<B: Buffer, T> Default for WireList<B, T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<B: Buffer, T: Clone> Clone for WireList<B, T> {
    fn clone(&self) -> Self {
        let repr = match &self.repr {
            Repr::Wire {
                raw,
                count,
                encoded_len,
            } => Repr::Wire {
                raw: raw.clone(),
                count: *count,
                encoded_len: *encoded_len,
            },
            Repr::Values(values) => Repr::Values(values.clone()),
        };
        Self { repr }
    }
}

impl<B: Buffer, T: WireItem<B> + Clone + PartialEq> PartialEq for WireList<B, T> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl<B: Buffer, T: WireItem<B> + Clone + Eq> Eq for WireList<B, T> {}

impl<B: Buffer, T: WireItem<B> + Clone + fmt::Debug> fmt::Debug for WireList<B, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<B: Buffer, T> From<Vec<T>> for WireList<B, T> {
    fn from(values: Vec<T>) -> Self {
        Self {
            repr: Repr::Values(values),
        }
    }
}

impl<B: Buffer, T> FromIterator<T> for WireList<B, T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Self {
            repr: Repr::Values(iter.into_iter().collect()),
        }
    }
}

impl<'a, B: Buffer, T: WireItem<B> + Clone> IntoIterator for &'a WireList<B, T> {
    type Item = T;
    type IntoIter = Iter<'a, B, T>;

    fn into_iter(self) -> Iter<'a, B, T> {
        self.iter()
    }
}

/// An iterator over the entries of a [`WireList`].
pub struct Iter<'a, B: Buffer, T> {
    inner: IterRepr<'a, B, T>,
}

enum IterRepr<'a, B, T> {
    Wire { reader: Reader<'a, B>, left: usize },
    Values(core::slice::Iter<'a, T>),
}

impl<B: Buffer, T: WireItem<B> + Clone> Iterator for Iter<'_, B, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        match &mut self.inner {
            IterRepr::Wire { reader, left } => {
                *left = left.checked_sub(1)?;
                T::read_next(reader)
            }
            IterRepr::Values(values) => values.next().cloned(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.inner {
            IterRepr::Wire { left, .. } => (0, Some(*left)),
            IterRepr::Values(values) => values.size_hint(),
        }
    }
}

impl<B: Buffer, T> fmt::Debug for Iter<'_, B, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Iter").finish_non_exhaustive()
    }
}
