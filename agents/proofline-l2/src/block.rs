//! Block headers, the archive (a tree of headers), and the L2 chain that produces both.
//!
//! # Header hash
//!
//! ```text
//! headerHash = keccak256(abi.encode(
//!     uint256 blockNumber, uint256 slot, bytes32 previousArchive, bytes32 stateRoot,
//!     bytes32 blobsHash, uint256 txCount, uint256 forcedTxCount, bytes32 forcedTxsHash,
//!     address coinbase, uint256 fees))
//! ```
//!
//! `blobsHash = keccak256(abi.encodePacked(blobVersionedHashes))` as in the proposal digest;
//! `coinbase` and `fees` are what the epoch proof pays per block (`FeeRecipient` in IRollup),
//! `fees` being the sum of the executed txs' fees.
//!
//! # Archive
//!
//! The archive is an append-only [`crate::merkle`] tree of depth [`ARCHIVE_TREE_DEPTH`] whose leaf
//! `n` is the hash of block `n`'s header; "the archive of block n" is its root once leaves
//! `0..=n` are in. Block 0 is the genesis header ([`BlockHeader::genesis`]): number 0, slot 0,
//! the empty state's root, no txs, no blob, zero everything else. Its archive,
//! [`genesis_archive`], is what the Rollup must be deployed with (`RollupConfig.genesisArchive`,
//! `GENESIS_ARCHIVE` in `script/Deploy.s.sol`) for the agents' blocks to build on it.

use alloy::primitives::{keccak256, Address, B256, U256};
use alloy::sol;
use alloy::sol_types::SolValue;
use proofline_core::Slot;
use thiserror::Error;

use crate::blob::{blobs_hash, BlobError, BlockBlobs, BodySpace};
use crate::execution::{plan_block, select_txs, BlockBody, BlockError, Rejection};
use crate::merkle::{AppendOnlyTree, MerkleError, MerkleProof};
use crate::state::State;
use crate::tx::Tx;
use proofline_core::ProposeArgs;

/// Depth of the archive tree: 2^32 blocks, 4,900 years of 36-second slots.
pub const ARCHIVE_TREE_DEPTH: usize = 32;

sol! {
    /// The header as it is hashed into the archive.
    struct HeaderPreimage {
        uint256 blockNumber;
        uint256 slot;
        bytes32 previousArchive;
        bytes32 stateRoot;
        bytes32 blobsHash;
        uint256 txCount;
        uint256 forcedTxCount;
        bytes32 forcedTxsHash;
        address coinbase;
        uint256 fees;
    }
}

/// An L2 block header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockHeader {
    pub block_number: u64,
    pub slot: Slot,
    /// Archive of the parent block.
    pub previous_archive: B256,
    /// State root after this block.
    pub state_root: B256,
    /// Versioned hashes of the body's blobs, in order (none for an empty block).
    pub blob_hashes: Vec<B256>,
    /// All txs, forced ones first.
    pub tx_count: u64,
    /// Forced-inclusion queue entries leading the block.
    pub forced_tx_count: u64,
    /// `keccak256(abi.encodePacked(forced tx hashes))`, zero when none.
    pub forced_txs_hash: B256,
    /// Who receives the block's share of the rewards and its fees.
    pub coinbase: Address,
    /// Sum of the executed txs' fees.
    pub fees: U256,
}

impl BlockHeader {
    /// Block 0 (module doc).
    pub fn genesis() -> Self {
        Self {
            block_number: 0,
            slot: Slot(0),
            previous_archive: B256::ZERO,
            state_root: State::new().state_root(),
            blob_hashes: Vec::new(),
            tx_count: 0,
            forced_tx_count: 0,
            forced_txs_hash: B256::ZERO,
            coinbase: Address::ZERO,
            fees: U256::ZERO,
        }
    }

    pub fn blobs_hash(&self) -> B256 {
        blobs_hash(&self.blob_hashes)
    }

    /// The header hash (module doc): the archive's leaf for this block.
    pub fn hash(&self) -> B256 {
        let preimage = HeaderPreimage {
            blockNumber: U256::from(self.block_number),
            slot: U256::from(self.slot.0),
            previousArchive: self.previous_archive,
            stateRoot: self.state_root,
            blobsHash: self.blobs_hash(),
            txCount: U256::from(self.tx_count),
            forcedTxCount: U256::from(self.forced_tx_count),
            forcedTxsHash: self.forced_txs_hash,
            coinbase: self.coinbase,
            fees: self.fees,
        };
        keccak256(preimage.abi_encode())
    }

    /// The `propose` arguments for this header, given the archive it produces.
    pub fn propose_args(&self, archive: B256) -> ProposeArgs {
        ProposeArgs {
            block_number: U256::from(self.block_number),
            slot: U256::from(self.slot.0),
            previous_archive: self.previous_archive,
            archive,
            state_root: self.state_root,
            blob_hashes: self.blob_hashes.clone(),
            tx_count: U256::from(self.tx_count),
            forced_tx_count: U256::from(self.forced_tx_count),
            forced_txs_hash: self.forced_txs_hash,
        }
    }
}

/// The tree of block headers.
#[derive(Debug, Clone)]
pub struct Archive {
    tree: AppendOnlyTree,
}

impl Default for Archive {
    fn default() -> Self {
        Self::new()
    }
}

impl Archive {
    /// An archive holding only the genesis header.
    pub fn new() -> Self {
        let mut tree = AppendOnlyTree::new(ARCHIVE_TREE_DEPTH);
        tree.append(BlockHeader::genesis().hash())
            .expect("empty tree has room");
        Self { tree }
    }

    pub fn root(&self) -> B256 {
        self.tree.root()
    }

    /// Blocks in the archive (the tip's number + 1).
    pub fn len(&self) -> u64 {
        self.tree.size()
    }

    /// Never true: the archive always holds genesis.
    pub fn is_empty(&self) -> bool {
        self.tree.size() == 0
    }

    /// The header hash of block `number` (zero if there is no such block yet).
    pub fn header_hash(&self, number: u64) -> B256 {
        self.tree.get(number)
    }

    /// Add the next block's header; returns the new archive.
    pub fn append(&mut self, header: &BlockHeader) -> Result<B256, MerkleError> {
        self.tree.append(header.hash())?;
        Ok(self.root())
    }

    /// Proof that block `number`'s header hash is in the archive.
    pub fn proof(&self, number: u64) -> Result<MerkleProof, MerkleError> {
        self.tree.proof(number)
    }
}

/// The archive of the genesis block: `RollupConfig.genesisArchive` for the agents' chain.
pub fn genesis_archive() -> B256 {
    Archive::new().root()
}

/// A block the chain produced: what to propose and what to publish.
#[derive(Debug, Clone)]
pub struct L2Block {
    pub header: BlockHeader,
    pub body: BlockBody,
    pub blobs: BlockBlobs,
    /// The archive after this block.
    pub archive: B256,
}

impl L2Block {
    pub fn propose_args(&self) -> ProposeArgs {
        self.header.propose_args(self.archive)
    }
}

/// Why the chain refused a block.
#[derive(Debug, Error)]
pub enum ChainError {
    #[error("block slot {slot} is not after its parent's ({parent})")]
    SlotNotAfterParent { slot: Slot, parent: Slot },
    #[error(transparent)]
    Block(#[from] BlockError),
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error("archive: {0}")]
    Archive(#[from] MerkleError),
}

/// The L2 chain as one node sees it: state, archive and tip header. Clone it to keep a point to
/// go back to (the proven tip, for when the pending chain is pruned).
#[derive(Debug, Clone)]
pub struct L2Chain {
    state: State,
    archive: Archive,
    tip: BlockHeader,
}

impl Default for L2Chain {
    fn default() -> Self {
        Self::genesis()
    }
}

impl L2Chain {
    pub fn genesis() -> Self {
        Self {
            state: State::new(),
            archive: Archive::new(),
            tip: BlockHeader::genesis(),
        }
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    pub fn archive(&self) -> &Archive {
        &self.archive
    }

    /// The archive of the tip: what the next block's `previousArchive` must be.
    pub fn archive_root(&self) -> B256 {
        self.archive.root()
    }

    pub fn tip(&self) -> &BlockHeader {
        &self.tip
    }

    /// Choose the txs of a new block, as a proposer: the forced txs (raw queue data) are all
    /// taken; then, in order, the candidates that are valid and still fit the blobs. Returns the
    /// chosen txs (for [`L2Chain::apply_block`]) and the candidates left out, with why.
    pub fn select_txs<D: AsRef<[u8]>>(
        &self,
        forced: &[D],
        candidates: impl IntoIterator<Item = Tx>,
    ) -> (Vec<Tx>, Vec<(Tx, Rejection)>) {
        let mut space = BodySpace::new();
        for data in forced {
            space.take_forced(data.as_ref());
        }
        select_txs(&self.state, forced, candidates, |tx| space.take_tx(tx))
    }

    /// Execute and append the next block: `forced` (the queue's next entries, raw) then `txs`.
    /// Proposers call this with what [`L2Chain::select_txs`] chose; attesters and provers with
    /// what a proposed block carries (forced data from the queue's events, the rest from its
    /// body), and compare the result with the proposal. On error nothing changes.
    pub fn apply_block<D: AsRef<[u8]>>(
        &mut self,
        slot: Slot,
        coinbase: Address,
        forced: &[D],
        txs: &[Tx],
    ) -> Result<L2Block, ChainError> {
        if self.tip.block_number != 0 && slot <= self.tip.slot {
            return Err(ChainError::SlotNotAfterParent {
                slot,
                parent: self.tip.slot,
            });
        }
        if self.archive.tree.remaining() == 0 {
            return Err(MerkleError::TreeFull {
                depth: ARCHIVE_TREE_DEPTH,
            }
            .into());
        }
        // Plan, commit to the blobs, and only then touch the state: nothing after it can fail.
        let executed = plan_block(&self.state, forced, txs)?;
        let blobs = BlockBlobs::from_body(&executed.body)?;
        executed.apply(&mut self.state);
        let header = BlockHeader {
            block_number: self.tip.block_number + 1,
            slot,
            previous_archive: self.archive.root(),
            state_root: self.state.state_root(),
            blob_hashes: blobs.versioned_hashes.clone(),
            tx_count: executed.body.tx_count(),
            forced_tx_count: executed.forced_tx_count,
            forced_txs_hash: executed.forced_txs_hash,
            coinbase,
            fees: executed.body.fees(),
        };
        let archive = self.archive.append(&header).expect("room checked");
        self.tip = header.clone();
        Ok(L2Block {
            header,
            body: executed.body,
            blobs,
            archive,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blob::decode_body;
    use crate::merkle::hash_pair;
    use crate::tx::PublicDataWrite;
    use alloy::primitives::{address, b256};

    fn w(n: u8) -> B256 {
        B256::with_last_byte(n)
    }

    /// Unpaid when `fee` is zero, else paid by the tests' payer.
    fn tx(null: u8, fee: u128) -> Tx {
        let writes = vec![PublicDataWrite {
            slot: w(1),
            value: w(null),
        }];
        if fee == 0 {
            Tx::new(vec![w(null)], vec![w(null)], writes).unwrap()
        } else {
            let payer = crate::tx::strategies::payer();
            Tx::paid(vec![w(null)], vec![w(null)], writes, fee, &payer).unwrap()
        }
    }

    /// A fee deposit for the tests' payer, as the queue carries it.
    fn deposit(amount: u128) -> Vec<u8> {
        crate::execution::deposit_data(crate::tx::strategies::payer().address(), amount)
    }

    const COINBASE: Address = address!("00000000000000000000000000000000000c0ffe");
    const NONE: &[Vec<u8>] = &[];

    #[test]
    fn header_hash_is_keccak_of_abi_encoded_fields() {
        let h = BlockHeader {
            block_number: 5,
            slot: Slot(77),
            previous_archive: w(1),
            state_root: w(2),
            blob_hashes: vec![w(3)],
            tx_count: 4,
            forced_tx_count: 1,
            forced_txs_hash: w(6),
            coinbase: COINBASE,
            fees: U256::from(1000),
        };
        let words: Vec<B256> = vec![
            B256::from(U256::from(5)),
            B256::from(U256::from(77)),
            w(1),
            w(2),
            keccak256(w(3)),
            B256::from(U256::from(4)),
            B256::from(U256::from(1)),
            w(6),
            COINBASE.into_word(),
            B256::from(U256::from(1000)),
        ];
        assert_eq!(h.hash(), keccak256(words.concat()));
    }

    #[test]
    fn genesis_archive_is_the_tree_with_the_genesis_header_first() {
        let mut expected = BlockHeader::genesis().hash();
        let mut empty = B256::ZERO;
        for _ in 0..ARCHIVE_TREE_DEPTH {
            expected = hash_pair(expected, empty);
            empty = hash_pair(empty, empty);
        }
        assert_eq!(genesis_archive(), expected);
        assert_eq!(L2Chain::genesis().archive_root(), expected);
    }

    /// Pinned values, recomputed independently with foundry's `cast keccak` / `cast abi-encode`:
    /// a change here changes the genesis archive every deployment must be configured with.
    #[test]
    fn genesis_values_are_pinned() {
        assert_eq!(
            State::new().state_root(),
            b256!("a645942731a04ba93b65c9940d21c317af369dd75e6f0a7c9caab64521e5c4a4")
        );
        assert_eq!(
            BlockHeader::genesis().hash(),
            b256!("38bb22ea99dbb8217e2e3d1377c6f52c770fd2e5c219c7ef8be7091c9b1b1608")
        );
        assert_eq!(
            genesis_archive(),
            b256!("4a7d6209326e5bd8bd1f58338b1e76ebc9152d6559156698583f3ca1c42b5e0e")
        );
    }

    #[test]
    fn blocks_chain_through_the_archive() {
        let mut chain = L2Chain::genesis();
        let genesis = chain.archive_root();
        let b1 = chain
            .apply_block(Slot(3), COINBASE, &[deposit(15)], &[tx(1, 10), tx(2, 5)])
            .unwrap();
        assert_eq!(b1.header.block_number, 1);
        assert_eq!(b1.header.previous_archive, genesis);
        assert_eq!(b1.header.fees, U256::from(15));
        assert_eq!(b1.header.tx_count, 3);
        assert_eq!(b1.header.forced_tx_count, 1);
        assert_eq!(b1.header.state_root, chain.state().state_root());
        assert_eq!(b1.blobs.versioned_hashes.len(), 1);
        assert_eq!(decode_body(&b1.blobs.blobs).unwrap(), b1.body);

        let b2 = chain.apply_block(Slot(4), COINBASE, NONE, &[]).unwrap();
        assert_eq!(b2.header.previous_archive, b1.archive);
        assert!(
            b2.header.blob_hashes.is_empty(),
            "an empty block has no blob"
        );
        assert_eq!(b2.header.state_root, b1.header.state_root);
        assert_eq!(chain.archive().len(), 3);

        // The archive proves each header.
        let root = chain.archive_root();
        assert_eq!(root, b2.archive);
        assert!(chain
            .archive()
            .proof(1)
            .unwrap()
            .verify(root, b1.header.hash()));
        assert!(chain
            .archive()
            .proof(2)
            .unwrap()
            .verify(root, b2.header.hash()));

        let args = b2.propose_args();
        assert_eq!(args.block_number, U256::from(2));
        assert_eq!(args.previous_archive, b1.archive);
        assert_eq!(args.archive, b2.archive);
    }

    #[test]
    fn the_slot_must_move_forward_and_a_refused_block_changes_nothing() {
        let mut chain = L2Chain::genesis();
        chain
            .apply_block(Slot(5), COINBASE, NONE, &[tx(1, 0)])
            .unwrap();
        let before = (chain.archive_root(), chain.state().state_root());
        assert!(matches!(
            chain.apply_block(Slot(5), COINBASE, NONE, &[]),
            Err(ChainError::SlotNotAfterParent { .. })
        ));
        assert!(matches!(
            chain.apply_block(Slot(6), COINBASE, NONE, &[tx(1, 0)]),
            Err(ChainError::Block(BlockError::InvalidTx { index: 0, .. }))
        ));
        assert_eq!((chain.archive_root(), chain.state().state_root()), before);
        assert_eq!(chain.tip().block_number, 1);
    }

    /// A proposer's block, replayed by an attester from what L1 shows (forced data from the
    /// queue, the other txs from the blobs), gives the same header and archive.
    #[test]
    fn an_attester_replays_the_proposers_block() {
        let mut proposer = L2Chain::genesis();
        proposer
            .apply_block(Slot(1), COINBASE, &[deposit(1000)], &[tx(9, 1)])
            .unwrap();
        let mut attester = proposer.clone();

        let forced = vec![tx(9, 100).encode(), vec![1, 2, 3], tx(4, 2).encode()];
        let candidates = vec![tx(4, 7), tx(5, 3), tx(6, 1)];
        let (chosen, rejected) = proposer.select_txs(&forced, candidates);
        assert_eq!(chosen, vec![tx(5, 3), tx(6, 1)]);
        assert_eq!(rejected.len(), 1);
        let block = proposer
            .apply_block(Slot(2), COINBASE, &forced, &chosen)
            .unwrap();
        assert_eq!(block.header.forced_tx_count, 3);
        assert_eq!(block.header.tx_count, 5);
        assert_eq!(block.header.fees, U256::from(2 + 3 + 1));

        let body = decode_body(&block.blobs.blobs).unwrap();
        let forced_count = block.header.forced_tx_count as usize;
        let txs = body
            .non_forced_txs(forced_count)
            .expect("a valid block's other txs all executed");
        let replayed = attester
            .apply_block(Slot(2), COINBASE, &forced, &txs)
            .unwrap();
        assert_eq!(replayed.header, block.header);
        assert_eq!(replayed.archive, block.archive);
        assert_eq!(replayed.body, body);
        assert_eq!(replayed.propose_args(), block.propose_args());
    }
}
