//! The Proofline node (issue 5): follows L1, keeps the L2 state, takes txs over JSON-RPC,
//! proposes blocks in its validators' slots and attests other proposers' blocks.
//!
//! - [`chain`]: the L2 chain as derived from L1, with its forced-inclusion queue;
//! - [`sync`]: keeping it equal to L1 through restarts, prunes and reorgs;
//! - [`duties`]: proposing and attesting; [`fallback`]: proposing with proofs in based fallback;
//! - [`mempool`], [`rpc`]: tx intake (`node_sendTx`) and status;
//! - [`quotes`], [`quote_intake`]: provers' epoch proof quotes, validated as the Rollup would and
//!   pooled for proposers (`node_submitEpochBid`, gossip);
//! - [`p2p`]: the transport between node processes (libp2p request-response for attestations,
//!   gossipsub for quotes);
//! - [`store`]: what survives a restart (blocks, signatures given);
//! - [`blobs`]: reading a block's blobs back from anvil or a beacon node;
//! - [`metrics`]: Prometheus metrics and the health endpoint;
//! - [`node`]: the process that runs all of it; [`txgen`]: a tx generator for devnets.

pub mod blobs;
pub mod chain;
mod claims;
pub mod duties;
pub mod fallback;
pub mod l1;
pub mod mempool;
pub mod metrics;
pub mod node;
pub mod p2p;
pub mod quote_intake;
pub mod quotes;
pub mod rpc;
pub mod store;
mod sync;
pub mod txgen;
