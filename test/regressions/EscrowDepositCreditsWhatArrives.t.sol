// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";

import {ProverEscrow} from "../../contracts/core/ProverEscrow.sol";
import {HookToken, ISendHook} from "../harnesses/HookToken.sol";

/// @notice Deposits twice: once, and again from inside its own token's send hook.
contract ReenteringDepositor is ISendHook {
    ProverEscrow internal immutable ESCROW;
    HookToken internal immutable TOKEN;
    uint256 internal inner;

    constructor(ProverEscrow escrow, HookToken token) {
        ESCROW = escrow;
        TOKEN = token;
        token.approve(address(escrow), type(uint256).max);
        token.setHook(true);
    }

    function attack(uint256 outer, uint256 again) external {
        inner = again;
        ESCROW.deposit(outer);
    }

    function beforeSend(address, uint256) external {
        uint256 again = inner;
        if (again == 0) return;
        inner = 0;
        ESCROW.deposit(again);
    }
}

/// @notice F-04 (review, low): `ProverEscrow.deposit` credited the balance difference around the
///         transfer without a reentrancy guard, so a token that calls back before moving funds let a
///         depositor be credited twice for the inner deposit: 200 deposited, 300 credited.
contract EscrowDepositCreditsWhatArrivesTest is Test {
    HookToken internal token;
    ProverEscrow internal escrow;
    ReenteringDepositor internal attacker;

    function setUp() public {
        token = new HookToken();
        escrow = new ProverEscrow(token, address(this), 1 days);
        attacker = new ReenteringDepositor(escrow, token);
        token.mint(address(attacker), 1000);
    }

    function test_aDepositReenteredFromTheTokenCreditsNoMoreThanArrived() public {
        try attacker.attack(100, 100) {} catch {}
        uint256 held = token.balanceOf(address(escrow));
        assertEq(escrow.freeBalance(address(attacker)), held, "credited more than the escrow received");
    }

    /// @dev The guard refuses only reentry: the same depositor's plain deposits still work.
    function test_depositsWithoutReentryAreCredited() public {
        attacker.attack(100, 0);
        attacker.attack(50, 0);
        assertEq(escrow.freeBalance(address(attacker)), 150);
        assertEq(token.balanceOf(address(escrow)), 150);
    }
}
