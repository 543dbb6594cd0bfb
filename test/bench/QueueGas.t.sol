// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Test} from "forge-std/Test.sol";

import {ForcedInclusionQueue} from "../../contracts/core/ForcedInclusionQueue.sol";
import {DevToken} from "../../contracts/dev/DevToken.sol";
import {TimeConfig} from "../../contracts/libraries/TimeLib.sol";
import {InsecureDevTxProofVerifier} from "../../contracts/verifiers/InsecureDevTxProofVerifier.sol";
import {SinkRecorder} from "../harnesses/SinkRecorder.sol";

abstract contract QueueGasBase is Test {
    uint256 internal constant EPOCH_SECONDS = 32 * 36;

    ForcedInclusionQueue internal queue;
    InsecureDevTxProofVerifier internal verifier;
    SinkRecorder internal sink = new SinkRecorder();
    address internal rollup = address(sink);

    function _deploy() internal {
        vm.warp(1_700_000_000);
        vm.fee(10 gwei);
        verifier = new InsecureDevTxProofVerifier(address(this));
        queue = new ForcedInclusionQueue(
            rollup,
            verifier,
            makeAddr("treasury"),
            TimeConfig({genesisTime: block.timestamp, slotDuration: 36, epochDuration: 32}),
            2,
            30_000,
            50,
            IERC20(address(new DevToken("Fee", "FEE")))
        );
    }

    /// @dev Deploys and enqueues one entry in each of DUE_MARKS consecutive epochs, leaving the
    ///      clock in the last of them: the next epoch's first entry reuses the first mark.
    function _fillRing() internal {
        _deploy();
        uint256 start = block.timestamp;
        for (uint256 i = 0; i < queue.DUE_MARKS(); ++i) {
            vm.warp(start + i * EPOCH_SECONDS);
            _enqueue(abi.encodePacked(i, new bytes(168)));
        }
    }

    function _enqueue(bytes memory txData) internal {
        uint256 fee = queue.enqueueFee(txData.length);
        bytes memory proof = abi.encodePacked(keccak256(txData));
        vm.cool(address(queue));
        vm.cool(address(verifier));
        queue.enqueue{value: fee}(txData, proof);
    }
}

/// @notice `enqueue` in the steady state (not the queue's first entry, not the first of its due
///         epoch), storage cold as in a real transaction. Snapshots in snapshots/QueueGas.json.
contract QueueGasTest is QueueGasBase {
    function setUp() public {
        _deploy();
        _enqueue(new bytes(200));
    }

    /// @dev Issue 4 budget: 60,000 gas plus calldata, for a 200-byte transaction.
    function test_gas_enqueue_200bytes() public {
        _enqueue(abi.encodePacked(keccak256("a"), new bytes(168)));
        uint256 used = vm.snapshotGasLastCall("QueueGas", "enqueue_200_bytes");
        assertLe(used, 60_000);
    }

    /// @dev The first entry of a new due epoch also records that epoch in the due-epoch history.
    function test_gas_enqueue_FirstOfEpoch() public {
        vm.warp(block.timestamp + EPOCH_SECONDS);
        _enqueue(new bytes(200));
        uint256 used = vm.snapshotGasLastCall("QueueGas", "enqueue_200_bytes_first_of_epoch");
        assertLe(used, 60_000);
    }

    /// @dev Issue 4 budget: 3,000 gas per forced transaction included (measured per entry over 8).
    function test_gas_consume_PerEntry() public {
        for (uint256 i = 0; i < 8; ++i) {
            _enqueue(abi.encodePacked(i, new bytes(168)));
        }
        vm.cool(address(queue));
        vm.prank(rollup);
        queue.consume(1, 0);
        uint256 one = vm.snapshotGasLastCall("QueueGas", "consume_1");
        vm.cool(address(queue));
        vm.prank(rollup);
        queue.consume(8, 0);
        uint256 eight = vm.snapshotGasLastCall("QueueGas", "consume_8");
        assertLe((eight - one) / 7, 3000);
    }
}

/// @notice The first entry of a new due epoch once the ring of due marks has wrapped: it reuses
///         the mark of entries the proven chain holds. The ring is filled in setUp, so the
///         measured transaction sees the slots as a real one would.
contract QueueGasRingWrappedTest is QueueGasBase {
    function setUp() public {
        _fillRing();
        vm.prank(rollup);
        queue.consume(2, 2);
        vm.warp(block.timestamp + EPOCH_SECONDS);
    }

    function test_gas_enqueue_FirstOfEpoch_RingWrapped() public {
        _enqueue(new bytes(200));
        uint256 used = vm.snapshotGasLastCall("QueueGas", "enqueue_200_bytes_first_of_epoch_ring_wrapped");
        assertLe(used, 60_000);
    }
}

/// @notice The same, when proofs (which do not call the queue) freed the mark: the queue asks the
///         rollup's proven head before reusing it (F-02), one more call.
contract QueueGasRingWrappedProvenByProofTest is QueueGasBase {
    function setUp() public {
        _fillRing();
        vm.prank(rollup);
        queue.consume(2, 0);
        sink.setProvenQueueHead(2);
        vm.warp(block.timestamp + EPOCH_SECONDS);
    }

    function test_gas_enqueue_FirstOfEpoch_RingWrapped_AsksTheRollup() public {
        vm.cool(address(sink));
        _enqueue(new bytes(200));
        uint256 used =
            vm.snapshotGasLastCall("QueueGas", "enqueue_200_bytes_first_of_epoch_ring_wrapped_asks_rollup");
        assertLe(used, 60_000);
    }
}
