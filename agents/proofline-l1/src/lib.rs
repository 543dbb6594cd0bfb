//! Proofline's L1 client layer, shared by every agent:
//!
//! - [`rpc`]: the JSON-RPC connection, with retries and exponential backoff;
//! - [`txmgr`]: the transaction manager, one per signing key (nonces, EIP-1559/4844 pricing,
//!   fee bumping and replacement, cancellation, reverts decoded by name);
//! - [`follower`]: a reorg-aware stream of the Proofline contracts' events, block by block;
//! - [`deployment`]: the addresses the deploy script records;
//! - [`supervisor`]: a process's long-running tasks, and what happens when one ends.

pub mod deployment;
pub mod events;
pub mod follower;
pub mod logs;
pub mod rpc;
pub mod supervisor;
pub mod txmgr;

pub use deployment::Deployment;
pub use events::{L1Event, ProoflineEvent, WatchedContracts};
pub use follower::{FollowerConfig, FollowerError, FollowerEvent, L1Block, L1Follower};
pub use rpc::{connect, install_tls_provider, L1Provider, RpcConfig};
pub use supervisor::Supervisor;
pub use txmgr::{
    PendingTx, Purpose, Revert, TxCandidate, TxError, TxEvent, TxEventKind, TxManager,
    TxManagerConfig, TxOutcome,
};
