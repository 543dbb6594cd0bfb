//! The mempool: validated L2 txs waiting for a proposer (SPEC 9).
//!
//! Every pooled tx was, when it came in, valid against the node's state *and* against every other
//! pooled tx: no two pooled txs share a nullifier, none of their nullifiers is in the state, and
//! each payer's balance covers the fees of all its pooled txs together.
//! So any prefix of [`Mempool::pending`] can go into one block together, up to the room in the
//! note-hash tree and the blobs (which [`proofline_l2::L2Chain::select_txs`] checks anyway).
//!
//! # Intake ([`Mempool::add`])
//!
//! Checks run in this order; the first that fails is the answer:
//!
//! 1. the bytes decode as a tx ([`proofline_l2::Tx::decode`]), else [`MempoolError::Malformed`];
//! 2. the tx's own nullifier (its first) is not in the state, else
//!    [`MempoolError::AlreadyIncluded`];
//! 3. the same tx (same hash) is not pooled, else [`MempoolError::AlreadyKnown`];
//! 4. none of its nullifiers is in the state or claimed by a pooled tx, else
//!    [`MempoolError::DoubleSpend`] naming the nullifier and who holds it;
//! 5. [`proofline_l2::State::check_tx`] accepts it (the note-hash tree has room, the payer's fee
//!    balance covers its fee), else [`MempoolError::Invalid`];
//! 6. for a paid tx, the payer's balance covers its fee *and* the fees of the payer's pooled txs,
//!    else [`MempoolError::FeeNotCovered`]: a payer cannot fill the pool with txs that no block
//!    could carry together (each alone affordable, jointly not);
//! 7. the pool has room, else [`MempoolError::PoolFull`] (no eviction: a full pool refuses,
//!    whatever the fee; it drains as blocks include its txs).
//!
//! The state is consulted before the pool, so a tx that made it into a block is reported as
//! included even if [`Mempool::on_block`] has not run yet.
//!
//! # Order
//!
//! [`Mempool::pending`] lists txs by fee, highest first, then by arrival (first come first). The
//! arrival counter is the pool's own, so the order is a pure function of the sequence of calls.
//!
//! # Indexes
//!
//! `by_hash` holds the txs, `by_nullifier` maps each nullifier of each pooled tx to that tx's
//! hash (O(1) double-spend checks), `by_priority` orders them for [`Mempool::pending`]. All three
//! always describe the same set of txs ([`Mempool::check_invariants`], property-tested).

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap};
use std::fmt;

use alloy::primitives::{keccak256, Address, B256, U256};
use proofline_l2::{State, StateError, Tx, TxError};
use thiserror::Error;

/// Limits of a [`Mempool`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MempoolConfig {
    /// The pool refuses new txs ([`MempoolError::PoolFull`]) once it holds this many.
    pub max_txs: usize,
}

impl Default for MempoolConfig {
    fn default() -> Self {
        Self { max_txs: 50_000 }
    }
}

/// Who already spends a nullifier a new tx also spends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Conflict {
    /// The nullifier is in the state's nullifier set.
    State,
    /// A pooled tx, by hash, spends it.
    Pooled(B256),
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::State => f.write_str("state"),
            Self::Pooled(hash) => write!(f, "pending tx {hash}"),
        }
    }
}

/// Why the mempool refused a tx.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MempoolError {
    /// The bytes are not a well-formed tx.
    #[error("malformed tx: {0}")]
    Malformed(#[from] TxError),
    /// This very tx is already pooled.
    #[error("tx {0} is already pending")]
    AlreadyKnown(B256),
    /// The tx's own nullifier is in the state: it (or a tx with the same identity) is included.
    #[error("tx is already included (its nullifier {nullifier} is spent)")]
    AlreadyIncluded { nullifier: B256 },
    /// One of the tx's other nullifiers is spent, in the state or by a pooled tx.
    #[error("tx double-spends nullifier {nullifier}, already spent by {conflict}")]
    DoubleSpend { nullifier: B256, conflict: Conflict },
    /// The state refuses the tx for another reason ([`State::check_tx`]).
    #[error("tx is invalid against the current state: {0}")]
    Invalid(StateError),
    /// The payer's balance covers this fee alone, but not with its other pooled txs' fees.
    #[error("payer {payer}'s balance {balance} does not cover fee {fee} on top of {pooled} already pending")]
    FeeNotCovered {
        payer: Address,
        fee: u128,
        pooled: U256,
        balance: U256,
    },
    /// The pool holds `max_txs` txs.
    #[error("mempool is full ({max_txs} txs)")]
    PoolFull { max_txs: usize },
}

/// A decoded tx and its hash, prepared outside any lock ([`Mempool::prepare`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub tx: Tx,
    /// `keccak256(encoding)`.
    pub hash: B256,
}

/// What [`Mempool::on_block`] dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Txs whose own nullifier is now in the state: included (or replaced by a tx with the same
    /// identity).
    pub included: Vec<B256>,
    /// Txs that the state now refuses for another reason (another of their nullifiers is spent,
    /// or the note-hash tree is out of room).
    pub invalidated: Vec<B256>,
}

impl Pruned {
    pub fn len(&self) -> usize {
        self.included.len() + self.invalidated.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Debug, Clone)]
struct Entry {
    tx: Tx,
    seq: u64,
}

/// Priority key: fee descending, then arrival ascending. Unique because `seq` is.
type Priority = (Reverse<u128>, u64);

/// The pool of pending txs (module doc).
#[derive(Debug, Clone)]
pub struct Mempool {
    config: MempoolConfig,
    by_hash: HashMap<B256, Entry>,
    by_nullifier: HashMap<B256, B256>,
    by_priority: BTreeMap<Priority, B256>,
    /// Sum of the fees of each payer's pooled txs.
    fees_by_payer: HashMap<Address, U256>,
    next_seq: u64,
}

impl Mempool {
    pub fn new(config: MempoolConfig) -> Self {
        Self {
            config,
            by_hash: HashMap::new(),
            by_nullifier: HashMap::new(),
            by_priority: BTreeMap::new(),
            fees_by_payer: HashMap::new(),
            next_seq: 0,
        }
    }

    pub fn config(&self) -> MempoolConfig {
        self.config
    }

    /// Decode and hash raw tx bytes: the part of [`Mempool::add`] that needs neither the pool
    /// nor the state, so callers can do it before taking any lock.
    pub fn prepare(raw: &[u8]) -> Result<Candidate, MempoolError> {
        let tx = Tx::decode(raw)?;
        // The encoding is canonical (decode refuses anything encode would not produce), so the
        // raw bytes are the encoding and hashing them is `tx.hash()` without re-encoding.
        Ok(Candidate {
            tx,
            hash: keccak256(raw),
        })
    }

    /// Validate raw tx bytes against `state` and the pool, and pool the tx. Returns its hash.
    pub fn add(&mut self, raw: &[u8], state: &State) -> Result<B256, MempoolError> {
        let candidate = Self::prepare(raw)?;
        self.insert(candidate, state)
    }

    /// Validate a prepared tx against `state` and the pool, and pool it (steps 2 to 6 of the
    /// module doc). Returns its hash.
    pub fn insert(&mut self, candidate: Candidate, state: &State) -> Result<B256, MempoolError> {
        let Candidate { tx, hash } = candidate;
        let own = tx.tx_nullifier();
        if state.contains_nullifier(own) {
            return Err(MempoolError::AlreadyIncluded { nullifier: own });
        }
        if self.by_hash.contains_key(&hash) {
            return Err(MempoolError::AlreadyKnown(hash));
        }
        for &nullifier in tx.nullifiers() {
            if let Some(&holder) = self.by_nullifier.get(&nullifier) {
                return Err(MempoolError::DoubleSpend {
                    nullifier,
                    conflict: Conflict::Pooled(holder),
                });
            }
            if state.contains_nullifier(nullifier) {
                return Err(MempoolError::DoubleSpend {
                    nullifier,
                    conflict: Conflict::State,
                });
            }
        }
        state.check_tx(&tx).map_err(MempoolError::Invalid)?;
        if let Some(payer) = tx.payer() {
            let pooled = self.fees_by_payer.get(&payer).copied().unwrap_or_default();
            let balance = state.balance_of(payer);
            if pooled + U256::from(tx.fee()) > balance {
                return Err(MempoolError::FeeNotCovered {
                    payer,
                    fee: tx.fee(),
                    pooled,
                    balance,
                });
            }
        }
        if self.by_hash.len() >= self.config.max_txs {
            return Err(MempoolError::PoolFull {
                max_txs: self.config.max_txs,
            });
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        for &nullifier in tx.nullifiers() {
            self.by_nullifier.insert(nullifier, hash);
        }
        self.by_priority.insert((Reverse(tx.fee()), seq), hash);
        if let Some(payer) = tx.payer() {
            *self.fees_by_payer.entry(payer).or_default() += U256::from(tx.fee());
        }
        self.by_hash.insert(hash, Entry { tx, seq });
        Ok(hash)
    }

    /// Up to `limit` txs in the order a proposer should take them: fee descending, then arrival.
    pub fn pending(&self, limit: usize) -> Vec<Tx> {
        self.by_priority
            .values()
            .take(limit)
            .map(|hash| self.by_hash[hash].tx.clone())
            .collect()
    }

    /// Hashes of up to `limit` txs, in [`Mempool::pending`] order.
    pub fn pending_hashes(&self, limit: usize) -> Vec<B256> {
        self.by_priority.values().take(limit).copied().collect()
    }

    /// After a block was applied (or the state otherwise changed, e.g. rolled back to the proven
    /// tip), drop every tx the new state refuses: those included, those that became invalid, and
    /// a payer's lowest-priority txs its balance no longer covers together with the others.
    pub fn on_block(&mut self, state: &State) -> Pruned {
        let mut pruned = Pruned::default();
        for (hash, entry) in &self.by_hash {
            if state.contains_nullifier(entry.tx.tx_nullifier()) {
                pruned.included.push(*hash);
            } else if state.check_tx(&entry.tx).is_err() {
                pruned.invalidated.push(*hash);
            }
        }
        // HashMap iteration order is random: report in a deterministic order.
        pruned.included.sort_unstable();
        pruned.invalidated.sort_unstable();
        for hash in pruned.included.iter().chain(&pruned.invalidated) {
            self.remove(hash);
        }
        // Each payer keeps its txs in priority order while its balance covers them.
        let mut left: HashMap<Address, U256> = HashMap::new();
        let mut unaffordable = Vec::new();
        for hash in self.by_priority.values() {
            let tx = &self.by_hash[hash].tx;
            let Some(payer) = tx.payer() else { continue };
            let balance = left.entry(payer).or_insert_with(|| state.balance_of(payer));
            let fee = U256::from(tx.fee());
            if *balance >= fee {
                *balance -= fee;
            } else {
                unaffordable.push(*hash);
            }
        }
        unaffordable.sort_unstable();
        for hash in &unaffordable {
            self.remove(hash);
        }
        pruned.invalidated.extend(unaffordable);
        pruned
    }

    /// Drop a tx; returns it if it was pooled.
    pub fn remove(&mut self, hash: &B256) -> Option<Tx> {
        let entry = self.by_hash.remove(hash)?;
        for nullifier in entry.tx.nullifiers() {
            let removed = self.by_nullifier.remove(nullifier);
            debug_assert_eq!(removed, Some(*hash));
        }
        let removed = self
            .by_priority
            .remove(&(Reverse(entry.tx.fee()), entry.seq));
        debug_assert_eq!(removed, Some(*hash));
        if let Some(payer) = entry.tx.payer() {
            let sum = self
                .fees_by_payer
                .get_mut(&payer)
                .expect("a pooled paid tx's payer is indexed");
            *sum -= U256::from(entry.tx.fee());
            if sum.is_zero() {
                self.fees_by_payer.remove(&payer);
            }
        }
        Some(entry.tx)
    }

    pub fn get(&self, hash: &B256) -> Option<&Tx> {
        self.by_hash.get(hash).map(|e| &e.tx)
    }

    pub fn contains(&self, hash: &B256) -> bool {
        self.by_hash.contains_key(hash)
    }

    /// The pooled tx spending `nullifier`, if any.
    pub fn spender_of(&self, nullifier: &B256) -> Option<B256> {
        self.by_nullifier.get(nullifier).copied()
    }

    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    /// Drop every tx.
    pub fn clear(&mut self) {
        self.by_hash.clear();
        self.by_nullifier.clear();
        self.by_priority.clear();
        self.fees_by_payer.clear();
    }

    /// Check that the three indexes describe the same txs and that no nullifier is claimed
    /// twice. For tests and debug assertions; O(pool size).
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut nullifier_count = 0;
        for (hash, entry) in &self.by_hash {
            if entry.tx.hash() != *hash {
                return Err(format!("tx under {hash} hashes to {}", entry.tx.hash()));
            }
            if self.by_priority.get(&(Reverse(entry.tx.fee()), entry.seq)) != Some(hash) {
                return Err(format!("tx {hash} missing from the priority index"));
            }
            for n in entry.tx.nullifiers() {
                match self.by_nullifier.get(n) {
                    Some(h) if h == hash => nullifier_count += 1,
                    Some(h) => {
                        return Err(format!("nullifier {n} of tx {hash} is indexed to tx {h}"))
                    }
                    None => return Err(format!("nullifier {n} of tx {hash} is not indexed")),
                }
            }
        }
        if nullifier_count != self.by_nullifier.len() {
            return Err(format!(
                "nullifier index has {} entries, pooled txs have {nullifier_count} nullifiers",
                self.by_nullifier.len()
            ));
        }
        if self.by_priority.len() != self.by_hash.len() {
            return Err(format!(
                "priority index has {} entries, pool has {} txs",
                self.by_priority.len(),
                self.by_hash.len()
            ));
        }
        let mut fees: HashMap<Address, U256> = HashMap::new();
        for entry in self.by_hash.values() {
            if let Some(payer) = entry.tx.payer() {
                *fees.entry(payer).or_default() += U256::from(entry.tx.fee());
            }
        }
        fees.retain(|_, f| !f.is_zero());
        if fees != self.fees_by_payer {
            return Err("the per-payer fee sums disagree with the pooled txs".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proofline_l2::{L2Chain, PublicDataWrite};
    use proptest::prelude::*;
    use std::collections::HashSet;

    fn w(n: u64) -> B256 {
        B256::left_padding_from(&n.to_be_bytes())
    }

    /// The payer of the tests' paid txs.
    fn payer() -> alloy::signers::local::PrivateKeySigner {
        alloy::signers::local::PrivateKeySigner::from_bytes(&w(0x77)).unwrap()
    }

    /// Unpaid when `fee` is zero, else paid by [`payer`].
    fn tx(nulls: &[u64], fee: u128) -> Tx {
        let notes = vec![w(1000 + nulls[0])];
        let writes = vec![PublicDataWrite {
            slot: w(7),
            value: w(nulls[0]),
        }];
        let nulls = nulls.iter().map(|n| w(*n)).collect();
        if fee == 0 {
            Tx::new(notes, nulls, writes).unwrap()
        } else {
            Tx::paid(notes, nulls, writes, fee, &payer()).unwrap()
        }
    }

    /// The empty state, with [`payer`] able to pay any fee.
    fn funded() -> State {
        let mut s = State::new();
        s.credit(payer().address(), u128::MAX);
        s
    }

    fn pool(max_txs: usize) -> Mempool {
        Mempool::new(MempoolConfig { max_txs })
    }

    /// A state with nullifiers 1 and 2 spent (by one tx).
    fn spent_state() -> State {
        let mut s = funded();
        s.apply_tx(&tx(&[1, 2], 0)).unwrap();
        s
    }

    #[test]
    fn accepts_a_valid_tx_and_returns_its_hash() {
        let mut p = pool(10);
        let t = tx(&[10, 11], 5);
        let hash = p.add(&t.encode(), &funded()).unwrap();
        assert_eq!(hash, t.hash());
        assert!(p.contains(&hash));
        assert_eq!(p.get(&hash), Some(&t));
        assert_eq!(p.len(), 1);
        assert_eq!(p.spender_of(&w(11)), Some(hash));
        assert_eq!(p.pending(10), vec![t]);
        p.check_invariants().unwrap();
    }

    #[test]
    fn malformed_bytes_are_refused() {
        let mut p = pool(10);
        let s = funded();
        assert_eq!(p.add(&[], &s), Err(MempoolError::Malformed(TxError::Empty)));
        let mut enc = tx(&[10], 1).encode();
        enc.pop();
        assert!(matches!(
            p.add(&enc, &s),
            Err(MempoolError::Malformed(TxError::WrongLength { .. }))
        ));
        assert!(p.is_empty());
    }

    #[test]
    fn the_same_tx_twice_is_already_known() {
        let mut p = pool(10);
        let s = funded();
        let t = tx(&[10], 1);
        let hash = p.add(&t.encode(), &s).unwrap();
        assert_eq!(
            p.add(&t.encode(), &s),
            Err(MempoolError::AlreadyKnown(hash))
        );
        assert_eq!(p.len(), 1);
    }

    #[test]
    fn a_tx_whose_own_nullifier_is_spent_is_already_included() {
        let mut p = pool(10);
        let s = spent_state();
        // Own nullifier spent, whatever the rest.
        assert_eq!(
            p.add(&tx(&[1, 50], 1).encode(), &s),
            Err(MempoolError::AlreadyIncluded { nullifier: w(1) })
        );
        assert_eq!(
            p.add(&tx(&[2], 1).encode(), &s),
            Err(MempoolError::AlreadyIncluded { nullifier: w(2) })
        );
    }

    #[test]
    fn included_wins_over_already_known_when_on_block_has_not_run() {
        let mut p = pool(10);
        let t = tx(&[10], 1);
        p.add(&t.encode(), &funded()).unwrap();
        let mut s = funded();
        s.apply_tx(&t).unwrap();
        assert_eq!(
            p.add(&t.encode(), &s),
            Err(MempoolError::AlreadyIncluded { nullifier: w(10) })
        );
    }

    #[test]
    fn spending_a_state_nullifier_is_a_double_spend() {
        let mut p = pool(10);
        let s = spent_state();
        assert_eq!(
            p.add(&tx(&[20, 2], 1).encode(), &s),
            Err(MempoolError::DoubleSpend {
                nullifier: w(2),
                conflict: Conflict::State
            })
        );
        assert!(p.is_empty());
        p.check_invariants().unwrap();
    }

    #[test]
    fn spending_a_pooled_nullifier_is_a_double_spend_naming_the_pooled_tx() {
        let mut p = pool(10);
        let s = funded();
        let first = p.add(&tx(&[10, 11], 1).encode(), &s).unwrap();
        // Same own nullifier, different tx.
        assert_eq!(
            p.add(&tx(&[10], 9).encode(), &s),
            Err(MempoolError::DoubleSpend {
                nullifier: w(10),
                conflict: Conflict::Pooled(first)
            })
        );
        // Another tx's own nullifier is the pooled one's second.
        assert_eq!(
            p.add(&tx(&[11, 12], 9).encode(), &s),
            Err(MempoolError::DoubleSpend {
                nullifier: w(11),
                conflict: Conflict::Pooled(first)
            })
        );
        // A later nullifier.
        assert_eq!(
            p.add(&tx(&[12, 13, 11], 9).encode(), &s),
            Err(MempoolError::DoubleSpend {
                nullifier: w(11),
                conflict: Conflict::Pooled(first)
            })
        );
        // The refused txs left nothing behind: 12 and 13 are free.
        assert_eq!(p.spender_of(&w(12)), None);
        p.add(&tx(&[12, 13], 1).encode(), &s).unwrap();
        assert_eq!(p.len(), 2);
        p.check_invariants().unwrap();
    }

    #[test]
    fn a_full_pool_refuses_until_a_tx_leaves() {
        let mut p = pool(2);
        let s = funded();
        let a = p.add(&tx(&[10], 1).encode(), &s).unwrap();
        p.add(&tx(&[11], 1).encode(), &s).unwrap();
        assert_eq!(
            p.add(&tx(&[12], 100).encode(), &s),
            Err(MempoolError::PoolFull { max_txs: 2 })
        );
        // Validity is reported before fullness.
        assert!(matches!(
            p.add(&tx(&[13, 10], 1).encode(), &s),
            Err(MempoolError::DoubleSpend { .. })
        ));
        assert!(p.remove(&a).is_some());
        p.add(&tx(&[12], 100).encode(), &s).unwrap();
        assert_eq!(p.len(), 2);
    }

    #[test]
    fn pending_is_fee_descending_then_arrival() {
        let mut p = pool(10);
        let s = funded();
        let fees = [5u128, 9, 5, 1, 9, 0];
        let txs: Vec<Tx> = fees
            .iter()
            .enumerate()
            .map(|(i, f)| tx(&[100 + i as u64], *f))
            .collect();
        for t in &txs {
            p.add(&t.encode(), &s).unwrap();
        }
        let order: Vec<Tx> = [1, 4, 0, 2, 3, 5].iter().map(|i| txs[*i].clone()).collect();
        assert_eq!(p.pending(10), order);
        assert_eq!(p.pending(3), order[..3].to_vec());
        assert_eq!(p.pending(0), vec![]);
        assert_eq!(
            p.pending_hashes(10),
            order.iter().map(Tx::hash).collect::<Vec<_>>()
        );
        // Removing and re-adding puts a tx behind its equals.
        p.remove(&txs[1].hash());
        p.add(&txs[1].encode(), &s).unwrap();
        assert_eq!(p.pending(2), vec![txs[4].clone(), txs[1].clone()]);
    }

    /// A payer's pooled txs are jointly affordable: a tx its balance covers alone but not on top
    /// of its pending ones is refused, and a block that drains the balance drops the txs it no
    /// longer covers, lowest priority first (a flood of individually affordable txs cannot fill
    /// the pool).
    #[test]
    fn a_payers_pooled_fees_never_exceed_its_balance() {
        let mut p = pool(100);
        let mut s = State::new();
        s.credit(payer().address(), 10);
        assert!(matches!(
            p.add(&tx(&[1], 11).encode(), &s),
            Err(MempoolError::Invalid(StateError::FeeNotCovered {
                fee: 11,
                ..
            }))
        ));
        let a = p.add(&tx(&[2], 6).encode(), &s).unwrap();
        let b = p.add(&tx(&[3], 4).encode(), &s).unwrap();
        assert_eq!(
            p.add(&tx(&[4], 1).encode(), &s),
            Err(MempoolError::FeeNotCovered {
                payer: payer().address(),
                fee: 1,
                pooled: U256::from(10),
                balance: U256::from(10)
            })
        );
        // Unpaid txs are not limited by anyone's balance.
        p.add(&tx(&[5], 0).encode(), &s).unwrap();
        p.check_invariants().unwrap();

        // Another tx of the payer spent 3: 7 left covers `a` (6) or `b` (4) alone, not both; the
        // lower-priority `b` goes.
        s.apply_tx(&tx(&[6], 3)).unwrap();
        let pruned = p.on_block(&s);
        assert_eq!(pruned.invalidated, vec![b]);
        assert!(p.contains(&a));
        p.check_invariants().unwrap();
        // The freed balance takes a new tx again.
        p.add(&tx(&[7], 1).encode(), &s).unwrap();
        p.check_invariants().unwrap();
    }

    #[test]
    fn on_block_drops_included_and_invalidated_txs() {
        let mut p = pool(10);
        let mut chain = L2Chain::genesis();
        // Block 1 takes a fee deposit for the payer.
        let deposit = proofline_l2::deposit_data(payer().address(), 1_000);
        chain
            .apply_block(proofline_core::Slot(1), Default::default(), &[deposit], &[])
            .unwrap();
        let included = tx(&[10, 11], 3);
        let conflicting = tx(&[20, 11], 2); // not poolable with `included`: pool it first alone
        let independent = tx(&[30], 1);
        let s = chain.state().clone();
        p.add(&included.encode(), &s).unwrap();
        p.add(&independent.encode(), &s).unwrap();
        assert!(p.add(&conflicting.encode(), &s).is_err());

        // A second pool, as another node might have: it saw `conflicting` first.
        let mut q = pool(10);
        q.add(&conflicting.encode(), &s).unwrap();
        q.add(&independent.encode(), &s).unwrap();

        let (chosen, rejected) = chain.select_txs::<Vec<u8>>(&[], p.pending(10));
        assert!(rejected.is_empty());
        // The block takes only `included`.
        chain
            .apply_block(
                proofline_core::Slot(2),
                Default::default(),
                &[] as &[Vec<u8>],
                &chosen[..1],
            )
            .unwrap();
        let pruned = p.on_block(chain.state());
        assert_eq!(pruned.included, vec![included.hash()]);
        assert!(pruned.invalidated.is_empty());
        assert_eq!(p.pending(10), vec![independent.clone()]);
        p.check_invariants().unwrap();

        let pruned = q.on_block(chain.state());
        assert!(pruned.included.is_empty());
        assert_eq!(pruned.invalidated, vec![conflicting.hash()]);
        assert_eq!(pruned.len(), 1);
        assert_eq!(q.pending(10), vec![independent]);
        assert_eq!(q.spender_of(&w(20)), None);
        assert_eq!(q.spender_of(&w(11)), None);
        q.check_invariants().unwrap();

        // Nothing more to drop.
        assert!(p.on_block(chain.state()).is_empty());
    }

    #[test]
    fn pending_txs_are_jointly_valid() {
        let mut p = pool(100);
        let s = spent_state();
        for i in 0..20u64 {
            let _ = p.add(&tx(&[100 + i, 200 + i % 7], i as u128).encode(), &s);
            let _ = p.add(&tx(&[300 + i, 1 + i % 3], i as u128).encode(), &s);
        }
        // 200..=206 each once, and 3 (1 and 2 are spent) once.
        assert_eq!(p.len(), 8);
        let mut state = s.clone();
        for t in p.pending(100) {
            state.apply_tx(&t).unwrap();
        }
    }

    #[test]
    fn remove_and_clear() {
        let mut p = pool(10);
        let s = funded();
        let t = tx(&[10, 11], 1);
        let h = p.add(&t.encode(), &s).unwrap();
        assert_eq!(p.remove(&h), Some(t.clone()));
        assert_eq!(p.remove(&h), None);
        assert!(p.is_empty() && p.spender_of(&w(10)).is_none());
        p.add(&t.encode(), &s).unwrap();
        p.clear();
        assert!(p.is_empty());
        p.check_invariants().unwrap();
        // After clear the nullifiers are free again.
        p.add(&t.encode(), &s).unwrap();
    }

    #[derive(Debug, Clone)]
    enum Op {
        /// Add a tx with these nullifiers (indexes into a small universe, to force conflicts).
        Add(Vec<u8>, u8),
        /// Remove the pooled tx at this position of `pending`.
        Remove(prop::sample::Index),
        /// Apply the first `n` pending txs to the state and call `on_block`.
        Block(usize),
        /// Spend this nullifier in the state behind the pool's back (a forced tx), then on_block.
        Spend(u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            5 => (prop::collection::vec(0u8..40, 1..4), any::<u8>()).prop_map(|(n, f)| Op::Add(n, f)),
            1 => any::<prop::sample::Index>().prop_map(Op::Remove),
            1 => (0usize..4).prop_map(Op::Block),
            1 => (0u8..40).prop_map(Op::Spend),
        ]
    }

    fn universe(i: u8) -> B256 {
        w(1 + i as u64)
    }

    proptest! {
        // Each case applies txs to a real `State`, whose depth-256 trees are slow unoptimised.
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Whatever the sequence of adds, removals and blocks: the nullifier index agrees with
        /// the pooled txs, no two pooled txs share a nullifier, no pooled tx spends a state
        /// nullifier, and the pool's answers agree with a naive model.
        #[test]
        fn indexes_stay_consistent(ops in prop::collection::vec(op(), 1..50), max_txs in 1usize..12) {
            let mut p = pool(max_txs);
            let mut state = funded();
            let mut salt = 0u64;
            for op in ops {
                match op {
                    Op::Add(nulls, fee) => {
                        let mut seen = HashSet::new();
                        let nulls: Vec<B256> = nulls.into_iter().filter(|n| seen.insert(*n)).map(universe).collect();
                        salt += 1;
                        let t = if fee == 0 { Tx::new(vec![w(salt)], nulls, vec![]) } else { Tx::paid(vec![w(salt)], nulls, vec![], fee as u128, &payer()) }.unwrap();
                        // Naive model of the answer.
                        let in_state = t.nullifiers().iter().find(|n| state.contains_nullifier(**n));
                        let in_pool = t.nullifiers().iter().find_map(|n| p.spender_of(n).map(|h| (*n, h)));
                        let full = p.len() >= max_txs;
                        let res = p.add(&t.encode(), &state);
                        if state.contains_nullifier(t.tx_nullifier()) {
                            prop_assert_eq!(res, Err(MempoolError::AlreadyIncluded { nullifier: t.tx_nullifier() }));
                        } else if let Some((n, h)) = in_pool {
                            // The first conflicting nullifier in tx order wins; here the pool's.
                            let first_state = in_state.copied();
                            let idx_pool = t.nullifiers().iter().position(|x| *x == n).unwrap();
                            let idx_state = first_state.map(|s| t.nullifiers().iter().position(|x| *x == s).unwrap());
                            if idx_state.is_none_or(|i| idx_pool <= i) {
                                prop_assert_eq!(res, Err(MempoolError::DoubleSpend { nullifier: n, conflict: Conflict::Pooled(h) }));
                            } else {
                                prop_assert_eq!(res, Err(MempoolError::DoubleSpend { nullifier: first_state.unwrap(), conflict: Conflict::State }));
                            }
                        } else if let Some(n) = in_state {
                            prop_assert_eq!(res, Err(MempoolError::DoubleSpend { nullifier: *n, conflict: Conflict::State }));
                        } else if full {
                            prop_assert_eq!(res, Err(MempoolError::PoolFull { max_txs }));
                        } else {
                            prop_assert_eq!(res, Ok(t.hash()));
                        }
                    }
                    Op::Remove(i) => {
                        let hashes = p.pending_hashes(usize::MAX);
                        if !hashes.is_empty() {
                            let h = hashes[i.index(hashes.len())];
                            prop_assert!(p.remove(&h).is_some());
                            prop_assert!(!p.contains(&h));
                        }
                    }
                    Op::Block(n) => {
                        let txs = p.pending(n);
                        for t in &txs {
                            state.apply_tx(t).unwrap();
                        }
                        let pruned = p.on_block(&state);
                        let mut included: Vec<B256> = txs.iter().map(Tx::hash).collect();
                        included.sort_unstable();
                        prop_assert_eq!(pruned.included, included);
                        prop_assert!(pruned.invalidated.is_empty());
                    }
                    Op::Spend(i) => {
                        let n = universe(i);
                        if !state.contains_nullifier(n) {
                            state.apply_tx(&Tx::new(vec![], vec![n], vec![]).unwrap()).unwrap();
                        }
                        let holder = p.spender_of(&n);
                        let pruned = p.on_block(&state);
                        prop_assert_eq!(pruned.len(), usize::from(holder.is_some()));
                        if let Some(h) = holder {
                            prop_assert!(!p.contains(&h));
                        }
                    }
                }
                prop_assert!(p.check_invariants().is_ok(), "{:?}", p.check_invariants());
                prop_assert!(p.len() <= max_txs);
                // No two pooled txs share a nullifier, none spends a state nullifier.
                let mut seen = HashSet::new();
                let pending = p.pending(usize::MAX);
                prop_assert_eq!(pending.len(), p.len());
                for t in &pending {
                    for n in t.nullifiers() {
                        prop_assert!(seen.insert(*n), "nullifier {} pooled twice", n);
                        prop_assert!(!state.contains_nullifier(*n));
                        prop_assert_eq!(p.spender_of(n), Some(t.hash()));
                    }
                }
                prop_assert_eq!(seen.len(), p.by_nullifier.len());
                // Pending order: fee descending.
                prop_assert!(pending.windows(2).all(|w| w[0].fee() >= w[1].fee()));
            }
        }
    }
}
