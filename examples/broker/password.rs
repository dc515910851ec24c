//! The broker's password file, in the format mosquitto 2.x reads and `mosquitto_passwd` writes,
//! so that a user can bring the file they already have.
//!
//! One user a line, `name:hash`; lines that are empty or start with `#` are skipped. The hash
//! is one of the two kinds `mosquitto_passwd` writes, with a 12-byte salt and a 64-byte
//! digest, both in standard base64 with padding:
//!
//! - `$7$<iterations>$<salt>$<digest>`: PBKDF2-HMAC-SHA512 of the password with the salt
//!   (`mosquitto_passwd`'s default since mosquitto 2.0, 101 iterations unless `-I` says
//!   otherwise);
//! - `$6$<salt>$<digest>`: SHA-512 of the password followed by the salt (mosquitto 1.6 and
//!   earlier, and `mosquitto_passwd -H sha512`).
//!
//! Unlike mosquitto, which logs a bad entry and drops it, [`Passwords::parse`] refuses the
//! whole file at the first bad line (a missing `:`, an unknown hash type such as a plain-text
//! password, a field that is not base64 or has the wrong length, a user named twice), naming
//! the line: a typo must not lock a user out silently.
//!
//! Iteration counts above [`MAX_ITERATIONS`] are refused as well. The broker checks passwords
//! on its one event-loop thread, at every CONNECT that names a user in the file, so the count
//! is a cost that anyone who knows a user name can make the broker pay: a file with
//! `$7$4294967295$...` would stall every client for hours at each such CONNECT.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest as _, Sha512};
use subtle::ConstantTimeEq as _;

/// The most PBKDF2 iterations a `$7$` hash may ask for: about 100 times `mosquitto_passwd`'s
/// default of 101, yet 10 to 20 ms of one core per check (PBKDF2-HMAC-SHA512 costs one to two
/// microseconds an iteration), so that a burst of CONNECTs cannot hold the event loop long.
pub(crate) const MAX_ITERATIONS: u32 = 10_000;

/// The length of the salt `mosquitto_passwd` writes, in bytes.
const SALT_LEN: usize = 12;

/// The length of a SHA-512 digest, and of the PBKDF2 output mosquitto keeps, in bytes.
const DIGEST_LEN: usize = 64;

/// The users of a mosquitto password file and their password hashes.
pub(crate) struct Passwords {
    /// Each user's hash, by user name.
    users: HashMap<Box<str>, Hash>,
}

impl Passwords {
    /// Reads the mosquitto password file at `path`; a bad line is an
    /// [`InvalidData`](io::ErrorKind::InvalidData) error that names the file and the line.
    pub(crate) fn load(path: &Path) -> io::Result<Self> {
        let text = std::fs::read_to_string(path)?;
        Self::parse(&text)
            .map_err(|error| io::Error::new(error.kind(), format!("{}: {error}", path.display())))
    }

    /// Parses the text of a mosquitto password file; a bad line is an
    /// [`InvalidData`](io::ErrorKind::InvalidData) error whose message starts with
    /// `line N:`.
    pub(crate) fn parse(text: &str) -> io::Result<Self> {
        let mut users: HashMap<Box<str>, Hash> = HashMap::new();
        let mut lines_of: HashMap<Box<str>, usize> = HashMap::new();
        for (index, line) in text.lines().enumerate() {
            let number = index + 1;
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((name, hash)) = line.split_once(':') else {
                return Err(bad_line(number, "expected `user:hash`"));
            };
            let name = name.trim();
            if name.is_empty() {
                return Err(bad_line(number, "empty user name"));
            }
            let hash = Hash::parse(hash.trim()).map_err(|why| bad_line(number, &why))?;
            if let Some(first) = lines_of.get(name) {
                return Err(bad_line(
                    number,
                    &format!("user `{name}` is already on line {first}"),
                ));
            }
            lines_of.insert(name.into(), number);
            users.insert(name.into(), hash);
        }
        Ok(Self { users })
    }

    /// Whether `username` is in the file and `password` is theirs. The digests are compared
    /// in constant time.
    pub(crate) fn check(&self, username: &str, password: &[u8]) -> bool {
        self.users
            .get(username)
            .is_some_and(|hash| hash.verify(password))
    }

    /// How many users the file has (for the driver's log line).
    pub(crate) fn len(&self) -> usize {
        self.users.len()
    }
}

impl fmt::Debug for Passwords {
    /// The user count only: the hashes stay out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Passwords")
            .field("users", &self.users.len())
            .finish()
    }
}

/// One user's password hash.
struct Hash {
    /// How the digest was made.
    kind: Kind,
    /// The salt.
    salt: [u8; SALT_LEN],
    /// The digest of the password with the salt.
    digest: [u8; DIGEST_LEN],
}

/// The hash functions of a mosquitto password file.
#[derive(Clone, Copy)]
enum Kind {
    /// `$6$`: SHA-512 of the password, then the salt.
    Sha512,
    /// `$7$`: PBKDF2-HMAC-SHA512 with this many iterations.
    Pbkdf2 {
        /// The iteration count, between 1 and [`MAX_ITERATIONS`].
        iterations: u32,
    },
}

impl Hash {
    /// Parses the part of a line after the user name's `:`; the error says what is wrong.
    fn parse(text: &str) -> Result<Self, String> {
        let mut fields = text.split('$');
        if fields.next() != Some("") {
            return Err(
                "not a mosquitto hash (plain-text passwords are not accepted: \
                 hash the file with `mosquitto_passwd -U`)"
                    .to_owned(),
            );
        }
        let kind = match fields.next() {
            Some("6") => Kind::Sha512,
            Some("7") => {
                let count = fields.next().unwrap_or("");
                let iterations: u32 = count
                    .parse()
                    .map_err(|_| format!("bad iteration count `{count}`"))?;
                if iterations == 0 || iterations > MAX_ITERATIONS {
                    return Err(format!(
                        "iteration count {iterations} outside 1..={MAX_ITERATIONS}"
                    ));
                }
                Kind::Pbkdf2 { iterations }
            }
            None | Some("") => return Err("missing hash type".to_owned()),
            Some(other) => {
                return Err(format!(
                    "unknown hash type `${other}$` (only `$6$` and `$7$` are known)"
                ));
            }
        };
        let salt = decode_field::<SALT_LEN>(fields.next(), "salt")?;
        let digest = decode_field::<DIGEST_LEN>(fields.next(), "hash")?;
        if fields.next().is_some() {
            return Err("too many `$` fields".to_owned());
        }
        Ok(Self { kind, salt, digest })
    }

    /// Whether `password` hashes to the digest.
    fn verify(&self, password: &[u8]) -> bool {
        let mut computed = [0u8; DIGEST_LEN];
        match self.kind {
            Kind::Sha512 => {
                let mut hasher = Sha512::new();
                hasher.update(password);
                hasher.update(self.salt);
                computed.copy_from_slice(&hasher.finalize());
            }
            Kind::Pbkdf2 { iterations } => {
                pbkdf2::pbkdf2_hmac::<Sha512>(password, &self.salt, iterations, &mut computed);
            }
        }
        bool::from(computed.ct_eq(&self.digest))
    }
}

/// Decodes the base64 field `field` (named `what` in errors) into exactly `N` bytes.
fn decode_field<const N: usize>(field: Option<&str>, what: &str) -> Result<[u8; N], String> {
    let field = field.ok_or_else(|| format!("missing {what}"))?;
    let bytes = STANDARD
        .decode(field)
        .map_err(|_| format!("{what} is not base64"))?;
    <[u8; N]>::try_from(bytes.as_slice())
        .map_err(|_| format!("{what} has {} bytes, not {N}", bytes.len()))
}

/// The error for line `number` of the file.
fn bad_line(number: usize, why: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("line {number}: {why}"))
}
