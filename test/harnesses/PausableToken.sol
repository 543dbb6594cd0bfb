// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {DevToken} from "../../contracts/dev/DevToken.sol";

/// @notice A mintable token whose transfers can be stopped, as USDC's pause or blocklist stops them:
///         every transfer (mints too) reverts while paused.
contract PausableToken is DevToken {
    bool public paused;

    error Paused();

    constructor() DevToken("Pausable", "PAUSE") {}

    function setPaused(bool on) external {
        paused = on;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (paused) revert Paused();
        super._update(from, to, value);
    }
}
