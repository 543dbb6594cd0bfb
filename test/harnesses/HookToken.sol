// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {DevToken} from "../../contracts/dev/DevToken.sol";

/// @notice What a sender registers to be called before its tokens move (ERC-777's tokensToSend).
interface ISendHook {
    function beforeSend(address to, uint256 amount) external;
}

/// @notice A mintable token that calls the sender's hook before moving its funds, as ERC-777 tokens
///         (and any token with transfer hooks) do: the receiver sees the call before the balance.
contract HookToken is DevToken {
    mapping(address => bool) public hooked;

    constructor() DevToken("Hook", "HOOK") {}

    function setHook(bool on) external {
        hooked[msg.sender] = on;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0) && hooked[from]) ISendHook(from).beforeSend(to, value);
        super._update(from, to, value);
    }
}
