// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Rollup} from "../../contracts/core/Rollup.sol";
import {RollupConfig} from "../../contracts/interfaces/IRollup.sol";
import {Epoch, Slot} from "../../contracts/libraries/TimeLib.sol";

/// @notice The real Rollup with its time checks exposed and its proving state settable, so the
///         symbolic tests in ClaimWindowSymbolic.t.sol exercise the deployed code, not a copy.
contract RollupTimeHarness is Rollup {
    constructor(RollupConfig memory cfg) Rollup(cfg) {}

    /// @dev The proving bookkeeping only: pending > proven makes `epochToProve` the epoch to prove.
    function setTips(uint48 pending, uint48 proven, uint48 tipSlot, uint48 epochToProve) external {
        tips = Tips({
            pending: pending,
            proven: proven,
            tipSlot: tipSlot,
            epochToProve: epochToProve,
            epochToProveEnd: 0,
            forcedUnproven: false
        });
    }

    /// @dev The slot of the proven chain's last progress: at or after the time under test keeps
    ///      the fallback clock out of the proof-window checks.
    function setProgressSlot(uint48 slot) external {
        liveness.progressSlot = slot;
    }

    function setClaim(address bondProvider, uint48 epoch) external {
        claim = Claim({bondProvider: bondProvider, basisPointFee: 0, epoch: epoch});
    }

    function requireInClaimWindow(Epoch epoch, Slot slot) external view {
        _requireInClaimWindow(_time(), epoch, slot);
    }

    function claimWindowEnd(Epoch epoch) external view returns (Slot) {
        return _claimWindowEnd(_time(), epoch);
    }

    function pruneDue() external view returns (bool) {
        return _pruneDue(tips);
    }
}

/// @notice Stands in for the ProverEscrow at construction: bound to whoever asks (the Rollup being
///         constructed) with a withdraw delay longer than any check needs. Never called afterwards
///         by the time checks under test.
contract BoundEscrowStub {
    function ROLLUP() external view returns (address) {
        return msg.sender;
    }

    function ESCROW_WITHDRAW_DELAY() external pure returns (uint256) {
        return type(uint128).max;
    }
}

/// @notice Stands in for the ForcedInclusionQueue at construction: bound to whoever asks, on the
///         clock it is given. Never called by the time checks under test.
contract BoundQueueStub {
    uint256 public immutable GENESIS_TIME;
    uint256 public immutable SLOT_DURATION;
    uint256 public immutable EPOCH_DURATION;

    constructor(uint256 genesisTime, uint256 slotDuration, uint256 epochDuration) {
        GENESIS_TIME = genesisTime;
        SLOT_DURATION = slotDuration;
        EPOCH_DURATION = epochDuration;
    }

    function ROLLUP() external view returns (address) {
        return msg.sender;
    }

    /// @dev The reward asset ClaimWindowSymbolic configures (fee deposits are paid in it).
    function FEE_ASSET() external pure returns (address) {
        return address(0x5002);
    }
}
