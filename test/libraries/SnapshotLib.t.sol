// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Errors} from "../../contracts/libraries/Errors.sol";
import {SnapshotLibHarness} from "../harnesses/SnapshotLibHarness.sol";
import {Test} from "forge-std/Test.sol";

contract SnapshotLibTest is Test {
    SnapshotLibHarness internal history;

    function setUp() public {
        history = new SnapshotLibHarness();
    }

    function _expectKeyDecreasing(uint256 latest, uint256 key) internal {
        vm.expectRevert(abi.encodeWithSelector(Errors.Snapshot__KeyDecreasing.selector, latest, key));
    }

    // ----------------------------------------------------------------------------------------
    // Unit tests
    // ----------------------------------------------------------------------------------------

    function test_valueAt_EmptyHistoryIsZero() public view {
        assertEq(history.latestValue(), 0);
        assertEq(history.valueAt(0), 0);
        assertEq(history.valueAt(1), 0);
        assertEq(history.valueAt(type(uint48).max), 0);
    }

    function test_push_FirstKeyZero() public {
        history.push(0, 7);
        assertEq(history.latestValue(), 7);
        assertEq(history.valueAt(0), 7);
        assertEq(history.valueAt(type(uint48).max), 7);
    }

    function test_push_SameKeyOverwrites() public {
        history.push(5, 1);
        history.push(5, 2);
        assertEq(history.latestValue(), 2);
        assertEq(history.valueAt(5), 2);
        assertEq(history.valueAt(6), 2);
        assertEq(history.valueAt(4), 0);
    }

    /// @dev Overwriting the latest checkpoint leaves the ones before it alone.
    function test_push_SameKeyOverwritesOnlyLatest() public {
        history.push(1, 10);
        history.push(3, 30);
        history.push(3, 31);
        history.push(3, 0);
        assertEq(history.latestValue(), 0);
        assertEq(history.valueAt(0), 0);
        assertEq(history.valueAt(1), 10);
        assertEq(history.valueAt(2), 10);
        assertEq(history.valueAt(3), 0);
        assertEq(history.valueAt(4), 0);
        history.push(4, 40);
        assertEq(history.valueAt(3), 0, "overwritten value moved to the past");
        assertEq(history.valueAt(2), 10);
        assertEq(history.valueAt(4), 40);
    }

    function test_push_RevertWhen_KeyDecreasing() public {
        history.push(5, 50);
        _expectKeyDecreasing(5, 4);
        history.push(4, 40);
        _expectKeyDecreasing(5, 0);
        history.push(0, 1);
        // A failed push changes nothing.
        assertEq(history.latestValue(), 50);
        assertEq(history.valueAt(4), 0);
        assertEq(history.valueAt(5), 50);
    }

    function test_push_RevertWhen_KeyDecreasingAfterSeveralKeys() public {
        history.push(2, 20);
        history.push(9, 90);
        _expectKeyDecreasing(9, 8);
        history.push(8, 80);
    }

    function test_valueAt_BeforeAtAndBetweenKeys() public {
        history.push(2, 20);
        history.push(5, 50);
        history.push(9, 90);
        // Before the first key.
        assertEq(history.valueAt(0), 0);
        assertEq(history.valueAt(1), 0);
        // At each key.
        assertEq(history.valueAt(2), 20);
        assertEq(history.valueAt(5), 50);
        assertEq(history.valueAt(9), 90);
        // Between keys: the earlier one still holds.
        assertEq(history.valueAt(3), 20);
        assertEq(history.valueAt(4), 20);
        assertEq(history.valueAt(6), 50);
        assertEq(history.valueAt(8), 50);
        // After the last key.
        assertEq(history.valueAt(10), 90);
        assertEq(history.valueAt(type(uint48).max), 90);
        assertEq(history.latestValue(), 90);
    }

    /// @dev Enough checkpoints that the bisection takes several steps either way.
    function test_valueAt_ManyCheckpoints() public {
        uint256 count = 70;
        for (uint256 i = 0; i < count; i++) {
            history.push(uint48(3 * i + 1), uint208(100 + i));
        }
        assertEq(history.valueAt(0), 0);
        for (uint256 i = 0; i < count; i++) {
            assertEq(history.valueAt(uint48(3 * i + 1)), 100 + i);
            assertEq(history.valueAt(uint48(3 * i + 2)), 100 + i);
            assertEq(history.valueAt(uint48(3 * i + 3)), 100 + i);
        }
    }

    function test_valueAt_ExtremeKeysAndValues() public {
        history.push(type(uint48).max - 1, type(uint208).max);
        history.push(type(uint48).max, 1);
        assertEq(history.valueAt(type(uint48).max - 2), 0);
        assertEq(history.valueAt(type(uint48).max - 1), type(uint208).max);
        assertEq(history.valueAt(type(uint48).max), 1);
    }

    // ----------------------------------------------------------------------------------------
    // Fuzz against a reference model
    // ----------------------------------------------------------------------------------------

    uint48[] internal modelKeys;
    uint208[] internal modelValues;

    /// @dev The last value pushed with a key <= `q`, or 0: a linear scan over every push.
    function _modelValueAt(uint48 q) internal view returns (uint208 v) {
        for (uint256 i = 0; i < modelKeys.length; i++) {
            if (modelKeys[i] <= q) v = modelValues[i];
        }
    }

    function _checkAgainstModel(uint48 q) internal view {
        assertEq(history.valueAt(q), _modelValueAt(q), "valueAt differs from the model");
    }

    function testFuzz_valueAt_MatchesReferenceModel(
        uint48 start,
        uint8[] memory gaps,
        uint208[] memory values,
        uint48[] memory queries
    ) public {
        uint256 count = gaps.length < values.length ? gaps.length : values.length;
        if (count > 40) count = 40;
        uint48 key = uint48(bound(start, 0, type(uint48).max - 40 * 255));
        for (uint256 i = 0; i < count; i++) {
            // One gap in four is 0, so same-key overwrites are common.
            if (i > 0 && gaps[i] % 4 != 0) key += gaps[i];
            history.push(key, values[i]);
            modelKeys.push(key);
            modelValues.push(values[i]);
        }
        assertEq(history.latestValue(), count == 0 ? 0 : values[count - 1]);
        for (uint256 i = 0; i < count; i++) {
            uint48 k = modelKeys[i];
            _checkAgainstModel(k);
            if (k > 0) _checkAgainstModel(k - 1);
            _checkAgainstModel(k + 1);
        }
        for (uint256 i = 0; i < queries.length && i < 40; i++) {
            _checkAgainstModel(queries[i]);
        }
        _checkAgainstModel(0);
        _checkAgainstModel(type(uint48).max);
    }

    function testFuzz_push_RevertWhen_KeyDecreasing(uint48 latest, uint48 key, uint208 value) public {
        latest = uint48(bound(latest, 1, type(uint48).max));
        key = uint48(bound(key, 0, latest - 1));
        history.push(latest, 1);
        _expectKeyDecreasing(latest, key);
        history.push(key, value);
    }
}
