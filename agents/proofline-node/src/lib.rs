//! The Proofline node (issue 5): follows L1, keeps the L2 chain, takes txs over JSON-RPC,
//! proposes blocks in its validators' slots and attests other proposers' blocks.
//!
//! The protocol's rules come from `proofline_core`, the chain and its store from
//! `proofline_chain`, the transport from `proofline_p2p`. Here:
//!
//! - [`decide`]: the slot duties (propose, fallback, claim) as pure decisions over what the
//!   node read of L1;
//! - [`sync`]: keeping the chain equal to L1 through restarts, prunes and reorgs;
//! - [`propose`]: the propose duty; [`duties`]: attesting, and building blocks; [`fallback`]: proposing with proofs in based fallback;
//! - [`mempool`], [`rpc`]: tx intake (`node_sendTx`) and status;
//! - [`quotes`], [`quote_intake`]: the pool of provers' epoch proof quotes, validated as the
//!   Rollup would, for proposers (`node_submitEpochBid`, gossip);
//! - [`l1`]: the Rollup's views the node reads;
//! - [`metrics`]: Prometheus metrics and the health endpoint;
//! - [`node`]: the process that runs all of it.

mod claims;
mod clock;
pub mod decide;
pub mod duties;
pub mod fallback;
pub mod l1;
pub mod mempool;
pub mod metrics;
pub mod node;
pub mod propose;
pub mod quote_intake;
pub mod quotes;
mod rogue;
pub mod rpc;
mod sync;
