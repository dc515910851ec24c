//! MQTT over TLS for the broker example: the server configuration from PEM files
//! (`--tls-cert FILE --tls-key FILE`) and [`TlsStream`], a rustls server connection over a
//! non-blocking mio socket.
//!
//! The crypto provider is rustls' `ring` one (the smallest build; `aws-lc-rs` needs cmake).
//! ALPN: the server offers `mqtt` (what AWS IoT clients ask for on port 443) and `http/1.1`
//! (what browsers ask for on `wss://`); a client that offers no ALPN at all is served too.
//! A client that offers only other protocols is refused, as RFC 7301 says.

// The example and the tests each use a part of this module.
#![allow(dead_code)]

use std::fs;
use std::io::{self, ErrorKind, Read, Write};
use std::path::Path;
use std::sync::Arc;

use mio::net::TcpStream;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ServerConfig, ServerConnection};

use super::transport::ByteStream;

/// The ALPN protocols the server accepts, in order of preference.
const ALPN: [&[u8]; 2] = [b"mqtt", b"http/1.1"];

/// Bytes rustls may hold for one connection in each direction before `write` refuses more:
/// plaintext waiting for the handshake to end, and TLS records waiting for the socket.
const BUFFER_LIMIT: usize = 64 * 1024;

/// The TLS server configuration from a PEM certificate chain (the server's certificate
/// first) and a PEM private key (PKCS#8, PKCS#1 or SEC1). Errors name the file at fault.
pub(crate) fn server_config(cert: &Path, key: &Path) -> io::Result<Arc<ServerConfig>> {
    let chain = read_chain(cert)?;
    let private_key = read_key(key)?;
    // rustls 0.23.48 deprecates ring's provider for lacking post-quantum key exchange; the
    // aws-lc-rs one has it but builds a C library with cmake, which this example avoids.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(chain, private_key)
        .map_err(|e| {
            let files = format!("{} with {}", cert.display(), key.display());
            io::Error::new(ErrorKind::InvalidData, format!("{files}: {e}"))
        })?;
    config.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

/// Reads every certificate of a PEM file; none is an error.
fn read_chain(path: &Path) -> io::Result<Vec<CertificateDer<'static>>> {
    let pem = fs::read(path).map_err(|e| named(path, e))?;
    let chain = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| named(path, io::Error::new(ErrorKind::InvalidData, e)))?;
    if chain.is_empty() {
        return Err(named(
            path,
            io::Error::new(ErrorKind::InvalidData, "no PEM certificate in it"),
        ));
    }
    Ok(chain)
}

/// Reads the first private key of a PEM file.
fn read_key(path: &Path) -> io::Result<PrivateKeyDer<'static>> {
    let pem = fs::read(path).map_err(|e| named(path, e))?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| {
        let reason = match e {
            rustls::pki_types::pem::Error::NoItemsFound => "no PEM private key in it".to_owned(),
            e => e.to_string(),
        };
        named(path, io::Error::new(ErrorKind::InvalidData, reason))
    })
}

/// The same error, its message starting with the file's name.
fn named(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

/// A TLS server connection over a non-blocking socket: MQTT bytes in and out as plaintext.
///
/// `read` runs the handshake and decrypts; `write` encrypts and tries to send at once;
/// [`wants_write`](ByteStream::wants_write) says TLS records are still waiting for the socket,
/// which [`flush`](Write::flush) sends.
#[derive(Debug)]
pub(crate) struct TlsStream {
    /// The TLS state machine, with its buffers.
    conn: ServerConnection,
    /// The socket under it.
    socket: TcpStream,
}

impl TlsStream {
    /// A server connection on an accepted socket; nothing is read or sent yet.
    pub(crate) fn new(socket: TcpStream, config: Arc<ServerConfig>) -> io::Result<Self> {
        let mut conn = ServerConnection::new(config).map_err(io::Error::other)?;
        conn.set_buffer_limit(Some(BUFFER_LIMIT));
        Ok(Self { conn, socket })
    }

    /// The ALPN protocol agreed in the handshake, if any.
    pub(crate) fn alpn_protocol(&self) -> Option<&[u8]> {
        self.conn.alpn_protocol()
    }

    /// Sends TLS records until none are left (`Ok`) or the socket is full (`WouldBlock`).
    fn send_records(&mut self) -> io::Result<()> {
        while self.conn.wants_write() {
            if self.conn.write_tls(&mut self.socket)? == 0 {
                return Err(ErrorKind::WriteZero.into());
            }
        }
        Ok(())
    }

    /// Sends what it can now; a full socket is not an error (the records wait).
    fn try_send_records(&mut self) -> io::Result<()> {
        match self.send_records() {
            Err(e) if e.kind() == ErrorKind::WouldBlock => Ok(()),
            other => other,
        }
    }
}

impl Read for TlsStream {
    /// Plaintext into `buf`; `Ok(0)` once the peer closed (with or without close_notify),
    /// `WouldBlock` when the socket has nothing more, `InvalidData` on a TLS error (the alert
    /// is sent, best effort).
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            // Plaintext already decrypted goes first: rustls refuses more TLS input while its
            // plaintext buffer is full.
            match self.conn.reader().read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                // The socket closed without close_notify: MQTT has its own end (DISCONNECT),
                // so this is a close like any other.
                Err(e) if e.kind() == ErrorKind::UnexpectedEof => return Ok(0),
                Err(e) => return Err(e),
            }
            self.conn.read_tls(&mut self.socket)?;
            if let Err(e) = self.conn.process_new_packets() {
                let _ = self.try_send_records();
                return Err(io::Error::new(ErrorKind::InvalidData, e));
            }
            // Handshake messages and alerts the input called for.
            self.try_send_records()?;
        }
    }
}

impl Write for TlsStream {
    /// Takes as much plaintext as rustls' buffer limit allows (`WouldBlock` when none) and
    /// sends the records it can.
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let mut n = self.conn.writer().write(data)?;
        if n == 0 && !data.is_empty() {
            // The plaintext buffer is full: its records go to the socket first. Only a full
            // socket may refuse the bytes (`WouldBlock` from here): one with room would never
            // signal WRITABLE again, and whatever waits behind this write would stall.
            self.send_records()?;
            n = self.conn.writer().write(data)?;
        }
        self.try_send_records()?;
        if n == 0 && !data.is_empty() {
            return Err(ErrorKind::WouldBlock.into());
        }
        Ok(n)
    }

    /// Sends the pending TLS records: `WouldBlock` while some remain.
    fn flush(&mut self) -> io::Result<()> {
        self.send_records()
    }
}

impl ByteStream for TlsStream {
    fn socket(&mut self) -> &mut TcpStream {
        &mut self.socket
    }

    fn wants_write(&self) -> bool {
        self.conn.wants_write()
    }

    fn close(&mut self) {
        self.conn.send_close_notify();
        let _ = self.send_records();
    }
}
