// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";

import {ProverEscrow} from "../../../contracts/core/ProverEscrow.sol";
import {DevToken} from "../../../contracts/dev/DevToken.sol";

/// @notice Drives a ProverEscrow as provers (deposit, withdraw), as its rollup (stake, unstake,
///         slash) and as anyone (pay out slashed bonds), keeping ghost totals of every token that
///         entered or left.
contract EscrowHandler is Test {
    ProverEscrow public immutable escrow;
    DevToken public immutable token;
    address public immutable rollup;
    address public immutable slashRecipient = makeAddr("slashRecipient");
    address[] public provers;

    uint256 public ghostDeposited;
    uint256 public ghostWithdrawn;
    uint256 public ghostSlashed; // booked by slashes
    uint256 public ghostSlashedPaid; // paid out by withdrawSlashed
    mapping(address => uint256) public ghostSlashedOf; // booked and not yet paid, by account
    mapping(address => uint256) public ghostStaked;
    /// @dev Set when a prover received more than its free + pending funds allowed: must stay false.
    bool public ghostStakeLeaked;

    constructor(ProverEscrow escrow_, DevToken token_, address rollup_) {
        escrow = escrow_;
        token = token_;
        rollup = rollup_;
        for (uint256 i = 0; i < 4; ++i) {
            provers.push(makeAddr(string.concat("prover", vm.toString(i))));
        }
    }

    function proverCount() external view returns (uint256) {
        return provers.length;
    }

    function _prover(uint256 seed) internal view returns (address) {
        return provers[seed % provers.length];
    }

    function deposit(uint256 seed, uint256 amount) external {
        address p = _prover(seed);
        amount = bound(amount, 1, 1e24);
        token.mint(p, amount);
        vm.startPrank(p);
        token.approve(address(escrow), amount);
        escrow.deposit(amount);
        vm.stopPrank();
        ghostDeposited += amount;
    }

    function startWithdraw(uint256 seed, uint256 amount) external {
        address p = _prover(seed);
        uint256 free = escrow.freeBalance(p);
        if (free == 0) return;
        amount = bound(amount, 1, free);
        vm.prank(p);
        escrow.startWithdraw(amount);
    }

    function executeWithdraw(uint256 seed) external {
        address p = _prover(seed);
        (uint256 pending,) = escrow.pendingWithdrawal(p);
        uint256 before = token.balanceOf(p);
        vm.prank(p);
        try escrow.executeWithdraw() {
            uint256 got = token.balanceOf(p) - before;
            if (got > pending) ghostStakeLeaked = true;
            ghostWithdrawn += got;
        } catch {}
    }

    function stakeBond(uint256 seed, uint256 amount) external {
        address p = _prover(seed);
        (uint256 pending,) = escrow.pendingWithdrawal(p);
        uint256 bondable = escrow.freeBalance(p) + pending;
        if (bondable == 0) return;
        amount = bound(amount, 1, bondable);
        vm.prank(rollup);
        escrow.stakeBond(p, amount);
        ghostStaked[p] += amount;
    }

    function unstakeBond(uint256 seed, uint256 amount) external {
        address p = _prover(seed);
        if (ghostStaked[p] == 0) return;
        amount = bound(amount, 1, ghostStaked[p]);
        vm.prank(rollup);
        escrow.unstakeBond(p, amount);
        ghostStaked[p] -= amount;
    }

    function slashBond(uint256 seed, uint256 amount, uint256 burnBps) external {
        address p = _prover(seed);
        if (ghostStaked[p] == 0) return;
        amount = bound(amount, 1, ghostStaked[p]);
        uint256 burned = amount * bound(burnBps, 0, 10_000) / 10_000;
        vm.prank(rollup);
        escrow.slashBond(p, amount, burned, slashRecipient);
        ghostStaked[p] -= amount;
        ghostSlashed += amount;
        ghostSlashedOf[escrow.BURN_ADDRESS()] += burned;
        ghostSlashedOf[slashRecipient] += amount - burned;
    }

    /// @notice Anyone pays out what slashes booked to the burn address or the recipient: exactly
    ///         that, to that account only.
    function withdrawSlashed(bool burn) external {
        address account = burn ? escrow.BURN_ADDRESS() : slashRecipient;
        uint256 owed = ghostSlashedOf[account];
        uint256 before = token.balanceOf(account);
        try escrow.withdrawSlashed(account) {
            uint256 got = token.balanceOf(account) - before;
            if (got != owed) ghostStakeLeaked = true;
            ghostSlashedOf[account] = 0;
            ghostSlashedPaid += got;
        } catch {
            if (owed != 0) ghostStakeLeaked = true;
        }
    }

    function warp(uint256 dt) external {
        vm.warp(vm.getBlockTimestamp() + bound(dt, 1, 2 * escrow.ESCROW_WITHDRAW_DELAY()));
    }
}
