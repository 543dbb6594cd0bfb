//! The L2 state model of SPEC 9: what proposers, attesters and provers execute and agree on.
//!
//! The rollup's real VM is out of scope; this crate is a minimal, deterministic stand-in so that
//! every agent really executes blocks and reaches the same roots.
//!
//! - [`tx`]: a tx carries note hashes, nullifiers (the first is the tx's own), public-data
//!   writes and a fee its payer signs for, with one canonical byte encoding; its hash,
//!   `keccak256(encoding)`, is what the forced-inclusion queue stores.
//! - [`state`]: a note-hash tree (append-only, depth 32), a nullifier tree and a public-data
//!   tree (sparse, depth 256, keyed by the nullifier / slot), all keccak [`merkle`] trees;
//!   `stateRoot = keccak256(noteHashRoot ‖ nullifierRoot ‖ publicDataRoot)`.
//! - [`execution`]: a block is its forced entries (raw queue data: txs and fee deposits) then its
//!   other txs, run in order. A deposit credits a fee balance; a tx fails when it does not decode,
//!   spends a spent nullifier, overflows the note tree, or its fee exceeds its payer's balance; a
//!   failing forced tx is included as failed (no effects, SPEC 7), a failing other tx makes the
//!   block invalid. The block publishes one tx effect per entry.
//! - [`blob`]: the tx effects in EIP-4844 blobs (alloy's simple coder, strict decoding), their
//!   KZG commitments and versioned hashes.
//! - [`block`]: the header, its hash, the archive (an append-only tree of header hashes whose
//!   root is "the archive"), and [`block::L2Chain`], which turns txs into the next block.
//!
//! The proposal a block is attested as (`ProposeArgs`, its EIP-712 digest) is the protocol's:
//! `proofline_core::proposal`.
//!
//! Every encoding and hash is written out in its module's doc and in `docs/l2-state.md`.

pub mod blob;
pub mod block;
pub mod execution;
pub mod merkle;
pub mod state;
pub mod tx;

pub use blob::{decode_body, encode_body, BlobError, BlockBlobs, BodySpace, MAX_BLOBS_PER_BLOCK};
pub use block::{genesis_archive, Archive, BlockHeader, ChainError, L2Block, L2Chain};
pub use execution::{
    deposit_data, execute_block, forced_txs_hash, plan_block, BlockBody, BlockError,
    BlockExecution, FailureReason, ForcedEntry, Rejection, TxEffect, DEPOSIT_LEN, DEPOSIT_TAG,
};
pub use state::{State, StateError, StateRoots};
pub use tx::{balance_slot, PublicDataWrite, Tx, TxError};
