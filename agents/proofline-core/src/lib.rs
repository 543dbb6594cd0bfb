//! The protocol rules the Proofline agents share with the contracts: pure, no I/O.
//!
//! Each module ports one section of SPEC.md and mirrors the Solidity library that implements it
//! on-chain, so an agent and the Rollup never disagree about, say, which slot a timestamp is in.
//! Every agent takes these rules from here; none re-derives them.
//!
//! - [`time`]: slots and epochs (SPEC 2, `TimeLib`);
//! - [`schedule`]: the claim window, proof deadline, escrow deadline and fallback window
//!   (SPEC 5.3-5.5, 6);
//! - [`committee`]: quorum (SPEC 4);
//! - [`proposal`]: the proposal the committee signs and its EIP-712 digest (SPEC 4,
//!   `ProposalLib`), the Rollup's EIP-712 domain;
//! - [`quote`]: the epoch proof quote, its digest, wire format and validation (SPEC 5.1, 5.3, 8,
//!   `EpochProofQuoteLib`, `_validateClaim`);
//! - [`view`]: the chain as one L1 block shows it, what every agent's duties decide from.

pub mod committee;
pub mod proposal;
pub mod quote;
pub mod schedule;
pub mod time;
pub mod view;

pub use committee::quorum;
pub use proposal::{rollup_domain, ProposeArgs};
pub use schedule::{ClaimSlot, FallbackWindow, Schedule, SlotRange};
pub use time::{Epoch, Slot, TimeConfig, TimeError, Timestamp};
pub use view::{ChainView, ProofClaim};
