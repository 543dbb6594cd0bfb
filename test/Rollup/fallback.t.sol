// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Vm} from "forge-std/Vm.sol";

import {IProverEscrow} from "../../contracts/interfaces/IProverEscrow.sol";
import {
    CommitteeAttestations,
    EpochProofArgs,
    IRollup,
    ProposeArgs
} from "../../contracts/interfaces/IRollup.sol";
import {SignedEpochProofQuote} from "../../contracts/libraries/EpochProofQuoteLib.sol";
import {Errors} from "../../contracts/libraries/Errors.sol";
import {Epoch} from "../../contracts/libraries/TimeLib.sol";
import {FallbackBase} from "../harnesses/FallbackBase.sol";

/// @notice Based fallback (SPEC 6) rule by rule, at its boundaries. Deployed at slot 0 with
///         FALLBACK_ENTER = 96 (3 epochs), FALLBACK_EXIT_ACTIVITY = 16, FALLBACK_EXIT_TOTAL = 48:
///         with nobody proving, fallback runs [96, 112), normal mode [112, 208), fallback
///         [208, 224), and so on. Validators are staked, so epochs 2+ have a committee.
contract FallbackTest is FallbackBase {
    uint256 internal constant START = FB_ENTER; // 96: first fallback slot from deployment
    uint256 internal constant IDLE_END = START + FB_ACTIVITY; // 112: end with no activity
    uint256 internal constant TOTAL_END = START + FB_TOTAL; // 144: end whatever happens

    function setUp() public {
        _setUpFallback(0, FB_ENTER, FB_ACTIVITY, FB_TOTAL, 8);
    }

    // ------------------------------------------------------------------ entering

    function test_getFallbackStatus_AfterDeployment() public view {
        assertEq(rollup.FALLBACK_ENTER(), FB_ENTER);
        assertEq(rollup.FALLBACK_EXIT_ACTIVITY(), FB_ACTIVITY);
        assertEq(rollup.FALLBACK_EXIT_TOTAL(), FB_TOTAL);
        // Not active; it would begin at deployment + FALLBACK_ENTER and, with no activity, end
        // FALLBACK_EXIT_ACTIVITY later.
        _assertStatus(false, START, IDLE_END, "deployed");
    }

    /// @dev One slot before progressSlot + FALLBACK_ENTER the committee proposes and a block with
    ///      proof is refused; at that slot it is the reverse.
    function test_enter_ExactlyAtProgressSlotPlusEnter() public {
        _warpToSlot(START - 1);
        _assertStatus(false, START, IDLE_END, "slot 95");
        _expectFallbackRevert(_fbArgs(START - 1), outsider, _notInFallback(START));
        _proposeNext(); // block 1 by the committee, in slot 95
        assertEq(rollup.getPendingBlockNumber(), 1);

        _warpToSlot(START);
        _assertStatus(true, START, IDLE_END, "slot 96");
        _expectProposeRevert(_inFallback(START, IDLE_END));

        ProposeArgs memory fb = _fbArgs(START);
        bytes memory proof = _fbProof(fb, outsider);
        vm.expectEmit(address(rollup));
        emit IRollup.FallbackEntered(START);
        vm.expectEmit(address(rollup));
        emit IRollup.PrunedPending(0, 1); // the committee's unproven block 1 is dropped
        vm.expectEmit(address(rollup));
        emit IRollup.L2BlockProposed(1, fb.archive, START);
        vm.expectEmit(address(rollup));
        emit IRollup.L2BlockProvenInFallback(1, outsider);
        vm.prank(outsider);
        rollup.proposeWithProof(fb, proof);

        assertEq(rollup.getPendingBlockNumber(), 1, "pending");
        assertEq(rollup.getProvenBlockNumber(), 1, "proven on arrival");
        assertEq(rollup.getBlock(1).archive, fb.archive, "block 1 is the fallback block");
    }

    /// @dev In fallback the committee cannot claim, but an epoch proof in its window is accepted
    ///      (SPEC 5.4 holds in either mode; here an unclaimed epoch, inside its claim window). The
    ///      proof records the fallback first (FallbackEntered: it is the first transaction to see
    ///      it) and, advancing the proven chain, counts as fallback activity (SPEC 6): fallback
    ///      stays on, now ending FALLBACK_EXIT_ACTIVITY after the proof.
    function test_enter_ClaimRefusedButEpochProofAcceptedInFallback() public {
        _fillEpoch(2, 2); // blocks 1, 2 in slots 64, 66 by the committee
        _warpToSlot(START - 1);
        EpochProofArgs memory a = _proofArgs(2, 2, prover);
        // Slot 95: epoch 2 is not over, so the proof is refused for that reason.
        vm.expectRevert(
            abi.encodeWithSelector(Errors.Rollup__EpochNotEnded.selector, Epoch.wrap(2), Epoch.wrap(2))
        );
        vm.prank(submitter);
        rollup.submitEpochRootProof(a);

        _warpToSlot(START); // slot 0 of epoch 3: claim window of epoch 2 open
        rollup.setupEpoch();
        SignedEpochProofQuote memory q = _signedQuote(2);
        address p = _proposer();
        vm.expectRevert(_inFallback(START, IDLE_END));
        rollup.validateEpochProofRightClaim(q, p);
        vm.expectRevert(_inFallback(START, IDLE_END));
        vm.prank(p);
        rollup.claimEpochProofRight(q);

        // Slot 101, still in epoch 2's claim window (96..108): its unclaimed proof lands.
        uint256 at = START + 5;
        uint256 end = _min(at + FB_ACTIVITY, START + FB_TOTAL); // 117
        _warpToSlot(at);
        _assertStatus(true, START, IDLE_END, "before the proof");
        uint256 held = bondAsset.balanceOf(address(escrow));
        vm.expectEmit(address(rollup));
        emit IRollup.FallbackEntered(START);
        vm.expectEmit(address(rollup));
        emit IRollup.L2ProofVerified(2, 2, prover);
        vm.recordLogs();
        _submit(a);
        assertEq(_logsOf(vm.getRecordedLogs(), IRollup.FallbackExited.selector), 0, "fallback exited");
        assertEq(rollup.getProvenBlockNumber(), 2, "proven tip");
        assertEq(rollup.getPendingBlockNumber(), 2);
        assertEq(rollup.rewardsOf(prover), SUBMITTER_REWARD, "the submitter reward, to the proof's prover");
        assertEq(escrow.stakedBalance(prover), 0, "no bond involved");
        assertEq(bondAsset.balanceOf(address(escrow)), held, "escrow moved");

        // Activity at 101: still fallback, until 117 now (not 112); then the clock restarts at
        // the end, 117 + 96 = 213.
        _assertStatus(true, START, end, "after the proof");
        _warpToSlot(end - 1);
        _assertStatus(true, START, end, "slot 116");
        _warpToSlot(end);
        _assertStatus(false, end + FB_ENTER, end + FB_ENTER + FB_ACTIVITY, "slot 117");
    }

    /// @dev After an epoch proof in fallback, fallback goes on (to the end the proof moved): the
    ///      committee is still refused (propose and claim) and fallback blocks accepted until then;
    ///      from that end on it is the reverse, and the committee's first block records the exit.
    function test_enter_CommitteeRefusedUntilTheEndAnEpochProofMoved() public {
        _fillEpoch(2, 2); // blocks 1, 2 in slots 64, 66
        _warpToSlot(101);
        _submit(_proofArgs(2, 2, prover)); // in fallback: it now ends at 117
        assertEq(rollup.getProvenBlockNumber(), 2);
        _assertStatus(true, START, 117, "after the proof");
        _expectProposeRevert(_inFallback(START, 117));

        _warpToSlot(116);
        _expectProposeRevert(_inFallback(START, 117));
        _fallbackBlock(105); // a fallback block: more activity, the end moves to 132
        _assertStatus(true, START, 132, "after the fallback block");
        _expectProposeRevert(_inFallback(START, 132));

        _warpToSlot(131);
        _expectProposeRevert(_inFallback(START, 132));
        _warpToSlot(132);
        _assertStatus(false, 132 + FB_ENTER, 132 + FB_ENTER + FB_ACTIVITY, "slot 132");
        _expectFallbackRevert(_fbArgs(132), outsider, _notInFallback(132 + FB_ENTER));
        (ProposeArgs memory args, CommitteeAttestations memory att, address p) = _prepPropose();
        vm.expectEmit(address(rollup));
        emit IRollup.FallbackExited(132);
        vm.prank(p);
        rollup.propose(args, att);
        assertEq(rollup.getPendingBlockNumber(), 4);
    }

    // ------------------------------------------------------------------ the clock

    /// @dev An accepted epoch proof moves the clock to the slot it lands in (not the slots of the
    ///      blocks it proves); proposals do not move it.
    function test_clock_EpochProofResetsIt() public {
        _fillEpoch(1, 2); // blocks 1, 2 in slots 32, 34 (epoch 1: no committee yet, open)
        _claimAt(1, 3, _signedQuote(1)); // slot 67
        _warpToSlot(70);
        _submit(_proofArgs(1, 2, prover));
        uint256 start = 70 + FB_ENTER; // 166
        _assertStatus(false, start, start + FB_ACTIVITY, "after the proof");

        _warpToSlot(START); // where fallback would have begun without the proof
        _assertStatus(false, start, start + FB_ACTIVITY, "slot 96");
        _expectFallbackRevert(_fbArgs(START), outsider, _notInFallback(start));
        _proposeNext(); // block 3: a proposal, not progress

        _warpToSlot(start - 1);
        _assertStatus(false, start, start + FB_ACTIVITY, "slot 165");
        _expectFallbackRevert(_fbArgs(start - 1), outsider, _notInFallback(start));
        _proposeNext(); // prunes block 3 (its epoch was never claimed) and proposes block 3 again

        _warpToSlot(start);
        _assertStatus(true, start, start + FB_ACTIVITY, "slot 166");
        _expectProposeRevert(_inFallback(start, start + FB_ACTIVITY));
        _fallbackBlock(start);
        assertEq(rollup.getProvenBlockNumber(), 3);
    }

    /// @dev A proof in fallback counts as activity; the next proof, in normal mode after that
    ///      fallback ended, is proven progress again: the clock restarts at the slot it lands in
    ///      (SPEC 6), not at the end of the fallback the earlier proof extended.
    function test_clock_EpochProofAfterAFallbackItExtendedRestartsIt() public {
        _fillEpoch(2, 1); // block 1 in slot 64
        _warpToSlot(101);
        _submit(_proofArgs(2, 1, prover)); // in fallback: it now ends at 117
        _assertStatus(true, START, 117, "after the proof in fallback");

        _warpToSlot(118);
        _proposeNext(); // block 2, epoch 3
        _warpToSlot(130); // epoch 4's claim window
        _submit(_proofArgs(3, 2, prover));
        assertEq(rollup.getProvenBlockNumber(), 2);
        uint256 start = 130 + FB_ENTER; // 226
        _assertStatus(false, start, start + FB_ACTIVITY, "clock restarted at the proof");

        _warpToSlot(start - 1);
        _assertStatus(false, start, start + FB_ACTIVITY, "slot 225");
        _expectFallbackRevert(_fbArgs(start - 1), outsider, _notInFallback(start));
        _proposeNext();
        _warpToSlot(start);
        _assertStatus(true, start, start + FB_ACTIVITY, "slot 226");
        _expectProposeRevert(_inFallback(start, start + FB_ACTIVITY));
    }

    // ------------------------------------------------------------------ leaving

    /// @dev Activity counts from the slot the block with proof lands in (100), not its own slot
    ///      (98): the fallback ends at 100 + 16 = 116 exactly, then the next begins 96 later.
    function test_exit_ByActivity_ExactlyAtLastActivityPlusActivity() public {
        _warpToSlot(100);
        _fallbackBlock(98);
        _assertStatus(true, START, 116, "after activity");

        _warpToSlot(115);
        _assertStatus(true, START, 116, "slot 115");
        _expectProposeRevert(_inFallback(START, 116));

        _warpToSlot(116);
        _assertStatus(false, 116 + FB_ENTER, 116 + FB_ENTER + FB_ACTIVITY, "slot 116");
        _expectFallbackRevert(_fbArgs(116), outsider, _notInFallback(116 + FB_ENTER));
        (ProposeArgs memory args, CommitteeAttestations memory att, address p) = _prepPropose();
        vm.expectEmit(address(rollup));
        emit IRollup.FallbackExited(116);
        vm.expectEmit(address(rollup));
        emit IRollup.L2BlockProposed(2, args.archive, 116);
        vm.prank(p);
        rollup.propose(args, att);
        assertEq(rollup.getPendingBlockNumber(), 2);
        assertEq(rollup.getProvenBlockNumber(), 1);

        // Nobody proves: the clock, anchored at the end (116), brings fallback back at 212.
        _warpToSlot(211);
        _assertStatus(false, 212, 228, "slot 211");
        _warpToSlot(212);
        _assertStatus(true, 212, 228, "slot 212");
    }

    /// @dev Blocks with proof every 14 slots keep the activity rule from ending it, but the total
    ///      rule ends it at start + 48 = 144 exactly.
    function test_exit_ByTotal_EvenWithContinuousActivity() public {
        uint256[5] memory at = [START, uint256(110), 124, 138, TOTAL_END - 1];
        for (uint256 i = 0; i < at.length; ++i) {
            _warpToSlot(at[i]);
            _fallbackBlock(at[i]);
            _assertStatus(true, START, _min(TOTAL_END, at[i] + FB_ACTIVITY), "during");
        }
        assertEq(rollup.getProvenBlockNumber(), 5);

        _warpToSlot(TOTAL_END);
        _assertStatus(false, TOTAL_END + FB_ENTER, TOTAL_END + FB_ENTER + FB_ACTIVITY, "slot 144");
        _expectFallbackRevert(_fbArgs(TOTAL_END), outsider, _notInFallback(TOTAL_END + FB_ENTER));
        (ProposeArgs memory args, CommitteeAttestations memory att, address p) = _prepPropose();
        vm.expectEmit(address(rollup));
        emit IRollup.FallbackExited(TOTAL_END);
        vm.prank(p);
        rollup.propose(args, att);
        assertEq(rollup.getPendingBlockNumber(), 6);
    }

    /// @dev Nobody proves and nobody uses fallback: fallback and normal mode alternate, 16 and 96
    ///      slots; a fallback block may not reuse a slot of an earlier fallback.
    function test_reentry_AfterIdleCycles() public {
        _warpToSlot(IDLE_END - 1);
        _assertStatus(true, START, IDLE_END, "slot 111");
        _warpToSlot(IDLE_END);
        _assertStatus(false, 208, 224, "slot 112");
        _warpToSlot(207);
        _assertStatus(false, 208, 224, "slot 207");
        _proposeNext(); // the committee, in normal mode

        _warpToSlot(208);
        _assertStatus(true, 208, 224, "slot 208");
        _expectProposeRevert(_inFallback(208, 224));
        // Slots of the first fallback (or anything before this one) are out of range now.
        _expectFallbackRevert(
            _fbArgs(100),
            outsider,
            abi.encodeWithSelector(Errors.Rollup__FallbackSlotOutOfRange.selector, 208, 208, 100)
        );
        _fallbackBlock(208); // drops the committee's block 1 (slot 207) and proves a block 1
        assertEq(rollup.getProvenBlockNumber(), 1);
        _assertStatus(true, 208, 224, "after activity at its start");

        // After that period (ended at 224): cycles of 96 + 16 from 224.
        uint256 cycles = 5;
        uint256 next = 224 + cycles * (FB_ENTER + FB_ACTIVITY) + FB_ENTER;
        _warpToSlot(next - 1);
        _assertStatus(false, next, next + FB_ACTIVITY, "before a later cycle");
        _warpToSlot(next);
        _assertStatus(true, next, next + FB_ACTIVITY, "a later cycle");
        _fallbackBlock(next);
        assertEq(rollup.getProvenBlockNumber(), 2);
    }

    // ------------------------------------------------------------------ events

    function _logsOf(Vm.Log[] memory logs, bytes32 topic) internal view returns (uint256 n) {
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].emitter == address(rollup) && logs[i].topics[0] == topic) ++n;
        }
    }

    /// @dev FallbackEntered / FallbackExited carry the slots of the change, and each change is
    ///      recorded once, by the first transaction that sees it.
    function test_events_SyncFallbackRecordsEachChangeOnce() public {
        _warpToSlot(START - 1);
        vm.recordLogs();
        rollup.syncFallback();
        assertEq(vm.getRecordedLogs().length, 0, "nothing to record at 95");

        _warpToSlot(START + 3); // seen late: the event still names the start slot
        vm.expectEmit(address(rollup));
        emit IRollup.FallbackEntered(START);
        rollup.syncFallback();

        _warpToSlot(START + 4);
        vm.recordLogs();
        rollup.syncFallback();
        assertEq(vm.getRecordedLogs().length, 0, "already recorded");

        _warpToSlot(100);
        vm.recordLogs();
        _fallbackBlock(100); // activity: the end moves to 116
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(_logsOf(logs, IRollup.FallbackEntered.selector), 0, "entered twice");
        assertEq(_logsOf(logs, IRollup.L2BlockProvenInFallback.selector), 1);

        _warpToSlot(120); // seen 4 slots late: the event names the end, 116
        vm.expectEmit(address(rollup));
        emit IRollup.FallbackExited(116);
        rollup.syncFallback();
        vm.recordLogs();
        rollup.syncFallback();
        assertEq(vm.getRecordedLogs().length, 0, "exit recorded twice");

        // [212, 228) passes unseen; at 327 the one being run, [324, 340), is recorded alone.
        _warpToSlot(327);
        _assertStatus(true, 324, 340, "slot 327");
        vm.recordLogs();
        rollup.syncFallback();
        logs = vm.getRecordedLogs();
        assertEq(logs.length, 1);
        assertEq(logs[0].topics[0], IRollup.FallbackEntered.selector);
        assertEq(abi.decode(logs[0].data, (uint256)), 324);

        // A recorded period that ended unseen is closed (at its end) before the next one opens.
        _warpToSlot(437); // [340, 436) normal, [436, 452) fallback
        vm.recordLogs();
        rollup.syncFallback();
        logs = vm.getRecordedLogs();
        assertEq(logs.length, 2);
        assertEq(logs[0].topics[0], IRollup.FallbackExited.selector);
        assertEq(abi.decode(logs[0].data, (uint256)), 340);
        assertEq(logs[1].topics[0], IRollup.FallbackEntered.selector);
        assertEq(abi.decode(logs[1].data, (uint256)), 436);
    }

    /// @dev Recording does not change the timeline: a synced and an unsynced deployment agree.
    function test_events_SyncDoesNotMoveTheTimeline() public {
        for (uint256 s = START - 2; s < 340; s += 7) {
            _warpToSlot(s);
            bool active = (s >= 96 && s < 112) || (s >= 208 && s < 224) || (s >= 320 && s < 336);
            uint256 start = s < 112 ? 96 : s < 224 ? 208 : s < 336 ? 320 : 432;
            _assertStatus(active, start, start + FB_ACTIVITY, "before sync");
            rollup.syncFallback();
            _assertStatus(active, start, start + FB_ACTIVITY, "after sync");
        }
    }

    // ------------------------------------------------------------------ fallback blocks

    /// @dev args.slot must lie in [fallback start, current slot] and after the parent's slot.
    function test_slots_RangeAndOrder() public {
        _warpToSlot(105);
        _expectFallbackRevert(
            _fbArgs(START - 1),
            outsider,
            abi.encodeWithSelector(Errors.Rollup__FallbackSlotOutOfRange.selector, START, 105, START - 1)
        );
        _expectFallbackRevert(
            _fbArgs(106),
            outsider,
            abi.encodeWithSelector(Errors.Rollup__FallbackSlotOutOfRange.selector, START, 105, 106)
        );
        _fallbackBlock(START); // the first fallback slot, 9 slots in the past
        _expectFallbackRevert(
            _fbArgs(START),
            outsider,
            abi.encodeWithSelector(Errors.Rollup__SlotAlreadyUsed.selector, START, START)
        );

        ProposeArgs memory b = _fbArgs(97);
        bytes memory proof = _fbProof(b, outsider);
        vm.expectEmit(address(rollup));
        emit IRollup.L2BlockProposed(2, b.archive, 97); // the event carries the block's own slot
        vm.prank(outsider);
        rollup.proposeWithProof(b, proof);

        _fallbackBlock(105); // the current slot
        _expectFallbackRevert(
            _fbArgs(105), outsider, abi.encodeWithSelector(Errors.Rollup__SlotAlreadyUsed.selector, 105, 105)
        );
        _warpToSlot(106);
        // In range, but not after the parent's slot.
        _expectFallbackRevert(
            _fbArgs(104), outsider, abi.encodeWithSelector(Errors.Rollup__SlotAlreadyUsed.selector, 105, 104)
        );
        assertEq(rollup.getProvenBlockNumber(), 3);
        assertEq(rollup.getPendingBlockNumber(), 3);
    }

    /// @dev A fallback block builds on the proven tip: the committee's unproven blocks are dropped
    ///      first (a block on top of them is refused), and the proven tip moves.
    function test_proposeWithProof_BuildsOnProvenTipAndDropsCommitteeBlocks() public {
        _fillEpoch(2, 3); // blocks 1..3 in slots 64, 66, 68, unclaimed
        _warpToSlot(97);
        ProposeArgs memory onPending = _fbArgs(97);
        onPending.blockNumber = 4;
        onPending.previousArchive = rollup.getBlock(3).archive;
        _expectFallbackRevert(
            onPending, outsider, abi.encodeWithSelector(Errors.Rollup__InvalidBlockNumber.selector, 1, 4)
        );
        assertEq(rollup.getPendingBlockNumber(), 3, "a refused block dropped nothing");

        ProposeArgs memory fb = _fbArgs(97);
        bytes memory proof = _fbProof(fb, outsider);
        vm.expectEmit(address(rollup));
        emit IRollup.FallbackEntered(START);
        vm.expectEmit(address(rollup));
        emit IRollup.PrunedPending(0, 3);
        vm.expectEmit(address(rollup));
        emit IRollup.L2BlockProposed(1, fb.archive, 97);
        vm.expectEmit(address(rollup));
        emit IRollup.L2BlockProvenInFallback(1, outsider);
        vm.prank(outsider);
        rollup.proposeWithProof(fb, proof);

        assertEq(rollup.getPendingBlockNumber(), 1);
        assertEq(rollup.getProvenBlockNumber(), 1);
        assertEq(rollup.getBlock(1).archive, fb.archive);
        vm.expectRevert(abi.encodeWithSelector(Errors.Rollup__BlockNotFound.selector, 1, 2));
        rollup.getBlock(2);
        vm.expectRevert(Errors.Rollup__NoEpochToProve.selector);
        rollup.getEpochToProve();
    }

    /// @dev The committee's claim on the dropped epoch has a deadline that already passed when
    ///      fallback begins: the prune the fallback block triggers slashes it (SPEC 5.5 (b)).
    function test_proposeWithProof_OverdueClaimIsSlashed() public {
        _fillEpoch(1, 2); // slots 32, 34
        _claimAt(1, 0, _signedQuote(1)); // slot 64; proof due by the end of epoch 2 = slot 96
        _warpToSlot(START);
        assertTrue(rollup.canPrune(), "epoch 1 is late");

        ProposeArgs memory fb = _fbArgs(START);
        bytes memory proof = _fbProof(fb, outsider);
        vm.expectEmit(address(rollup));
        emit IRollup.PrunedPending(0, 2);
        vm.expectEmit(address(rollup));
        emit IRollup.BondSlashed(1, prover, MIN_BOND);
        vm.expectEmit(address(rollup));
        emit IRollup.L2BlockProvenInFallback(1, outsider);
        vm.prank(outsider);
        rollup.proposeWithProof(fb, proof);

        assertEq(escrow.stakedBalance(prover), 0);
        assertEq(escrow.freeBalance(prover), 9 * MIN_BOND, "bond not slashed");
        assertEq(escrow.slashedBalance(escrow.BURN_ADDRESS()), MIN_BOND);
    }

    // ------------------------------------------------------------------ proofs

    /// @dev Each of the 7 public inputs is bound: changing any one of them, sending someone
    ///      else's proof, changing the block after proving it, or a verifier that refuses, all
    ///      revert InvalidProof; the right proof then goes through.
    function test_proof_EveryPublicInputIsBound() public {
        _warpToSlot(100);
        ProposeArgs memory args = _fbArgs(98);
        bytes32[] memory pi = _fbInputs(args, outsider);
        for (uint256 i = 0; i < pi.length; ++i) {
            bytes32[] memory bad = new bytes32[](pi.length);
            for (uint256 j = 0; j < pi.length; ++j) {
                bad[j] = pi[j];
            }
            bad[i] = bad[i] ^ bytes32(uint256(1));
            bytes memory badProof = verifier.devProof(bad);
            vm.expectRevert(Errors.Rollup__InvalidProof.selector);
            vm.prank(outsider);
            rollup.proposeWithProof(args, badProof);
        }
        bytes memory proof = verifier.devProof(pi);

        // Copied by a front-runner: bound to the outsider's address.
        vm.expectRevert(Errors.Rollup__InvalidProof.selector);
        vm.prank(makeAddr("front-runner"));
        rollup.proposeWithProof(args, proof);

        // Another state root than the one proven (bound through the proposal digest).
        bytes32 stateRoot = args.stateRoot;
        args.stateRoot = keccak256("another state");
        vm.expectRevert(Errors.Rollup__InvalidProof.selector);
        vm.prank(outsider);
        rollup.proposeWithProof(args, proof);
        args.stateRoot = stateRoot;

        verifier.setAccepting(false);
        vm.expectRevert(Errors.Rollup__InvalidProof.selector);
        vm.prank(outsider);
        rollup.proposeWithProof(args, proof);
        verifier.setAccepting(true);

        assertEq(rollup.getProvenBlockNumber(), 0);
        vm.prank(outsider);
        rollup.proposeWithProof(args, proof);
        assertEq(rollup.getProvenBlockNumber(), 1);
    }

    /// @dev The epoch input is the epoch of the block's slot, not of the slot it lands in.
    function test_proof_EpochInputIsTheBlocksEpoch() public {
        _warpToSlot(100);
        _fallbackBlock(100);
        _warpToSlot(114);
        _fallbackBlock(114); // fallback now lasts to 130
        _warpToSlot(128); // epoch 4
        ProposeArgs memory args = _fbArgs(127); // epoch 3
        bytes32[] memory pi = _fbInputs(args, outsider);
        assertEq(uint256(pi[2]), 3);
        pi[2] = bytes32(uint256(4));
        bytes memory wrong = verifier.devProof(pi);
        vm.expectRevert(Errors.Rollup__InvalidProof.selector);
        vm.prank(outsider);
        rollup.proposeWithProof(args, wrong);
        _proposeWithProof(args, outsider);
        assertEq(rollup.getProvenBlockNumber(), 3);
    }

    // ------------------------------------------------------------------ forced inclusion

    /// @dev SPEC 7 holds for fallback blocks exactly as for committee blocks.
    function test_forced_DueEntriesMustLeadFallbackBlock() public {
        bytes32 h0 = _force("a");
        bytes32 h1 = _force("b");
        bytes32 h2 = _force("c"); // all queued in epoch 0: due from epoch 2
        _warpToSlot(100); // epoch 3

        _expectFallbackRevert(
            _fbArgs(100),
            outsider,
            abi.encodeWithSelector(Errors.Rollup__ForcedTxsDue.selector, Epoch.wrap(2), Epoch.wrap(3))
        );
        // Fewer than MIN_FORCED_TXS_PER_BLOCK (2) while more are due.
        _expectFallbackRevert(
            _withForced(_fbArgs(100), _one(h0), 1),
            outsider,
            abi.encodeWithSelector(Errors.Rollup__TooFewForcedTxs.selector, 2, 1)
        );
        // Not the queue's next entries in order.
        _expectFallbackRevert(
            _withForced(_fbArgs(100), _two(h1, h0), 2),
            outsider,
            abi.encodeWithSelector(
                Errors.Rollup__InvalidForcedTxsHash.selector,
                keccak256(abi.encodePacked(h0, h1)),
                keccak256(abi.encodePacked(h1, h0))
            )
        );
        // Other txs while a due entry is left behind.
        _expectFallbackRevert(
            _withForced(_fbArgs(100), _two(h0, h1), 3),
            outsider,
            abi.encodeWithSelector(
                Errors.Rollup__NonForcedTxsBeforeDueForcedTxs.selector, Epoch.wrap(2), Epoch.wrap(3)
            )
        );
        _expectFallbackRevert(
            _withForced(_fbArgs(100), _two(h0, h1), 1),
            outsider,
            abi.encodeWithSelector(Errors.Rollup__InvalidTxCount.selector, 2, 1)
        );
        assertEq(queue.head(), 0);

        _proposeWithProof(_withForced(_fbArgs(100), _two(h0, h1), 2), outsider);
        assertEq(queue.head(), 2);
        _warpToSlot(101);
        _proposeWithProof(_withForced(_fbArgs(101), _one(h2), 5), outsider); // the last due one, then others
        assertEq(queue.head(), 3);
        assertEq(rollup.getProvenBlockNumber(), 2);
    }

    /// @dev Due-ness is judged at the current epoch, as for `propose`: a block backdated to an epoch
    ///      where the entry was not yet due must still carry it (else backdating would dodge SPEC 7).
    function test_forced_DueAtCurrentEpochEvenForABackdatedBlock() public {
        _warpToSlot(64);
        bytes32 h = _force("late"); // queued in epoch 2: due from epoch 4 (slot 128)
        _warpToSlot(100);
        _fallbackBlock(100); // epoch 3: not due, nothing to carry
        _warpToSlot(114);
        _fallbackBlock(114);
        _warpToSlot(128);
        _expectFallbackRevert(
            _fbArgs(127),
            outsider,
            abi.encodeWithSelector(Errors.Rollup__ForcedTxsDue.selector, Epoch.wrap(4), Epoch.wrap(4))
        );
        _proposeWithProof(_withForced(_fbArgs(127), _one(h), 1), outsider);
        assertEq(queue.head(), 1);
    }

    /// @dev A committee block that took due entries is dropped by the fallback block: they are
    ///      queued again and the fallback block must carry them. Once carried by a (proven)
    ///      fallback block, a later prune of committee blocks rewinds the queue only to after them.
    function test_forced_EntriesOfDroppedBlockRequeuedThenStayIncluded() public {
        bytes32 h0 = _force("x0");
        bytes32 h1 = _force("x1"); // due from epoch 2
        _warpToSlot(EPOCH_DURATION);
        bytes32 h2 = _force("x2"); // due from epoch 3
        _warpToSlot(64);
        ProposeArgs memory args = _withForced(_nextArgs(), _two(h0, h1), 2);
        CommitteeAttestations memory att = _quorumAttest(args);
        address p = _proposer();
        vm.prank(p);
        rollup.propose(args, att);
        assertEq(queue.head(), 2);

        _warpToSlot(START);
        _expectFallbackRevert(
            _fbArgs(START),
            outsider,
            abi.encodeWithSelector(Errors.Rollup__ForcedTxsDue.selector, Epoch.wrap(2), Epoch.wrap(3))
        );
        _proposeWithProof(_withForced(_fbArgs(START), _two(h0, h1), 2), outsider);
        assertEq(queue.head(), 2);
        assertEq(rollup.getProvenBlockNumber(), 1);

        _warpToSlot(IDLE_END); // activity at 96: the fallback ended at 112
        args = _withForced(_nextArgs(), _one(h2), 1); // committee block 2 takes the entry due now
        att = _quorumAttest(args);
        p = _proposer();
        vm.prank(p);
        rollup.propose(args, att);
        assertEq(queue.head(), 3);

        _warpToSlot(4 * EPOCH_DURATION + CLAIM_WINDOW); // epoch 3 never claimed: prune due
        rollup.prune();
        assertEq(rollup.getPendingBlockNumber(), 1);
        assertEq(rollup.getProvenBlockNumber(), 1);
        assertEq(queue.head(), 2, "rewound past the fallback block's entries");
        assertTrue(queue.getEntry(1).included);
        assertFalse(queue.getEntry(2).included);
    }
}

/// @notice Deployed at slot 5 of an earlier genesis: the clock starts at deployment, and fallback
///         (at 101) can begin while a claimed epoch's proof is still in time (until slot 127).
contract FallbackLateDeployTest is FallbackBase {
    uint256 internal constant DEPLOY = 5;
    uint256 internal constant START = DEPLOY + FB_ENTER; // 101

    function setUp() public {
        _setUpFallback(DEPLOY, FB_ENTER, FB_ACTIVITY, FB_TOTAL, 8);
    }

    function test_clock_StartsAtDeploymentSlotNotGenesis() public {
        assertEq(_currentSlot(), DEPLOY);
        _assertStatus(false, START, START + FB_ACTIVITY, "deployed");
        _warpToSlot(START - 1);
        _expectFallbackRevert(_fbArgs(START - 1), outsider, _notInFallback(START));
        _proposeNext();
        _warpToSlot(START);
        _assertStatus(true, START, START + FB_ACTIVITY, "start");
        _expectProposeRevert(_inFallback(START, START + FB_ACTIVITY));
        _fallbackBlock(START);
        assertEq(rollup.getProvenBlockNumber(), 1);
    }

    /// @dev Epoch 2 (blocks 1..3 in slots 64, 66, 68) claimed at slot 96, before fallback begins at
    ///      101: its proof is due by the end of epoch 3 (slot 128), so its window overlaps the
    ///      fallback [101, 117).
    function _claimedEpochOverlappingFallback() internal {
        _fillEpoch(2, 3);
        _claimAt(2, 0, _signedQuote(2)); // slot 96
        assertEq(escrow.stakedBalance(prover), MIN_BOND);
        assertEq(escrow.freeBalance(prover), 9 * MIN_BOND);
        _assertStatus(false, START, START + FB_ACTIVITY, "claimed");
    }

    /// @dev The claimed prover proves in fallback, in time (SPEC 5.4): the proof is accepted, the
    ///      bond released (never slashed, not at the deadline either), the fee paid; the proof
    ///      records the fallback and counts as its activity (SPEC 6).
    function test_epochProof_ClaimedProverProvesInFallback_BondReleased() public {
        _claimedEpochOverlappingFallback();
        uint256 at = 110;
        _warpToSlot(at);
        _assertStatus(true, START, START + FB_ACTIVITY, "in fallback");
        uint256 held = bondAsset.balanceOf(address(escrow));

        EpochProofArgs memory a = _proofArgs(2, 3, prover);
        vm.expectEmit(address(rollup));
        emit IRollup.FallbackEntered(START);
        vm.expectEmit(address(escrow));
        emit IProverEscrow.BondUnstaked(prover, MIN_BOND);
        vm.expectEmit(address(rollup));
        emit IRollup.L2ProofVerified(2, 3, prover);
        vm.recordLogs();
        _submit(a);
        _assertNotSlashed(vm.getRecordedLogs());

        assertEq(rollup.getProvenBlockNumber(), 3, "proven tip");
        assertEq(rollup.getProofClaim(Epoch.wrap(2)).bondProvider, address(0), "claim kept");
        assertEq(escrow.stakedBalance(prover), 0, "bond still staked");
        assertEq(escrow.freeBalance(prover), 10 * MIN_BOND, "bond not back to free balance");
        assertEq(bondAsset.balanceOf(address(escrow)), held, "tokens left the escrow");
        // 3 blocks * 10 + fees 1 + 2 + 3 = 36 ether; the quote's fee is 2,000 bps; and the submitter
        // reward, which goes to the proof's prover.
        assertEq(rollup.rewardsOf(prover), 36 ether * 2000 / 10_000 + SUBMITTER_REWARD, "prover fee");
        _assertStatus(true, START, at + FB_ACTIVITY, "the proof is fallback activity");

        // The deadline passes: nothing to prune, nothing slashed.
        _warpToEpoch(4);
        assertFalse(rollup.canPrune());
        vm.expectRevert(Errors.Rollup__NothingToPrune.selector);
        rollup.prune();
        assertEq(escrow.freeBalance(prover), 10 * MIN_BOND);
        assertEq(escrow.slashedBalance(escrow.BURN_ADDRESS()), 0);
        assertEq(escrow.slashedBalance(slashRecipient), 0);
    }

    /// @dev The same claim, and the prover does not prove: fallback does not excuse it. Its proof
    ///      would be accepted up to the last slot of epoch 3; at the deadline it is refused and
    ///      the prune slashes the bond (SPEC 5.5 (b)).
    function test_epochProof_ClaimedProverSilentThroughFallback_SlashedAtDeadline() public {
        _claimedEpochOverlappingFallback();
        _warpToSlot(START);
        _assertStatus(true, START, START + FB_ACTIVITY, "fallback begins");
        _warpToSlot(4 * EPOCH_DURATION - 1); // slot 127, fallback over (117), proof still in time
        assertFalse(rollup.canPrune(), "pruned before the deadline");
        assertEq(escrow.stakedBalance(prover), MIN_BOND);

        _warpToEpoch(4); // slot 128: the deadline
        assertTrue(rollup.canPrune(), "deadline missed");
        EpochProofArgs memory a = _proofArgs(2, 3, prover);
        vm.expectRevert(
            abi.encodeWithSelector(Errors.Rollup__ProofDeadlinePassed.selector, Epoch.wrap(2), Epoch.wrap(4))
        );
        vm.prank(submitter);
        rollup.submitEpochRootProof(a);

        vm.expectEmit(address(rollup));
        emit IRollup.PrunedPending(0, 3);
        vm.expectEmit(address(rollup));
        emit IRollup.BondSlashed(2, prover, MIN_BOND);
        rollup.prune();
        assertEq(escrow.stakedBalance(prover), 0);
        assertEq(escrow.freeBalance(prover), 9 * MIN_BOND, "bond not slashed");
        assertEq(escrow.slashedBalance(escrow.BURN_ADDRESS()), MIN_BOND);
        assertEq(rollup.getPendingBlockNumber(), 0);
    }

    function _assertNotSlashed(Vm.Log[] memory logs) internal pure {
        for (uint256 i = 0; i < logs.length; ++i) {
            assertTrue(logs[i].topics[0] != IRollup.BondSlashed.selector, "slashed");
            assertTrue(logs[i].topics[0] != IProverEscrow.BondSlashed.selector, "slashed in escrow");
        }
    }

    /// @dev The dropped epoch was claimed and its proof is not late: the bond goes back to the
    ///      prover's free balance, nothing is slashed or burned, and the claim is deleted.
    function test_proposeWithProof_ReleasesLiveClaimOfDroppedBlocks() public {
        _fillEpoch(2, 3); // blocks 1..3 in slots 64, 66, 68
        _claimAt(2, 0, _signedQuote(2)); // slot 96
        assertEq(escrow.stakedBalance(prover), MIN_BOND);
        assertEq(escrow.freeBalance(prover), 9 * MIN_BOND);
        uint256 held = bondAsset.balanceOf(address(escrow));

        _warpToSlot(START);
        assertFalse(rollup.canPrune(), "the proof would still be in time");
        ProposeArgs memory fb = _fbArgs(START);
        bytes memory proof = _fbProof(fb, outsider);
        vm.expectEmit(address(rollup));
        emit IRollup.FallbackEntered(START);
        vm.expectEmit(address(rollup));
        emit IRollup.PrunedPending(0, 3);
        vm.expectEmit(address(escrow));
        emit IProverEscrow.BondUnstaked(prover, MIN_BOND);
        vm.expectEmit(address(rollup));
        emit IRollup.L2BlockProvenInFallback(1, outsider);
        vm.recordLogs();
        vm.prank(outsider);
        rollup.proposeWithProof(fb, proof);

        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i = 0; i < logs.length; ++i) {
            assertTrue(logs[i].topics[0] != IRollup.BondSlashed.selector, "slashed");
            assertTrue(logs[i].topics[0] != IProverEscrow.BondSlashed.selector, "slashed in escrow");
        }
        assertEq(escrow.stakedBalance(prover), 0, "bond still staked");
        assertEq(escrow.freeBalance(prover), 10 * MIN_BOND, "bond not back to free balance");
        assertEq(bondAsset.balanceOf(address(escrow)), held, "tokens left the escrow");
        assertEq(escrow.slashedBalance(escrow.BURN_ADDRESS()), 0);
        assertEq(escrow.slashedBalance(slashRecipient), 0);
        assertEq(rollup.getProofClaim(Epoch.wrap(2)).bondProvider, address(0), "claim kept");
        assertEq(rollup.getProvenBlockNumber(), 1);
        assertEq(rollup.getPendingBlockNumber(), 1);
    }
}

/// @notice FALLBACK_EXIT_ACTIVITY (60) longer than FALLBACK_EXIT_TOTAL (20): the total caps it.
contract FallbackTotalCapTest is FallbackBase {
    function setUp() public {
        _setUpFallback(0, FB_ENTER, 60, 20, 0);
    }

    function test_status_TotalCapsALongerActivityWindow() public {
        _assertStatus(false, 96, 116, "deployed");
        _warpToSlot(96);
        _assertStatus(true, 96, 116, "entered");
        _warpToSlot(110);
        _fallbackBlock(110);
        _assertStatus(true, 96, 116, "activity does not extend past the total");
        _warpToSlot(115);
        _fallbackBlock(115);
        _warpToSlot(116);
        _assertStatus(false, 116 + 96, 116 + 96 + 20, "ended by total");
        _expectFallbackRevert(_fbArgs(116), outsider, _notInFallback(212));
        // Idle cycles last 96 + min(60, 20).
        _warpToSlot(212 + 116 + 1);
        _assertStatus(true, 212 + 116, 212 + 116 + 20, "an idle cycle later");
    }

    /// @dev An epoch proof in fallback is activity, capped the same way: 100 + 60 is past
    ///      96 + 20, so fallback still ends at 116.
    function test_status_TotalCapsTheActivityOfAnEpochProof() public {
        _fillEpoch(2, 2); // no validators: anyone proposes
        _warpToSlot(100); // epoch 2's claim window (96..108), in fallback [96, 116)
        _submit(_proofArgs(2, 2, prover));
        assertEq(rollup.getProvenBlockNumber(), 2);
        _assertStatus(true, 96, 116, "activity does not extend past the total");
        _warpToSlot(115);
        _assertStatus(true, 96, 116, "slot 115");
        _warpToSlot(116);
        _assertStatus(false, 116 + 96, 116 + 96 + 20, "ended by total");
    }
}

/// @notice Fuzz: getFallbackStatus and what each entry point accepts follow an independent,
///         slot-by-slot model of the mode timeline, over fuzzed parameters, times and actions.
contract FallbackTimelineFuzzTest is FallbackBase {
    struct Model {
        bool active;
        uint256 progress; // anchor of the clock (deployment, proof, end of the last fallback)
        uint256 start;
        uint256 lastActivity; // fallback block or epoch proof in this fallback (its start if none)
    }

    mapping(uint256 blockNumber => uint256 slot) internal slotOf;

    function _end(Model memory m) internal view returns (uint256) {
        return _min(m.start + fbTotal, m.lastActivity + fbActivity);
    }

    /// @dev Steps the model one slot at a time over (from, to].
    function _advance(Model memory m, uint256 from, uint256 to) internal view {
        for (uint256 s = from + 1; s <= to; ++s) {
            if (m.active && s >= _end(m)) {
                m.active = false;
                m.progress = _end(m);
            }
            if (!m.active && s >= m.progress + fbEnter) {
                m.active = true;
                m.start = m.progress + fbEnter;
                m.lastActivity = m.start;
            }
        }
    }

    function _check(Model memory m, string memory label) internal view {
        if (m.active) {
            _assertStatus(true, m.start, _end(m), label);
        } else {
            _assertStatus(
                false, m.progress + fbEnter, m.progress + fbEnter + _min(fbActivity, fbTotal), label
            );
        }
    }

    /// @dev Next slot to visit: a random gap, exactly the model's next boundary, the slot before
    ///      it, or a slot of a claim window where an unclaimed epoch proof can land (that of the
    ///      epoch to prove when still ahead, else the next epoch's).
    function _target(Model memory m, uint256 now_, uint256 step) internal view returns (uint256) {
        uint256 mode = step % 4;
        uint256 r = step >> 16;
        uint256 boundary = m.active ? _end(m) : m.progress + fbEnter;
        if (mode == 0) return now_ + 1 + r % 200;
        if (mode == 1) return boundary;
        if (mode == 2) return boundary - 1 > now_ ? boundary - 1 : boundary;
        uint256 k = r % CLAIM_WINDOW;
        if (rollup.getPendingBlockNumber() > rollup.getProvenBlockNumber()) {
            uint256 window = (Epoch.unwrap(rollup.getEpochToProve()) + 1) * EPOCH_DURATION + k;
            if (window > now_) return window;
        }
        return (now_ / EPOCH_DURATION + 1) * EPOCH_DURATION + k;
    }

    /// @dev How often each outcome happened (a fuzz run that never reaches one proves nothing
    ///      about it): fallback block accepted / refused, committee block accepted / refused, epoch
    ///      proof accepted in normal mode / in fallback, syncFallback.
    uint256[7] internal seen;

    function testFuzz_timeline_MatchesModel(
        uint256 deploySeed,
        uint256 enterSeed,
        uint256 activitySeed,
        uint256 totalSeed,
        uint256[12] memory steps
    ) public {
        _runTimeline(deploySeed, enterSeed, activitySeed, totalSeed, steps);
    }

    /// @dev The same timeline over 48 fixed pseudo-random inputs, checking that every outcome the
    ///      fuzz test compares with the model does occur.
    function test_timeline_ReplayReachesEveryOutcome() public {
        for (uint256 k = 0; k < 48; ++k) {
            uint256[12] memory steps;
            for (uint256 i = 0; i < steps.length; ++i) {
                steps[i] = uint256(keccak256(abi.encode("step", k, i)));
            }
            _runTimeline(
                uint256(keccak256(abi.encode("deploy", k))),
                uint256(keccak256(abi.encode("enter", k))),
                uint256(keccak256(abi.encode("activity", k))),
                uint256(keccak256(abi.encode("total", k))),
                steps
            );
        }
        assertGt(seen[0], 0, "no fallback block accepted");
        assertGt(seen[1], 0, "no fallback block refused");
        assertGt(seen[2], 0, "no committee block accepted");
        assertGt(seen[3], 0, "no committee block refused");
        assertGt(seen[4], 0, "no epoch proof accepted in normal mode");
        assertGt(seen[5], 0, "no epoch proof accepted in fallback");
        assertGt(seen[6], 0, "no syncFallback");
        emit log_named_array("outcomes", _seen());
    }

    function _seen() internal view returns (uint256[] memory a) {
        a = new uint256[](seen.length);
        for (uint256 i = 0; i < seen.length; ++i) {
            a[i] = seen[i];
        }
    }

    function _runTimeline(
        uint256 deploySeed,
        uint256 enterSeed,
        uint256 activitySeed,
        uint256 totalSeed,
        uint256[12] memory steps
    ) internal {
        uint256 enter = _bound(enterSeed, 2 * EPOCH_DURATION + 1, 4 * EPOCH_DURATION);
        uint256 activity = _bound(activitySeed, 1, 2 * EPOCH_DURATION);
        uint256 total = _bound(totalSeed, 1, 3 * EPOCH_DURATION);
        uint256 deployAt = _bound(deploySeed, 0, 2 * EPOCH_DURATION); // the clock starts here
        _setUpFallback(deployAt, enter, activity, total, 0); // no validators: proposing is open

        Model memory m;
        m.progress = deployAt;
        uint256 now_ = deployAt;
        uint256 lastFallbackSlot = 0;
        for (uint256 i = 0; i < steps.length; ++i) {
            uint256 step = steps[i];
            uint256 target = _target(m, now_, step);
            _advance(m, now_, target);
            now_ = target;
            _warpToSlot(now_);
            _check(m, "before");

            // In a claim window (mode 3), try the epoch proof; elsewhere anything else.
            uint256 action = step % 4 == 3 ? 4 : (step >> 8) % 4;
            if (action == 1) {
                rollup.syncFallback();
                ++seen[6];
            } else if (action == 2) {
                lastFallbackSlot = _tryFallbackBlock(m, now_, lastFallbackSlot, step >> 32);
            } else if (action == 3) {
                _tryPropose(m, now_);
            } else if (action == 4) {
                // Then the committee in the same slot: a proof in fallback must not reopen it.
                if (_tryEpochProof(m, now_)) _tryPropose(m, now_);
            }
            _check(m, "after");
        }
    }

    /// @dev Returns the slot of the last fallback block made so far.
    function _tryFallbackBlock(Model memory m, uint256 now_, uint256 lastFallbackSlot, uint256 r)
        internal
        returns (uint256)
    {
        if (!m.active) {
            _expectFallbackRevert(_fbArgs(now_), outsider, _notInFallback(m.progress + fbEnter));
            ++seen[1];
            return lastFallbackSlot;
        }
        // Any slot in [start, now] after the last fallback block of this period.
        uint256 lo = lastFallbackSlot >= m.start ? lastFallbackSlot + 1 : m.start;
        uint256 slot = lo + r % (now_ - lo + 1);
        uint256 proven = rollup.getProvenBlockNumber();
        _fallbackBlock(slot);
        slotOf[proven + 1] = slot;
        m.lastActivity = now_;
        ++seen[0];
        assertEq(rollup.getProvenBlockNumber(), proven + 1, "fallback block not proven");
        assertEq(rollup.getPendingBlockNumber(), proven + 1, "pending above the fallback block");
        assertEq(
            rollup.getBlock(proven + 1).archive, keccak256(abi.encode("fallback archive", proven + 1, slot))
        );
        return slot;
    }

    function _tryPropose(Model memory m, uint256 now_) internal {
        if (m.active) {
            _expectProposeRevert(_inFallback(m.start, _end(m)));
            ++seen[3];
            return;
        }
        ProposeArgs memory args = _proposeNext();
        slotOf[args.blockNumber] = now_;
        ++seen[2];
    }

    /// @dev Returns whether a proof landed.
    function _tryEpochProof(Model memory m, uint256 now_) internal returns (bool) {
        uint256 proven = rollup.getProvenBlockNumber();
        uint256 pending = rollup.getPendingBlockNumber();
        if (pending == proven) return false;
        uint256 epoch = Epoch.unwrap(rollup.getEpochToProve());
        uint256 end = pending;
        while (end > proven + 1 && slotOf[end] / EPOCH_DURATION != epoch) --end;
        assertEq(slotOf[proven + 1] / EPOCH_DURATION, epoch, "epoch to prove");
        EpochProofArgs memory a = _proofArgs(epoch, end, prover);
        // Unclaimed: accepted in the claim window of the next epoch, in either mode (SPEC 5.4).
        if (now_ / EPOCH_DURATION != epoch + 1 || now_ % EPOCH_DURATION >= CLAIM_WINDOW) return false;
        _submit(a);
        assertEq(rollup.getProvenBlockNumber(), end);
        if (m.active) {
            // SPEC 6: advancing the proven chain in fallback is fallback activity.
            m.lastActivity = now_;
            ++seen[5];
        } else {
            // Proven progress: the clock restarts here.
            m.progress = now_;
            ++seen[4];
        }
        return true;
    }
}
