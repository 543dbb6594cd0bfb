// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Errors} from "./Errors.sol";

/// @title SnapshotLib
/// @notice A value with its history, keyed by a non-decreasing key (here: an epoch), so a past
///         epoch's view of the validator set can be read after the set has moved on.
/// @dev Unlike OpenZeppelin's Checkpoints (length slot + array element per lookup) the latest
///      checkpoint sits in its own slot, so the common lookup, "nothing changed since the key",
///      is a single SLOAD. Committee sampling does one lookup per member, so this halves its
///      storage reads. Older checkpoints live in an ascending array searched by bisection.
library SnapshotLib {
    struct Checkpoint {
        uint48 key;
        uint208 value;
    }

    struct History {
        Checkpoint latest;
        Checkpoint[] past;
    }

    /// @notice Sets the value from `key` on. A second push with the same key overwrites.
    function push(History storage self, uint48 key, uint208 value) internal {
        Checkpoint memory last = self.latest;
        if (key == last.key) {
            self.latest.value = value;
            return;
        }
        require(key > last.key, Errors.Snapshot__KeyDecreasing(last.key, key));
        self.past.push(last);
        self.latest = Checkpoint({key: key, value: value});
    }

    function latestValue(History storage self) internal view returns (uint208) {
        return self.latest.value;
    }

    /// @notice The value in force at `key`: the last one pushed with a key <= `key` (0 if none).
    function valueAt(History storage self, uint48 key) internal view returns (uint208) {
        Checkpoint memory last = self.latest;
        if (last.key <= key) return last.value;
        Checkpoint[] storage past = self.past;
        uint256 lo = 0;
        uint256 hi = past.length;
        while (lo < hi) {
            uint256 mid = (lo + hi) >> 1;
            if (past[mid].key > key) hi = mid;
            else lo = mid + 1;
        }
        return lo == 0 ? 0 : past[lo - 1].value;
    }
}
