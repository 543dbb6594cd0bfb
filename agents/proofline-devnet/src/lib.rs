//! Devnet tools: what a local devnet, the scenario runner and the end-to-end tests use to drive
//! the agents, and no production agent needs.
//!
//! - [`harness`]: the one devnet harness (tools, anvil, the deploy script, dev keys, work tree
//!   cleanup) the scenario runner, the end-to-end tests and the L1 tests share;
//! - [`txgen`]: a generator of valid L2 txs (deterministic from a seed) and the loop that sends
//!   them to nodes over `node_sendTx`, paying their fees from an L1 deposit.

pub mod harness;
pub mod txgen;
