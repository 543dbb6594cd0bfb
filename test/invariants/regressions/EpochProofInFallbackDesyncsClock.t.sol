// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {
    CommitteeAttestations,
    FallbackStatus,
    ProposeArgs,
    RollupConfig
} from "../../../contracts/interfaces/IRollup.sol";
import {Errors} from "../../../contracts/libraries/Errors.sol";
import {Slot} from "../../../contracts/libraries/TimeLib.sol";
import {ProvingBase} from "../../harnesses/ProvingBase.sol";

/// @notice The call sequence behind FallbackInvariants' failure "invalid call succeeded: propose
///         (expected InFallback)" (shrunk to: warp, propose, submitProof in fallback, propose), and
///         two more symptoms of the same cause, as deterministic reproductions of a bug since
///         fixed. They pass on the current contracts and guard against its return: an epoch proof
///         landing in fallback must count as that fallback's activity and must not move the clock
///         that decides when the next fallback begins (test/Rollup/fallback.t.sol checks the same
///         in test_enter_CommitteeRefusedUntilTheEndAnEpochProofMoved,
///         test_clock_EpochProofAfterAFallbackItExtendedRestartsIt and the timeline fuzz).
/// @dev What went wrong, for the record. `submitEpochRootProof` had just been made to accept a
///      proof in fallback: it recorded the fallback, counted the proof as its activity, and then
///      also set `Liveness.progressSlot` to now. Two shortcuts read
///      `progressSlot + FALLBACK_ENTER > now` as "fallback cannot have begun, skip the clock":
///      `_requireNoFallback` (propose, proposeAndClaim, claims) and `submitEpochRootProof` itself.
///      That held while only the clock's own sync (which anchors progressSlot FALLBACK_ENTER before
///      the recorded start) and proofs outside fallback moved progressSlot. After a proof in
///      fallback, for FALLBACK_ENTER slots:
///      1. the committee proposes (and claims) while `getFallbackStatus()` says fallback is on and
///         fallback blocks are accepted in the same slots (SPEC 6: committee blocks are refused);
///      2. a second epoch proof in the same fallback is not counted as its activity (the skipped
///         sync leaves `inFallback` false), so the fallback ends early;
///      3. a proof after that fallback ended does not restart the clock: the sync is skipped, the
///         ended period stays recorded, and `_fallbackAt` anchors normal mode at its end rather
///         than at the proof, so the next fallback begins early (and the committee, whose
///         shortcut reads the new progressSlot, is not refused in it).
///      The fix, in the contracts since: `submitEpochRootProof` writes
///      `fallbackPeriod.lastActivity = now` when in fallback and `progressSlot = now` only otherwise
///      (as `proposeWithProof` leaves progressSlot alone), which keeps the shortcut sound.
///      Setting: no validators (anyone proposes and claims), SPEC 6's default FALLBACK_ENTER (96)
///      and RollupBase's FALLBACK_EXIT_ACTIVITY 32 and FALLBACK_EXIT_TOTAL 64.
contract EpochProofInFallbackDesyncsClockTest is ProvingBase {
    uint256 internal constant ENTER = 3 * EPOCH_DURATION; // 96
    uint256 internal constant START = 69 + ENTER; // 165: fallback after the proof at slot 69
    uint256 internal constant PROOF_SLOT = START + 1; // 166: the proof in fallback

    function setUp() public {
        _deployAssets();
        RollupConfig memory cfg = _config(K);
        cfg.fallbackEnter = ENTER;
        _deployFunded(cfg);
        (prover, proverKey) = makeAddrAndKey("prover");
        _depositBond(prover, 10 * MIN_BOND);
    }

    /// @dev Block 1 (epoch 1) proven at slot 69; block 2 in epoch 4, block 3 at slot 160 (epoch 5),
    ///      epoch 4 claimed at 160; fallback begins at 165 and the claimed proof lands at 166, in
    ///      it: fallback now ends at min(166 + 32, 165 + 64) = 198.
    function _proofInFallback() internal {
        _warpToSlot(EPOCH_DURATION);
        _proposeNext();
        _warpToSlot(69);
        _submit(_proofArgs(1, 1, prover));
        _warpToSlot(4 * EPOCH_DURATION);
        _proposeNext(); // block 2
        _warpToSlot(5 * EPOCH_DURATION);
        _proposeNext(); // block 3
        _claimAt(4, 0, _signedQuote(4)); // slot 160
        _warpToSlot(PROOF_SLOT);
        _assertStatus(true, START, START + FALLBACK_EXIT_ACTIVITY, "fallback before the proof");
        _submit(_proofArgs(4, 2, prover));
        assertEq(rollup.getProvenBlockNumber(), 2, "the proof in fallback is accepted");
        _assertStatus(true, START, PROOF_SLOT + FALLBACK_EXIT_ACTIVITY, "the proof is activity");
    }

    /// @dev Symptom 1: the committee is not refused in fallback after an epoch proof.
    function test_committeeRefusedInFallbackAfterAnEpochProof() public {
        _proofInFallback();
        _warpToSlot(170);
        _assertStatus(true, START, 198, "slot 170");
        ProposeArgs memory args = _nextArgs();
        CommitteeAttestations memory att = _quorumAttest(args);
        address p = _proposer();
        vm.expectRevert(abi.encodeWithSelector(Errors.Rollup__InFallback.selector, START, 198));
        vm.prank(p);
        rollup.propose(args, att);
    }

    /// @dev Symptom 2: a second epoch proof in the same fallback is its activity too. Epoch 5's
    ///      (unclaimed) proof at slot 193, in epoch 6's claim window: fallback ends at
    ///      min(193 + 32, 165 + 64) = 225, not at 198.
    function test_secondEpochProofInTheSameFallbackIsActivity() public {
        _proofInFallback();
        _warpToSlot(193);
        _submit(_proofArgs(5, 3, prover));
        assertEq(rollup.getProvenBlockNumber(), 3);
        _assertStatus(true, START, 225, "the second proof is activity");
    }

    /// @dev Symptom 3: a proof after the fallback ended (198) is proven progress: the next
    ///      fallback begins 96 slots after it (slot 200: 296), not after the end (294).
    function test_epochProofAfterTheFallbackRestartsTheClock() public {
        _proofInFallback();
        _warpToSlot(200);
        _assertStatus(false, 198 + ENTER, 198 + ENTER + FALLBACK_EXIT_ACTIVITY, "slot 200");
        _submit(_proofArgs(5, 3, prover));
        assertEq(rollup.getProvenBlockNumber(), 3);
        _assertStatus(false, 200 + ENTER, 200 + ENTER + FALLBACK_EXIT_ACTIVITY, "clock restarted");
    }

    function _assertStatus(bool active, uint256 start, uint256 end, string memory label) internal view {
        FallbackStatus memory fs = rollup.getFallbackStatus();
        assertEq(fs.active, active, string.concat(label, ": active"));
        assertEq(Slot.unwrap(fs.start), start, string.concat(label, ": start"));
        assertEq(Slot.unwrap(fs.end), end, string.concat(label, ": end"));
    }
}
