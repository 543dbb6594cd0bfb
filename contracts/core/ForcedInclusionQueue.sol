// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {
    DEPOSIT_TAG,
    ForcedTx,
    IForcedInclusionQueue,
    IForcedInclusionSink,
    NO_DUE_EPOCH
} from "../interfaces/IForcedInclusionQueue.sol";
import {ITxProofVerifier} from "../interfaces/ITxProofVerifier.sol";
import {Errors} from "../libraries/Errors.sol";
import {Epoch, TimeConfig, TimeLib, Timestamp} from "../libraries/TimeLib.sol";

/// @title ForcedInclusionQueue
/// @notice The FIFO of forced L2 transactions (SPEC 7), and of fee deposits: the rollup's one
///         L1-to-L2 inbox, which every block must consume in order. NatSpec of every function is
///         in IForcedInclusionQueue.
/// @dev Bound to its rollup at construction (ROLLUP is immutable; the deployer computes the
///      rollup's address first), like the ProverEscrow. One storage slot per entry (its hash).
///      Due epochs are not stored per entry: entries are queued in due-epoch order, so the queue
///      keeps one "due mark" per distinct due epoch (the due epoch and the entries it covers), and a
///      cursor at the mark of the head. Consuming thus learns the next head's due epoch with one
///      storage read, which the rollup caches to skip the queue when nothing is due.
///      Gas: a fresh storage slot costs 20,000, so the marks live in a ring of DUE_MARKS slots that
///      the constructor fills with a placeholder, and the `ends` slot is never zero either. The
///      first entry of a new due epoch then rewrites a mark that only covers entries the proven
///      chain has included for good (the rollup reports its proven head with every `consume` and
///      `rewind`; proofs move it without a call, so when the mark to reuse looks busy the queue
///      asks the rollup, F-02 of the review). Such marks are never read again: a prune rewinds to
///      the proven head, and views of older entries fall back to the ForcedTxQueued event.
contract ForcedInclusionQueue is IForcedInclusionQueue {
    using SafeERC20 for IERC20;

    /// @dev One slot: both ends, the rollup's proven head, the head's mark, the number of marks
    ///      ever made and the last one's epoch (NO_DUE_EPOCH before the first, so the slot is never
    ///      zero).
    struct Ends {
        uint40 head;
        uint40 tail;
        uint40 provenHead; // entries before it are in the proven chain: a prune never rewinds them
        uint40 cursor; // first mark whose `end` > head (meaningless while the queue is empty)
        uint40 marks;
        uint48 lastDue; // dueEpoch of mark `marks - 1`
    }

    /// @dev Entries [start, end) are due from `dueEpoch`. Mark m lives in slot m % DUE_MARKS.
    struct DueMark {
        uint48 dueEpoch;
        uint104 start;
        uint104 end;
    }

    /// @notice Due epochs with entries not yet in the proven chain that the queue can hold. Only a
    ///         proven chain stalled for about this many epochs, while users kept forcing txs, fills
    ///         it; `enqueue` then refuses (Queue__TooManyDueEpochs) until a proof lands.
    uint256 public constant DUE_MARKS = 128;
    /// @notice Bytes of a fee deposit's entry: DEPOSIT_TAG, recipient (20), amount (16, big-endian).
    uint256 public constant DEPOSIT_LENGTH = 37;

    address public immutable override ROLLUP;
    ITxProofVerifier public immutable VERIFIER;
    address public immutable FEE_RECIPIENT;
    uint256 public immutable override GENESIS_TIME;
    uint256 public immutable override SLOT_DURATION;
    uint256 public immutable override EPOCH_DURATION;
    /// @notice FORCED_INCLUSION_DELAY, in epochs.
    uint256 public immutable override FORCED_INCLUSION_DELAY;
    /// @notice L1 gas a proposer spends to carry one forced transaction (its queue check and proof
    ///         share), priced into the enqueue fee at the current base fee.
    uint256 public immutable INCLUSION_GAS;
    /// @notice Entries waiting for a block that double the enqueue fee (Taiko's linear rule:
    ///         fee = base x (threshold + waiting) / threshold), so crowding the queue costs more
    ///         the more crowded it is (docs/censorship.md).
    uint256 public immutable FEE_DOUBLE_THRESHOLD;
    /// @notice The token fee deposits are made in: the rollup's reward asset, which pays the fees.
    IERC20 public immutable override FEE_ASSET;

    Ends internal ends;
    mapping(uint256 index => bytes32 txHash) internal txHashes;
    mapping(uint256 mark => DueMark) internal dueMarks;

    constructor(
        address rollup,
        ITxProofVerifier verifier,
        address feeRecipient,
        TimeConfig memory time,
        uint256 forcedInclusionDelay,
        uint256 inclusionGas,
        uint256 feeDoubleThreshold,
        IERC20 feeAsset
    ) {
        require(rollup != address(0), Errors.Queue__ZeroParameter(0));
        require(address(verifier) != address(0), Errors.Queue__ZeroParameter(1));
        require(feeRecipient != address(0), Errors.Queue__ZeroParameter(2));
        require(time.slotDuration != 0 && time.epochDuration != 0, Errors.Queue__ZeroParameter(3));
        require(forcedInclusionDelay != 0, Errors.Queue__ZeroParameter(4));
        require(feeDoubleThreshold != 0, Errors.Queue__ZeroParameter(5));
        require(address(feeAsset) != address(0), Errors.Queue__ZeroParameter(6));
        ROLLUP = rollup;
        VERIFIER = verifier;
        FEE_RECIPIENT = feeRecipient;
        GENESIS_TIME = time.genesisTime;
        SLOT_DURATION = time.slotDuration;
        EPOCH_DURATION = time.epochDuration;
        FORCED_INCLUSION_DELAY = forcedInclusionDelay;
        INCLUSION_GAS = inclusionGas;
        FEE_DOUBLE_THRESHOLD = feeDoubleThreshold;
        FEE_ASSET = feeAsset;
        ends.lastDue = uint48(Epoch.unwrap(NO_DUE_EPOCH));
        // A placeholder that covers no entry, so every mark slot is already non-zero.
        for (uint256 m = 0; m < DUE_MARKS; ++m) {
            dueMarks[m] = DueMark({dueEpoch: uint48(Epoch.unwrap(NO_DUE_EPOCH)), start: 0, end: 0});
        }
    }

    function enqueue(bytes calldata txData, bytes calldata proof)
        external
        payable
        override
        returns (uint256 index)
    {
        require(txData.length != 0, Errors.Queue__EmptyTx());
        // Only `depositFee` queues deposits: a forced tx that looked like one would credit L2 fee
        // balances backed by nothing.
        require(txData[0] != DEPOSIT_TAG, Errors.Queue__DepositTagReserved());
        uint256 fee = enqueueFee(txData.length);
        require(msg.value >= fee, Errors.Queue__FeeTooLow(fee, msg.value));
        bytes32 txHash = keccak256(txData);
        require(VERIFIER.verifyTx(txData, proof), Errors.Queue__InvalidTxProof(txHash));

        uint48 due;
        bool wasEmpty;
        (index, due, wasEmpty) = _append(txHash);
        emit ForcedTxQueued(index, txHash, due, txData);
        // The rollup caches the head's due epoch; only a new head changes it.
        if (wasEmpty) IForcedInclusionSink(ROLLUP).forcedTxQueued(Epoch.wrap(due));
    }

    function depositFee(address recipient, uint256 amount) external payable override returns (uint256 index) {
        require(
            recipient != address(0) && amount != 0 && amount <= type(uint128).max,
            Errors.Queue__InvalidDeposit(recipient, amount)
        );
        uint256 fee = enqueueFee(DEPOSIT_LENGTH);
        require(msg.value >= fee, Errors.Queue__FeeTooLow(fee, msg.value));
        bytes memory txData = abi.encodePacked(DEPOSIT_TAG, recipient, uint128(amount));
        bytes32 txHash = keccak256(txData);

        uint48 due;
        bool wasEmpty;
        (index, due, wasEmpty) = _append(txHash);
        emit ForcedTxQueued(index, txHash, due, txData);
        emit FeeDeposited(index, recipient, amount);
        // The tokens go straight to the rollup, which pays fees out of them; exactly `amount` must
        // arrive (a fee-on-transfer token would leave L2 balances backed by less).
        uint256 before = FEE_ASSET.balanceOf(ROLLUP);
        FEE_ASSET.safeTransferFrom(msg.sender, ROLLUP, amount);
        uint256 received = FEE_ASSET.balanceOf(ROLLUP) - before;
        require(received == amount, Errors.Queue__DepositNotReceived(amount, received));
        IForcedInclusionSink(ROLLUP).feesDeposited(amount);
        if (wasEmpty) IForcedInclusionSink(ROLLUP).forcedTxQueued(Epoch.wrap(due));
    }

    /// @dev Appends an entry due FORCED_INCLUSION_DELAY epochs from now, under its due mark.
    function _append(bytes32 txHash) internal returns (uint256 index, uint48 due, bool wasEmpty) {
        Ends memory e = ends;
        index = e.tail;
        due = uint48(Epoch.unwrap(_currentEpoch()) + FORCED_INCLUSION_DELAY);
        if (e.lastDue == due) {
            dueMarks[(e.marks - 1) % DUE_MARKS].end = uint104(index + 1);
        } else {
            DueMark storage m = dueMarks[e.marks % DUE_MARKS];
            uint256 end = m.end;
            if (end > e.provenHead) {
                // Proofs advance the rollup's proven head without telling the queue: ask. (It only
                // moves forward; the max keeps a stale answer from moving the queue's back.)
                uint256 proven = IForcedInclusionSink(ROLLUP).provenQueueHead();
                require(end <= proven, Errors.Queue__TooManyDueEpochs(DUE_MARKS));
                if (proven > e.provenHead) e.provenHead = uint40(proven);
            }
            m.dueEpoch = due;
            m.start = uint104(index);
            m.end = uint104(index + 1);
            e.marks += 1;
            e.lastDue = due;
        }
        wasEmpty = e.head == index;
        if (wasEmpty) e.cursor = e.marks - 1;
        txHashes[index] = txHash;
        e.tail = uint40(index + 1);
        ends = e;
    }

    function consume(uint256 count, uint256 provenHead)
        external
        override
        returns (bytes32 forcedTxsHash, Epoch nextDueEpoch)
    {
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
        e.head += uint40(count);
        // The rollup's proven head never passes its pending head, nor goes back.
        e.provenHead = uint40(provenHead);
        uint256 c = e.cursor;
        while (c < e.marks && dueMarks[c % DUE_MARKS].end <= e.head) ++c;
        e.cursor = uint40(c);
        ends = e;
        nextDueEpoch = e.head == e.tail ? NO_DUE_EPOCH : Epoch.wrap(dueMarks[c % DUE_MARKS].dueEpoch);
    }

    function rewind(uint256 newHead) external override returns (Epoch nextDueEpoch) {
        require(msg.sender == ROLLUP, Errors.Queue__NotRollup(ROLLUP, msg.sender));
        Ends memory e = ends;
        require(newHead <= e.head, Errors.Queue__InvalidRewind(e.head, newHead));
        emit ForcedTxsRequeued(newHead, e.head);
        e.head = uint40(newHead);
        // The rollup rewinds to its proven head, which keeps every mark from newHead's on.
        e.provenHead = uint40(newHead);
        // Marks before the ring's oldest were reused: they cover proven entries only.
        uint256 oldest = e.marks > DUE_MARKS ? e.marks - DUE_MARKS : 0;
        uint256 c = e.cursor;
        while (c > oldest && dueMarks[(c - 1) % DUE_MARKS].end > newHead) --c;
        e.cursor = uint40(c);
        ends = e;
        nextDueEpoch = e.head == e.tail ? NO_DUE_EPOCH : Epoch.wrap(dueMarks[c % DUE_MARKS].dueEpoch);
    }

    function sweepFees() external override {
        uint256 amount = address(this).balance;
        emit FeesSwept(FEE_RECIPIENT, amount);
        // A plain call: FEE_RECIPIENT is fixed at deploy, and a reverting one only delays its own fees.
        (bool ok,) = FEE_RECIPIENT.call{value: amount}("");
        require(ok, Errors.Queue__FeeTransferFailed(FEE_RECIPIENT, amount));
    }

    function enqueueFee(uint256 txLength) public view override returns (uint256) {
        Ends memory e = ends;
        // A blob carries one byte per unit of blob gas (ignoring the field-element padding).
        uint256 base = INCLUSION_GAS * block.basefee + txLength * block.blobbasefee;
        return base * (FEE_DOUBLE_THRESHOLD + e.tail - e.head) / FEE_DOUBLE_THRESHOLD;
    }

    function dueCount(Epoch epoch) external view override returns (uint256) {
        Ends memory e = ends;
        if (e.head == e.tail) return 0;
        uint256 end = e.head;
        for (uint256 c = e.cursor; c < e.marks; ++c) {
            DueMark memory m = dueMarks[c % DUE_MARKS];
            if (m.dueEpoch > Epoch.unwrap(epoch)) break;
            end = m.end;
        }
        return end - e.head;
    }

    function headDueEpoch() external view override returns (Epoch) {
        Ends memory e = ends;
        if (e.head == e.tail) return NO_DUE_EPOCH;
        return Epoch.wrap(dueMarks[e.cursor % DUE_MARKS].dueEpoch);
    }

    function getEntry(uint256 index) external view override returns (ForcedTx memory) {
        Ends memory e = ends;
        require(index < e.tail, Errors.Queue__EntryNotFound(e.tail, index));
        // The entry's mark: the first of those still held whose end is past it.
        uint256 lo = e.marks > DUE_MARKS ? e.marks - DUE_MARKS : 0;
        uint256 hi = e.marks - 1;
        while (lo < hi) {
            uint256 mid = (lo + hi) >> 1;
            if (dueMarks[mid % DUE_MARKS].end > index) hi = mid;
            else lo = mid + 1;
        }
        DueMark memory m = dueMarks[lo % DUE_MARKS];
        return ForcedTx({
            txHash: txHashes[index],
            // 0 for an entry whose mark was reused (proven long ago; its ForcedTxQueued has it).
            includedByEpoch: Epoch.wrap(index >= m.start ? m.dueEpoch : 0),
            included: index < e.head
        });
    }

    function head() external view override returns (uint256) {
        return ends.head;
    }

    function tail() external view override returns (uint256) {
        return ends.tail;
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
