//! The protocol's windows and deadlines (SPEC 5.3-5.5, 6), derived from [`TimeConfig`] and
//! `PROOF_CLAIM_WINDOW` the way the Rollup derives them, so no agent re-derives them by hand.
//!
//! For the epoch to prove N:
//!
//! ```text
//!   epoch N                    epoch N+1                         epoch N+2
//! |--------------------------|-------------------------------|----------
//!  blocks of N                [claim window: C slots)
//!                             ^ proof accepted from here ...   ^ ... until here (proof deadline,
//!                                                                 escrow deadline)
//! ```
//!
//! - claim window of N: slots `[first_slot(N+1), first_slot(N+1) + C)`; slot k of it belongs to
//!   the proposer of that slot (SPEC 5.3). A quote for N is usable until the window's last slot.
//! - proof window of N: from `epoch_start(N+1)` (N has ended) to `epoch_start(N+2)` exclusive
//!   (SPEC 5.4); at `epoch_start(N+2)` an unproven claimed N is pruned and its bond slashed.
//! - escrow deadline of a quote for N: `epoch_start(N+2)`, the time `_validateClaim` asks
//!   `ProverEscrow.minBalanceAtTime` about.
//! - based fallback: the Rollup's `getFallbackStatus()` names the running (or next) period as a
//!   slot range, [`FallbackWindow`].
//!
//! Everything saturates instead of overflowing: an epoch near `u64::MAX` has windows that never
//! end, which is what every caller wants of an epoch the chain can never reach.

use serde::{Deserialize, Serialize};

use crate::time::{Epoch, Slot, TimeConfig, TimeError, Timestamp};

/// A half-open range of slots `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SlotRange {
    pub start: Slot,
    pub end: Slot,
}

impl SlotRange {
    pub fn contains(&self, s: Slot) -> bool {
        self.start <= s && s < self.end
    }

    /// The last slot in the range; `None` when it is empty.
    pub fn last(&self) -> Option<Slot> {
        (self.end > self.start).then(|| Slot(self.end.0 - 1))
    }

    /// Whether the range is over at `s` (`s` is at or after its end).
    pub fn ended_at(&self, s: Slot) -> bool {
        s >= self.end
    }
}

/// A slot of a claim window: which epoch it claims, and its index k in the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClaimSlot {
    pub epoch_to_prove: Epoch,
    pub index: u64,
}

/// The deployment's time rules: [`TimeConfig`] and `PROOF_CLAIM_WINDOW` (C, in slots).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Schedule {
    time: TimeConfig,
    claim_window: u64,
}

impl Schedule {
    pub fn new(time: TimeConfig, proof_claim_window: u64) -> Self {
        Self {
            time,
            claim_window: proof_claim_window,
        }
    }

    /// A schedule from the deployment's raw parameters.
    pub fn from_params(
        genesis_time: u64,
        slot_duration: u64,
        epoch_duration: u64,
        proof_claim_window: u64,
    ) -> Result<Self, TimeError> {
        Ok(Self::new(
            TimeConfig::new(Timestamp(genesis_time), slot_duration, epoch_duration)?,
            proof_claim_window,
        ))
    }

    pub fn time(&self) -> &TimeConfig {
        &self.time
    }

    /// The first slot of `e`, saturating.
    fn first_slot(&self, e: Epoch) -> Slot {
        self.time.first_slot(e).unwrap_or(Slot(u64::MAX))
    }

    /// The first second of `e`, saturating.
    fn epoch_start(&self, e: Epoch) -> Timestamp {
        self.time.epoch_start(e).unwrap_or(Timestamp(u64::MAX))
    }

    /// The first second of slot `s`, saturating.
    pub fn slot_start(&self, s: Slot) -> Timestamp {
        self.time.slot_start(s).unwrap_or(Timestamp(u64::MAX))
    }

    /// Seconds from the end of `n`'s claim window (the latest a claim can land) to its proof
    /// deadline: what a prover quoting `n` can count on for proving.
    pub fn proving_budget_secs(&self, n: Epoch) -> u64 {
        let claimed_by = self.slot_start(self.claim_window(n).end);
        self.proof_deadline(n).0.saturating_sub(claimed_by.0)
    }

    /// The slots in which epoch `n` can be claimed: the first C slots of `n + 1`.
    pub fn claim_window(&self, n: Epoch) -> SlotRange {
        let start = self.first_slot(n.next());
        SlotRange {
            start,
            end: Slot(start.0.saturating_add(self.claim_window)),
        }
    }

    /// Whether `s` is in a claim window, and of which epoch. Slots of epoch 0 claim nothing.
    pub fn claim_slot(&self, s: Slot) -> Option<ClaimSlot> {
        let epoch = self.time.epoch_of(s);
        let epoch_to_prove = Epoch(epoch.0.checked_sub(1)?);
        let index = self.time.slot_in_epoch(s);
        (index < self.claim_window).then_some(ClaimSlot {
            epoch_to_prove,
            index,
        })
    }

    /// The `validUntilSlot` a quote for `n` offers so that every slot of the claim window can use
    /// it: the window's last slot (its first when C is 0, which no claim can use anyway).
    pub fn quote_valid_until(&self, n: Epoch) -> Slot {
        let w = self.claim_window(n);
        w.last().unwrap_or(w.start)
    }

    /// When a proof of `n` is first accepted: the end of `n` (`epoch_start(n + 1)`).
    pub fn proof_opens(&self, n: Epoch) -> Timestamp {
        self.epoch_start(n.next())
    }

    /// The first second at which a proof of `n` is no longer accepted (`epoch_start(n + 2)`): a
    /// claimed, unproven `n` is pruned and its bond slashed from here on.
    pub fn proof_deadline(&self, n: Epoch) -> Timestamp {
        self.epoch_start(n.next().next())
    }

    /// Whether a proof of `n` submitted in a block at `t` is inside its window.
    pub fn proof_accepted_at(&self, n: Epoch, t: Timestamp) -> bool {
        self.proof_opens(n) <= t && t < self.proof_deadline(n)
    }

    /// The time the Rollup checks a quote's escrow at (`_validateClaim`): the proof deadline,
    /// when the bond must still be there.
    pub fn escrow_deadline(&self, n: Epoch) -> Timestamp {
        self.proof_deadline(n)
    }

    /// The epoch `s` belongs to.
    pub fn epoch_of(&self, s: Slot) -> Epoch {
        self.time.epoch_of(s)
    }

    /// The slot containing `t`; slot 0 before genesis (nothing of the protocol happens there).
    pub fn slot_at(&self, t: Timestamp) -> Slot {
        self.time.slot_at(t).unwrap_or(Slot(0))
    }
}

/// The Rollup's based-fallback period as one `getFallbackStatus()` reading tells it: running over
/// `window` when `active`, otherwise the next period if nobody advances the proven chain before it
/// starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FallbackWindow {
    pub active: bool,
    pub window: SlotRange,
}

impl FallbackWindow {
    pub fn new(active: bool, start: u64, end: u64) -> Self {
        Self {
            active,
            window: SlotRange {
                start: Slot(start),
                end: Slot(end),
            },
        }
    }

    /// The reading of `Rollup.getFallbackStatus()`.
    pub fn from_status(s: &proofline_bindings::Rollup::FallbackStatus) -> Self {
        Self::new(s.active, s.start.saturating_to(), s.end.saturating_to())
    }

    /// Whether `slot` falls in fallback, as far as this reading tells: inside the running period,
    /// or inside the next one (a proof landing before it starts moves it, and the next reading
    /// says so).
    pub fn covers(&self, slot: Slot) -> bool {
        self.window.contains(slot)
    }

    /// Whether the period is running at `slot` (fallback entry at its first slot, exit at its end).
    pub fn running_at(&self, slot: Slot) -> bool {
        self.active && self.covers(slot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const GENESIS: u64 = 1_700_000_000;

    /// 12 s slots, 32-slot epochs, C = 13.
    fn schedule() -> Schedule {
        Schedule::from_params(GENESIS, 12, 32, 13).unwrap()
    }

    #[test]
    fn claim_window_is_the_first_c_slots_of_the_next_epoch() {
        let s = schedule();
        let w = s.claim_window(Epoch(7));
        assert_eq!(w.start, Slot(8 * 32));
        assert_eq!(w.end, Slot(8 * 32 + 13));
        assert_eq!(w.last(), Some(Slot(8 * 32 + 12)));
        assert_eq!(s.quote_valid_until(Epoch(7)), Slot(268));
        // Boundaries: the last slot of epoch 7 claims nothing, slot 0 of epoch 8 claims 7 with
        // k = 0, the window's last slot k = 12, the first slot after it nothing.
        assert_eq!(s.claim_slot(Slot(8 * 32 - 1)), None);
        assert_eq!(
            s.claim_slot(Slot(8 * 32)),
            Some(ClaimSlot {
                epoch_to_prove: Epoch(7),
                index: 0
            })
        );
        assert_eq!(
            s.claim_slot(Slot(8 * 32 + 12)),
            Some(ClaimSlot {
                epoch_to_prove: Epoch(7),
                index: 12
            })
        );
        assert_eq!(s.claim_slot(Slot(8 * 32 + 13)), None);
        assert!(w.ended_at(Slot(8 * 32 + 13)) && !w.ended_at(Slot(8 * 32 + 12)));
        // Epoch 0's slots claim nothing (there is no epoch -1).
        assert_eq!(s.claim_slot(Slot(0)), None);
    }

    #[test]
    fn proof_window_runs_from_the_end_of_n_to_the_end_of_n_plus_one() {
        let s = schedule();
        let n = Epoch(7);
        let open = Timestamp(GENESIS + 8 * 32 * 12);
        let deadline = Timestamp(GENESIS + 9 * 32 * 12);
        assert_eq!(s.proof_opens(n), open);
        assert_eq!(s.proof_deadline(n), deadline);
        assert_eq!(s.escrow_deadline(n), deadline);
        // The last second of epoch N is too early, the first of N+1 is in; the last second of N+1
        // is the last second of the deadline, the first of N+2 is too late.
        assert!(!s.proof_accepted_at(n, Timestamp(open.0 - 1)));
        assert!(s.proof_accepted_at(n, open));
        assert!(s.proof_accepted_at(n, Timestamp(deadline.0 - 1)));
        assert!(!s.proof_accepted_at(n, deadline));
    }

    #[test]
    fn the_proving_budget_is_the_rest_of_epoch_n_plus_one_after_the_window() {
        let s = schedule();
        // (32 - 13) slots of 12 s.
        assert_eq!(s.proving_budget_secs(Epoch(7)), 19 * 12);
        // A window as long as the epoch leaves nothing.
        let full = Schedule::from_params(GENESIS, 12, 32, 32).unwrap();
        assert_eq!(full.proving_budget_secs(Epoch(7)), 0);
        let over = Schedule::from_params(GENESIS, 12, 32, 40).unwrap();
        assert_eq!(over.proving_budget_secs(Epoch(7)), 0);
    }

    #[test]
    fn far_epochs_saturate() {
        let s = schedule();
        let far = Epoch(u64::MAX - 1);
        assert_eq!(s.claim_window(far).start, Slot(u64::MAX));
        assert_eq!(s.claim_window(far).end, Slot(u64::MAX));
        assert_eq!(s.proof_deadline(far), Timestamp(u64::MAX));
        assert!(!s.claim_window(far).ended_at(Slot(u64::MAX - 1)));
    }

    #[test]
    fn a_zero_claim_window_has_no_claim_slot() {
        let s = Schedule::from_params(GENESIS, 12, 32, 0).unwrap();
        assert_eq!(s.claim_slot(Slot(32)), None);
        assert_eq!(s.claim_window(Epoch(0)).last(), None);
        assert_eq!(s.quote_valid_until(Epoch(0)), Slot(32));
    }

    #[test]
    fn fallback_entry_and_exit() {
        let w = FallbackWindow::new(true, 10, 14);
        assert!(!w.covers(Slot(9)));
        assert!(w.covers(Slot(10)) && w.running_at(Slot(10)));
        assert!(w.covers(Slot(13)));
        assert!(!w.covers(Slot(14)) && !w.running_at(Slot(14)));
        // Not started yet: the next period, predicted.
        let next = FallbackWindow { active: false, ..w };
        assert!(next.covers(Slot(10)));
        assert!(!next.running_at(Slot(10)));
        assert!(!next.covers(Slot(9)));
    }

    proptest! {
        /// Every slot of an epoch after the first is in exactly one claim window or none, and the
        /// claim slot agrees with the window ranges.
        #[test]
        fn claim_slot_agrees_with_claim_window(slot in 0u64..1_000_000, c in 0u64..40, e in 1u64..64) {
            let s = Schedule::from_params(GENESIS, 12, e, c).unwrap();
            let slot = Slot(slot);
            match s.claim_slot(slot) {
                Some(cs) => {
                    let w = s.claim_window(cs.epoch_to_prove);
                    prop_assert!(w.contains(slot));
                    prop_assert_eq!(slot.0 - w.start.0, cs.index);
                }
                None => {
                    let epoch = s.epoch_of(slot);
                    if epoch.0 > 0 {
                        prop_assert!(!s.claim_window(Epoch(epoch.0 - 1)).contains(slot));
                    }
                }
            }
        }
    }
}
