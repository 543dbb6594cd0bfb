// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Epoch} from "../libraries/TimeLib.sol";

/// @notice A queued forced transaction (SPEC 7). `included` once a block consumed it, whether or
///         not it then succeeded at execution.
struct ForcedTx {
    bytes32 txHash;
    Epoch includedByEpoch;
    bool included;
}

/// @title IForcedInclusionQueue
/// @notice Users force L2 transactions past a censoring committee (SPEC 7): an entry queued in
///         epoch E is due from epoch E + FORCED_INCLUSION_DELAY, and blocks must then start with
///         the queue's next entries, in order.
interface IForcedInclusionQueue {
    /// @notice `txData` is the full transaction, published on L1 in this event.
    event ForcedTxQueued(
        uint256 indexed index, bytes32 indexed txHash, uint256 includedByEpoch, bytes txData
    );
    event ForcedTxsConsumed(uint256 fromIndex, uint256 count);
    event FeesSwept(address indexed to, uint256 amount);

    /// @notice Queue `txData` after checking its client proof. Pay at least `enqueueFee(txData.length)`
    ///         in ETH; the whole payment is the fee.
    function enqueue(bytes calldata txData, bytes calldata proof) external payable returns (uint256 index);

    /// @notice Rollup only: mark the next `count` entries included, and return the hash a block's
    ///         header commits to for them: keccak256(abi.encodePacked(txHash_0, ..., txHash_{count-1})).
    function consume(uint256 count) external returns (bytes32 forcedTxsHash);

    /// @notice Send the collected fees to FEE_RECIPIENT (anyone may call).
    function sweepFees() external;

    /// @notice ETH needed to force `txLength` bytes now: the L1 cost a proposer bears to carry it,
    ///         INCLUSION_GAS at the base fee plus its bytes at the blob base fee.
    function enqueueFee(uint256 txLength) external view returns (uint256);

    /// @notice Entries due at `epoch` and not yet included: the head of the queue up to the last
    ///         entry whose includedByEpoch <= epoch.
    function dueCount(Epoch epoch) external view returns (uint256);

    /// @notice includedByEpoch of the next entry to include (zero when the queue is empty).
    function headDueEpoch() external view returns (Epoch);

    function getEntry(uint256 index) external view returns (ForcedTx memory);
    /// @notice Index of the next entry to include, and one past the last queued.
    function head() external view returns (uint256);
    function tail() external view returns (uint256);
}
