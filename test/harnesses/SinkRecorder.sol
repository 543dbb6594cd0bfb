// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IForcedInclusionSink} from "../../contracts/interfaces/IForcedInclusionQueue.sol";
import {Epoch} from "../../contracts/libraries/TimeLib.sol";

/// @notice Stands in for the rollup in the queue's own unit tests: records the queue's calls, and
///         answers its proven queue head as the tests set it (a proof moves it on the rollup).
///         (The real Rollup's side is tested in test/Rollup/forcedInclusion.t.sol.)
contract SinkRecorder is IForcedInclusionSink {
    uint256 public calls;
    Epoch public lastDue;
    uint256 public deposited;
    uint256 public provenQueueHead;

    function forcedTxQueued(Epoch dueEpoch) external {
        calls += 1;
        lastDue = dueEpoch;
    }

    function feesDeposited(uint256 amount) external {
        deposited += amount;
    }

    function setProvenQueueHead(uint256 head) external {
        provenQueueHead = head;
    }
}

