// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";

import {EpochProofArgs, FeeRecipient, RollupConfig} from "../../contracts/interfaces/IRollup.sol";
import {Errors} from "../../contracts/libraries/Errors.sol";
import {Epoch, Slot, TimeConfig, TimeLib, Timestamp} from "../../contracts/libraries/TimeLib.sol";
import {BoundEscrowStub, BoundQueueStub, RollupTimeHarness} from "./RollupTimeHarness.sol";

/// @notice Symbolic (halmos) proofs of the slot/epoch arithmetic (TimeLib) and of the Rollup's
///         claim window, proof deadline and prune rule (SPEC 5.3-5.5). Run with `make halmos`;
///         forge ignores `check_` functions.
///
///         Every slot, epoch, time and genesis is symbolic (times and genesis below 2^40 seconds,
///         epochs below 2^32). The durations are not: slot = (t - genesis) / SLOT_DURATION with
///         a symbolic divisor is nonlinear arithmetic that the solvers do not finish in hours, so
///         each check runs over the configurations of `_config` (a symbolic choice among them):
///         the test suite's and the devnet's, the extremes the Rollup accepts, and an odd one.
contract ClaimWindowSymbolicTest is Test {
    uint256 internal constant MAX_TIME = 2 ** 40;
    uint256 internal constant MAX_EPOCH = 2 ** 32;

    /// @dev (SLOT_DURATION, EPOCH_DURATION, PROOF_CLAIM_WINDOW) number k, 0 to 4.
    function _config(uint256 k) internal pure returns (uint256 slot, uint256 epoch, uint256 window) {
        vm.assume(k < 5);
        if (k == 0) return (36, 32, 13); // test/harnesses/RollupBase.sol
        if (k == 1) return (12, 8, 4); // script/Deploy.s.sol defaults
        if (k == 2) return (1, 240, 240); // longest epoch, the window is all of it
        if (k == 3) return (7, 1, 1); // one-slot epochs
        return (13, 7, 6); // nothing a power of two
    }

    function _cfg(uint256 k, uint256 genesis) internal pure returns (TimeConfig memory cfg, uint256 window) {
        vm.assume(genesis < MAX_TIME);
        (uint256 slot, uint256 epoch, uint256 w) = _config(k);
        cfg = TimeConfig({genesisTime: genesis, slotDuration: slot, epochDuration: epoch});
        window = w;
    }

    /// @dev The real Rollup (via RollupTimeHarness) with configuration `k`.
    function _deploy(uint256 k, uint256 genesis)
        internal
        returns (RollupTimeHarness h, TimeConfig memory cfg, uint256 window)
    {
        (cfg, window) = _cfg(k, genesis);
        vm.warp(genesis);
        RollupConfig memory rc = RollupConfig({
            stakingAsset: address(0x5001),
            rewardAsset: address(0x5002),
            escrow: address(new BoundEscrowStub()),
            verifier: address(0x5003),
            genesisTime: genesis,
            genesisArchive: bytes32(uint256(1)),
            slotDuration: cfg.slotDuration,
            epochDuration: cfg.epochDuration,
            targetCommitteeSize: 1,
            proofClaimWindow: window,
            minStake: 1,
            validatorExitDelay: 2 * cfg.epochDuration * cfg.slotDuration,
            minBond: 1,
            slashBurnBps: 10_000,
            slashRecipient: address(0),
            blockReward: 0,
            submitterReward: 0,
            forcedInclusionQueue: address(new BoundQueueStub(genesis, cfg.slotDuration, cfg.epochDuration)),
            minForcedTxsPerBlock: 1,
            fallbackEnter: 2 * cfg.epochDuration + 1,
            fallbackExitActivity: 1,
            fallbackExitTotal: 1
        });
        h = new RollupTimeHarness(rc);
    }

    // ------------------------------------------------------------------ TimeLib

    /// @notice Every second of slot s maps back to s: slotAt(slotStart(s) + i) == s, i < SLOT_DURATION.
    function check_slotAt_invertsSlotStart(uint256 k, uint256 genesis, uint256 s, uint256 i) public pure {
        (TimeConfig memory cfg,) = _cfg(k, genesis);
        vm.assume(s < MAX_TIME && i < cfg.slotDuration);
        Timestamp start = TimeLib.slotStart(cfg, Slot.wrap(s));
        assertEq(Slot.unwrap(TimeLib.slotAt(cfg, start)), s);
        assertEq(Slot.unwrap(TimeLib.slotAt(cfg, Timestamp.wrap(Timestamp.unwrap(start) + i))), s);
    }

    /// @notice The slots of epoch e are exactly firstSlot(e) .. firstSlot(e + 1) - 1, and
    ///         slotInEpoch counts from 0 there.
    function check_epochOf_matchesFirstSlot(uint256 k, uint256 e, uint256 s) public pure {
        (TimeConfig memory cfg,) = _cfg(k, 0);
        vm.assume(e < MAX_EPOCH && s < MAX_TIME);
        uint256 first = Slot.unwrap(TimeLib.firstSlot(cfg, Epoch.wrap(e)));
        uint256 next = Slot.unwrap(TimeLib.firstSlot(cfg, Epoch.wrap(e + 1)));
        bool inside = first <= s && s < next;
        assertEq(Epoch.unwrap(TimeLib.epochOf(cfg, Slot.wrap(s))) == e, inside);
        if (inside) assertEq(TimeLib.slotInEpoch(cfg, Slot.wrap(s)), s - first);
    }

    // epochAt = epochOf(slotAt) and epochStart = slotStart(firstSlot) are compositions: with the
    // two checks above, epochAt(epochStart(e)) == e and epochAt(epochStart(e) - 1) == e - 1
    // follow, so they are not re-proven here (a direct check costs the solvers minutes).

    /// @notice A quote priced from the start of epoch e (or any time after) has its bond counted by
    ///         the escrow until the proof deadline, the start of e + 2, whenever the escrow's
    ///         withdraw delay is what the Rollup's constructor demands (> 2 epochs): a withdrawal
    ///         started then completes only after the deadline.
    function check_escrowDelay_outlivesProofDeadline(
        uint256 k,
        uint256 genesis,
        uint256 e,
        uint256 t,
        uint256 delay
    ) public pure {
        (TimeConfig memory cfg,) = _cfg(k, genesis);
        vm.assume(e < MAX_EPOCH && delay < MAX_TIME && t < 2 * MAX_TIME);
        vm.assume(delay > 2 * cfg.epochDuration * cfg.slotDuration);
        vm.assume(t >= Timestamp.unwrap(TimeLib.epochStart(cfg, Epoch.wrap(e))));
        assertGt(t + delay, Timestamp.unwrap(TimeLib.epochStart(cfg, Epoch.wrap(e + 2))));
    }

    // ------------------------------------------------------------------ the Rollup's claim window

    /// @notice Slot s is in the claim window of epoch e iff firstSlot(e+1) <= s < firstSlot(e+1) + C,
    ///         that is iff s is one of the first C slots of epoch e + 1.
    function check_claimWindow_isFirstCSlotsOfNextEpoch(uint256 k, uint256 genesis, uint256 e, uint256 s)
        public
    {
        (RollupTimeHarness h, TimeConfig memory cfg, uint256 claimWindow) = _deploy(k, genesis);
        vm.assume(e < MAX_EPOCH && s < MAX_TIME);
        (bool inWindow,) =
            address(h).staticcall(abi.encodeCall(h.requireInClaimWindow, (Epoch.wrap(e), Slot.wrap(s))));

        uint256 start = Slot.unwrap(TimeLib.firstSlot(cfg, Epoch.wrap(e + 1)));
        assertEq(inWindow, start <= s && s < start + claimWindow, "window bounds");
        bool firstCOfNext = Epoch.unwrap(TimeLib.epochOf(cfg, Slot.wrap(s))) == e + 1
            && TimeLib.slotInEpoch(cfg, Slot.wrap(s)) < claimWindow;
        assertEq(inWindow, firstCOfNext, "first C slots of e + 1");
    }

    /// @notice The window of e is never empty, ends inside epoch e + 1, and its last slot starts
    ///         before the proof deadline (the start of e + 2): a claim always leaves time to prove.
    function check_claimWindow_closesBeforeProofDeadline(uint256 k, uint256 genesis, uint256 e) public {
        (RollupTimeHarness h, TimeConfig memory cfg,) = _deploy(k, genesis);
        vm.assume(e < MAX_EPOCH);
        Slot end = h.claimWindowEnd(Epoch.wrap(e));
        Slot start = TimeLib.firstSlot(cfg, Epoch.wrap(e + 1));
        assertGt(Slot.unwrap(end), Slot.unwrap(start), "empty window");
        assertLe(Slot.unwrap(end), Slot.unwrap(TimeLib.firstSlot(cfg, Epoch.wrap(e + 2))), "past epoch e + 1");
        uint256 lastSlotStart = Timestamp.unwrap(TimeLib.slotStart(cfg, Slot.wrap(Slot.unwrap(end) - 1)));
        uint256 deadline = Timestamp.unwrap(TimeLib.epochStart(cfg, Epoch.wrap(e + 2)));
        assertLt(lastSlotStart, deadline, "deadline inside the window");
    }

    // ------------------------------------------------------------------ proof window vs prune

    /// @notice For the epoch to prove e, at any time from epoch e on, with or without a claim (on
    ///         e or on another epoch): submitEpochRootProof passes its time checks iff the time is
    ///         in epoch e + 1 and (e is claimed or the claim window is still open); the chain is
    ///         due to be pruned iff the time is past epoch e + 1, or the window closed with e
    ///         unclaimed. So the two never overlap, and in epoch e + 1 exactly one of them holds.
    function check_proofWindow_andPrune_partitionTime(
        uint256 k,
        uint256 genesis,
        uint48 e,
        uint256 t,
        uint8 claimKind
    ) public {
        (RollupTimeHarness h, TimeConfig memory cfg,) = _deploy(k, genesis);
        vm.assume(e < MAX_EPOCH && t >= genesis && t < MAX_TIME);
        vm.assume(t >= Timestamp.unwrap(TimeLib.epochStart(cfg, Epoch.wrap(e))));
        vm.warp(t);
        h.setTips(2, 1, 0, e);
        // 0: no claim, 1: a claim on e, 2: a stale claim on another epoch
        vm.assume(claimKind < 3);
        bool claimed = claimKind == 1;
        if (claimKind == 1) h.setClaim(address(0xB0B), e);
        if (claimKind == 2) h.setClaim(address(0xB0B), e == 0 ? 1 : e - 1);

        uint256 s = Slot.unwrap(TimeLib.slotAt(cfg, Timestamp.wrap(t)));
        // The proven chain progressed in this slot, so based fallback is not due: the fallback
        // clock's own arithmetic makes the solvers run past CI's budget, and that a fallback
        // leaves the proof window open is tested in test/Rollup/fallback.t.sol.
        h.setProgressSlot(uint48(s));
        uint256 current = Epoch.unwrap(TimeLib.epochOf(cfg, Slot.wrap(s)));
        uint256 windowEnd = Slot.unwrap(h.claimWindowEnd(Epoch.wrap(e)));

        bool provable = _passesTimeChecks(h, e);
        bool due = h.pruneDue();

        assertEq(provable, current == uint256(e) + 1 && (claimed || s < windowEnd), "proof window");
        assertEq(due, current > uint256(e) + 1 || (s >= windowEnd && !claimed), "prune rule");
        assertFalse(provable && due, "provable and prunable at once");
        if (current == uint256(e) + 1) assertTrue(provable || due, "neither provable nor prunable");
    }

    /// @dev Calls submitEpochRootProof with everything but the time right except the end block
    ///      number, which is never valid: it passed the time checks iff it reverts on that check.
    function _passesTimeChecks(RollupTimeHarness h, uint48 e) internal returns (bool) {
        EpochProofArgs memory args = EpochProofArgs({
            epoch: Epoch.wrap(e),
            endBlockNumber: type(uint256).max,
            previousArchive: bytes32(0),
            endArchive: bytes32(0),
            prover: address(0xB0B),
            fees: new FeeRecipient[](0),
            proof: ""
        });
        (bool ok, bytes memory ret) = address(h).call(abi.encodeCall(h.submitEpochRootProof, (args)));
        assertFalse(ok, "accepted a proof with an invalid end block");
        return ret.length >= 4 && bytes4(ret) == Errors.Rollup__InvalidEpochEnd.selector;
    }
}
