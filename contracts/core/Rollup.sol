// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

import {
    BlockLog,
    ChainTips,
    CommitteeAttestations,
    IRollup,
    ProposeArgs,
    RollupConfig,
    Signature,
    ValidatorStatus,
    ValidatorView
} from "../interfaces/IRollup.sol";
import {EpochProofQuote, EpochProofQuoteLib} from "../libraries/EpochProofQuoteLib.sol";
import {Errors} from "../libraries/Errors.sol";
import {ProposalLib} from "../libraries/ProposalLib.sol";
import {SampleLib} from "../libraries/SampleLib.sol";
import {SnapshotLib} from "../libraries/SnapshotLib.sol";
import {Epoch, Slot, TimeConfig, TimeLib, Timestamp} from "../libraries/TimeLib.sol";

/// @title Rollup
/// @notice Proofline's L1 contract: staked validators, per-epoch committees, the pending chain.
/// @dev NatSpec for every external function lives in IRollup. Storage is packed so that `propose`
///      touches one slot for the tips, two for the new block and two for the epoch.
contract Rollup is IRollup, EIP712 {
    using SafeERC20 for IERC20;
    using SnapshotLib for SnapshotLib.History;

    /// @dev One slot, so `propose` reads and writes its chain bookkeeping once. uint48 block numbers
    ///      and slots last millions of years at any slot length.
    ///      Blocks carry no slot of their own in storage: a proof deadline (end of epoch N + 1)
    ///      means unproven blocks span at most two epochs, the epoch to prove and the one after it,
    ///      so the epoch to prove and its last block are all the rollup needs (docs/decisions.md).
    struct Tips {
        uint48 pending;
        uint48 proven;
        uint48 tipSlot; // slot of the pending tip; a block's slot must be later than its parent's
        uint48 epochToProve; // epoch of block `proven + 1`, while pending > proven
        uint48 epochToProveEnd; // its last block, once a block of a later epoch follows it
    }

    struct EpochData {
        bytes32 committeeCommitment; // keccak256(abi.encodePacked(committee))
        uint128 seed; // sampling seed; nonzero once set up (a zero seed is stored as 1)
    }

    struct Validator {
        address withdrawer;
        uint40 index;
        ValidatorStatus status;
        uint48 exitableAt;
    }

    IERC20 public immutable STAKING_ASSET;
    uint256 public immutable GENESIS_TIME;
    uint256 public immutable SLOT_DURATION;
    uint256 public immutable EPOCH_DURATION;
    uint256 public immutable TARGET_COMMITTEE_SIZE;
    uint256 public immutable MIN_STAKE;
    uint256 public immutable VALIDATOR_EXIT_DELAY;

    Tips internal tips;
    mapping(uint256 blockNumber => bytes32 archive) internal archives;
    mapping(Epoch => EpochData) internal epochs;

    /// @dev Seeds by the epoch they serve: the one written in epoch E is keyed E + 2 (SPEC 3: fixed
    ///      before the epoch before it starts). An epoch with no write inherits the last one.
    SnapshotLib.History internal seeds;
    /// @dev The validator set, with history: changes made in epoch E are keyed E + 1, and epoch N's
    ///      committee is drawn from the set at key N - 1, which is final once epoch N - 1 starts.
    SnapshotLib.History internal setSize;
    mapping(uint256 index => SnapshotLib.History) internal setMembers;
    mapping(address attester => Validator) internal validators;
    /// @notice Staking asset held for validators (active and exiting).
    uint256 public totalStake;

    constructor(RollupConfig memory cfg) EIP712("Proofline Rollup", "1") {
        require(cfg.stakingAsset != address(0), Errors.Rollup__ZeroParameter(0));
        require(cfg.slotDuration != 0, Errors.Rollup__ZeroParameter(1));
        require(cfg.epochDuration != 0, Errors.Rollup__ZeroParameter(2));
        require(cfg.targetCommitteeSize != 0, Errors.Rollup__ZeroParameter(3));
        require(cfg.minStake != 0, Errors.Rollup__ZeroParameter(4));
        require(
            cfg.targetCommitteeSize <= 256, Errors.Rollup__CommitteeTooLarge(256, cfg.targetCommitteeSize)
        );
        // A validator that asks to leave may already sit on the next epoch's committee: its stake
        // must stay until that epoch is over, two epochs at most.
        uint256 minExitDelay = 2 * cfg.epochDuration * cfg.slotDuration;
        require(
            cfg.validatorExitDelay >= minExitDelay,
            Errors.Rollup__ExitDelayTooShort(minExitDelay, cfg.validatorExitDelay)
        );
        uint256 genesis = cfg.genesisTime == 0 ? block.timestamp : cfg.genesisTime;
        require(genesis <= block.timestamp, Errors.Rollup__GenesisInFuture(block.timestamp, genesis));

        STAKING_ASSET = IERC20(cfg.stakingAsset);
        GENESIS_TIME = genesis;
        SLOT_DURATION = cfg.slotDuration;
        EPOCH_DURATION = cfg.epochDuration;
        TARGET_COMMITTEE_SIZE = cfg.targetCommitteeSize;
        MIN_STAKE = cfg.minStake;
        VALIDATOR_EXIT_DELAY = cfg.validatorExitDelay;

        archives[0] = cfg.genesisArchive;
        seeds.push(0, _freshSeed(0));
        emit L2BlockProposed(0, cfg.genesisArchive, 0);
    }

    // ------------------------------------------------------------------ validators

    function stake(address attester, address withdrawer) external override {
        require(attester != address(0) && withdrawer != address(0), Errors.Staking__ZeroAddress());
        require(
            validators[attester].status == ValidatorStatus.NONE, Errors.Staking__AlreadyRegistered(attester)
        );

        uint256 amount = MIN_STAKE;
        uint256 before = STAKING_ASSET.balanceOf(address(this));
        STAKING_ASSET.safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = STAKING_ASSET.balanceOf(address(this)) - before;
        // Fee-on-transfer tokens would leave stakes short of what they claim: refuse them.
        require(received == amount, Errors.Staking__AmountNotReceived(amount, received));

        uint48 key = _nextSnapshotKey();
        uint256 n = setSize.latestValue();
        setMembers[n].push(key, uint160(attester));
        setSize.push(key, uint208(n + 1));
        validators[attester] = Validator({
            withdrawer: withdrawer, index: uint40(n), status: ValidatorStatus.ACTIVE, exitableAt: 0
        });
        totalStake += amount;
        emit ValidatorStaked(attester, withdrawer, amount);
    }

    function initiateExit(address attester) external override {
        Validator storage v = validators[attester];
        require(v.status == ValidatorStatus.ACTIVE, Errors.Staking__NotActive(attester));
        require(msg.sender == v.withdrawer, Errors.Staking__NotWithdrawer(v.withdrawer, msg.sender));

        // Swap-and-pop: the last member takes the leaver's place from the next snapshot on.
        uint48 key = _nextSnapshotKey();
        uint256 last = setSize.latestValue() - 1;
        uint256 index = v.index;
        if (index != last) {
            address moved = address(uint160(setMembers[last].latestValue()));
            setMembers[index].push(key, uint160(moved));
            validators[moved].index = uint40(index);
        }
        setMembers[last].push(key, 0);
        setSize.push(key, uint208(last));

        uint256 exitableAt = block.timestamp + VALIDATOR_EXIT_DELAY;
        v.status = ValidatorStatus.EXITING;
        v.index = 0;
        v.exitableAt = uint48(exitableAt);
        emit ValidatorExitInitiated(attester, exitableAt);
    }

    function finaliseExit(address attester) external override {
        Validator memory v = validators[attester];
        require(v.status == ValidatorStatus.EXITING, Errors.Staking__NotExiting(attester));
        require(
            block.timestamp >= v.exitableAt,
            Errors.Staking__ExitNotReady(Timestamp.wrap(v.exitableAt), Timestamp.wrap(block.timestamp))
        );
        delete validators[attester];
        uint256 amount = MIN_STAKE;
        totalStake -= amount;
        STAKING_ASSET.safeTransfer(v.withdrawer, amount);
        emit ValidatorExited(attester, v.withdrawer, amount);
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
        Slot slot = _currentSlot();
        require(args.slot == slot, Errors.Rollup__InvalidSlot(slot, args.slot));
        Tips memory t = tips;
        require(
            t.pending == 0 || Slot.wrap(t.tipSlot) < slot,
            Errors.Rollup__SlotAlreadyUsed(Slot.wrap(t.tipSlot), slot)
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

        TimeConfig memory time = _time();
        Epoch epoch = TimeLib.epochOf(time, slot);
        EpochData memory ed = _ensureEpoch(epoch);
        _checkAttestations(args, attestations, epoch, ed);
        _checkForcedInclusion(args);

        archives[blockNumber] = args.archive;
        if (t.pending == t.proven) {
            t.epochToProve = uint48(Epoch.unwrap(epoch));
        } else if (
            Epoch.unwrap(epoch) > t.epochToProve && TimeLib.epochOf(time, Slot.wrap(t.tipSlot)) < epoch
        ) {
            // First block after the epoch to prove: its parent closes that epoch.
            t.epochToProveEnd = t.pending;
        }
        t.pending = uint48(blockNumber);
        t.tipSlot = uint48(Slot.unwrap(slot));
        tips = t;
        emit L2BlockProposed(blockNumber, args.archive, Slot.unwrap(slot));
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
        _requireFixed(epoch);
        return _sampleCommittee(epoch, _sampleSeed(epoch));
    }

    function getSampleSeed(Epoch epoch) external view override returns (bytes32) {
        _requireFixed(epoch);
        return _sampleSeed(epoch);
    }

    function getCommitteeCommitment(Epoch epoch) external view override returns (bytes32) {
        return epochs[epoch].committeeCommitment;
    }

    function getProposerAt(Timestamp ts) public view override returns (address) {
        TimeConfig memory time = _time();
        Slot slot = TimeLib.slotAt(time, ts);
        Epoch epoch = TimeLib.epochOf(time, slot);
        _requireFixed(epoch);
        bytes32 seed = _sampleSeed(epoch);
        address[] memory committee = _sampleCommittee(epoch, seed);
        if (committee.length == 0) return address(0);
        return
            committee[SampleLib.proposerIndex(Epoch.unwrap(epoch), Slot.unwrap(slot), seed, committee.length)];
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

    function quoteToDigest(EpochProofQuote calldata quote) external view override returns (bytes32) {
        return _hashTypedDataV4(EpochProofQuoteLib.structHash(quote));
    }

    function getValidator(address attester) external view override returns (ValidatorView memory) {
        Validator memory v = validators[attester];
        return ValidatorView({
            status: v.status,
            withdrawer: v.withdrawer,
            stake: v.status == ValidatorStatus.NONE ? 0 : MIN_STAKE,
            index: v.index,
            exitableAt: Timestamp.wrap(v.exitableAt)
        });
    }

    function getActiveValidatorCount() external view override returns (uint256) {
        return setSize.latestValue();
    }

    function getActiveValidators() external view override returns (address[] memory set) {
        set = new address[](setSize.latestValue());
        for (uint256 i = 0; i < set.length; ++i) {
            set[i] = address(uint160(setMembers[i].latestValue()));
        }
    }

    function getValidatorSetFor(Epoch epoch) external view override returns (address[] memory set) {
        uint48 key = _setKey(epoch);
        set = new address[](setSize.valueAt(key));
        for (uint256 i = 0; i < set.length; ++i) {
            set[i] = address(uint160(setMembers[i].valueAt(key)));
        }
    }

    // ------------------------------------------------------------------ internals

    /// @dev Samples and commits `epoch`'s committee once, and fixes the seed of the epoch after next.
    function _ensureEpoch(Epoch epoch) internal returns (EpochData memory ed) {
        ed = epochs[epoch];
        if (ed.seed != 0) return ed;

        bytes32 seed = _sampleSeed(epoch);
        address[] memory committee = _sampleCommittee(epoch, seed);
        ed.committeeCommitment = keccak256(abi.encodePacked(committee));
        ed.seed = seed == bytes32(0) ? 1 : uint128(uint256(seed)); // nonzero marks "set up"
        epochs[epoch] = ed;
        ed.seed = uint128(uint256(seed));

        uint48 next = uint48(Epoch.unwrap(epoch) + 2);
        if (seeds.latest.key < next) seeds.push(next, _freshSeed(next));
        emit EpochSetUp(Epoch.unwrap(epoch), seed, ed.committeeCommitment, committee.length);
    }

    function _sampleCommittee(Epoch epoch, bytes32 seed) internal view returns (address[] memory committee) {
        uint48 key = _setKey(epoch);
        uint256 n = setSize.valueAt(key);
        uint256 k = n < TARGET_COMMITTEE_SIZE ? n : TARGET_COMMITTEE_SIZE;
        if (k == 0) return committee;
        uint256[] memory indices = SampleLib.sampleIndices(n, k, seed);
        committee = new address[](k);
        for (uint256 i = 0; i < k; ++i) {
            committee[i] = address(uint160(setMembers[indices[i]].valueAt(key)));
        }
    }

    /// @dev Mixing in the epoch makes each epoch's draw distinct even when it inherits its seed.
    ///      128 bits, so it packs beside the epoch's block range; no one can grind a 128-bit hash.
    function _sampleSeed(Epoch epoch) internal view returns (bytes32) {
        return bytes32(
            uint256(
                uint128(
                    uint256(
                        keccak256(abi.encode(seeds.valueAt(uint48(Epoch.unwrap(epoch))), Epoch.unwrap(epoch)))
                    )
                )
            )
        );
    }

    function _freshSeed(uint48 forEpoch) internal view returns (uint208) {
        return uint208(uint256(keccak256(abi.encode(block.prevrandao, forEpoch))));
    }

    function _checkAttestations(
        ProposeArgs calldata args,
        CommitteeAttestations calldata att,
        Epoch epoch,
        EpochData memory ed
    ) internal view {
        bytes32 actual = keccak256(abi.encodePacked(att.committee));
        require(
            actual == ed.committeeCommitment, Errors.Rollup__InvalidCommittee(ed.committeeCommitment, actual)
        );
        uint256 size = att.committee.length;
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

        address proposer = att.committee[
            SampleLib.proposerIndex(
                Epoch.unwrap(epoch), Slot.unwrap(args.slot), bytes32(uint256(ed.seed)), size
            )
        ];
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
                    err == ECDSA.RecoverError.NoError && signer == att.committee[i],
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

    /// @dev SPEC 7 seam: the forced-inclusion rule is checked here for every block, once the
    ///      ForcedInclusionQueue exists (see docs/decisions.md). Until then no entry can be due.
    function _checkForcedInclusion(ProposeArgs calldata args) internal virtual {}

    function _requireFixed(Epoch epoch) internal view {
        Epoch latest = Epoch.wrap(Epoch.unwrap(_currentEpoch()) + 1);
        require(epoch <= latest, Errors.Rollup__EpochNotFixed(latest, epoch));
    }

    function _setKey(Epoch epoch) internal pure returns (uint48) {
        uint256 e = Epoch.unwrap(epoch);
        return e == 0 ? 0 : uint48(e - 1);
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
