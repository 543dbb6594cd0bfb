// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {EpochProofArgs, RollupConfig} from "../../../contracts/interfaces/IRollup.sol";
import {Slot} from "../../../contracts/libraries/TimeLib.sol";
import {ProvingBase} from "../../harnesses/ProvingBase.sol";

/// @notice The call sequence behind FallbackInvariants' property "no bond is slashed for an epoch
///         whose valid proof was refused" (PROPERTIES.md, "Based fallback"), kept as a
///         deterministic reproduction of a bug since fixed.
/// @dev The fallback clock counts from the last proven progress, not from the epoch being proven:
///      after two epochs without a proof, fallback can begin inside the proof window of an epoch
///      the rollup has just let a prover claim. The first version of `submitEpochRootProof`
///      refused every proof in fallback (`Rollup__InFallback`), although SPEC 5.4 accepts it until
///      the end of epoch N+1; unless a fallback block landed before the deadline (its prune then
///      releases the claim), the prune after the deadline slashed the bond (SPEC 5.5 b) as if the
///      prover had failed, against the Rollup's constructor comment ("fallback must not begin
///      while an honest committee's epoch can still be proven in time") and docs/decisions.md.
///      Fixed: a proof is accepted in its window whatever the mode; in fallback it records the
///      fallback first and counts as fallback activity (SPEC 6). This test now passes: the proof
///      lands at slot 165, in fallback, and the bond goes back to the prover.
contract FallbackCutsClaimedProofWindowTest is ProvingBase {
    uint256 internal constant SPEC_FALLBACK_ENTER = 3 * EPOCH_DURATION; // SPEC 6's default

    function setUp() public {
        // No validators: proposing and claiming are open to anyone (SPEC 3 bootstrap), which keeps
        // the sequence short; a committee changes nothing below.
        _deployAssets();
        RollupConfig memory cfg = _config(K);
        cfg.fallbackEnter = SPEC_FALLBACK_ENTER;
        _deployFunded(cfg);
        (prover, proverKey) = makeAddrAndKey("prover");
        _depositBond(prover, 10 * MIN_BOND);
    }

    function test_claimedEpoch_provableUntilItsDeadline() public {
        // Epoch 1: a block; proven in epoch 2, slot 5 of it: the fallback clock restarts there
        // (slot 69), so fallback begins at slot 69 + 96 = 165, slot 5 of epoch 5.
        _warpToSlot(EPOCH_DURATION);
        _proposeNext();
        _warpToSlot(2 * EPOCH_DURATION + 5);
        _submit(_proofArgs(1, 1, prover));

        // Epochs 2 and 3: nothing. Epoch 4: a block, claimed in the first slot of epoch 5's claim
        // window, with a bond. Its proof is due by the end of epoch 5 (slot 192).
        _warpToSlot(4 * EPOCH_DURATION);
        _proposeNext();
        _claimAt(4, 0, _signedQuote(4));
        assertEq(escrow.stakedBalance(prover), MIN_BOND, "claim accepted, bond staked");
        assertEq(Slot.unwrap(rollup.getFallbackStatus().start), 165, "fallback begins before the deadline");

        // Slot 165, the first slot of fallback: the prover submits a valid proof of epoch 4, well
        // before its deadline. It must be accepted.
        _warpToSlot(5 * EPOCH_DURATION + 5);
        EpochProofArgs memory proof = _proofArgs(4, 2, prover);
        vm.prank(submitter);
        (bool accepted,) = address(rollup).call(abi.encodeCall(rollup.submitEpochRootProof, (proof)));

        // The deadline passes; anyone prunes (nothing to prune if the proof landed).
        _warpToEpoch(6);
        if (rollup.canPrune()) rollup.prune();
        assertEq(escrow.stakedBalance(prover), 0);
        assertEq(
            bondAsset.balanceOf(address(escrow)),
            10 * MIN_BOND,
            "bond slashed although the rollup refused its proof before the deadline"
        );
        assertTrue(accepted, "valid proof of a claimed epoch refused before its deadline");
        assertEq(escrow.freeBalance(prover), 10 * MIN_BOND, "bond not released");
        assertEq(rollup.getProvenBlockNumber(), 2, "proven tip");
    }
}
