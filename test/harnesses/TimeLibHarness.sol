// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Epoch, Slot, TimeConfig, TimeLib, Timestamp} from "../../contracts/libraries/TimeLib.sol";

/// @dev External entry points, so a test can catch TimeLib's reverts with vm.expectRevert.
contract TimeLibHarness {
    function slotAt(TimeConfig memory cfg, Timestamp t) external pure returns (Slot) {
        return TimeLib.slotAt(cfg, t);
    }

    function epochAt(TimeConfig memory cfg, Timestamp t) external pure returns (Epoch) {
        return TimeLib.epochAt(cfg, t);
    }
}
