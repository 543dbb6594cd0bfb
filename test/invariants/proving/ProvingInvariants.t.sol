// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {StdInvariant} from "forge-std/StdInvariant.sol";
import {Test} from "forge-std/Test.sol";
import {console} from "forge-std/console.sol";

import {ProverEscrow} from "../../../contracts/core/ProverEscrow.sol";
import {Rollup} from "../../../contracts/core/Rollup.sol";
import {DevToken} from "../../../contracts/dev/DevToken.sol";
import {
    ForcedTx,
    IForcedInclusionQueue,
    NO_DUE_EPOCH
} from "../../../contracts/interfaces/IForcedInclusionQueue.sol";
import {EpochRewards, FallbackStatus, ProofClaim} from "../../../contracts/interfaces/IRollup.sol";
import {Epoch, Slot, Timestamp} from "../../../contracts/libraries/TimeLib.sol";
import {ProvingHandler} from "./ProvingHandler.sol";

/// @notice Prover coordination as a whole (SPEC 5): escrow, claims, proofs, prune and slash,
///         rewards, under random sequences of every actor's calls, valid and invalid; with forced
///         inclusion (SPEC 7) in every block. test/invariants/PROPERTIES.md ("Prover coordination",
///         "Forced inclusion") states each property. FallbackInvariants runs the same with a short
///         FALLBACK_ENTER and the fallback actors.
contract ProvingInvariants is Test {
    ProvingHandler internal handler;
    Rollup internal rollup;
    ProverEscrow internal escrow;
    DevToken internal bondToken;
    DevToken internal rewardToken;
    uint256 internal constant BPS = 10_000;

    IForcedInclusionQueue internal queue;

    function setUp() public {
        handler = _newHandler();
        rollup = handler.getRollup();
        escrow = handler.getEscrow();
        bondToken = handler.getBondToken();
        rewardToken = handler.getRewardToken();
        queue = handler.getQueue();
        targetContract(address(handler));
        targetSelector(StdInvariant.FuzzSelector({addr: address(handler), selectors: _selectors()}));
    }

    /// @dev FALLBACK_ENTER far off: this suite never enters fallback.
    function _newHandler() internal virtual returns (ProvingHandler) {
        return new ProvingHandler(false);
    }

    function _selectors() internal view virtual returns (bytes4[] memory selectors) {
        selectors = new bytes4[](19);
        selectors[0] = ProvingHandler.deposit.selector;
        selectors[1] = ProvingHandler.startWithdraw.selector;
        selectors[2] = ProvingHandler.executeWithdraw.selector;
        selectors[3] = ProvingHandler.escrowAttack.selector;
        selectors[4] = ProvingHandler.propose.selector;
        selectors[5] = ProvingHandler.claim.selector;
        selectors[6] = ProvingHandler.submitProof.selector;
        selectors[7] = ProvingHandler.prune.selector;
        selectors[8] = ProvingHandler.claimBlockRewards.selector;
        selectors[9] = ProvingHandler.withdrawRewards.selector;
        selectors[10] = ProvingHandler.warp.selector;
        selectors[11] = ProvingHandler.claim.selector;
        selectors[12] = ProvingHandler.submitProof.selector;
        selectors[13] = ProvingHandler.propose.selector;
        selectors[14] = ProvingHandler.enqueue.selector;
        selectors[15] = ProvingHandler.proposeForced.selector;
        selectors[16] = ProvingHandler.enqueue.selector;
        selectors[17] = ProvingHandler.depositFee.selector;
        selectors[18] = ProvingHandler.fundRewards.selector;
    }

    // With a fixed fuzz seed every invariant_ function replays the same call sequences in its own
    // campaign, so all properties are checked by one function (each in its own helper) rather than
    // paying for the same runs once per property.

    /// @notice Every property, after every call.
    function invariant_proverCoordination() public view {
        // The counters first: they name the call that went wrong, the state checks only its effect.
        _assertOutcomesAsPredicted();
        _assertEventsInTime();
        _assertChainMatchesModel();
        _assertEscrowAccounting();
        _assertRewardAccounting();
        _assertForcedInclusion();
        _assertFallback();
    }

    /// @notice End of each run: every claim ended in exactly one of proof or slash, or is still live.
    ///         With INVARIANT_SUMMARY=true (and -vv), also prints the coverage counters summed over
    ///         the runs so far (kept in environment variables, the only state runs share).
    function afterInvariant() public {
        uint256 n = handler.claimedEpochCount();
        ProvingHandler.Model memory mm = handler.model();
        for (uint256 i = 0; i < n; ++i) {
            uint256 e = handler.claimedEpochs(i);
            // A fallback block drops unproven blocks and releases their claim: a third ending.
            uint256 outcomes = handler.ev_proofs(e) + handler.ev_slashes(e) + handler.releasedClaims(e);
            assertLe(outcomes, 1, "a claim ended twice");
            bool live = mm.claimed && mm.claimEpoch == e;
            assertEq(outcomes == 0, live, "claim neither proven, slashed, released nor live");
            assertEq(rollup.getProofClaim(Epoch.wrap(e)).bondProvider != address(0), live, "stale claim");
        }
        if (vm.envOr("INVARIANT_SUMMARY", false)) _printCoverage();
    }

    function _printCoverage() internal {
        (string[] memory keys, uint256[] memory values) = handler.coverage();
        string memory prefix = _coveragePrefix();
        uint256 runs = vm.envOr(string.concat(prefix, "RUNS"), uint256(0)) + 1;
        vm.setEnv(string.concat(prefix, "RUNS"), vm.toString(runs));
        console.log("coverage summed over runs:", runs);
        for (uint256 i = 0; i < keys.length; ++i) {
            string memory name = string.concat(prefix, vm.toString(i));
            uint256 total = vm.envOr(name, uint256(0)) + values[i];
            vm.setEnv(name, vm.toString(total));
            console.log(string.concat("  ", keys[i], ": ", vm.toString(total)));
        }
    }

    /// @dev Environment variables are process-wide: each suite sums its coverage under its own names.
    function _coveragePrefix() internal pure virtual returns (string memory) {
        return "PROVING_COVERAGE_";
    }

    // ---------------------------------------------------------------- outcomes

    /// @dev Valid actions never revert; invalid ones never succeed and fail for the reason the
    ///      first broken check of SPEC 5.2-5.5 gives.
    function _assertOutcomesAsPredicted() internal view {
        assertEq(
            handler.ghost_unexpectedReverts(),
            0,
            string.concat(
                "valid call reverted: ",
                handler.ghost_lastUnexpectedWhere(),
                ": ",
                vm.toString(handler.ghost_lastUnexpected())
            )
        );
        assertEq(
            handler.ghost_invalidAccepted(),
            0,
            string.concat("invalid call succeeded: ", handler.ghost_lastInvalidAccepted())
        );
        assertEq(
            handler.ghost_invalidWrongReason(),
            0,
            string.concat(
                "refused for another reason: ",
                handler.ghost_lastWrongReasonWhere(),
                ": ",
                vm.toString(handler.ghost_lastWrongReason())
            )
        );
        assertEq(handler.ghost_digestMismatch(), 0, "quoteToDigest != SPEC 5.1 EIP-712 digest");
        assertEq(handler.ghost_timeWentBack(), 0, "time went backwards");
    }

    // ---------------------------------------------------------------- claims, proofs, slashes

    /// @dev From the events alone: at most one claim, one proof and one slash per epoch; claims
    ///      only in the claim window by the slot's proposer; proofs only in epoch + 1 (and inside the
    ///      claim window when unclaimed), by the bond provider when claimed; a slash only of a
    ///      claimed, unproven epoch, of the claim's bond, at or after its deadline. Then the model:
    ///      the same number of each as it expected.
    function _assertEventsInTime() internal view {
        assertEq(
            handler.ghost_eventViolations(),
            0,
            string.concat("event out of rule: ", handler.ghost_lastEventViolation())
        );
        assertLe(handler.ev_slashesTotal(), handler.ev_claimsTotal(), "more slashes than claims");
        assertEq(handler.ev_claimsTotal(), handler.ghost_claimsExpected(), "claims != model");
        assertEq(handler.ev_proofsTotal(), handler.ghost_proofsExpected(), "proofs != model");
        assertEq(handler.ev_slashesTotal(), handler.ghost_slashesExpected(), "slashes != model");
        assertEq(handler.ev_prunesTotal(), handler.ghost_prunesExpected(), "prunes != model");
    }

    /// @dev Tips, epoch to prove, live claim, prune condition and archives against the model.
    function _assertChainMatchesModel() internal view {
        ProvingHandler.Model memory mm = handler.model();
        uint256 pending = rollup.getPendingBlockNumber();
        uint256 proven = rollup.getProvenBlockNumber();
        assertLe(proven, pending, "proven tip above pending tip");
        assertEq(handler.ghost_provenDecreased(), 0, "proven tip decreased");
        assertEq(pending, mm.pending, "pending tip != model");
        assertEq(proven, mm.proven, "proven tip != model");
        assertEq(rollup.canPrune(), handler.modelPruneDue(), "canPrune != SPEC 5.5");
        for (uint256 n = 0; n <= pending; ++n) {
            assertEq(rollup.getBlock(n).archive, handler.archiveOf(n), "archive != model");
        }
        if (pending == proven) {
            assertFalse(mm.claimed, "model: claim without an epoch to prove");
            return;
        }
        uint256 e = mm.epochToProve;
        assertEq(Epoch.unwrap(rollup.getEpochToProve()), e, "epoch to prove != model");
        ProofClaim memory pc = rollup.getProofClaim(Epoch.wrap(e));
        if (mm.claimed) {
            assertEq(mm.claimEpoch, e, "model: claim on another epoch");
            assertEq(pc.bondProvider, mm.claimProver, "claim: bond provider");
            assertEq(pc.bondAmount, mm.claimBond, "claim: bond");
            assertEq(pc.basisPointFee, mm.claimBps, "claim: fee");
            // A claim whose deadline passed without a proof is due to be pruned (and slashed).
            if (vm.getBlockTimestamp() >= handler.deadline(e)) {
                assertTrue(rollup.canPrune(), "missed deadline");
            }
        } else {
            assertEq(pc.bondProvider, address(0), "claim the model does not have");
        }
    }

    // ---------------------------------------------------------------- escrow

    /// @dev SPEC 5.2: balance == free + pending + staked, per prover as the model has them; staked
    ///      funds are exactly the live claim's bond; no withdrawal paid more than was pending; every
    ///      token deposited is still held, withdrawn, burned or sent to the slash recipient.
    function _assertEscrowAccounting() internal view {
        uint256 free;
        uint256 pending;
        uint256 staked;
        uint256 n = handler.proverCount();
        for (uint256 i = 0; i < n; ++i) {
            address p = handler.provers(i);
            (uint256 gFree, uint256 gPending, uint256 gAt, uint256 gStaked,, uint256 gWithdrawn,) =
                handler.acct(p);
            (uint256 pend, Timestamp at) = escrow.pendingWithdrawal(p);
            assertEq(escrow.freeBalance(p), gFree, "free != model");
            assertEq(pend, gPending, "pending != model");
            if (gPending != 0) assertEq(Timestamp.unwrap(at), gAt, "withdrawableAt != model");
            assertEq(escrow.stakedBalance(p), gStaked, "staked != model");
            assertEq(bondToken.balanceOf(p), gWithdrawn, "prover got other than its withdrawals");
            free += escrow.freeBalance(p);
            pending += pend;
            staked += escrow.stakedBalance(p);
        }
        uint256 balance = bondToken.balanceOf(address(escrow));
        // Slashes book the burn and the recipient shares (F-06); nothing here pays them out.
        uint256 slashed =
            escrow.slashedBalance(handler.BURN()) + escrow.slashedBalance(handler.getSlashRecipient());
        assertEq(
            balance, free + pending + staked + slashed, "escrow balance != free + pending + staked + slashed"
        );
        ProvingHandler.Model memory mm = handler.model();
        assertEq(staked, mm.claimed ? mm.claimBond : 0, "staked != the live claim's bond");
        assertEq(handler.ghost_withdrawOverpaid(), 0, "a withdrawal paid more than was pending");
        assertEq(handler.ghost_withdrawMismatch(), 0, "a withdrawal paid other than the pending amount");
        // Slashed bonds stay in the escrow, booked, until someone pays them out (nothing does here).
        assertEq(
            handler.ghost_deposited(), balance + handler.ghost_withdrawn(), "deposited != held + withdrawn"
        );
        assertEq(escrow.slashedBalance(handler.BURN()), handler.ghost_burned(), "burned != model");
        assertEq(
            escrow.slashedBalance(handler.getSlashRecipient()),
            handler.ghost_slashed() - handler.ghost_burned(),
            "slash recipient != unburned share"
        );
    }

    // ---------------------------------------------------------------- rewards

    /// @dev Rewards (F-03): the reward token comes in only through the pool's funding and fee
    ///      deposits, and leaves only through withdrawRewards; the pool and the fee deposits are
    ///      what the model says; each address is owed exactly what the model booked and it did not
    ///      withdraw; what the rollup owes plus its pool and fee deposits never exceeds what it holds
    ///      (solvency, whatever fees the blocks declared); per proven epoch, what was booked never
    ///      exceeds what its proof took from the pool and the deposits, and the paid bits, proposer
    ///      share, block reward and fees hash match the model.
    function _assertRewardAccounting() internal view {
        uint256 held = rewardToken.balanceOf(address(rollup));
        assertEq(
            held + handler.ghost_totalRewardsWithdrawn(),
            handler.ghost_rewardTokensIn(),
            "reward token leaked"
        );
        (uint256 pool, uint256 feePot) = rollup.getRewardBooks();
        assertEq(pool, handler.ghost_rewardPool(), "reward pool != model");
        assertEq(feePot, handler.ghost_feePot(), "fee deposits != model");
        assertEq(handler.ghost_rewardPayMismatch(), 0, "withdrawRewards paid other than what was owed");
        uint256 owed;
        uint256 n = handler.rewardeeCount();
        for (uint256 i = 0; i < n; ++i) {
            address who = handler.rewardees(i);
            uint256 expected = handler.ghost_booked(who) - handler.ghost_rewardsWithdrawn(who);
            assertEq(rollup.rewardsOf(who), expected, "rewardsOf != booked - withdrawn");
            owed += expected;
        }
        assertLe(owed + pool + feePot, held, "owed + pool + fee deposits exceed the rollup's balance");
        uint256 epochs = handler.provenEpochCount();
        for (uint256 i = 0; i < epochs; ++i) {
            uint256 e = handler.provenEpochs(i);
            (,, uint256 bps, uint256 paidBits, uint256 booked, uint256 cap, uint256 perBlock) =
                handler.provenEpoch(e);
            assertLe(booked, cap, "epoch booked more than its proof took from the pool and deposits");
            EpochRewards memory r = rollup.getEpochRewards(Epoch.wrap(e));
            assertEq(r.blockReward, perBlock, "block reward != model (pro rata)");
            assertEq(r.claimed, paidBits, "paid blocks != model");
            assertEq(r.proposerShareBps, BPS - bps, "proposer share != 10000 - fee");
            assertEq(r.feesHash, handler.provenFeesHash(e), "fees hash != the proof's fees");
        }
    }

    // ---------------------------------------------------------------- forced inclusion

    /// @dev SPEC 7 against the ghost FIFO: head <= tail; the tail is every entry queued, each with
    ///      its hash and due epoch (queue epoch + FORCED_INCLUSION_DELAY), included exactly when it
    ///      is below the head; the head is where the blocks of the pending chain left it, so after a
    ///      prune exactly the proven tip's head; each block above the proven tip took the next
    ///      entries after its parent's (FIFO) and committed to their hash; no block with non-forced
    ///      txs left a due entry behind; the queue's head due epoch and due count match.
    function _assertForcedInclusion() internal view {
        assertEq(handler.ghost_dueSkipped(), 0, "a block with non-forced txs left a due entry queued");
        uint256 head = queue.head();
        uint256 tail = queue.tail();
        assertLe(head, tail, "queue head > tail");
        assertEq(tail, handler.queueLength(), "queue tail != entries queued");
        assertEq(head, handler.qHead(), "queue head != the head after the pending tip (model)");
        ProvingHandler.Model memory mm = handler.model();
        assertEq(handler.headAfter(mm.pending), head, "model: head after the pending tip");
        // Blocks at or below the proven tip were checked while pending and never change.
        uint256 from = mm.proven == 0 ? 1 : mm.proven;
        for (uint256 n = from; n <= mm.pending; ++n) {
            uint256 before = handler.headAfter(n - 1);
            uint256 k = handler.forcedOf(n);
            assertEq(handler.headAfter(n), before + k, "a block took other than the next entries");
            assertEq(handler.forcedHashOf(n), handler.rangeHash(before, k), "forcedTxsHash != the FIFO's");
        }
        uint256 epoch = Epoch.unwrap(rollup.getCurrentEpoch());
        for (uint256 i = 0; i < tail; ++i) {
            ForcedTx memory e = queue.getEntry(i);
            (bytes32 txHash, uint256 due) = handler.queueEntry(i);
            assertEq(e.txHash, txHash, "entry hash != queued");
            assertEq(Epoch.unwrap(e.includedByEpoch), due, "entry due epoch != queue epoch + delay");
            assertEq(e.included, i < head, "entry included != below the head");
        }
        uint256 headDue;
        if (head < tail) (, headDue) = handler.queueEntry(head);
        else headDue = Epoch.unwrap(NO_DUE_EPOCH);
        assertEq(Epoch.unwrap(queue.headDueEpoch()), headDue, "headDueEpoch != the head entry's");
        assertEq(queue.dueCount(Epoch.wrap(epoch)), handler.modelDueCount(), "dueCount != model");
    }

    // ---------------------------------------------------------------- based fallback

    /// @dev SPEC 6: the rollup's fallback status is the model's clock; the proven tip only ever
    ///      advanced through a proof the handler built and the verifier accepted (an epoch proof,
    ///      or a fallback block's own); no bond was slashed for an epoch whose valid proof was
    ///      refused (fallback does not close a proof window).
    function _assertFallback() internal view {
        (bool active, uint256 start, uint256 end) = handler.modelFallback();
        FallbackStatus memory fs = rollup.getFallbackStatus();
        assertEq(fs.active, active, "fallback mode != SPEC 6 clock");
        assertEq(Slot.unwrap(fs.start), start, "fallback start != SPEC 6 clock");
        assertEq(Slot.unwrap(fs.end), end, "fallback end != SPEC 6 clock");
        assertEq(handler.ghost_unprovenAdvance(), 0, "proven tip advanced without an accepted proof");
        assertEq(handler.ghost_slashAfterRefusal(), 0, "bond slashed although its valid proof was refused");
    }
}
