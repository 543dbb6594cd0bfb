//! The node's slot duties as pure decisions (collect -> decide -> act, docs/architecture.md):
//! what to do in a slot, given what the node last read of L1 and what it holds itself. The
//! duty loop and the claim duty collect, call these, and act; the tests drive them with recorded
//! readings at the boundaries of the windows (the claim window, based fallback's entry and exit).

use alloy::primitives::{Address, Bytes, B256, U256};
use proofline_chain::chain::{ApplyError, NodeChain};
use proofline_core::{ChainView, Epoch, FallbackWindow, ProposeArgs, Schedule, Slot};
use thiserror::Error;

use crate::{
    duties::{AttestRequest, Attestation},
    l1::ClaimState,
};

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
/// fallback key (any), given the fallback reading of the slot's block. The Rollup refuses
/// `propose` and claims in fallback (SPEC 6), so the committee does not gather attestations for
/// a slot the reading covers (the running period, or the next one predicted), nor for one it has
/// no reading of (a node restarted in fallback built committee blocks in fallback slots); the
/// fallback proposer tries every slot and checks a fresh reading before building.
pub fn slot_duties(
    slot: Slot,
    fallback: Option<&FallbackWindow>,
    has_validators: bool,
    has_fallback_key: bool,
) -> SlotDuties {
    let in_fallback = fallback.is_none_or(|f| f.covers(slot));
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

/// The least time from sending a transaction to the L1 block that includes it: a block's
/// timestamp is above its parent's.
pub const MIN_L1_INCLUSION_SECS: f64 = 1.0;

/// **Propose.** Whether a proposal for `slot`, sent at `now` (the L1 clock, seconds), can still
/// be mined in its slot: the Rollup takes a block only in the slot its L1 block's timestamp falls
/// in (`Rollup__InvalidSlot` otherwise), and the next L1 block is at least
/// [`MIN_L1_INCLUSION_SECS`] away. Probing found start-up proposals sent 9 s into 6 s slots.
pub fn can_land(schedule: &Schedule, slot: Slot, now: f64) -> bool {
    now + MIN_L1_INCLUSION_SECS < schedule.slot_start(slot.next()).0 as f64
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

/// What an attester read for a proposal (collect): its clock's slot, and the committee and
/// proposer of the proposal's slot as L1 sets them.
#[derive(Debug, Clone)]
pub struct AttestReading<'a> {
    pub current_slot: Slot,
    pub epoch: Epoch,
    pub committee: &'a [Address],
    /// `None` when the slot's epoch is not set up yet, so no one knows its proposer.
    pub proposer: Option<Address>,
    /// The node's own validators.
    pub validators: &'a [Address],
}

/// Why an attester refuses a proposal. The message is what the proposer reads back (and the
/// e2e tests look for).
#[derive(Debug, Error)]
pub enum Refusal {
    #[error("proposal for slot {proposal}, the current slot is {current}")]
    WrongSlot { proposal: Slot, current: Slot },
    #[error("none of this node's validators is in the committee of epoch {0}")]
    NotInCommittee(Epoch),
    #[error("the proposer of slot {0} is not known yet: its epoch is not set up")]
    ProposerUnknown(Slot),
    #[error("the proposal's signature is malformed")]
    BadSignature,
    #[error("the proposal is signed by {signer}, not by the proposer of slot {slot} ({proposer})")]
    NotSignedByProposer {
        signer: Address,
        slot: Slot,
        proposer: Address,
    },
    #[error("the proposer of slot {slot} signed another proposal for it ({first}): equivocation")]
    Equivocation { slot: Slot, first: B256 },
    #[error("coinbase {coinbase} is not the proposer of slot {slot} ({proposer})")]
    NotProposer {
        coinbase: Address,
        slot: Slot,
        proposer: Address,
    },
    #[error("the block and the header disagree on number or slot")]
    BlockHeaderDisagree,
    #[error("block {number} does not build on this node's tip {tip}")]
    NotOnTip { number: u64, tip: u64 },
    #[error("previous archive {proposed} is not this node's tip archive {tip}")]
    PreviousArchive { proposed: B256, tip: B256 },
    #[error("forced entry {0} was never queued on L1 as far as this node saw")]
    ForcedNotQueued(u64),
    #[error("the forced txs are not the queue's next entries")]
    ForcedNotNext,
    #[error(transparent)]
    Execution(#[from] ApplyError),
    #[error("state root mismatch: re-execution gives {computed}, the proposal says {proposed}")]
    StateRoot { computed: B256, proposed: B256 },
    #[error("header mismatch: re-execution gives {computed:?}, the proposal says {proposed:?}")]
    Header {
        computed: Box<ProposeArgs>,
        proposed: Box<ProposeArgs>,
    },
}

/// **Attest, first.** Whether `req` is the slot's proposer's own proposal: for the current slot,
/// signed over `digest` (its proposal digest) by the slot's proposer, with that proposer as
/// coinbase. Pure and cheap (one signature recovery): an attester runs it before it reads,
/// records or executes anything for a request, so a peer that is not the proposer gets nothing
/// done for it, and cannot make the attester record a block in the proposer's name.
pub fn authenticate(
    current_slot: Slot,
    proposer: Option<Address>,
    digest: B256,
    req: &AttestRequest,
) -> Result<Address, Refusal> {
    let slot = req.block.slot;
    if slot != current_slot {
        return Err(Refusal::WrongSlot {
            proposal: slot,
            current: current_slot,
        });
    }
    let signer = alloy::primitives::Signature::try_from(&req.signature[..])
        .ok()
        .and_then(|s| s.recover_address_from_prehash(&digest).ok())
        .ok_or(Refusal::BadSignature)?;
    let proposer = proposer.ok_or(Refusal::ProposerUnknown(slot))?;
    if signer != proposer {
        return Err(Refusal::NotSignedByProposer {
            signer,
            slot,
            proposer,
        });
    }
    if req.block.coinbase != proposer {
        return Err(Refusal::NotProposer {
            coinbase: req.block.coinbase,
            slot,
            proposer,
        });
    }
    Ok(proposer)
}

/// **Attest.** The node's validators that sign `req`, given what it read and its own chain:
/// the proposal is the slot's proposer's own ([`authenticate`]), for one of the node's
/// committee members, builds on the node's tip with the queue entries it saw queued, and
/// re-executing it gives exactly the proposed header. Executes the block last, after every
/// cheap check.
pub fn attest(
    reading: &AttestReading<'_>,
    chain: &NodeChain,
    req: &AttestRequest,
    digest: B256,
) -> Result<Vec<Address>, Refusal> {
    authenticate(reading.current_slot, reading.proposer, digest, req)?;
    attest_authenticated(reading, chain, req)
}

/// [`attest`] after [`authenticate`] passed: the attester authenticates a request first, before
/// it reads the committee or waits for its sync, and decides the rest here without recovering
/// the signature again.
pub fn attest_authenticated(
    reading: &AttestReading<'_>,
    chain: &NodeChain,
    req: &AttestRequest,
) -> Result<Vec<Address>, Refusal> {
    let block = &req.block;
    let members: Vec<Address> = reading
        .validators
        .iter()
        .copied()
        .filter(|a| reading.committee.contains(a))
        .collect();
    if members.is_empty() {
        return Err(Refusal::NotInCommittee(reading.epoch));
    }
    if U256::from(block.number) != req.args.block_number
        || U256::from(block.slot.0) != req.args.slot
    {
        return Err(Refusal::BlockHeaderDisagree);
    }
    if block.number != chain.tip() + 1 {
        return Err(Refusal::NotOnTip {
            number: block.number,
            tip: chain.tip(),
        });
    }
    if req.args.previous_archive != chain.archive() {
        return Err(Refusal::PreviousArchive {
            proposed: req.args.previous_archive,
            tip: chain.archive(),
        });
    }
    let queued: Vec<Bytes> = chain
        .forced_data(block.forced.len() as u64)
        .map_err(Refusal::ForcedNotQueued)?;
    if queued != block.forced {
        return Err(Refusal::ForcedNotNext);
    }
    let computed = chain.preview(block)?.propose_args();
    if computed.state_root != req.args.state_root {
        return Err(Refusal::StateRoot {
            computed: computed.state_root,
            proposed: req.args.state_root,
        });
    }
    if computed != req.args {
        return Err(Refusal::Header {
            computed: Box::new(computed),
            proposed: Box::new(req.args.clone()),
        });
    }
    Ok(members)
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
            !unread.committee && unread.committee_skipped_for_fallback,
            "no fallback reading of the slot (a restart in fallback): the committee stands aside"
        );
    }

    #[test]
    fn a_proposal_goes_out_only_while_its_slot_can_still_mine_it() {
        // 4 s slots from t = 1000: slot 7 is [1028, 1032).
        let s = schedule();
        assert!(can_land(&s, Slot(7), 1_028.0));
        assert!(can_land(&s, Slot(7), 1_030.9));
        assert!(
            !can_land(&s, Slot(7), 1_031.0),
            "the next block would be in slot 8"
        );
        assert!(
            !can_land(&s, Slot(7), 1_037.0),
            "9 s after the slot's start"
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

    /// An attester's view of a proposal: a node holding validators 1 and 2 of a committee of
    /// 1, 2 and 3, in slot 5, whose proposer is 3.
    mod attest {
        use super::*;
        use crate::{
            duties::{build_block, AttestRequest},
            mempool::{Mempool, MempoolConfig},
        };
        use proofline_chain::chain::QueueEntry;
        use proofline_devnet::txgen::TxGen;

        use alloy::signers::{local::PrivateKeySigner, SignerSync};
        use std::sync::LazyLock;

        static PROPOSER_KEY: LazyLock<PrivateKeySigner> =
            LazyLock::new(|| PrivateKeySigner::from_bytes(&B256::repeat_byte(3)).unwrap());
        static PROPOSER: LazyLock<Address> = LazyLock::new(|| PROPOSER_KEY.address());
        static COMMITTEE: LazyLock<[Address; 3]> =
            LazyLock::new(|| [Address::repeat_byte(1), Address::repeat_byte(2), *PROPOSER]);

        fn reading() -> AttestReading<'static> {
            AttestReading {
                current_slot: Slot(5),
                epoch: Epoch(0),
                committee: &COMMITTEE[..],
                proposer: Some(*PROPOSER),
                validators: &COMMITTEE[..2],
            }
        }

        fn domain() -> alloy::sol_types::Eip712Domain {
            proofline_core::rollup_domain(31337, Address::repeat_byte(0x55))
        }

        /// Signs `req`'s header as `key` would propose it.
        fn sign_as(key: &PrivateKeySigner, req: &mut AttestRequest) {
            let digest = req.args.digest(&domain());
            req.signature = Bytes::from(key.sign_hash_sync(&digest).unwrap().as_bytes().to_vec());
        }

        fn sign(req: &mut AttestRequest) {
            sign_as(&PROPOSER_KEY, req)
        }

        fn check(
            reading: &AttestReading<'_>,
            chain: &NodeChain,
            req: &AttestRequest,
        ) -> Result<Vec<Address>, Refusal> {
            attest(reading, chain, req, req.args.digest(&domain()))
        }

        /// A chain with two forced entries queued, and the proposer's honest block on it.
        fn honest() -> (NodeChain, AttestRequest) {
            let mut chain = NodeChain::new();
            for i in 0..2 {
                let tx = TxGen::new(1000 + i).next_tx();
                chain.on_queued(QueueEntry {
                    index: i,
                    tx_hash: alloy::primitives::keccak256(tx.encode()),
                    due_epoch: Epoch(0),
                    data: Bytes::from(tx.encode()),
                    l1_block: 1,
                });
            }
            let mut pool = Mempool::new(MempoolConfig { max_txs: 100 });
            for tx in TxGen::new(7).take(4) {
                pool.add(&tx.encode(), chain.l2().state()).unwrap();
            }
            let (block, built) =
                build_block(&chain, &pool, Slot(5), Epoch(0), *PROPOSER, 10, true).unwrap();
            let mut req = AttestRequest {
                block,
                args: built.propose_args(),
                signature: Bytes::new(),
            };
            sign(&mut req);
            (chain, req)
        }

        #[test]
        fn signs_an_honest_proposal_with_the_members_it_holds() {
            let (chain, req) = honest();
            assert_eq!(req.block.forced.len(), 2);
            assert_eq!(
                check(&reading(), &chain, &req).unwrap(),
                COMMITTEE[..2].to_vec()
            );
        }

        /// The censorship attack (issue 15): anyone may build a valid block with the proposer as
        /// coinbase; only the proposer can sign it, and nothing else is checked first.
        #[test]
        fn only_what_the_slots_proposer_signed() {
            let (chain, mut req) = honest();
            req.signature = Bytes::new();
            assert!(matches!(
                check(&reading(), &chain, &req),
                Err(Refusal::BadSignature)
            ));
            let (chain, mut req) = honest();
            let impostor = PrivateKeySigner::random();
            sign_as(&impostor, &mut req);
            assert!(matches!(
                check(&reading(), &chain, &req),
                Err(Refusal::NotSignedByProposer { signer, .. }) if signer == impostor.address()
            ));
            // Authentication comes first: an impostor learns nothing of the node's committee.
            let not_member = AttestReading {
                validators: &[],
                ..reading()
            };
            assert!(matches!(
                check(&not_member, &chain, &req),
                Err(Refusal::NotSignedByProposer { .. })
            ));
            // A signature over another header (a replay of the proposer's other proposal).
            let (chain, mut req) = honest();
            req.args.tx_count += U256::from(1);
            assert!(matches!(
                check(&reading(), &chain, &req),
                Err(Refusal::NotSignedByProposer { .. })
            ));
            // Signed by the proposer, but naming someone else as coinbase.
            let (chain, mut req) = honest();
            req.block.coinbase = COMMITTEE[0];
            assert!(matches!(
                check(&reading(), &chain, &req),
                Err(Refusal::NotProposer { .. })
            ));
        }

        #[test]
        fn only_in_the_current_slot() {
            let (chain, req) = honest();
            for current in [Slot(4), Slot(6)] {
                let r = AttestReading {
                    current_slot: current,
                    ..reading()
                };
                assert!(matches!(
                    check(&r, &chain, &req),
                    Err(Refusal::WrongSlot { proposal: Slot(5), current: c }) if c == current
                ));
            }
        }

        #[test]
        fn only_from_the_slots_proposer_and_for_a_member() {
            let (chain, req) = honest();
            let not_member = AttestReading {
                validators: &[],
                ..reading()
            };
            assert!(matches!(
                check(&not_member, &chain, &req),
                Err(Refusal::NotInCommittee(Epoch(0)))
            ));
            let unknown = AttestReading {
                proposer: None,
                ..reading()
            };
            assert!(matches!(
                check(&unknown, &chain, &req),
                Err(Refusal::ProposerUnknown(Slot(5)))
            ));
            let other = AttestReading {
                proposer: Some(COMMITTEE[0]),
                ..reading()
            };
            assert!(matches!(
                check(&other, &chain, &req),
                Err(Refusal::NotSignedByProposer { .. })
            ));
        }

        #[test]
        fn only_on_the_nodes_tip() {
            let (chain, mut req) = honest();
            req.args.previous_archive = B256::repeat_byte(9);
            sign(&mut req);
            assert!(matches!(
                check(&reading(), &chain, &req),
                Err(Refusal::PreviousArchive { .. })
            ));
            let (chain, mut req) = honest();
            req.block.number = 2;
            req.args.block_number = U256::from(2);
            sign(&mut req);
            assert!(matches!(
                check(&reading(), &chain, &req),
                Err(Refusal::NotOnTip { number: 2, tip: 0 })
            ));
            let (chain, mut req) = honest();
            req.args.slot = U256::from(6);
            sign(&mut req);
            assert!(matches!(
                check(&reading(), &chain, &req),
                Err(Refusal::BlockHeaderDisagree)
            ));
        }

        #[test]
        fn only_with_the_queues_next_entries() {
            let (chain, mut req) = honest();
            req.block.forced.reverse();
            assert!(matches!(
                check(&reading(), &chain, &req),
                Err(Refusal::ForcedNotNext)
            ));
            let (chain, mut req) = honest();
            req.block
                .forced
                .push(Bytes::from(TxGen::new(5000).next_tx().encode()));
            assert!(matches!(
                check(&reading(), &chain, &req),
                Err(Refusal::ForcedNotQueued(2))
            ));
        }

        #[test]
        fn only_what_re_execution_gives() {
            let (chain, mut req) = honest();
            req.args.state_root = B256::repeat_byte(0xee);
            sign(&mut req);
            let refusal = check(&reading(), &chain, &req).unwrap_err();
            assert!(
                refusal.to_string().starts_with("state root mismatch"),
                "{refusal}"
            );
            let (chain, mut req) = honest();
            req.args.archive = B256::repeat_byte(0xee);
            sign(&mut req);
            assert!(matches!(
                check(&reading(), &chain, &req),
                Err(Refusal::Header { .. })
            ));
            // A tx dropped from the body: the header's counts and root no longer follow.
            let (chain, mut req) = honest();
            req.block.txs.pop();
            assert!(check(&reading(), &chain, &req).is_err());
        }
    }
}
