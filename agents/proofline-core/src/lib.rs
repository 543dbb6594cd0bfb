//! Protocol rules the Proofline agents share with the contracts.
//!
//! Each module ports one section of SPEC.md and mirrors the Solidity library that implements it
//! on-chain, so an agent and the Rollup never disagree about, say, which slot a timestamp is in.

pub mod time;

pub use time::{Epoch, Slot, TimeConfig, TimeError, Timestamp};
