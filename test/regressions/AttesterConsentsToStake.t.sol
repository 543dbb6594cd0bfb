// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Signature, ValidatorStatus} from "../../contracts/interfaces/IRollup.sol";
import {Errors} from "../../contracts/libraries/Errors.sol";
import {RollupBase} from "../harnesses/RollupBase.sol";

/// @notice F-08 (review, info): attester keys could be squatted. Anyone could `stake` someone
///         else's attester address under their own withdrawer; the key's owner could then neither
///         register it (already registered) nor exit it (not its withdrawer).
contract AttesterConsentsToStakeTest is RollupBase {
    address internal squatter = makeAddr("squatter");
    address internal victim = makeAddr("victim");

    function setUp() public {
        _deploy();
    }

    function test_noOneStakesAnAttesterKeyWithoutItsConsent() public {
        stakingAsset.mint(squatter, MIN_STAKE);
        vm.startPrank(squatter);
        stakingAsset.approve(address(rollup), MIN_STAKE);
        vm.expectRevert(abi.encodeWithSelector(Errors.Staking__NotAttester.selector, victim, squatter));
        rollup.stake(victim, squatter);
        vm.stopPrank();
        assertEq(uint8(rollup.getValidator(victim).status), uint8(ValidatorStatus.NONE));

        // The key's owner still registers it, under its own withdrawer.
        _stake(victim, victim);
        assertEq(rollup.getValidator(victim).withdrawer, victim);
    }

    /// @dev A consent signed for another withdrawer does not stake under the squatter's.
    function test_aConsentForAnotherWithdrawerDoesNotStakeUnderMine() public {
        (address attester, uint256 key) = makeAddrAndKey("consenting attester");
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) =
            vm.sign(key, rollup.stakeConsentDigest(attester, attester, deadline));
        stakingAsset.mint(squatter, MIN_STAKE);
        vm.startPrank(squatter);
        stakingAsset.approve(address(rollup), MIN_STAKE);
        vm.expectPartialRevert(Errors.Staking__InvalidConsent.selector);
        rollup.stakeWithConsent(attester, squatter, deadline, Signature({v: v, r: r, s: s}));
        vm.stopPrank();
    }
}
