//! The driver ends connections: one ([`Broker::disconnect`]), or all of them when the server
//! shuts down ([`Broker::shutdown`]).

use alloc::vec::Vec;

use super::{Broker, CloseReason, ConnectionHandle, Out, Phase, Policy};
use crate::error::UsageError;
use crate::reason::DisconnectReasonCode;
use crate::time::Instant;

impl<P: Policy> Broker<P> {
    /// Ends a connection on the driver's initiative (an administrator's kick, a revoked
    /// credential): a connected 5.0 client is sent a DISCONNECT with `code`, an earlier or 3.x
    /// one is closed without a word (`[MQTT-3.14.0-1]`: no DISCONNECT before CONNACK, and 3.x has
    /// no server DISCONNECT). The session lives on as after any end the client did not ask
    /// for: its Will is due and it expires as its Session Expiry Interval says. Then
    /// [`Event::Close`](super::Event::Close) with [`CloseReason::ServerDisconnect`] follows, as
    /// for every close.
    ///
    /// ```
    /// use mqtt_sansio::broker::{CloseReason, Event};
    /// use mqtt_sansio::{Broker, BrokerConfig, DisconnectReasonCode, Instant};
    ///
    /// let mut broker = Broker::new(BrokerConfig::default());
    /// let now = Instant::from_millis(0);
    /// let connection = broker.accept(now).unwrap();
    /// broker.disconnect(now, connection, DisconnectReasonCode::AdministrativeAction).unwrap();
    /// assert!(matches!(
    ///     broker.poll_event(),
    ///     Some(Event::Close { reason: CloseReason::ServerDisconnect(_), .. })
    /// ));
    /// ```
    ///
    /// # Errors
    ///
    /// [`UsageError::NotConnected`] if the connection is closed or closing already.
    pub fn disconnect(
        &mut self,
        now: Instant,
        connection: ConnectionHandle,
        code: DisconnectReasonCode,
    ) -> Result<(), UsageError> {
        self.now = now;
        let conn = self
            .connection(connection)
            .ok_or(UsageError::NotConnected)?;
        let farewell = match conn.phase {
            Phase::Closing => return Err(UsageError::NotConnected),
            Phase::Connected if conn.version.is_v5() => Some(Out::Disconnect(code)),
            _ => None,
        };
        self.close(connection, CloseReason::ServerDisconnect(code), farewell);
        Ok(())
    }

    /// Ends every open connection because the server is shutting down, as
    /// [`disconnect`](Self::disconnect) with Server shutting down (0x8B) does one. A driver
    /// then drains [`poll_transmit`](Self::poll_transmit) and writes what it gives, closes the
    /// sockets, and may take a [`snapshot`](Self::snapshot): the sessions that outlive their
    /// connection are in it.
    ///
    /// ```
    /// use mqtt_sansio::{Broker, BrokerConfig, Instant};
    ///
    /// let mut broker = Broker::new(BrokerConfig::default());
    /// let now = Instant::from_millis(0);
    /// broker.accept(now).unwrap();
    /// broker.accept(now).unwrap();
    /// broker.shutdown(now);
    /// assert_eq!(broker.stats().connections, 2); // until the driver reports them closed
    /// assert_eq!(core::iter::from_fn(|| broker.poll_event()).count(), 2);
    /// ```
    pub fn shutdown(&mut self, now: Instant) {
        let open: Vec<ConnectionHandle> = self
            .connections
            .iter()
            .enumerate()
            .filter_map(|(index, slot)| {
                let conn = slot.connection.as_deref()?;
                (!matches!(conn.phase, Phase::Closing)).then_some(ConnectionHandle {
                    index: u32::try_from(index).ok()?,
                    generation: slot.generation,
                })
            })
            .collect();
        for connection in open {
            // Every handle was just read from the slab, open and not closing.
            let _ = self.disconnect(now, connection, DisconnectReasonCode::ServerShuttingDown);
        }
    }
}
