//! STUB of the mosquitto ACL file (`--acl-file`) as a [`Policy`]: the real file replaces this
//! one. Its API is fixed; this stub allows everything and reads no file.

#![allow(dead_code)]

use std::io;
use std::path::Path;

use mqtt_sansio::broker::Policy;

/// Who may publish and subscribe to what.
#[derive(Debug)]
pub(crate) struct Acl {
    _private: (),
}

impl Acl {
    /// The policy without a file: everything allowed.
    pub(crate) fn allow_all() -> Self {
        Self { _private: () }
    }

    /// Reads a mosquitto ACL file (the stub refuses every file).
    pub(crate) fn load(path: &Path) -> io::Result<Self> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!("{}: ACL files are not supported yet", path.display()),
        ))
    }

    /// Records that `client_id` is connecting as `username`, before its CONNECT is accepted.
    pub(crate) fn bind(&mut self, client_id: &str, username: Option<&str>) {
        let _ = (client_id, username);
    }

    /// Forgets `client_id`'s user when its connection ends.
    pub(crate) fn unbind(&mut self, client_id: &str) {
        let _ = client_id;
    }
}

impl Policy for Acl {
    fn may_publish(&self, _client_id: &str, _topic: &str) -> bool {
        true
    }

    fn may_subscribe(&self, _client_id: &str, _filter: &str) -> bool {
        true
    }
}
