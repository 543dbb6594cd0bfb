// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {FeeRecipient, IRollup} from "../interfaces/IRollup.sol";
import {Errors} from "./Errors.sol";
import {Epoch} from "./TimeLib.sol";

/// @title RewardLib
/// @notice What the Rollup pays and from where (SPEC 5.4, docs/proving.md "Economics"): block and
///         submitter rewards come out of a funded reward pool, fees out of the fee deposits users
///         made through the forced-inclusion queue, and nothing out of anything else. A linked
///         library (external functions, DELEGATECALL on the Rollup's storage), like StakingLib.
/// @dev Solvency (F-03 of the review): every booking is taken from one of two counters when an
///      epoch is proven, `rewardPool` (what `fund` pulled in) and `feePot` (what fee deposits
///      brought in), and what is later paid out per block never exceeds what was taken for its
///      epoch (every share is rounded down). So the reward token the Rollup holds always covers
///      rewardPool + feePot + everything booked and not yet withdrawn; the invariant suites check
///      it against arbitrary declared fees. A proof whose fees exceed the fee deposits is refused:
///      with a sound proof system it cannot happen (an L2 tx whose fee exceeds its payer's
///      balance is invalid, and every balance comes from a deposit), so only a proof of a false
///      statement meets that revert.
library RewardLib {
    using SafeERC20 for IERC20;

    uint256 internal constant BPS = 10_000;

    /// @dev Two slots per proven epoch.
    struct EpochRecord {
        bytes32 feesHash; // keccak256(abi.encode(fees)) of the proof (zero: epoch not proven)
        uint16 proposerShareBps; // BPS - the claim's basisPointFee
        uint16 rewardBps; // share of BLOCK_REWARD its blocks earn: BPS unless the pool ran short
        uint224 claimed; // bit i: block i of the epoch has been paid
    }

    /// @dev One slot, read and written once per proof.
    struct Books {
        uint128 rewardPool; // funded and not yet booked
        uint128 feePot; // fee deposits not yet paid out as fees
    }

    struct Store {
        mapping(Epoch => EpochRecord) epochs;
        mapping(address owner => uint256) rewardsOf;
        Books books;
    }

    /// @notice Pulls `amount` of the reward asset from the caller into the reward pool.
    function fund(Store storage s, IERC20 asset, uint256 amount) external {
        require(amount != 0, Errors.Rollup__ZeroAmount());
        uint256 before = asset.balanceOf(address(this));
        asset.safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = asset.balanceOf(address(this)) - before;
        require(received == amount, Errors.Rollup__AmountNotReceived(amount, received));
        s.books.rewardPool += SafeCast.toUint128(amount);
        emit IRollup.RewardsFunded(msg.sender, amount);
    }

    /// @notice Books a proven epoch: reserves its block rewards (all of them, or what the pool has
    ///         left, pro rata) and its fees (refused beyond the deposits), pays the prover its
    ///         `proverBps` of the epoch's total and the submitter reward, and records what the
    ///         proposers may claim per block.
    function bookEpoch(
        Store storage s,
        Epoch epoch,
        FeeRecipient[] calldata fees,
        bytes32 feesHash,
        uint256 blockReward,
        uint256 submitterReward,
        address prover,
        uint256 proverBps
    ) external {
        uint256 blocks = fees.length;
        uint256 feeSum = 0;
        for (uint256 i = 0; i < blocks; ++i) {
            feeSum += fees[i].value;
        }
        Books memory b = s.books;
        require(feeSum <= b.feePot, Errors.Rollup__FeesExceedDeposits(b.feePot, feeSum));
        uint256 wanted = blocks * blockReward + submitterReward;
        uint256 rewardBps = wanted <= b.rewardPool ? BPS : uint256(b.rewardPool) * BPS / wanted;
        uint256 perBlock = blockReward * rewardBps / BPS;
        uint256 toSubmitter = submitterReward * rewardBps / BPS;
        uint256 epochTotal = blocks * perBlock + feeSum;
        // Rounded down, so at most the pool: blocks * floor(r * R) + floor(r * S) <= r * wanted;
        // and feeSum <= feePot: both fit the uint128 they come out of.
        b.rewardPool -= uint128(blocks * perBlock + toSubmitter);
        b.feePot -= uint128(feeSum);
        s.books = b;
        s.epochs[epoch] = EpochRecord({
            feesHash: feesHash,
            proposerShareBps: uint16(BPS - proverBps),
            rewardBps: uint16(rewardBps),
            claimed: 0
        });
        // The submitter reward goes to the prover the proof binds, not to msg.sender: a copy of a
        // pending proof transaction landed first earns its sender nothing (F-07).
        _accrue(s, prover, epochTotal * proverBps / BPS + toSubmitter);
    }

    /// @notice Books the proposers' share of blocks `indices` of a proven epoch, each once.
    function claimBlockRewards(
        Store storage s,
        Epoch epoch,
        FeeRecipient[] calldata fees,
        uint256[] calldata indices,
        uint256 blockReward
    ) external {
        EpochRecord memory r = s.epochs[epoch];
        require(r.feesHash != bytes32(0), Errors.Rollup__EpochNotProven(epoch));
        bytes32 actual = keccak256(abi.encode(fees));
        require(actual == r.feesHash, Errors.Rollup__InvalidFees(r.feesHash, actual));
        uint256 perBlock = blockReward * r.rewardBps / BPS;
        uint256 claimed = r.claimed;
        for (uint256 i = 0; i < indices.length; ++i) {
            uint256 index = indices[i];
            require(index < fees.length, Errors.Rollup__BlockIndexOutOfRange(fees.length, index));
            require(claimed & (1 << index) == 0, Errors.Rollup__RewardAlreadyClaimed(epoch, index));
            claimed |= 1 << index;
            _accrue(s, fees[index].recipient, (perBlock + fees[index].value) * r.proposerShareBps / BPS);
        }
        // The proof's fees list has one entry per block, at most MAX_EPOCH_DURATION = 224.
        s.epochs[epoch].claimed = uint224(claimed);
    }

    /// @notice Transfers the caller's booked rewards to `to`.
    function withdraw(Store storage s, IERC20 asset, address to) external {
        uint256 amount = s.rewardsOf[msg.sender];
        require(amount != 0, Errors.Rollup__NoRewards(msg.sender));
        s.rewardsOf[msg.sender] = 0;
        asset.safeTransfer(to, amount);
        emit IRollup.RewardsWithdrawn(msg.sender, to, amount);
    }

    function _accrue(Store storage s, address to, uint256 amount) private {
        if (amount == 0) return;
        s.rewardsOf[to] += amount;
        emit IRollup.RewardsAccrued(to, amount);
    }
}
