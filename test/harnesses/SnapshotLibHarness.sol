// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {SnapshotLib} from "../../contracts/libraries/SnapshotLib.sol";

/// @dev One storage History behind external calls, so tests can catch push reverts.
contract SnapshotLibHarness {
    using SnapshotLib for SnapshotLib.History;

    SnapshotLib.History internal history;

    function push(uint48 key, uint208 value) external {
        history.push(key, value);
    }

    function latestValue() external view returns (uint208) {
        return history.latestValue();
    }

    function valueAt(uint48 key) external view returns (uint208) {
        return history.valueAt(key);
    }
}
