// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Timestamp} from "../libraries/TimeLib.sol";

/// @title IProverEscrow
/// @notice Holds provers' bond tokens (SPEC 5.2). A prover's deposit is split three ways that
///         never overlap: free, pending withdrawal, and staked as the bond of a claim.
interface IProverEscrow {
    event Deposited(address indexed prover, uint256 amount);
    event WithdrawStarted(address indexed prover, uint256 amount, uint256 withdrawableAt);
    event WithdrawExecuted(address indexed prover, uint256 amount);
    event BondStaked(address indexed prover, uint256 amount);
    event BondUnstaked(address indexed prover, uint256 amount);
    event BondSlashed(address indexed prover, uint256 amount, uint256 burned, address indexed recipient);
    event SlashedWithdrawn(address indexed account, uint256 amount);

    /// @notice The rollup this escrow is bound to, fixed at construction.
    function ROLLUP() external view returns (address);

    /// @notice Time from `startWithdraw` to `executeWithdraw`.
    function ESCROW_WITHDRAW_DELAY() external view returns (uint256);

    /// @notice Pull `amount` of the bond token from the caller and credit what actually arrived.
    function deposit(uint256 amount) external;

    /// @notice Move `amount` from free to pending withdrawal; the whole pending amount becomes
    ///         withdrawable ESCROW_WITHDRAW_DELAY from now (a later start restarts the clock).
    function startWithdraw(uint256 amount) external;

    /// @notice Pay out the caller's pending withdrawal once its delay has passed.
    function executeWithdraw() external;

    /// @notice Rollup only: lock `amount` of `prover`'s deposit as a bond, free funds first, then
    ///         pending ones (which the rollup counted only if they outlive the proof deadline).
    function stakeBond(address prover, uint256 amount) external;

    /// @notice Rollup only: release a bond back to the prover's free balance.
    function unstakeBond(address prover, uint256 amount) external;

    /// @notice Rollup only: take a bond; `burned` is booked to the burn address, the rest to
    ///         `recipient`, each paid out by `withdrawSlashed` (no token moves here).
    function slashBond(address prover, uint256 amount, uint256 burned, address recipient) external;

    /// @notice Pay `account` the slashed bonds booked to it (anyone may call: the tokens can only go
    ///         to `account`, the burn address included).
    function withdrawSlashed(address account) external;

    /// @notice Slashed bonds booked to `account` and not yet paid out.
    function slashedBalance(address account) external view returns (uint256);

    /// @notice What of `prover`'s deposit is certainly still here at time `ts`: free funds (unless
    ///         a withdrawal started now could complete by `ts`) plus pending ones that cannot.
    function minBalanceAtTime(address prover, Timestamp ts) external view returns (uint256);

    function freeBalance(address prover) external view returns (uint256);
    function stakedBalance(address prover) external view returns (uint256);
    function pendingWithdrawal(address prover)
        external
        view
        returns (uint256 amount, Timestamp withdrawableAt);
}
