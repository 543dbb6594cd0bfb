// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Epoch, Slot, Timestamp} from "./TimeLib.sol";

/// @title Errors
/// @notice Every custom error Proofline raises, named `Contract__Reason(expected, actual)`.
library Errors {
    // Rollup: deployment parameters
    error Rollup__ZeroParameter(uint256 index);
    error Rollup__CommitteeTooLarge(uint256 max, uint256 actual);
    error Rollup__ExitDelayTooShort(uint256 min, uint256 actual);
    error Rollup__GenesisInFuture(uint256 now_, uint256 genesisTime);
    error Rollup__EpochTooLong(uint256 max, uint256 actual);
    error Rollup__InvalidClaimWindow(uint256 epochDuration, uint256 claimWindow);
    error Rollup__InvalidSlashBurnBps(uint256 bps);
    error Rollup__EscrowNotBound(address expectedRollup, address actualRollup);
    error Rollup__EscrowDelayTooShort(uint256 min, uint256 actual);
    error Rollup__QueueNotBound(address expectedRollup, address actualRollup);
    error Rollup__QueueTimeMismatch();
    error Rollup__FallbackEnterTooShort(uint256 min, uint256 actual);
    error Rollup__RewardAssetIsStakingAsset(address asset);
    error Rollup__RewardTooLarge(uint256 max, uint256 actual);
    error Rollup__QueueFeeAssetMismatch(address expected, address actual);

    // Rollup: pending chain
    error Rollup__InvalidSlot(Slot expected, Slot actual);
    error Rollup__SlotAlreadyUsed(Slot tipSlot, Slot actual);
    error Rollup__InvalidBlockNumber(uint256 expected, uint256 actual);
    error Rollup__InvalidArchive(bytes32 expected, bytes32 actual);
    error Rollup__InvalidBlobHash(uint256 index, bytes32 expected, bytes32 actual);
    error Rollup__UnexpectedBlob(uint256 index, bytes32 blobHash);
    error Rollup__InvalidProposer(address expected, address actual);
    error Rollup__SignersOutOfRange(uint256 committeeSize, uint256 signers);
    error Rollup__SignatureCountMismatch(uint256 expected, uint256 actual);
    error Rollup__InsufficientAttestations(uint256 needed, uint256 actual);
    error Rollup__InvalidAttestation(uint256 committeeIndex);
    /// @notice `epoch`'s seed is not drawn yet: the epoch before it has not been set up (or, if it
    ///         never was, `epoch` itself has not). `setupEpoch()` in the right epoch draws it.
    error Rollup__SeedNotFixed(Epoch epoch);
    error Rollup__BlockNotFound(uint256 pendingTip, uint256 blockNumber);

    // forced inclusion (SPEC 7)
    error Rollup__InvalidTxCount(uint256 forcedTxCount, uint256 txCount);
    error Rollup__InvalidForcedTxsHash(bytes32 expected, bytes32 actual);
    error Rollup__ForcedTxsDue(Epoch headDueEpoch, Epoch current);
    error Rollup__TooFewForcedTxs(uint256 required, uint256 included);
    error Rollup__NonForcedTxsBeforeDueForcedTxs(Epoch nextDueEpoch, Epoch current);
    error Rollup__NotQueue(address queue, address caller);

    // based fallback (SPEC 6)
    error Rollup__InFallback(Slot start, Slot end);
    error Rollup__NotInFallback(Slot nextStart);
    error Rollup__FallbackSlotOutOfRange(Slot min, Slot max, Slot actual);

    // Rollup: claims (SPEC 5.3)
    error Rollup__NoEpochToProve();
    error Rollup__NotInClaimPhase(Slot windowStart, Slot windowEnd, Slot current);
    error Rollup__NotClaimingCorrectEpoch(Epoch expected, Epoch actual);
    error Rollup__QuoteExpired(Slot current, Slot validUntil);
    error Rollup__InvalidBasisPointFee(uint256 basisPointFee);
    error Rollup__InsufficientBondAmount(uint256 minBond, uint256 bondAmount);
    error Rollup__InsufficientEscrowBalance(uint256 bondAmount, uint256 available);
    error Rollup__ProofRightAlreadyClaimed(Epoch epoch, address bondProvider);
    error Rollup__InvalidQuoteSignature(address prover, address signer);

    // Rollup: proofs (SPEC 5.4) and prune (SPEC 5.5)
    error Rollup__NotEpochToProve(Epoch expected, Epoch actual);
    error Rollup__EpochNotEnded(Epoch epoch, Epoch current);
    error Rollup__ProofDeadlinePassed(Epoch epoch, Epoch current);
    error Rollup__UnclaimedPastClaimWindow(Epoch epoch, Slot windowEnd, Slot current);
    error Rollup__InvalidEpochEnd(uint256 expected, uint256 actual);
    error Rollup__InvalidPreviousArchive(bytes32 expected, bytes32 actual);
    error Rollup__InvalidEndArchive(bytes32 expected, bytes32 actual);
    error Rollup__InvalidProver(address bondProvider, address prover);
    error Rollup__InvalidFeesLength(uint256 expected, uint256 actual);
    error Rollup__InvalidProof();
    error Rollup__NothingToPrune();

    // Rollup: rewards
    error Rollup__EpochNotProven(Epoch epoch);
    error Rollup__InvalidFees(bytes32 expected, bytes32 actual);
    error Rollup__BlockIndexOutOfRange(uint256 blocks, uint256 index);
    error Rollup__RewardAlreadyClaimed(Epoch epoch, uint256 index);
    error Rollup__NoRewards(address owner);
    /// @notice A proof's fees add up to more than the fee deposits not yet paid out.
    error Rollup__FeesExceedDeposits(uint256 available, uint256 fees);
    error Rollup__ZeroAmount();
    error Rollup__AmountNotReceived(uint256 expected, uint256 received);

    // Rollup: validator staking
    error Staking__ZeroAddress();
    error Staking__AlreadyRegistered(address attester);
    error Staking__NotActive(address attester);
    error Staking__NotExiting(address attester);
    error Staking__NotWithdrawer(address expected, address actual);
    error Staking__ExitNotReady(Timestamp exitableAt, Timestamp now_);
    error Staking__AmountNotReceived(uint256 expected, uint256 received);
    error Staking__NotAttester(address attester, address caller);
    error Staking__ConsentExpired(Timestamp deadline, Timestamp now_);
    error Staking__InvalidConsent(address attester, address signer);

    // ProverEscrow
    error Escrow__NotRollup(address expected, address actual);
    error Escrow__ZeroAmount();
    error Escrow__NothingReceived();
    error Escrow__InsufficientFreeBalance(uint256 available, uint256 requested);
    error Escrow__InsufficientBondableBalance(uint256 available, uint256 requested);
    error Escrow__InsufficientStake(uint256 staked, uint256 requested);
    error Escrow__NoPendingWithdrawal(address prover);
    error Escrow__WithdrawNotReady(Timestamp withdrawableAt, Timestamp now_);
    error Escrow__BurnExceedsAmount(uint256 amount, uint256 burned);
    error Escrow__ZeroParameter(uint256 index);
    error Escrow__NothingSlashed(address account);

    // ForcedInclusionQueue
    error Queue__ZeroParameter(uint256 index);
    error Queue__NotRollup(address expected, address actual);
    error Queue__InvalidTxProof(bytes32 txHash);
    error Queue__EmptyTx();
    error Queue__FeeTooLow(uint256 required, uint256 paid);
    error Queue__NotEnoughQueued(uint256 queued, uint256 requested);
    error Queue__EntryNotFound(uint256 tail, uint256 index);
    error Queue__FeeTransferFailed(address recipient, uint256 amount);
    error Queue__InvalidRewind(uint256 head, uint256 newHead);
    /// @notice `limit` due epochs already have entries the proven chain has not taken: wait for a
    ///         proof (nothing was charged).
    error Queue__TooManyDueEpochs(uint256 limit);
    /// @notice Forced txs may not start with the fee-deposit tag: only `depositFee` queues those.
    error Queue__DepositTagReserved();
    error Queue__InvalidDeposit(address recipient, uint256 amount);
    error Queue__DepositNotReceived(uint256 expected, uint256 received);

    // SnapshotLib
    error Snapshot__KeyDecreasing(uint256 latest, uint256 key);
}
