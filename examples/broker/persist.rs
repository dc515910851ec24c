//! The `--persist` file: the broker's snapshot read at start and written atomically.
//!
//! A write goes to a temporary file beside the target (same directory, so the same file
//! system), is flushed to disk with `fsync`, and replaces the target with `rename`, which is
//! atomic: a crash at any moment leaves either the old snapshot or the new one, never half of
//! one. The directory is synced afterwards so that the rename itself survives a power loss.

// The example and the tests each use a part of this module.
#![allow(dead_code)]

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Reads the snapshot at `path`; `None` if there is no file (a fresh start).
pub(crate) fn load(path: &Path) -> io::Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error),
    }
}

/// Replaces the file at `path` with `bytes`, atomically and durably.
pub(crate) fn save(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let temporary = temporary_path(path);
    let written = write_synced(&temporary, bytes).and_then(|()| fs::rename(&temporary, path));
    if let Err(error) = written {
        // Leave no half-written temporary file behind; the old snapshot is untouched.
        let _ = fs::remove_file(&temporary);
        return Err(error);
    }
    sync_directory(path);
    Ok(())
}

/// `FILE.tmp` beside `FILE`.
fn temporary_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map_or_else(|| OsString::from("snapshot"), OsString::from);
    name.push(".tmp");
    path.with_file_name(name)
}

/// Writes `bytes` to a new file at `path` and waits until they are on disk.
fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Syncs the directory holding `path`, so that a rename into it is on disk. Best effort: some
/// systems cannot open a directory for this, and the rename is done either way.
fn sync_directory(path: &Path) {
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    if let Ok(directory) = File::open(directory) {
        let _ = directory.sync_all();
    }
}
