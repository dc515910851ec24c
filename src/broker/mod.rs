//! The broker's state machine (in progress): only its two data structures so far, the
//! subscription trie and the retained-message store.

pub(crate) mod retained;
pub(crate) mod subscriptions;

/// The broker's data structures, public for the benchmarks in `benches/` only: not part of the
/// API, hidden from the docs, and free to change in any release.
#[doc(hidden)]
pub mod __internal {
    pub use super::retained::{Retained, RetainedSize};
    pub use super::subscriptions::{Match, Subscriptions, TrieFull};
}
