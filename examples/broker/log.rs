//! The broker's log: one line per event on standard error, filtered by `--log-level`.
//!
//! The level is process-wide (an atomic), so that every module logs through the macros below
//! without carrying a logger around. The macros expand to `super::log::write(..)`: they are
//! for the sibling modules of this one (`server.rs`, `persist.rs`, ...), which is where they
//! are used both in the example and in the tests that include these files.

// The example and the tests each use a part of this module.
#![allow(dead_code, unused_macros, unused_imports)]

use std::fmt;
use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// How important a line is; a level shows itself and everything more important.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Level {
    /// The broker cannot do what it was asked (a socket that cannot be bound, a snapshot that
    /// cannot be written).
    Error = 1,
    /// Something went wrong for one client or one attempt (a connection refused, an accept
    /// that failed).
    Warn = 2,
    /// The broker's life: start, listeners, snapshots, shutdown.
    Info = 3,
    /// Every connection: accepted, connected, closed and why.
    Debug = 4,
}

impl Level {
    /// The level named `name` (`error`, `warn`, `info`, `debug`).
    pub(crate) fn parse(name: &str) -> Option<Self> {
        match name {
            "error" => Some(Self::Error),
            "warn" | "warning" => Some(Self::Warn),
            "info" => Some(Self::Info),
            "debug" => Some(Self::Debug),
            _ => None,
        }
    }

    /// The name printed in each line.
    fn name(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warn => "warn",
            Self::Info => "info",
            Self::Debug => "debug",
        }
    }
}

/// The most verbose level shown; `info` until [`set_level`] says otherwise.
static LEVEL: AtomicU8 = AtomicU8::new(Level::Info as u8);

/// Shows `level` and everything more important from now on.
pub(crate) fn set_level(level: Level) {
    LEVEL.store(level as u8, Ordering::Relaxed);
}

/// Whether lines of `level` are shown (to skip building what would not be printed).
pub(crate) fn enabled(level: Level) -> bool {
    level as u8 <= LEVEL.load(Ordering::Relaxed)
}

/// Writes one line at `level`: Unix time with milliseconds, the level, the message.
pub(crate) fn write(level: Level, message: fmt::Arguments<'_>) {
    if !enabled(level) {
        return;
    }
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let line = format!(
        "{}.{:03} {}: {message}\n",
        since_epoch.as_secs(),
        since_epoch.subsec_millis(),
        level.name()
    );
    // One write per line, so that lines from several threads (the tests) do not mix; a log
    // that cannot be written is no reason to stop the broker.
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// Logs at `error`.
macro_rules! log_error {
    ($($arg:tt)*) => {
        super::log::write(super::log::Level::Error, format_args!($($arg)*))
    };
}

/// Logs at `warn`.
macro_rules! log_warn {
    ($($arg:tt)*) => {
        super::log::write(super::log::Level::Warn, format_args!($($arg)*))
    };
}

/// Logs at `info`.
macro_rules! log_info {
    ($($arg:tt)*) => {
        super::log::write(super::log::Level::Info, format_args!($($arg)*))
    };
}

/// Logs at `debug`.
macro_rules! log_debug {
    ($($arg:tt)*) => {
        super::log::write(super::log::Level::Debug, format_args!($($arg)*))
    };
}

pub(crate) use {log_debug, log_error, log_info, log_warn};
