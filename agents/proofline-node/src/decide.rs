//! The node's slot duties as pure decisions (collect -> decide -> act, docs/architecture.md):
//! what to do in a slot, given what the node last read of L1 and what it holds itself. The
//! duty loop and the claim duty collect, call these, and act; the tests drive them with recorded
//! readings at the boundaries of the windows (the claim window, based fallback's entry and exit).

use alloy::primitives::{Address, B256};
use proofline_core::{ChainView, Epoch, FallbackWindow, Schedule, Slot};

use crate::{duties::Attestation, l1::ClaimState};

/// What the node does in a slot whose first L1 block it has seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotDuties {
    /// Propose a block with its proof (`proposeWithProof`, SPEC 6) with the fallback key.
    pub fallback_propose: bool,
    /// Propose (and claim beside it) as the committee: the slot's proposer, if it is one of the
    /// node's validators, proposes; the claim duty runs beside it.
    pub committee: bool,
    /// Why the committee stands aside, for the log.
    pub committee_skipped_for_fallback: bool,
}

/// **Propose / fallback.** The duties of `slot` for a node with `validators` (any) and a
/// fallback key (any), given the last fallback reading. The Rollup refuses `propose` and claims
/// in fallback (SPEC 6), so the committee does not gather attestations for a slot the reading
/// covers (the running period, or the next one predicted); the fallback proposer tries every
/// slot and checks a fresh reading before building.
pub fn slot_duties(
    slot: Slot,
    fallback: Option<&FallbackWindow>,
    has_validators: bool,
    has_fallback_key: bool,
) -> SlotDuties {
    let in_fallback = fallback.is_some_and(|f| f.covers(slot));
    SlotDuties {
        fallback_propose: has_fallback_key,
        committee: has_validators && !in_fallback,
        committee_skipped_for_fallback: has_validators && in_fallback,
    }
}

/// What the slot's proposer does, per the chain view of the slot's block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProposeStep {
    /// A prune is due: `propose` would prune first and then refuse a block built on the pruned
    /// blocks, so call `prune()` instead and propose from the next slot on.
    Prune,
    /// Build on pending block `on` (the node waits until it holds it).
    Build { on: u64 },
}

/// **Propose.** Prune or build, per `view`.
pub fn propose_step(view: &ChainView) -> ProposeStep {
    if view.can_prune {
        ProposeStep::Prune
    } else {
        ProposeStep::Build { on: view.pending }
    }
}

/// **Propose.** Whether to ask the peers for attestations before signing with the node's own
/// validators: when the `held` committee members the node holds cannot make the quorum
/// `needed` alone, so the peers re-execute the block while the node signs.
pub fn ask_peers_first(held: usize, needed: usize) -> bool {
    held < needed
}

/// **Propose.** Whether a peer's attestation counts: by a committee member, over the proposal's
/// digest, and not a second one from a member already counted.
pub fn accept_attestation(
    committee: &[Address],
    have: &[Attestation],
    a: &Attestation,
    digest: B256,
) -> bool {
    committee.contains(&a.validator)
        && !have.iter().any(|b| b.validator == a.validator)
        && a.verify(digest)
}

/// **Fallback.** Whether a block may be proposed with its proof in `slot` per a fresh
/// `getFallbackStatus()` reading: only while fallback is running over that slot.
pub fn fallback_propose_now(window: &FallbackWindow, slot: Slot) -> bool {
    window.running_at(slot)
}

/// **Claim.** The epoch `slot` claims, if it is in a claim window and the state read at the
/// slot's L1 block says that epoch is the epoch to prove and unclaimed. Whether the slot's
/// proposer is one of the node's validators, and which quote to claim with, the claim duty
/// decides with its own state.
pub fn claim_epoch(schedule: &Schedule, slot: Slot, state: &ClaimState) -> Option<Epoch> {
    let n = schedule.claim_slot(slot)?.epoch_to_prove;
    (state.epoch_to_prove == Some(n) && !state.claimed).then_some(n)
}

/// **Claim, cheap pre-check.** Whether `slot` is in any claim window: the claim duty reads
/// nothing from L1 for a slot that is not.
pub fn in_claim_window(schedule: &Schedule, slot: Slot) -> bool {
    schedule.claim_slot(slot).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::U256;

    /// 4 s slots, 6-slot epochs, a 3-slot claim window (the scenarios' devnet).
    fn schedule() -> Schedule {
        Schedule::from_params(1_000, 4, 6, 3).unwrap()
    }

    fn state(epoch: Option<u64>, claimed: bool) -> ClaimState {
        ClaimState {
            epoch_to_prove: epoch.map(Epoch),
            claimed,
            min_bond: U256::from(1),
        }
    }

    #[test]
    fn claims_in_the_window_only() {
        let s = schedule();
        let open = state(Some(4), false);
        // Epoch 4's window: slots 30, 31, 32 (the first three of epoch 5).
        assert_eq!(
            claim_epoch(&s, Slot(29), &open),
            None,
            "epoch 4's last slot"
        );
        assert_eq!(claim_epoch(&s, Slot(30), &open), Some(Epoch(4)));
        assert_eq!(
            claim_epoch(&s, Slot(32), &open),
            Some(Epoch(4)),
            "the window's last slot"
        );
        assert_eq!(
            claim_epoch(&s, Slot(33), &open),
            None,
            "first slot after it"
        );
        assert!(!in_claim_window(&s, Slot(29)) && in_claim_window(&s, Slot(30)));
        assert!(in_claim_window(&s, Slot(32)) && !in_claim_window(&s, Slot(33)));
    }

    #[test]
    fn claims_only_the_unclaimed_epoch_to_prove() {
        let s = schedule();
        assert_eq!(claim_epoch(&s, Slot(30), &state(Some(4), true)), None);
        assert_eq!(claim_epoch(&s, Slot(30), &state(Some(3), false)), None);
        assert_eq!(claim_epoch(&s, Slot(30), &state(None, false)), None);
        // Epoch 0's slots claim nothing.
        assert_eq!(claim_epoch(&s, Slot(0), &state(Some(0), false)), None);
    }

    #[test]
    fn the_committee_stands_aside_in_fallback_from_entry_to_exit() {
        // Fallback runs over slots 40..44.
        let running = FallbackWindow::new(true, 40, 44);
        let d = |slot| slot_duties(Slot(slot), Some(&running), true, true);
        assert!(d(39).committee, "the slot before entry");
        assert!(
            !d(40).committee && d(40).committee_skipped_for_fallback,
            "entry"
        );
        assert!(!d(43).committee, "last fallback slot");
        assert!(d(44).committee, "exit");
        assert!(d(40).fallback_propose && d(39).fallback_propose);
        assert!(fallback_propose_now(&running, Slot(40)));
        assert!(fallback_propose_now(&running, Slot(43)));
        assert!(!fallback_propose_now(&running, Slot(39)));
        assert!(!fallback_propose_now(&running, Slot(44)));
        // The next period, predicted but not running: the committee already stands aside (a
        // proof landing before it starts moves it), the fallback proposer waits.
        let next = FallbackWindow::new(false, 40, 44);
        assert!(!slot_duties(Slot(40), Some(&next), true, false).committee);
        assert!(!fallback_propose_now(&next, Slot(40)));
    }

    #[test]
    fn without_keys_or_readings() {
        let none = slot_duties(Slot(5), None, false, false);
        assert!(!none.committee && !none.fallback_propose && !none.committee_skipped_for_fallback);
        let unread = slot_duties(Slot(5), None, true, false);
        assert!(
            unread.committee,
            "no fallback reading yet: propose as usual"
        );
    }

    #[test]
    fn a_due_prune_comes_before_proposing() {
        use proofline_core::Timestamp;
        let mut v = ChainView {
            l1_block: 1,
            l1_timestamp: Timestamp(1_000),
            now: Timestamp(1_000),
            pending: 12,
            proven: 6,
            epoch_to_prove: Some(Epoch(2)),
            claim: None,
            can_prune: false,
            fallback: FallbackWindow::new(false, 100, 110),
            reward_pool: U256::ZERO,
        };
        assert_eq!(propose_step(&v), ProposeStep::Build { on: 12 });
        v.can_prune = true;
        assert_eq!(propose_step(&v), ProposeStep::Prune);
    }

    #[test]
    fn peers_are_asked_first_when_the_node_alone_has_no_quorum() {
        assert!(ask_peers_first(2, 3));
        assert!(!ask_peers_first(3, 3));
        assert!(ask_peers_first(0, 1));
    }

    #[test]
    fn only_fresh_committee_attestations_over_the_digest_count() {
        use alloy::signers::local::PrivateKeySigner;
        let key = |i: u8| PrivateKeySigner::from_bytes(&B256::repeat_byte(i)).unwrap();
        let (a, b, outsider) = (key(1), key(2), key(3));
        let committee = vec![a.address(), b.address()];
        let digest = B256::repeat_byte(0x42);
        let by_a = Attestation::sign(&a, digest).unwrap();
        let by_b = Attestation::sign(&b, digest).unwrap();
        assert!(accept_attestation(&committee, &[], &by_a, digest));
        assert!(accept_attestation(
            &committee,
            std::slice::from_ref(&by_a),
            &by_b,
            digest
        ));
        assert!(
            !accept_attestation(&committee, std::slice::from_ref(&by_a), &by_a, digest),
            "a member counted once"
        );
        let by_outsider = Attestation::sign(&outsider, digest).unwrap();
        assert!(
            !accept_attestation(&committee, &[], &by_outsider, digest),
            "not a member"
        );
        let other_digest = Attestation::sign(&a, B256::repeat_byte(0x43)).unwrap();
        assert!(
            !accept_attestation(&committee, &[], &other_digest, digest),
            "another digest"
        );
        // A signature passed off as another member's.
        let forged = Attestation {
            validator: b.address(),
            signature: by_a.signature.clone(),
        };
        assert!(!accept_attestation(&committee, &[], &forged, digest));
    }
}
