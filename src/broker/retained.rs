//! Retained messages by topic.
//!
//! A first, naive version (a map, scanned for wildcard filters) that the level tree
//! replaces; the API is the tree's.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use bytes::Bytes;
use bytestring::ByteString;

use crate::time::Instant;
use crate::topic::{TopicFilter, TopicName};

/// Retained messages, each with its expiry.
#[derive(Debug)]
pub(crate) struct Retained<M> {
    by_topic: BTreeMap<ByteString, (M, Option<Instant>)>,
}

impl<M: Clone> Retained<M> {
    pub(crate) fn new() -> Self {
        Self {
            by_topic: BTreeMap::new(),
        }
    }

    /// Stores `message` for `topic`, or clears it (`None`); returns the message it replaced.
    pub(crate) fn replace(
        &mut self,
        topic: &TopicName<Bytes>,
        message: Option<M>,
        expires_at: Option<Instant>,
    ) -> Option<M> {
        let old = match message {
            Some(message) => self
                .by_topic
                .insert(topic.clone().into_inner(), (message, expires_at)),
            None => self.by_topic.remove(topic.as_str()),
        };
        old.map(|(message, _)| message)
    }

    /// Every unexpired message whose topic `filter` matches.
    pub(crate) fn matching(&self, filter: &TopicFilter<Bytes>, now: Instant, out: &mut Vec<M>) {
        let wild = filter.starts_with('+') || filter.starts_with('#');
        for (topic, (message, expires_at)) in &self.by_topic {
            if expires_at.is_some_and(|at| now >= at) {
                continue;
            }
            if wild && topic.starts_with('$') {
                continue;
            }
            if filter.matches(topic) {
                out.push(message.clone());
            }
        }
    }

    /// Removes the expired messages, handing each to `removed`.
    pub(crate) fn expire(&mut self, now: Instant, mut removed: impl FnMut(M)) {
        let expired: Vec<ByteString> = self
            .by_topic
            .iter()
            .filter(|(_, (_, expires_at))| expires_at.is_some_and(|at| now >= at))
            .map(|(topic, _)| topic.clone())
            .collect();
        for topic in expired {
            if let Some((message, _)) = self.by_topic.remove(&topic) {
                removed(message);
            }
        }
    }

    /// The earliest expiry.
    pub(crate) fn next_expiry(&self) -> Option<Instant> {
        self.by_topic.values().filter_map(|(_, at)| *at).min()
    }

    /// Messages held.
    pub(crate) fn len(&self) -> usize {
        self.by_topic.len()
    }
}
