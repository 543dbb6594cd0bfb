// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ForcedInclusionQueue} from "../../contracts/core/ForcedInclusionQueue.sol";
import {ProverEscrow} from "../../contracts/core/ProverEscrow.sol";
import {Rollup} from "../../contracts/core/Rollup.sol";
import {FallbackStatus, RollupConfig} from "../../contracts/interfaces/IRollup.sol";
import {Errors} from "../../contracts/libraries/Errors.sol";
import {Slot, TimeConfig} from "../../contracts/libraries/TimeLib.sol";
import {RollupBase} from "../harnesses/RollupBase.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @notice Every deploy-time check of the Rollup (`_checkConfig`), one test each: the named error
///         for the first refused value, next to the first accepted one.
contract DeployParamsTest is RollupBase {
    uint256 internal constant TWO_EPOCHS = 2 * EPOCH_DURATION * SLOT_DURATION; // seconds

    function setUp() public {
        _deployAssets();
    }

    /// @dev A valid config with the SPEC's FALLBACK_ENTER (3 epochs).
    function _cfg() internal view returns (RollupConfig memory cfg) {
        cfg = _config(K);
        cfg.fallbackEnter = 3 * EPOCH_DURATION;
    }

    /// @dev Deploys an escrow (with `escrowDelay`) and a queue bound to the predicted rollup, then
    ///      the rollup: refused with `err` when given, else accepted (returned).
    function _deployWith(RollupConfig memory cfg, uint256 escrowDelay, bytes memory err)
        internal
        returns (Rollup r)
    {
        address predicted = _predictRollup();
        cfg.escrow = address(new ProverEscrow(bondAsset, predicted, escrowDelay));
        cfg.forcedInclusionQueue = address(_deployQueue(cfg, predicted));
        if (err.length != 0) {
            vm.expectRevert(err);
            new Rollup(cfg);
            return r;
        }
        r = new Rollup(cfg);
        assertEq(address(r), predicted);
    }

    function _refused(RollupConfig memory cfg, bytes memory err) internal {
        _deployWith(cfg, ESCROW_DELAY, err);
    }

    function _accepted(RollupConfig memory cfg) internal returns (Rollup) {
        return _deployWith(cfg, ESCROW_DELAY, "");
    }

    function _zero(uint256 index) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(Errors.Rollup__ZeroParameter.selector, index);
    }

    // ------------------------------------------------------------------ rewards

    /// @dev A proof multiplies the rewards by up to 224 blocks and 10,000 bps: they are bounded
    ///      (2^96 - 1 each) so that never overflows and refuses every proof.
    function test_deploy_Rewards_AboveUint96Refused() public {
        uint256 max = type(uint96).max;
        RollupConfig memory cfg = _cfg();
        cfg.blockReward = max + 1;
        _refused(cfg, abi.encodeWithSelector(Errors.Rollup__RewardTooLarge.selector, max, max + 1));
        cfg = _cfg();
        cfg.submitterReward = max + 1;
        _refused(cfg, abi.encodeWithSelector(Errors.Rollup__RewardTooLarge.selector, max, max + 1));
        cfg.blockReward = max;
        cfg.submitterReward = max;
        _accepted(cfg);
    }

    // ------------------------------------------------------------------ validators and time

    function test_deploy_StakingAsset_ZeroRefused() public {
        RollupConfig memory cfg = _cfg();
        cfg.stakingAsset = address(0);
        _refused(cfg, _zero(0));
        cfg.stakingAsset = address(stakingAsset);
        _accepted(cfg);
    }

    function test_deploy_SlotDuration_ZeroRefusedOneAccepted() public {
        RollupConfig memory cfg = _cfg();
        cfg.slotDuration = 0;
        _refused(cfg, _zero(1));
        cfg.slotDuration = 1;
        assertEq(_accepted(cfg).SLOT_DURATION(), 1);
    }

    function test_deploy_EpochDuration_ZeroRefusedOneAccepted() public {
        RollupConfig memory cfg = _cfg();
        cfg.epochDuration = 0;
        _refused(cfg, _zero(2));
        cfg.epochDuration = 1;
        cfg.proofClaimWindow = 1;
        cfg.fallbackEnter = 3;
        assertEq(_accepted(cfg).EPOCH_DURATION(), 1);
    }

    /// @dev One reward bit per block of an epoch in a 224-bit field (RewardLib).
    function test_deploy_EpochDuration_224AcceptedAbove224Refused() public {
        RollupConfig memory cfg = _cfg();
        cfg.epochDuration = 225;
        cfg.validatorExitDelay = 2 * 225 * SLOT_DURATION;
        cfg.fallbackEnter = 2 * 225 + 1;
        _deployWith(
            cfg,
            2 * 225 * SLOT_DURATION + 1,
            abi.encodeWithSelector(Errors.Rollup__EpochTooLong.selector, 224, 225)
        );
        cfg.epochDuration = 224;
        cfg.validatorExitDelay = 2 * 224 * SLOT_DURATION;
        cfg.fallbackEnter = 2 * 224 + 1;
        assertEq(_deployWith(cfg, 2 * 224 * SLOT_DURATION + 1, "").EPOCH_DURATION(), 224);
    }

    function test_deploy_TargetCommitteeSize_ZeroRefusedOneAccepted() public {
        RollupConfig memory cfg = _cfg();
        cfg.targetCommitteeSize = 0;
        _refused(cfg, _zero(3));
        cfg.targetCommitteeSize = 1;
        _accepted(cfg);
    }

    function test_deploy_TargetCommitteeSize_256AcceptedAbove256Refused() public {
        RollupConfig memory cfg = _cfg();
        cfg.targetCommitteeSize = 257;
        _refused(cfg, abi.encodeWithSelector(Errors.Rollup__CommitteeTooLarge.selector, 256, 257));
        cfg.targetCommitteeSize = 256;
        assertEq(_accepted(cfg).TARGET_COMMITTEE_SIZE(), 256);
    }

    function test_deploy_MinStake_ZeroRefusedOneAccepted() public {
        RollupConfig memory cfg = _cfg();
        cfg.minStake = 0;
        _refused(cfg, _zero(4));
        cfg.minStake = 1;
        _accepted(cfg);
    }

    function test_deploy_ValidatorExitDelay_TwoEpochsAccepted() public {
        RollupConfig memory cfg = _cfg();
        cfg.validatorExitDelay = TWO_EPOCHS - 1;
        _refused(
            cfg, abi.encodeWithSelector(Errors.Rollup__ExitDelayTooShort.selector, TWO_EPOCHS, TWO_EPOCHS - 1)
        );
        cfg.validatorExitDelay = TWO_EPOCHS;
        _accepted(cfg);
    }

    function test_deploy_GenesisTime_NowAcceptedFutureRefused() public {
        RollupConfig memory cfg = _cfg();
        uint256 now_ = vm.getBlockTimestamp();
        cfg.genesisTime = now_ + 1;
        _refused(cfg, abi.encodeWithSelector(Errors.Rollup__GenesisInFuture.selector, now_, now_ + 1));
        cfg.genesisTime = now_;
        assertEq(_accepted(cfg).GENESIS_TIME(), now_);
    }

    // ------------------------------------------------------------------ proving

    function test_deploy_RewardAsset_ZeroRefused() public {
        RollupConfig memory cfg = _cfg();
        cfg.rewardAsset = address(0);
        _refused(cfg, _zero(5));
        cfg.rewardAsset = address(rewardAsset);
        _accepted(cfg);
    }

    function test_deploy_Escrow_ZeroRefused() public {
        RollupConfig memory cfg = _cfg();
        address predicted = vm.computeCreateAddress(address(this), vm.getNonce(address(this)) + 1);
        cfg.forcedInclusionQueue = address(_deployQueue(cfg, predicted));
        cfg.escrow = address(0);
        vm.expectRevert(_zero(6));
        new Rollup(cfg);
        _accepted(cfg);
    }

    function test_deploy_Verifier_ZeroRefused() public {
        RollupConfig memory cfg = _cfg();
        cfg.verifier = address(0);
        _refused(cfg, _zero(7));
        cfg.verifier = address(verifier);
        _accepted(cfg);
    }

    function test_deploy_ProofClaimWindow_ZeroRefusedOneAccepted() public {
        RollupConfig memory cfg = _cfg();
        cfg.proofClaimWindow = 0;
        _refused(cfg, _zero(8));
        cfg.proofClaimWindow = 1;
        _accepted(cfg);
    }

    function test_deploy_ProofClaimWindow_EpochAcceptedAboveRefused() public {
        RollupConfig memory cfg = _cfg();
        cfg.proofClaimWindow = EPOCH_DURATION + 1;
        _refused(
            cfg,
            abi.encodeWithSelector(
                Errors.Rollup__InvalidClaimWindow.selector, EPOCH_DURATION, EPOCH_DURATION + 1
            )
        );
        cfg.proofClaimWindow = EPOCH_DURATION;
        _accepted(cfg);
    }

    function test_deploy_MinBond_ZeroRefusedOneAccepted() public {
        RollupConfig memory cfg = _cfg();
        cfg.minBond = 0;
        _refused(cfg, _zero(9));
        cfg.minBond = 1;
        _accepted(cfg);
    }

    function test_deploy_SlashBurnBps_10000AcceptedAboveRefused() public {
        RollupConfig memory cfg = _cfg();
        cfg.slashBurnBps = 10_001;
        _refused(cfg, abi.encodeWithSelector(Errors.Rollup__InvalidSlashBurnBps.selector, 10_001));
        cfg.slashBurnBps = 10_000;
        _accepted(cfg);
    }

    /// @dev A recipient is needed only when part of a slashed bond is not burned.
    function test_deploy_SlashRecipient_ZeroRefusedUnlessAllBurned() public {
        RollupConfig memory cfg = _cfg();
        cfg.slashBurnBps = 9999;
        cfg.slashRecipient = address(0);
        _refused(cfg, _zero(10));
        cfg.slashRecipient = slashRecipient;
        _accepted(cfg);
        cfg.slashBurnBps = 10_000;
        cfg.slashRecipient = address(0);
        _accepted(cfg);
    }

    function test_deploy_Escrow_BoundElsewhereRefused() public {
        RollupConfig memory cfg = _cfg();
        address predicted = _predictRollup();
        address other = makeAddr("another rollup");
        cfg.escrow = address(new ProverEscrow(bondAsset, other, ESCROW_DELAY));
        cfg.forcedInclusionQueue = address(_deployQueue(cfg, predicted));
        vm.expectRevert(abi.encodeWithSelector(Errors.Rollup__EscrowNotBound.selector, predicted, other));
        new Rollup(cfg);
        _accepted(cfg);
    }

    function test_deploy_EscrowDelay_TwoEpochsRefusedOneMoreAccepted() public {
        RollupConfig memory cfg = _cfg();
        _deployWith(
            cfg,
            TWO_EPOCHS,
            abi.encodeWithSelector(Errors.Rollup__EscrowDelayTooShort.selector, TWO_EPOCHS + 1, TWO_EPOCHS)
        );
        _deployWith(cfg, TWO_EPOCHS + 1, "");
    }

    // ------------------------------------------------------------------ forced inclusion

    function test_deploy_Queue_ZeroRefused() public {
        RollupConfig memory cfg = _cfg();
        address predicted = vm.computeCreateAddress(address(this), vm.getNonce(address(this)) + 1);
        cfg.escrow = address(new ProverEscrow(bondAsset, predicted, ESCROW_DELAY));
        cfg.forcedInclusionQueue = address(0);
        vm.expectRevert(_zero(11));
        new Rollup(cfg);
        _accepted(cfg);
    }

    function test_deploy_MinForcedTxsPerBlock_ZeroRefusedOneAccepted() public {
        RollupConfig memory cfg = _cfg();
        cfg.minForcedTxsPerBlock = 0;
        _refused(cfg, _zero(12));
        cfg.minForcedTxsPerBlock = 1;
        assertEq(_accepted(cfg).MIN_FORCED_TXS_PER_BLOCK(), 1);
    }

    function test_deploy_Queue_BoundElsewhereRefused() public {
        RollupConfig memory cfg = _cfg();
        address predicted = _predictRollup();
        address other = makeAddr("another rollup");
        cfg.escrow = address(new ProverEscrow(bondAsset, predicted, ESCROW_DELAY));
        cfg.forcedInclusionQueue = address(_deployQueue(cfg, other));
        vm.expectRevert(abi.encodeWithSelector(Errors.Rollup__QueueNotBound.selector, predicted, other));
        new Rollup(cfg);
        _accepted(cfg);
    }

    /// @dev The queue must run on the rollup's clock: genesis, slot and epoch length, each checked.
    function test_deploy_Queue_OtherClockRefused() public {
        RollupConfig memory cfg = _cfg();
        uint256 now_ = vm.getBlockTimestamp();
        cfg.genesisTime = now_ - 10 * SLOT_DURATION;
        uint256 g = now_ - 10 * SLOT_DURATION;
        TimeConfig[] memory wrong = new TimeConfig[](3);
        wrong[0] =
            TimeConfig({genesisTime: g - 1, slotDuration: SLOT_DURATION, epochDuration: EPOCH_DURATION});
        wrong[1] =
            TimeConfig({genesisTime: g, slotDuration: SLOT_DURATION + 1, epochDuration: EPOCH_DURATION});
        wrong[2] =
            TimeConfig({genesisTime: g, slotDuration: SLOT_DURATION, epochDuration: EPOCH_DURATION - 1});
        for (uint256 i = 0; i < wrong.length; ++i) {
            address predicted = _predictRollup();
            cfg.escrow = address(new ProverEscrow(bondAsset, predicted, ESCROW_DELAY));
            cfg.forcedInclusionQueue = address(
                new ForcedInclusionQueue(
                    predicted,
                    txVerifier,
                    queueTreasury,
                    wrong[i],
                    FORCED_DELAY,
                    INCLUSION_GAS,
                    FEE_DOUBLE_THRESHOLD,
                    IERC20(address(rewardAsset))
                )
            );
            vm.expectRevert(Errors.Rollup__QueueTimeMismatch.selector);
            new Rollup(cfg);
        }
        // The same clock, with a genesis in the past: accepted.
        assertEq(Slot.unwrap(_accepted(cfg).getCurrentSlot()), 10);
    }

    // ------------------------------------------------------------------ based fallback

    /// @dev FALLBACK_ENTER must exceed two epochs: 2 epochs refused, 2 epochs + 1 slot accepted.
    function test_deploy_FallbackEnter_TwoEpochsRefusedOneMoreAccepted() public {
        RollupConfig memory cfg = _cfg();
        uint256 min = 2 * EPOCH_DURATION + 1;
        cfg.fallbackEnter = 0; // zero is just too short
        _refused(cfg, abi.encodeWithSelector(Errors.Rollup__FallbackEnterTooShort.selector, min, 0));
        cfg.fallbackEnter = min - 1;
        _refused(cfg, abi.encodeWithSelector(Errors.Rollup__FallbackEnterTooShort.selector, min, min - 1));
        cfg.fallbackEnter = min;
        Rollup r = _accepted(cfg);
        assertEq(r.FALLBACK_ENTER(), min);
        FallbackStatus memory fs = r.getFallbackStatus();
        assertFalse(fs.active);
        assertEq(Slot.unwrap(fs.start), min, "begins FALLBACK_ENTER slots after deployment");
        assertEq(Slot.unwrap(fs.end), min + FALLBACK_EXIT_ACTIVITY);
    }

    /// @dev The bound follows the epoch length: with 10-slot epochs, 20 refused and 21 accepted.
    function test_deploy_FallbackEnter_ScalesWithEpochDuration() public {
        RollupConfig memory cfg = _cfg();
        cfg.epochDuration = 10;
        cfg.proofClaimWindow = 5;
        cfg.fallbackEnter = 20;
        _refused(cfg, abi.encodeWithSelector(Errors.Rollup__FallbackEnterTooShort.selector, 21, 20));
        cfg.fallbackEnter = 21;
        assertEq(_accepted(cfg).FALLBACK_ENTER(), 21);
    }

    function test_deploy_FallbackExitActivity_ZeroRefusedOneAccepted() public {
        RollupConfig memory cfg = _cfg();
        cfg.fallbackExitActivity = 0;
        _refused(cfg, _zero(13));
        cfg.fallbackExitActivity = 1;
        assertEq(_accepted(cfg).FALLBACK_EXIT_ACTIVITY(), 1);
    }

    function test_deploy_FallbackExitTotal_ZeroRefusedOneAccepted() public {
        RollupConfig memory cfg = _cfg();
        cfg.fallbackExitTotal = 0;
        _refused(cfg, _zero(14));
        cfg.fallbackExitTotal = 1;
        assertEq(_accepted(cfg).FALLBACK_EXIT_TOTAL(), 1);
    }
}
