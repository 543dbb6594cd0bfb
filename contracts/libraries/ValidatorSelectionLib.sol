// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {SSTORE2} from "solady/utils/SSTORE2.sol";

import {IRollup} from "../interfaces/IRollup.sol";
import {Errors} from "./Errors.sol";
import {SampleLib} from "./SampleLib.sol";
import {SnapshotLib} from "./SnapshotLib.sol";
import {StakingLib} from "./StakingLib.sol";
import {Epoch, Slot} from "./TimeLib.sol";

/// @title ValidatorSelectionLib
/// @notice Seeds, committees and proposers (SPEC 3). A linked library (external functions, run by
///         DELEGATECALL on the Rollup's storage) so the Rollup stays under the 24 KB code limit.
///         `propose` reads a set-up epoch's committee itself (one storage slot and one EXTCODECOPY)
///         and calls in here only to set an epoch up, once per epoch.
/// @dev When each seed is drawn (F-01 of the review, docs/decisions.md "Snapshots and seeds"):
///      epoch N's committee is drawn from the set keyed N-1, which takes the changes made during
///      epoch N-2 and is final from the first second of N-1. Its seed is drawn from `prevrandao`
///      when epoch N-1 is set up, never earlier, so no one who knows the seed can still change the
///      set it draws from; and that is one full epoch ahead of N, SPEC 3's lookahead. If epoch N-1
///      was never set up (no block, claim or `setupEpoch` in all of it), the seed of N is drawn
///      when N itself is set up; until then N's committee is not known and the views say so
///      (`Rollup__SeedNotFixed`). An inherited seed (the earlier rule) would be known before the
///      set is final: exactly what F-01 exploited.
library ValidatorSelectionLib {
    using SnapshotLib for SnapshotLib.History;

    /// @dev One slot. The committee lives as contract code (SSTORE2): written once per epoch,
    ///      read by `propose` with one EXTCODECOPY and by a claim as one 20-byte member.
    struct EpochData {
        address committee; // SSTORE2 pointer to the members, 20 bytes each (zero: empty committee)
        uint96 seed; // sampling seed, never zero: nonzero marks the epoch as set up
    }

    struct Store {
        mapping(Epoch => EpochData) epochs;
        /// @dev Seed drawn for an epoch before it is set up: when the epoch before it was (or at
        ///      deploy, for epoch 0). Never zero once drawn.
        mapping(Epoch => uint256) drawn;
    }

    /// @notice Draws epoch 0's seed at deploy: its set (the genesis one) is final already.
    ///         (Internal: the constructor makes no library call.)
    function initialize(Store storage s) internal {
        s.drawn[Epoch.wrap(0)] = _fresh(Epoch.wrap(0));
    }

    /// @notice Samples and stores `epoch`'s committee (it must not be set up yet), then draws the
    ///         next epoch's seed: the set it draws from (keyed `epoch`) is final now.
    function setupEpoch(Store storage s, StakingLib.Store storage staking, Epoch epoch, uint256 targetSize)
        external
        returns (EpochData memory ed)
    {
        uint256 raw = s.drawn[epoch];
        // The epoch before was never set up: draw now. The set keyed epoch - 1 is final already.
        if (raw == 0) raw = _fresh(epoch);
        bytes32 seed = _samplingSeed(raw, epoch);
        address[] memory committee = _sample(staking, epoch, targetSize, seed);
        if (committee.length != 0) ed.committee = SSTORE2.write(_pack(committee));
        ed.seed = uint96(uint256(seed));
        s.epochs[epoch] = ed;

        Epoch next = Epoch.wrap(Epoch.unwrap(epoch) + 1);
        s.drawn[next] = _fresh(next);
        emit IRollup.EpochSetUp(Epoch.unwrap(epoch), seed, ed.committee, committee.length);
    }

    /// @notice The seed `epoch`'s committee and proposers are drawn with; reverts
    ///         `Rollup__SeedNotFixed` while it is not drawn yet.
    function sampleSeed(Store storage s, Epoch epoch) public view returns (bytes32) {
        EpochData memory ed = s.epochs[epoch];
        if (ed.seed != 0) return bytes32(uint256(ed.seed));
        uint256 raw = s.drawn[epoch];
        require(raw != 0, Errors.Rollup__SeedNotFixed(epoch));
        return _samplingSeed(raw, epoch);
    }

    /// @notice `epoch`'s committee, in committee order (empty: no validators).
    function committeeAt(Store storage s, StakingLib.Store storage staking, Epoch epoch, uint256 targetSize)
        external
        view
        returns (address[] memory)
    {
        return _sample(staking, epoch, targetSize, sampleSeed(s, epoch));
    }

    /// @notice The proposer of `slot` of `epoch` before `epoch` is set up (zero: empty committee).
    ///         Once it is, the Rollup reads the stored committee itself.
    function drawProposer(
        Store storage s,
        StakingLib.Store storage staking,
        Epoch epoch,
        Slot slot,
        uint256 targetSize
    ) external view returns (address) {
        bytes32 seed = sampleSeed(s, epoch);
        address[] memory committee = _sample(staking, epoch, targetSize, seed);
        if (committee.length == 0) return address(0);
        return
            committee[SampleLib.proposerIndex(Epoch.unwrap(epoch), Slot.unwrap(slot), seed, committee.length)];
    }

    /// @notice The validator set `epoch`'s committee is drawn from.
    function setFor(StakingLib.Store storage staking, Epoch epoch)
        external
        view
        returns (address[] memory set)
    {
        uint48 key = _setKey(epoch);
        set = new address[](staking.setSize.valueAt(key));
        for (uint256 i = 0; i < set.length; ++i) {
            set[i] = address(uint160(staking.setMembers[i].valueAt(key)));
        }
    }

    /// @dev Epoch N draws from the set keyed N-1 (epochs 0 and 1 from the genesis set, key 0).
    function _setKey(Epoch epoch) private pure returns (uint48) {
        uint256 e = Epoch.unwrap(epoch);
        return e == 0 ? 0 : uint48(e - 1);
    }

    /// @dev min(targetSize, set size) distinct members of the set `epoch` draws from, with `seed`.
    ///      (Here, not in StakingLib: a library calling another linked library would nest links.)
    function _sample(StakingLib.Store storage staking, Epoch epoch, uint256 targetSize, bytes32 seed)
        private
        view
        returns (address[] memory committee)
    {
        uint48 key = _setKey(epoch);
        uint256 n = staking.setSize.valueAt(key);
        uint256 k = n < targetSize ? n : targetSize;
        if (k == 0) return committee;
        uint256[] memory indices = SampleLib.sampleIndices(n, k, seed);
        committee = new address[](k);
        for (uint256 i = 0; i < k; ++i) {
            committee[i] = address(uint160(staking.setMembers[indices[i]].valueAt(key)));
        }
    }

    /// @dev What `prevrandao` gives for `epoch` now; never zero, which marks "not drawn".
    function _fresh(Epoch epoch) private view returns (uint256 raw) {
        raw = uint256(keccak256(abi.encode(block.prevrandao, Epoch.unwrap(epoch))));
        if (raw == 0) raw = 1;
    }

    /// @dev Mixing in the epoch keeps each epoch's draw distinct. 96 bits, so it packs beside the
    ///      committee pointer; never zero, which marks an epoch as set up.
    function _samplingSeed(uint256 raw, Epoch epoch) private pure returns (bytes32) {
        uint96 seed = uint96(uint256(keccak256(abi.encode(raw, Epoch.unwrap(epoch)))));
        return bytes32(uint256(seed == 0 ? 1 : seed));
    }

    /// @dev Members as 20-byte words back to back: 960 bytes of code for 48 members.
    function _pack(address[] memory committee) private pure returns (bytes memory packed) {
        packed = new bytes(committee.length * 20);
        for (uint256 i = 0; i < committee.length; ++i) {
            address member = committee[i];
            assembly ("memory-safe") {
                // Writes 12 bytes past this member; the next member (or unused memory) follows.
                mstore(add(add(packed, 0x20), mul(i, 20)), shl(96, member))
            }
        }
    }
}
