// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ProverEscrow} from "../../contracts/core/ProverEscrow.sol";
import {Rollup} from "../../contracts/core/Rollup.sol";
import {RollupConfig} from "../../contracts/interfaces/IRollup.sol";
import {Errors} from "../../contracts/libraries/Errors.sol";
import {RollupBase} from "../harnesses/RollupBase.sol";

/// @notice F-05 (review, low): a reward asset equal to the staking asset paid rewards out of the
///         validators' stakes (one balance backs both), so the last validator to exit found its
///         stake gone. The Rollup refuses such a configuration at construction.
contract RewardAssetIsNotStakingAssetTest is RollupBase {
    function test_aRewardAssetEqualToTheStakingAssetIsRefused() public {
        _deployAssets();
        RollupConfig memory cfg = _config(K);
        cfg.rewardAsset = address(stakingAsset);
        address predicted = _predictRollup();
        cfg.escrow = address(new ProverEscrow(bondAsset, predicted, ESCROW_DELAY));
        cfg.forcedInclusionQueue = address(_deployQueue(cfg, predicted));
        vm.expectRevert(
            abi.encodeWithSelector(Errors.Rollup__RewardAssetIsStakingAsset.selector, address(stakingAsset))
        );
        new Rollup(cfg);
    }
}
