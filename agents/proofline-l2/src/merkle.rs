//! Fixed-depth binary Merkle trees over keccak256: the one tree shape every L2 tree uses.
//!
//! ```text
//! leaf(i)          = the 32-byte value at index i (zero when unset)
//! node(l+1, i)     = keccak256(node(l, 2i) ‖ node(l, 2i+1))
//! empty(0)         = 0x00…00
//! empty(l+1)       = keccak256(empty(l) ‖ empty(l))
//! root             = node(depth, 0)
//! ```
//!
//! A tree of depth `d` has `2^d` leaves, indexed by the low `d` bits of a [`U256`] (so depth 256
//! takes any 32-byte key as its own index). A proof of the leaf at `i` is the `d` siblings from
//! the leaf up; [`MerkleProof::compute_root`] folds them, taking the left/right order from the
//! bits of `i`, which is what a Solidity verifier would do. A proof that the leaf is zero is a
//! non-membership proof: that is how the nullifier tree answers "not in the set".
//!
//! # Why our own tree
//!
//! The protocol needs one hashing convention that a contract or a circuit can check in `d`
//! keccaks, for both append-only trees (notes, the archive) and trees keyed by a 256-bit value
//! (nullifiers, public data). The crates we looked at each fix a different convention:
//! `sparse-merkle-tree` (nervos) compresses paths with its own merge encoding and defaults to
//! blake2b, `incrementalmerkletree` is append-only, `rs_merkle` has no fixed depth and no
//! empty-subtree hashes, and `alloy-trie` is Ethereum's hexary Patricia trie, whose proofs are
//! RLP nodes. The tree itself is a page of code, tested here against a naive full-tree reference.
//!
//! # Storage
//!
//! A sparse tree of depth 256 has 256 nodes on every leaf's path; storing them all would cost
//! ~256 map entries per leaf. Instead the tree stores the leaves, the root, and every non-empty
//! node whose parent holds at least two leaves: the nodes where paths meet and their children
//! (about three per leaf). Every other node is empty (`empty(l)`) or holds one leaf alone, and
//! its hash is recomputed from that leaf when asked (at most `d` keccaks; an update needs it
//! only for the one neighbour it meets, a proof only to show an absent key). An update costs
//! `d` keccaks.

use std::collections::{BTreeMap, HashMap};
use std::ops::RangeInclusive;

use alloy::primitives::{keccak256, B256, U256};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// `keccak256(left ‖ right)`.
pub fn hash_pair(left: B256, right: B256) -> B256 {
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(left.as_slice());
    buf[32..].copy_from_slice(right.as_slice());
    keccak256(buf)
}

/// Why a tree refused an operation.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MerkleError {
    /// The index does not fit in the tree's depth.
    #[error("index {index} is outside a tree of depth {depth}")]
    IndexOutOfRange { index: U256, depth: usize },
    /// An append-only tree has no free leaf left.
    #[error("append-only tree of depth {depth} is full")]
    TreeFull { depth: usize },
}

/// The siblings of one leaf, from the leaf's level up to just below the root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MerkleProof {
    pub index: U256,
    pub siblings: Vec<B256>,
}

impl MerkleProof {
    /// The root a tree has if the leaf at `self.index` is `leaf` and the siblings are these.
    pub fn compute_root(&self, leaf: B256) -> B256 {
        let mut node = leaf;
        for (level, sibling) in self.siblings.iter().enumerate() {
            node = if self.index.bit(level) {
                hash_pair(*sibling, node)
            } else {
                hash_pair(node, *sibling)
            };
        }
        node
    }

    /// Whether this proves that the leaf at `self.index` is `leaf` under `root`.
    pub fn verify(&self, root: B256, leaf: B256) -> bool {
        self.compute_root(leaf) == root
    }
}

/// A fixed-depth sparse Merkle tree (see the module doc for the hashing and storage rules).
#[derive(Debug, Clone)]
pub struct SparseMerkleTree {
    depth: usize,
    /// `empty[l]`: the hash of an empty subtree at level `l`, for `l` in `0..=depth`.
    empty: Vec<B256>,
    /// The nonzero leaves.
    leaves: BTreeMap<U256, B256>,
    /// Hashes of the non-empty nodes whose parent holds at least two nonzero leaves, and of the
    /// root, by (level, position on that level).
    nodes: HashMap<(usize, U256), B256>,
}

impl SparseMerkleTree {
    /// An empty tree of `depth` levels, `1 <= depth <= 256`.
    ///
    /// # Panics
    ///
    /// If `depth` is 0 or more than 256: depths are constants of the protocol, never input.
    pub fn new(depth: usize) -> Self {
        assert!(
            (1..=256).contains(&depth),
            "tree depth {depth} outside 1..=256"
        );
        let mut empty = Vec::with_capacity(depth + 1);
        empty.push(B256::ZERO);
        for l in 0..depth {
            empty.push(hash_pair(empty[l], empty[l]));
        }
        Self {
            depth,
            empty,
            leaves: BTreeMap::new(),
            nodes: HashMap::new(),
        }
    }

    pub fn depth(&self) -> usize {
        self.depth
    }

    /// The root of an empty tree of this depth.
    pub fn empty_root(&self) -> B256 {
        self.empty[self.depth]
    }

    pub fn root(&self) -> B256 {
        self.node(self.depth, U256::ZERO)
    }

    /// Number of nonzero leaves.
    pub fn len(&self) -> usize {
        self.leaves.len()
    }

    pub fn is_empty(&self) -> bool {
        self.leaves.is_empty()
    }

    /// The leaf at `index` (zero when unset or out of range).
    pub fn get(&self, index: U256) -> B256 {
        self.leaves.get(&index).copied().unwrap_or_default()
    }

    /// The nonzero leaves, by index.
    pub fn iter(&self) -> impl Iterator<Item = (U256, B256)> + '_ {
        self.leaves.iter().map(|(k, v)| (*k, *v))
    }

    /// Whether `index` addresses a leaf of this tree.
    pub fn in_range(&self, index: U256) -> bool {
        self.depth == 256 || index.bit_len() <= self.depth
    }

    /// Set the leaf at `index` to `value` (zero removes it) and rehash its path.
    pub fn set(&mut self, index: U256, value: B256) -> Result<(), MerkleError> {
        if !self.in_range(index) {
            return Err(MerkleError::IndexOutOfRange {
                index,
                depth: self.depth,
            });
        }
        if value.is_zero() {
            self.leaves.remove(&index);
        } else {
            self.leaves.insert(index, value);
        }
        let mut node = value;
        let mut position = index;
        for level in 0..self.depth {
            let sibling_position = position ^ U256::from(1);
            // Stored unless this update just gave it a neighbour (then it is stored below).
            let sibling = self.node(level, sibling_position);
            if level > 0 {
                let keep = self.leaf_count_at_least_two(level + 1, position >> 1);
                self.keep_if(level, position, node, keep);
                self.keep_if(level, sibling_position, sibling, keep);
            }
            node = if position.bit(0) {
                hash_pair(sibling, node)
            } else {
                hash_pair(node, sibling)
            };
            position >>= 1;
        }
        self.keep_if(self.depth, U256::ZERO, node, true);
        Ok(())
    }

    /// Store `hash` as the node at (`level`, `position`) if `keep` and it is not empty, else
    /// forget it.
    fn keep_if(&mut self, level: usize, position: U256, hash: B256, keep: bool) {
        if keep && hash != self.empty[level] {
            self.nodes.insert((level, position), hash);
        } else {
            self.nodes.remove(&(level, position));
        }
    }

    /// The siblings of the leaf at `index`.
    pub fn proof(&self, index: U256) -> Result<MerkleProof, MerkleError> {
        if !self.in_range(index) {
            return Err(MerkleError::IndexOutOfRange {
                index,
                depth: self.depth,
            });
        }
        let siblings = (0..self.depth)
            .map(|level| self.node(level, (index >> level) ^ U256::from(1)))
            .collect();
        Ok(MerkleProof { index, siblings })
    }

    /// The hash of the subtree at `level` whose position on that level is `position`.
    fn node(&self, level: usize, position: U256) -> B256 {
        if level == 0 {
            return self.get(position);
        }
        if let Some(hash) = self.nodes.get(&(level, position)) {
            return *hash;
        }
        // Not stored: the subtree is empty, or its only leaf has no neighbour under the parent.
        match self.leaves.range(self.subtree(level, position)).next() {
            None => self.empty[level],
            Some((index, value)) => self.single_leaf_chain(*index, *value, level),
        }
    }

    /// The hash at `level` of a subtree whose only nonzero leaf is `value` at `index`.
    fn single_leaf_chain(&self, index: U256, value: B256, level: usize) -> B256 {
        let mut node = value;
        for l in 0..level {
            node = if index.bit(l) {
                hash_pair(self.empty[l], node)
            } else {
                hash_pair(node, self.empty[l])
            };
        }
        node
    }

    fn leaf_count_at_least_two(&self, level: usize, position: U256) -> bool {
        self.leaves
            .range(self.subtree(level, position))
            .nth(1)
            .is_some()
    }

    /// The leaf indices under the subtree at (`level`, `position`).
    fn subtree(&self, level: usize, position: U256) -> RangeInclusive<U256> {
        if level >= 256 {
            return U256::ZERO..=U256::MAX;
        }
        let first = position << level;
        let last = first | ((U256::from(1) << level) - U256::from(1));
        first..=last
    }
}

/// An append-only tree: leaves are filled from index 0 on (note hashes, the archive).
#[derive(Debug, Clone)]
pub struct AppendOnlyTree {
    tree: SparseMerkleTree,
    next: u64,
}

impl AppendOnlyTree {
    /// An empty append-only tree of `depth` levels, `1 <= depth <= 63`.
    ///
    /// # Panics
    ///
    /// If `depth` is outside `1..=63` (a protocol constant, never input).
    pub fn new(depth: usize) -> Self {
        assert!(
            (1..=63).contains(&depth),
            "append-only depth {depth} outside 1..=63"
        );
        Self {
            tree: SparseMerkleTree::new(depth),
            next: 0,
        }
    }

    pub fn depth(&self) -> usize {
        self.tree.depth()
    }

    pub fn root(&self) -> B256 {
        self.tree.root()
    }

    /// Number of leaves appended so far (the next leaf's index).
    pub fn size(&self) -> u64 {
        self.next
    }

    /// Leaves still free.
    pub fn remaining(&self) -> u64 {
        (1u64 << self.tree.depth()) - self.next
    }

    /// The leaf at `index` (zero past the end).
    pub fn get(&self, index: u64) -> B256 {
        self.tree.get(U256::from(index))
    }

    /// Append `leaf` and return its index.
    pub fn append(&mut self, leaf: B256) -> Result<u64, MerkleError> {
        if self.remaining() == 0 {
            return Err(MerkleError::TreeFull {
                depth: self.tree.depth(),
            });
        }
        let index = self.next;
        self.tree.set(U256::from(index), leaf)?;
        self.next += 1;
        Ok(index)
    }

    pub fn proof(&self, index: u64) -> Result<MerkleProof, MerkleError> {
        self.tree.proof(U256::from(index))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Root of a full tree of `depth` levels built level by level from a dense leaf array.
    fn naive_root(depth: usize, leaves: &BTreeMap<U256, B256>) -> B256 {
        let mut level: Vec<B256> = (0..1usize << depth)
            .map(|i| leaves.get(&U256::from(i)).copied().unwrap_or_default())
            .collect();
        while level.len() > 1 {
            level = level.chunks(2).map(|p| hash_pair(p[0], p[1])).collect();
        }
        level[0]
    }

    fn word(n: u64) -> B256 {
        B256::from(U256::from(n))
    }

    #[test]
    fn empty_roots_chain_from_zero() {
        let t = SparseMerkleTree::new(3);
        let e1 = hash_pair(B256::ZERO, B256::ZERO);
        let e2 = hash_pair(e1, e1);
        assert_eq!(t.root(), hash_pair(e2, e2));
        assert_eq!(t.root(), t.empty_root());
    }

    #[test]
    fn depth_one_is_a_pair() {
        let mut t = SparseMerkleTree::new(1);
        t.set(U256::from(1), word(7)).unwrap();
        assert_eq!(t.root(), hash_pair(B256::ZERO, word(7)));
        t.set(U256::ZERO, word(5)).unwrap();
        assert_eq!(t.root(), hash_pair(word(5), word(7)));
    }

    #[test]
    fn out_of_range_index_is_refused() {
        let mut t = SparseMerkleTree::new(4);
        let err = t.set(U256::from(16), word(1)).unwrap_err();
        assert_eq!(
            err,
            MerkleError::IndexOutOfRange {
                index: U256::from(16),
                depth: 4
            }
        );
        assert!(t.proof(U256::from(16)).is_err());
        assert!(t.set(U256::from(15), word(1)).is_ok());
    }

    #[test]
    fn depth_256_takes_any_key_and_proves_absence() {
        let mut t = SparseMerkleTree::new(256);
        let a = U256::MAX;
        let b = U256::ZERO;
        let c = U256::from(1) << 255;
        for k in [a, b, c] {
            t.set(k, word(1)).unwrap();
        }
        let root = t.root();
        for k in [a, b, c] {
            assert!(t.proof(k).unwrap().verify(root, word(1)));
        }
        let absent = U256::from(12345);
        let p = t.proof(absent).unwrap();
        assert!(p.verify(root, B256::ZERO));
        assert!(!p.verify(root, word(1)));
    }

    #[test]
    fn clearing_every_leaf_gives_back_the_empty_tree() {
        let mut t = SparseMerkleTree::new(256);
        let keys = [U256::from(3), U256::from(4), U256::MAX - U256::from(9)];
        for k in keys {
            t.set(k, word(9)).unwrap();
        }
        for k in keys {
            t.set(k, B256::ZERO).unwrap();
        }
        assert_eq!(t.root(), t.empty_root());
        assert!(t.nodes.is_empty());
        assert!(t.is_empty());
    }

    #[test]
    fn storage_stays_linear_in_leaves() {
        let mut t = SparseMerkleTree::new(256);
        for i in 0..32u64 {
            t.set(U256::from_be_bytes(keccak256(i.to_be_bytes()).0), word(1))
                .unwrap();
        }
        // A full path store would hold 32 * 256 nodes; this one about three per leaf.
        assert!(t.nodes.len() < 4 * 32, "{} nodes", t.nodes.len());
    }

    #[test]
    fn append_only_fills_in_order_and_refuses_when_full() {
        let mut t = AppendOnlyTree::new(2);
        for i in 0..4 {
            assert_eq!(t.append(word(i + 1)).unwrap(), i);
        }
        assert_eq!(t.remaining(), 0);
        assert_eq!(t.append(word(9)), Err(MerkleError::TreeFull { depth: 2 }));
        let expected = hash_pair(hash_pair(word(1), word(2)), hash_pair(word(3), word(4)));
        assert_eq!(t.root(), expected);
        assert!(t.proof(2).unwrap().verify(expected, word(3)));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        /// Any sequence of sets and clears gives the naive full-tree root, and every index's proof
        /// verifies its leaf, including the absent ones.
        #[test]
        fn matches_naive_tree(ops in prop::collection::vec((0u64..64, 0u64..4), 0..60)) {
            let depth = 6;
            let mut t = SparseMerkleTree::new(depth);
            let mut reference = BTreeMap::new();
            for (index, v) in ops {
                let value = if v == 0 { B256::ZERO } else { word(v) };
                t.set(U256::from(index), value).unwrap();
                if value.is_zero() {
                    reference.remove(&U256::from(index));
                } else {
                    reference.insert(U256::from(index), value);
                }
            }
            let root = naive_root(depth, &reference);
            prop_assert_eq!(t.root(), root);
            for i in 0..64u64 {
                let index = U256::from(i);
                let leaf = reference.get(&index).copied().unwrap_or_default();
                prop_assert!(t.proof(index).unwrap().verify(root, leaf));
            }
        }

        /// Insertion order does not change a depth-256 tree's root.
        #[test]
        fn root_is_order_independent(keys in prop::collection::btree_set(any::<[u8; 32]>(), 1..8)) {
            let keys: Vec<U256> = keys.into_iter().map(U256::from_be_bytes).collect();
            let mut forward = SparseMerkleTree::new(256);
            let mut backward = SparseMerkleTree::new(256);
            for k in &keys {
                forward.set(*k, word(1)).unwrap();
            }
            for k in keys.iter().rev() {
                backward.set(*k, word(1)).unwrap();
            }
            prop_assert_eq!(forward.root(), backward.root());
            let root = forward.root();
            for k in &keys {
                prop_assert!(backward.proof(*k).unwrap().verify(root, word(1)));
            }
        }
    }
}
