// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {EpochProofArgs} from "../../contracts/interfaces/IRollup.sol";
import {ProvingBase} from "../harnesses/ProvingBase.sol";

/// @notice F-07 (review, info): the submitter reward could be front-run. It went to whoever landed
///         the proof, so anyone could copy a pending `submitEpochRootProof` from the mempool, land it
///         first and take the reward, and the prover's own transaction reverted.
contract ProofRewardNotStolenByCopyingTest is ProvingBase {
    address internal copier = makeAddr("copier");

    function setUp() public {
        _setUpProving(0);
        _fillEpoch(0, 3);
        _claimAt(0, 1, _signedQuote(0));
    }

    function test_copyingAPendingProofEarnsTheCopierNothing() public {
        EpochProofArgs memory a = _proofArgs(0, 3, prover);
        vm.prank(copier);
        rollup.submitEpochRootProof(a);
        assertEq(rollup.getProvenBlockNumber(), 3, "the copy did not land");
        assertEq(rollup.rewardsOf(copier), 0, "the copier took the submitter reward");
    }

    /// @dev The original, landing second, is refused before any proof verification: a few
    ///      thousand gas, not a proof's.
    function test_theLateOriginalCostsLittle() public {
        EpochProofArgs memory a = _proofArgs(0, 3, prover);
        vm.prank(copier);
        rollup.submitEpochRootProof(a);
        vm.prank(submitter);
        uint256 before = gasleft();
        (bool ok,) = address(rollup).call(abi.encodeCall(rollup.submitEpochRootProof, (a)));
        uint256 used = before - gasleft();
        assertFalse(ok, "a second proof of the same epoch landed");
        assertLt(used, 15_000, "the late original paid for more than a refusal");
    }
}
