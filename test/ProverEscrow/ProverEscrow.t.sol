// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";

import {ProverEscrow} from "../../contracts/core/ProverEscrow.sol";
import {DevToken} from "../../contracts/dev/DevToken.sol";
import {IProverEscrow} from "../../contracts/interfaces/IProverEscrow.sol";
import {Errors} from "../../contracts/libraries/Errors.sol";
import {Timestamp} from "../../contracts/libraries/TimeLib.sol";
import {FeeOnTransferToken} from "../harnesses/FeeOnTransferToken.sol";

contract ProverEscrowTest is Test {
    uint256 internal constant DELAY = 3 * 32 * 36;

    DevToken internal token;
    ProverEscrow internal escrow;
    address internal rollup = makeAddr("rollup");
    address internal prover = makeAddr("prover");
    address internal recipient = makeAddr("recipient");

    function setUp() public {
        vm.warp(1_700_000_000);
        token = new DevToken("Bond", "BND");
        escrow = new ProverEscrow(token, rollup, DELAY);
    }

    function _deposit(address who, uint256 amount) internal {
        token.mint(who, amount);
        vm.startPrank(who);
        token.approve(address(escrow), amount);
        escrow.deposit(amount);
        vm.stopPrank();
    }

    function test_constructor_RevertWhen_ZeroParameter() public {
        vm.expectRevert(abi.encodeWithSelector(Errors.Escrow__ZeroParameter.selector, 0));
        new ProverEscrow(DevToken(address(0)), rollup, DELAY);
        vm.expectRevert(abi.encodeWithSelector(Errors.Escrow__ZeroParameter.selector, 1));
        new ProverEscrow(token, address(0), DELAY);
        vm.expectRevert(abi.encodeWithSelector(Errors.Escrow__ZeroParameter.selector, 2));
        new ProverEscrow(token, rollup, 0);
    }

    function test_deposit_CreditsFreeBalance() public {
        token.mint(prover, 10 ether);
        vm.startPrank(prover);
        token.approve(address(escrow), 10 ether);
        vm.expectEmit(address(escrow));
        emit IProverEscrow.Deposited(prover, 10 ether);
        escrow.deposit(10 ether);
        vm.stopPrank();
        assertEq(escrow.freeBalance(prover), 10 ether);
        assertEq(token.balanceOf(address(escrow)), 10 ether);
    }

    function test_deposit_RevertWhen_Zero() public {
        vm.expectRevert(Errors.Escrow__ZeroAmount.selector);
        escrow.deposit(0);
    }

    function test_deposit_FeeOnTransferCreditsWhatArrived() public {
        FeeOnTransferToken fee = new FeeOnTransferToken();
        ProverEscrow e = new ProverEscrow(fee, rollup, DELAY);
        fee.mint(prover, 100 ether);
        vm.startPrank(prover);
        fee.approve(address(e), 100 ether);
        e.deposit(100 ether);
        vm.stopPrank();
        assertEq(e.freeBalance(prover), 99 ether);
        assertEq(fee.balanceOf(address(e)), 99 ether);
    }

    function test_startWithdraw_MovesFreeToPending() public {
        _deposit(prover, 10 ether);
        vm.expectEmit(address(escrow));
        emit IProverEscrow.WithdrawStarted(prover, 4 ether, block.timestamp + DELAY);
        vm.prank(prover);
        escrow.startWithdraw(4 ether);
        (uint256 amount, Timestamp at) = escrow.pendingWithdrawal(prover);
        assertEq(amount, 4 ether);
        assertEq(Timestamp.unwrap(at), block.timestamp + DELAY);
        assertEq(escrow.freeBalance(prover), 6 ether);
    }

    function test_startWithdraw_RevertWhen_MoreThanFree() public {
        _deposit(prover, 1 ether);
        vm.expectRevert(
            abi.encodeWithSelector(Errors.Escrow__InsufficientFreeBalance.selector, 1 ether, 2 ether)
        );
        vm.prank(prover);
        escrow.startWithdraw(2 ether);
    }

    function test_startWithdraw_RevertWhen_Zero() public {
        vm.expectRevert(Errors.Escrow__ZeroAmount.selector);
        vm.prank(prover);
        escrow.startWithdraw(0);
    }

    function test_startWithdraw_AgainRestartsTheClock() public {
        _deposit(prover, 10 ether);
        vm.prank(prover);
        escrow.startWithdraw(1 ether);
        vm.warp(vm.getBlockTimestamp() + DELAY - 1);
        vm.prank(prover);
        escrow.startWithdraw(1 ether);
        (uint256 amount, Timestamp at) = escrow.pendingWithdrawal(prover);
        assertEq(amount, 2 ether);
        assertEq(Timestamp.unwrap(at), vm.getBlockTimestamp() + DELAY);
    }

    function test_executeWithdraw_PaysAfterDelayOnly() public {
        _deposit(prover, 10 ether);
        vm.prank(prover);
        escrow.startWithdraw(4 ether);
        uint256 at = block.timestamp + DELAY;
        vm.warp(at - 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                Errors.Escrow__WithdrawNotReady.selector, Timestamp.wrap(at), Timestamp.wrap(at - 1)
            )
        );
        vm.prank(prover);
        escrow.executeWithdraw();
        vm.warp(at);
        vm.prank(prover);
        escrow.executeWithdraw();
        assertEq(token.balanceOf(prover), 4 ether);
        (uint256 amount,) = escrow.pendingWithdrawal(prover);
        assertEq(amount, 0);
    }

    function test_executeWithdraw_RevertWhen_NothingPending() public {
        vm.expectRevert(abi.encodeWithSelector(Errors.Escrow__NoPendingWithdrawal.selector, prover));
        vm.prank(prover);
        escrow.executeWithdraw();
    }

    function test_rollupOnly_RevertWhen_CalledByOthers() public {
        bytes memory err = abi.encodeWithSelector(Errors.Escrow__NotRollup.selector, rollup, address(this));
        vm.expectRevert(err);
        escrow.stakeBond(prover, 1);
        vm.expectRevert(err);
        escrow.unstakeBond(prover, 1);
        vm.expectRevert(err);
        escrow.slashBond(prover, 1, 1, recipient);
    }

    function test_stakeBond_TakesFreeThenPending() public {
        _deposit(prover, 10 ether);
        vm.prank(prover);
        escrow.startWithdraw(6 ether);
        vm.prank(rollup);
        escrow.stakeBond(prover, 7 ether);
        assertEq(escrow.freeBalance(prover), 0);
        assertEq(escrow.stakedBalance(prover), 7 ether);
        (uint256 pending,) = escrow.pendingWithdrawal(prover);
        assertEq(pending, 3 ether);
    }

    function test_stakeBond_RevertWhen_NotEnough() public {
        _deposit(prover, 1 ether);
        vm.expectRevert(
            abi.encodeWithSelector(Errors.Escrow__InsufficientBondableBalance.selector, 1 ether, 2 ether)
        );
        vm.prank(rollup);
        escrow.stakeBond(prover, 2 ether);
    }

    function test_stakedBond_CannotBeWithdrawn() public {
        _deposit(prover, 5 ether);
        vm.prank(rollup);
        escrow.stakeBond(prover, 5 ether);
        vm.expectRevert(abi.encodeWithSelector(Errors.Escrow__InsufficientFreeBalance.selector, 0, 1));
        vm.prank(prover);
        escrow.startWithdraw(1);
    }

    function test_unstakeBond_ReturnsToFree() public {
        _deposit(prover, 5 ether);
        vm.startPrank(rollup);
        escrow.stakeBond(prover, 5 ether);
        escrow.unstakeBond(prover, 5 ether);
        vm.expectRevert(abi.encodeWithSelector(Errors.Escrow__InsufficientStake.selector, 0, 1));
        escrow.unstakeBond(prover, 1);
        vm.stopPrank();
        assertEq(escrow.freeBalance(prover), 5 ether);
    }

    /// @dev A slash books the shares and moves no token (F-06): the payouts are pulled later, by
    ///      anyone, and only to the account booked.
    function test_slashBond_BooksBurnAndRecipientThenPaysOnWithdraw() public {
        _deposit(prover, 5 ether);
        vm.startPrank(rollup);
        escrow.stakeBond(prover, 4 ether);
        vm.expectEmit(address(escrow));
        emit IProverEscrow.BondSlashed(prover, 4 ether, 3 ether, recipient);
        escrow.slashBond(prover, 4 ether, 3 ether, recipient);
        vm.stopPrank();
        address burn = escrow.BURN_ADDRESS();
        assertEq(token.balanceOf(address(escrow)), 5 ether, "a slash moves no token");
        assertEq(escrow.slashedBalance(burn), 3 ether);
        assertEq(escrow.slashedBalance(recipient), 1 ether);
        assertEq(escrow.stakedBalance(prover), 0);
        assertEq(escrow.freeBalance(prover), 1 ether);

        vm.expectEmit(address(escrow));
        emit IProverEscrow.SlashedWithdrawn(burn, 3 ether);
        escrow.withdrawSlashed(burn);
        vm.prank(makeAddr("anyone"));
        escrow.withdrawSlashed(recipient);
        assertEq(token.balanceOf(burn), 3 ether);
        assertEq(token.balanceOf(recipient), 1 ether);
        assertEq(escrow.slashedBalance(burn), 0);
        vm.expectRevert(abi.encodeWithSelector(Errors.Escrow__NothingSlashed.selector, recipient));
        escrow.withdrawSlashed(recipient);
    }

    function test_slashBond_RevertWhen_BurnAboveAmountOrStake() public {
        _deposit(prover, 5 ether);
        vm.startPrank(rollup);
        escrow.stakeBond(prover, 4 ether);
        vm.expectRevert(abi.encodeWithSelector(Errors.Escrow__BurnExceedsAmount.selector, 1 ether, 2 ether));
        escrow.slashBond(prover, 1 ether, 2 ether, recipient);
        vm.expectRevert(abi.encodeWithSelector(Errors.Escrow__InsufficientStake.selector, 4 ether, 5 ether));
        escrow.slashBond(prover, 5 ether, 5 ether, recipient);
        vm.stopPrank();
    }

    function test_minBalanceAtTime_DiscountsWhatCanLeaveByThen() public {
        _deposit(prover, 10 ether);
        vm.prank(prover);
        escrow.startWithdraw(4 ether);
        uint256 at = block.timestamp + DELAY;
        // Before the pending withdrawal matures everything is still here.
        assertEq(escrow.minBalanceAtTime(prover, Timestamp.wrap(at - 1)), 10 ether);
        // From its maturity the pending part may be gone; free funds could also leave by now+delay.
        assertEq(escrow.minBalanceAtTime(prover, Timestamp.wrap(at)), 0);
        vm.warp(block.timestamp + 1);
        assertEq(escrow.minBalanceAtTime(prover, Timestamp.wrap(at)), 6 ether);
    }

    /// @dev What the view promises for time `horizon` survives the prover's fastest ways out.
    function testFuzz_minBalanceAtTime_SurvivesFastestExit(
        uint96 dep,
        uint96 withdraw,
        uint32 elapsed,
        uint32 horizon
    ) public {
        vm.assume(dep > 0);
        _deposit(prover, dep);
        withdraw = uint96(bound(withdraw, 0, dep));
        if (withdraw > 0) {
            vm.prank(prover);
            escrow.startWithdraw(withdraw);
        }
        vm.warp(vm.getBlockTimestamp() + elapsed);
        uint256 end = vm.getBlockTimestamp() + horizon;
        uint256 promised = escrow.minBalanceAtTime(prover, Timestamp.wrap(end));
        assertLe(promised, dep);

        // Way out 1: withdraw everything free right now, collect whatever matured by `end`.
        uint256 snap = vm.snapshotState();
        uint256 free = escrow.freeBalance(prover);
        if (free > 0) {
            vm.prank(prover);
            escrow.startWithdraw(free);
        }
        _collectBy(end);
        assertGe(token.balanceOf(address(escrow)), promised, "drained below the promise (1)");
        vm.revertToState(snap);

        // Way out 2: leave free funds alone, collect the pending withdrawal as soon as it matures.
        _collectBy(end);
        assertGe(token.balanceOf(address(escrow)), promised, "drained below the promise (2)");
        vm.revertToState(snap);

        // And what is promised can really be staked now.
        if (promised > 0) {
            vm.prank(rollup);
            escrow.stakeBond(prover, promised);
            assertEq(escrow.stakedBalance(prover), promised);
        }
    }

    /// @dev Warps to just before `end` (the promise is for balances strictly before it matures out)
    ///      and executes the pending withdrawal if it has matured.
    function _collectBy(uint256 end) internal {
        (uint256 pending, Timestamp at) = escrow.pendingWithdrawal(prover);
        if (pending == 0 || Timestamp.unwrap(at) > end) return;
        if (Timestamp.unwrap(at) > vm.getBlockTimestamp()) vm.warp(Timestamp.unwrap(at));
        vm.prank(prover);
        escrow.executeWithdraw();
    }
}
