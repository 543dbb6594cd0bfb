// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

import {IRollup, Signature, ValidatorStatus} from "../interfaces/IRollup.sol";
import {Errors} from "./Errors.sol";
import {SnapshotLib} from "./SnapshotLib.sol";
import {Timestamp} from "./TimeLib.sol";

/// @title StakingLib
/// @notice The Rollup's validator set (SPEC 3): permissionless staking, exits and the set's
///         history by epoch (the committee draw from it is ValidatorSelectionLib's). A linked library (external functions, run by
///         DELEGATECALL on the Rollup's storage) so the Rollup stays under the 24 KB code limit;
///         none of it is on the per-block path except the draw, once per epoch.
/// @dev Snapshot keys: a change made in epoch E is keyed E + 1 (the caller passes the key), and
///      epoch N's committee is drawn from the set at key N - 1, final once epoch N - 1 starts.
library StakingLib {
    using SafeERC20 for IERC20;
    using SnapshotLib for SnapshotLib.History;

    struct Validator {
        address withdrawer;
        uint40 index;
        ValidatorStatus status;
        uint48 exitableAt;
    }

    struct Store {
        SnapshotLib.History setSize;
        mapping(uint256 index => SnapshotLib.History) setMembers;
        mapping(address attester => Validator) validators;
        uint256 totalStake; // staking asset held for validators (active and exiting)
    }

    /// @notice Pulls exactly `amount` of `asset` from the caller for `attester`, in the set from
    ///         `key`. The caller is the attester: a key is staked only with its owner's consent, or
    ///         anyone could register someone else's key under their own withdrawer (F-08).
    function stake(
        Store storage s,
        IERC20 asset,
        uint256 amount,
        uint48 key,
        address attester,
        address withdrawer
    ) external {
        require(msg.sender == attester, Errors.Staking__NotAttester(attester, msg.sender));
        _stake(s, asset, amount, key, attester, withdrawer);
    }

    /// @notice `stake` paid for by the caller, with `attester`'s signature over `digest` (the
    ///         Rollup's EIP-712 StakeConsent for these attester, withdrawer and `deadline`).
    function stakeWithConsent(
        Store storage s,
        IERC20 asset,
        uint256 amount,
        uint48 key,
        address attester,
        address withdrawer,
        uint256 deadline,
        bytes32 digest,
        Signature calldata consent
    ) external {
        require(
            block.timestamp <= deadline,
            Errors.Staking__ConsentExpired(Timestamp.wrap(deadline), Timestamp.wrap(block.timestamp))
        );
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, consent.v, consent.r, consent.s);
        require(
            err == ECDSA.RecoverError.NoError && signer == attester,
            Errors.Staking__InvalidConsent(attester, signer)
        );
        _stake(s, asset, amount, key, attester, withdrawer);
    }

    function _stake(
        Store storage s,
        IERC20 asset,
        uint256 amount,
        uint48 key,
        address attester,
        address withdrawer
    ) private {
        require(attester != address(0) && withdrawer != address(0), Errors.Staking__ZeroAddress());
        require(
            s.validators[attester].status == ValidatorStatus.NONE, Errors.Staking__AlreadyRegistered(attester)
        );

        uint256 before = asset.balanceOf(address(this));
        asset.safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = asset.balanceOf(address(this)) - before;
        // Fee-on-transfer tokens would leave stakes short of what they claim: refuse them.
        require(received == amount, Errors.Staking__AmountNotReceived(amount, received));

        uint256 n = s.setSize.latestValue();
        s.setMembers[n].push(key, uint160(attester));
        s.setSize.push(key, uint208(n + 1));
        s.validators[attester] = Validator({
            withdrawer: withdrawer, index: uint40(n), status: ValidatorStatus.ACTIVE, exitableAt: 0
        });
        s.totalStake += amount;
        emit IRollup.ValidatorStaked(attester, withdrawer, amount);
    }

    /// @notice Takes `attester` out of the set from `key`; its stake is released `exitDelay` later.
    function initiateExit(Store storage s, uint48 key, uint256 exitDelay, address attester) external {
        Validator storage v = s.validators[attester];
        require(v.status == ValidatorStatus.ACTIVE, Errors.Staking__NotActive(attester));
        require(msg.sender == v.withdrawer, Errors.Staking__NotWithdrawer(v.withdrawer, msg.sender));

        // Swap-and-pop: the last member takes the leaver's place from the next snapshot on.
        uint256 last = s.setSize.latestValue() - 1;
        uint256 index = v.index;
        if (index != last) {
            address moved = address(uint160(s.setMembers[last].latestValue()));
            s.setMembers[index].push(key, uint160(moved));
            s.validators[moved].index = uint40(index);
        }
        s.setMembers[last].push(key, 0);
        s.setSize.push(key, uint208(last));

        uint256 exitableAt = block.timestamp + exitDelay;
        v.status = ValidatorStatus.EXITING;
        v.index = 0;
        v.exitableAt = uint48(exitableAt);
        emit IRollup.ValidatorExitInitiated(attester, exitableAt);
    }

    /// @notice Pays an exited validator's `amount` to its withdrawer once its exit delay has passed.
    function finaliseExit(Store storage s, IERC20 asset, uint256 amount, address attester) external {
        Validator memory v = s.validators[attester];
        require(v.status == ValidatorStatus.EXITING, Errors.Staking__NotExiting(attester));
        require(
            block.timestamp >= v.exitableAt,
            Errors.Staking__ExitNotReady(Timestamp.wrap(v.exitableAt), Timestamp.wrap(block.timestamp))
        );
        delete s.validators[attester];
        s.totalStake -= amount;
        asset.safeTransfer(v.withdrawer, amount);
        emit IRollup.ValidatorExited(attester, v.withdrawer, amount);
    }

    /// @notice The set as it stands now, with changes not yet in force.
    function latestSet(Store storage s) external view returns (address[] memory set) {
        set = new address[](s.setSize.latestValue());
        for (uint256 i = 0; i < set.length; ++i) {
            set[i] = address(uint160(s.setMembers[i].latestValue()));
        }
    }
}
