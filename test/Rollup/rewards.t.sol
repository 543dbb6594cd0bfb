// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IRollup, RollupConfig} from "../../contracts/interfaces/IRollup.sol";
import {Errors} from "../../contracts/libraries/Errors.sol";
import {FeeOnTransferToken} from "../harnesses/FeeOnTransferToken.sol";
import {RollupBase} from "../harnesses/RollupBase.sol";

/// @notice The Rollup's books (RewardLib): the reward pool and the fee deposits.
contract RewardBooksTest is RollupBase {
    address internal funder = makeAddr("funder");

    function setUp() public {
        _deploy();
    }

    function test_fundRewards_PullsIntoThePoolOnly() public {
        (uint256 pool, uint256 feePot) = rollup.getRewardBooks();
        rewardAsset.mint(funder, 5 ether);
        vm.startPrank(funder);
        rewardAsset.approve(address(rollup), 5 ether);
        vm.expectEmit(address(rollup));
        emit IRollup.RewardsFunded(funder, 5 ether);
        rollup.fundRewards(5 ether);
        vm.stopPrank();
        (uint256 pool2, uint256 feePot2) = rollup.getRewardBooks();
        assertEq(pool2, pool + 5 ether);
        assertEq(feePot2, feePot, "funding the pool backs no fee");
        assertEq(rewardAsset.balanceOf(funder), 0);
    }

    function test_fundRewards_RevertWhen_ZeroOrBeyondUint128() public {
        vm.expectRevert(Errors.Rollup__ZeroAmount.selector);
        rollup.fundRewards(0);
        uint256 huge = uint256(type(uint128).max) + 1;
        rewardAsset.mint(funder, huge);
        vm.startPrank(funder);
        rewardAsset.approve(address(rollup), huge);
        vm.expectRevert(abi.encodeWithSelector(SafeCast.SafeCastOverflowedUintDowncast.selector, 128, huge));
        rollup.fundRewards(huge);
        vm.stopPrank();
    }

    /// @dev Only the queue reports fee deposits: anyone else would back fees with nothing.
    function test_feesDeposited_RevertWhen_NotTheQueue() public {
        vm.expectRevert(abi.encodeWithSelector(Errors.Rollup__NotQueue.selector, address(queue), funder));
        vm.prank(funder);
        rollup.feesDeposited(1 ether);
    }

    /// @dev A fee-on-transfer reward asset would leave the pool claiming more than arrived.
    function test_fundRewards_RevertWhen_LessArrives() public {
        FeeOnTransferToken fot = new FeeOnTransferToken();
        _deployAssets();
        // A queue and rollup whose reward (and fee) asset is the fee-on-transfer token.
        RollupConfig memory cfg = _config(K);
        cfg.rewardAsset = address(fot);
        (rollup, escrow) = _deployRollup(cfg);
        fot.mint(funder, 100);
        vm.startPrank(funder);
        fot.approve(address(rollup), 100);
        vm.expectRevert(abi.encodeWithSelector(Errors.Rollup__AmountNotReceived.selector, 100, 99));
        rollup.fundRewards(100);
        vm.stopPrank();
    }
}
