// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {
    CommitteeAttestations,
    EpochProofArgs,
    IRollup,
    ProposeArgs,
    ValidatorStatus
} from "../../contracts/interfaces/IRollup.sol";
import {Errors} from "../../contracts/libraries/Errors.sol";
import {Epoch} from "../../contracts/libraries/TimeLib.sol";
import {FallbackBase} from "../harnesses/FallbackBase.sol";

/// @notice The committee stops: the chain must stay live through based fallback (SPEC 6).
///
///         Parameters: 32-slot epochs, claim window 13, FALLBACK_ENTER = 96 slots (3 epochs, the
///         SPEC default), FALLBACK_EXIT_ACTIVITY = 16, FALLBACK_EXIT_TOTAL = 48. Eight validators
///         are staked at deployment, so epochs 0 and 1 have no committee (bootstrap: anyone may
///         propose) and the committee runs from epoch 2.
///
///         Common prologue (`_committeeRunsThenStops`):
///           slots 32, 34   blocks 1, 2 (bootstrap)
///           slot 64        a committee member claims epoch 1 with the prover's quote
///           slot 70        the proof lands: proven tip 2, the fallback clock restarts at 70,
///                          so fallback would begin at 70 + 96 = 166
///           slots 72, 74   the committee proposes blocks 3, 4 ... and then stops: no more
///                          blocks, no claim, no proof (until a story brings it back).
contract StoppedCommitteeTest is FallbackBase {
    uint256 internal constant PROOF_SLOT = 70;
    uint256 internal constant START = PROOF_SLOT + FB_ENTER; // 166

    function setUp() public {
        _setUpFallback(0, FB_ENTER, FB_ACTIVITY, FB_TOTAL, 8);
    }

    function _committeeRunsThenStops() internal {
        _fillEpoch(1, 2);
        _claimAt(1, 0, _signedQuote(1));
        _warpToSlot(PROOF_SLOT);
        _submit(_proofArgs(1, 2, prover));
        assertEq(rollup.getProvenBlockNumber(), 2);
        _warpToSlot(72);
        _proposeNext();
        _warpToSlot(74);
        _proposeNext();
        assertEq(rollup.getPendingBlockNumber(), 4);
        _assertStatus(false, START, START + FB_ACTIVITY, "committee stopped");
    }

    /// @dev An outsider keeps the chain going through fallback; when it stops, the activity rule
    ///      hands the chain back to the committee, which then works as before.
    function test_story_OutsiderCarriesTheChain_ActivityRuleEndsFallback() public {
        _committeeRunsThenStops();

        // Epoch 2's blocks are never claimed: once epoch 3's claim window closes (slot 109)
        // anyone prunes them. The proven tip (block 2) does not move, so neither does the clock.
        _warpToSlot(3 * EPOCH_DURATION + CLAIM_WINDOW);
        rollup.prune();
        assertEq(rollup.getPendingBlockNumber(), 2);

        // Slot 165, one short of the threshold: still normal mode, fallback blocks refused.
        _warpToSlot(START - 1);
        _assertStatus(false, START, START + FB_ACTIVITY, "slot 165");
        _expectFallbackRevert(_fbArgs(START - 1), outsider, _notInFallback(START));

        // Slot 166: 96 slots since the proven chain last moved, fallback begins.
        _warpToSlot(START);
        _assertStatus(true, START, START + FB_ACTIVITY, "slot 166");
        _expectProposeRevert(_inFallback(START, START + FB_ACTIVITY));

        // The outsider has no stake and no bond: a block with its proof is all it needs.
        assertEq(uint256(rollup.getValidator(outsider).status), uint256(ValidatorStatus.NONE));
        assertEq(escrow.freeBalance(outsider), 0);
        assertEq(escrow.stakedBalance(outsider), 0);
        ProposeArgs memory b3 = _fbArgs(START);
        bytes memory proof = _fbProof(b3, outsider);
        vm.expectEmit(address(rollup));
        emit IRollup.FallbackEntered(START);
        vm.expectEmit(address(rollup));
        emit IRollup.L2BlockProposed(3, b3.archive, START);
        vm.expectEmit(address(rollup));
        emit IRollup.L2BlockProvenInFallback(3, outsider);
        vm.prank(outsider);
        rollup.proposeWithProof(b3, proof);
        assertEq(rollup.getProvenBlockNumber(), 3, "the proven tip moved");
        assertEq(rollup.getPendingBlockNumber(), 3);

        // Two more: one backdated to slot 170 (sent at 175), one at 180. Each moves the proven
        // tip and pushes the end to 16 slots after it lands (within 166 + 48 = 214).
        _warpToSlot(175);
        _fallbackBlock(170);
        _assertStatus(true, START, 191, "after block 4");
        _warpToSlot(180);
        _fallbackBlock(180);
        _assertStatus(true, START, 196, "after block 5");
        assertEq(rollup.getProvenBlockNumber(), 5);

        // The outsider stops. Slot 195: still fallback, the committee is still shut out.
        _warpToSlot(195);
        _expectProposeRevert(_inFallback(START, 196));

        // Slot 196 = 180 + 16: fallback is over. The outsider is refused; the committee's first
        // block records the exit. The next fallback would come 96 slots after this end.
        _warpToSlot(196);
        _assertStatus(false, 196 + FB_ENTER, 196 + FB_ENTER + FB_ACTIVITY, "slot 196");
        _expectFallbackRevert(_fbArgs(196), outsider, _notInFallback(196 + FB_ENTER));
        (ProposeArgs memory args, CommitteeAttestations memory att, address p) = _prepPropose();
        vm.expectEmit(address(rollup));
        emit IRollup.FallbackExited(196);
        vm.expectEmit(address(rollup));
        emit IRollup.L2BlockProposed(6, args.archive, 196);
        vm.prank(p);
        rollup.propose(args, att);

        // Back to normal: block 7, a claim in epoch 7's window, and an epoch proof that builds on
        // the outsider's last block and restarts the clock.
        _warpToSlot(198);
        _proposeNext();
        assertEq(Epoch.unwrap(rollup.getEpochToProve()), 6);
        _claimAt(6, 0, _signedQuote(6));
        _warpToSlot(230);
        EpochProofArgs memory a = _proofArgs(6, 7, prover);
        assertEq(a.previousArchive, rollup.getBlock(5).archive);
        _submit(a);
        assertEq(rollup.getProvenBlockNumber(), 7);
        _assertStatus(false, 230 + FB_ENTER, 230 + FB_ENTER + FB_ACTIVITY, "clock restarted");
    }

    /// @dev The outsider never pauses more than 10 slots, yet fallback ends at 166 + 48 = 214 and
    ///      the committee gets the chain back.
    function test_story_TotalRuleEndsFallbackWhileOutsiderKeepsGoing() public {
        _committeeRunsThenStops();

        // The first fallback block also drops the committee's stale blocks 3, 4.
        uint256[6] memory at = [START, uint256(176), 186, 196, 206, START + FB_TOTAL - 1];
        for (uint256 i = 0; i < at.length; ++i) {
            _warpToSlot(at[i]);
            _fallbackBlock(at[i]);
            assertEq(rollup.getProvenBlockNumber(), 3 + i);
        }
        _assertStatus(true, START, START + FB_TOTAL, "activity cannot extend it past the total");

        _warpToSlot(START + FB_TOTAL); // 214
        uint256 next = START + FB_TOTAL + FB_ENTER;
        _assertStatus(false, next, next + FB_ACTIVITY, "slot 214");
        _expectFallbackRevert(_fbArgs(START + FB_TOTAL), outsider, _notInFallback(next));

        (ProposeArgs memory args, CommitteeAttestations memory att, address p) = _prepPropose();
        vm.expectEmit(address(rollup));
        emit IRollup.FallbackExited(START + FB_TOTAL);
        vm.prank(p);
        rollup.propose(args, att);
        assertEq(rollup.getPendingBlockNumber(), 9);
        assertEq(rollup.getProvenBlockNumber(), 8);
    }

    /// @dev SPEC 6: the mode of a block is fixed when it is made. Fallback blocks are proven on
    ///      arrival and stay so: later prunes (by the clock or by the next fallback) cut the chain
    ///      back to them, never below, and the forced entry one of them carried stays included.
    function test_story_ModeOfABlockIsFixedWhenMade() public {
        _committeeRunsThenStops();

        // A user forces a tx in epoch 3; it is due from epoch 5 (slot 160).
        _warpToSlot(100);
        bytes32 h = _force("censored by the committee");

        // Fallback: block 3 must carry the due entry; block 4 is backdated to 168.
        _warpToSlot(START);
        _expectFallbackRevert(
            _fbArgs(START),
            outsider,
            abi.encodeWithSelector(Errors.Rollup__ForcedTxsDue.selector, Epoch.wrap(5), Epoch.wrap(5))
        );
        _proposeWithProof(_withForced(_fbArgs(START), _one(h), 1), outsider);
        _warpToSlot(170);
        _fallbackBlock(168);
        bytes32 a3 = rollup.getBlock(3).archive;
        bytes32 a4 = rollup.getBlock(4).archive;
        assertEq(queue.head(), 1);
        vm.expectRevert(Errors.Rollup__NoEpochToProve.selector); // every block is proven
        rollup.getEpochToProve();

        // Fallback ends at 170 + 16 = 186. The committee comes back for two blocks of epoch 6 and
        // stops again; the epoch to prove is theirs (6), not the fallback blocks' (5).
        _warpToSlot(192);
        _proposeNext();
        _warpToSlot(194);
        _proposeNext();
        assertEq(Epoch.unwrap(rollup.getEpochToProve()), 6);
        assertEq(rollup.getPendingBlockNumber(), 6);

        // Nobody claims epoch 6: when epoch 7's claim window closes, the chain is cut back to the
        // proven tip, which is the fallback block 4.
        _warpToSlot(7 * EPOCH_DURATION + CLAIM_WINDOW);
        vm.expectEmit(address(rollup));
        emit IRollup.PrunedPending(4, 6);
        rollup.prune();
        assertEq(rollup.getPendingBlockNumber(), 4);
        assertEq(rollup.getProvenBlockNumber(), 4);
        assertEq(rollup.getBlock(3).archive, a3);
        assertEq(rollup.getBlock(4).archive, a4);
        assertEq(queue.head(), 1, "the fallback block's forced entry was requeued");

        // The clock was anchored at the end of the first fallback (186): the next begins at 282.
        // A committee block proposed before it is dropped by the next fallback block, down to the
        // older fallback blocks and no further.
        _warpToSlot(270);
        _proposeNext();
        _warpToSlot(281);
        _assertStatus(false, 282, 298, "slot 281");
        _warpToSlot(282);
        ProposeArgs memory b5 = _fbArgs(282);
        bytes memory proof = _fbProof(b5, outsider);
        vm.expectEmit(address(rollup));
        emit IRollup.FallbackEntered(282);
        vm.expectEmit(address(rollup));
        emit IRollup.PrunedPending(4, 5);
        vm.prank(outsider);
        rollup.proposeWithProof(b5, proof);
        assertEq(rollup.getProvenBlockNumber(), 5);
        assertEq(rollup.getBlock(3).archive, a3);
        assertEq(rollup.getBlock(4).archive, a4);
        assertEq(rollup.getBlock(5).archive, b5.archive);
        assertEq(queue.head(), 1);
    }
}
