// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Address} from "@openzeppelin/contracts/utils/Address.sol";

import {ForcedTx, IForcedInclusionQueue} from "../interfaces/IForcedInclusionQueue.sol";
import {ITxProofVerifier} from "../interfaces/ITxProofVerifier.sol";
import {Errors} from "../libraries/Errors.sol";
import {SnapshotLib} from "../libraries/SnapshotLib.sol";
import {Epoch, TimeConfig, TimeLib, Timestamp} from "../libraries/TimeLib.sol";

/// @title ForcedInclusionQueue
/// @notice The FIFO of forced L2 transactions (SPEC 7). NatSpec of every function is in
///         IForcedInclusionQueue.
/// @dev Bound to its rollup at construction (ROLLUP is immutable; the deployer computes the
///      rollup's address first), like the ProverEscrow. One storage slot per entry (its hash):
///      due epochs are not stored per entry but as a history of "entries queued with a due epoch
///      <= k", which changes at most once per epoch and answers `dueCount` with one lookup.
contract ForcedInclusionQueue is IForcedInclusionQueue {
    using SnapshotLib for SnapshotLib.History;

    /// @dev Both ends of the queue in one slot.
    struct Ends {
        uint64 head;
        uint64 tail;
    }

    address public immutable ROLLUP;
    ITxProofVerifier public immutable VERIFIER;
    address public immutable FEE_RECIPIENT;
    uint256 public immutable GENESIS_TIME;
    uint256 public immutable SLOT_DURATION;
    uint256 public immutable EPOCH_DURATION;
    /// @notice FORCED_INCLUSION_DELAY, in epochs.
    uint256 public immutable FORCED_INCLUSION_DELAY;
    /// @notice L1 gas a proposer spends to carry one forced transaction (its queue check and proof
    ///         share), priced into the enqueue fee at the current base fee.
    uint256 public immutable INCLUSION_GAS;

    Ends internal ends;
    mapping(uint256 index => bytes32 txHash) internal txHashes;
    /// @dev Key: a due epoch (includedByEpoch); value: entries queued with a due epoch <= key,
    ///      i.e. the tail after the last of them. Keys only grow (enqueue epoch + a constant).
    SnapshotLib.History internal queuedBy;

    constructor(
        address rollup,
        ITxProofVerifier verifier,
        address feeRecipient,
        TimeConfig memory time,
        uint256 forcedInclusionDelay,
        uint256 inclusionGas
    ) {
        require(rollup != address(0), Errors.Queue__ZeroParameter(0));
        require(address(verifier) != address(0), Errors.Queue__ZeroParameter(1));
        require(feeRecipient != address(0), Errors.Queue__ZeroParameter(2));
        require(time.slotDuration != 0 && time.epochDuration != 0, Errors.Queue__ZeroParameter(3));
        require(forcedInclusionDelay != 0, Errors.Queue__ZeroParameter(4));
        ROLLUP = rollup;
        VERIFIER = verifier;
        FEE_RECIPIENT = feeRecipient;
        GENESIS_TIME = time.genesisTime;
        SLOT_DURATION = time.slotDuration;
        EPOCH_DURATION = time.epochDuration;
        FORCED_INCLUSION_DELAY = forcedInclusionDelay;
        INCLUSION_GAS = inclusionGas;
    }

    function enqueue(bytes calldata txData, bytes calldata proof)
        external
        payable
        override
        returns (uint256 index)
    {
        require(txData.length != 0, Errors.Queue__EmptyTx());
        uint256 fee = enqueueFee(txData.length);
        require(msg.value >= fee, Errors.Queue__FeeTooLow(fee, msg.value));
        bytes32 txHash = keccak256(txData);
        require(VERIFIER.verifyTx(txData, proof), Errors.Queue__InvalidTxProof(txHash));

        Ends memory e = ends;
        index = e.tail;
        uint256 includedByEpoch = Epoch.unwrap(_currentEpoch()) + FORCED_INCLUSION_DELAY;
        txHashes[index] = txHash;
        e.tail = uint64(index + 1);
        ends = e;
        queuedBy.push(uint48(includedByEpoch), uint208(index + 1));
        emit ForcedTxQueued(index, txHash, includedByEpoch, txData);
    }

    function consume(uint256 count) external override returns (bytes32 forcedTxsHash) {
        require(msg.sender == ROLLUP, Errors.Queue__NotRollup(ROLLUP, msg.sender));
        Ends memory e = ends;
        uint256 queued = e.tail - e.head;
        require(count <= queued, Errors.Queue__NotEnoughQueued(queued, count));
        bytes32[] memory hashes = new bytes32[](count);
        for (uint256 i = 0; i < count; ++i) {
            hashes[i] = txHashes[e.head + i];
        }
        forcedTxsHash = keccak256(abi.encodePacked(hashes));
        emit ForcedTxsConsumed(e.head, count);
        e.head += uint64(count);
        ends = e;
    }

    function sweepFees() external override {
        uint256 amount = address(this).balance;
        emit FeesSwept(FEE_RECIPIENT, amount);
        Address.sendValue(payable(FEE_RECIPIENT), amount);
    }

    function enqueueFee(uint256 txLength) public view override returns (uint256) {
        // A blob carries one byte per unit of blob gas (ignoring the field-element padding).
        return INCLUSION_GAS * block.basefee + txLength * block.blobbasefee;
    }

    function dueCount(Epoch epoch) public view override returns (uint256) {
        Ends memory e = ends;
        if (e.head == e.tail) return 0;
        uint256 due = queuedBy.valueAt(uint48(Epoch.unwrap(epoch)));
        return due > e.head ? due - e.head : 0;
    }

    function headDueEpoch() external view override returns (Epoch) {
        Ends memory e = ends;
        if (e.head == e.tail) return Epoch.wrap(0);
        return _dueEpochOf(e.head);
    }

    function getEntry(uint256 index) external view override returns (ForcedTx memory) {
        Ends memory e = ends;
        require(index < e.tail, Errors.Queue__EntryNotFound(e.tail, index));
        return
            ForcedTx({txHash: txHashes[index], includedByEpoch: _dueEpochOf(index), included: index < e.head});
    }

    function head() external view override returns (uint256) {
        return ends.head;
    }

    function tail() external view override returns (uint256) {
        return ends.tail;
    }

    /// @dev The due epoch of entry `index`: the first key whose count exceeds `index`.
    function _dueEpochOf(uint256 index) internal view returns (Epoch) {
        SnapshotLib.Checkpoint[] storage past = queuedBy.past;
        uint256 lo = 0;
        uint256 hi = past.length;
        while (lo < hi) {
            uint256 mid = (lo + hi) >> 1;
            if (past[mid].value > index) hi = mid;
            else lo = mid + 1;
        }
        return Epoch.wrap(lo == past.length ? queuedBy.latest.key : past[lo].key);
    }

    function _currentEpoch() internal view returns (Epoch) {
        return TimeLib.epochAt(
            TimeConfig({
                genesisTime: GENESIS_TIME, slotDuration: SLOT_DURATION, epochDuration: EPOCH_DURATION
            }),
            Timestamp.wrap(block.timestamp)
        );
    }
}
