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

use super::subscriptions::{Children, NodeId, TrieFull, grow_exact};
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
    /// The arena; the root is at [`ROOT`]. A free slot holds an empty node.
    nodes: Vec<Node<M>>,
    /// Free slots of `nodes`, reused first.
    free: Vec<NodeId>,
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
            nodes: Vec::new(),
            free: Vec::new(),
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
        self.nodes
            .len()
            .saturating_sub(1)
            .saturating_sub(self.free.len())
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
        if !self.nodes.is_empty() {
            stack.push((ROOT, Step::Level(0)));
        }
        while let Some((index, step)) = stack.pop() {
            let Some(node) = self.nodes.get(index) else {
                continue;
            };
            // [MQTT-4.7.2-1]: a wildcard at the first level skips the `$` topics.
            let visible = |label: &str| index != ROOT || !label.starts_with('$');
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
        if self.nodes.is_empty() {
            self.nodes.push(Node::default());
        }
        let mut at = ROOT;
        for level in topic.split('/') {
            let child = match self.nodes.get(at)?.children.get(level) {
                Some(child) => child,
                None => {
                    let child = self.allocate()?;
                    self.nodes.get_mut(at)?.children.insert(level, child);
                    child
                }
            };
            at = child.index();
        }
        Some(at)
    }

    /// A slot for a new, empty node.
    fn allocate(&mut self) -> Option<NodeId> {
        if let Some(id) = self.free.pop() {
            return Some(id);
        }
        let id = NodeId::new(self.nodes.len())?;
        grow_exact(&mut self.nodes);
        self.nodes.push(Node::default());
        Some(id)
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
            if let (Some(node), Some(id)) = (self.nodes.get_mut(child), NodeId::new(child)) {
                *node = Node::default();
                self.free.push(id);
            }
        }
        if self.nodes() == 0 {
            // Nothing left: give the arena back too.
            self.nodes = Vec::new();
            self.free = Vec::new();
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
