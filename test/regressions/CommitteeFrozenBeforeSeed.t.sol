// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Epoch, Slot} from "../../contracts/libraries/TimeLib.sol";
import {RollupBase} from "../harnesses/RollupBase.sol";

/// @notice F-01 (review, high): the committee could be ground. Setting up epoch E fixed the seed of
///         epoch E+2, whose committee is drawn from the set keyed E+1, which still takes every stake
///         and exit made during E: anyone who read the seed could pick stakes or exits that moved
///         seats (claim-window proposers included) to itself. SPEC 3: a committee's seed is fixed
///         only after its validator set is final.
/// @dev Black-box: whether the committee of epoch N is already determined at some moment is found
///      by replaying the future twice with different randomness (prevrandao at every later setup);
///      if both futures give the same committee, its seed is known now, and then no set change made
///      now may move it. The committee of E+1 must be determined (one full epoch of lookahead).
contract CommitteeFrozenBeforeSeedTest is RollupBase {
    uint256 internal constant SMALL_K = 4;
    uint256 internal constant VALIDATORS = 8;
    /// @dev An epoch well after the validators joined (they sit on committees from epoch 2).
    uint256 internal constant E = 4;

    function setUp() public {
        _deploy(SMALL_K);
        _stakeValidators(VALIDATORS);
        // An active chain: every epoch is set up in its first second.
        for (uint256 e = 0; e <= E; ++e) {
            _setUpAt(e, 0);
        }
    }

    /// @dev Fuzzed over when in epoch E the change is made and what it is (1-4 stakes, any exits).
    function testFuzz_setChangeAfterSeedIsKnownCannotMoveTheCommittee(
        uint256 when,
        uint256 stakes,
        uint256 exitMask
    ) public {
        vm.warp(block.timestamp + bound(when, 0, EPOCH_DURATION * SLOT_DURATION - 1));
        stakes = bound(stakes, 1, 4);
        for (uint256 n = E + 1; n <= E + 2; ++n) {
            uint256 snap = vm.snapshotState();
            bytes32 a = _committeeLater(n, 1);
            vm.revertToState(snap);
            bytes32 b = _committeeLater(n, 2);
            vm.revertToState(snap);
            if (n == E + 1) assertEq(a, b, "the next epoch's committee is not known a full epoch ahead");
            // Still open: the committee of n depends on randomness to come, so grinding it now is
            // pointless.
            if (a != b) continue;
            _changeSet(stakes, exitMask);
            bytes32 c = _committeeLater(n, 1);
            vm.revertToState(snap);
            assertEq(c, a, "a set change made after the seed was known moved the committee");
        }
    }

    /// @dev The lookahead SPEC 3 promises still holds: in the first L1 block of epoch N-1, once that
    ///      epoch is set up, the committee of N and every proposer of N are known, and they are the
    ///      ones N runs with, whatever changes the set in between.
    function test_nextCommitteeIsKnownFromTheFirstBlockOfTheEpochBefore() public {
        uint256 n = E + 2;
        _setUpAt(n - 1, 0);
        address[] memory early = rollup.getCommitteeAt(Epoch.wrap(n));
        address[] memory proposers = new address[](EPOCH_DURATION);
        for (uint256 s = 0; s < EPOCH_DURATION; ++s) {
            proposers[s] = rollup.getProposerAt(rollup.getTimestampForSlot(_slot(n, s)));
        }
        _changeSet(3, 0x0f);
        _setUpAt(n, 7);
        assertEq(rollup.getCommitteeAt(Epoch.wrap(n)), early, "committee changed after it was known");
        for (uint256 s = 0; s < EPOCH_DURATION; ++s) {
            _warpToSlot(n * EPOCH_DURATION + s);
            assertEq(_proposer(), proposers[s], "proposer changed after it was known");
        }
    }

    // ------------------------------------------------------------------ helpers

    function _setUpAt(uint256 epoch, uint256 stream) internal {
        _warpToEpoch(epoch);
        vm.prevrandao(bytes32(uint256(keccak256(abi.encode("randao", stream, epoch)))));
        rollup.setupEpoch();
    }

    /// @dev Committee of `target`, read once time reaches it, every epoch on the way set up in its
    ///      first second with prevrandao from `stream`.
    function _committeeLater(uint256 target, uint256 stream) internal returns (bytes32) {
        for (uint256 e = _currentEpoch() + 1; e <= target; ++e) {
            _setUpAt(e, stream);
        }
        return keccak256(abi.encode(rollup.getCommitteeAt(Epoch.wrap(target))));
    }

    /// @dev `stakes` new validators, and an exit of each of the first eight picked by `exitMask`.
    function _changeSet(uint256 stakes, uint256 exitMask) internal {
        _stakeValidators(stakes);
        for (uint256 i = 0; i < VALIDATORS; ++i) {
            if (exitMask & (1 << i) == 0) continue;
            vm.prank(attesters[i]);
            rollup.initiateExit(attesters[i]);
        }
    }

    function _slot(uint256 epoch, uint256 s) internal pure returns (Slot) {
        return Slot.wrap(epoch * EPOCH_DURATION + s);
    }
}
