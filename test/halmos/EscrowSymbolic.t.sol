// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";

import {ProverEscrow} from "../../contracts/core/ProverEscrow.sol";
import {DevToken} from "../../contracts/dev/DevToken.sol";
import {Timestamp} from "../../contracts/libraries/TimeLib.sol";

/// @notice Symbolic (halmos) proofs of the ProverEscrow accounting, for every input at once
///         instead of fuzzed samples. Run with `make halmos`; forge ignores `check_` functions.
///
///         Two kinds of checks:
///         - one step from ANY reachable state: the accounts of two provers are written straight
///           into the escrow's storage from symbolic values, the token balance is set to match,
///           and a single operation must keep the accounting exact (an inductive step: together
///           with the empty initial state it covers sequences of any length);
///         - sequences of three symbolic operations from a fresh escrow, end to end.
///         This contract is the escrow's rollup, so it can call stakeBond/unstakeBond/slashBond.
contract EscrowSymbolicTest is Test {
    address internal constant P = address(0x1000);
    address internal constant Q = address(0x2000);
    address internal constant SLASH_RECIPIENT = address(0x3000);
    uint256 internal constant DELAY = 3 * 8 * 12;

    DevToken internal token;
    ProverEscrow internal escrow;

    function setUp() public {
        token = new DevToken("Bond", "BND");
        escrow = new ProverEscrow(token, address(this), DELAY);
    }

    // ------------------------------------------------------------------ helpers

    struct Acct {
        uint256 free;
        uint256 pending;
        uint256 staked;
        uint256 withdrawableAt;
    }

    function _acct(address p) internal view returns (Acct memory a) {
        a.free = escrow.freeBalance(p);
        (a.pending, a.withdrawableAt) = _pending(p);
        a.staked = escrow.stakedBalance(p);
    }

    function _pending(address p) internal view returns (uint256 amount, uint256 at) {
        Timestamp t;
        (amount, t) = escrow.pendingWithdrawal(p);
        at = Timestamp.unwrap(t);
    }

    function _total(Acct memory a) internal pure returns (uint256) {
        return a.free + a.pending + a.staked;
    }

    /// @dev The escrow holds every account's free, pending and staked funds, and the slashed bonds
    ///      booked (to the burn address and the recipient) and not yet paid out.
    function _assertAccounting() internal view {
        uint256 slashed =
            escrow.slashedBalance(escrow.BURN_ADDRESS()) + escrow.slashedBalance(SLASH_RECIPIENT);
        assertEq(
            token.balanceOf(address(escrow)), _total(_acct(P)) + _total(_acct(Q)) + slashed, "balance != sum"
        );
    }

    /// @dev Writes `p`'s account into ProverEscrow.accounts (slot 0 of the escrow; struct Account
    ///      is {uint128 free, uint128 staked} then {uint128 pending, uint64 withdrawableAt}), then
    ///      reads it back through the getters, so a layout change fails here instead of proving
    ///      something about the wrong storage.
    function _store(address p, uint128 free, uint128 staked, uint128 pending, uint64 withdrawableAt)
        internal
    {
        bytes32 base = keccak256(abi.encode(p, uint256(0)));
        vm.store(address(escrow), base, bytes32((uint256(staked) << 128) | free));
        vm.store(
            address(escrow), bytes32(uint256(base) + 1), bytes32((uint256(withdrawableAt) << 128) | pending)
        );
        Acct memory a = _acct(p);
        assertEq(a.free, free, "layout: free");
        assertEq(a.staked, staked, "layout: staked");
        assertEq(a.pending, pending, "layout: pending");
        assertEq(a.withdrawableAt, withdrawableAt, "layout: withdrawableAt");
    }

    /// @dev A symbolic reachable state for P and Q at time `now_`, with the token balance equal to
    ///      the accounts' sum. Reachable: a pending withdrawal was started at or before now, so it
    ///      completes at most DELAY from now, and an account with nothing pending has no date.
    function _symbolicState(uint256 now_, uint128[4] memory p, uint64 pAt, uint128[4] memory q, uint64 qAt)
        internal
    {
        vm.assume(now_ >= DELAY && now_ < 2 ** 40);
        vm.warp(now_);
        // p/q: free, staked, pending, (unused)
        vm.assume(pAt <= now_ + DELAY && (p[2] == 0) == (pAt == 0));
        vm.assume(qAt <= now_ + DELAY && (q[2] == 0) == (qAt == 0));
        _store(P, p[0], p[1], p[2], pAt);
        _store(Q, q[0], q[1], q[2], qAt);
        token.mint(address(escrow), uint256(p[0]) + p[1] + p[2] + q[0] + q[1] + q[2]);
        _assertAccounting();
    }

    // ------------------------------------------------------------------ one step from any state

    /// @notice deposit credits exactly what arrived, to the caller's free balance only.
    function check_deposit_keepsAccounting(
        uint256 now_,
        uint128[4] memory p,
        uint64 pAt,
        uint128[4] memory q,
        uint64 qAt,
        uint256 amount
    ) public {
        _symbolicState(now_, p, pAt, q, qAt);
        Acct memory before = _acct(P);
        Acct memory other = _acct(Q);
        token.mint(P, amount);
        vm.startPrank(P);
        token.approve(address(escrow), amount);
        escrow.deposit(amount);
        vm.stopPrank();

        _assertAccounting();
        Acct memory a = _acct(P);
        assertEq(a.free, before.free + amount, "free");
        assertEq(a.pending, before.pending, "pending");
        assertEq(a.staked, before.staked, "staked");
        assertEq(_total(_acct(Q)), _total(other), "other prover");
    }

    /// @notice startWithdraw moves free to pending, never touches the stake, and restarts the clock.
    function check_startWithdraw_keepsAccounting(
        uint256 now_,
        uint128[4] memory p,
        uint64 pAt,
        uint128[4] memory q,
        uint64 qAt,
        uint256 amount
    ) public {
        _symbolicState(now_, p, pAt, q, qAt);
        Acct memory before = _acct(P);
        vm.prank(P);
        escrow.startWithdraw(amount);

        _assertAccounting();
        Acct memory a = _acct(P);
        assertLe(amount, before.free, "took more than free");
        assertEq(a.free + a.pending, before.free + before.pending, "free + pending");
        assertEq(a.staked, before.staked, "staked");
        assertEq(a.withdrawableAt, now_ + DELAY, "withdrawableAt");
    }

    /// @notice executeWithdraw pays exactly the pending amount, only once it is due, and never
    ///         any staked or free funds: a staked bond cannot be withdrawn.
    function check_executeWithdraw_paysOnlyPending(
        uint256 now_,
        uint128[4] memory p,
        uint64 pAt,
        uint128[4] memory q,
        uint64 qAt,
        uint256 later
    ) public {
        _symbolicState(now_, p, pAt, q, qAt);
        vm.assume(later >= now_ && later < 2 ** 40);
        vm.warp(later);
        Acct memory before = _acct(P);
        uint256 balanceBefore = token.balanceOf(P);
        vm.prank(P);
        escrow.executeWithdraw();

        _assertAccounting();
        Acct memory a = _acct(P);
        assertGe(later, before.withdrawableAt, "paid before due");
        assertEq(token.balanceOf(P) - balanceBefore, before.pending, "paid != pending");
        assertEq(a.pending, 0, "pending left");
        assertEq(a.free, before.free, "free");
        assertEq(a.staked, before.staked, "staked");
    }

    /// @notice stakeBond never takes more than free + pending, takes free funds first, and moves
    ///         exactly `amount` into the stake.
    function check_stakeBond_takesOnlyBondable(
        uint256 now_,
        uint128[4] memory p,
        uint64 pAt,
        uint128[4] memory q,
        uint64 qAt,
        uint256 amount
    ) public {
        _symbolicState(now_, p, pAt, q, qAt);
        Acct memory before = _acct(P);
        escrow.stakeBond(P, amount);

        _assertAccounting();
        Acct memory a = _acct(P);
        assertLe(amount, before.free + before.pending, "took more than free + pending");
        assertEq(a.staked, before.staked + amount, "staked");
        assertEq(a.free + a.pending + amount, before.free + before.pending, "free + pending");
        if (amount <= before.free) assertEq(a.pending, before.pending, "pending taken before free");
        assertLe(a.withdrawableAt, before.withdrawableAt, "withdrawal delayed");
    }

    /// @notice A stake larger than free + pending always reverts.
    function check_stakeBond_refusesMoreThanBondable(
        uint256 now_,
        uint128[4] memory p,
        uint64 pAt,
        uint128[4] memory q,
        uint64 qAt,
        uint256 amount
    ) public {
        _symbolicState(now_, p, pAt, q, qAt);
        Acct memory before = _acct(P);
        vm.assume(amount > before.free + before.pending);
        (bool ok,) = address(escrow).call(abi.encodeCall(ProverEscrow.stakeBond, (P, amount)));
        assertFalse(ok, "staked more than free + pending");
    }

    /// @notice unstakeBond returns exactly the released stake to free.
    function check_unstakeBond_keepsAccounting(
        uint256 now_,
        uint128[4] memory p,
        uint64 pAt,
        uint128[4] memory q,
        uint64 qAt,
        uint256 amount
    ) public {
        _symbolicState(now_, p, pAt, q, qAt);
        Acct memory before = _acct(P);
        escrow.unstakeBond(P, amount);

        _assertAccounting();
        Acct memory a = _acct(P);
        assertLe(amount, before.staked, "released more than staked");
        assertEq(a.free, before.free + amount, "free");
        assertEq(a.staked, before.staked - amount, "staked");
        assertEq(a.pending, before.pending, "pending");
    }

    /// @notice slashBond takes only staked funds and books exactly what it removes, moving no
    ///         token: `burned` to the burn address, the rest to the recipient (review F-06). (The
    ///         recipient is the rollup's SLASH_RECIPIENT.)
    function check_slashBond_keepsAccounting(
        uint256 now_,
        uint128[4] memory p,
        uint64 pAt,
        uint128[4] memory q,
        uint64 qAt,
        uint256 amount,
        uint256 burned
    ) public {
        _symbolicState(now_, p, pAt, q, qAt);
        Acct memory before = _acct(P);
        address burn = escrow.BURN_ADDRESS();
        uint256 held = token.balanceOf(address(escrow));
        escrow.slashBond(P, amount, burned, SLASH_RECIPIENT);

        _assertAccounting();
        Acct memory a = _acct(P);
        assertLe(amount, before.staked, "slashed more than staked");
        assertEq(a.staked, before.staked - amount, "staked");
        assertEq(a.free, before.free, "free");
        assertEq(a.pending, before.pending, "pending");
        assertEq(token.balanceOf(address(escrow)), held, "a slash moved tokens");
        assertEq(escrow.slashedBalance(burn), burned, "burned");
        assertEq(escrow.slashedBalance(SLASH_RECIPIENT), amount - burned, "recipient");
    }

    /// @notice withdrawSlashed pays an account exactly what slashes booked to it, and nothing of
    ///         anyone's deposit.
    function check_withdrawSlashed_paysTheBookingOnly(
        uint256 now_,
        uint128[4] memory p,
        uint64 pAt,
        uint128[4] memory q,
        uint64 qAt,
        uint256 amount,
        uint256 burned,
        bool toBurn
    ) public {
        _symbolicState(now_, p, pAt, q, qAt);
        escrow.slashBond(P, amount, burned, SLASH_RECIPIENT);
        address account = toBurn ? escrow.BURN_ADDRESS() : SLASH_RECIPIENT;
        uint256 booked = escrow.slashedBalance(account);
        vm.assume(booked != 0);
        Acct memory before = _acct(P);
        uint256 got = token.balanceOf(account);
        escrow.withdrawSlashed(account);
        _assertAccounting();
        assertEq(token.balanceOf(account) - got, booked, "paid other than booked");
        assertEq(escrow.slashedBalance(account), 0, "booking left");
        Acct memory a = _acct(P);
        assertEq(_total(a), _total(before), "a deposit moved");
    }

    /// @notice minBalanceAtTime never exceeds free + pending, at any time asked.
    function check_minBalanceAtTime_boundedByFreePlusPending(
        uint256 now_,
        uint128[4] memory p,
        uint64 pAt,
        uint128[4] memory q,
        uint64 qAt,
        uint256 ts
    ) public {
        _symbolicState(now_, p, pAt, q, qAt);
        Acct memory a = _acct(P);
        assertLe(escrow.minBalanceAtTime(P, Timestamp.wrap(ts)), a.free + a.pending);
    }

    /// @notice What minBalanceAtTime(P, ts) counts now is really still there at ts: whatever
    ///         P does by itself before ts (up to three startWithdraw/executeWithdraw of any amount,
    ///         time moving forward), it cannot take out more than free + pending minus that amount.
    function check_minBalanceAtTime_holdsUntilTs(
        uint256 now_,
        uint128[4] memory p,
        uint64 pAt,
        uint128[4] memory q,
        uint64 qAt,
        uint256 ts,
        uint256[3] memory ops,
        uint256[3] memory amounts,
        uint256[3] memory at
    ) public {
        _symbolicState(now_, p, pAt, q, qAt);
        Acct memory a = _acct(P);
        uint256 counted = escrow.minBalanceAtTime(P, Timestamp.wrap(ts));
        uint256 paidBefore = token.balanceOf(P);

        _proverStep(ops[0], amounts[0], at[0], ts);
        _proverStep(ops[1], amounts[1], at[1], ts);
        _proverStep(ops[2], amounts[2], at[2], ts);

        assertLe(token.balanceOf(P) - paidBefore, a.free + a.pending - counted, "counted funds left");
    }

    /// @dev op 0: startWithdraw(amount), 1: executeWithdraw, 2: nothing; at a time `when` no
    ///      earlier than the last step and before `ts`. A step that would revert is not taken.
    function _proverStep(uint256 op, uint256 amount, uint256 when, uint256 ts) internal {
        vm.assume(op < 3);
        if (op == 2) return;
        vm.assume(when >= block.timestamp && when < ts);
        vm.warp(when);
        Acct memory a = _acct(P);
        if (op == 0) {
            vm.assume(amount != 0 && amount <= a.free);
            vm.prank(P);
            escrow.startWithdraw(amount);
        } else {
            vm.assume(a.pending != 0 && when >= a.withdrawableAt);
            vm.prank(P);
            escrow.executeWithdraw();
        }
    }

    // ------------------------------------------------------------------ sequences from a fresh escrow

    /// @notice Any three operations on P's account (deposit, startWithdraw, executeWithdraw,
    ///         stakeBond, unstakeBond, slashBond, withdrawSlashed, with symbolic amounts), from a fresh escrow that
    ///         also holds Q's deposit, with time moving forward: the accounting holds after every
    ///         step. (Longer sequences and both provers acting: the one-step checks above, which
    ///         start from any reachable state.)
    function check_sequence_keepsAccounting(
        uint256 qDeposit,
        uint256[3] memory ops,
        uint256[3] memory amounts,
        uint256[3] memory dt
    ) public {
        vm.warp(1_700_000_000);
        _step(Q, 0, qDeposit);
        _assertAccounting();
        for (uint256 i = 0; i < 3; ++i) {
            vm.assume(dt[i] < 2 ** 32);
            vm.warp(block.timestamp + dt[i]);
            _step(P, ops[i], amounts[i]);
            _assertAccounting();
        }
    }

    /// @dev Operation `kind` (0 to 6) on `who`'s account (6: pay out the recipient's slashed
    ///      bonds). A step that would revert is not taken (a revert changes nothing).
    function _step(address who, uint256 kind, uint256 amount) internal {
        vm.assume(kind < 7);
        Acct memory a = _acct(who);
        if (kind == 0) {
            vm.assume(amount != 0 && amount < 2 ** 128);
            token.mint(who, amount);
            vm.startPrank(who);
            token.approve(address(escrow), amount);
            escrow.deposit(amount);
            vm.stopPrank();
        } else if (kind == 1) {
            vm.assume(amount != 0 && amount <= a.free);
            vm.prank(who);
            escrow.startWithdraw(amount);
        } else if (kind == 2) {
            vm.assume(a.pending != 0 && block.timestamp >= a.withdrawableAt);
            vm.prank(who);
            escrow.executeWithdraw();
        } else if (kind == 3) {
            vm.assume(amount <= a.free + a.pending);
            escrow.stakeBond(who, amount);
        } else if (kind == 4) {
            vm.assume(amount <= a.staked);
            escrow.unstakeBond(who, amount);
        } else if (kind == 5) {
            vm.assume(amount <= a.staked);
            escrow.slashBond(who, amount, amount / 2, SLASH_RECIPIENT);
        } else {
            vm.assume(escrow.slashedBalance(SLASH_RECIPIENT) != 0);
            escrow.withdrawSlashed(SLASH_RECIPIENT);
        }
    }
}
