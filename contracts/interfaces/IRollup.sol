// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {EpochProofQuote, SignedEpochProofQuote} from "../libraries/EpochProofQuoteLib.sol";
import {Epoch, Slot, Timestamp} from "../libraries/TimeLib.sol";
import {IForcedInclusionSink} from "./IForcedInclusionQueue.sol";

/// @notice An ECDSA signature as (v, r, s). Malleable (high-s) and malformed ones are refused.
struct Signature {
    uint8 v;
    bytes32 r;
    bytes32 s;
}

/// @notice Deployment parameters (SPEC 1). Times in seconds unless named in slots.
struct RollupConfig {
    address stakingAsset; // ERC-20 validators stake
    address rewardAsset; // ERC-20 of rewards and fees (funded pool, fee deposits); not the staking asset
    address escrow; // ProverEscrow bound to this rollup (its ROLLUP must be this address)
    address verifier; // IEpochVerifier
    uint256 genesisTime; // 0: the deployment block's timestamp
    bytes32 genesisArchive; // archive of L2 block 0
    uint256 slotDuration; // SLOT_DURATION, seconds
    uint256 epochDuration; // EPOCH_DURATION, slots (at most 224: one reward bit per block)
    uint256 targetCommitteeSize; // TARGET_COMMITTEE_SIZE (K), at most 256
    uint256 proofClaimWindow; // PROOF_CLAIM_WINDOW (C), slots, 0 < C <= EPOCH_DURATION
    uint256 minStake; // MIN_STAKE
    uint256 validatorExitDelay; // VALIDATOR_EXIT_DELAY, seconds
    uint256 minBond; // MIN_BOND
    uint256 slashBurnBps; // SLASH_BURN_BPS
    address slashRecipient; // receives the unburned share of a slashed bond
    uint256 blockReward; // reward per proven block from the funded pool, before the prover/proposer split
    uint256 submitterReward; // SUBMITTER_REWARD, from the funded pool, to the proof's prover
    address forcedInclusionQueue; // ForcedInclusionQueue bound to this rollup, same time parameters
    uint256 minForcedTxsPerBlock; // MIN_FORCED_TXS_PER_BLOCK, at least 1
    uint256 fallbackEnter; // FALLBACK_ENTER, slots, more than 2 epochs
    uint256 fallbackExitActivity; // FALLBACK_EXIT_ACTIVITY, slots
    uint256 fallbackExitTotal; // FALLBACK_EXIT_TOTAL, slots
}

/// @notice What a proposer publishes for one block. The attesters sign its EIP-712 digest.
struct ProposeArgs {
    uint256 blockNumber; // must be pending tip + 1
    Slot slot; // must be the current slot
    bytes32 previousArchive; // archive of the pending tip this block builds on
    bytes32 archive; // archive after this block (a tree of block headers: commits to the header)
    bytes32 stateRoot; // root over the note-hash, nullifier and public-data trees (SPEC 9)
    bytes32[] blobHashes; // EIP-4844 versioned hashes of the block body, in blob order
    uint256 txCount; // transactions in the block, forced ones first
    uint256 forcedTxCount; // forced-inclusion queue entries leading the block (SPEC 7)
    bytes32 forcedTxsHash; // keccak256(abi.encodePacked(their tx hashes)); zero when none
}

/// @notice Attestations of the block's epoch committee (the committee itself is read on-chain).
struct CommitteeAttestations {
    uint256 signers; // bit i set: committee member i attested
    Signature[] signatures; // one per set bit, in ascending committee index
}

/// @notice One proven block's reward recipient (its header's coinbase) and the fees it collected.
struct FeeRecipient {
    address recipient;
    uint256 value;
}

/// @notice A proof of one whole epoch (SPEC 5.4).
struct EpochProofArgs {
    Epoch epoch;
    uint256 endBlockNumber; // the epoch's last block
    bytes32 previousArchive; // archive of the proven tip
    bytes32 endArchive; // archive of `endBlockNumber`
    address prover; // bound into the proof; must be the bond provider when the epoch was claimed
    FeeRecipient[] fees; // one per block of the epoch, in block order
    bytes proof;
}

/// @notice The live claim on the epoch to prove (bondProvider == 0: none).
struct ProofClaim {
    Epoch epoch;
    address bondProvider;
    uint256 bondAmount;
    uint256 basisPointFee;
}

/// @notice What a proven epoch owes its proposers, claimable with `claimBlockRewards`: block i
///         pays (blockReward + fees[i].value) * proposerShareBps / 10000 to fees[i].recipient.
struct EpochRewards {
    bytes32 feesHash; // keccak256(abi.encode(fees)) of the proof (zero: epoch not proven)
    uint256 proposerShareBps; // 10000 - the claim's basisPointFee
    uint256 blockReward; // per block: BLOCK_REWARD, or its pro-rata part if the pool ran short
    uint256 claimed; // bit i: block i of the epoch has been paid
}

/// @notice What the rollup keeps of each block. Its slot is in the `L2BlockProposed` event; the
///         rollup needs only the epoch to prove and its end (docs/decisions.md).
struct BlockLog {
    bytes32 archive;
}

/// @notice Based fallback (SPEC 6) as of now. When `active`, it runs [start, end) unless a
///         block with proof lands (which pushes `end` to at most start + FALLBACK_EXIT_TOTAL);
///         when not, `start` is the first slot it can begin if the proven chain stays still.
struct FallbackStatus {
    bool active;
    Slot start;
    Slot end;
}

/// @notice The chain's tips.
struct ChainTips {
    uint256 pendingBlockNumber;
    uint256 provenBlockNumber;
}

/// @notice A validator's record.
struct ValidatorView {
    ValidatorStatus status;
    address withdrawer;
    uint256 stake;
    uint256 index; // place in the current set (ACTIVE only)
    Timestamp exitableAt; // EXITING only
}

enum ValidatorStatus {
    NONE,
    ACTIVE,
    EXITING
}

/// @title IRollup
/// @notice The pending chain (SPEC 4), its staked validators and committees (SPEC 3), time
///         (SPEC 2), and prover coordination: claims, proofs, rewards, prune and slash (SPEC 5).
interface IRollup is IForcedInclusionSink {
    /// @notice A block joined the pending chain.
    event L2BlockProposed(uint256 indexed blockNumber, bytes32 indexed archive, uint256 slot);
    /// @notice The committee of `epoch` was sampled and stored (as code, at `committee`).
    event EpochSetUp(uint256 indexed epoch, bytes32 seed, address committee, uint256 committeeSize);
    event ValidatorStaked(address indexed attester, address indexed withdrawer, uint256 amount);
    event ValidatorExitInitiated(address indexed attester, uint256 exitableAt);
    event ValidatorExited(address indexed attester, address indexed recipient, uint256 amount);
    /// @notice The right to prove `epoch` went to `bondProvider`'s quote.
    event ProofRightClaimed(
        uint256 indexed epoch,
        address indexed bondProvider,
        address indexed proposer,
        uint256 bondAmount,
        uint256 currentSlot
    );
    /// @notice `epoch` is proven up to block `endBlockNumber`.
    event L2ProofVerified(uint256 indexed epoch, uint256 endBlockNumber, address indexed prover);
    /// @notice The pending chain was cut back to the proven tip.
    event PrunedPending(uint256 provenBlockNumber, uint256 pendingBlockNumber);
    /// @notice A claimed prover missed its deadline: its bond was slashed (the escrow's own
    ///         BondSlashed event, in the same transaction, says how much was burned and who got the rest).
    event BondSlashed(uint256 indexed epoch, address indexed bondProvider, uint256 amount);
    event RewardsAccrued(address indexed to, uint256 amount);
    /// @notice `amount` of the reward asset joined the reward pool.
    event RewardsFunded(address indexed funder, uint256 amount);
    event RewardsWithdrawn(address indexed owner, address indexed to, uint256 amount);
    /// @notice Based fallback began at `startSlot` (recorded by the first transaction that saw it).
    event FallbackEntered(uint256 startSlot);
    /// @notice Based fallback ended at `endSlot`.
    event FallbackExited(uint256 endSlot);
    /// @notice Block `blockNumber` was proposed in fallback with its proof: it is proven.
    event L2BlockProvenInFallback(uint256 indexed blockNumber, address indexed proposer);

    // ---- validators ----

    /// @notice Stake MIN_STAKE of the staking asset (pulled from the caller) for `attester`, the key
    ///         that proposes and attests; the caller must be `attester` (its consent). `withdrawer`
    ///         alone may exit it and receives the stake. The validator joins the set snapshotted at
    ///         the next epoch boundary.
    function stake(address attester, address withdrawer) external;

    /// @notice `stake` paid for by anyone, with the attester's consent: its EIP-712 signature over
    ///         `StakeConsent(address attester,address withdrawer,uint256 deadline)`
    ///         (`stakeConsentDigest`), valid until `deadline` (a timestamp).
    function stakeWithConsent(
        address attester,
        address withdrawer,
        uint256 deadline,
        Signature calldata consent
    ) external;

    /// @notice The EIP-712 digest an attester signs to consent to `stakeWithConsent`.
    function stakeConsentDigest(address attester, address withdrawer, uint256 deadline)
        external
        view
        returns (bytes32);

    /// @notice Leave the set (from the next snapshot). The stake is released after
    ///         VALIDATOR_EXIT_DELAY. Only the withdrawer may call.
    function initiateExit(address attester) external;

    /// @notice Pay an exited validator's stake to its withdrawer once the exit delay has passed.
    function finaliseExit(address attester) external;

    // ---- committee ----

    /// @notice Sample and store the current epoch's committee if not yet done, and draw the seed of
    ///         the next epoch (whose validator set is final now). `propose` and claims do this
    ///         themselves; anyone may call it.
    function setupEpoch() external;

    // ---- pending chain ----

    /// @notice Append a block to the pending chain (pruning first when due). Only the current
    ///         slot's proposer (anyone when the committee is empty), with floor(2n/3)+1 committee
    ///         attestations over `proposalDigest(args)` and the body's blobs in this transaction.
    function propose(ProposeArgs calldata args, CommitteeAttestations calldata attestations) external;

    /// @notice Based fallback (SPEC 6): anyone may append a block together with its proof, without
    ///         attestations and in any slot after its parent's (up to the current one). The block
    ///         builds on the proven tip (any unproven blocks are dropped first) and is proven on
    ///         arrival. The forced-inclusion rule holds as for `propose`. Public inputs of `proof`:
    ///         see IEpochVerifier (block proofs).
    function proposeWithProof(ProposeArgs calldata args, bytes calldata proof) external;

    /// @notice Record based fallback entering or leaving now (its events), if it has. Every
    ///         function that depends on the mode does this itself; anyone may call.
    function syncFallback() external;

    // ---- proving ----

    /// @notice Claim the right to prove the epoch to prove with a prover's signed quote (SPEC 5.3):
    ///         only in the first C slots of the next epoch, only by that slot's proposer. Stakes the
    ///         quote's bond in the escrow.
    function claimEpochProofRight(SignedEpochProofQuote calldata quote) external;

    /// @notice `propose` then `claimEpochProofRight`, in one transaction.
    function proposeAndClaim(
        ProposeArgs calldata args,
        CommitteeAttestations calldata attestations,
        SignedEpochProofQuote calldata quote
    ) external;

    /// @notice Prove the whole epoch to prove (SPEC 5.4). Anyone may submit, from the end of the
    ///         epoch until the end of the next, unless the chain is due to be pruned; in based
    ///         fallback too, where it counts as fallback activity. Advances the proven tip, releases
    ///         the bond, books the rewards and pays SUBMITTER_REWARD to `args.prover` (bound by the
    ///         proof, so a copy of the transaction earns its sender nothing). Refused if the fees
    ///         exceed the fee deposits not yet paid out.
    function submitEpochRootProof(EpochProofArgs calldata args) external;

    /// @notice Cut the pending chain back to the proven tip when due (SPEC 5.5), slashing the bond
    ///         of a claim whose proof deadline passed.
    function prune() external;

    /// @notice Book the proposers' share of blocks of a proven epoch to each block's recipient.
    ///         `fees` must be the list the proof was verified with; `indices` are block positions
    ///         within the epoch. Each block is paid once.
    function claimBlockRewards(Epoch epoch, FeeRecipient[] calldata fees, uint256[] calldata indices) external;

    /// @notice Transfer the caller's booked rewards to `to`.
    function withdrawRewards(address to) external;

    /// @notice Pull `amount` of the reward asset from the caller into the reward pool, which alone
    ///         pays block and submitter rewards (a plain transfer to the Rollup funds nothing).
    function fundRewards(uint256 amount) external;

    // ---- views ----

    function getCurrentSlot() external view returns (Slot);
    function getCurrentEpoch() external view returns (Epoch);
    function getSlotAt(Timestamp ts) external view returns (Slot);
    function getEpochAt(Timestamp ts) external view returns (Epoch);
    function getTimestampForSlot(Slot slot) external view returns (Timestamp);

    function getTips() external view returns (ChainTips memory);
    function getPendingBlockNumber() external view returns (uint256);
    function getProvenBlockNumber() external view returns (uint256);
    /// @notice The record of block `blockNumber` (reverts above the pending tip).
    function getBlock(uint256 blockNumber) external view returns (BlockLog memory);

    /// @notice The committee of `epoch`, known once the epoch before it is set up (or, if that one
    ///         never was, once `epoch` is); reverts `Rollup__SeedNotFixed` before.
    function getCommitteeAt(Epoch epoch) external view returns (address[] memory);
    /// @notice The seed `epoch`'s committee and proposers are drawn with (same condition).
    function getSampleSeed(Epoch epoch) external view returns (bytes32);
    /// @notice The proposer of the slot containing `ts` (zero address: anyone may propose; same
    ///         condition).
    function getProposerAt(Timestamp ts) external view returns (address);
    function getCurrentProposer() external view returns (address);
    /// @notice Attestations a block of a committee of `committeeSize` needs: floor(2n/3)+1.
    function quorum(uint256 committeeSize) external pure returns (uint256);

    /// @notice The EIP-712 digest attesters sign for `args`.
    function proposalDigest(ProposeArgs calldata args) external view returns (bytes32);
    /// @notice The EIP-712 digest a prover signs for `quote` (SPEC 5.1). It follows a chain-id change.
    function quoteToDigest(EpochProofQuote calldata quote) external view returns (bytes32);

    /// @notice The oldest unproven epoch with blocks (reverts when everything is proven).
    function getEpochToProve() external view returns (Epoch);
    /// @notice The epoch whose proof right can be claimed in the current slot (reverts if none).
    function getClaimableEpoch() external view returns (Epoch);
    /// @notice The live claim on `epoch` (bondProvider == 0: unclaimed).
    function getProofClaim(Epoch epoch) external view returns (ProofClaim memory);
    /// @notice Reverts with the error `claimEpochProofRight(quote)` sent by `proposer` now would
    ///         raise; returns if it would be accepted.
    function validateEpochProofRightClaim(SignedEpochProofQuote calldata quote, address proposer)
        external
        view;
    /// @notice Based fallback now: whether it is active and its bounds.
    function getFallbackStatus() external view returns (FallbackStatus memory);
    /// @notice Whether `prune()` would cut the pending chain now.
    function canPrune() external view returns (bool);
    function getEpochRewards(Epoch epoch) external view returns (EpochRewards memory);
    function rewardsOf(address owner) external view returns (uint256);
    /// @notice The reward pool (funded, not yet booked) and the fee deposits not yet paid out.
    function getRewardBooks() external view returns (uint256 rewardPool, uint256 feePot);

    function getValidator(address attester) external view returns (ValidatorView memory);
    function getActiveValidatorCount() external view returns (uint256);
    function getActiveValidators() external view returns (address[] memory);
    /// @notice The validator set snapshotted for `epoch`'s committee.
    function getValidatorSetFor(Epoch epoch) external view returns (address[] memory);
}
