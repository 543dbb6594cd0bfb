// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SSTORE2} from "solady/utils/SSTORE2.sol";

import {IEpochVerifier} from "../interfaces/IEpochVerifier.sol";
import {IForcedInclusionQueue, NO_DUE_EPOCH} from "../interfaces/IForcedInclusionQueue.sol";
import {IProverEscrow} from "../interfaces/IProverEscrow.sol";
import {
    BlockLog,
    ChainTips,
    CommitteeAttestations,
    EpochProofArgs,
    EpochRewards,
    FallbackStatus,
    FeeRecipient,
    IRollup,
    ProofClaim,
    ProposeArgs,
    RollupConfig,
    Signature,
    ValidatorStatus,
    ValidatorView
} from "../interfaces/IRollup.sol";
import {
    EpochProofQuote,
    EpochProofQuoteLib,
    SignedEpochProofQuote
} from "../libraries/EpochProofQuoteLib.sol";
import {Errors} from "../libraries/Errors.sol";
import {ProposalLib} from "../libraries/ProposalLib.sol";
import {RewardLib} from "../libraries/RewardLib.sol";
import {SampleLib} from "../libraries/SampleLib.sol";
import {SnapshotLib} from "../libraries/SnapshotLib.sol";
import {StakingLib} from "../libraries/StakingLib.sol";
import {Epoch, Slot, TimeConfig, TimeLib, Timestamp} from "../libraries/TimeLib.sol";
import {ValidatorSelectionLib} from "../libraries/ValidatorSelectionLib.sol";

/// @title Rollup
/// @notice Proofline's L1 contract: staked validators, per-epoch committees, the pending chain,
///         and prover coordination (claims, proofs, rewards, prune and slash).
/// @dev NatSpec for every external function lives in IRollup. Storage is packed so that `propose`
///      touches one slot for the tips, one for the new block and one for the epoch.
contract Rollup is IRollup, EIP712 {
    using SafeERC20 for IERC20;
    using SnapshotLib for SnapshotLib.History;
    using ValidatorSelectionLib for ValidatorSelectionLib.Store;
    using RewardLib for RewardLib.Store;
    using StakingLib for StakingLib.Store;

    uint256 internal constant BPS = 10_000;
    uint256 internal constant MAX_REWARD = type(uint96).max;
    bytes32 internal constant STAKE_CONSENT_TYPEHASH =
        keccak256("StakeConsent(address attester,address withdrawer,uint256 deadline)");
    /// @dev One bit per block of an epoch records its proposer reward as paid (RewardLib).
    uint256 internal constant MAX_EPOCH_DURATION = 224;

    /// @dev One slot, so `propose` reads and writes its chain bookkeeping once. uint48 block numbers
    ///      and slots last millions of years at any slot length.
    ///      Blocks carry no slot of their own in storage: since an unproven epoch is pruned when the
    ///      next one ends, unproven blocks span at most two epochs, the epoch to prove and the one
    ///      after it, so the epoch to prove and its last block are all the rollup needs.
    struct Tips {
        uint48 pending;
        uint48 proven;
        uint48 tipSlot; // slot of the pending tip (0 right after a prune: the tip is then proven)
        uint48 epochToProve; // epoch of block `proven + 1`, while pending > proven
        uint48 epochToProveEnd; // its last block, once a block of a later epoch follows it
        bool forcedUnproven; // an unproven block took forced-inclusion entries (a prune requeues them)
    }

    /// @dev One slot, read by every `propose`: what the forced-inclusion rule and the fallback
    ///      clock need. Queue positions are the queue's head index after a given block.
    struct Liveness {
        uint48 forcedDueEpoch; // due epoch of the queue's head entry (NO_DUE_EPOCH: queue empty)
        uint48 progressSlot; // the fallback clock: last proven-chain progress, or end of a fallback
        uint40 forcedHead; // queue head after the pending tip
        uint40 provenForcedHead; // ... after the proven tip
        uint40 epochEndForcedHead; // ... after the epoch to prove's last block, once it is closed
    }

    /// @dev The based-fallback period being run (start == 0: none recorded).
    struct FallbackPeriod {
        uint48 start;
        uint48 lastActivity; // slot of the last block proven in it (its start before any)
    }

    /// @dev The live claim: claims are sequential (one epoch to prove at a time), so one record,
    ///      rewritten each epoch, serves all; a claim is live for `epoch` while bondProvider != 0.
    struct Claim {
        address bondProvider;
        uint16 basisPointFee;
        uint48 epoch;
    }

    IERC20 public immutable STAKING_ASSET;
    IERC20 public immutable REWARD_ASSET;
    IProverEscrow public immutable ESCROW;
    IEpochVerifier public immutable VERIFIER;
    uint256 public immutable GENESIS_TIME;
    uint256 public immutable SLOT_DURATION;
    uint256 public immutable EPOCH_DURATION;
    uint256 public immutable TARGET_COMMITTEE_SIZE;
    uint256 public immutable PROOF_CLAIM_WINDOW;
    uint256 public immutable MIN_STAKE;
    uint256 public immutable VALIDATOR_EXIT_DELAY;
    uint256 public immutable MIN_BOND;
    uint256 public immutable SLASH_BURN_BPS;
    address public immutable SLASH_RECIPIENT;
    uint256 public immutable BLOCK_REWARD;
    uint256 public immutable SUBMITTER_REWARD;
    IForcedInclusionQueue public immutable QUEUE;
    uint256 public immutable MIN_FORCED_TXS_PER_BLOCK;
    /// @notice FALLBACK_ENTER, FALLBACK_EXIT_ACTIVITY and FALLBACK_EXIT_TOTAL, in slots.
    uint256 public immutable FALLBACK_ENTER;
    uint256 public immutable FALLBACK_EXIT_ACTIVITY;
    uint256 public immutable FALLBACK_EXIT_TOTAL;

    Tips internal tips;
    mapping(uint256 blockNumber => bytes32 archive) internal archives;
    /// @dev Seeds and committees by epoch (ValidatorSelectionLib).
    ValidatorSelectionLib.Store internal selection;
    Claim internal claim;
    uint256 internal claimBond;
    /// @dev The reward pool, the fee deposits and what proven epochs owe (RewardLib).
    RewardLib.Store internal rewards;
    Liveness internal liveness;
    FallbackPeriod internal fallbackPeriod;

    /// @dev The validator set, with history (StakingLib).
    StakingLib.Store internal staking;

    constructor(RollupConfig memory cfg) EIP712("Proofline Rollup", "1") {
        _checkConfig(cfg);
        STAKING_ASSET = IERC20(cfg.stakingAsset);
        REWARD_ASSET = IERC20(cfg.rewardAsset);
        ESCROW = IProverEscrow(cfg.escrow);
        VERIFIER = IEpochVerifier(cfg.verifier);
        GENESIS_TIME = cfg.genesisTime == 0 ? block.timestamp : cfg.genesisTime;
        SLOT_DURATION = cfg.slotDuration;
        EPOCH_DURATION = cfg.epochDuration;
        TARGET_COMMITTEE_SIZE = cfg.targetCommitteeSize;
        PROOF_CLAIM_WINDOW = cfg.proofClaimWindow;
        MIN_STAKE = cfg.minStake;
        VALIDATOR_EXIT_DELAY = cfg.validatorExitDelay;
        MIN_BOND = cfg.minBond;
        SLASH_BURN_BPS = cfg.slashBurnBps;
        SLASH_RECIPIENT = cfg.slashRecipient;
        BLOCK_REWARD = cfg.blockReward;
        SUBMITTER_REWARD = cfg.submitterReward;
        QUEUE = IForcedInclusionQueue(cfg.forcedInclusionQueue);
        MIN_FORCED_TXS_PER_BLOCK = cfg.minForcedTxsPerBlock;
        FALLBACK_ENTER = cfg.fallbackEnter;
        FALLBACK_EXIT_ACTIVITY = cfg.fallbackExitActivity;
        FALLBACK_EXIT_TOTAL = cfg.fallbackExitTotal;

        liveness.forcedDueEpoch = uint48(Epoch.unwrap(NO_DUE_EPOCH));
        liveness.progressSlot = uint48(Slot.unwrap(_currentSlot()));
        archives[0] = cfg.genesisArchive;
        selection.initialize();
        emit L2BlockProposed(0, cfg.genesisArchive, 0);
    }

    // ------------------------------------------------------------------ validators

    function stake(address attester, address withdrawer) external override {
        staking.stake(STAKING_ASSET, MIN_STAKE, _nextSnapshotKey(), attester, withdrawer);
    }

    function stakeWithConsent(
        address attester,
        address withdrawer,
        uint256 deadline,
        Signature calldata consent
    ) external override {
        staking.stakeWithConsent(
            STAKING_ASSET,
            MIN_STAKE,
            _nextSnapshotKey(),
            attester,
            withdrawer,
            deadline,
            stakeConsentDigest(attester, withdrawer, deadline),
            consent
        );
    }

    function stakeConsentDigest(address attester, address withdrawer, uint256 deadline)
        public
        view
        override
        returns (bytes32)
    {
        return _hashTypedDataV4(keccak256(abi.encode(STAKE_CONSENT_TYPEHASH, attester, withdrawer, deadline)));
    }

    function initiateExit(address attester) external override {
        staking.initiateExit(_nextSnapshotKey(), VALIDATOR_EXIT_DELAY, attester);
    }

    function finaliseExit(address attester) external override {
        staking.finaliseExit(STAKING_ASSET, MIN_STAKE, attester);
    }

    /// @notice Staking asset held for validators (active and exiting).
    function totalStake() external view returns (uint256) {
        return staking.totalStake;
    }

    // ------------------------------------------------------------------ committee

    function setupEpoch() external override {
        _ensureEpoch(_currentEpoch());
    }

    // ------------------------------------------------------------------ pending chain

    function propose(ProposeArgs calldata args, CommitteeAttestations calldata attestations)
        external
        override
    {
        _propose(args, attestations);
    }

    function proposeWithProof(ProposeArgs calldata args, bytes calldata proof) external override {
        Tips memory t = _pruneIfDue(tips);
        Liveness memory lv = liveness;
        Slot now_ = _currentSlot();
        (bool active, uint256 start,) = _syncFallback(lv, Slot.unwrap(now_));
        require(active, Errors.Rollup__NotInFallback(Slot.wrap(start)));
        if (t.pending != t.proven) {
            // The committee's unproven blocks cannot sit under a proven block: drop them (their
            // proof is not late, so a claim on them is released, not slashed).
            liveness = lv;
            _prune(t, false);
            lv = liveness;
        }
        require(
            Slot.wrap(start) <= args.slot && args.slot <= now_,
            Errors.Rollup__FallbackSlotOutOfRange(Slot.wrap(start), now_, args.slot)
        );
        _checkBlock(t, args);
        _includeForced(t, lv, args, TimeLib.epochOf(_time(), now_));

        bytes32[] memory publicInputs = new bytes32[](7);
        publicInputs[0] = args.previousArchive;
        publicInputs[1] = args.archive;
        publicInputs[2] = bytes32(Epoch.unwrap(TimeLib.epochOf(_time(), args.slot)));
        publicInputs[3] = bytes32(args.blockNumber);
        publicInputs[4] = bytes32(uint256(uint160(msg.sender)));
        publicInputs[6] = _hashTypedDataV4(ProposalLib.structHash(args));
        require(VERIFIER.verify(proof, publicInputs), Errors.Rollup__InvalidProof());

        archives[args.blockNumber] = args.archive;
        t.pending = t.proven = uint48(args.blockNumber);
        t.tipSlot = uint48(Slot.unwrap(args.slot));
        t.forcedUnproven = false;
        tips = t;
        lv.provenForcedHead = lv.epochEndForcedHead = lv.forcedHead;
        liveness = lv;
        fallbackPeriod.lastActivity = uint48(Slot.unwrap(now_));
        emit L2BlockProposed(args.blockNumber, args.archive, Slot.unwrap(args.slot));
        emit L2BlockProvenInFallback(args.blockNumber, msg.sender);
    }

    function syncFallback() external override {
        Liveness memory lv = liveness;
        _syncFallback(lv, Slot.unwrap(_currentSlot()));
        liveness = lv;
    }

    function forcedTxQueued(Epoch dueEpoch) external override {
        require(msg.sender == address(QUEUE), Errors.Rollup__NotQueue(address(QUEUE), msg.sender));
        liveness.forcedDueEpoch = uint48(Epoch.unwrap(dueEpoch));
    }

    // ------------------------------------------------------------------ proving

    function claimEpochProofRight(SignedEpochProofQuote calldata quote) external override {
        _claim(_pruneIfDue(tips), quote);
    }

    function proposeAndClaim(
        ProposeArgs calldata args,
        CommitteeAttestations calldata attestations,
        SignedEpochProofQuote calldata quote
    ) external override {
        _claim(_propose(args, attestations), quote);
    }

    function submitEpochRootProof(EpochProofArgs calldata args) external override {
        Tips memory t = tips;
        require(t.pending > t.proven, Errors.Rollup__NoEpochToProve());
        Epoch epoch = Epoch.wrap(t.epochToProve);
        require(args.epoch == epoch, Errors.Rollup__NotEpochToProve(epoch, args.epoch));
        TimeConfig memory time = _time();
        Slot now_ = TimeLib.slotAt(time, Timestamp.wrap(block.timestamp));
        Epoch current = TimeLib.epochOf(time, now_);
        Liveness memory lv = liveness;
        // Fallback does not close a proof window: a claimed prover keeps its deadline (SPEC 5.4),
        // and a proof advances the proven chain, which is fallback activity (SPEC 6).
        bool inFallback = false;
        if (lv.progressSlot + FALLBACK_ENTER <= Slot.unwrap(now_)) {
            (inFallback,,) = _syncFallback(lv, Slot.unwrap(now_));
        }
        // Accepted from the end of the epoch until the end of the next (SPEC 5.4).
        require(current > epoch, Errors.Rollup__EpochNotEnded(epoch, current));
        require(
            Epoch.unwrap(current) == Epoch.unwrap(epoch) + 1,
            Errors.Rollup__ProofDeadlinePassed(epoch, current)
        );
        Claim memory c = claim;
        bool claimed = c.bondProvider != address(0) && c.epoch == Epoch.unwrap(epoch);
        if (!claimed) {
            // ...and only while the chain is not due to be pruned: an unclaimed epoch is pruned
            // when its claim window closes.
            Slot windowEnd = _claimWindowEnd(time, epoch);
            require(now_ < windowEnd, Errors.Rollup__UnclaimedPastClaimWindow(epoch, windowEnd, now_));
        } else {
            require(args.prover == c.bondProvider, Errors.Rollup__InvalidProver(c.bondProvider, args.prover));
        }

        uint256 end = TimeLib.epochOf(time, Slot.wrap(t.tipSlot)) == epoch ? t.pending : t.epochToProveEnd;
        require(args.endBlockNumber == end, Errors.Rollup__InvalidEpochEnd(end, args.endBlockNumber));
        bytes32 previous = archives[t.proven];
        require(
            args.previousArchive == previous,
            Errors.Rollup__InvalidPreviousArchive(previous, args.previousArchive)
        );
        bytes32 endArchive = archives[end];
        require(args.endArchive == endArchive, Errors.Rollup__InvalidEndArchive(endArchive, args.endArchive));
        uint256 blockCount = end - t.proven;
        require(
            args.fees.length == blockCount, Errors.Rollup__InvalidFeesLength(blockCount, args.fees.length)
        );

        bytes32 feesHash = keccak256(abi.encode(args.fees));
        bytes32[] memory publicInputs = new bytes32[](6);
        publicInputs[0] = previous;
        publicInputs[1] = endArchive;
        publicInputs[2] = bytes32(Epoch.unwrap(epoch));
        publicInputs[3] = bytes32(end);
        publicInputs[4] = bytes32(uint256(uint160(args.prover)));
        publicInputs[5] = feesHash;
        require(VERIFIER.verify(args.proof, publicInputs), Errors.Rollup__InvalidProof());

        t.proven = uint48(end);
        if (t.pending > end) {
            // Blocks after the epoch are in the next one: the proof lands before that epoch ends.
            t.epochToProve = uint48(Epoch.unwrap(epoch) + 1);
            t.epochToProveEnd = 0;
        }
        if (t.forcedUnproven) {
            lv.provenForcedHead = t.pending > end ? lv.epochEndForcedHead : lv.forcedHead;
            t.forcedUnproven = lv.provenForcedHead != lv.forcedHead;
        }
        // In fallback a proof is activity, like a fallback block; the clock restarts only in
        // normal mode (a recorded fallback anchors it at its own end).
        if (inFallback) fallbackPeriod.lastActivity = uint48(Slot.unwrap(now_));
        else lv.progressSlot = uint48(Slot.unwrap(now_));
        liveness = lv;
        tips = t;

        rewards.bookEpoch(
            epoch,
            args.fees,
            feesHash,
            BLOCK_REWARD,
            SUBMITTER_REWARD,
            args.prover,
            claimed ? c.basisPointFee : 0
        );
        if (claimed) {
            claim.bondProvider = address(0);
            ESCROW.unstakeBond(c.bondProvider, claimBond);
        }
        emit L2ProofVerified(Epoch.unwrap(epoch), end, args.prover);
    }

    function prune() external override {
        Tips memory t = tips;
        require(_pruneDue(t), Errors.Rollup__NothingToPrune());
        _prune(t, true);
    }

    function claimBlockRewards(Epoch epoch, FeeRecipient[] calldata fees, uint256[] calldata indices)
        external
        override
    {
        rewards.claimBlockRewards(epoch, fees, indices, BLOCK_REWARD);
    }

    function withdrawRewards(address to) external override {
        rewards.withdraw(REWARD_ASSET, to);
    }

    function fundRewards(uint256 amount) external override {
        rewards.fund(REWARD_ASSET, amount);
    }

    function feesDeposited(uint256 amount) external override {
        require(msg.sender == address(QUEUE), Errors.Rollup__NotQueue(address(QUEUE), msg.sender));
        rewards.books.feePot += uint128(amount);
    }

    // ------------------------------------------------------------------ views

    function getCurrentSlot() external view override returns (Slot) {
        return _currentSlot();
    }

    function getCurrentEpoch() external view override returns (Epoch) {
        return _currentEpoch();
    }

    function getSlotAt(Timestamp ts) external view override returns (Slot) {
        return TimeLib.slotAt(_time(), ts);
    }

    function getEpochAt(Timestamp ts) external view override returns (Epoch) {
        return TimeLib.epochAt(_time(), ts);
    }

    function getTimestampForSlot(Slot slot) external view override returns (Timestamp) {
        return TimeLib.slotStart(_time(), slot);
    }

    function getTips() external view override returns (ChainTips memory) {
        Tips memory t = tips;
        return ChainTips({pendingBlockNumber: t.pending, provenBlockNumber: t.proven});
    }

    function getPendingBlockNumber() external view override returns (uint256) {
        return tips.pending;
    }

    function getProvenBlockNumber() external view override returns (uint256) {
        return tips.proven;
    }

    function getBlock(uint256 blockNumber) external view override returns (BlockLog memory) {
        uint256 pending = tips.pending;
        require(blockNumber <= pending, Errors.Rollup__BlockNotFound(pending, blockNumber));
        return BlockLog({archive: archives[blockNumber]});
    }

    function getCommitteeAt(Epoch epoch) external view override returns (address[] memory) {
        return selection.committeeAt(staking, epoch, TARGET_COMMITTEE_SIZE);
    }

    function getSampleSeed(Epoch epoch) external view override returns (bytes32) {
        return selection.sampleSeed(epoch);
    }

    function getProposerAt(Timestamp ts) public view override returns (address) {
        TimeConfig memory time = _time();
        Slot slot = TimeLib.slotAt(time, ts);
        Epoch epoch = TimeLib.epochOf(time, slot);
        return _proposerOf(epoch, slot, selection.epochs[epoch]);
    }

    function getCurrentProposer() external view override returns (address) {
        return getProposerAt(Timestamp.wrap(block.timestamp));
    }

    function quorum(uint256 committeeSize) public pure override returns (uint256) {
        return committeeSize * 2 / 3 + 1;
    }

    function proposalDigest(ProposeArgs calldata args) external view override returns (bytes32) {
        return _hashTypedDataV4(ProposalLib.structHash(args));
    }

    function quoteToDigest(EpochProofQuote calldata quote) public view override returns (bytes32) {
        return _hashTypedDataV4(EpochProofQuoteLib.structHash(quote));
    }

    function getEpochToProve() external view override returns (Epoch) {
        Tips memory t = tips;
        require(t.pending > t.proven, Errors.Rollup__NoEpochToProve());
        return Epoch.wrap(t.epochToProve);
    }

    function getClaimableEpoch() external view override returns (Epoch epoch) {
        Tips memory t = tips;
        require(!_pruneDue(t) && t.pending > t.proven, Errors.Rollup__NoEpochToProve());
        epoch = Epoch.wrap(t.epochToProve);
        _requireInClaimWindow(_time(), epoch, _currentSlot());
    }

    function getProofClaim(Epoch epoch) external view override returns (ProofClaim memory pc) {
        Claim memory c = claim;
        pc.epoch = epoch;
        if (c.bondProvider != address(0) && c.epoch == Epoch.unwrap(epoch)) {
            pc.bondProvider = c.bondProvider;
            pc.bondAmount = claimBond;
            pc.basisPointFee = c.basisPointFee;
        }
    }

    function validateEpochProofRightClaim(SignedEpochProofQuote calldata quote, address proposer)
        external
        view
        override
    {
        Tips memory t = tips;
        // A claim sent now would prune first and then find nothing to claim.
        require(!_pruneDue(t), Errors.Rollup__NoEpochToProve());
        Slot slot = _currentSlot();
        (bool fallbackActive, uint256 start, uint256 end,) =
            _fallbackAt(liveness.progressSlot, fallbackPeriod, Slot.unwrap(slot));
        require(!fallbackActive, Errors.Rollup__InFallback(Slot.wrap(start), Slot.wrap(end)));
        Epoch current = TimeLib.epochOf(_time(), slot);
        _validateClaim(t, quote, proposer, slot, selection.epochs[current]);
    }

    function getFallbackStatus() external view override returns (FallbackStatus memory fs) {
        (bool active, uint256 start, uint256 end,) =
            _fallbackAt(liveness.progressSlot, fallbackPeriod, Slot.unwrap(_currentSlot()));
        return FallbackStatus({active: active, start: Slot.wrap(start), end: Slot.wrap(end)});
    }

    function canPrune() external view override returns (bool) {
        return _pruneDue(tips);
    }

    function getEpochRewards(Epoch epoch) external view override returns (EpochRewards memory) {
        RewardLib.EpochRecord memory r = rewards.epochs[epoch];
        return EpochRewards({
            feesHash: r.feesHash,
            proposerShareBps: r.proposerShareBps,
            blockReward: BLOCK_REWARD * r.rewardBps / BPS,
            claimed: r.claimed
        });
    }

    function rewardsOf(address owner) external view override returns (uint256) {
        return rewards.rewardsOf[owner];
    }

    function getRewardBooks() external view override returns (uint256 rewardPool, uint256 feePot) {
        RewardLib.Books memory b = rewards.books;
        return (b.rewardPool, b.feePot);
    }

    function provenQueueHead() external view override returns (uint256) {
        return liveness.provenForcedHead;
    }

    function getValidator(address attester) external view override returns (ValidatorView memory) {
        StakingLib.Validator memory v = staking.validators[attester];
        return ValidatorView({
            status: v.status,
            withdrawer: v.withdrawer,
            stake: v.status == ValidatorStatus.NONE ? 0 : MIN_STAKE,
            index: v.index,
            exitableAt: Timestamp.wrap(v.exitableAt)
        });
    }

    function getActiveValidatorCount() external view override returns (uint256) {
        return staking.setSize.latestValue();
    }

    function getActiveValidators() external view override returns (address[] memory) {
        return staking.latestSet();
    }

    function getValidatorSetFor(Epoch epoch) external view override returns (address[] memory) {
        return ValidatorSelectionLib.setFor(staking, epoch);
    }

    // ------------------------------------------------------------------ internals: chain

    function _propose(ProposeArgs calldata args, CommitteeAttestations calldata attestations)
        internal
        returns (Tips memory t)
    {
        t = _pruneIfDue(tips);
        Liveness memory lv = liveness;
        TimeConfig memory time = _time();
        Slot slot = TimeLib.slotAt(time, Timestamp.wrap(block.timestamp));
        require(args.slot == slot, Errors.Rollup__InvalidSlot(slot, args.slot));
        bool dirty = _requireNoFallback(lv, slot);
        _checkBlock(t, args);

        Epoch epoch = TimeLib.epochOf(time, slot);
        ValidatorSelectionLib.EpochData memory ed = _ensureEpoch(epoch);
        _checkAttestations(args, attestations, epoch, ed);

        if (t.pending == t.proven) {
            t.epochToProve = uint48(Epoch.unwrap(epoch));
        } else if (
            Epoch.unwrap(epoch) > t.epochToProve && TimeLib.epochOf(time, Slot.wrap(t.tipSlot)) < epoch
        ) {
            // First block after the epoch to prove: its parent closes that epoch.
            t.epochToProveEnd = t.pending;
            // The queue position after that epoch, which its proof makes the proven one. Kept
            // even when no unproven block took entries: a proof that emptied the pending chain
            // leaves the old value behind (found by test/Rollup/forcedInclusion.t.sol).
            if (lv.epochEndForcedHead != lv.forcedHead) {
                lv.epochEndForcedHead = lv.forcedHead;
                dirty = true;
            }
        }
        if (_includeForced(t, lv, args, epoch)) dirty = true;

        archives[args.blockNumber] = args.archive;
        t.pending = uint48(args.blockNumber);
        t.tipSlot = uint48(Slot.unwrap(slot));
        tips = t;
        if (dirty) liveness = lv;
        emit L2BlockProposed(args.blockNumber, args.archive, Slot.unwrap(slot));
    }

    /// @dev The checks every block passes, with or without a committee: one block per slot, next
    ///      number, builds on the pending tip, carries exactly its blobs.
    function _checkBlock(Tips memory t, ProposeArgs calldata args) internal view {
        require(
            t.pending == 0 || Slot.wrap(t.tipSlot) < args.slot,
            Errors.Rollup__SlotAlreadyUsed(Slot.wrap(t.tipSlot), args.slot)
        );
        uint256 blockNumber = uint256(t.pending) + 1;
        require(
            args.blockNumber == blockNumber, Errors.Rollup__InvalidBlockNumber(blockNumber, args.blockNumber)
        );
        bytes32 tipArchive = archives[t.pending];
        require(
            args.previousArchive == tipArchive,
            Errors.Rollup__InvalidArchive(tipArchive, args.previousArchive)
        );
        _checkBlobs(args.blobHashes);
    }

    function _checkAttestations(
        ProposeArgs calldata args,
        CommitteeAttestations calldata att,
        Epoch epoch,
        ValidatorSelectionLib.EpochData memory ed
    ) internal view {
        bytes memory committee = ed.committee == address(0) ? new bytes(0) : SSTORE2.read(ed.committee);
        uint256 size = committee.length / 20;
        uint256 signers = att.signers;
        uint256 count = _popcount(signers);
        require(
            att.signatures.length == count,
            Errors.Rollup__SignatureCountMismatch(count, att.signatures.length)
        );
        if (size == 0) {
            // No validators: proposing is open to anyone, and there is no one to attest (SPEC 3).
            require(signers == 0, Errors.Rollup__SignersOutOfRange(0, signers));
            return;
        }
        require(size == 256 || signers >> size == 0, Errors.Rollup__SignersOutOfRange(size, signers));

        address proposer = _member(
            committee, SampleLib.proposerIndex(Epoch.unwrap(epoch), Slot.unwrap(args.slot), _seed(ed), size)
        );
        require(msg.sender == proposer, Errors.Rollup__InvalidProposer(proposer, msg.sender));
        uint256 needed = quorum(size);
        require(count >= needed, Errors.Rollup__InsufficientAttestations(needed, count));

        // Signers are committee positions, so each member counts once; the committee is distinct.
        bytes32 digest = _hashTypedDataV4(ProposalLib.structHash(args));
        uint256 j = 0;
        for (uint256 i = 0; signers != 0; ++i) {
            if (signers & 1 == 1) {
                Signature calldata sig = att.signatures[j++];
                (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, sig.v, sig.r, sig.s);
                require(
                    err == ECDSA.RecoverError.NoError && signer == _member(committee, i),
                    Errors.Rollup__InvalidAttestation(i)
                );
            }
            signers >>= 1;
        }
    }

    /// @dev The header commits to the blobs' versioned hashes; the transaction must carry exactly
    ///      those blobs, in that order.
    function _checkBlobs(bytes32[] calldata blobHashes) internal view {
        uint256 n = blobHashes.length;
        for (uint256 i = 0; i < n; ++i) {
            bytes32 actual = blobhash(i);
            require(actual == blobHashes[i], Errors.Rollup__InvalidBlobHash(i, blobHashes[i], actual));
        }
        bytes32 extra = blobhash(n);
        require(extra == bytes32(0), Errors.Rollup__UnexpectedBlob(n, extra));
    }

    /// @dev SPEC 7 for one block in epoch `current`: it starts with the queue's next
    ///      `forcedTxCount` entries (their hash checked against the queue), at least
    ///      min(due, MIN_FORCED_TXS_PER_BLOCK) of them, and carries other txs only if no due entry
    ///      is left behind. Nothing due (the cached head due epoch is later): no queue call.
    ///      Returns whether entries were taken (`lv` then holds the new head and its due epoch).
    function _includeForced(Tips memory t, Liveness memory lv, ProposeArgs calldata args, Epoch current)
        internal
        returns (bool)
    {
        uint256 n = args.forcedTxCount;
        require(args.txCount >= n, Errors.Rollup__InvalidTxCount(n, args.txCount));
        if (n == 0) {
            Epoch headDue = Epoch.wrap(lv.forcedDueEpoch);
            require(headDue > current, Errors.Rollup__ForcedTxsDue(headDue, current));
            require(
                args.forcedTxsHash == bytes32(0),
                Errors.Rollup__InvalidForcedTxsHash(bytes32(0), args.forcedTxsHash)
            );
            return false;
        }
        (bytes32 forcedTxsHash, Epoch next) = QUEUE.consume(n, lv.provenForcedHead);
        require(
            args.forcedTxsHash == forcedTxsHash,
            Errors.Rollup__InvalidForcedTxsHash(forcedTxsHash, args.forcedTxsHash)
        );
        if (next <= current) {
            // Due entries remain: the block needed all of them, or MIN and nothing else.
            require(
                n >= MIN_FORCED_TXS_PER_BLOCK, Errors.Rollup__TooFewForcedTxs(MIN_FORCED_TXS_PER_BLOCK, n)
            );
            require(args.txCount == n, Errors.Rollup__NonForcedTxsBeforeDueForcedTxs(next, current));
        }
        lv.forcedDueEpoch = uint48(Epoch.unwrap(next));
        lv.forcedHead += uint40(n);
        t.forcedUnproven = true;
        return true;
    }

    // ------------------------------------------------------------------ internals: fallback

    /// @dev Reverts in based fallback. Returns whether `lv` changed (a fallback recorded as over).
    function _requireNoFallback(Liveness memory lv, Slot now_) internal returns (bool) {
        // Fallback can only have begun FALLBACK_ENTER slots after the clock's anchor.
        if (lv.progressSlot + FALLBACK_ENTER > Slot.unwrap(now_)) return false;
        (bool active, uint256 start, uint256 end) = _syncFallback(lv, Slot.unwrap(now_));
        require(!active, Errors.Rollup__InFallback(Slot.wrap(start), Slot.wrap(end)));
        return true;
    }

    /// @dev Brings the recorded fallback period up to `now_` (events for what changed) and moves
    ///      the clock's anchor in `lv`; returns the period as of now.
    function _syncFallback(Liveness memory lv, uint256 now_)
        internal
        returns (bool active, uint256 start, uint256 end)
    {
        FallbackPeriod memory fp = fallbackPeriod;
        uint256 anchor;
        (active, start, end, anchor) = _fallbackAt(lv.progressSlot, fp, now_);
        if (fp.start != 0) {
            if (start == fp.start) return (active, start, end);
            delete fallbackPeriod;
            emit FallbackExited(_recordedEnd(fp));
        }
        lv.progressSlot = uint48(anchor);
        if (active) {
            fallbackPeriod = FallbackPeriod({start: uint48(start), lastActivity: uint48(start)});
            emit FallbackEntered(start);
        }
    }

    /// @dev The fallback period at `now_`, from the clock's anchor and the recorded period. With
    ///      no one proving, normal mode and fallback alternate: FALLBACK_ENTER slots, then a
    ///      fallback that ends after min(FALLBACK_EXIT_ACTIVITY, FALLBACK_EXIT_TOTAL). `anchor` is
    ///      returned as the start of the current cycle.
    function _fallbackAt(uint256 anchor, FallbackPeriod memory fp, uint256 now_)
        internal
        view
        returns (bool active, uint256 start, uint256 end, uint256)
    {
        if (fp.start != 0) {
            end = _recordedEnd(fp);
            if (now_ < end) return (true, fp.start, end, anchor);
            anchor = end;
        }
        uint256 idle =
            FALLBACK_EXIT_ACTIVITY < FALLBACK_EXIT_TOTAL ? FALLBACK_EXIT_ACTIVITY : FALLBACK_EXIT_TOTAL;
        uint256 cycle = FALLBACK_ENTER + idle;
        anchor += (now_ - anchor) / cycle * cycle;
        start = anchor + FALLBACK_ENTER;
        return (now_ >= start, start, start + idle, anchor);
    }

    function _recordedEnd(FallbackPeriod memory fp) internal view returns (uint256) {
        uint256 byTotal = fp.start + FALLBACK_EXIT_TOTAL;
        uint256 byActivity = fp.lastActivity + FALLBACK_EXIT_ACTIVITY;
        return byTotal < byActivity ? byTotal : byActivity;
    }

    // ------------------------------------------------------------------ internals: proving

    function _claim(Tips memory t, SignedEpochProofQuote calldata quote) internal {
        TimeConfig memory time = _time();
        Slot slot = TimeLib.slotAt(time, Timestamp.wrap(block.timestamp));
        ValidatorSelectionLib.EpochData memory ed = _ensureEpoch(TimeLib.epochOf(time, slot));
        Liveness memory lv = liveness;
        if (_requireNoFallback(lv, slot)) liveness = lv;
        Epoch epoch = _validateClaim(t, quote, msg.sender, slot, ed);

        EpochProofQuote calldata q = quote.quote;
        ESCROW.stakeBond(q.prover, q.bondAmount);
        claim = Claim({
            bondProvider: q.prover, basisPointFee: uint16(q.basisPointFee), epoch: uint48(Epoch.unwrap(epoch))
        });
        claimBond = q.bondAmount;
        emit ProofRightClaimed(Epoch.unwrap(epoch), q.prover, msg.sender, q.bondAmount, Slot.unwrap(slot));
    }

    /// @dev Every check of SPEC 5.3, shared by the claim and its dry run.
    function _validateClaim(
        Tips memory t,
        SignedEpochProofQuote calldata signed,
        address proposer,
        Slot slot,
        ValidatorSelectionLib.EpochData memory current
    ) internal view returns (Epoch epoch) {
        require(t.pending > t.proven, Errors.Rollup__NoEpochToProve());
        epoch = Epoch.wrap(t.epochToProve);
        TimeConfig memory time = _time();
        _requireInClaimWindow(time, epoch, slot);
        address expected = _proposerOf(TimeLib.epochOf(time, slot), slot, current);
        require(
            expected == address(0) || proposer == expected, Errors.Rollup__InvalidProposer(expected, proposer)
        );

        EpochProofQuote calldata q = signed.quote;
        Signature calldata sig = signed.signature;
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(quoteToDigest(q), sig.v, sig.r, sig.s);
        require(
            err == ECDSA.RecoverError.NoError && signer == q.prover,
            Errors.Rollup__InvalidQuoteSignature(q.prover, signer)
        );
        require(
            q.epochToProve == Epoch.unwrap(epoch),
            Errors.Rollup__NotClaimingCorrectEpoch(epoch, Epoch.wrap(q.epochToProve))
        );
        require(
            q.validUntilSlot >= Slot.unwrap(slot),
            Errors.Rollup__QuoteExpired(slot, Slot.wrap(q.validUntilSlot))
        );
        require(q.basisPointFee <= BPS, Errors.Rollup__InvalidBasisPointFee(q.basisPointFee));
        require(q.bondAmount >= MIN_BOND, Errors.Rollup__InsufficientBondAmount(MIN_BOND, q.bondAmount));
        Claim memory c = claim;
        require(
            c.bondProvider == address(0) || c.epoch != Epoch.unwrap(epoch),
            Errors.Rollup__ProofRightAlreadyClaimed(epoch, c.bondProvider)
        );
        // The bond must still be there when the proof is due: the end of the next epoch.
        Timestamp deadline = TimeLib.epochStart(time, Epoch.wrap(Epoch.unwrap(epoch) + 2));
        uint256 available = ESCROW.minBalanceAtTime(q.prover, deadline);
        require(available >= q.bondAmount, Errors.Rollup__InsufficientEscrowBalance(q.bondAmount, available));
    }

    function _requireInClaimWindow(TimeConfig memory time, Epoch epoch, Slot slot) internal view {
        Slot start = TimeLib.firstSlot(time, Epoch.wrap(Epoch.unwrap(epoch) + 1));
        Slot end = _claimWindowEnd(time, epoch);
        require(start <= slot && slot < end, Errors.Rollup__NotInClaimPhase(start, end, slot));
    }

    /// @dev First slot after the claim window of `epoch`: slot C of the next epoch.
    function _claimWindowEnd(TimeConfig memory time, Epoch epoch) internal view returns (Slot) {
        return Slot.wrap(
            Slot.unwrap(TimeLib.firstSlot(time, Epoch.wrap(Epoch.unwrap(epoch) + 1))) + PROOF_CLAIM_WINDOW
        );
    }

    /// @dev SPEC 5.5: (a) the claim window of the next epoch closed with no claim, or (b) the next
    ///      epoch ended without a proof.
    function _pruneDue(Tips memory t) internal view returns (bool) {
        if (t.pending == t.proven) return false;
        TimeConfig memory time = _time();
        Slot now_ = TimeLib.slotAt(time, Timestamp.wrap(block.timestamp));
        Epoch epoch = Epoch.wrap(t.epochToProve);
        if (TimeLib.epochOf(time, now_) > Epoch.wrap(Epoch.unwrap(epoch) + 1)) return true;
        if (now_ < _claimWindowEnd(time, epoch)) return false;
        Claim memory c = claim;
        return c.bondProvider == address(0) || c.epoch != Epoch.unwrap(epoch);
    }

    function _pruneIfDue(Tips memory t) internal returns (Tips memory) {
        if (_pruneDue(t)) _prune(t, true);
        return t;
    }

    /// @dev Cuts the pending chain back to the proven tip. A live claim on the epoch to prove is
    ///      slashed when `late` (its proof deadline passed: SPEC 5.5 case (b)), else released.
    ///      Forced-inclusion entries the dropped blocks took go back to the queue's head.
    function _prune(Tips memory t, bool late) internal {
        Claim memory c = claim;
        bool live = c.bondProvider != address(0) && c.epoch == t.epochToProve;
        bool requeue = t.forcedUnproven;
        emit PrunedPending(t.proven, t.pending);
        t.pending = t.proven;
        t.tipSlot = 0;
        t.epochToProveEnd = 0;
        t.forcedUnproven = false;
        tips = t;
        // Every write precedes the escrow's and the queue's calls, but the queue's answer.
        if (live) delete claim;
        if (requeue) {
            Liveness memory lv = liveness;
            lv.forcedHead = lv.epochEndForcedHead = lv.provenForcedHead;
            lv.forcedDueEpoch = uint48(Epoch.unwrap(QUEUE.rewind(lv.provenForcedHead)));
            liveness = lv;
        }
        if (live) {
            uint256 bond = claimBond;
            if (late) {
                emit BondSlashed(c.epoch, c.bondProvider, bond);
                ESCROW.slashBond(c.bondProvider, bond, bond * SLASH_BURN_BPS / BPS, SLASH_RECIPIENT);
            } else {
                ESCROW.unstakeBond(c.bondProvider, bond);
            }
        }
    }

    // ------------------------------------------------------------------ internals: committee

    /// @dev `epoch`'s committee, set up (ValidatorSelectionLib.setupEpoch) by the first call that
    ///      needs it; once it is, one storage read.
    function _ensureEpoch(Epoch epoch) internal returns (ValidatorSelectionLib.EpochData memory ed) {
        ed = selection.epochs[epoch];
        if (ed.seed == 0) ed = selection.setupEpoch(staking, epoch, TARGET_COMMITTEE_SIZE);
    }

    /// @dev The proposer of `slot` (in `epoch`), zero when the committee is empty. Reads the stored
    ///      committee when the epoch is set up, else draws it.
    function _proposerOf(Epoch epoch, Slot slot, ValidatorSelectionLib.EpochData memory ed)
        internal
        view
        returns (address)
    {
        if (ed.seed == 0) return selection.drawProposer(staking, epoch, slot, TARGET_COMMITTEE_SIZE);
        if (ed.committee == address(0)) return address(0);
        uint256 size = (ed.committee.code.length - 1) / 20;
        uint256 i = SampleLib.proposerIndex(Epoch.unwrap(epoch), Slot.unwrap(slot), _seed(ed), size);
        return _member(SSTORE2.read(ed.committee, i * 20, i * 20 + 20), 0);
    }

    function _seed(ValidatorSelectionLib.EpochData memory ed) internal pure returns (bytes32) {
        return bytes32(uint256(ed.seed));
    }

    function _member(bytes memory packed, uint256 i) internal pure returns (address member) {
        assembly ("memory-safe") {
            member := shr(96, mload(add(add(packed, 0x20), mul(i, 20))))
        }
    }

    // ------------------------------------------------------------------ internals: misc

    function _checkConfig(RollupConfig memory cfg) internal view {
        require(cfg.stakingAsset != address(0), Errors.Rollup__ZeroParameter(0));
        require(cfg.slotDuration != 0, Errors.Rollup__ZeroParameter(1));
        require(cfg.epochDuration != 0, Errors.Rollup__ZeroParameter(2));
        require(cfg.targetCommitteeSize != 0, Errors.Rollup__ZeroParameter(3));
        require(cfg.minStake != 0, Errors.Rollup__ZeroParameter(4));
        require(cfg.rewardAsset != address(0), Errors.Rollup__ZeroParameter(5));
        // One balance would back both: rewards would be paid out of validators' stakes (F-05).
        require(
            cfg.rewardAsset != cfg.stakingAsset, Errors.Rollup__RewardAssetIsStakingAsset(cfg.rewardAsset)
        );
        require(cfg.escrow != address(0), Errors.Rollup__ZeroParameter(6));
        require(cfg.verifier != address(0), Errors.Rollup__ZeroParameter(7));
        require(cfg.proofClaimWindow != 0, Errors.Rollup__ZeroParameter(8));
        require(cfg.minBond != 0, Errors.Rollup__ZeroParameter(9));
        // A proof multiplies them by up to MAX_EPOCH_DURATION blocks and BPS: keep that far from
        // overflowing (an overflow would refuse every proof, for good).
        require(
            cfg.blockReward <= MAX_REWARD && cfg.submitterReward <= MAX_REWARD,
            Errors.Rollup__RewardTooLarge(
                MAX_REWARD, cfg.blockReward > MAX_REWARD ? cfg.blockReward : cfg.submitterReward
            )
        );
        require(
            cfg.targetCommitteeSize <= 256, Errors.Rollup__CommitteeTooLarge(256, cfg.targetCommitteeSize)
        );
        require(
            cfg.epochDuration <= MAX_EPOCH_DURATION,
            Errors.Rollup__EpochTooLong(MAX_EPOCH_DURATION, cfg.epochDuration)
        );
        require(
            cfg.proofClaimWindow <= cfg.epochDuration,
            Errors.Rollup__InvalidClaimWindow(cfg.epochDuration, cfg.proofClaimWindow)
        );
        require(cfg.slashBurnBps <= BPS, Errors.Rollup__InvalidSlashBurnBps(cfg.slashBurnBps));
        require(cfg.slashBurnBps == BPS || cfg.slashRecipient != address(0), Errors.Rollup__ZeroParameter(10));
        uint256 epochSeconds = cfg.epochDuration * cfg.slotDuration;
        // A validator that asks to leave may already sit on the next epoch's committee: its stake
        // must stay until that epoch is over, two epochs at most.
        require(
            cfg.validatorExitDelay >= 2 * epochSeconds,
            Errors.Rollup__ExitDelayTooShort(2 * epochSeconds, cfg.validatorExitDelay)
        );
        uint256 genesis = cfg.genesisTime == 0 ? block.timestamp : cfg.genesisTime;
        require(genesis <= block.timestamp, Errors.Rollup__GenesisInFuture(block.timestamp, genesis));
        address boundTo = IProverEscrow(cfg.escrow).ROLLUP();
        require(boundTo == address(this), Errors.Rollup__EscrowNotBound(address(this), boundTo));
        // A quote for epoch N is priced from the start of N and its bond is due until the end of
        // N + 1: a withdrawal started when the quote was made must not complete before then.
        uint256 escrowDelay = IProverEscrow(cfg.escrow).ESCROW_WITHDRAW_DELAY();
        require(
            escrowDelay > 2 * epochSeconds,
            Errors.Rollup__EscrowDelayTooShort(2 * epochSeconds + 1, escrowDelay)
        );

        require(cfg.forcedInclusionQueue != address(0), Errors.Rollup__ZeroParameter(11));
        require(cfg.minForcedTxsPerBlock != 0, Errors.Rollup__ZeroParameter(12));
        require(cfg.fallbackExitActivity != 0, Errors.Rollup__ZeroParameter(13));
        require(cfg.fallbackExitTotal != 0, Errors.Rollup__ZeroParameter(14));
        // Unproven blocks live at most two epochs: fallback must not begin while an honest
        // committee's epoch can still be proven in time (SPEC 6).
        require(
            cfg.fallbackEnter > 2 * cfg.epochDuration,
            Errors.Rollup__FallbackEnterTooShort(2 * cfg.epochDuration + 1, cfg.fallbackEnter)
        );
        IForcedInclusionQueue queue = IForcedInclusionQueue(cfg.forcedInclusionQueue);
        address queueRollup = queue.ROLLUP();
        require(queueRollup == address(this), Errors.Rollup__QueueNotBound(address(this), queueRollup));
        require(
            queue.GENESIS_TIME() == genesis && queue.SLOT_DURATION() == cfg.slotDuration
                && queue.EPOCH_DURATION() == cfg.epochDuration,
            Errors.Rollup__QueueTimeMismatch()
        );
        // Fee deposits are made through the queue, into this rollup, in the reward asset.
        address feeAsset = address(queue.FEE_ASSET());
        require(feeAsset == cfg.rewardAsset, Errors.Rollup__QueueFeeAssetMismatch(cfg.rewardAsset, feeAsset));
    }

    function _nextSnapshotKey() internal view returns (uint48) {
        return uint48(Epoch.unwrap(_currentEpoch()) + 1);
    }

    function _currentSlot() internal view returns (Slot) {
        return TimeLib.slotAt(_time(), Timestamp.wrap(block.timestamp));
    }

    function _currentEpoch() internal view returns (Epoch) {
        return TimeLib.epochAt(_time(), Timestamp.wrap(block.timestamp));
    }

    function _time() internal view returns (TimeConfig memory) {
        return
            TimeConfig({
                genesisTime: GENESIS_TIME, slotDuration: SLOT_DURATION, epochDuration: EPOCH_DURATION
            });
    }

    function _popcount(uint256 x) internal pure returns (uint256 count) {
        while (x != 0) {
            x &= x - 1;
            ++count;
        }
    }
}
