//! [`Arena`]: copies a packet's fields into one right-sized allocation, so that a packet kept
//! for later (a retained or queued message, a stored Will, a session's client id) holds only
//! its own bytes instead of the whole receive buffer it was decoded from.
//!
//! Each type that holds buffer-backed fields has one `detach_in(&self, arena)` method (the
//! [`Detach`] trait) that rebuilds it as a `Bytes`-backed value, taking every field from the
//! arena. [`Arena::run`] calls that method twice: once with a measuring arena, which hands out
//! empty buffers (they allocate nothing) and adds up the lengths asked for, then once with a
//! copying arena of exactly that capacity. Each type so lists its fields once, and the size
//! computation cannot drift from the copy.

use bytes::{BufMut, Bytes, BytesMut};
use bytestring::ByteString;

/// Where detached fields are copied to: nowhere while measuring, or one shared allocation.
#[derive(Debug)]
pub(crate) enum Arena {
    /// Counts the bytes the fields need; hands out empty buffers.
    Measure(usize),
    /// Copies each field into the allocation and hands out a slice of it.
    Copy(BytesMut),
}

impl Arena {
    /// Runs `detach` once to measure and once to copy into a single allocation of the
    /// measured size, and returns the second result. Nothing is allocated when no field holds
    /// a byte.
    pub(crate) fn run<T>(detach: impl Fn(&mut Self) -> T) -> T {
        let mut measure = Self::Measure(0);
        drop(detach(&mut measure));
        let total = match measure {
            Self::Measure(total) => total,
            Self::Copy(_) => 0,
        };
        detach(&mut Self::Copy(BytesMut::with_capacity(total)))
    }

    /// `src` as a slice of the arena.
    pub(crate) fn bytes(&mut self, src: &[u8]) -> Bytes {
        self.write_with(src.len(), |buf| buf.put_slice(src))
    }

    /// `src` as a string in the arena.
    ///
    /// `bytestring` has no safe constructor that skips validation, so the copied bytes are
    /// checked as UTF-8 once more; they came from a `str`, so the check cannot fail, and if it
    /// did the string would be copied on its own rather than lost.
    pub(crate) fn string(&mut self, src: &str) -> ByteString {
        let bytes = self.bytes(src.as_bytes());
        ByteString::try_from(bytes).unwrap_or_else(|_| ByteString::from(src))
    }

    /// `len` bytes written by `write` into the arena, as one slice of it. `write` must write
    /// exactly `len` bytes (more would still be correct, in a second allocation).
    pub(crate) fn write_with(&mut self, len: usize, write: impl FnOnce(&mut BytesMut)) -> Bytes {
        match self {
            Self::Measure(total) => {
                *total = total.saturating_add(len);
                Bytes::new()
            }
            // An empty field needs no part of the allocation (and an empty split would make
            // the allocation shared for nothing).
            Self::Copy(_) if len == 0 => Bytes::new(),
            Self::Copy(buf) => {
                write(buf);
                buf.split().freeze()
            }
        }
    }
}

/// A value that can be rebuilt with its buffer-backed fields copied into an [`Arena`].
pub(crate) trait Detach {
    /// The same value backed by `Bytes` slices of the arena.
    type Detached;

    /// Rebuilds the value, taking each buffer-backed field from `arena`.
    fn detach_in(&self, arena: &mut Arena) -> Self::Detached;
}

impl<T: Detach> Detach for Option<T> {
    type Detached = Option<T::Detached>;

    fn detach_in(&self, arena: &mut Arena) -> Self::Detached {
        self.as_ref().map(|value| value.detach_in(arena))
    }
}

/// Values without buffer-backed fields are copied as they are.
macro_rules! detach_by_copy {
    ($($ty:ty),+ $(,)?) => {
        $(
            impl $crate::codec::arena::Detach for $ty {
                type Detached = Self;

                #[inline]
                fn detach_in(&self, _arena: &mut $crate::codec::arena::Arena) -> Self {
                    *self
                }
            }
        )+
    };
}
pub(crate) use detach_by_copy;

detach_by_copy!(bool, u16, u32, core::num::NonZeroU16, core::num::NonZeroU32);

/// The public `into_owned` (from a borrowed `&[u8]`) and `detach` (from `Bytes`) methods of
/// a type generic over its buffer, both running its [`Detach`] impl in an [`Arena::run`].
macro_rules! detach_methods {
    ($ty:ident, $what:literal) => {
        impl<'a> $ty<&'a [u8]> {
            #[doc = concat!("Copies ", $what, " out of the buffer it borrows, into one")]
            /// allocation that holds exactly its strings, binary fields and payload.
            ///
            /// Strings are checked as UTF-8 again as they are copied (the `bytestring` crate
            /// has no safe way to skip it). See [`Packet::into_owned`](crate::Packet).
            #[must_use]
            pub fn into_owned(self) -> $ty<bytes::Bytes> {
                $crate::codec::arena::Arena::run(|arena| {
                    $crate::codec::arena::Detach::detach_in(&self, arena)
                })
            }
        }

        impl $ty<bytes::Bytes> {
            #[doc = concat!("Copies ", $what, " into one allocation that holds exactly its")]
            /// strings, binary fields and payload, so that keeping it no longer keeps the whole
            /// receive buffer it was decoded from alive.
            ///
            /// Strings are checked as UTF-8 again as they are copied (the `bytestring` crate
            /// has no safe way to skip it). See [`Packet::detach`](crate::Packet).
            #[must_use]
            pub fn detach(&self) -> Self {
                $crate::codec::arena::Arena::run(|arena| {
                    $crate::codec::arena::Detach::detach_in(self, arena)
                })
            }
        }
    };
}
pub(crate) use detach_methods;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_share_one_allocation_of_the_measured_size() {
        let (a, b, empty) =
            Arena::run(|arena| (arena.bytes(b"abc"), arena.string("de"), arena.bytes(b"")));
        assert_eq!((&a[..], &b[..], &empty[..]), (&b"abc"[..], "de", &b""[..]));
        // `b` starts right where `a` ends: one allocation.
        assert_eq!(a.as_ptr().wrapping_add(3), b.as_bytes().as_ptr());
    }

    #[test]
    fn nothing_to_copy_allocates_nothing() {
        let empty = Arena::run(|arena| arena.bytes(b""));
        assert!(empty.is_empty());
    }
}
