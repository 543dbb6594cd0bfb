// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IForcedInclusionQueue, NO_DUE_EPOCH} from "../../contracts/interfaces/IForcedInclusionQueue.sol";
import {CommitteeAttestations, ProposeArgs} from "../../contracts/interfaces/IRollup.sol";
import {Errors} from "../../contracts/libraries/Errors.sol";
import {Epoch} from "../../contracts/libraries/TimeLib.sol";
import {ForcedBase} from "../harnesses/ForcedBase.sol";

/// @notice SPEC 7 as stories: a committee that censors a user, and a bad forced tx that must not
///         stall the queue. Each step says what the actors try and what L1 lets them do.
/// @dev 8 validators (a committee of 8, quorum 6), staked at genesis, on committees from epoch 2.
///      FORCED_INCLUSION_DELAY = 2 epochs, MIN_FORCED_TXS_PER_BLOCK = 2.
contract CensorshipScenarioTest is ForcedBase {
    uint256 internal constant E = 2; // the epoch the story starts in

    function setUp() public {
        _setUpForced(8);
    }

    function _slotOf(uint256 epoch, uint256 k) internal pure returns (uint256) {
        return epoch * EPOCH_DURATION + k;
    }

    /// @dev Attestations from every member of the current committee: a committee that colludes
    ///      as a whole signs whatever its proposer asks.
    function _wholeCommittee(ProposeArgs memory args) internal view returns (CommitteeAttestations memory) {
        return _attest(args, rollup.getCommitteeAt(rollup.getCurrentEpoch()).length);
    }

    /// @dev (a) The committee censors a user. Forcing the tx through the queue gets it in from
    ///      its due epoch on, whoever proposes.
    function test_scenario_CommitteeCensorsUser_ForcedTxGetsIn() public {
        bytes memory userTx = abi.encode("transfer", user, uint256(5 ether), "nullifier: user-1");
        bytes32 userTxHash = keccak256(userTx);

        // 1. Epoch E. The chain runs normally; the committee builds full blocks, but the user's tx,
        //    sent to the mempool, never makes it into one: nothing on L1 can tell.
        _warpToSlot(_slotOf(E, 0));
        _proposeForced(10, 0);
        _warpToSlot(_slotOf(E, 4));
        _proposeForced(12, 0);

        // 2. The user gives up on the mempool and forces the tx: queue it on L1 with its client
        //    proof and the fee. It is published (ForcedTxQueued carries the data) and due two
        //    epochs later.
        _warpToSlot(_slotOf(E, 5));
        vm.expectEmit(address(queue));
        emit IForcedInclusionQueue.ForcedTxQueued(0, userTxHash, E + 2, userTx);
        uint256 index = _enqueue(userTx);
        assertEq(Epoch.unwrap(queue.getEntry(index).includedByEpoch), E + 2);

        // 3. Until the due epoch the committee may still leave it out: blocks without it pass,
        //    through the rest of E and all of E + 1, up to its very last slot. (Meanwhile the
        //    chain is healthy: E is claimed and proven.)
        _warpToSlot(_slotOf(E, 6));
        _proposeForced(10, 0);
        _claimAndProve(E, 0, 3);
        _warpToSlot(_slotOf(E + 1, 1));
        _proposeForced(10, 0);
        _warpToSlot(_slotOf(E + 1, EPOCH_DURATION - 1));
        _proposeForced(10, 0);
        assertFalse(queue.getEntry(index).included, "still censored, legally");
        uint256 pendingBefore = rollup.getPendingBlockNumber();

        // 4. Epoch E + 2: the tx is due. Slot after slot, the committee's proposers keep
        //    censoring; every such block is refused on L1, even with the whole committee's
        //    signatures: the rule is checked by the contract, not by the attesters.
        bytes memory due = abi.encodeWithSelector(Errors.Rollup__ForcedTxsDue.selector, E + 2, E + 2);
        for (uint256 k = 0; k < 3; ++k) {
            _warpToSlot(_slotOf(E + 2, k));
            ProposeArgs memory censoring = _blockArgs(10, 0);
            CommitteeAttestations memory all = _wholeCommittee(censoring);
            address proposer = _proposer();
            vm.expectRevert(due);
            vm.prank(proposer);
            rollup.propose(censoring, all);
        }

        //    Nor can a proposer pretend to include it: claiming one forced tx at the block's start
        //    while committing to another tx is caught, since the contract hashes the queue's entry.
        ProposeArgs memory fake = _blockArgs(10, 1);
        fake.forcedTxsHash = keccak256(abi.encodePacked(keccak256("some other tx")));
        _expectProposeRevert(
            fake,
            abi.encodeWithSelector(
                Errors.Rollup__InvalidForcedTxsHash.selector,
                keccak256(abi.encodePacked(userTxHash)),
                fake.forcedTxsHash
            )
        );
        //    The censors only stall themselves: no block got in.
        assertEq(rollup.getPendingBlockNumber(), pendingBefore, "a censoring block got in");

        // 5. An honest proposer (here: slot 3's) builds the block with the user's tx first:
        //    forcedTxCount = 1 says the block's first tx is the queue's next entry, and
        //    forcedTxsHash commits to exactly that entry's hash. Being the only due entry, it
        //    may be followed by ordinary txs.
        _warpToSlot(_slotOf(E + 2, 3));
        ProposeArgs memory honest = _blockArgs(10, 1);
        assertEq(honest.forcedTxsHash, keccak256(abi.encodePacked(userTxHash)));
        vm.expectEmit(address(queue));
        emit IForcedInclusionQueue.ForcedTxsConsumed(index, 1);
        _proposeBlock(honest);
        assertEq(rollup.getPendingBlockNumber(), pendingBefore + 1);
        assertTrue(queue.getEntry(index).included, "the user's tx is in");
        assertEq(queue.head(), index + 1);
        assertEq(Epoch.unwrap(queue.headDueEpoch()), Epoch.unwrap(NO_DUE_EPOCH));

        // 6. With the queue drained, the committee is back to ordinary blocks.
        _warpToSlot(_slotOf(E + 2, 4));
        _proposeForced(10, 0);
    }

    /// @dev (a') Censoring by withholding the proof: the committee includes the forced tx in a
    ///      block but never gets its epoch proven, hoping the prune drops it. The prune puts the
    ///      tx back at the head of the queue with its original due epoch, so it is due at once and
    ///      the next block, whoever proposes it, must carry it again.
    function test_scenario_CommitteeIncludesThenLetsItBePruned() public {
        _warpToSlot(_slotOf(E, 0));
        bytes memory userTx = abi.encode("transfer", user, uint256(1 ether), "nullifier: user-2");
        _enqueue(userTx);

        // Due at E + 2: the committee includes it (it has to)...
        _warpToSlot(_slotOf(E + 2, 0));
        ProposeArgs memory withTx = _proposeForced(5, 1);
        assertTrue(queue.getEntry(0).included);

        // ...then no one claims E + 2, and it is pruned when E + 3's claim window closes.
        _warpToSlot(_slotOf(E + 3, CLAIM_WINDOW));
        rollup.prune();
        assertEq(rollup.getPendingBlockNumber(), 0);
        assertFalse(queue.getEntry(0).included, "back in the queue");
        assertEq(Epoch.unwrap(queue.getEntry(0).includedByEpoch), E + 2, "still due since E + 2");

        // The next block must start with it again: same entry, same commitment.
        ProposeArgs memory censoring = _blockArgs(5, 0);
        _expectProposeRevert(
            censoring, abi.encodeWithSelector(Errors.Rollup__ForcedTxsDue.selector, E + 2, E + 3)
        );
        ProposeArgs memory again = _blockArgs(5, 1);
        assertEq(again.forcedTxsHash, withTx.forcedTxsHash);
        _proposeBlock(again);

        // This time the epoch is proven: the tx stays included for good, even if a later epoch is
        // pruned.
        _claimAndProve(E + 3, 0, 1);
        _warpToSlot(_slotOf(E + 4, 1));
        _proposeForced(5, 0);
        _warpToSlot(_slotOf(E + 5, CLAIM_WINDOW));
        rollup.prune();
        assertTrue(queue.getEntry(0).included, "a proven inclusion is final");
        assertEq(queue.head(), 1);
    }

    /// @dev (b) A bad forced tx at the head, good ones behind it. L1 cannot tell a tx that will
    ///      fail at execution from one that will not; the proposer executes it as a failed tx,
    ///      and it counts as included. The queue moves on in order, at least MIN per block while
    ///      more than MIN are due, and the bad entry never holds up the good ones.
    function test_scenario_BadForcedTxDoesNotStallTheQueue() public {
        _warpToSlot(_slotOf(E, 0));
        // A tx whose nullifier is already spent on L2 (SPEC 9: it is invalid at execution).
        // Its client proof is fine, so the queue takes it like any other.
        bytes memory bad = abi.encode("transfer", user, uint256(1 ether), "nullifier: already-spent");
        _enqueue(bad); // index 0
        _enqueueN(4); // good txs, indexes 1-4
        assertEq(queue.tail(), 5);

        // Epoch E + 2: all five are due, more than MIN (2).
        _warpToSlot(_slotOf(E + 2, 0));

        // A proposer who would rather skip the bad tx (take the good ones first) is refused: the
        // commitment must be to the head of the queue, in order.
        ProposeArgs memory skipping = _blockArgs(2, 2);
        skipping.forcedTxsHash = _hashOf(1, 2);
        _expectProposeRevert(
            skipping,
            abi.encodeWithSelector(Errors.Rollup__InvalidForcedTxsHash.selector, _hashOf(0, 2), _hashOf(1, 2))
        );
        // Taking only the bad one is too few while more than MIN are due.
        ProposeArgs memory one = _blockArgs(1, 1);
        _expectProposeRevert(
            one, abi.encodeWithSelector(Errors.Rollup__TooFewForcedTxs.selector, MIN_FORCED, 1)
        );
        // And while due entries remain, a block may not add its own txs after MIN of them.
        ProposeArgs memory padded = _blockArgs(6, 2);
        _expectProposeRevert(
            padded,
            abi.encodeWithSelector(Errors.Rollup__NonForcedTxsBeforeDueForcedTxs.selector, E + 2, E + 2)
        );

        // Block 1: the bad tx and the first good one, nothing else. The bad one is consumed
        // (executed as a failed tx on L2): on L1 it is simply included.
        vm.expectEmit(address(queue));
        emit IForcedInclusionQueue.ForcedTxsConsumed(0, 2);
        _proposeForced(2, 2);
        assertTrue(queue.getEntry(0).included, "the bad tx counts as included");
        assertTrue(queue.getEntry(1).included);

        // Block 2: the next two, in order, again nothing else (one is still due after them).
        _warpToSlot(_slotOf(E + 2, 1));
        vm.expectEmit(address(queue));
        emit IForcedInclusionQueue.ForcedTxsConsumed(2, 2);
        _proposeForced(2, 2);

        // Block 3: the last due entry. Only one is due now (< MIN): it alone, then ordinary txs.
        _warpToSlot(_slotOf(E + 2, 2));
        vm.expectEmit(address(queue));
        emit IForcedInclusionQueue.ForcedTxsConsumed(4, 1);
        _proposeForced(7, 1);

        // Drained in three blocks, in queue order; nothing is due and blocks are ordinary again.
        assertEq(queue.head(), 5);
        assertEq(Epoch.unwrap(queue.headDueEpoch()), Epoch.unwrap(NO_DUE_EPOCH));
        _warpToSlot(_slotOf(E + 2, 3));
        _proposeForced(9, 0);

        // Once E + 2 is proven, all five, the bad one too, are included for good.
        _claimAndProve(E + 2, 0, 4);
        for (uint256 i = 0; i < 5; ++i) {
            assertTrue(queue.getEntry(i).included);
        }
    }

    /// @dev (b') The same queue drained at once: a proposer may take every due entry, the bad
    ///      one first, and fill the rest of the block as it likes.
    function test_scenario_BadForcedTxAllDueTakenAtOnce() public {
        _warpToSlot(_slotOf(E, 0));
        _enqueue(abi.encode("transfer", user, uint256(1 ether), "nullifier: already-spent"));
        _enqueueN(4);
        _warpToSlot(_slotOf(E + 2, 0));
        ProposeArgs memory args = _proposeForced(12, 5);
        assertEq(args.forcedTxsHash, _hashOf(0, 5));
        assertEq(queue.head(), 5);
    }
}
