// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ProverEscrow} from "../../contracts/core/ProverEscrow.sol";
import {Rollup} from "../../contracts/core/Rollup.sol";
import {IRollup, RollupConfig} from "../../contracts/interfaces/IRollup.sol";
import {Errors} from "../../contracts/libraries/Errors.sol";
import {Epoch} from "../../contracts/libraries/TimeLib.sol";
import {ProvingBase} from "../harnesses/ProvingBase.sol";

contract PruneTest is ProvingBase {
    uint256 internal constant E = 2;
    uint256 internal constant BLOCKS = 3;

    function setUp() public {
        _setUpProving(64);
        _fillEpoch(E, BLOCKS);
    }

    function _timeOfSlot(uint256 slot) internal view returns (uint256) {
        return genesis + slot * SLOT_DURATION;
    }

    /// @dev (a): unclaimed, the chain is due to be pruned from the first second of slot C.
    function test_prune_UnclaimedExactlyAtWindowEnd() public {
        vm.warp(_timeOfSlot((E + 1) * EPOCH_DURATION + CLAIM_WINDOW) - 1);
        assertFalse(rollup.canPrune());
        vm.expectRevert(Errors.Rollup__NothingToPrune.selector);
        rollup.prune();

        vm.warp(_timeOfSlot((E + 1) * EPOCH_DURATION + CLAIM_WINDOW));
        assertTrue(rollup.canPrune());
        vm.expectEmit(address(rollup));
        emit IRollup.PrunedPending(0, BLOCKS);
        rollup.prune();
        assertEq(rollup.getPendingBlockNumber(), 0);
        assertEq(escrow.freeBalance(prover), 10 * MIN_BOND, "no bond was at stake");
    }

    /// @dev (b): claimed, the chain is due to be pruned from the first second after epoch E + 1,
    ///      and the bond is slashed, all of it burned (SLASH_BURN_BPS = 10000).
    function test_prune_ClaimedExactlyAtProofDeadline() public {
        _claimAt(E, 0, _signedQuote(E));
        vm.warp(_timeOfSlot((E + 2) * EPOCH_DURATION) - 1);
        assertFalse(rollup.canPrune());

        vm.warp(_timeOfSlot((E + 2) * EPOCH_DURATION));
        assertTrue(rollup.canPrune());
        vm.expectEmit(address(rollup));
        emit IRollup.PrunedPending(0, BLOCKS);
        vm.expectEmit(address(rollup));
        emit IRollup.BondSlashed(E, prover, MIN_BOND);
        rollup.prune();

        assertEq(rollup.getPendingBlockNumber(), 0);
        assertEq(escrow.stakedBalance(prover), 0);
        assertEq(escrow.freeBalance(prover), 9 * MIN_BOND);
        assertEq(escrow.slashedBalance(escrow.BURN_ADDRESS()), MIN_BOND);
        assertEq(rollup.getProofClaim(Epoch.wrap(E)).bondProvider, address(0), "claim not deleted");
    }

    function test_prune_SlashSplitsBetweenBurnAndRecipient() public {
        RollupConfig memory cfg = _config(K);
        cfg.slashBurnBps = 7500;
        cfg.genesisTime = genesis; // same clock as the helpers; its committees are empty (open)
        (rollup, escrow) = _deployRollup(cfg);
        _depositBond(prover, 10 * MIN_BOND);
        _fillEpoch(E, 1);
        _claimAt(E, 0, _signedQuote(E));
        _warpToSlot((E + 2) * EPOCH_DURATION);
        rollup.prune();
        assertEq(escrow.slashedBalance(escrow.BURN_ADDRESS()), MIN_BOND * 3 / 4);
        assertEq(escrow.slashedBalance(slashRecipient), MIN_BOND / 4);
    }

    function test_prune_SlashesOnlyOnce() public {
        _claimAt(E, 0, _signedQuote(E));
        _warpToSlot((E + 2) * EPOCH_DURATION);
        rollup.prune();
        assertFalse(rollup.canPrune());
        vm.expectRevert(Errors.Rollup__NothingToPrune.selector);
        rollup.prune();
        assertEq(escrow.freeBalance(prover), 9 * MIN_BOND);
    }

    /// @dev With a claim, the window's end is not a reason to prune.
    function test_prune_ClaimedNotDueAfterWindow() public {
        _claimAt(E, 0, _signedQuote(E));
        _warpToSlot((E + 1) * EPOCH_DURATION + CLAIM_WINDOW + 5);
        assertFalse(rollup.canPrune());
    }

    function test_propose_PrunesFirstWhenDue() public {
        _warpToSlot((E + 1) * EPOCH_DURATION + CLAIM_WINDOW);
        rollup.setupEpoch(); // as the proposer's node does to learn it proposes; emits EpochSetUp
        vm.expectEmit(address(rollup));
        emit IRollup.PrunedPending(0, BLOCKS);
        _proposeNext();
        assertEq(rollup.getPendingBlockNumber(), 1);
        assertEq(rollup.getBlock(1).archive, keccak256(abi.encode("archive", 1)));
        assertEq(Epoch.unwrap(rollup.getEpochToProve()), E + 1);
    }

    /// @dev An epoch with no blocks needs no claim and no proof: nothing is pruned, and the chain
    ///      goes on from the proven tip.
    function test_emptyEpochsNeedNothing() public {
        _warpToSlot((E + 1) * EPOCH_DURATION);
        _claimAt(E, 0, _signedQuote(E));
        _submit(_proofArgs(E, BLOCKS, prover));
        _warpToSlot((E + 5) * EPOCH_DURATION);
        assertFalse(rollup.canPrune());
        vm.expectRevert(Errors.Rollup__NoEpochToProve.selector);
        rollup.getEpochToProve();
        _proposeNext();
        assertEq(rollup.getPendingBlockNumber(), BLOCKS + 1);
        assertEq(rollup.getProvenBlockNumber(), BLOCKS);
    }

    /// @dev Blocks of E + 1 are pruned with E: they build on it.
    function test_prune_TakesLaterBlocksWithIt() public {
        _warpToSlot((E + 1) * EPOCH_DURATION + 1);
        _proposeNext();
        _warpToSlot((E + 1) * EPOCH_DURATION + CLAIM_WINDOW);
        rollup.prune();
        assertEq(rollup.getPendingBlockNumber(), 0);
    }
}
