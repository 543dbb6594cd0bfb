// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {CommitteeAttestations, EpochProofArgs, ProposeArgs} from "../../../contracts/interfaces/IRollup.sol";
import {ProvingBase} from "../../harnesses/ProvingBase.sol";

/// @notice Regression: the call sequence behind ProvingInvariants' forced-inclusion failure ("a
///         prune requeued to another head than the proven tip's", or a valid block refused with
///         `InvalidForcedTxsHash`; PROPERTIES.md "Forced inclusion"), as a plain test.
/// @dev Rollup.submitEpochRootProof moves `provenForcedHead` to `epochEndForcedHead` when blocks
///      of the next epoch follow the proven one. Before b8b1468, `epochEndForcedHead` was written
///      only when a block closed an epoch *while* `forcedUnproven` was set: a proof covering the
///      whole pending chain cleared `forcedUnproven` and left an older head there. If the next
///      epoch's blocks took no entry and the block closing it took some, the next proof set the
///      proven head back to that stale value, and a prune requeued entries a *proven* block had
///      included (they had to be included twice). Fixed in b8b1468 (test/Rollup/forcedInclusion.t.sol
///      found it too); this passes since.
contract ForcedRequeueAfterProofTest is ProvingBase {
    function setUp() public {
        _deploy(K);
        _stakeValidators(4); // staked in epoch 0: the committee of epoch 2 on
        vm.deal(address(this), 1 ether);
    }

    function test_proofThenPrune_requeuesOnlyUnprovenEntries() public {
        // Epoch 0: two entries, due from epoch 2.
        bytes32 h0 = _enqueue("forced 0");
        bytes32 h1 = _enqueue("forced 1");
        bytes32[] memory first = new bytes32[](2);
        (first[0], first[1]) = (h0, h1);

        // Epoch 2: block 1 takes both.
        _warpToEpoch(2);
        _proposeWith(2, 2, keccak256(abi.encodePacked(first)));
        assertEq(queue.head(), 2, "block 1 took entries 0 and 1");

        // Epoch 3, claim window: the proof of epoch 2 covers the whole pending chain.
        _warpToSlot(3 * EPOCH_DURATION);
        _submit(_proofArgs(2, 1, prover));
        assertEq(rollup.getProvenBlockNumber(), 1);

        // Still epoch 3: block 2 takes nothing; two entries are queued (due from epoch 5).
        _warpToSlot(3 * EPOCH_DURATION + 1);
        _proposeWith(0, 0, bytes32(0));
        bytes32 h2 = _enqueue("forced 2");
        bytes32 h3 = _enqueue("forced 3");
        bytes32[] memory second = new bytes32[](2);
        (second[0], second[1]) = (h2, h3);

        // Epoch 4: block 3 closes epoch 3 and takes both (early, which is allowed).
        _warpToEpoch(4);
        _proposeWith(2, 2, keccak256(abi.encodePacked(second)));
        assertEq(queue.head(), 4);

        // Still in epoch 4's claim window: the proof of epoch 3 (block 2) leaves block 3 unproven.
        _warpToSlot(4 * EPOCH_DURATION + 1);
        _submit(_proofArgs(3, 2, prover));
        assertEq(rollup.getProvenBlockNumber(), 2);

        // Epoch 4 is never claimed: it is pruned once epoch 5's claim window closes. Only block 3
        // is dropped, so only its entries (2 and 3) go back to the queue; block 1 is proven.
        _warpToSlot(5 * EPOCH_DURATION + CLAIM_WINDOW);
        rollup.prune();
        assertEq(rollup.getPendingBlockNumber(), 2);
        assertEq(queue.head(), 2, "a prune requeued entries a proven block included");
    }

    function _enqueue(bytes memory txData) internal returns (bytes32) {
        queue.enqueue{value: queue.enqueueFee(txData.length)}(txData, abi.encodePacked(keccak256(txData)));
        return keccak256(txData);
    }

    function _proposeWith(uint256 txCount, uint256 forcedTxCount, bytes32 forcedTxsHash) internal {
        ProposeArgs memory args = _nextArgs();
        args.txCount = txCount;
        args.forcedTxCount = forcedTxCount;
        args.forcedTxsHash = forcedTxsHash;
        CommitteeAttestations memory att = _quorumAttest(args);
        address proposer = _proposer();
        vm.prank(proposer);
        rollup.propose(args, att);
    }
}
