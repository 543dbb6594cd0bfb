//! The node's view of the L2 chain: the executed state, the blocks that made it, and the
//! forced-inclusion queue as L1 published it.
//!
//! Everything here is derived from L1 and kept in step with it by the node's sync; nothing is
//! applied before its `L2BlockProposed` event is seen. A block is kept as [`StoredBlock`]: its
//! slot, coinbase, forced entries (raw queue data) and other txs, which is all it takes to execute
//! it again. Going back (a prune, an L1 reorg) replays the kept blocks from the last checkpoint
//! (the proven tip, or genesis), since the state trees have no undo.
//!
//! The coinbase of a block is the address that sent its `propose` (or `proposeWithProof`)
//! transaction: the header commits to it, and nothing else on L1 says who it is (docs/node.md).

use std::collections::BTreeMap;

use alloy::primitives::{Address, Bytes, B256, U256};
use proofline_core::{Epoch, Slot};
use proofline_l2::{ChainError, L2Block, L2Chain, Tx, TxError};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A block as the node keeps it on disk: what it takes to execute it again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredBlock {
    pub number: u64,
    pub slot: Slot,
    pub coinbase: Address,
    /// The forced-inclusion entries leading the block, raw, in queue order.
    pub forced: Vec<Bytes>,
    /// The other txs, in their canonical encoding.
    pub txs: Vec<Bytes>,
    /// The archive after this block, as L1 recorded it.
    pub archive: B256,
}

impl StoredBlock {
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a StoredBlock always serialises")
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}

/// One entry of the forced-inclusion queue, from its `ForcedTxQueued` event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueEntry {
    pub index: u64,
    pub tx_hash: B256,
    /// The epoch from which blocks must include it (`includedByEpoch`).
    pub due_epoch: Epoch,
    pub data: Bytes,
    /// The L1 block that queued it.
    pub l1_block: u64,
}

#[derive(Debug, Error)]
pub enum ApplyError {
    #[error("block {got} does not follow the node's tip {tip}")]
    NotNext { tip: u64, got: u64 },
    #[error("block {number} takes forced entry {index}, which the node has not seen queued")]
    MissingForcedEntry { number: u64, index: u64 },
    #[error("block {number}: tx {index} does not decode: {error}")]
    BadTx {
        number: u64,
        index: usize,
        error: TxError,
    },
    #[error("block {number} does not execute: {error}")]
    Execution { number: u64, error: ChainError },
    #[error("block {number} executes to archive {computed}, but L1 recorded {recorded}")]
    ArchiveMismatch {
        number: u64,
        computed: B256,
        recorded: B256,
    },
}

/// The L2 chain, its blocks, and the forced-inclusion queue.
#[derive(Debug, Clone, Default)]
pub struct NodeChain {
    chain: L2Chain,
    /// Blocks 1..=tip, in order.
    blocks: Vec<StoredBlock>,
    /// The state root each of blocks 1..=tip executed to (its header's), in the same order: what
    /// `node_getBlock` reports, so nodes can be compared block by block.
    state_roots: Vec<B256>,
    /// The fees each of blocks 1..=tip collected (its header's): what an epoch proof pays per
    /// block, with the block's coinbase.
    fees: Vec<U256>,
    /// Index of the next queue entry a block takes (after the tip).
    forced_head: u64,
    queue: BTreeMap<u64, QueueEntry>,
    /// A copy of the chain at some block <= tip (the proven tip when known): rollbacks replay
    /// from here instead of from genesis.
    checkpoint: Option<(L2Chain, u64)>,
}

impl NodeChain {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn l2(&self) -> &L2Chain {
        &self.chain
    }

    pub fn tip(&self) -> u64 {
        self.blocks.len() as u64
    }

    pub fn archive(&self) -> B256 {
        self.chain.archive_root()
    }

    pub fn block(&self, number: u64) -> Option<&StoredBlock> {
        number
            .checked_sub(1)
            .and_then(|i| self.blocks.get(i as usize))
    }

    /// The archive after block `number`, as L1 recorded it; `None` above the tip.
    pub fn archive_after(&self, number: u64) -> Option<B256> {
        self.block(number).map(|b| b.archive)
    }

    pub fn blocks(&self) -> &[StoredBlock] {
        &self.blocks
    }

    /// The fees block `number` (1..=tip) collected.
    pub fn fees_of(&self, number: u64) -> Option<U256> {
        number
            .checked_sub(1)
            .and_then(|i| self.fees.get(i as usize))
            .copied()
    }

    /// The state root block `number` (1..=tip) executed to.
    pub fn state_root_of(&self, number: u64) -> Option<B256> {
        number
            .checked_sub(1)
            .and_then(|i| self.state_roots.get(i as usize))
            .copied()
    }

    pub fn forced_head(&self) -> u64 {
        self.forced_head
    }

    pub fn queue_entry(&self, index: u64) -> Option<&QueueEntry> {
        self.queue.get(&index)
    }

    pub fn queue_len(&self) -> usize {
        self.queue.len()
    }

    /// The entries not yet taken by the chain, in order (up to `limit`).
    pub fn pending_forced(&self, limit: usize) -> Vec<&QueueEntry> {
        self.queue
            .range(self.forced_head..)
            .map(|(_, e)| e)
            .take(limit)
            .collect()
    }

    /// Records a `ForcedTxQueued` event.
    pub fn on_queued(&mut self, entry: QueueEntry) {
        self.queue.insert(entry.index, entry);
    }

    /// Forgets the entries an L1 block that is no longer canonical had queued.
    pub fn unqueue_l1_block(&mut self, l1_block: u64) {
        self.queue.retain(|_, e| e.l1_block != l1_block);
    }

    /// The forced data of the next `count` entries, or the first index the node has not seen.
    pub fn forced_data(&self, count: u64) -> Result<Vec<Bytes>, u64> {
        (self.forced_head..self.forced_head + count)
            .map(|i| self.queue.get(&i).map(|e| e.data.clone()).ok_or(i))
            .collect()
    }

    /// Executes `block` on a copy of the chain and returns the block it produces, without
    /// changing anything: what an attester checks a proposal with.
    pub fn preview(&self, block: &StoredBlock) -> Result<L2Block, ApplyError> {
        let mut copy = self.chain.clone();
        Self::execute(&mut copy, self.tip(), block)
    }

    /// Appends the next block, checking it reproduces the archive L1 recorded. On error nothing
    /// changes.
    pub fn apply(&mut self, block: StoredBlock) -> Result<L2Block, ApplyError> {
        // Executed in place (a copy of the state costs as much as the state is large); the rare
        // block whose archive is not L1's is undone by a replay.
        let tip = self.tip();
        let produced = Self::execute(&mut self.chain, tip, &block)?;
        if produced.archive != block.archive {
            let (number, recorded) = (block.number, block.archive);
            self.blocks.push(block);
            self.rollback(tip);
            return Err(ApplyError::ArchiveMismatch {
                number,
                computed: produced.archive,
                recorded,
            });
        }
        self.forced_head += block.forced.len() as u64;
        self.blocks.push(block);
        self.state_roots.push(produced.header.state_root);
        self.fees.push(produced.header.fees);
        Ok(produced)
    }

    fn execute(chain: &mut L2Chain, tip: u64, block: &StoredBlock) -> Result<L2Block, ApplyError> {
        if block.number != tip + 1 {
            return Err(ApplyError::NotNext {
                tip,
                got: block.number,
            });
        }
        let txs = block
            .txs
            .iter()
            .enumerate()
            .map(|(index, t)| {
                Tx::decode(t).map_err(|error| ApplyError::BadTx {
                    number: block.number,
                    index,
                    error,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        chain
            .apply_block(block.slot, block.coinbase, &block.forced, &txs)
            .map_err(|error| ApplyError::Execution {
                number: block.number,
                error,
            })
    }

    /// Keeps a copy of the chain as it is now: later rollbacks to this block or above replay
    /// from here. Called when the tip is proven.
    pub fn checkpoint_at(&mut self, number: u64) {
        if number == self.tip() {
            self.checkpoint = Some((self.chain.clone(), number));
        }
    }

    /// Drops every block above `number` (a prune, or an L1 reorg) and returns them.
    pub fn rollback(&mut self, number: u64) -> Vec<StoredBlock> {
        let tip = self.tip();
        if number >= tip {
            return Vec::new();
        }
        // A checkpoint above `number` is of a block being dropped: forget it.
        let checkpoint = self.checkpoint.take().filter(|(_, at)| *at <= number);
        let (mut chain, from) = match &checkpoint {
            Some((chain, at)) => (chain.clone(), *at),
            None => (L2Chain::genesis(), 0),
        };
        let mut forced_head: u64 = self.blocks[..from as usize]
            .iter()
            .map(|b| b.forced.len() as u64)
            .sum();
        for block in &self.blocks[from as usize..number as usize] {
            let tip = chain.tip().block_number;
            Self::execute(&mut chain, tip, block)
                .expect("a block the chain applied before applies again");
            forced_head += block.forced.len() as u64;
        }
        // The checkpoint keeps the state of its own block, not the replayed one: the next
        // rollback replays from there again.
        self.checkpoint = checkpoint;
        self.chain = chain;
        let dropped = self.blocks.split_off(number as usize);
        self.state_roots.truncate(number as usize);
        self.fees.truncate(number as usize);
        self.forced_head = forced_head;
        dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::keccak256;
    use proofline_l2::PublicDataWrite;

    fn tx(seed: u64) -> Tx {
        let n = keccak256(seed.to_be_bytes());
        let mut slot = keccak256([seed as u8]);
        slot.0[0] &= 0x7f; // not a reserved fee-balance slot
        Tx::new(
            vec![keccak256(n)],
            vec![n],
            vec![PublicDataWrite {
                slot,
                value: B256::from(U256::from(seed)),
            }],
        )
        .expect("valid tx")
    }

    /// A block built the way a proposer does, on `chain`'s tip.
    fn build(chain: &NodeChain, slot: u64, forced: Vec<Bytes>, txs: Vec<Tx>) -> StoredBlock {
        let mut copy = chain.l2().clone();
        let built = copy
            .apply_block(Slot(slot), Address::repeat_byte(7), &forced, &txs)
            .expect("builds");
        StoredBlock {
            number: chain.tip() + 1,
            slot: Slot(slot),
            coinbase: Address::repeat_byte(7),
            forced,
            txs: txs.iter().map(|t| Bytes::from(t.encode())).collect(),
            archive: built.archive,
        }
    }

    #[test]
    fn apply_checks_the_archive_and_changes_nothing_on_mismatch() {
        let mut chain = NodeChain::new();
        let mut block = build(&chain, 1, vec![], vec![tx(1)]);
        block.archive = B256::repeat_byte(1);
        let err = chain.apply(block.clone()).unwrap_err();
        assert!(matches!(err, ApplyError::ArchiveMismatch { number: 1, .. }));
        assert_eq!(chain.tip(), 0);
        assert_eq!(chain.archive(), proofline_l2::genesis_archive());

        let good = build(&chain, 1, vec![], vec![tx(1)]);
        chain.apply(good.clone()).unwrap();
        assert_eq!(chain.tip(), 1);
        assert_eq!(chain.archive(), good.archive);
        assert!(matches!(
            chain.apply(good),
            Err(ApplyError::NotNext { tip: 1, got: 1 })
        ));
    }

    #[test]
    fn forced_entries_advance_the_head_and_rollback_restores_it() {
        let mut chain = NodeChain::new();
        for i in 0..3u64 {
            chain.on_queued(QueueEntry {
                index: i,
                tx_hash: B256::ZERO,
                due_epoch: Epoch(0),
                data: Bytes::from(tx(100 + i).encode()),
                l1_block: 10,
            });
        }
        let forced = chain.forced_data(2).unwrap();
        let b1 = build(&chain, 1, forced, vec![tx(1)]);
        chain.apply(b1).unwrap();
        assert_eq!(chain.forced_head(), 2);
        assert_eq!(chain.pending_forced(10).len(), 1);
        let b2 = build(&chain, 2, chain.forced_data(1).unwrap(), vec![]);
        chain.apply(b2).unwrap();
        assert_eq!(chain.forced_head(), 3);
        assert_eq!(chain.forced_data(1), Err(3));

        assert_eq!(chain.rollback(1).len(), 1);
        assert_eq!(chain.forced_head(), 2);
        assert_eq!(chain.tip(), 1);
        assert_eq!(chain.rollback(0).len(), 1);
        assert_eq!(chain.forced_head(), 0);
        assert_eq!(chain.archive(), proofline_l2::genesis_archive());
    }

    #[test]
    fn rollback_replays_to_the_same_state_as_applying_again() {
        let mut a = NodeChain::new();
        for n in 1..=6u64 {
            let b = build(&a, n, vec![], vec![tx(n), tx(1000 + n)]);
            a.apply(b).unwrap();
            if n == 2 {
                a.checkpoint_at(2);
            }
        }
        let mut b = NodeChain::new();
        for block in a.blocks()[..4].iter().cloned() {
            b.apply(block).unwrap();
        }
        assert_eq!(a.rollback(4).len(), 2);
        assert_eq!(a.archive(), b.archive());
        assert_eq!(a.l2().state().state_root(), b.l2().state().state_root());
        // Below the checkpoint: replays from genesis.
        assert_eq!(a.rollback(1).len(), 3);
        assert_eq!(a.tip(), 1);
        assert_eq!(a.archive(), a.blocks()[0].archive);
    }

    /// The sequence of the e2e reorg test: a proof checkpoints block 2, an L1 reorg drops block 6
    /// (a rollback to 5, replayed from the checkpoint), then a prune cuts back to the proven
    /// block 2, or a second reorg to 3. Each must give the state of applying those blocks afresh.
    #[test]
    fn the_checkpoint_stays_at_its_block_through_rollbacks() {
        let mut a = NodeChain::new();
        for n in 1..=6u64 {
            let b = build(&a, n, vec![], vec![tx(n)]);
            a.apply(b).unwrap();
            if n == 2 {
                a.checkpoint_at(2);
            }
        }
        let blocks = a.blocks().to_vec();
        let fresh = |n: usize| {
            let mut c = NodeChain::new();
            for b in blocks[..n].iter().cloned() {
                c.apply(b).unwrap();
            }
            c
        };
        let mut prune = a.clone();
        assert_eq!(prune.rollback(5).len(), 1);
        assert_eq!(prune.archive(), fresh(5).archive());
        // Back to the checkpoint itself (a prune to the proven tip).
        assert_eq!(prune.rollback(2).len(), 3);
        assert_eq!(prune.tip(), 2);
        assert_eq!(prune.archive(), fresh(2).archive());
        assert_eq!(
            prune.l2().state().state_root(),
            fresh(2).l2().state().state_root()
        );
        // Between the checkpoint and the tip (a second reorg).
        let mut reorg = a.clone();
        reorg.rollback(5);
        assert_eq!(reorg.rollback(3).len(), 2);
        assert_eq!(reorg.archive(), fresh(3).archive());
        // And the chain builds on from there.
        let next = build(&reorg, 4, vec![], vec![tx(44)]);
        reorg.apply(next).unwrap();
    }

    #[test]
    fn state_roots_are_kept_per_block_and_follow_rollbacks() {
        let mut chain = NodeChain::new();
        let mut roots = Vec::new();
        // Block 1 takes a fee deposit; every block's tx pays its seed as fee out of it.
        let payer =
            alloy::signers::local::PrivateKeySigner::from_bytes(&B256::repeat_byte(0x33)).unwrap();
        let deposit = Bytes::from(proofline_l2::deposit_data(payer.address(), 100));
        chain.on_queued(QueueEntry {
            index: 0,
            tx_hash: keccak256(&deposit),
            due_epoch: Epoch(0),
            data: deposit.clone(),
            l1_block: 1,
        });
        for n in 1..=4u64 {
            let n_ = keccak256(n.to_be_bytes());
            let paid = Tx::paid(vec![keccak256(n_)], vec![n_], vec![], n.into(), &payer).unwrap();
            let forced = if n == 1 {
                vec![deposit.clone()]
            } else {
                vec![]
            };
            let b = build(&chain, n, forced, vec![paid]);
            let produced = chain.apply(b).unwrap();
            assert_eq!(produced.header.state_root, chain.l2().state().state_root());
            assert_eq!(
                chain.fees_of(n),
                Some(U256::from(n)),
                "the tx's fee is its seed"
            );
            roots.push(produced.header.state_root);
        }
        assert_eq!(chain.state_root_of(0), None);
        assert_eq!(chain.state_root_of(5), None);
        for (i, root) in roots.iter().enumerate() {
            assert_eq!(chain.state_root_of(i as u64 + 1), Some(*root));
        }
        // A refused block records nothing.
        let mut bad = build(&chain, 5, vec![], vec![tx(5)]);
        bad.archive = B256::repeat_byte(1);
        assert!(chain.apply(bad).is_err());
        assert_eq!(chain.state_root_of(5), None);
        // A rollback forgets the dropped blocks' roots; a different block 3 records its own.
        chain.rollback(2);
        assert_eq!(chain.state_root_of(3), None);
        assert_eq!(chain.fees_of(3), None);
        assert_eq!(chain.fees_of(2), Some(U256::from(2u64)));
        assert_eq!(chain.state_root_of(2), Some(roots[1]));
        let n_ = keccak256(33u64.to_be_bytes());
        let paid = Tx::paid(vec![keccak256(n_)], vec![n_], vec![], 33, &payer).unwrap();
        let other = build(&chain, 3, vec![], vec![paid]);
        chain.apply(other).unwrap();
        let root3 = chain.state_root_of(3).unwrap();
        assert_ne!(root3, roots[2]);
        assert_eq!(root3, chain.l2().state().state_root());
        assert_eq!(chain.fees_of(3), Some(U256::from(33u64)));
    }

    #[test]
    fn preview_does_not_touch_the_chain() {
        let chain = NodeChain::new();
        let block = build(&chain, 3, vec![], vec![tx(5)]);
        let built = chain.preview(&block).unwrap();
        assert_eq!(built.archive, block.archive);
        assert_eq!(chain.tip(), 0);
    }

    #[test]
    fn stored_blocks_round_trip() {
        let chain = NodeChain::new();
        let block = build(&chain, 3, vec![Bytes::from_static(b"junk")], vec![tx(5)]);
        assert_eq!(StoredBlock::decode(&block.encode()).unwrap(), block);
    }
}
