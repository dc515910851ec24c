//! Who may connect: the driver's answer to [`Event::Authenticate`], from the password file and
//! `--allow-anonymous`, and the ACL told which user each connected client is.
//!
//! [`Event::Authenticate`]: mqtt_sansio::broker::Event::Authenticate

// The example and the tests each use a part of this module.
#![allow(dead_code)]

use std::collections::HashMap;
use std::rc::Rc;

use bytes::Bytes;
use mqtt_sansio::broker::ConnectionHandle;
use mqtt_sansio::{Broker, Connect, ConnectReasonCode, Instant};

use super::acl::Acl;
use super::log::{log_debug, log_warn};
use super::password::Passwords;

/// The checks on every CONNECT, and the Client Identifiers bound to a user in the ACL.
#[derive(Debug)]
pub(crate) struct Admission {
    /// `--password-file`: without one, a user name is taken as given (for the ACL).
    passwords: Option<Passwords>,
    /// Whether a client without a user name may connect.
    allow_anonymous: bool,
    /// The Client Identifier each connection is bound to in the ACL (one string shared with
    /// [`owners`](Self::owners)).
    bound: HashMap<ConnectionHandle, Rc<str>>,
    /// The connection each bound Client Identifier belongs to now: the latest one, since a
    /// client that takes its session over from an older connection binds again.
    owners: HashMap<Rc<str>, ConnectionHandle>,
}

impl Admission {
    /// The checks: `passwords` if given, and whether anonymous clients may connect.
    pub(crate) fn new(passwords: Option<Passwords>, allow_anonymous: bool) -> Self {
        Self {
            passwords,
            allow_anonymous,
            bound: HashMap::new(),
            owners: HashMap::new(),
        }
    }

    /// Answers a CONNECT: checks its user and password, binds its Client Identifier to its
    /// user in the ACL, and accepts or refuses it.
    pub(crate) fn decide(
        &mut self,
        broker: &mut Broker<Acl>,
        now: Instant,
        connection: ConnectionHandle,
        connect: &Connect<Bytes>,
    ) {
        let client_id = connect.client_id.as_str();
        let username = connect.username.as_ref().map(|name| name.as_str());
        let verdict = if connect.properties.authentication_method.is_some() {
            // Enhanced authentication (5.0 §4.12) needs a method this broker does not have.
            Err(ConnectReasonCode::BadAuthenticationMethod)
        } else {
            match (username, &self.passwords) {
                (None, _) if self.allow_anonymous => Ok(()),
                (None, _) => Err(ConnectReasonCode::NotAuthorized),
                (Some(username), Some(passwords)) => {
                    let password = connect.password.as_ref().map_or(&[][..], |p| p.as_ref());
                    if passwords.check(username, password) {
                        Ok(())
                    } else {
                        Err(ConnectReasonCode::BadUserNameOrPassword)
                    }
                }
                (Some(_), None) => Ok(()),
            }
        };
        if let Err(code) = verdict {
            log_warn!(
                "refused client '{client_id}' (user {username:?}): {code:?}",
                username = username.unwrap_or("")
            );
            // The connection waits for this verdict: the call cannot be out of turn.
            let _ = broker.refuse_connect(now, connection, code);
            return;
        }
        // An empty Client Identifier is already replaced by the one the broker assigns.
        self.bind(broker, connection, client_id, username);
        // The connection waits for this verdict: the call cannot be out of turn.
        let _ = broker.accept_connect(now, connection);
    }

    /// A connection is connected as `client_id`: rebinds it in the rare case that the broker
    /// gave it another identifier than the one it named when asking (an assigned one that a
    /// client took meanwhile).
    pub(crate) fn connected(
        &mut self,
        broker: &mut Broker<Acl>,
        connection: ConnectionHandle,
        client_id: &str,
    ) {
        let Some(bound) = self.bound.get(&connection) else {
            return;
        };
        if **bound == *client_id {
            return;
        }
        let username = broker.policy().username(bound).map(Box::<str>::from);
        self.release(broker, connection);
        self.bind(broker, connection, client_id, username.as_deref());
    }

    /// A connection's socket closed: its Client Identifier is unbound unless a newer
    /// connection holds it.
    pub(crate) fn closed(&mut self, broker: &mut Broker<Acl>, connection: ConnectionHandle) {
        self.release(broker, connection);
    }

    /// Binds `client_id` to `username` for `connection`.
    fn bind(
        &mut self,
        broker: &mut Broker<Acl>,
        connection: ConnectionHandle,
        client_id: &str,
        username: Option<&str>,
    ) {
        log_debug!(
            "client '{client_id}' connects as user {username:?}",
            username = username.unwrap_or("")
        );
        broker.policy_mut().bind(client_id, username);
        let client_id: Rc<str> = Rc::from(client_id);
        self.owners.insert(Rc::clone(&client_id), connection);
        self.bound.insert(connection, client_id);
    }

    /// Unbinds what `connection` bound, if it still owns it.
    fn release(&mut self, broker: &mut Broker<Acl>, connection: ConnectionHandle) {
        let Some(client_id) = self.bound.remove(&connection) else {
            return;
        };
        if self.owners.get(&client_id) == Some(&connection) {
            self.owners.remove(&client_id);
            broker.policy_mut().unbind(&client_id);
        }
    }
}
