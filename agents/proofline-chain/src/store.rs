//! The node's on-disk state (a redb file), so that a restarted node resumes where it stopped
//! instead of re-syncing from genesis, and never signs or proposes twice differently for one slot.
//!
//! # Tables
//!
//! - `blocks`: L2 block number → the L1 block it was proposed in ([`L1Origin`]) and the block as
//!   the node encodes it (opaque here). Value layout: L1 block number (u64 big-endian), L1 block
//!   hash (32 bytes), then the block's bytes.
//! - `signatures`, `proposals`: (slot, signer address) → the digest signed. One digest per signer
//!   and slot is all that may ever be signed; see [`Store::record_signature`].
//! - `seen`: (slot, proposer) → the first proposal the node received from that slot's proposer,
//!   with the proposer's signature (digest, 32 bytes, then the 65-byte signature); see
//!   [`Store::record_seen_proposal`].
//! - `equivocations`: (slot, proposer) → [`Equivocation`] (JSON): two different proposals the
//!   proposer signed for one slot, kept as evidence for slashing. Never pruned: only a proposer
//!   that equivocates adds to it, once per slot.
//! - `meta`: free-form key → bytes (sync cursors, versions...).
//!
//! # Durability and concurrency
//!
//! Every write is its own redb write transaction, committed with [`Durability::Immediate`]: when
//! a method returns `Ok`, the change is on disk. redb runs one write transaction at a time, so
//! concurrent callers (the store is a cheap [`Clone`] around one database) see each other's
//! writes in a single order. The methods block on disk I/O (an fsync per write); async code calls
//! them from `tokio::task::spawn_blocking` or accepts the short stall.
//!
//! redb locks the file: a second [`Store::open`] of the same path, in this process or another,
//! fails instead of letting two nodes share (and double-sign from) one store.

use std::{path::Path, sync::Arc};

use alloy::primitives::{Address, Bytes, B256};
use proofline_core::Slot;
use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};
use thiserror::Error;

const BLOCKS: TableDefinition<u64, &[u8]> = TableDefinition::new("blocks");
const SIGNATURES: TableDefinition<(u64, [u8; 20]), [u8; 32]> = TableDefinition::new("signatures");
const PROPOSALS: TableDefinition<(u64, [u8; 20]), [u8; 32]> = TableDefinition::new("proposals");
const SEEN: TableDefinition<(u64, [u8; 20]), &[u8]> = TableDefinition::new("seen");
const EQUIVOCATIONS: TableDefinition<(u64, [u8; 20]), &[u8]> =
    TableDefinition::new("equivocations");
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");

/// Bytes of the [`L1Origin`] prefix of a stored block.
const ORIGIN_LEN: usize = 8 + 32;

/// A proposal as its proposer signed it: the proposal digest and the 65-byte signature over it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedDigest {
    pub digest: B256,
    pub signature: Bytes,
}

/// Two different proposals one proposer signed for one slot: evidence for slashing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Equivocation {
    pub slot: Slot,
    pub proposer: Address,
    /// The one the node received first.
    pub first: SignedDigest,
    pub second: SignedDigest,
}

/// What [`Store::record_seen_proposal`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// The first proposal from this proposer for this slot, or the same one again.
    First,
    /// The proposer signed another proposal for this slot before: the pair is now kept as
    /// evidence.
    Equivocation(Box<Equivocation>),
}

/// The L1 block an L2 block was proposed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct L1Origin {
    pub block_number: u64,
    pub block_hash: B256,
}

/// What recording a signature (or proposal) found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignCheck {
    /// Nothing was recorded for this signer and slot; `digest` is recorded now (durably): sign it.
    Fresh,
    /// This exact digest was already recorded for this signer and slot: signing it again (or
    /// re-sending the signature made before) is safe.
    Repeat,
    /// Another digest was recorded for this signer and slot: signing would equivocate. Refuse.
    Conflict { recorded: B256 },
}

impl SignCheck {
    /// Whether signing (or re-sending) the digest is safe: [`SignCheck::Fresh`] or
    /// [`SignCheck::Repeat`].
    pub fn may_sign(&self) -> bool {
        !matches!(self, SignCheck::Conflict { .. })
    }
}

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("store database: {0}")]
    Db(#[from] redb::Error),
    #[error(
        "store is corrupt: block {number} has a {len}-byte record, shorter than its L1 origin"
    )]
    CorruptBlock { number: u64, len: usize },
}

/// `From` each of redb's per-operation error types for a store error with a `Db(redb::Error)`
/// variant: every store here handles them alike (the node's, the prover's).
#[macro_export]
macro_rules! redb_errors_into {
    ($err:ident) => {
        $crate::redb_errors_into!($err:
            redb::DatabaseError,
            redb::TransactionError,
            redb::TableError,
            redb::StorageError,
            redb::CommitError,
            redb::SetDurabilityError
        );
    };
    ($err:ident: $($t:ty),*) => {$(
        impl From<$t> for $err {
            fn from(e: $t) -> Self {
                $err::Db(e.into())
            }
        }
    )*};
}
redb_errors_into!(StoreError);

/// The node's store; clones share one open database.
#[derive(Clone, Debug)]
pub struct Store {
    db: Arc<Database>,
}

impl Store {
    /// Opens the store at `path`, creating the file and its tables if missing.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let db = Database::create(path)?;
        let store = Store { db: Arc::new(db) };
        // Create every table now, so reads of a fresh store find them.
        store.write(|txn| {
            txn.open_table(BLOCKS)?;
            txn.open_table(SIGNATURES)?;
            txn.open_table(PROPOSALS)?;
            txn.open_table(SEEN)?;
            txn.open_table(EQUIVOCATIONS)?;
            txn.open_table(META)?;
            Ok(())
        })?;
        Ok(store)
    }

    /// Stores L2 block `number` (replacing any block stored under that number) with the L1 block
    /// it was proposed in.
    pub fn put_block(&self, number: u64, l1: L1Origin, bytes: &[u8]) -> Result<(), StoreError> {
        let mut value = Vec::with_capacity(ORIGIN_LEN + bytes.len());
        value.extend_from_slice(&l1.block_number.to_be_bytes());
        value.extend_from_slice(l1.block_hash.as_slice());
        value.extend_from_slice(bytes);
        self.write(|txn| {
            txn.open_table(BLOCKS)?.insert(number, value.as_slice())?;
            Ok(())
        })
    }

    /// L2 block `number` and its L1 origin, if stored.
    pub fn block(&self, number: u64) -> Result<Option<(L1Origin, Vec<u8>)>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(BLOCKS)?;
        let Some(value) = table.get(number)? else {
            return Ok(None);
        };
        decode_block(number, value.value()).map(Some)
    }

    /// Every stored block numbered `first` or above, in ascending order.
    pub fn blocks_from(&self, first: u64) -> Result<Vec<(u64, L1Origin, Vec<u8>)>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(BLOCKS)?;
        let mut out = Vec::new();
        for entry in table.range(first..)? {
            let (number, value) = entry?;
            let number = number.value();
            let (origin, bytes) = decode_block(number, value.value())?;
            out.push((number, origin, bytes));
        }
        Ok(out)
    }

    /// The highest stored block number, or `None` when no block is stored.
    pub fn tip(&self) -> Result<Option<u64>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(BLOCKS)?;
        let tip = table.last()?.map(|(number, _)| number.value());
        Ok(tip)
    }

    /// Removes every block numbered above `number` (an L1 reorg, or a pending chain pruned back)
    /// and returns how many were removed. `truncate_above(0)` keeps only block 0, if stored.
    pub fn truncate_above(&self, number: u64) -> Result<u64, StoreError> {
        let Some(first) = number.checked_add(1) else {
            return Ok(0);
        };
        self.write(|txn| {
            let mut table = txn.open_table(BLOCKS)?;
            let mut removed = 0u64;
            table.retain_in(first.., |_, _| {
                removed += 1;
                false
            })?;
            Ok(removed)
        })
    }

    /// Records that `validator` signs `digest` (an attestation) in `slot`, unless it already
    /// signed something in that slot. Check and record are one write transaction, committed to
    /// disk before [`SignCheck::Fresh`] is returned: sign only after that, and a crash at any
    /// point can never let a second, different digest be signed for the same slot.
    pub fn record_signature(
        &self,
        validator: Address,
        slot: Slot,
        digest: B256,
    ) -> Result<SignCheck, StoreError> {
        self.record(SIGNATURES, validator, slot, digest)
    }

    /// [`Store::record_signature`] for each of `validators` (in order), in one write transaction
    /// committed durably once: a node with many committee members pays one disk sync per slot
    /// instead of one per member. The answers are as if each had been recorded on its own; a
    /// validator listed twice gets [`SignCheck::Repeat`] the second time.
    pub fn record_signatures(
        &self,
        validators: &[Address],
        slot: Slot,
        digest: B256,
    ) -> Result<Vec<SignCheck>, StoreError> {
        let mut txn = self.db.begin_write()?;
        txn.set_durability(Durability::Immediate)?;
        let checks = {
            let mut table = txn.open_table(SIGNATURES)?;
            let mut checks = Vec::with_capacity(validators.len());
            for validator in validators {
                let key = (slot.0, validator.into_array());
                let recorded = table.get(key)?.map(|v| B256::from(v.value()));
                checks.push(match recorded {
                    Some(recorded) if recorded == digest => SignCheck::Repeat,
                    Some(recorded) => SignCheck::Conflict { recorded },
                    None => {
                        table.insert(key, digest.0)?;
                        SignCheck::Fresh
                    }
                });
            }
            checks
        };
        if checks.contains(&SignCheck::Fresh) {
            txn.commit()?;
        } else {
            txn.abort()?;
        }
        Ok(checks)
    }

    /// As [`Store::record_signature`], for the block `proposer` proposes in `slot` (`digest`
    /// identifies the proposal, e.g. its EIP-712 digest).
    pub fn record_proposal(
        &self,
        proposer: Address,
        slot: Slot,
        digest: B256,
    ) -> Result<SignCheck, StoreError> {
        self.record(PROPOSALS, proposer, slot, digest)
    }

    /// Forgets signatures and proposals of slots before `slot` (signing for a past slot is
    /// useless: the Rollup only takes the current slot's proposal), and returns how many records
    /// were removed. Never call it with a slot above the current one.
    pub fn prune_records_below(&self, slot: Slot) -> Result<u64, StoreError> {
        self.write(|txn| {
            let mut removed = 0u64;
            for def in [SIGNATURES, PROPOSALS] {
                let mut table = txn.open_table(def)?;
                table.retain_in(..(slot.0, [0u8; 20]), |_, _| {
                    removed += 1;
                    false
                })?;
            }
            txn.open_table(SEEN)?
                .retain_in(..(slot.0, [0u8; 20]), |_, _| {
                    removed += 1;
                    false
                })?;
            Ok(removed)
        })
    }

    /// Records the proposal `proposer` signed for `slot`, if it is the first the node sees from
    /// it for that slot. Only call it with a signature already checked to be the proposer's: the
    /// record is what an equivocation is later proven with. A different proposal for the same
    /// slot is kept, beside the first, as an [`Equivocation`].
    pub fn record_seen_proposal(
        &self,
        proposer: Address,
        slot: Slot,
        signed: &SignedDigest,
    ) -> Result<Seen, StoreError> {
        let key = (slot.0, proposer.into_array());
        let mut seen = Seen::First;
        self.write(|txn| {
            let mut table = txn.open_table(SEEN)?;
            let first = table.get(key)?.map(|v| decode_signed(v.value()));
            match first {
                None => {
                    table.insert(key, encode_signed(signed).as_slice())?;
                }
                Some(first) if first.digest == signed.digest => {}
                Some(first) => {
                    let evidence = Equivocation {
                        slot,
                        proposer,
                        first,
                        second: signed.clone(),
                    };
                    let bytes = serde_json::to_vec(&evidence).expect("serialises");
                    let mut evidence_table = txn.open_table(EQUIVOCATIONS)?;
                    if evidence_table.get(key)?.is_none() {
                        evidence_table.insert(key, bytes.as_slice())?;
                    }
                    seen = Seen::Equivocation(Box::new(evidence));
                }
            }
            Ok(())
        })?;
        Ok(seen)
    }

    /// The equivocations kept as evidence, newest slot first, at most `limit`.
    pub fn equivocations(&self, limit: usize) -> Result<Vec<Equivocation>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(EQUIVOCATIONS)?;
        let mut out = Vec::new();
        for entry in table.iter()?.rev().take(limit) {
            let (_, value) = entry?;
            if let Ok(e) = serde_json::from_slice(value.value()) {
                out.push(e);
            }
        }
        Ok(out)
    }

    pub fn get_meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(META)?;
        let value = table.get(key)?.map(|v| v.value().to_vec());
        Ok(value)
    }

    pub fn set_meta(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.write(|txn| {
            txn.open_table(META)?.insert(key, value)?;
            Ok(())
        })
    }

    fn record(
        &self,
        def: TableDefinition<(u64, [u8; 20]), [u8; 32]>,
        who: Address,
        slot: Slot,
        digest: B256,
    ) -> Result<SignCheck, StoreError> {
        let key = (slot.0, who.into_array());
        let mut txn = self.db.begin_write()?;
        txn.set_durability(Durability::Immediate)?;
        let check = {
            let mut table = txn.open_table(def)?;
            let recorded = table.get(key)?.map(|v| B256::from(v.value()));
            match recorded {
                Some(recorded) if recorded == digest => SignCheck::Repeat,
                Some(recorded) => SignCheck::Conflict { recorded },
                None => {
                    table.insert(key, digest.0)?;
                    SignCheck::Fresh
                }
            }
        };
        if check == SignCheck::Fresh {
            txn.commit()?;
        } else {
            txn.abort()?;
        }
        Ok(check)
    }

    /// Runs `f` in a write transaction and commits it durably.
    fn write<T>(
        &self,
        f: impl FnOnce(&redb::WriteTransaction) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut txn = self.db.begin_write()?;
        txn.set_durability(Durability::Immediate)?;
        let out = f(&txn)?;
        txn.commit()?;
        Ok(out)
    }
}

fn decode_block(number: u64, value: &[u8]) -> Result<(L1Origin, Vec<u8>), StoreError> {
    if value.len() < ORIGIN_LEN {
        return Err(StoreError::CorruptBlock {
            number,
            len: value.len(),
        });
    }
    let (head, bytes) = value.split_at(ORIGIN_LEN);
    let origin = L1Origin {
        block_number: u64::from_be_bytes(head[..8].try_into().expect("8 bytes")),
        block_hash: B256::from_slice(&head[8..]),
    };
    Ok((origin, bytes.to_vec()))
}

fn encode_signed(signed: &SignedDigest) -> Vec<u8> {
    let mut out = signed.digest.to_vec();
    out.extend_from_slice(&signed.signature);
    out
}

fn decode_signed(bytes: &[u8]) -> SignedDigest {
    let (digest, signature) = bytes.split_at(bytes.len().min(32));
    SignedDigest {
        digest: B256::left_padding_from(digest),
        signature: Bytes::copy_from_slice(signature),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn origin(n: u64) -> L1Origin {
        L1Origin {
            block_number: 1_000 + n,
            block_hash: B256::with_last_byte(n as u8),
        }
    }

    fn temp_store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("node.redb")).unwrap();
        (dir, store)
    }

    #[test]
    fn store_empty_store_has_nothing() {
        let (_dir, store) = temp_store();
        assert_eq!(store.tip().unwrap(), None);
        assert_eq!(store.block(0).unwrap(), None);
        assert!(store.blocks_from(0).unwrap().is_empty());
        assert_eq!(store.get_meta("x").unwrap(), None);
        assert_eq!(store.truncate_above(0).unwrap(), 0);
    }

    #[test]
    fn store_reopen_after_drop_keeps_everything() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("node.redb");
        let v = Address::repeat_byte(7);
        {
            let store = Store::open(&path).unwrap();
            store.put_block(1, origin(1), b"one").unwrap();
            store.put_block(2, origin(2), b"").unwrap();
            store.set_meta("cursor", b"\x01\x02").unwrap();
            assert_eq!(
                store
                    .record_signature(v, Slot(5), B256::repeat_byte(1))
                    .unwrap(),
                SignCheck::Fresh
            );
            assert_eq!(
                store
                    .record_proposal(v, Slot(5), B256::repeat_byte(2))
                    .unwrap(),
                SignCheck::Fresh
            );
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(store.tip().unwrap(), Some(2));
        assert_eq!(store.block(1).unwrap(), Some((origin(1), b"one".to_vec())));
        assert_eq!(store.block(2).unwrap(), Some((origin(2), Vec::new())));
        assert_eq!(store.get_meta("cursor").unwrap(), Some(vec![1, 2]));
        assert_eq!(
            store
                .record_signature(v, Slot(5), B256::repeat_byte(3))
                .unwrap(),
            SignCheck::Conflict {
                recorded: B256::repeat_byte(1)
            }
        );
        assert_eq!(
            store
                .record_proposal(v, Slot(5), B256::repeat_byte(2))
                .unwrap(),
            SignCheck::Repeat
        );
    }

    #[test]
    fn store_refuses_a_second_open_of_the_same_file() {
        let (dir, _store) = temp_store();
        assert!(Store::open(&dir.path().join("node.redb")).is_err());
    }

    #[test]
    fn store_signatures_are_fresh_then_repeat_or_conflict() {
        let (_dir, store) = temp_store();
        let (a, b) = (Address::repeat_byte(0xa), Address::repeat_byte(0xb));
        let (d1, d2) = (B256::repeat_byte(1), B256::repeat_byte(2));
        assert_eq!(
            store.record_signature(a, Slot(9), d1).unwrap(),
            SignCheck::Fresh
        );
        assert_eq!(
            store.record_signature(a, Slot(9), d1).unwrap(),
            SignCheck::Repeat
        );
        let conflict = store.record_signature(a, Slot(9), d2).unwrap();
        assert_eq!(conflict, SignCheck::Conflict { recorded: d1 });
        assert!(!conflict.may_sign());
        // A conflict records nothing: the first digest stays.
        assert_eq!(
            store.record_signature(a, Slot(9), d1).unwrap(),
            SignCheck::Repeat
        );
        // Other slots, other validators and proposals are separate.
        assert_eq!(
            store.record_signature(a, Slot(10), d2).unwrap(),
            SignCheck::Fresh
        );
        assert_eq!(
            store.record_signature(b, Slot(9), d2).unwrap(),
            SignCheck::Fresh
        );
        assert_eq!(
            store.record_proposal(a, Slot(9), d2).unwrap(),
            SignCheck::Fresh
        );
        assert_eq!(
            store.record_proposal(a, Slot(9), d1).unwrap(),
            SignCheck::Conflict { recorded: d2 }
        );
    }

    #[test]
    fn store_batched_signatures_answer_as_one_by_one_and_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("node.redb");
        let (a, b, c) = (
            Address::repeat_byte(0xa),
            Address::repeat_byte(0xb),
            Address::repeat_byte(0xc),
        );
        let (d1, d2) = (B256::repeat_byte(1), B256::repeat_byte(2));
        {
            let store = Store::open(&path).unwrap();
            assert_eq!(
                store.record_signature(a, Slot(9), d1).unwrap(),
                SignCheck::Fresh
            );
            assert_eq!(
                store.record_signature(b, Slot(9), d2).unwrap(),
                SignCheck::Fresh
            );
            assert_eq!(
                store.record_signatures(&[a, b, c, c], Slot(9), d1).unwrap(),
                vec![
                    SignCheck::Repeat,
                    SignCheck::Conflict { recorded: d2 },
                    SignCheck::Fresh,
                    SignCheck::Repeat
                ]
            );
            // Nothing fresh: nothing changes.
            assert_eq!(
                store.record_signatures(&[a, b], Slot(9), d2).unwrap(),
                vec![SignCheck::Conflict { recorded: d1 }, SignCheck::Repeat]
            );
            assert_eq!(store.record_signatures(&[], Slot(9), d2).unwrap(), vec![]);
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(
            store.record_signature(c, Slot(9), d1).unwrap(),
            SignCheck::Repeat
        );
        assert_eq!(
            store.record_signature(b, Slot(9), d1).unwrap(),
            SignCheck::Conflict { recorded: d2 }
        );
    }

    #[test]
    fn store_prunes_records_of_past_slots() {
        let (_dir, store) = temp_store();
        let a = Address::repeat_byte(0xa);
        let d = B256::repeat_byte(1);
        for slot in [1, 2, 3] {
            store.record_signature(a, Slot(slot), d).unwrap();
        }
        store.record_proposal(Address::ZERO, Slot(2), d).unwrap();
        store
            .record_proposal(Address::repeat_byte(0xff), Slot(1), d)
            .unwrap();
        assert_eq!(store.prune_records_below(Slot(3)).unwrap(), 4);
        assert_eq!(
            store.record_signature(a, Slot(3), d).unwrap(),
            SignCheck::Repeat
        );
        assert_eq!(
            store.record_signature(a, Slot(2), d).unwrap(),
            SignCheck::Fresh
        );
    }

    #[test]
    fn store_keeps_a_proposers_two_signed_proposals_for_a_slot_as_evidence() {
        let (dir, store) = temp_store();
        let p = Address::repeat_byte(0xb);
        let signed = |d: u8| SignedDigest {
            digest: B256::repeat_byte(d),
            signature: Bytes::from(vec![d; 65]),
        };
        assert_eq!(
            store.record_seen_proposal(p, Slot(7), &signed(1)).unwrap(),
            Seen::First
        );
        assert_eq!(
            store.record_seen_proposal(p, Slot(7), &signed(1)).unwrap(),
            Seen::First,
            "the same proposal again"
        );
        assert_eq!(
            store.record_seen_proposal(p, Slot(8), &signed(2)).unwrap(),
            Seen::First,
            "another slot"
        );
        let Seen::Equivocation(e) = store.record_seen_proposal(p, Slot(7), &signed(3)).unwrap()
        else {
            panic!("a second proposal for slot 7 is an equivocation");
        };
        assert_eq!((e.slot, e.proposer), (Slot(7), p));
        assert_eq!((e.first.clone(), e.second.clone()), (signed(1), signed(3)));
        assert_eq!(store.equivocations(10).unwrap(), vec![*e.clone()]);
        // Pruning forgets what was seen, never the evidence; and it survives a restart.
        store.prune_records_below(Slot(100)).unwrap();
        drop(store);
        let store = Store::open(&dir.path().join("node.redb")).unwrap();
        assert_eq!(store.equivocations(10).unwrap(), vec![*e]);
        assert_eq!(
            store.record_seen_proposal(p, Slot(7), &signed(3)).unwrap(),
            Seen::First,
            "pruned: a past slot's proposals are no longer compared"
        );
    }

    #[test]
    fn store_truncate_above_removes_the_higher_blocks() {
        let (_dir, store) = temp_store();
        for n in 0..6 {
            store.put_block(n, origin(n), &[n as u8; 3]).unwrap();
        }
        assert_eq!(store.truncate_above(3).unwrap(), 2);
        assert_eq!(store.tip().unwrap(), Some(3));
        assert_eq!(store.block(4).unwrap(), None);
        assert_eq!(
            store
                .blocks_from(2)
                .unwrap()
                .iter()
                .map(|b| b.0)
                .collect::<Vec<_>>(),
            [2, 3]
        );
        assert_eq!(store.truncate_above(3).unwrap(), 0);
        assert_eq!(store.truncate_above(u64::MAX).unwrap(), 0);
        assert_eq!(store.truncate_above(0).unwrap(), 3);
        assert_eq!(store.tip().unwrap(), Some(0));
        // A block replaced under the same number.
        store.put_block(0, origin(9), b"new").unwrap();
        assert_eq!(store.block(0).unwrap(), Some((origin(9), b"new".to_vec())));
    }

    #[test]
    fn store_serves_concurrent_callers_one_digest_per_slot() {
        let (_dir, store) = temp_store();
        let v = Address::repeat_byte(1);
        let fresh: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8u8)
                .map(|i| {
                    let store = store.clone();
                    s.spawn(move || {
                        store
                            .record_signature(v, Slot(1), B256::repeat_byte(i))
                            .unwrap()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap())
                .filter(|c| *c == SignCheck::Fresh)
                .count()
        });
        assert_eq!(fresh, 1);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Put(u64, u64, Vec<u8>),
        Truncate(u64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (0u64..40, any::<u64>(), prop::collection::vec(any::<u8>(), 0..16))
                .prop_map(|(n, l1, b)| Op::Put(n, l1, b)),
            1 => prop_oneof![0u64..40, Just(u64::MAX)].prop_map(Op::Truncate),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        /// After any sequence of puts and truncations, the store holds what a BTreeMap would.
        #[test]
        fn store_matches_a_btreemap_model(ops in prop::collection::vec(op(), 1..40), from in 0u64..45) {
            let (_dir, store) = temp_store();
            let mut model: BTreeMap<u64, (L1Origin, Vec<u8>)> = BTreeMap::new();
            for op in ops {
                match op {
                    Op::Put(n, l1, bytes) => {
                        let o = L1Origin { block_number: l1, block_hash: B256::from(alloy::primitives::U256::from(l1)) };
                        store.put_block(n, o, &bytes).unwrap();
                        model.insert(n, (o, bytes));
                    }
                    Op::Truncate(n) => {
                        let removed = match n.checked_add(1) {
                            Some(first) => model.split_off(&first).len() as u64,
                            None => 0,
                        };
                        prop_assert_eq!(store.truncate_above(n).unwrap(), removed);
                    }
                }
            }
            let expected: Vec<_> = model.range(from..).map(|(n, (o, b))| (*n, *o, b.clone())).collect();
            prop_assert_eq!(store.blocks_from(from).unwrap(), expected);
            prop_assert_eq!(store.tip().unwrap(), model.keys().next_back().copied());
        }
    }
}
