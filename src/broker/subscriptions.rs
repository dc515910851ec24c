//! The broker's subscriptions: which sessions a PUBLISH goes to.
//!
//! A first, naive version (a list, checked filter by filter) that the trie replaces; the API
//! is the trie's.

use alloc::vec::Vec;

use bytes::Bytes;

use crate::packet::SubscriptionOptions;
use crate::property::SubscriptionId;
use crate::topic::TopicFilter;

/// One subscription that matched a topic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Match<K> {
    pub(crate) key: K,
    pub(crate) options: SubscriptionOptions,
    pub(crate) id: Option<SubscriptionId>,
}

#[derive(Debug)]
struct Entry<K> {
    filter: TopicFilter<Bytes>,
    key: K,
    options: SubscriptionOptions,
    id: Option<SubscriptionId>,
}

/// Every subscription of every session.
#[derive(Debug)]
pub(crate) struct Subscriptions<K> {
    entries: Vec<Entry<K>>,
    cursor: usize,
}

impl<K: Copy + Ord + core::fmt::Debug> Subscriptions<K> {
    pub(crate) fn new() -> Self {
        Self {
            entries: Vec::new(),
            cursor: 0,
        }
    }

    /// Adds or replaces `key`'s subscription to `filter`; returns whether it replaced one.
    pub(crate) fn subscribe(
        &mut self,
        filter: &TopicFilter<Bytes>,
        key: K,
        options: SubscriptionOptions,
        id: Option<SubscriptionId>,
    ) -> bool {
        if let Some(entry) = self
            .entries
            .iter_mut()
            .find(|entry| entry.key == key && entry.filter.as_str() == filter.as_str())
        {
            entry.options = options;
            entry.id = id;
            return true;
        }
        self.entries.push(Entry {
            filter: filter.clone(),
            key,
            options,
            id,
        });
        false
    }

    /// Removes `key`'s subscription to `filter`; returns whether it existed.
    pub(crate) fn unsubscribe(&mut self, filter: &str, key: K) -> bool {
        let before = self.entries.len();
        self.entries
            .retain(|entry| !(entry.key == key && entry.filter.as_str() == filter));
        self.entries.len() != before
    }

    /// Every subscription matching `topic`; one member per matching shared group, round
    /// robin among those `is_eligible` accepts.
    pub(crate) fn matches(
        &mut self,
        topic: &str,
        is_eligible: impl Fn(K) -> bool,
        out: &mut Vec<Match<K>>,
    ) {
        let mut groups: Vec<(&str, Vec<usize>)> = Vec::new();
        for (index, entry) in self.entries.iter().enumerate() {
            match entry.filter.shared() {
                Some(shared) => {
                    if shared.matches(topic)
                        && !(topic.starts_with('$') && starts_wild(shared.filter))
                    {
                        let key = entry.filter.as_str();
                        match groups.iter_mut().find(|(name, _)| *name == key) {
                            Some((_, members)) => members.push(index),
                            None => groups.push((key, alloc::vec![index])),
                        }
                    }
                }
                None => {
                    if entry.filter.matches(topic)
                        && !(topic.starts_with('$') && starts_wild(entry.filter.as_str()))
                    {
                        out.push(Match {
                            key: entry.key,
                            options: entry.options,
                            id: entry.id,
                        });
                    }
                }
            }
        }
        let mut chosen = Vec::new();
        for (_, members) in &groups {
            let eligible: Vec<usize> = members
                .iter()
                .copied()
                .filter(|&index| self.entries.get(index).is_some_and(|e| is_eligible(e.key)))
                .collect();
            let pool = if eligible.is_empty() {
                members
            } else {
                &eligible
            };
            let count =
                core::num::NonZeroUsize::new(pool.len()).unwrap_or(core::num::NonZeroUsize::MIN);
            if let Some(&index) = pool.get(self.cursor % count) {
                chosen.push(index);
            }
        }
        self.cursor = self.cursor.wrapping_add(1);
        for index in chosen {
            if let Some(entry) = self.entries.get(index) {
                out.push(Match {
                    key: entry.key,
                    options: entry.options,
                    id: entry.id,
                });
            }
        }
    }

    /// Subscriptions held.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

fn starts_wild(filter: &str) -> bool {
    filter.starts_with('+') || filter.starts_with('#')
}
