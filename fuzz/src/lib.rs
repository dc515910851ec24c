//! The checks behind the fuzz targets of mqtt-sansio.
//!
//! Each target in `fuzz_targets/` is one line calling a function of [`checks`]; the same
//! module is compiled into the main crate's `tests/fuzz_replay.rs`, which replays every
//! committed corpus and regression input through it on the stable toolchain.

pub mod checks;
#[path = "../../tests/common/topic_reference.rs"]
mod topic_reference;

pub use checks::broker::broker_session;
pub use checks::client::client_session;
pub use checks::restore::broker_restore;
pub use checks::{
    decode_connect, decode_v5, decode_v31, decode_v311, roundtrip, stream_chunks, topic_match,
};
