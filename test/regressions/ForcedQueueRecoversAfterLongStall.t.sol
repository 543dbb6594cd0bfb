// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ForcedInclusionQueue} from "../../contracts/core/ForcedInclusionQueue.sol";
import {FallbackStatus, ProposeArgs, RollupConfig} from "../../contracts/interfaces/IRollup.sol";
import {Errors} from "../../contracts/libraries/Errors.sol";
import {Slot, Timestamp} from "../../contracts/libraries/TimeLib.sol";
import {FallbackBase} from "../harnesses/FallbackBase.sol";

/// @notice F-02 (review, medium): forced inclusion died after a long stall. The queue learned the
///         proven head only from the rollup's `consume` and `rewind`; proofs never told it. After a
///         stall that filled its 128 due marks, a recovery block drained the queue and was proven,
///         and from then on every `enqueue` of a new due epoch reverted `Queue__TooManyDueEpochs`
///         forever (no entry left to consume, so no `consume` to bring the news). The queue's unit
///         tests freed marks with a `consume(0, provenHead)` the Rollup never makes, which hid it.
/// @dev Driven through the Rollup only: the stall, the recovery block, its proof, then a new entry.
///      Two ways to recover: an epoch proof of committee blocks, and a block proven in fallback.
contract ForcedQueueRecoversAfterLongStallTest is FallbackBase {
    uint256 internal marks;
    bytes32[] internal hashes;

    /// @dev No validators (anyone proposes), and fallback far off so the stall is the queue's alone.
    function test_epochProofAfterAStallThatFilledTheRingFreesIt() public {
        _setUpFallback(0, 10_000 * EPOCH_DURATION, FB_ACTIVITY, FB_TOTAL, 0);
        _stall();

        // Recovery: one block takes every entry (all due by now), and its epoch is proven.
        uint256 epoch = _currentEpoch();
        ProposeArgs memory args = _withForced(_nextArgs(), hashes, hashes.length);
        vm.prank(_proposer());
        rollup.propose(args, _quorumAttest(args));
        _warpToEpoch(epoch + 1);
        _submit(_proofArgs(epoch, args.blockNumber, prover));
        assertEq(rollup.getProvenBlockNumber(), args.blockNumber, "recovery block not proven");

        _warpToEpoch(epoch + 2);
        _force("after the proof");
        assertEq(queue.tail(), hashes.length + 1, "forced inclusion is dead after the stall");
    }

    /// @dev The SPEC's fallback: the stall runs through fallback periods, and a fallback block,
    ///      proven as it lands, takes every entry.
    function test_fallbackBlockAfterAStallThatFilledTheRingFreesIt() public {
        _setUpFallback(0, FB_ENTER, FB_ACTIVITY, FB_TOTAL, 0);
        _stall();

        FallbackStatus memory fs = rollup.getFallbackStatus();
        if (!fs.active) vm.warp(Timestamp.unwrap(rollup.getTimestampForSlot(fs.start)));
        uint256 slot = Slot.unwrap(rollup.getCurrentSlot());
        ProposeArgs memory args = _withForced(_fbArgs(slot), hashes, hashes.length);
        _proposeWithProof(args, outsider);
        assertEq(rollup.getProvenBlockNumber(), args.blockNumber, "fallback block not proven");

        _warpToEpoch(_currentEpoch() + 1);
        _force("after the fallback block");
        assertEq(queue.tail(), hashes.length + 1, "forced inclusion is dead after the stall");
    }

    /// @dev One forced tx per epoch until every due mark holds unproven entries: the ring is full,
    ///      and a new due epoch is refused while nothing is proven (that much is by design).
    function _stall() internal {
        marks = ForcedInclusionQueue(address(queue)).DUE_MARKS();
        for (uint256 e = 0; e < marks; ++e) {
            _warpToEpoch(e);
            hashes.push(_force(vm.toString(e)));
        }
        _warpToEpoch(marks);
        (bool ok, bytes memory err) = _tryForce("one too many");
        assertFalse(ok, "the ring took a due epoch past its size");
        assertEq(err, abi.encodeWithSelector(Errors.Queue__TooManyDueEpochs.selector, marks));
        // Every entry is due from here on.
        _warpToEpoch(marks + 2);
    }

    function _tryForce(string memory label) internal returns (bool ok, bytes memory ret) {
        bytes memory txData = abi.encode("forced", label);
        uint256 fee = queue.enqueueFee(txData.length);
        vm.deal(forcer, fee);
        vm.prank(forcer);
        (ok, ret) = address(queue).call{value: fee}(
            abi.encodeCall(queue.enqueue, (txData, abi.encodePacked(keccak256(txData))))
        );
    }
}
