//! The chain as one L1 block shows it: what every duty of every agent decides from.
//!
//! An agent's chain watcher reads the Rollup's views pinned to one L1 block (so the tips, the
//! claim and the fallback status never mix two blocks) and publishes a [`ChainView`]; each duty
//! is a pure function of that view and its own local state (collect -> decide -> act,
//! docs/architecture.md). The view is plain data: tests build or record views and drive the
//! duties with them, no L1 needed.

use alloy::primitives::{Address, U256};
use serde::{Deserialize, Serialize};

use crate::schedule::{FallbackWindow, Schedule};
use crate::time::{Epoch, Slot, Timestamp};

/// `Rollup.getProofClaim(epochToProve)` when someone claimed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProofClaim {
    /// The prover whose bond is staked.
    pub bond_provider: Address,
    pub bond_amount: U256,
    /// The quote's fee, in basis points of the epoch's rewards.
    pub basis_point_fee: u32,
}

/// One L1 block's view of the Rollup, and the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChainView {
    /// The L1 block every field was read at.
    pub l1_block: u64,
    /// That block's timestamp: the time the Rollup's own checks used in it.
    pub l1_timestamp: Timestamp,
    /// The agent's clock when it read the block (never before `l1_timestamp`): L1 blocks come
    /// every few seconds, a duty that acts on a deadline looks at this.
    pub now: Timestamp,
    /// `getTips()`.
    pub pending: u64,
    pub proven: u64,
    /// `getEpochToProve()`: the epoch of the first unproven block; `None` when every pending
    /// block is proven (the Rollup then reverts `Rollup__NoEpochToProve`).
    pub epoch_to_prove: Option<Epoch>,
    /// `getProofClaim(epochToProve)`, when claimed.
    pub claim: Option<ProofClaim>,
    /// `canPrune()`.
    pub can_prune: bool,
    /// `getFallbackStatus()`.
    pub fallback: FallbackWindow,
    /// `getRewardBooks().rewardPool`: what block rewards can still be paid from.
    pub reward_pool: U256,
}

impl ChainView {
    /// Whether the pending chain holds blocks not proven yet.
    pub fn has_unproven(&self) -> bool {
        self.pending > self.proven
    }

    /// The slot of the agent's clock.
    pub fn slot(&self, schedule: &Schedule) -> Slot {
        schedule.slot_at(self.now)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A view of a chain with blocks 1..=pending in epochs up to `epoch_to_prove`, nothing
    /// claimed, no fallback, read at `now` (the L1 block's time too).
    pub fn view(now: u64, proven: u64, pending: u64, epoch_to_prove: u64) -> ChainView {
        ChainView {
            l1_block: 100,
            l1_timestamp: Timestamp(now),
            now: Timestamp(now),
            pending,
            proven,
            epoch_to_prove: (pending > proven).then_some(Epoch(epoch_to_prove)),
            claim: None,
            can_prune: false,
            fallback: FallbackWindow::new(false, u64::MAX, u64::MAX),
            reward_pool: U256::from(1_000_000u64),
        }
    }

    #[test]
    fn slots_and_epochs_of_the_view() {
        let s = Schedule::from_params(1_000, 12, 32, 13).unwrap();
        let mut v = view(1_000 + 12 * 32 * 8, 0, 5, 7);
        assert_eq!(v.slot(&s), Slot(256));
        // The clock runs ahead of the last L1 block.
        v.now = Timestamp(v.now.0 + 12);
        assert_eq!(v.slot(&s), Slot(257));
        assert!(v.has_unproven());
    }

    #[test]
    fn a_view_round_trips_through_json() {
        let mut v = view(5_000, 3, 9, 2);
        v.claim = Some(ProofClaim {
            bond_provider: Address::repeat_byte(1),
            bond_amount: U256::from(7),
            basis_point_fee: 250,
        });
        let json = serde_json::to_string(&v).unwrap();
        assert_eq!(serde_json::from_str::<ChainView>(&json).unwrap(), v);
    }
}
