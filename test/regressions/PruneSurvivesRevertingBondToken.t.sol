// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ProposeArgs} from "../../contracts/interfaces/IRollup.sol";
import {PausableToken} from "../harnesses/PausableToken.sol";
import {ProvingBase} from "../harnesses/ProvingBase.sol";

/// @notice F-06 (review, low): a reverting bond token halted the chain. The slash's token transfers
///         ran inside `prune`, which `propose`, claims and `proposeWithProof` call first, so a paused
///         or blocklisting bond token stopped L2 for as long as it stayed paused.
contract PruneSurvivesRevertingBondTokenTest is ProvingBase {
    PausableToken internal pausable;

    function setUp() public {
        _deployAssets();
        pausable = new PausableToken();
        bondAsset = pausable;
        _deployFunded(_config(K));
        (prover, proverKey) = makeAddrAndKey("prover");
        _depositBond(prover, 10 * MIN_BOND);
        // Epoch 0 gets blocks and a claim, and no proof: a slash is due from epoch 2.
        _fillEpoch(0, 2);
        _claimAt(0, 0, _signedQuote(0));
        _warpToEpoch(2);
        pausable.setPaused(true);
    }

    function test_proposeStillPrunesAndSlashesWhileTheBondTokenReverts() public {
        ProposeArgs memory args = _proposeNext();
        assertEq(args.blockNumber, 1, "the block did not build on the proven tip");
        assertEq(rollup.getPendingBlockNumber(), 1, "the chain did not move");
        assertEq(escrow.stakedBalance(prover), 0, "the bond was not slashed");
    }

    function test_pruneStillSlashesWhileTheBondTokenReverts() public {
        rollup.prune();
        assertEq(rollup.getPendingBlockNumber(), 0, "not pruned");
        assertEq(escrow.stakedBalance(prover), 0, "the bond was not slashed");

        // The slashed bond waits, booked, until the token moves again.
        address burn = escrow.BURN_ADDRESS();
        assertEq(escrow.slashedBalance(burn), MIN_BOND);
        vm.expectRevert(PausableToken.Paused.selector);
        escrow.withdrawSlashed(burn);
        pausable.setPaused(false);
        escrow.withdrawSlashed(burn);
        assertEq(pausable.balanceOf(burn), MIN_BOND);
        assertEq(escrow.slashedBalance(burn), 0);
    }
}
