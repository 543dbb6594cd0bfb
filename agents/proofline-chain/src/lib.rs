//! The L2 chain as the agents derive it from L1 (SPEC 4, 7, 9): nothing here sends anything.
//!
//! - [`chain`]: the executed L2 chain and its forced-inclusion queue, as L1 published them;
//! - [`store`]: what survives a restart (blocks with their L1 origin, signatures given);
//! - [`blobs`]: a proposed block's blobs read back from anvil or a beacon node, checked against
//!   the versioned hashes the header commits to;
//! - [`watcher`]: one [`proofline_core::ChainView`] per L1 block, what every duty decides from.
//!
//! The node keeps this chain in step with L1 (its `sync`), the prover reads it to price and prove
//! epochs; neither depends on the other, both depend on this.

pub mod blobs;
pub mod chain;
pub mod store;
pub mod watcher;
