// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IForcedInclusionSink} from "../../contracts/interfaces/IForcedInclusionQueue.sol";
import {Epoch} from "../../contracts/libraries/TimeLib.sol";

/// @notice Stands in for the rollup in the queue's own unit tests: records the queue's calls.
///         (The real Rollup's side is tested in test/Rollup/forcedInclusion.t.sol.)
contract SinkRecorder is IForcedInclusionSink {
    uint256 public calls;
    Epoch public lastDue;

    function forcedTxQueued(Epoch dueEpoch) external {
        calls += 1;
        lastDue = dueEpoch;
    }
}

