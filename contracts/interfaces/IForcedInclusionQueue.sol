// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {Epoch} from "../libraries/TimeLib.sol";

// The due epoch of "no entry": later than any real one, so nothing is ever due.
Epoch constant NO_DUE_EPOCH = Epoch.wrap(type(uint48).max);

// First byte of a fee deposit's entry (`depositFee`); refused as the first byte of a forced tx.
// L2 txs start with their version byte (1 or 2), docs/l2-state.md.
bytes1 constant DEPOSIT_TAG = 0xfd;

/// @notice A queued forced transaction (SPEC 7). `included` once a block consumed it, whether or
///         not it then succeeded at execution.
struct ForcedTx {
    bytes32 txHash;
    Epoch includedByEpoch;
    bool included;
}

/// @notice What the queue and its rollup tell each other.
interface IForcedInclusionSink {
    /// @notice The queue went from empty to holding an entry due at `dueEpoch`. The rollup keeps
    ///         the due epoch of the queue's head, so a block checks the forced-inclusion rule
    ///         without calling the queue when nothing is due.
    function forcedTxQueued(Epoch dueEpoch) external;

    /// @notice A fee deposit of `amount` reached the rollup (the queue pulled it there): fees the
    ///         rollup pays come out of these deposits only.
    function feesDeposited(uint256 amount) external;

    /// @notice The queue head after the rollup's proven tip: entries before it are in the proven
    ///         chain for good. Proofs move it without calling the queue; the queue reads it when
    ///         it needs to know.
    function provenQueueHead() external view returns (uint256);
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
    /// @notice A block took entries `fromIndex` .. `fromIndex + count - 1`.
    event ForcedTxsConsumed(uint256 fromIndex, uint256 count);
    /// @notice A prune dropped the blocks that had taken entries `newHead` .. `oldHead - 1`: they
    ///         are queued again, in their place, with their original due epochs.
    event ForcedTxsRequeued(uint256 newHead, uint256 oldHead);
    event FeesSwept(address indexed to, uint256 amount);
    /// @notice Entry `index` credits `amount` of FEE_ASSET to `recipient`'s L2 fee balance when a
    ///         block takes it; the tokens are with the rollup.
    event FeeDeposited(uint256 indexed index, address indexed recipient, uint256 amount);

    /// @notice Queue `txData` after checking its client proof. Pay at least `enqueueFee(txData.length)`
    ///         in ETH; the whole payment is the fee. `txData` may not start with DEPOSIT_TAG.
    function enqueue(bytes calldata txData, bytes calldata proof) external payable returns (uint256 index);

    /// @notice Deposit `amount` (at most 2^128 - 1) of FEE_ASSET, pulled from the caller into the
    ///         rollup, for `recipient`'s L2 fee balance. It is queued like a forced tx, as the
    ///         DEPOSIT_LENGTH bytes `DEPOSIT_TAG ‖ recipient ‖ uint128(amount)`, and pays the same
    ///         `enqueueFee(DEPOSIT_LENGTH)` in ETH.
    function depositFee(address recipient, uint256 amount) external payable returns (uint256 index);

    /// @notice Rollup only: mark the next `count` entries included. Returns the hash a block's
    ///         header commits to for them, keccak256(abi.encodePacked(txHash_0, ..., txHash_{count-1})),
    ///         and the due epoch of the entry that is now next (`NO_DUE_EPOCH` when none is left).
    ///         `provenHead` is the queue head after the rollup's proven tip: entries before it are
    ///         final, so the queue may reuse their storage.
    function consume(uint256 count, uint256 provenHead)
        external
        returns (bytes32 forcedTxsHash, Epoch nextDueEpoch);

    /// @notice Rollup only: move the head back to `newHead` (<= head), the queue head after the
    ///         rollup's proven tip, when the blocks that consumed the entries after it are pruned.
    ///         Returns the due epoch of the new head.
    function rewind(uint256 newHead) external returns (Epoch nextDueEpoch);

    /// @notice Send the collected fees to FEE_RECIPIENT (anyone may call).
    function sweepFees() external;

    /// @notice ETH needed to force `txLength` bytes now: the L1 cost a proposer bears to carry it
    ///         (INCLUSION_GAS at the base fee plus its bytes at the blob base fee), times
    ///         (FEE_DOUBLE_THRESHOLD + entries not yet taken by a block) / FEE_DOUBLE_THRESHOLD.
    function enqueueFee(uint256 txLength) external view returns (uint256);

    /// @notice Entries due at `epoch` and not yet included: the head of the queue up to the last
    ///         entry whose includedByEpoch <= epoch.
    function dueCount(Epoch epoch) external view returns (uint256);

    /// @notice includedByEpoch of the next entry to include (`NO_DUE_EPOCH` when the queue is empty).
    function headDueEpoch() external view returns (Epoch);

    /// @notice `includedByEpoch` is 0 for an entry that was proven DUE_MARKS due epochs ago or more
    ///         (its ForcedTxQueued event keeps it).
    function getEntry(uint256 index) external view returns (ForcedTx memory);
    /// @notice Index of the next entry to include, and one past the last queued.
    function head() external view returns (uint256);
    function tail() external view returns (uint256);

    function ROLLUP() external view returns (address);
    function GENESIS_TIME() external view returns (uint256);
    function SLOT_DURATION() external view returns (uint256);
    function EPOCH_DURATION() external view returns (uint256);
    function FORCED_INCLUSION_DELAY() external view returns (uint256);
    function FEE_ASSET() external view returns (IERC20);
}
