// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";

import {Rollup} from "../../contracts/core/Rollup.sol";
import {
    IRollup,
    RollupConfig,
    Signature,
    ValidatorStatus,
    ValidatorView
} from "../../contracts/interfaces/IRollup.sol";
import {Errors} from "../../contracts/libraries/Errors.sol";
import {Epoch, Timestamp} from "../../contracts/libraries/TimeLib.sol";
import {FeeOnTransferToken} from "../harnesses/FeeOnTransferToken.sol";
import {RollupBase} from "../harnesses/RollupBase.sol";

contract StakingTest is RollupBase {
    address internal alice = makeAddr("alice");
    address internal aliceWithdrawer = makeAddr("aliceWithdrawer");

    function setUp() public {
        _deploy(K);
    }

    function test_stake_RegistersAndPullsMinStake() public {
        stakingAsset.mint(alice, MIN_STAKE);
        vm.startPrank(alice);
        stakingAsset.approve(address(rollup), MIN_STAKE);
        vm.expectEmit(address(rollup));
        emit IRollup.ValidatorStaked(alice, aliceWithdrawer, MIN_STAKE);
        rollup.stake(alice, aliceWithdrawer);
        vm.stopPrank();

        ValidatorView memory v = rollup.getValidator(alice);
        assertEq(uint8(v.status), uint8(ValidatorStatus.ACTIVE));
        assertEq(v.withdrawer, aliceWithdrawer);
        assertEq(v.stake, MIN_STAKE);
        assertEq(stakingAsset.balanceOf(address(rollup)), MIN_STAKE);
        assertEq(stakingAsset.balanceOf(alice), 0);
        assertEq(rollup.totalStake(), MIN_STAKE);
        assertEq(rollup.getActiveValidatorCount(), 1);
        assertEq(rollup.getActiveValidators()[0], alice);
    }

    function test_stake_RevertWhen_ZeroAddress() public {
        vm.prank(address(0));
        vm.expectRevert(Errors.Staking__ZeroAddress.selector);
        rollup.stake(address(0), aliceWithdrawer);
        vm.prank(alice);
        vm.expectRevert(Errors.Staking__ZeroAddress.selector);
        rollup.stake(alice, address(0));
    }

    function test_stake_RevertWhen_AlreadyRegistered() public {
        _stake(alice, aliceWithdrawer);
        stakingAsset.mint(alice, MIN_STAKE);
        vm.startPrank(alice);
        stakingAsset.approve(address(rollup), MIN_STAKE);
        vm.expectRevert(abi.encodeWithSelector(Errors.Staking__AlreadyRegistered.selector, alice));
        rollup.stake(alice, aliceWithdrawer);
        vm.stopPrank();
    }

    function test_stake_RevertWhen_NotApproved() public {
        stakingAsset.mint(alice, MIN_STAKE);
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(
                IERC20Errors.ERC20InsufficientAllowance.selector, address(rollup), 0, MIN_STAKE
            )
        );
        rollup.stake(alice, aliceWithdrawer);
    }

    function test_stake_RevertWhen_FeeOnTransferToken() public {
        FeeOnTransferToken fee = new FeeOnTransferToken();
        (Rollup r,) = _deployRollup(_configWithAsset(address(fee)));
        fee.mint(alice, MIN_STAKE);
        vm.startPrank(alice);
        fee.approve(address(r), MIN_STAKE);
        vm.expectRevert(
            abi.encodeWithSelector(
                Errors.Staking__AmountNotReceived.selector, MIN_STAKE, MIN_STAKE - MIN_STAKE / 100
            )
        );
        r.stake(alice, aliceWithdrawer);
        vm.stopPrank();
        assertEq(fee.balanceOf(alice), MIN_STAKE, "tokens lost on a refused stake");
    }

    // ------------------------------------------------------------------ the attester's consent (F-08)

    function test_stake_RevertWhen_CallerIsNotTheAttester() public {
        stakingAsset.mint(address(this), MIN_STAKE);
        stakingAsset.approve(address(rollup), MIN_STAKE);
        vm.expectRevert(abi.encodeWithSelector(Errors.Staking__NotAttester.selector, alice, address(this)));
        rollup.stake(alice, aliceWithdrawer);
    }

    function _consent(uint256 key, address attester, address withdrawer, uint256 deadline)
        internal
        view
        returns (Signature memory)
    {
        (uint8 v, bytes32 r, bytes32 s) =
            vm.sign(key, rollup.stakeConsentDigest(attester, withdrawer, deadline));
        return Signature({v: v, r: r, s: s});
    }

    /// @dev Anyone pays, with the attester's EIP-712 consent: domain {"Proofline Rollup", "1",
    ///      chainId, rollup}, type StakeConsent(address attester,address withdrawer,uint256 deadline).
    function test_stakeWithConsent_PayerStakesWithTheAttestersSignature() public {
        (address attester, uint256 key) = makeAddrAndKey("attester");
        uint256 deadline = block.timestamp + 1 hours;
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256("StakeConsent(address attester,address withdrawer,uint256 deadline)"),
                attester,
                aliceWithdrawer,
                deadline
            )
        );
        bytes32 domain = _specDomainSeparator(address(rollup), block.chainid);
        assertEq(
            rollup.stakeConsentDigest(attester, aliceWithdrawer, deadline),
            keccak256(abi.encodePacked(hex"1901", domain, structHash))
        );
        stakingAsset.mint(address(this), MIN_STAKE);
        stakingAsset.approve(address(rollup), MIN_STAKE);
        rollup.stakeWithConsent(
            attester, aliceWithdrawer, deadline, _consent(key, attester, aliceWithdrawer, deadline)
        );
        assertEq(rollup.getValidator(attester).withdrawer, aliceWithdrawer);
        assertEq(stakingAsset.balanceOf(address(this)), 0, "the payer paid");
    }

    /// @dev Valid through the deadline's second, refused after; signed by anyone else, or for other
    ///      terms, refused.
    function test_stakeWithConsent_RevertWhen_ExpiredForgedOrForOtherTerms() public {
        (address attester, uint256 key) = makeAddrAndKey("attester");
        (, uint256 otherKey) = makeAddrAndKey("other");
        uint256 deadline = block.timestamp + 1 hours;
        stakingAsset.mint(address(this), 2 * MIN_STAKE);
        stakingAsset.approve(address(rollup), 2 * MIN_STAKE);
        Signature memory good = _consent(key, attester, aliceWithdrawer, deadline);
        Signature memory forged = _consent(otherKey, attester, aliceWithdrawer, deadline);

        vm.expectPartialRevert(Errors.Staking__InvalidConsent.selector);
        rollup.stakeWithConsent(attester, aliceWithdrawer, deadline, forged);
        vm.expectPartialRevert(Errors.Staking__InvalidConsent.selector);
        rollup.stakeWithConsent(attester, address(this), deadline, good);
        vm.expectPartialRevert(Errors.Staking__InvalidConsent.selector);
        rollup.stakeWithConsent(attester, aliceWithdrawer, deadline + 1, good);

        vm.warp(deadline + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                Errors.Staking__ConsentExpired.selector,
                Timestamp.wrap(deadline),
                Timestamp.wrap(deadline + 1)
            )
        );
        rollup.stakeWithConsent(attester, aliceWithdrawer, deadline, good);
        vm.warp(deadline);
        rollup.stakeWithConsent(attester, aliceWithdrawer, deadline, good);
        assertEq(uint8(rollup.getValidator(attester).status), uint8(ValidatorStatus.ACTIVE));
    }

    function test_initiateExit_LeavesNextSnapshotOnly() public {
        _stakeValidators(5);
        address leaver = attesters[1];
        _warpToEpoch(3);
        vm.expectEmit(address(rollup));
        emit IRollup.ValidatorExitInitiated(leaver, block.timestamp + EXIT_DELAY);
        vm.prank(leaver);
        rollup.initiateExit(leaver);

        // The set drawn for epoch 4 was fixed when epoch 3 began: the leaver still serves there.
        assertTrue(_contains(rollup.getValidatorSetFor(Epoch.wrap(4)), leaver));
        _warpToEpoch(4);
        assertFalse(_contains(rollup.getValidatorSetFor(Epoch.wrap(5)), leaver));
        assertEq(rollup.getValidatorSetFor(Epoch.wrap(5)).length, 4);
        // Swap-and-pop: the last validator moved into the leaver's place.
        assertEq(rollup.getActiveValidators()[1], attesters[4]);
        assertEq(rollup.getValidator(attesters[4]).index, 1);
        assertEq(uint8(rollup.getValidator(leaver).status), uint8(ValidatorStatus.EXITING));
    }

    function test_initiateExit_RevertWhen_NotWithdrawer() public {
        _stake(alice, aliceWithdrawer);
        vm.expectRevert(
            abi.encodeWithSelector(Errors.Staking__NotWithdrawer.selector, aliceWithdrawer, alice)
        );
        vm.prank(alice);
        rollup.initiateExit(alice);
    }

    function test_initiateExit_RevertWhen_NotActive() public {
        vm.expectRevert(abi.encodeWithSelector(Errors.Staking__NotActive.selector, alice));
        rollup.initiateExit(alice);
        _stake(alice, aliceWithdrawer);
        vm.prank(aliceWithdrawer);
        rollup.initiateExit(alice);
        vm.expectRevert(abi.encodeWithSelector(Errors.Staking__NotActive.selector, alice));
        vm.prank(aliceWithdrawer);
        rollup.initiateExit(alice);
    }

    function test_finaliseExit_PaysWithdrawerAfterDelay() public {
        _stake(alice, aliceWithdrawer);
        vm.prank(aliceWithdrawer);
        rollup.initiateExit(alice);
        uint256 exitableAt = block.timestamp + EXIT_DELAY;

        vm.warp(exitableAt - 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                Errors.Staking__ExitNotReady.selector,
                Timestamp.wrap(exitableAt),
                Timestamp.wrap(exitableAt - 1)
            )
        );
        rollup.finaliseExit(alice);

        vm.warp(exitableAt);
        vm.expectEmit(address(rollup));
        emit IRollup.ValidatorExited(alice, aliceWithdrawer, MIN_STAKE);
        rollup.finaliseExit(alice); // anyone may trigger; the stake goes to the withdrawer
        assertEq(stakingAsset.balanceOf(aliceWithdrawer), MIN_STAKE);
        assertEq(stakingAsset.balanceOf(address(rollup)), 0);
        assertEq(rollup.totalStake(), 0);
        assertEq(uint8(rollup.getValidator(alice).status), uint8(ValidatorStatus.NONE));
    }

    function test_finaliseExit_RevertWhen_NotExiting() public {
        vm.expectRevert(abi.encodeWithSelector(Errors.Staking__NotExiting.selector, alice));
        rollup.finaliseExit(alice);
        _stake(alice, aliceWithdrawer);
        vm.expectRevert(abi.encodeWithSelector(Errors.Staking__NotExiting.selector, alice));
        rollup.finaliseExit(alice);
    }

    function test_finaliseExit_RevertWhen_CalledTwice() public {
        _stake(alice, aliceWithdrawer);
        vm.prank(aliceWithdrawer);
        rollup.initiateExit(alice);
        vm.warp(block.timestamp + EXIT_DELAY);
        rollup.finaliseExit(alice);
        vm.expectRevert(abi.encodeWithSelector(Errors.Staking__NotExiting.selector, alice));
        rollup.finaliseExit(alice);
    }

    function test_stake_AgainAfterExit() public {
        _stake(alice, aliceWithdrawer);
        vm.prank(aliceWithdrawer);
        rollup.initiateExit(alice);
        vm.warp(block.timestamp + EXIT_DELAY);
        rollup.finaliseExit(alice);
        _stake(alice, alice);
        assertEq(rollup.getValidator(alice).withdrawer, alice);
        assertEq(rollup.totalStake(), MIN_STAKE);
    }

    function _configWithAsset(address asset) internal view returns (RollupConfig memory cfg) {
        cfg = _config(K);
        cfg.stakingAsset = asset;
    }

    function _contains(address[] memory set, address a) internal pure returns (bool) {
        for (uint256 i = 0; i < set.length; ++i) {
            if (set[i] == a) return true;
        }
        return false;
    }
}
