//! STUB of the mosquitto password file (`--password-file`): the real file replaces this one.
//! Its API is fixed; this stub reads no file and knows no user.

#![allow(dead_code)]

use std::io;
use std::path::Path;

/// The users and password hashes of a mosquitto password file.
#[derive(Debug)]
pub(crate) struct Passwords {
    _private: (),
}

impl Passwords {
    /// Reads a mosquitto password file (the stub refuses every file).
    pub(crate) fn load(path: &Path) -> io::Result<Self> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!("{}: password files are not supported yet", path.display()),
        ))
    }

    /// Whether `password` is `username`'s (the stub knows no user).
    pub(crate) fn check(&self, username: &str, password: &[u8]) -> bool {
        let _ = (username, password);
        false
    }
}
