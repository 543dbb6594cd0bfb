//! The prover's and the submitter's duties as pure decisions: `decide(view, local state) ->
//! action` (docs/architecture.md). The agents collect a [`ChainView`] per L1 block, ask these
//! functions what to do, and act; the tests drive them with recorded views at every boundary of
//! the windows they depend on.

use std::collections::BTreeSet;

use alloy::primitives::{Address, U256};
use proofline_core::{ChainView, Epoch, Schedule};

use crate::proof::EpochProof;

/// **Quote.** The epoch to quote now, if any: the epoch to prove N, from `lead_secs` before N
/// ends until its claim window closes, while it has unproven blocks and no claim.
pub fn quote_epoch(view: &ChainView, schedule: &Schedule, lead_secs: u64) -> Option<Epoch> {
    if !view.has_unproven() || view.claim.is_some() {
        return None;
    }
    let n = view.epoch_to_prove?;
    let from = schedule.proof_opens(n).0.saturating_sub(lead_secs);
    let open = !schedule.claim_window(n).ended_at(view.slot(schedule));
    (view.now.0 >= from && open).then_some(n)
}

/// A claim on the epoch to prove that names this prover, seen for the first time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewClaim {
    pub epoch: Epoch,
    pub bond: U256,
}

/// **Prove.** A claim naming `me` on the epoch to prove that is not in `seen` (the epochs whose
/// claim the prover already acted on).
pub fn new_claim(view: &ChainView, me: Address, seen: &BTreeSet<Epoch>) -> Option<NewClaim> {
    let claim = view.claim.filter(|c| c.bond_provider == me)?;
    let epoch = view.epoch_to_prove?;
    (!seen.contains(&epoch)).then_some(NewClaim {
        epoch,
        bond: claim.bond_amount,
    })
}

/// **Prove.** Whether a proof of `n` can be made yet: `n` has ended (its last block is known)
/// at the view's clock.
pub fn epoch_over(view: &ChainView, schedule: &Schedule, n: Epoch) -> bool {
    view.now >= schedule.proof_opens(n)
}

/// **Submit.** Whether `proof` should be sent in the state `view` shows: its epoch is the one
/// to prove, the proven tip is where it starts, the pending chain holds its last block, the
/// view's L1 block is inside the proof window (from the end of epoch N to the end of N+1, as
/// the Rollup checks it at that block's time), and no prune is due (the Rollup refuses a proof
/// then).
pub fn should_submit(proof: &EpochProof, view: &ChainView, schedule: &Schedule) -> bool {
    let s = &proof.statement;
    view.epoch_to_prove == Some(s.epoch)
        && schedule.proof_accepted_at(s.epoch, view.l1_timestamp)
        && view.proven == s.proven_tip
        && view.pending >= s.end_block
        && !view.can_prune
}

/// **Submit.** Of the epochs with a proof transaction in flight, those whose transaction is no
/// longer needed: the epoch is behind the epoch to prove (proven, by anyone), everything is
/// proven, or a prune is due.
pub fn obsolete_in_flight(view: &ChainView, in_flight: impl Iterator<Item = Epoch>) -> Vec<Epoch> {
    in_flight
        .filter(|e| view.epoch_to_prove.is_none_or(|n| *e < n) || view.can_prune)
        .collect()
}

/// **Prune.** Whether to call `prune()`: one is due and the operator asked for it.
pub fn should_prune(view: &ChainView, enabled: bool) -> bool {
    enabled && view.can_prune
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proof::EpochStatement;
    use alloy::primitives::B256;
    use proofline_core::{FallbackWindow, ProofClaim, Slot, Timestamp};

    const GENESIS: u64 = 1_000_000;
    const SLOT: u64 = 4;
    const EPOCH_SLOTS: u64 = 6;
    const C: u64 = 3;

    /// The scenarios' devnet: 4 s slots, 6-slot epochs, a 3-slot claim window.
    fn schedule() -> Schedule {
        Schedule::from_params(GENESIS, SLOT, EPOCH_SLOTS, C).unwrap()
    }

    fn at_slot(slot: Slot) -> Timestamp {
        Timestamp(GENESIS + slot.0 * SLOT)
    }

    /// A view recorded at `t` (clock and L1 block alike) with epoch 4 to prove, blocks 10..=15
    /// pending above proven block 9.
    fn view(t: Timestamp) -> ChainView {
        ChainView {
            l1_block: 50,
            l1_timestamp: t,
            now: t,
            pending: 15,
            proven: 9,
            epoch_to_prove: Some(Epoch(4)),
            claim: None,
            can_prune: false,
            fallback: FallbackWindow::new(false, 1_000, 1_024),
            reward_pool: U256::from(10u128.pow(21)),
        }
    }

    fn claim_by(who: Address) -> Option<ProofClaim> {
        Some(ProofClaim {
            bond_provider: who,
            bond_amount: U256::from(100),
            basis_point_fee: 250,
        })
    }

    #[test]
    fn quoting_starts_lead_secs_before_the_epoch_ends_and_stops_with_the_claim_window() {
        let s = schedule();
        let lead = 6;
        // Epoch 4 ends at slot 30; its claim window is slots 30..33.
        let epoch_end = at_slot(Slot(30)).0;
        assert_eq!(
            quote_epoch(&view(Timestamp(epoch_end - lead - 1)), &s, lead),
            None
        );
        assert_eq!(
            quote_epoch(&view(Timestamp(epoch_end - lead)), &s, lead),
            Some(Epoch(4))
        );
        // The last second of the claim window's last slot still quotes; the first second after
        // it does not.
        let last = Timestamp(at_slot(Slot(33)).0 - 1);
        assert_eq!(quote_epoch(&view(last), &s, lead), Some(Epoch(4)));
        assert_eq!(quote_epoch(&view(at_slot(Slot(33))), &s, lead), None);
    }

    #[test]
    fn nothing_to_quote_without_unproven_blocks_or_once_claimed() {
        let s = schedule();
        let mut v = view(at_slot(Slot(30)));
        v.claim = claim_by(Address::repeat_byte(7));
        assert_eq!(quote_epoch(&v, &s, 6), None);
        let mut v = view(at_slot(Slot(30)));
        v.proven = v.pending;
        assert_eq!(quote_epoch(&v, &s, 6), None);
    }

    #[test]
    fn a_claim_naming_us_is_new_once() {
        let me = Address::repeat_byte(1);
        let mut v = view(at_slot(Slot(31)));
        assert_eq!(new_claim(&v, me, &BTreeSet::new()), None);
        v.claim = claim_by(Address::repeat_byte(2));
        assert_eq!(new_claim(&v, me, &BTreeSet::new()), None, "someone else's");
        v.claim = claim_by(me);
        assert_eq!(
            new_claim(&v, me, &BTreeSet::new()),
            Some(NewClaim {
                epoch: Epoch(4),
                bond: U256::from(100)
            })
        );
        assert_eq!(new_claim(&v, me, &BTreeSet::from([Epoch(4)])), None, "seen");
    }

    #[test]
    fn proving_waits_for_the_epoch_to_end() {
        let s = schedule();
        assert!(!epoch_over(
            &view(Timestamp(at_slot(Slot(30)).0 - 1)),
            &s,
            Epoch(4)
        ));
        assert!(epoch_over(&view(at_slot(Slot(30))), &s, Epoch(4)));
    }

    fn proof(epoch: Epoch, proven_tip: u64, end_block: u64) -> EpochProof {
        EpochStatement {
            epoch,
            proven_tip,
            end_block,
            previous_archive: B256::ZERO,
            end_archive: B256::ZERO,
            prover: Address::ZERO,
            fees: vec![],
        }
        .dev_proof()
    }

    #[test]
    fn a_proof_is_submitted_inside_its_window_only() {
        let s = schedule();
        let p = proof(Epoch(4), 9, 15);
        // Epoch 4's proof window: from the first second of epoch 5 (slot 30) to the last second
        // of epoch 5 (slot 36 exclusive), as the L1 block's time says.
        assert!(!should_submit(
            &p,
            &view(Timestamp(at_slot(Slot(30)).0 - 1)),
            &s
        ));
        assert!(should_submit(&p, &view(at_slot(Slot(30))), &s));
        assert!(
            should_submit(&p, &view(Timestamp(at_slot(Slot(36)).0 - 1)), &s),
            "last second"
        );
        assert!(
            !should_submit(&p, &view(at_slot(Slot(36))), &s),
            "deadline passed"
        );
        // The clock running ahead of L1 does not move the window: the Rollup checks the block.
        let mut v = view(Timestamp(at_slot(Slot(36)).0 - 1));
        v.now = at_slot(Slot(37));
        assert!(should_submit(&p, &v, &s));
    }

    #[test]
    fn a_proof_that_does_not_fit_the_chain_is_not_submitted() {
        let s = schedule();
        let v = view(at_slot(Slot(31)));
        assert!(should_submit(&proof(Epoch(4), 9, 15), &v, &s));
        assert!(
            !should_submit(&proof(Epoch(3), 9, 15), &v, &s),
            "not the epoch to prove"
        );
        assert!(
            !should_submit(&proof(Epoch(4), 8, 15), &v, &s),
            "another proven tip"
        );
        assert!(
            !should_submit(&proof(Epoch(4), 9, 16), &v, &s),
            "blocks L1 lacks"
        );
        let mut prune = v;
        prune.can_prune = true;
        assert!(
            !should_submit(&proof(Epoch(4), 9, 15), &prune, &s),
            "prune due"
        );
    }

    #[test]
    fn in_flight_proofs_become_obsolete_when_passed_or_pruned() {
        let v = view(at_slot(Slot(31)));
        assert_eq!(
            obsolete_in_flight(&v, [3, 4, 5].map(Epoch).into_iter()),
            vec![Epoch(3)]
        );
        let mut prune = v;
        prune.can_prune = true;
        assert_eq!(
            obsolete_in_flight(&prune, [4, 5].map(Epoch).into_iter()),
            vec![Epoch(4), Epoch(5)]
        );
        assert!(should_prune(&prune, true) && !should_prune(&prune, false));
        assert!(!should_prune(&v, true));
        // Everything proven (no epoch to prove): whatever is in flight is no longer needed, and
        // there is nothing to quote, prove or submit.
        let mut done = v;
        done.proven = done.pending;
        done.epoch_to_prove = None;
        assert_eq!(
            obsolete_in_flight(&done, [Epoch(4)].into_iter()),
            vec![Epoch(4)]
        );
        assert_eq!(quote_epoch(&done, &schedule(), 6), None);
        assert!(!should_submit(&proof(Epoch(4), 9, 15), &done, &schedule()));
    }

    /// The submitter's original table (it read a `ProofWindow`: epoch to prove 4, current epoch
    /// 5, proven tip 10, pending tip 20), on the view it reads now.
    #[test]
    fn submits_only_inside_the_window_of_the_epoch_to_prove() {
        let s = schedule();
        let mut w = view(at_slot(Slot(31)));
        w.proven = 10;
        w.pending = 20;
        assert!(should_submit(&proof(Epoch(4), 10, 15), &w, &s));
        assert!(
            !should_submit(&proof(Epoch(3), 10, 15), &w, &s),
            "an earlier epoch: proven or pruned"
        );
        assert!(
            !should_submit(&proof(Epoch(5), 15, 20), &w, &s),
            "epoch 5 has not ended"
        );
        assert!(
            !should_submit(&proof(Epoch(4), 9, 15), &w, &s),
            "built on another proven tip"
        );
        assert!(
            !should_submit(&proof(Epoch(4), 10, 21), &w, &s),
            "ends past the pending tip (pruned)"
        );
        let late = ChainView {
            l1_timestamp: at_slot(Slot(6 * EPOCH_SLOTS)),
            ..w
        };
        assert!(
            !should_submit(&proof(Epoch(4), 10, 15), &late, &s),
            "deadline passed"
        );
        let prune = ChainView {
            can_prune: true,
            ..w
        };
        assert!(
            !should_submit(&proof(Epoch(4), 10, 15), &prune, &s),
            "a prune is due"
        );
    }
}
