// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {StdInvariant} from "forge-std/StdInvariant.sol";
import {Test} from "forge-std/Test.sol";

import {Rollup} from "../../contracts/core/Rollup.sol";
import {DevToken} from "../../contracts/dev/DevToken.sol";
import {ValidatorStatus, ValidatorView} from "../../contracts/interfaces/IRollup.sol";
import {Epoch, Slot, Timestamp} from "../../contracts/libraries/TimeLib.sol";
import {RollupHandler} from "./RollupHandler.sol";

/// @notice Properties of the pending chain, staking and committees under random sequences of
///         stakes, exits, time jumps, valid and invalid proposals. PROPERTIES.md states each one.
contract RollupInvariants is Test {
    RollupHandler internal handler;
    Rollup internal rollup;
    DevToken internal token;
    uint256 internal minStake;
    uint256 internal k;

    function setUp() public {
        handler = new RollupHandler();
        rollup = handler.getRollup();
        token = handler.getToken();
        minStake = rollup.MIN_STAKE();
        k = rollup.TARGET_COMMITTEE_SIZE();

        bytes4[] memory selectors = new bytes4[](7);
        selectors[0] = RollupHandler.stake.selector;
        selectors[1] = RollupHandler.initiateExit.selector;
        selectors[2] = RollupHandler.finaliseExit.selector;
        selectors[3] = RollupHandler.warp.selector;
        selectors[4] = RollupHandler.setupEpoch.selector;
        selectors[5] = RollupHandler.propose.selector;
        selectors[6] = RollupHandler.proposeInvalid.selector;
        targetContract(address(handler));
        targetSelector(StdInvariant.FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    // The fuzz seed is fixed, so every invariant_ function would replay the same call sequences
    // in its own campaign: the properties are grouped into three campaigns (one per concern)
    // rather than one campaign per property, which keeps the ci profile within its time budget.

    /// @notice Pending chain: tip, archive links, and the fate of valid and invalid proposals.
    function invariant_pendingChain() public view {
        // The ghost counters first: they name the call that went wrong, the tip check only its effect.
        _assertInvalidProposalsNeverSucceed();
        _assertValidCallsNeverRevert();
        _assertTipCountsAcceptedProposals();
        _assertArchivesChain();
        _assertAttestationRules();
    }

    /// @notice Committees of the current and the next epoch, and every one observed before.
    function invariant_committees() public view {
        assertEq(handler.ghost_seedTooEarly(), 0, "a seed was known before its set was final");
        assertEq(handler.ghost_seedMissing(), 0, "a seed was not drawn when its epoch before was set up");
        uint256 cur = Epoch.unwrap(rollup.getCurrentEpoch());
        for (uint256 e = cur; e <= cur + 1; ++e) {
            // Known once the epoch before is set up (the handler observes it then).
            if (!handler.observed(e)) continue;
            address[] memory committee = rollup.getCommitteeAt(Epoch.wrap(e));
            _assertCommitteeWellFormed(e, committee);
            _assertCommitteeStable(e, committee);
        }
        if (handler.observed(cur)) _assertProposerFollowsSpecFormula(cur);
    }

    /// @notice Stake accounting, validator records, and the snapshots committees are drawn from.
    function invariant_staking() public view {
        _assertStakeAccounting();
        _assertValidatorRecords();
        uint256 cur = Epoch.unwrap(rollup.getCurrentEpoch());
        for (uint256 e = cur; e <= cur + 2; ++e) {
            _assertSetSnapshot(e);
        }
    }

    /// @notice End of each run: every committee and seed ever observed is unchanged, and every
    ///         snapshot key up to the live one matches the ghost.
    function afterInvariant() public view {
        uint256 n = handler.observedCount();
        for (uint256 i = 0; i < n; ++i) {
            uint256 e = handler.observedEpochs(i);
            _assertCommitteeStable(e, rollup.getCommitteeAt(Epoch.wrap(e)));
        }
        uint256 upTo = handler.ghost_snapUpTo();
        for (uint256 e = 0; e <= upTo + 2; ++e) {
            _assertSetSnapshot(e);
        }
        if (vm.envOr("INVARIANT_SUMMARY", false)) handler.summary();
    }

    // ---------------------------------------------------------------- pending chain

    /// @dev Checked after every call, so the tip moves by exactly one per accepted proposal (from
    ///      the proven tip when that proposal pruned first) and never otherwise.
    function _assertTipCountsAcceptedProposals() internal view {
        assertEq(
            rollup.getPendingBlockNumber() + 1, handler.archivesLength(), "pending tip != ghost chain length"
        );
        assertLe(rollup.getPendingBlockNumber(), handler.ghost_proposes(), "more blocks than proposals");
        assertEq(rollup.getProvenBlockNumber(), 0, "proven tip moved without proofs");
        assertEq(handler.ghost_tipMisstep(), 0, "a call moved the tip by the wrong amount");
        assertEq(handler.ghost_eventMismatch(), 0, "accepted block without its L2BlockProposed event");
    }

    /// @dev SPEC 4: attestations are EIP-712 signatures under the Rollup's own domain, over a
    ///      digest that binds every field of the proposal, with a quorum of floor(2n/3) + 1.
    function _assertAttestationRules() internal view {
        (, string memory name, string memory version, uint256 chainId, address verifyingContract,,) =
            rollup.eip712Domain();
        assertEq(name, "Proofline Rollup", "EIP-712 name");
        assertEq(version, "1", "EIP-712 version");
        assertEq(chainId, block.chainid, "EIP-712 chainId");
        assertEq(verifyingContract, address(rollup), "EIP-712 verifyingContract");
        assertEq(handler.ghost_digestNotBinding(), 0, "the attested digest ignores a proposal field");
        for (uint256 size = 1; size <= k; ++size) {
            assertEq(rollup.quorum(size), size * 2 / 3 + 1, "quorum != floor(2n/3) + 1");
        }
    }

    function _assertArchivesChain() internal view {
        uint256 pending = rollup.getPendingBlockNumber();
        assertEq(handler.archivesLength(), pending + 1, "ghost chain length");
        assertEq(rollup.getBlock(0).archive, handler.ghost_archives(0), "genesis archive");
        for (uint256 n = 1; n <= pending; ++n) {
            assertEq(rollup.getBlock(n).archive, handler.ghost_archives(n), "block archive");
            assertEq(
                rollup.getBlock(n - 1).archive,
                handler.ghost_previousArchives(n),
                "previousArchive != parent archive"
            );
        }
    }

    function _assertInvalidProposalsNeverSucceed() internal view {
        assertEq(
            handler.ghost_invalidAccepted(),
            0,
            string.concat("an invalid proposal was accepted: ", handler.ghost_lastInvalidAccepted())
        );
        assertEq(
            handler.ghost_invalidWrongReason(),
            0,
            string.concat("refused for another reason: ", handler.ghost_lastUnexpectedWhere())
        );
        assertEq(handler.ghost_unauthorizedAccepted(), 0, "an unauthorised staking call went through");
    }

    function _assertValidCallsNeverRevert() internal view {
        assertEq(
            handler.ghost_unexpectedReverts(),
            0,
            string.concat(
                "valid call reverted in ",
                handler.ghost_lastUnexpectedWhere(),
                ": ",
                vm.toString(handler.ghost_lastUnexpected())
            )
        );
        assertEq(handler.ghost_timeWentBack(), 0, "time went backwards between calls");
    }

    // ---------------------------------------------------------------- committees

    /// @dev SPEC 3: min(K, n) distinct members of the epoch's snapshot. (That `propose` checks
    ///      signatures against exactly these members is exercised by the valid and OutsiderQuorum
    ///      proposals.)
    function _assertCommitteeWellFormed(uint256 e, address[] memory committee) internal view {
        address[] memory set = rollup.getValidatorSetFor(Epoch.wrap(e));
        assertEq(committee.length, set.length < k ? set.length : k, "committee size != min(K, set)");
        for (uint256 i = 0; i < committee.length; ++i) {
            for (uint256 j = i + 1; j < committee.length; ++j) {
                assertTrue(committee[i] != committee[j], "validator twice on a committee");
            }
            assertTrue(_contains(set, committee[i]), "committee member outside the epoch's set");
            // A member may be exiting, but its stake stays until its committee's epoch is over.
            assertTrue(
                rollup.getValidator(committee[i]).status != ValidatorStatus.NONE,
                "committee member's stake released"
            );
        }
    }

    /// @dev SPEC 3: the proposer of a slot is committee[hash(epoch, slot, seed) % size].
    function _assertProposerFollowsSpecFormula(uint256 epoch) internal view {
        uint256 slot = Slot.unwrap(rollup.getCurrentSlot());
        address[] memory committee = rollup.getCommitteeAt(Epoch.wrap(epoch));
        address proposer = rollup.getCurrentProposer();
        if (committee.length == 0) {
            assertEq(proposer, address(0), "proposer without a committee");
            return;
        }
        bytes32 seed = rollup.getSampleSeed(Epoch.wrap(epoch));
        uint256 idx = uint256(keccak256(abi.encode(epoch, slot, seed))) % committee.length;
        assertEq(proposer, committee[idx], "proposer != committee[hash(epoch, slot, seed) % size]");
    }

    /// @dev Lookahead: an epoch's committee and seed, once visible (from the setup of the epoch
    ///      before it), never change; nor does the set it is drawn from ("set frozen before seed",
    ///      F-01: no one who knows the seed can still move the set).
    function _assertCommitteeStable(uint256 e, address[] memory committee) internal view {
        if (!handler.observed(e)) return;
        assertEq(
            handler.setDigest(rollup.getValidatorSetFor(Epoch.wrap(e))),
            handler.observedSet(e),
            "the set changed after the seed drawn from it was known"
        );
        assertEq(
            keccak256(abi.encodePacked(committee)),
            handler.observedCommittee(e),
            "committee changed after it was visible"
        );
        assertEq(
            rollup.getSampleSeed(Epoch.wrap(e)), handler.observedSeed(e), "seed changed after it was visible"
        );
    }

    // ---------------------------------------------------------------- validators and stake

    function _assertStakeAccounting() internal view {
        uint256 registered = handler.activeCount() + handler.exitingCount();
        assertEq(token.balanceOf(address(rollup)), rollup.totalStake(), "rollup balance != totalStake");
        assertEq(rollup.totalStake(), minStake * registered, "totalStake != MIN_STAKE * (active + exiting)");
        assertEq(rollup.getActiveValidatorCount(), handler.activeCount(), "active count");
        // Every token minted is either staked or was paid to a withdrawer on exit.
        uint256 paid = 0;
        uint256 count = handler.everStakedCount();
        for (uint256 i = 0; i < count; ++i) {
            (, address withdrawer,, uint256 exits) = handler.ghostOf(handler.everStaked(i));
            assertEq(token.balanceOf(withdrawer), exits * minStake, "withdrawer paid != finalised exits");
            paid += exits * minStake;
        }
        assertEq(token.totalSupply(), handler.ghost_totalMinted(), "supply");
        assertEq(token.totalSupply(), rollup.totalStake() + paid, "tokens unaccounted for");
    }

    function _assertValidatorRecords() internal view {
        uint256 count = handler.everStakedCount();
        address[] memory active = rollup.getActiveValidators();
        for (uint256 i = 0; i < count; ++i) {
            address a = handler.everStaked(i);
            (ValidatorStatus status, address withdrawer, uint256 exitableAt,) = handler.ghostOf(a);
            ValidatorView memory v = rollup.getValidator(a);
            assertEq(uint8(v.status), uint8(status), "status");
            assertEq(v.stake, status == ValidatorStatus.NONE ? 0 : minStake, "stake");
            if (status == ValidatorStatus.NONE) continue;
            assertEq(v.withdrawer, withdrawer, "withdrawer");
            if (status == ValidatorStatus.ACTIVE) {
                assertLt(v.index, active.length, "index out of the set");
                assertEq(active[v.index], a, "index does not point at the validator");
            } else {
                assertEq(Timestamp.unwrap(v.exitableAt), exitableAt, "exitableAt");
                assertFalse(_contains(active, a), "exiting validator still in the set");
            }
        }
        for (uint256 i = 0; i < active.length; ++i) {
            for (uint256 j = i + 1; j < active.length; ++j) {
                assertTrue(active[i] != active[j], "validator twice in the set");
            }
        }
    }

    /// @dev The set epoch e's committee is drawn from is the set as it stood at the start of epoch
    ///      e - 1: changes made in epoch E count from epoch E + 2's committee on.
    function _assertSetSnapshot(uint256 e) internal view {
        address[] memory set = rollup.getValidatorSetFor(Epoch.wrap(e));
        (uint256 sum, uint256 size) = handler.expectedSetFor(e);
        assertEq(set.length, size, "snapshot size");
        assertEq(handler.setDigest(set), sum, "snapshot members");
    }

    // ---------------------------------------------------------------- helpers

    function _contains(address[] memory list, address a) internal pure returns (bool) {
        for (uint256 i = 0; i < list.length; ++i) {
            if (list[i] == a) return true;
        }
        return false;
    }
}
