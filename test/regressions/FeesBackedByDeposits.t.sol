// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {DEPOSIT_TAG} from "../../contracts/interfaces/IForcedInclusionQueue.sol";
import {EpochProofArgs, FeeRecipient, ProposeArgs} from "../../contracts/interfaces/IRollup.sol";
import {Errors} from "../../contracts/libraries/Errors.sol";
import {Epoch} from "../../contracts/libraries/TimeLib.sol";
import {ForcedBase} from "../harnesses/ForcedBase.sol";
import {ProvingBase} from "../harnesses/ProvingBase.sol";

/// @notice F-03 (review, high): declared fees drained the reward pool. A block's `fees` came from
///         txs that declare a number backed by nothing, and the Rollup paid them from the shared
///         reward pool with no cap: one block with a fee near the pool's balance took it all, and
///         every other booked reward became unpayable. Fees are now paid out of fee deposits only
///         (made through the queue, consumed by blocks like forced txs), block and submitter
///         rewards out of the funded pool only.
contract FeesBackedByDepositsTest is ForcedBase {
    address internal greedy = makeAddr("greedy coinbase");
    address internal honest = makeAddr("honest coinbase");
    address internal depositor = makeAddr("depositor");

    function setUp() public {
        _setUpForced(0); // no validators: anyone proposes
    }

    /// @dev The exploit: one block declares a fee the size of the reward pool.
    function test_aFeeNoDepositBacksCannotDrainTheRewardPool() public {
        _fillEpoch(0, 2);
        uint256 pool = rewardAsset.balanceOf(address(rollup));
        feeOf[1] = FeeRecipient({recipient: honest, value: 0});
        feeOf[2] = FeeRecipient({recipient: greedy, value: pool});
        _claimAt(0, 0, _signedQuote(0));
        EpochProofArgs memory a = _proofArgs(0, 2, prover);
        (, uint256 feePot) = rollup.getRewardBooks();
        vm.expectRevert(abi.encodeWithSelector(Errors.Rollup__FeesExceedDeposits.selector, feePot, pool));
        _submit(a);
        assertEq(rollup.getProvenBlockNumber(), 0);
    }

    /// @dev The real path: a deposit through the queue, taken by a block, backs exactly that much.
    function test_feesDepositedThroughTheQueueArePaidAndNoMore() public {
        (, uint256 before) = rollup.getRewardBooks();
        uint256 amount = 5 ether;
        rewardAsset.mint(depositor, amount);
        vm.deal(depositor, 1 ether);
        vm.startPrank(depositor);
        rewardAsset.approve(address(queue), amount);
        queue.depositFee{value: queue.enqueueFee(queue.DEPOSIT_LENGTH())}(greedy, amount);
        vm.stopPrank();
        (, uint256 feePot) = rollup.getRewardBooks();
        assertEq(feePot, before + amount, "the deposit backs fees");

        // The entry is the queue's head: a block takes it like a forced tx.
        queuedHashes.push(keccak256(abi.encodePacked(DEPOSIT_TAG, greedy, uint128(amount))));
        queuedDue.push(FORCED_DELAY);
        ProposeArgs memory args = _blockArgs(1, 1);
        _proposeBlock(args);

        // Every fee deposit is spent: a proof declaring one wei more is refused...
        feeOf[1] = FeeRecipient({recipient: greedy, value: feePot + 1});
        _warpToEpoch(1);
        EpochProofArgs memory a = _proofArgs(0, 1, prover);
        vm.expectRevert(
            abi.encodeWithSelector(Errors.Rollup__FeesExceedDeposits.selector, feePot, feePot + 1)
        );
        _submit(a);
        // ...and exactly all of it is paid (no claim: the proposer keeps the whole block).
        feeOf[1] = FeeRecipient({recipient: greedy, value: feePot});
        a = _proofArgs(0, 1, prover);
        _submit(a);
        uint256[] memory first = new uint256[](1);
        rollup.claimBlockRewards(Epoch.wrap(0), a.fees, first);
        assertEq(rollup.rewardsOf(greedy), BLOCK_REWARD + feePot);
        (, uint256 left) = rollup.getRewardBooks();
        assertEq(left, 0, "every deposit paid out");
    }
}

/// @notice F-03, the other half: block and submitter rewards come from the funded pool only.
contract RewardsFromTheFundedPoolOnlyTest is ProvingBase {
    address internal coinbase = makeAddr("coinbase");

    /// @dev Tokens sent to the Rollup fund nothing, and a pool that runs short pays every block of
    ///      the epoch and the submitter reward pro rata, never more than it holds.
    function test_aShortPoolPaysProRataAndPlainTransfersFundNothing() public {
        _deployAssets();
        (rollup, escrow) = _deployRollup(_config(K));
        uint256 wanted = 3 * BLOCK_REWARD + SUBMITTER_REWARD;
        _fundRewards(wanted / 4);
        rewardAsset.mint(address(rollup), 100 * wanted); // a plain transfer
        (prover, proverKey) = makeAddrAndKey("prover");

        _fillEpoch(0, 3);
        for (uint256 b = 1; b <= 3; ++b) {
            feeOf[b] = FeeRecipient({recipient: coinbase, value: 0});
        }
        _warpToEpoch(1);
        _submit(_proofArgs(0, 3, prover));
        uint256[] memory all = new uint256[](3);
        (all[1], all[2]) = (1, 2);
        rollup.claimBlockRewards(Epoch.wrap(0), _fees(1, 3), all);
        uint256 rewardBps = (wanted / 4) * 10_000 / wanted;
        uint256 perBlock = BLOCK_REWARD * rewardBps / 10_000;
        assertEq(rollup.getEpochRewards(Epoch.wrap(0)).blockReward, perBlock);
        assertEq(rollup.rewardsOf(coinbase), 3 * perBlock, "each block's reward, pro rata");
        assertEq(rollup.rewardsOf(prover), SUBMITTER_REWARD * rewardBps / 10_000, "the submitter's, pro rata");
        (uint256 left,) = rollup.getRewardBooks();
        assertEq(
            left, wanted / 4 - 3 * perBlock - SUBMITTER_REWARD * rewardBps / 10_000, "the pool's remainder"
        );
        assertLe(rollup.rewardsOf(coinbase) + rollup.rewardsOf(prover), wanted / 4, "paid more than funded");
    }
}
