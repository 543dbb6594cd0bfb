// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";

import {ProverEscrow} from "../../../contracts/core/ProverEscrow.sol";
import {DevToken} from "../../../contracts/dev/DevToken.sol";
import {EscrowHandler} from "./EscrowHandler.sol";

/// @notice Escrow accounting properties (test/invariants/PROPERTIES.md, "ProverEscrow").
contract EscrowInvariantsTest is Test {
    ProverEscrow internal escrow;
    DevToken internal token;
    EscrowHandler internal handler;

    function setUp() public {
        vm.warp(1_700_000_000);
        token = new DevToken("Bond", "BND");
        address rollup = makeAddr("rollup");
        escrow = new ProverEscrow(token, rollup, 3 * 32 * 36);
        handler = new EscrowHandler(escrow, token, rollup);
        targetContract(address(handler));
    }

    function _sumAccounts() internal view returns (uint256 free, uint256 pending, uint256 staked) {
        for (uint256 i = 0; i < handler.proverCount(); ++i) {
            address p = handler.provers(i);
            (uint256 pend,) = escrow.pendingWithdrawal(p);
            free += escrow.freeBalance(p);
            pending += pend;
            staked += escrow.stakedBalance(p);
        }
    }

    /// @dev Token balance == free + pending withdrawal + staked + slashed and not yet paid out:
    ///      nothing double counts or leaks.
    function invariant_balanceEqualsFreePlusPendingPlusStakedPlusSlashed() public view {
        (uint256 free, uint256 pending, uint256 staked) = _sumAccounts();
        uint256 slashed =
            escrow.slashedBalance(escrow.BURN_ADDRESS()) + escrow.slashedBalance(handler.slashRecipient());
        assertEq(token.balanceOf(address(escrow)), free + pending + staked + slashed);
        assertEq(
            escrow.slashedBalance(escrow.BURN_ADDRESS()),
            handler.ghostSlashedOf(escrow.BURN_ADDRESS()),
            "burn booked"
        );
        assertEq(
            escrow.slashedBalance(handler.slashRecipient()),
            handler.ghostSlashedOf(handler.slashRecipient()),
            "recipient booked"
        );
    }

    /// @dev Every token is accounted for: in = out + held (slashed bonds leave when paid out).
    function invariant_conservation() public view {
        assertEq(
            handler.ghostDeposited(),
            token.balanceOf(address(escrow)) + handler.ghostWithdrawn() + handler.ghostSlashedPaid()
        );
    }

    /// @dev Staked bonds are exactly what the rollup staked and did not release, and no
    ///      withdrawal ever paid out more than was pending (a staked bond is never withdrawable).
    function invariant_stakedMatchesRollupLedger() public view {
        for (uint256 i = 0; i < handler.proverCount(); ++i) {
            address p = handler.provers(i);
            assertEq(escrow.stakedBalance(p), handler.ghostStaked(p));
        }
        assertFalse(handler.ghostStakeLeaked());
    }
}
