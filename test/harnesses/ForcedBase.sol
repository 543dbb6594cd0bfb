// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {NO_DUE_EPOCH} from "../../contracts/interfaces/IForcedInclusionQueue.sol";
import {CommitteeAttestations, ProposeArgs} from "../../contracts/interfaces/IRollup.sol";
import {Epoch} from "../../contracts/libraries/TimeLib.sol";
import {ProvingBase} from "./ProvingBase.sol";

/// @notice Forced-inclusion helpers on top of ProvingBase: users who enqueue forced txs, a record
///         of every entry the tests queued (their tx hashes and due epochs, by queue index, kept
///         independently of the queue so tests check the contracts against it), and blocks that
///         carry forced txs, built and attested like real ones.
abstract contract ForcedBase is ProvingBase {
    address internal user = makeAddr("user");

    /// @dev What the tests queued, by queue index: keccak256(txData) and the due epoch.
    bytes32[] internal queuedHashes;
    uint256[] internal queuedDue;

    function _setUpForced(uint256 validators) internal {
        _setUpProving(validators);
        vm.deal(user, 1000 ether);
    }

    /// @dev A distinct (good) L2 tx, by number.
    function _txData(uint256 i) internal pure returns (bytes memory) {
        return abi.encode("forced tx", i);
    }

    /// @dev `user` forces `txData`, paying the fee, with the dev verifier's proof; recorded.
    function _enqueue(bytes memory txData) internal returns (uint256 index) {
        uint256 fee = queue.enqueueFee(txData.length);
        bytes memory proof = abi.encodePacked(keccak256(txData));
        uint256 due = _currentEpoch() + FORCED_DELAY;
        vm.prank(user);
        index = queue.enqueue{value: fee}(txData, proof);
        assertEq(index, queuedHashes.length, "queue index");
        queuedHashes.push(keccak256(txData));
        queuedDue.push(due);
    }

    /// @dev Forces `n` fresh txs now.
    function _enqueueN(uint256 n) internal {
        for (uint256 i = 0; i < n; ++i) {
            _enqueue(_txData(queuedHashes.length));
        }
    }

    /// @dev The header commitment to entries [from, from + count): keccak256 of their hashes,
    ///      packed, from the tests' own record; zero for none.
    function _hashOf(uint256 from, uint256 count) internal view returns (bytes32) {
        if (count == 0) return bytes32(0);
        bytes32[] memory h = new bytes32[](count);
        for (uint256 i = 0; i < count; ++i) {
            h[i] = queuedHashes[from + i];
        }
        return keccak256(abi.encodePacked(h));
    }

    /// @dev Due epoch of queue entry `index` as recorded, NO_DUE_EPOCH past the last one.
    function _dueOf(uint256 index) internal view returns (uint256) {
        return index < queuedDue.length ? queuedDue[index] : Epoch.unwrap(NO_DUE_EPOCH);
    }

    /// @dev Next block in the current slot with `txCount` txs of which the first `forcedTxCount`
    ///      are the queue entries from `from` on (hash from the tests' record).
    function _blockArgsFrom(uint256 from, uint256 txCount, uint256 forcedTxCount)
        internal
        returns (ProposeArgs memory args)
    {
        args = _nextArgs();
        args.txCount = txCount;
        args.forcedTxCount = forcedTxCount;
        args.forcedTxsHash = _hashOf(from, forcedTxCount);
    }

    /// @dev As `_blockArgsFrom`, from the queue's current head. No prune may be pending (it would
    ///      move the head): tests prune explicitly first.
    function _blockArgs(uint256 txCount, uint256 forcedTxCount) internal returns (ProposeArgs memory) {
        assertFalse(rollup.canPrune(), "prune pending: call rollup.prune() first");
        return _blockArgsFrom(queue.head(), txCount, forcedTxCount);
    }

    /// @dev Proposes `args` as the current slot's proposer, with a quorum of the committee.
    function _proposeBlock(ProposeArgs memory args) internal {
        CommitteeAttestations memory att = _quorumAttest(args);
        address p = _proposer();
        vm.prank(p);
        rollup.propose(args, att);
    }

    /// @dev The current slot's proposer, with a quorum, sends `args` and the call reverts with `err`.
    function _expectProposeRevert(ProposeArgs memory args, bytes memory err) internal {
        CommitteeAttestations memory att = _quorumAttest(args);
        address p = _proposer();
        uint256 pending = rollup.getPendingBlockNumber();
        uint256 head = queue.head();
        vm.expectRevert(err);
        vm.prank(p);
        rollup.propose(args, att);
        assertEq(rollup.getPendingBlockNumber(), pending, "refused block changed the chain");
        assertEq(queue.head(), head, "refused block moved the queue");
    }

    /// @dev Shorthand: propose a block of `txCount` txs, the first `forcedTxCount` forced.
    function _proposeForced(uint256 txCount, uint256 forcedTxCount)
        internal
        returns (ProposeArgs memory args)
    {
        args = _blockArgs(txCount, forcedTxCount);
        _proposeBlock(args);
    }

    /// @dev Claims `epoch` in slot `k` of the next epoch (warps there) and proves its blocks up to `end`.
    function _claimAndProve(uint256 epoch, uint256 k, uint256 end) internal {
        _claimAt(epoch, k, _signedQuote(epoch));
        _submit(_proofArgs(epoch, end, prover));
        assertEq(rollup.getProvenBlockNumber(), end, "proof not accepted");
    }

    function _headDue() internal view returns (uint256) {
        return Epoch.unwrap(queue.headDueEpoch());
    }
}
