// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {EpochProofQuote} from "../libraries/EpochProofQuoteLib.sol";
import {Epoch, Slot, Timestamp} from "../libraries/TimeLib.sol";

/// @notice An ECDSA signature as (v, r, s). Malleable (high-s) and malformed ones are refused.
struct Signature {
    uint8 v;
    bytes32 r;
    bytes32 s;
}

/// @notice Deployment parameters (SPEC 1). Times in seconds unless named in slots.
struct RollupConfig {
    address stakingAsset; // ERC-20 validators stake
    uint256 genesisTime; // 0: the deployment block's timestamp
    bytes32 genesisArchive; // archive of L2 block 0
    uint256 slotDuration; // SLOT_DURATION, seconds
    uint256 epochDuration; // EPOCH_DURATION, slots
    uint256 targetCommitteeSize; // TARGET_COMMITTEE_SIZE (K), at most 256
    uint256 minStake; // MIN_STAKE
    uint256 validatorExitDelay; // VALIDATOR_EXIT_DELAY, seconds
}

/// @notice What a proposer publishes for one block. The attesters sign its EIP-712 digest.
struct ProposeArgs {
    uint256 blockNumber; // must be pending tip + 1
    Slot slot; // must be the current slot
    bytes32 previousArchive; // archive of the pending tip this block builds on
    bytes32 archive; // archive after this block (a tree of block headers: commits to the header)
    bytes32 stateRoot; // root over the note-hash, nullifier and public-data trees (SPEC 9)
    bytes32[] blobHashes; // EIP-4844 versioned hashes of the block body, in blob order
}

/// @notice The committee of the block's epoch and the attestations of its members.
struct CommitteeAttestations {
    address[] committee; // the epoch's committee in sampled order (checked against its commitment)
    uint256 signers; // bit i set: committee[i] attested
    Signature[] signatures; // one per set bit, in ascending committee index
}

/// @notice What the rollup keeps of each block. Its slot is in the `L2BlockProposed` event; the
///         rollup keeps per-epoch block ranges instead of a slot per block (one storage slot less
///         per block, see docs/decisions.md).
struct BlockLog {
    bytes32 archive;
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
/// @notice The pending chain (SPEC 4), its staked validators and committees (SPEC 3), and time
///         (SPEC 2).
interface IRollup {
    /// @notice A block joined the pending chain.
    event L2BlockProposed(uint256 indexed blockNumber, bytes32 indexed archive, uint256 slot);
    /// @notice The committee of `epoch` was sampled and committed to.
    event EpochSetUp(uint256 indexed epoch, bytes32 seed, bytes32 committeeCommitment, uint256 committeeSize);
    event ValidatorStaked(address indexed attester, address indexed withdrawer, uint256 amount);
    event ValidatorExitInitiated(address indexed attester, uint256 exitableAt);
    event ValidatorExited(address indexed attester, address indexed recipient, uint256 amount);

    // ---- validators ----

    /// @notice Stake MIN_STAKE of the staking asset (pulled from the caller) for `attester`, the key
    ///         that proposes and attests. `withdrawer` alone may exit it and receives the stake.
    ///         The validator joins the set snapshotted at the next epoch boundary.
    function stake(address attester, address withdrawer) external;

    /// @notice Leave the set (from the next snapshot). The stake is released after
    ///         VALIDATOR_EXIT_DELAY. Only the withdrawer may call.
    function initiateExit(address attester) external;

    /// @notice Pay an exited validator's stake to its withdrawer once the exit delay has passed.
    function finaliseExit(address attester) external;

    // ---- committee ----

    /// @notice Sample and commit the current epoch's committee if not yet done, and fix the seed of
    ///         the epoch after next. `propose` does this itself; anyone may call it earlier.
    function setupEpoch() external;

    // ---- pending chain ----

    /// @notice Append a block to the pending chain. Only the current slot's proposer (anyone when
    ///         the committee is empty), with floor(2K/3)+1 committee attestations over
    ///         `proposalDigest(args)` and the block body's blobs attached to this transaction.
    function propose(ProposeArgs calldata args, CommitteeAttestations calldata attestations) external;

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

    /// @notice The committee of `epoch`, computable from the start of the epoch before it.
    function getCommitteeAt(Epoch epoch) external view returns (address[] memory);
    /// @notice The seed `epoch`'s committee and proposers are drawn with.
    function getSampleSeed(Epoch epoch) external view returns (bytes32);
    /// @notice keccak256(abi.encodePacked(committee)) once the epoch is set up, else zero.
    function getCommitteeCommitment(Epoch epoch) external view returns (bytes32);
    /// @notice The proposer of the slot containing `ts` (zero address: anyone may propose).
    function getProposerAt(Timestamp ts) external view returns (address);
    function getCurrentProposer() external view returns (address);
    /// @notice Attestations a block of a committee of `committeeSize` needs: floor(2n/3)+1.
    function quorum(uint256 committeeSize) external pure returns (uint256);

    /// @notice The EIP-712 digest attesters sign for `args`.
    function proposalDigest(ProposeArgs calldata args) external view returns (bytes32);

    /// @notice The EIP-712 digest a prover signs for `quote` (SPEC 5.1). It follows a chain-id change.
    function quoteToDigest(EpochProofQuote calldata quote) external view returns (bytes32);

    function getValidator(address attester) external view returns (ValidatorView memory);
    function getActiveValidatorCount() external view returns (uint256);
    function getActiveValidators() external view returns (address[] memory);
    /// @notice The validator set snapshotted for `epoch`'s committee.
    function getValidatorSetFor(Epoch epoch) external view returns (address[] memory);
}
