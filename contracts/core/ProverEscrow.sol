// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IProverEscrow} from "../interfaces/IProverEscrow.sol";
import {Errors} from "../libraries/Errors.sol";
import {Timestamp} from "../libraries/TimeLib.sol";

/// @title ProverEscrow
/// @notice Provers' bond deposits (SPEC 5.2). NatSpec of every function is in IProverEscrow.
/// @dev Bound to its rollup at construction: ROLLUP is immutable and there is no initializer. The
///      deployer computes the rollup's address first; the Rollup's constructor checks the binding
///      (`ESCROW.ROLLUP() == address(this)`) and refuses an escrow bound to anyone else.
///      Accounting: token balance == sum(free) + sum(pending) + sum(staked) + sum(slashed), always;
///      deposits credit the balance delta, so a fee-on-transfer token cannot inflate a prover's
///      balance, under a reentrancy guard, so a token that calls back before moving funds cannot
///      have one delta counted twice (F-04). A slash moves no token: it books the burn address's
///      and the recipient's shares, paid out by `withdrawSlashed`, so a token that refuses
///      transfers can never make the rollup's prune, and with it every block, revert (F-06).
contract ProverEscrow is IProverEscrow, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    /// @dev ERC-20s (OpenZeppelin's among them) refuse transfers to address(0).
    address public constant BURN_ADDRESS = 0x000000000000000000000000000000000000dEaD;

    struct Account {
        uint128 free;
        uint128 staked;
        uint128 pending;
        uint64 withdrawableAt;
    }

    IERC20 public immutable TOKEN;
    address public immutable ROLLUP;
    uint256 public immutable ESCROW_WITHDRAW_DELAY;

    mapping(address prover => Account) internal accounts;
    /// @dev Slashed bonds not yet paid out, by who gets them (the burn address included).
    mapping(address account => uint256) public override slashedBalance;

    constructor(IERC20 token, address rollup, uint256 withdrawDelay) {
        require(address(token) != address(0), Errors.Escrow__ZeroParameter(0));
        require(rollup != address(0), Errors.Escrow__ZeroParameter(1));
        require(withdrawDelay != 0, Errors.Escrow__ZeroParameter(2));
        TOKEN = token;
        ROLLUP = rollup;
        ESCROW_WITHDRAW_DELAY = withdrawDelay;
    }

    modifier onlyRollup() {
        require(msg.sender == ROLLUP, Errors.Escrow__NotRollup(ROLLUP, msg.sender));
        _;
    }

    function deposit(uint256 amount) external override nonReentrant {
        require(amount != 0, Errors.Escrow__ZeroAmount());
        uint256 before = TOKEN.balanceOf(address(this));
        TOKEN.safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = TOKEN.balanceOf(address(this)) - before;
        require(received != 0, Errors.Escrow__NothingReceived());
        accounts[msg.sender].free += received.toUint128();
        emit Deposited(msg.sender, received);
    }

    function startWithdraw(uint256 amount) external override {
        require(amount != 0, Errors.Escrow__ZeroAmount());
        Account storage a = accounts[msg.sender];
        require(a.free >= amount, Errors.Escrow__InsufficientFreeBalance(a.free, amount));
        uint256 withdrawableAt = block.timestamp + ESCROW_WITHDRAW_DELAY;
        a.free -= uint128(amount);
        a.pending += uint128(amount);
        a.withdrawableAt = uint64(withdrawableAt);
        emit WithdrawStarted(msg.sender, amount, withdrawableAt);
    }

    function executeWithdraw() external override {
        Account storage a = accounts[msg.sender];
        uint256 amount = a.pending;
        require(amount != 0, Errors.Escrow__NoPendingWithdrawal(msg.sender));
        require(
            block.timestamp >= a.withdrawableAt,
            Errors.Escrow__WithdrawNotReady(Timestamp.wrap(a.withdrawableAt), Timestamp.wrap(block.timestamp))
        );
        a.pending = 0;
        a.withdrawableAt = 0;
        TOKEN.safeTransfer(msg.sender, amount);
        emit WithdrawExecuted(msg.sender, amount);
    }

    function stakeBond(address prover, uint256 amount) external override onlyRollup {
        Account storage a = accounts[prover];
        uint256 free = a.free;
        uint256 pending = a.pending;
        require(free + pending >= amount, Errors.Escrow__InsufficientBondableBalance(free + pending, amount));
        if (amount <= free) {
            a.free = uint128(free - amount);
        } else {
            a.free = 0;
            a.pending = uint128(pending - (amount - free));
        }
        a.staked += amount.toUint128();
        emit BondStaked(prover, amount);
    }

    function unstakeBond(address prover, uint256 amount) external override onlyRollup {
        Account storage a = accounts[prover];
        require(a.staked >= amount, Errors.Escrow__InsufficientStake(a.staked, amount));
        a.staked -= uint128(amount);
        a.free += amount.toUint128();
        emit BondUnstaked(prover, amount);
    }

    function slashBond(address prover, uint256 amount, uint256 burned, address recipient)
        external
        override
        onlyRollup
    {
        require(burned <= amount, Errors.Escrow__BurnExceedsAmount(amount, burned));
        Account storage a = accounts[prover];
        require(a.staked >= amount, Errors.Escrow__InsufficientStake(a.staked, amount));
        a.staked -= uint128(amount);
        if (burned != 0) slashedBalance[BURN_ADDRESS] += burned;
        if (amount != burned) slashedBalance[recipient] += amount - burned;
        emit BondSlashed(prover, amount, burned, recipient);
    }

    function withdrawSlashed(address account) external override {
        uint256 amount = slashedBalance[account];
        require(amount != 0, Errors.Escrow__NothingSlashed(account));
        slashedBalance[account] = 0;
        TOKEN.safeTransfer(account, amount);
        emit SlashedWithdrawn(account, amount);
    }

    function minBalanceAtTime(address prover, Timestamp ts) external view override returns (uint256 balance) {
        Account memory a = accounts[prover];
        uint256 t = Timestamp.unwrap(ts);
        // A withdrawal started now completes at now + delay: free funds are safe only before that.
        if (t < block.timestamp + ESCROW_WITHDRAW_DELAY) balance = a.free;
        if (t < a.withdrawableAt) balance += a.pending;
    }

    function freeBalance(address prover) external view override returns (uint256) {
        return accounts[prover].free;
    }

    function stakedBalance(address prover) external view override returns (uint256) {
        return accounts[prover].staked;
    }

    function pendingWithdrawal(address prover)
        external
        view
        override
        returns (uint256 amount, Timestamp withdrawableAt)
    {
        Account memory a = accounts[prover];
        return (a.pending, Timestamp.wrap(a.withdrawableAt));
    }
}
