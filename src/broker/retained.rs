//! Retained messages, by topic.
//!
//! The topics form a tree of levels, like the subscription trie's, so that the retained
//! messages a new subscription matches are found by walking its filter: a literal level
//! follows one child, `+` every child, `#` the whole subtree. A subscription to `a/+/c` visits
//! the children of `a` and one grandchild under each, not every retained topic.
//!
//! # Complexity
//!
//! - [`set`](Retained::set): one child lookup per topic level (`O(log c)` comparisons, `c`
//!   the node's children); clearing prunes the nodes left empty; a message with an expiry
//!   also costs an entry (and a copy of its topic) in an index ordered by time.
//! - [`matching`](Retained::matching): the nodes the filter's levels reach, plus one per
//!   message returned under a `#`.
//! - [`expire`](Retained::expire): `O(log n)` per expired message;
//!   [`next_expiry`](Retained::next_expiry): `O(log n)`.

use alloc::boxed::Box;
use alloc::collections::BTreeSet;
use alloc::vec::Vec;
use core::mem;

use bytes::Bytes;

use super::subscriptions::{Arena, Children, NodeId, TrieFull};
use crate::codec::Buffer;
use crate::time::Instant;
use crate::topic::{TopicFilter, TopicName};

/// The index of the root in the arena.
const ROOT: usize = 0;

/// The size a retained message counts for in [`Retained::bytes`]: its payload, say.
pub trait RetainedSize {
    /// The message's size in bytes.
    fn retained_size(&self) -> usize;
}

impl RetainedSize for Bytes {
    fn retained_size(&self) -> usize {
        self.len()
    }
}

/// The retained messages, one per topic (3.1.1 and 5.0 `[MQTT-3.3.1-5]`), with their expiry.
///
/// `M` is the broker's stored message, cloned into [`matching`](Self::matching)'s output: a
/// shared handle (`Arc`, `Bytes`) keeps that cheap.
#[derive(Debug)]
pub struct Retained<M> {
    /// The nodes; the root is at [`ROOT`].
    nodes: Arena<Node<M>>,
    /// The messages that expire, by expiry time and topic.
    expiries: BTreeSet<(Instant, Box<str>)>,
    /// How many messages are stored.
    len: usize,
    /// The sum of their [`RetainedSize`].
    bytes: usize,
    /// The most nodes the tree may hold besides its root.
    max_nodes: usize,
    /// The path of a removal, kept to reuse its allocation.
    path: Vec<usize>,
}

impl<M: Clone + RetainedSize> Retained<M> {
    /// An empty store that may grow to as many nodes as a `u32` index names.
    #[must_use]
    pub fn new() -> Self {
        Self::with_max_nodes(u32::MAX as usize)
    }

    /// An empty store that holds at most `max_nodes` nodes besides its root (one per
    /// distinct topic prefix): a bound on its memory however deep the topics published are.
    #[must_use]
    pub fn with_max_nodes(max_nodes: usize) -> Self {
        Self {
            nodes: Arena::new(),
            expiries: BTreeSet::new(),
            len: 0,
            bytes: 0,
            max_nodes: max_nodes.min(u32::MAX as usize),
            path: Vec::new(),
        }
    }

    /// How many messages are retained (expired ones included until [`expire`](Self::expire)
    /// removes them).
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no message is retained.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The sum of the retained messages' [`RetainedSize`].
    #[must_use]
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// How many nodes the tree holds besides its root: one per distinct topic prefix.
    #[must_use]
    pub fn nodes(&self) -> usize {
        self.nodes.live()
    }

    /// Retains `message` on `topic`, replacing the one there (3.1.1 and 5.0
    /// `[MQTT-3.3.1-5]`), until `expires_at` if given; `None` removes the topic's message.
    /// The caller passes `None` for a retained PUBLISH with an empty payload, which is never
    /// stored and clears the topic (3.1.1 `[MQTT-3.3.1-10]`, `[MQTT-3.3.1-11]`; 5.0
    /// `[MQTT-3.3.1-6]`, `[MQTT-3.3.1-7]`).
    ///
    /// # Errors
    ///
    /// [`TrieFull`] if the topic needs more nodes than the store's limit leaves; nothing is
    /// changed then (the topic's previous message stays).
    pub fn set<B: Buffer>(
        &mut self,
        topic: &TopicName<B>,
        message: Option<M>,
        expires_at: Option<Instant>,
    ) -> Result<(), TrieFull> {
        let topic = topic.as_str();
        let Some(message) = message else {
            if let Some(old) = self.take(topic) {
                self.unindex(topic, old.expires_at);
            }
            return Ok(());
        };
        if self.nodes().saturating_add(self.missing_nodes(topic)) > self.max_nodes {
            return Err(TrieFull);
        }
        // Unreachable `None`: every index in the tree names a slot, and the check above
        // leaves room for the nodes the path needs.
        let index = self.path_to(topic).ok_or(TrieFull)?;
        let node = self.nodes.get_mut(index).ok_or(TrieFull)?;
        let size = message.retained_size();
        let old = node.stored.replace(Stored {
            message,
            expires_at,
        });
        self.bytes = self.bytes.saturating_add(size);
        match old {
            Some(old) => {
                self.bytes = self.bytes.saturating_sub(old.message.retained_size());
                if old.expires_at != expires_at {
                    self.unindex(topic, old.expires_at);
                    self.index(topic, expires_at);
                }
            }
            None => {
                self.len = self.len.saturating_add(1);
                self.index(topic, expires_at);
            }
        }
        Ok(())
    }

    /// Pushes onto `out` every retained message whose topic `filter` matches and whose
    /// expiry is after `now`. A filter that starts with a wildcard does not match a topic that
    /// starts with `$` (3.1.1 and 5.0 `[MQTT-4.7.2-1]`). The filter is read literally: for a
    /// shared subscription the broker passes the filter after `$share/{group}/`, if it sends
    /// retained messages there at all.
    ///
    /// Allocates its walk's stack (this runs once per subscription, not per message).
    pub fn matching<B: Buffer>(&self, filter: &TopicFilter<B>, now: Instant, out: &mut Vec<M>) {
        let filter = filter.as_str();
        let mut stack = Vec::new();
        if self.nodes.has_root() {
            stack.push((ROOT, Step::Level(0)));
        }
        while let Some((index, step)) = stack.pop() {
            let Some(node) = self.nodes.get(index) else {
                continue;
            };
            // [MQTT-4.7.2-1]: a wildcard at the first level skips the `$` topics.
            let visible = |label: &[u8]| index != ROOT || label.first() != Some(&b'$');
            match step {
                Step::End => node.emit(now, out),
                Step::Subtree => {
                    node.emit(now, out);
                    stack.extend(
                        node.children
                            .iter()
                            .filter(|(label, _)| visible(label))
                            .map(|(_, child)| (child.index(), Step::Subtree)),
                    );
                }
                Step::Level(at) => {
                    let tail = filter.get(at..).unwrap_or_default();
                    let (level, next) = match tail.split_once('/') {
                        Some((level, _)) => (
                            level,
                            Step::Level(at.saturating_add(level.len()).saturating_add(1)),
                        ),
                        None => (tail, Step::End),
                    };
                    match level {
                        // `#` matches the parent level too: `a/#` matches `a`.
                        "#" => stack.push((index, Step::Subtree)),
                        "+" => stack.extend(
                            node.children
                                .iter()
                                .filter(|(label, _)| visible(label))
                                .map(|(_, child)| (child.index(), next)),
                        ),
                        literal => {
                            if let Some(child) = node.children.get(literal) {
                                stack.push((child.index(), next));
                            }
                        }
                    }
                }
            }
        }
    }

    /// Removes the messages whose expiry is at or before `now`, and the nodes they leave
    /// empty; returns how many it removed.
    pub fn expire(&mut self, now: Instant) -> usize {
        let mut removed = 0usize;
        while self.expiries.first().is_some_and(|(at, _)| *at <= now) {
            let Some((_, topic)) = self.expiries.pop_first() else {
                break;
            };
            if self.take(&topic).is_some() {
                removed = removed.saturating_add(1);
            }
        }
        removed
    }

    /// The earliest expiry among the retained messages: when to call
    /// [`expire`](Self::expire) next.
    #[must_use]
    pub fn next_expiry(&self) -> Option<Instant> {
        self.expiries.first().map(|(at, _)| *at)
    }

    /// Every retained message with its expiry, in no particular order (for a snapshot).
    pub fn iter(&self) -> impl Iterator<Item = (&M, Option<Instant>)> {
        self.nodes
            .iter()
            .filter_map(|node| node.stored.as_ref())
            .map(|stored| (&stored.message, stored.expires_at))
    }

    /// Removes the message on `topic` (not its expiry entry) and prunes the nodes left
    /// empty.
    fn take(&mut self, topic: &str) -> Option<Stored<M>> {
        let mut path = mem::take(&mut self.path);
        path.clear();
        path.push(ROOT);
        let mut at = ROOT;
        for level in topic.split('/') {
            let Some(child) = self.nodes.get(at).and_then(|node| node.children.get(level)) else {
                self.path = path;
                return None;
            };
            at = child.index();
            path.push(at);
        }
        let old = self.nodes.get_mut(at).and_then(|node| node.stored.take());
        if let Some(old) = &old {
            self.len = self.len.saturating_sub(1);
            self.bytes = self.bytes.saturating_sub(old.message.retained_size());
            self.prune(&path, topic);
        }
        self.path = path;
        old
    }

    /// Adds the expiry entry of `topic`'s message.
    fn index(&mut self, topic: &str, expires_at: Option<Instant>) {
        if let Some(at) = expires_at {
            self.expiries.insert((at, topic.into()));
        }
    }

    /// Removes the expiry entry of `topic`'s message.
    fn unindex(&mut self, topic: &str, expires_at: Option<Instant>) {
        if let Some(at) = expires_at {
            self.expiries.remove(&(at, Box::from(topic)));
        }
    }

    /// How many nodes retaining a message on `topic` would add.
    fn missing_nodes(&self, topic: &str) -> usize {
        let mut at = Some(ROOT);
        let mut missing = 0usize;
        for level in topic.split('/') {
            at = at
                .and_then(|index| self.nodes.get(index))
                .and_then(|node| node.children.get(level))
                .map(NodeId::index);
            if at.is_none() {
                missing = missing.saturating_add(1);
            }
        }
        missing
    }

    /// The node of `topic`, created with the nodes leading to it.
    fn path_to(&mut self, topic: &str) -> Option<usize> {
        self.nodes.ensure_root()?;
        let mut at = ROOT;
        for level in topic.split('/') {
            let child = match self.nodes.get(at)?.children.get(level) {
                Some(child) => child,
                None => {
                    let child = self.nodes.allocate()?;
                    self.nodes.get_mut(at)?.children.insert(level, child);
                    child
                }
            };
            at = child.index();
        }
        Some(at)
    }

    /// Removes the nodes at the end of `path` (the nodes along `topic`, root first) that are
    /// left empty, deepest first.
    fn prune(&mut self, path: &[usize], topic: &str) {
        let mut levels = topic.rsplit('/');
        for pair in path.windows(2).rev() {
            let (Some(&parent), Some(&child), Some(level)) =
                (pair.first(), pair.get(1), levels.next())
            else {
                break;
            };
            if !self.nodes.get(child).is_some_and(Node::is_empty) {
                break;
            }
            if let Some(parent) = self.nodes.get_mut(parent) {
                parent.children.remove(level);
            }
            self.nodes.release(child);
        }
    }
}

impl<M: Clone + RetainedSize> Default for Retained<M> {
    fn default() -> Self {
        Self::new()
    }
}

/// Where a walk of [`Retained::matching`] stands at a node.
#[derive(Clone, Copy, Debug)]
enum Step {
    /// The filter's levels from this byte offset on are still to match.
    Level(usize),
    /// Every level matched: the node's message matches.
    End,
    /// Under a `#`: the node's message and all below it match.
    Subtree,
}

/// A retained message and its expiry.
#[derive(Debug)]
struct Stored<M> {
    /// The message.
    message: M,
    /// When it expires, if it does.
    expires_at: Option<Instant>,
}

/// A node of the topic tree.
#[derive(Debug)]
struct Node<M> {
    /// The next levels.
    children: Children,
    /// The message retained on the topic ending here.
    stored: Option<Stored<M>>,
}

impl<M> Default for Node<M> {
    fn default() -> Self {
        Self {
            children: Children::default(),
            stored: None,
        }
    }
}

impl<M: Clone> Node<M> {
    /// Pushes the node's message onto `out` if it has one that has not expired at `now`.
    fn emit(&self, now: Instant, out: &mut Vec<M>) {
        if let Some(stored) = &self.stored
            && stored.expires_at.is_none_or(|at| at > now)
        {
            out.push(stored.message.clone());
        }
    }

    /// Whether no message is here and no topic goes on from here.
    fn is_empty(&self) -> bool {
        self.stored.is_none() && self.children.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use alloc::collections::BTreeMap;
    use alloc::string::String;
    use alloc::vec;

    use proptest::prelude::*;

    use super::*;
    use crate::topic::matches as filter_matches;

    type Name = TopicName<&'static [u8]>;
    type Filter = TopicFilter<&'static [u8]>;

    fn name(text: &str) -> TopicName<&[u8]> {
        TopicName::new(text).unwrap()
    }

    fn at(millis: u64) -> Instant {
        Instant::from_millis(millis)
    }

    /// A store with `topic`'s own name as its message's payload, for each of `topics`.
    fn store(topics: &[&'static str]) -> Retained<Bytes> {
        let mut store = Retained::new();
        for topic in topics {
            let message = Bytes::from_static(topic.as_bytes());
            store
                .set(&Name::new(*topic).unwrap(), Some(message), None)
                .unwrap();
        }
        store
    }

    /// The payloads of the messages `filter` matches at `now`, sorted.
    fn found(store: &Retained<Bytes>, filter: &str, now: Instant) -> Vec<Bytes> {
        let mut out = Vec::new();
        store.matching(&TopicFilter::<&[u8]>::new(filter).unwrap(), now, &mut out);
        out.sort();
        out
    }

    fn topics(store: &Retained<Bytes>, filter: &str) -> Vec<String> {
        found(store, filter, Instant::ZERO)
            .iter()
            .map(|payload| String::from_utf8(payload.to_vec()).unwrap())
            .collect()
    }

    /// Wildcards walk the levels: `+` one level, `#` the rest including the parent level,
    /// literals exactly.
    ///
    /// (Sending them on subscribe, 3.1.1 `MQTT-3.3.1-6` and 5.0 `MQTT-3.3.1-9`, is the
    /// broker's, and its tests cite them.)
    #[test]
    fn filters_find_the_retained_messages_they_match() {
        let store = store(&["a", "a/b", "a/b/c", "a/x/c", "a/b/c/d", "b/b", "/b", "A/b"]);
        assert_eq!(topics(&store, "a/+/c"), ["a/b/c", "a/x/c"]);
        assert_eq!(
            topics(&store, "a/#"),
            ["a", "a/b", "a/b/c", "a/b/c/d", "a/x/c"]
        );
        assert_eq!(topics(&store, "a/b/#"), ["a/b", "a/b/c", "a/b/c/d"]);
        assert_eq!(topics(&store, "a/+"), ["a/b"]);
        assert_eq!(topics(&store, "+/b"), ["/b", "A/b", "a/b", "b/b"]);
        assert_eq!(topics(&store, "+"), ["a"]);
        assert_eq!(topics(&store, "a"), ["a"]);
        assert_eq!(topics(&store, "a/b/c/d/e"), Vec::<String>::new());
        assert_eq!(topics(&store, "#").len(), 8);
        assert_eq!(topics(&store, "+/+/+/#").len(), 3);
    }

    /// A leading wildcard does not match a `$` topic; a filter naming the `$` level does.
    ///
    /// conformance: v311:MQTT-4.7.2-1, v5:MQTT-4.7.2-1
    #[test]
    fn leading_wildcards_skip_dollar_topics() {
        let store = store(&["$SYS/uptime", "$SYS", "a/$b", "a"]);
        assert_eq!(topics(&store, "#"), ["a", "a/$b"]);
        assert_eq!(topics(&store, "+"), ["a"]);
        assert_eq!(topics(&store, "+/uptime"), Vec::<String>::new());
        assert_eq!(topics(&store, "$SYS/#"), ["$SYS", "$SYS/uptime"]);
        assert_eq!(topics(&store, "$SYS/+"), ["$SYS/uptime"]);
        assert_eq!(topics(&store, "a/+"), ["a/$b"]);
    }

    /// A new message on a topic replaces the one retained there; `None` (an empty payload)
    /// removes it, and the nodes it leaves empty go.
    ///
    /// conformance: v311:MQTT-3.3.1-5, v5:MQTT-3.3.1-5
    #[test]
    fn set_replaces_and_none_clears() {
        let mut store = Retained::new();
        store
            .set(&name("a/b"), Some(Bytes::from_static(b"one")), None)
            .unwrap();
        store
            .set(&name("a/b"), Some(Bytes::from_static(b"second")), None)
            .unwrap();
        store
            .set(&name("a"), Some(Bytes::from_static(b"x")), None)
            .unwrap();
        assert_eq!((store.len(), store.bytes(), store.nodes()), (2, 7, 2));
        assert_eq!(
            found(&store, "a/b", Instant::ZERO),
            [Bytes::from_static(b"second")]
        );
        // Clearing a topic with nothing retained changes nothing.
        store.set(&name("a/b/c"), None, None).unwrap();
        store.set(&name("z"), None, None).unwrap();
        assert_eq!((store.len(), store.bytes(), store.nodes()), (2, 7, 2));
        store.set(&name("a/b"), None, None).unwrap();
        assert_eq!((store.len(), store.bytes(), store.nodes()), (1, 1, 1));
        assert!(found(&store, "a/#", Instant::ZERO).len() == 1);
        store.set(&name("a"), None, None).unwrap();
        assert_eq!((store.len(), store.bytes(), store.nodes()), (0, 0, 0));
        assert!(store.is_empty());
        assert!(!store.nodes.has_root());
        assert_eq!(found(&store, "#", Instant::ZERO), Vec::<Bytes>::new());
    }

    /// Clearing a topic keeps the nodes other topics still use.
    #[test]
    fn clearing_keeps_shared_prefixes() {
        let mut store = store(&["a/b/c", "a/b/d", "a/e"]);
        assert_eq!(store.nodes(), 5);
        store.set(&name("a/b/c"), None, None).unwrap();
        assert_eq!(store.nodes(), 4);
        store.set(&name("a/b/d"), None, None).unwrap();
        assert_eq!(store.nodes(), 2);
        assert_eq!(topics(&store, "#"), ["a/e"]);
    }

    /// A message past its expiry is no longer found (an expiry at `now` has passed), and
    /// `expire` removes it; the next expiry follows the earliest message still stored, and a
    /// replacement's expiry replaces its predecessor's.
    ///
    /// (5.0 §3.3.2.3.3: a retained message that has expired is discarded; no id.)
    #[test]
    fn expired_messages_are_not_found_and_expire_removes_them() {
        let mut store = Retained::new();
        let payload = Bytes::from_static(b"p");
        store
            .set(&name("a"), Some(payload.clone()), Some(at(10)))
            .unwrap();
        store
            .set(&name("b/c"), Some(payload.clone()), Some(at(20)))
            .unwrap();
        store.set(&name("d"), Some(payload.clone()), None).unwrap();
        assert_eq!(store.next_expiry(), Some(at(10)));
        assert_eq!(found(&store, "#", at(9)).len(), 3);
        assert_eq!(found(&store, "#", at(10)).len(), 2);
        assert_eq!(found(&store, "a", at(10)).len(), 0);
        assert_eq!(store.expire(at(9)), 0);
        assert_eq!(store.expire(at(10)), 1);
        assert_eq!(
            (store.len(), store.nodes(), store.next_expiry()),
            (2, 3, Some(at(20)))
        );
        // Replaced before it expires: the new expiry counts, the old one is forgotten.
        store
            .set(&name("b/c"), Some(payload.clone()), Some(at(30)))
            .unwrap();
        assert_eq!(store.next_expiry(), Some(at(30)));
        assert_eq!(store.expire(at(25)), 0);
        assert_eq!(found(&store, "b/c", at(25)).len(), 1);
        // Replaced by one that never expires.
        store
            .set(&name("b/c"), Some(payload.clone()), None)
            .unwrap();
        assert_eq!(store.next_expiry(), None);
        assert_eq!(store.expire(at(u64::MAX)), 0);
        // Cleared while waiting to expire.
        store
            .set(&name("e"), Some(payload.clone()), Some(at(40)))
            .unwrap();
        store.set(&name("e"), None, None).unwrap();
        assert_eq!(store.next_expiry(), None);
        assert_eq!((store.len(), store.bytes()), (2, 2));
    }

    /// Expiry prunes the nodes it leaves empty, down to an empty store.
    #[test]
    fn expire_prunes_to_empty() {
        let mut store = Retained::new();
        for (n, topic) in ["a/b/c", "a/b", "x/y"].into_iter().enumerate() {
            let expiry = at(u64::try_from(n).unwrap());
            store
                .set(&name(topic), Some(Bytes::from_static(b"12")), Some(expiry))
                .unwrap();
        }
        assert_eq!(store.expire(at(2)), 3);
        assert_eq!((store.len(), store.bytes(), store.nodes()), (0, 0, 0));
        assert_eq!(store.next_expiry(), None);
    }

    /// Many topics under one level (a map of children) are found by literal, `+` and `#`.
    #[test]
    fn many_siblings_are_found() {
        let mut store = Retained::new();
        let topics: Vec<String> = (0..100).map(|n| alloc::format!("c/{n}/v")).collect();
        for topic in &topics {
            let payload = Bytes::copy_from_slice(topic.as_bytes());
            store.set(&name(topic), Some(payload), None).unwrap();
        }
        assert_eq!(found(&store, "c/+/v", Instant::ZERO).len(), 100);
        assert_eq!(found(&store, "c/#", Instant::ZERO).len(), 100);
        assert_eq!(
            found(&store, "c/42/v", Instant::ZERO),
            [Bytes::from_static(b"c/42/v")]
        );
        for topic in &topics {
            store.set(&name(topic), None, None).unwrap();
        }
        assert_eq!(store.nodes(), 0);
    }

    /// The node limit refuses a topic that needs more nodes and keeps the store as it was.
    #[test]
    fn node_limit_refuses_and_changes_nothing() {
        let mut store = Retained::with_max_nodes(2);
        let payload = Some(Bytes::from_static(b"p"));
        assert_eq!(store.set(&name("a/b"), payload.clone(), None), Ok(()));
        assert_eq!(
            store.set(&name("a/c"), payload.clone(), None),
            Err(TrieFull)
        );
        assert_eq!(store.set(&name("a"), payload.clone(), None), Ok(()));
        assert_eq!((store.len(), store.nodes()), (2, 2));
    }

    /// `iter` hands out every message with its expiry.
    #[test]
    fn iter_lists_every_message() {
        let mut store = store(&["a", "b/c"]);
        store
            .set(&name("d"), Some(Bytes::from_static(b"d")), Some(at(5)))
            .unwrap();
        let mut all: Vec<_> = store.iter().map(|(m, e)| (m.clone(), e)).collect();
        all.sort();
        assert_eq!(
            all,
            [
                (Bytes::from_static(b"a"), None),
                (Bytes::from_static(b"b/c"), None),
                (Bytes::from_static(b"d"), Some(at(5))),
            ]
        );
    }

    /// One operation of the model-based test.
    #[derive(Clone, Debug)]
    enum Op {
        /// Retain (`Some`) a payload, or clear, with an expiry this many ms from now.
        Set {
            topic: String,
            payload: Option<u8>,
            expires_in: Option<u64>,
        },
        /// Let time pass, then expire.
        Advance(u64),
        /// Find what a filter matches.
        Match(String),
    }

    fn level() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec!["a", "b", "", "$x"])
    }

    fn topic() -> impl Strategy<Value = String> {
        // A Topic Name is never empty: a single empty level becomes `/`, two of them.
        prop::collection::vec(level(), 1..5).prop_map(|levels| match levels.join("/") {
            topic if topic.is_empty() => String::from("/"),
            topic => topic,
        })
    }

    fn filter() -> impl Strategy<Value = String> {
        let levels = prop::collection::vec(prop_oneof![3 => level(), 1 => Just("+")], 0..4);
        (levels, any::<bool>()).prop_map(|(mut levels, hash)| {
            if hash || levels.is_empty() {
                levels.push("#");
            }
            let filter = levels.join("/");
            if filter.is_empty() {
                String::from("#")
            } else {
                filter
            }
        })
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (topic(), prop::option::weighted(0.8, any::<u8>()), prop::option::of(0u64..6))
                .prop_map(|(topic, payload, expires_in)| Op::Set { topic, payload, expires_in }),
            1 => (0u64..4).prop_map(Op::Advance),
            3 => filter().prop_map(Op::Match),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Random sets, clears, time steps and lookups give the results of a naive map of
        /// topics checked with `topic::matches`: the same messages found, the same count,
        /// bytes and next expiry; clearing everything empties the tree.
        ///
        /// conformance: v311:MQTT-4.7.2-1, v5:MQTT-4.7.2-1, v311:MQTT-3.3.1-5, v5:MQTT-3.3.1-5, v311:MQTT-4.7.3-4, v5:MQTT-4.7.3-4
        #[test]
        fn matching_agrees_with_a_naive_reference(ops in prop::collection::vec(op(), 1..60)) {
            let mut store = Retained::new();
            let mut reference: BTreeMap<String, (Bytes, Option<Instant>)> = BTreeMap::new();
            let mut now = 0u64;
            for op in ops {
                match op {
                    Op::Set { topic, payload, expires_in } => {
                        let message = payload.map(|byte| {
                            // The topic and a byte, so each message is told apart; the
                            // length varies with the topic for the byte count.
                            let mut bytes = topic.clone().into_bytes();
                            bytes.push(byte);
                            Bytes::from(bytes)
                        });
                        let expires_at = expires_in.map(|ms| at(now + ms));
                        store.set(&name(&topic), message.clone(), expires_at).unwrap();
                        match message {
                            Some(message) => { reference.insert(topic, (message, expires_at)); }
                            None => { reference.remove(&topic); }
                        }
                    }
                    Op::Advance(ms) => {
                        now += ms;
                        let expired = reference.values().filter(|(_, e)| e.is_some_and(|e| e <= at(now))).count();
                        reference.retain(|_, (_, e)| e.is_none_or(|e| e > at(now)));
                        prop_assert_eq!(store.expire(at(now)), expired);
                    }
                    Op::Match(filter) => {
                        // Look a little ahead too, so that expired-but-not-removed messages
                        // are checked.
                        for later in [now, now + 2] {
                            let mut expected: Vec<Bytes> = reference
                                .iter()
                                .filter(|(topic, (_, e))| filter_matches(&filter, topic) && e.is_none_or(|e| e > at(later)))
                                .map(|(_, (message, _))| message.clone())
                                .collect();
                            expected.sort();
                            prop_assert_eq!(found(&store, &filter, at(later)), expected);
                        }
                    }
                }
                prop_assert_eq!(store.len(), reference.len());
                prop_assert_eq!(store.bytes(), reference.values().map(|(m, _)| m.len()).sum::<usize>());
                prop_assert_eq!(store.next_expiry(), reference.values().filter_map(|(_, e)| *e).min());
            }
            let topics: Vec<String> = reference.keys().cloned().collect();
            for topic in topics {
                store.set(&name(&topic), None, None).unwrap();
            }
            prop_assert_eq!((store.len(), store.bytes(), store.nodes()), (0, 0, 0));
        }
    }

    /// A `$share/` filter is read literally: the broker strips `$share/{group}/` if it
    /// sends retained messages to a shared subscription at all.
    #[test]
    fn shared_filters_are_read_literally() {
        let store = store(&["$share/g/a", "a"]);
        let filter = Filter::new("$share/g/a").unwrap();
        let mut out = Vec::new();
        store.matching(&filter, Instant::ZERO, &mut out);
        assert_eq!(out, [Bytes::from_static(b"$share/g/a")]);
    }
}
