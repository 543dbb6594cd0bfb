// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Test} from "forge-std/Test.sol";

import {ForcedInclusionQueue} from "../../contracts/core/ForcedInclusionQueue.sol";
import {DevToken} from "../../contracts/dev/DevToken.sol";
import {
    DEPOSIT_TAG,
    ForcedTx,
    IForcedInclusionQueue,
    NO_DUE_EPOCH
} from "../../contracts/interfaces/IForcedInclusionQueue.sol";
import {Errors} from "../../contracts/libraries/Errors.sol";
import {Epoch, TimeConfig} from "../../contracts/libraries/TimeLib.sol";
import {InsecureDevTxProofVerifier} from "../../contracts/verifiers/InsecureDevTxProofVerifier.sol";
import {FeeOnTransferToken} from "../harnesses/FeeOnTransferToken.sol";
import {SinkRecorder} from "../harnesses/SinkRecorder.sol";

/// @notice A fee recipient that refuses ETH.
contract RefusingRecipient {}

contract ForcedInclusionQueueTest is Test {
    uint256 internal constant SLOT = 36;
    uint256 internal constant EPOCH = 32;
    uint256 internal constant DELAY = 2;
    uint256 internal constant INCLUSION_GAS = 30_000;
    uint256 internal constant FEE_DOUBLE = 50;

    ForcedInclusionQueue internal queue;
    InsecureDevTxProofVerifier internal verifier;
    SinkRecorder internal sink = new SinkRecorder();
    address internal rollup = address(sink);
    address internal treasury = makeAddr("treasury");
    address internal user = makeAddr("user");
    uint256 internal genesis;
    DevToken internal feeToken = new DevToken("Fee", "FEE");

    function setUp() public {
        vm.warp(1_700_000_000);
        genesis = block.timestamp;
        vm.fee(10 gwei);
        verifier = new InsecureDevTxProofVerifier(address(this));
        queue = _newQueue(IERC20(address(feeToken)));
        vm.deal(user, 100 ether);
    }

    function _newQueue(IERC20 feeAsset) internal returns (ForcedInclusionQueue) {
        return new ForcedInclusionQueue(
            rollup,
            verifier,
            treasury,
            TimeConfig({genesisTime: genesis, slotDuration: SLOT, epochDuration: EPOCH}),
            DELAY,
            INCLUSION_GAS,
            FEE_DOUBLE,
            feeAsset
        );
    }

    function _tx(uint256 i) internal pure returns (bytes memory) {
        return abi.encode("forced tx", i);
    }

    function _enqueue(bytes memory txData) internal returns (uint256) {
        uint256 fee = queue.enqueueFee(txData.length);
        bytes memory proof = abi.encodePacked(keccak256(txData));
        vm.prank(user);
        return queue.enqueue{value: fee}(txData, proof);
    }

    function _warpToEpoch(uint256 e) internal {
        vm.warp(genesis + e * EPOCH * SLOT);
    }

    function test_enqueue_AppendsAndPublishesTheTx() public {
        _warpToEpoch(3);
        bytes memory txData = _tx(0);
        uint256 fee = queue.enqueueFee(txData.length);
        vm.expectEmit(address(queue));
        emit IForcedInclusionQueue.ForcedTxQueued(0, keccak256(txData), 3 + DELAY, txData);
        vm.prank(user);
        uint256 index = queue.enqueue{value: fee}(txData, abi.encodePacked(keccak256(txData)));

        assertEq(index, 0);
        ForcedTx memory entry = queue.getEntry(0);
        assertEq(entry.txHash, keccak256(txData));
        assertEq(Epoch.unwrap(entry.includedByEpoch), 3 + DELAY);
        assertFalse(entry.included);
        assertEq(queue.tail(), 1);
        assertEq(address(queue).balance, fee);
    }

    /// @dev INCLUSION_GAS at the base fee, plus one unit of blob gas per byte at the blob base fee.
    function test_enqueueFee_PricesGasAndBlobBytes() public view {
        assertEq(queue.enqueueFee(0), INCLUSION_GAS * 10 gwei);
        uint256 perByte = queue.enqueueFee(1) - queue.enqueueFee(0);
        assertEq(queue.enqueueFee(100), INCLUSION_GAS * 10 gwei + 100 * perByte);
    }

    /// @dev F-10: base x (FEE_DOUBLE + waiting) / FEE_DOUBLE, waiting = entries no block has taken;
    ///      entries taken by a block stop counting (even before they are proven).
    function testFuzz_enqueueFee_RisesLinearlyWithEntriesWaiting(uint8 queued, uint8 taken, uint16 len)
        public
    {
        uint256 base = INCLUSION_GAS * 10 gwei + uint256(len) * block.blobbasefee;
        assertEq(queue.enqueueFee(len), base, "empty queue: the L1 cost alone");
        for (uint256 i = 0; i < queued; ++i) {
            _enqueue(_tx(i));
        }
        taken = uint8(bound(taken, 0, queued));
        vm.prank(rollup);
        queue.consume(taken, 0);
        uint256 waiting = uint256(queued) - taken;
        assertEq(queue.enqueueFee(len), base * (FEE_DOUBLE + waiting) / FEE_DOUBLE);
    }

    // ------------------------------------------------------------------ fee deposits (F-03)

    /// @dev Mints and approves `amount` for `user`; the deposit itself is the caller's next call.
    function _fundDeposit(uint256 amount) internal returns (uint256 fee) {
        feeToken.mint(user, amount);
        vm.prank(user);
        feeToken.approve(address(queue), amount);
        fee = queue.enqueueFee(queue.DEPOSIT_LENGTH());
    }

    /// @dev A deposit is an entry like a forced tx (same FIFO, due epoch and rule), whose data is
    ///      DEPOSIT_TAG ‖ recipient ‖ uint128(amount); the tokens go to the rollup, which is told.
    function testFuzz_depositFee_QueuesTheDepositAndMovesTheTokensToTheRollup(
        address recipient,
        uint128 amount
    ) public {
        vm.assume(recipient != address(0) && amount != 0);
        _warpToEpoch(2);
        _enqueue(_tx(0));
        bytes memory data = abi.encodePacked(DEPOSIT_TAG, recipient, amount);
        assertEq(data.length, queue.DEPOSIT_LENGTH());
        uint256 fee = _fundDeposit(amount);
        vm.expectEmit(address(queue));
        emit IForcedInclusionQueue.ForcedTxQueued(1, keccak256(data), 2 + DELAY, data);
        vm.expectEmit(address(queue));
        emit IForcedInclusionQueue.FeeDeposited(1, recipient, amount);
        vm.prank(user);
        assertEq(queue.depositFee{value: fee}(recipient, amount), 1);
        assertEq(queue.getEntry(1).txHash, keccak256(data));
        assertEq(feeToken.balanceOf(rollup), amount, "the tokens are with the rollup");
        assertEq(sink.deposited(), amount, "the rollup was told");
        assertEq(sink.calls(), 1, "the queue was not empty: no new head");
    }

    function test_depositFee_RevertWhen_ZeroRecipientZeroOrHugeAmount() public {
        uint256 fee = queue.enqueueFee(queue.DEPOSIT_LENGTH());
        vm.startPrank(user);
        vm.expectRevert(abi.encodeWithSelector(Errors.Queue__InvalidDeposit.selector, address(0), 1));
        queue.depositFee{value: fee}(address(0), 1);
        vm.expectRevert(abi.encodeWithSelector(Errors.Queue__InvalidDeposit.selector, user, 0));
        queue.depositFee{value: fee}(user, 0);
        uint256 huge = uint256(type(uint128).max) + 1;
        vm.expectRevert(abi.encodeWithSelector(Errors.Queue__InvalidDeposit.selector, user, huge));
        queue.depositFee{value: fee}(user, huge);
        vm.expectRevert(abi.encodeWithSelector(Errors.Queue__FeeTooLow.selector, fee, fee - 1));
        queue.depositFee{value: fee - 1}(user, 1);
        vm.stopPrank();
        assertEq(queue.tail(), 0);
    }

    /// @dev A fee-on-transfer token would leave L2 balances backed by less than they say.
    function test_depositFee_RevertWhen_LessArrives() public {
        FeeOnTransferToken fot = new FeeOnTransferToken();
        ForcedInclusionQueue q = _newQueue(IERC20(address(fot)));
        fot.mint(user, 100);
        uint256 fee = q.enqueueFee(q.DEPOSIT_LENGTH());
        vm.startPrank(user);
        fot.approve(address(q), 100);
        vm.expectRevert(abi.encodeWithSelector(Errors.Queue__DepositNotReceived.selector, 100, 99));
        q.depositFee{value: fee}(user, 100);
        vm.stopPrank();
    }

    /// @dev Only `depositFee` queues deposits: a forced tx shaped like one is refused.
    function test_enqueue_RevertWhen_StartsWithTheDepositTag() public {
        bytes memory txData = abi.encodePacked(DEPOSIT_TAG, user, uint128(1 ether));
        uint256 fee = queue.enqueueFee(txData.length);
        vm.expectRevert(Errors.Queue__DepositTagReserved.selector);
        vm.prank(user);
        queue.enqueue{value: fee}(txData, abi.encodePacked(keccak256(txData)));
    }

    function test_enqueue_RevertWhen_FeeTooLow() public {
        bytes memory txData = _tx(0);
        uint256 fee = queue.enqueueFee(txData.length);
        bytes memory proof = abi.encodePacked(keccak256(txData));
        vm.expectRevert(abi.encodeWithSelector(Errors.Queue__FeeTooLow.selector, fee, fee - 1));
        vm.prank(user);
        queue.enqueue{value: fee - 1}(txData, proof);
    }

    function test_enqueue_RevertWhen_ProofInvalid() public {
        bytes memory txData = _tx(0);
        uint256 fee = queue.enqueueFee(txData.length);
        vm.expectRevert(abi.encodeWithSelector(Errors.Queue__InvalidTxProof.selector, keccak256(txData)));
        vm.prank(user);
        queue.enqueue{value: fee}(txData, abi.encodePacked(keccak256("another tx")));
        assertEq(user.balance, 100 ether, "a refused enqueue kept the fee");
    }

    function test_enqueue_RevertWhen_Empty() public {
        vm.expectRevert(Errors.Queue__EmptyTx.selector);
        queue.enqueue("", "");
    }

    function test_dueCount_FromTheFirstSecondOfTheDueEpoch() public {
        _warpToEpoch(1);
        _enqueue(_tx(0));
        _enqueue(_tx(1));
        vm.warp(genesis + (1 + DELAY) * EPOCH * SLOT - 1);
        assertEq(queue.dueCount(Epoch.wrap(DELAY)), 0);
        assertEq(queue.dueCount(Epoch.wrap(1 + DELAY)), 2);
        assertEq(Epoch.unwrap(queue.headDueEpoch()), 1 + DELAY);
    }

    function test_consume_ReturnsHashOfEntriesInOrder() public {
        _enqueue(_tx(0));
        _enqueue(_tx(1));
        _enqueue(_tx(2));
        vm.prank(rollup);
        (bytes32 h, Epoch next) = queue.consume(2, 0);
        assertEq(h, keccak256(abi.encodePacked(keccak256(_tx(0)), keccak256(_tx(1)))));
        assertEq(Epoch.unwrap(next), DELAY);
        assertEq(queue.head(), 2);
        assertTrue(queue.getEntry(1).included);
        assertFalse(queue.getEntry(2).included);
        vm.prank(rollup);
        (h, next) = queue.consume(0, 0);
        assertEq(h, keccak256(""));
        vm.prank(rollup);
        (, next) = queue.consume(1, 0);
        assertEq(Epoch.unwrap(next), Epoch.unwrap(NO_DUE_EPOCH), "empty queue: nothing ever due");
    }

    /// @dev The rollup hears of the queue's head only when the queue goes from empty to one entry.
    function test_enqueue_TellsTheRollupOnlyWhenTheHeadChanges() public {
        _warpToEpoch(1);
        _enqueue(_tx(0));
        assertEq(sink.calls(), 1);
        assertEq(Epoch.unwrap(sink.lastDue()), 1 + DELAY);
        _warpToEpoch(2);
        _enqueue(_tx(1));
        assertEq(sink.calls(), 1, "a second entry leaves the head alone");
        vm.prank(rollup);
        queue.consume(2, 0);
        _warpToEpoch(4);
        _enqueue(_tx(2));
        assertEq(sink.calls(), 2);
        assertEq(Epoch.unwrap(sink.lastDue()), 4 + DELAY);
    }

    function test_rewind_RequeuesConsumedEntriesWithTheirDueEpochs() public {
        _warpToEpoch(1);
        _enqueue(_tx(0));
        _warpToEpoch(2);
        _enqueue(_tx(1));
        vm.prank(rollup);
        queue.consume(2, 0);
        vm.expectEmit(address(queue));
        emit IForcedInclusionQueue.ForcedTxsRequeued(0, 2);
        vm.prank(rollup);
        Epoch next = queue.rewind(0);
        assertEq(Epoch.unwrap(next), 1 + DELAY);
        assertEq(queue.head(), 0);
        assertFalse(queue.getEntry(0).included);
        assertEq(Epoch.unwrap(queue.headDueEpoch()), 1 + DELAY);
        vm.prank(rollup);
        (bytes32 h,) = queue.consume(1, 0);
        assertEq(h, keccak256(abi.encodePacked(keccak256(_tx(0)))), "the same entry comes out again");
    }

    function test_rewind_RevertWhen_PastTheHead() public {
        _enqueue(_tx(0));
        vm.expectRevert(abi.encodeWithSelector(Errors.Queue__InvalidRewind.selector, 0, 1));
        vm.prank(rollup);
        queue.rewind(1);
    }

    function test_rewind_RevertWhen_NotRollup() public {
        vm.expectRevert(abi.encodeWithSelector(Errors.Queue__NotRollup.selector, rollup, address(this)));
        queue.rewind(0);
    }

    function test_sweepFees_RevertWhen_RecipientRefuses() public {
        address refusing = address(new RefusingRecipient());
        ForcedInclusionQueue q = new ForcedInclusionQueue(
            rollup,
            verifier,
            refusing,
            TimeConfig({genesisTime: genesis, slotDuration: SLOT, epochDuration: EPOCH}),
            DELAY,
            INCLUSION_GAS,
            FEE_DOUBLE,
            IERC20(address(feeToken))
        );
        bytes memory txData = _tx(0);
        uint256 fee = q.enqueueFee(txData.length);
        vm.prank(user);
        q.enqueue{value: fee}(txData, abi.encodePacked(keccak256(txData)));
        vm.expectRevert(abi.encodeWithSelector(Errors.Queue__FeeTransferFailed.selector, refusing, fee));
        q.sweepFees();
        assertEq(address(q).balance, fee, "the fees stay until they can be paid");
    }

    function test_consume_RevertWhen_NotRollup() public {
        vm.expectRevert(abi.encodeWithSelector(Errors.Queue__NotRollup.selector, rollup, address(this)));
        queue.consume(0, 0);
    }

    function test_consume_RevertWhen_MoreThanQueued() public {
        _enqueue(_tx(0));
        vm.expectRevert(abi.encodeWithSelector(Errors.Queue__NotEnoughQueued.selector, 1, 2));
        vm.prank(rollup);
        queue.consume(2, 0);
    }

    function test_getEntry_RevertWhen_BeyondTail() public {
        vm.expectRevert(abi.encodeWithSelector(Errors.Queue__EntryNotFound.selector, 0, 0));
        queue.getEntry(0);
    }

    function test_sweepFees_PaysTreasury() public {
        _enqueue(_tx(0));
        uint256 held = address(queue).balance;
        assertGt(held, 0);
        queue.sweepFees();
        assertEq(treasury.balance, held);
        assertEq(address(queue).balance, 0);
    }

    function test_constructor_RevertWhen_ZeroParameter() public {
        TimeConfig memory t = TimeConfig({genesisTime: genesis, slotDuration: SLOT, epochDuration: EPOCH});
        IERC20 fa = IERC20(address(feeToken));
        vm.expectRevert(abi.encodeWithSelector(Errors.Queue__ZeroParameter.selector, 0));
        new ForcedInclusionQueue(address(0), verifier, treasury, t, DELAY, INCLUSION_GAS, FEE_DOUBLE, fa);
        vm.expectRevert(abi.encodeWithSelector(Errors.Queue__ZeroParameter.selector, 1));
        new ForcedInclusionQueue(
            rollup, InsecureDevTxProofVerifier(address(0)), treasury, t, DELAY, INCLUSION_GAS, FEE_DOUBLE, fa
        );
        vm.expectRevert(abi.encodeWithSelector(Errors.Queue__ZeroParameter.selector, 2));
        new ForcedInclusionQueue(rollup, verifier, address(0), t, DELAY, INCLUSION_GAS, FEE_DOUBLE, fa);
        t.slotDuration = 0;
        vm.expectRevert(abi.encodeWithSelector(Errors.Queue__ZeroParameter.selector, 3));
        new ForcedInclusionQueue(rollup, verifier, treasury, t, DELAY, INCLUSION_GAS, FEE_DOUBLE, fa);
        t.slotDuration = SLOT;
        vm.expectRevert(abi.encodeWithSelector(Errors.Queue__ZeroParameter.selector, 4));
        new ForcedInclusionQueue(rollup, verifier, treasury, t, 0, INCLUSION_GAS, FEE_DOUBLE, fa);
        vm.expectRevert(abi.encodeWithSelector(Errors.Queue__ZeroParameter.selector, 5));
        new ForcedInclusionQueue(rollup, verifier, treasury, t, DELAY, INCLUSION_GAS, 0, fa);
        vm.expectRevert(abi.encodeWithSelector(Errors.Queue__ZeroParameter.selector, 6));
        new ForcedInclusionQueue(
            rollup, verifier, treasury, t, DELAY, INCLUSION_GAS, FEE_DOUBLE, IERC20(address(0))
        );
    }

    /// @dev Random enqueues over epochs, consumes and prunes, against a plain model: per entry its
    ///      due epoch and inclusion, and the due count at several epochs. As in the rollup, the
    ///      proven head only moves forward, never past the head, and a prune rewinds to it.
    function testFuzz_queue_MatchesModel(uint256 seed) public {
        _runModel(seed, 30, 40, 3, 8);
    }

    /// @dev The same over hundreds of due epochs, so the ring of due marks wraps, and fills while
    ///      proofs stall (steps 800 to 1,600).
    /// forge-config: default.fuzz.runs = 32
    /// forge-config: ci.fuzz.runs = 64
    function testFuzz_queue_MatchesModel_RingWraps(uint256 seed) public {
        _runModel(seed, 2000, 900, 1, 400);
    }

    function _runModel(uint256 seed, uint256 steps, uint256 maxEntries, uint256 maxEpochStep, uint256 stall)
        internal
    {
        uint256[] memory dueOf = new uint256[](maxEntries);
        uint256 n;
        uint256 head;
        uint256 proven;
        uint256 epoch;
        uint256 marks; // distinct due epochs so far
        uint256 lastDue = type(uint256).max;
        for (uint256 step = 0; step < steps; ++step) {
            uint256 r = uint256(keccak256(abi.encode(seed, step)));
            if (r % 4 == 0) {
                epoch += 1 + (r >> 8) % maxEpochStep;
                _warpToEpoch(epoch);
            } else if (r % 4 == 3 && n > head) {
                uint256 count = 1 + (r >> 8) % (n - head);
                // Proofs advance in every third stretch of `stall` steps only: the two stretches in
                // between are long enough to fill the ring of marks.
                if ((step / stall) % 3 == 1) proven += (r >> 16) % (head - proven + 1);
                sink.setProvenQueueHead(proven);
                vm.prank(rollup);
                (, Epoch next) = queue.consume(count, proven);
                head += count;
                assertEq(Epoch.unwrap(next), head < n ? dueOf[head] : Epoch.unwrap(NO_DUE_EPOCH), "next due");
            } else if (r % 8 == 6 && proven < head) {
                // A proof: the rollup's proven head moves without a call to the queue.
                proven += 1 + (r >> 16) % (head - proven);
                sink.setProvenQueueHead(proven);
            } else if (r % 8 == 2 && head != proven) {
                // A prune hands back the consumed entries the proven chain does not hold.
                vm.prank(rollup);
                Epoch next = queue.rewind(proven);
                head = proven;
                assertEq(
                    Epoch.unwrap(next), head < n ? dueOf[head] : Epoch.unwrap(NO_DUE_EPOCH), "rewound due"
                );
            } else if (n < dueOf.length) {
                if (epoch + DELAY != lastDue && _liveMarks(dueOf, n, proven) == queue.DUE_MARKS()) {
                    bytes memory txData = _tx(n);
                    uint256 fee = queue.enqueueFee(txData.length);
                    vm.expectRevert(
                        abi.encodeWithSelector(Errors.Queue__TooManyDueEpochs.selector, queue.DUE_MARKS())
                    );
                    vm.prank(user);
                    queue.enqueue{value: fee}(txData, abi.encodePacked(keccak256(txData)));
                    continue;
                }
                _enqueue(_tx(n));
                dueOf[n++] = epoch + DELAY;
                if (epoch + DELAY != lastDue) ++marks;
                lastDue = epoch + DELAY;
            }
        }
        assertEq(queue.head(), head);
        assertEq(queue.tail(), n);
        // Due marks older than the last DUE_MARKS are reused: their entries read 0, and only
        // entries the proven chain holds may be among them.
        uint256 firstKept = marks > queue.DUE_MARKS() ? marks - queue.DUE_MARKS() : 0;
        uint256 m;
        for (uint256 i = 0; i < n; ++i) {
            if (i != 0 && dueOf[i] != dueOf[i - 1]) ++m;
            ForcedTx memory entry = queue.getEntry(i);
            if (m < firstKept) {
                assertLt(i, proven, "only proven entries lose their mark");
                assertEq(Epoch.unwrap(entry.includedByEpoch), 0, "forgotten due epoch");
            } else {
                assertEq(Epoch.unwrap(entry.includedByEpoch), dueOf[i], "due epoch");
            }
            assertEq(entry.txHash, keccak256(_tx(i)), "hash");
            assertEq(entry.included, i < head, "included");
        }
        for (uint256 e = epoch > 8 ? epoch - 8 : 0; e <= epoch + DELAY + 1; ++e) {
            uint256 due;
            for (uint256 i = head; i < n; ++i) {
                if (dueOf[i] <= e) ++due;
            }
            assertEq(queue.dueCount(Epoch.wrap(e)), due, "due count");
        }
        assertEq(Epoch.unwrap(queue.headDueEpoch()), head < n ? dueOf[head] : Epoch.unwrap(NO_DUE_EPOCH));
    }

    /// @dev Distinct due epochs among entries [proven, n): the marks the queue must keep.
    function _liveMarks(uint256[] memory dueOf, uint256 n, uint256 proven)
        internal
        pure
        returns (uint256 live)
    {
        for (uint256 i = proven; i < n; ++i) {
            if (i == proven || dueOf[i] != dueOf[i - 1]) ++live;
        }
    }

    /// @dev With DUE_MARKS due epochs pending and nothing proven, a new due epoch is refused at no
    ///      cost; the same due epoch still queues; a proof frees a mark, with no call to the queue
    ///      (the queue asks the rollup's proven head).
    function test_enqueue_RevertWhen_TooManyDueEpochs() public {
        uint256 limit = queue.DUE_MARKS();
        for (uint256 i = 0; i < limit; ++i) {
            _warpToEpoch(i);
            _enqueue(_tx(i));
        }
        _enqueue(_tx(limit)); // same due epoch as the last: no new mark
        _warpToEpoch(limit);
        bytes memory txData = _tx(limit + 1);
        uint256 fee = queue.enqueueFee(txData.length);
        uint256 balance = user.balance;
        vm.expectRevert(abi.encodeWithSelector(Errors.Queue__TooManyDueEpochs.selector, limit));
        vm.prank(user);
        queue.enqueue{value: fee}(txData, abi.encodePacked(keccak256(txData)));
        assertEq(user.balance, balance, "nothing charged");

        // Consumed but unproven entries still hold their marks (a prune could requeue them).
        vm.prank(rollup);
        queue.consume(3, 0);
        vm.expectRevert(abi.encodeWithSelector(Errors.Queue__TooManyDueEpochs.selector, limit));
        vm.prank(user);
        queue.enqueue{value: fee}(txData, abi.encodePacked(keccak256(txData)));

        // Entry 0 proven (on the rollup, which does not call the queue): its mark is reused.
        sink.setProvenQueueHead(1);
        assertEq(_enqueue(txData), limit + 1);
        assertEq(Epoch.unwrap(queue.getEntry(limit + 1).includedByEpoch), limit + DELAY);
        assertEq(Epoch.unwrap(queue.getEntry(0).includedByEpoch), 0, "proven, mark reused");
        assertEq(Epoch.unwrap(queue.getEntry(1).includedByEpoch), 1 + DELAY);
        vm.prank(rollup);
        assertEq(Epoch.unwrap(queue.rewind(1)), 1 + DELAY, "a prune back to the proven head");
        assertEq(queue.dueCount(Epoch.wrap(limit + DELAY)), limit + 1);
    }
}
