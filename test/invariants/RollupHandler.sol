// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Vm} from "forge-std/Vm.sol";
import {console} from "forge-std/console.sol";

import {Rollup} from "../../contracts/core/Rollup.sol";
import {DevToken} from "../../contracts/dev/DevToken.sol";
import {
    CommitteeAttestations,
    IRollup,
    ProposeArgs,
    RollupConfig,
    Signature,
    ValidatorStatus
} from "../../contracts/interfaces/IRollup.sol";
import {Errors} from "../../contracts/libraries/Errors.sol";
import {Epoch, Slot} from "../../contracts/libraries/TimeLib.sol";
import {RollupBase} from "../harnesses/RollupBase.sol";

/// @notice The actor the invariant fuzzer drives: it holds every validator key, signs real
///         proposals with `vm.sign`, attaches blobs with `vm.blobhashes`, moves time, and keeps
///         ghost state that RollupInvariants compares against the Rollup after every call.
/// @dev Every outcome the handler can predict is asserted through a ghost counter rather than a
///      revert: with `fail_on_revert = false` a reverting handler call is silently dropped, so an
///      unexpected revert (or an unexpected success) must leave a trace the invariants can read.
contract RollupHandler is RollupBase {
    /// @dev Small K against a set up to five times larger, so sampling, quorum and the proposer
    ///      draw all work on a proper subset of the validators.
    uint256 public constant HANDLER_K = 8;
    uint256 public constant MAX_VALIDATORS = 40;
    uint256 public constant INITIAL_VALIDATORS = 12;
    /// @dev The shortest delay the Rollup accepts (two epochs): a validator that asks to leave in
    ///      the first second of an epoch may sit on the next epoch's committee, so its stake must
    ///      last exactly until that epoch ends. The invariants check it always does.
    uint256 public constant HANDLER_EXIT_DELAY = 2 * EPOCH_DURATION * SLOT_DURATION;
    uint256 internal constant MAX_BLOBS = 3;
    uint256 internal constant SECP256K1_N =
        0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    enum Bad {
        WrongProposer,
        BelowQuorum,
        WrongArchive,
        WrongBlockNumber,
        WrongSlot,
        ForgedAttestation,
        WrongBlobs,
        OutsiderQuorum,
        SignatureCountMismatch,
        SignersOutOfRange,
        SlotReuse
    }

    uint256 internal constant BAD_MODES = 11;

    // ---------------------------------------------------------------- ghost: pending chain

    uint256 public ghost_proposes;
    uint256 public ghost_prunes;
    uint256 public ghost_lastProposedSlot;
    /// @dev ghost_archives[n] is the archive block n was proposed with ([0] genesis);
    ///      ghost_previousArchives[n] what its proposer passed as previousArchive ([0] unused).
    bytes32[] public ghost_archives;
    bytes32[] public ghost_previousArchives;
    uint256 public ghost_proposesWithCommittee; // accepted with attestations (not bootstrap)
    uint256 public ghost_proposesSkipped; // valid propose requested in an already used slot
    uint256 public ghost_tipMisstep; // a call moved the pending tip by anything but the expected amount
    uint256 public ghost_eventMismatch; // an accepted block without its exact L2BlockProposed event
    uint256 public ghost_digestNotBinding; // a proposal field the attested digest ignores

    uint256 public ghost_invalidAttempts;
    uint256 public ghost_invalidAccepted;
    string public ghost_lastInvalidAccepted;
    uint256 public ghost_invalidWrongReason;
    mapping(uint256 mode => uint256) public ghost_invalidByMode;

    uint256 public ghost_unexpectedReverts;
    bytes public ghost_lastUnexpected;
    string public ghost_lastUnexpectedWhere;

    // ---------------------------------------------------------------- ghost: validators

    struct Ghost {
        ValidatorStatus status;
        address withdrawer;
        uint256 exitableAt;
        uint256 exitsFinalised;
    }

    mapping(address attester => Ghost) public ghostOf;
    address[] public everStaked; // every attester key ever created
    address[] internal activeList;
    address[] internal exitingList;
    address[] internal exitedList; // finalised, status NONE again: may re-stake
    uint256 public ghost_unauthorizedAccepted; // a stranger's exit, a double stake or exit, an early finalise
    uint256 public ghost_totalMinted;

    /// @dev Order-independent digest of the ghost active set (sum of member hashes, mod 2^256),
    ///      and the same digest of the set each snapshot key froze. Key k holds the set as it stood
    ///      at the start of epoch k (changes in epoch E are keyed E + 1).
    uint256 public ghost_setSum;
    uint256 public ghost_setSize;
    mapping(uint256 key => uint256) public ghost_snapSum;
    mapping(uint256 key => uint256) public ghost_snapSize;
    uint256 public ghost_snapUpTo; // keys [0, ghost_snapUpTo] are frozen and recorded

    // ---------------------------------------------------------------- ghost: committees

    uint256[] public observedEpochs;
    mapping(uint256 epoch => bool) public observed;
    mapping(uint256 epoch => bytes32) public observedCommittee; // keccak256(abi.encodePacked(committee))
    mapping(uint256 epoch => bytes32) public observedSeed;
    /// @dev Digest of the set the epoch's committee is drawn from, when its seed became visible.
    mapping(uint256 epoch => uint256) public observedSet;
    /// @dev Epochs the handler saw set up (a setupEpoch or an accepted propose in them).
    mapping(uint256 epoch => bool) public ghost_setUp;
    /// @dev A seed visible before the epoch before it was set up, i.e. before its set was final
    ///      (F-01); or not visible after.
    uint256 public ghost_seedTooEarly;
    uint256 public ghost_seedMissing;
    uint256 public ghost_lastTimestamp;
    uint256 public ghost_timeWentBack;

    constructor() {
        // RollupBase._deploy(HANDLER_K), but with the exit delay at its floor (RollupBase's is
        // three epochs); RollupBase has no hook for one config field.
        _deployAssets();
        RollupConfig memory cfg = _config(HANDLER_K);
        cfg.validatorExitDelay = HANDLER_EXIT_DELAY;
        _deployFunded(cfg);
        ghost_archives.push(GENESIS_ARCHIVE);
        ghost_previousArchives.push(bytes32(0));
        ghost_lastTimestamp = block.timestamp;
        // Staked in epoch 0, so they form the set of epoch 2 on; epochs 0 and 1 have no committee
        // and exercise open (bootstrap) proposing.
        for (uint256 i = 0; i < INITIAL_VALIDATORS; ++i) {
            _stakeNew();
        }
        _observe();
    }

    // ================================================================ actions

    /// @notice Stake one to three validators: new keys, or keys whose exit was finalised.
    function stake(uint256 seed) external {
        for (uint256 n = seed % 3; n < 3; ++n) {
            if (activeList.length + exitingList.length >= MAX_VALIDATORS) break;
            if (exitedList.length != 0 && (seed >> (8 * n + 64)) % 3 == 0) {
                uint256 i = (seed >> (8 * n + 128)) % exitedList.length;
                address a = exitedList[i];
                _removeAt(exitedList, i);
                _stakeExisting(a);
            } else {
                _stakeNew();
            }
        }
        // A key already registered (active or exiting) may not stake again. The check precedes
        // the token pull, so no funds are needed to be refused.
        address taken = _anyRegistered(seed >> 16);
        if (taken != address(0)) {
            vm.prank(taken);
            try rollup.stake(taken, ghostOf[taken].withdrawer) {
                ghost_unauthorizedAccepted++;
            } catch (bytes memory err) {
                _expectSelector(err, Errors.Staking__AlreadyRegistered.selector, "stake twice");
            }
        }
        // No one stakes a key without its consent (F-08): the handler is no attester.
        (address unstaked,) = makeAddrAndKey(string.concat("unstaked", vm.toString(seed % 7)));
        if (ghostOf[unstaked].status == ValidatorStatus.NONE) {
            // Refused before any token is pulled: no funds needed.
            try rollup.stake(unstaked, address(this)) {
                ghost_unauthorizedAccepted++;
            } catch (bytes memory err) {
                _expectSelector(err, Errors.Staking__NotAttester.selector, "stake another's key");
            }
        }
        _observe();
    }

    /// @notice A stranger, then the withdrawer, ask a random active validator to exit.
    function initiateExit(uint256 seed, address stranger) external {
        if (activeList.length == 0) {
            _observe();
            return;
        }
        uint256 i = seed % activeList.length;
        address a = activeList[i];
        Ghost storage g = ghostOf[a];

        if (stranger != g.withdrawer) {
            vm.prank(stranger);
            try rollup.initiateExit(a) {
                ghost_unauthorizedAccepted++;
            } catch (bytes memory err) {
                _expectSelector(err, Errors.Staking__NotWithdrawer.selector, "exit by stranger");
            }
        }

        vm.prank(g.withdrawer);
        try rollup.initiateExit(a) {
            _removeAt(activeList, i);
            exitingList.push(a);
            g.status = ValidatorStatus.EXITING;
            g.exitableAt = block.timestamp + HANDLER_EXIT_DELAY;
            _setRemove(a);
        } catch (bytes memory err) {
            _unexpected(err, "initiateExit");
        }
        // A second request is refused: the validator is no longer active.
        vm.prank(g.withdrawer);
        try rollup.initiateExit(a) {
            ghost_unauthorizedAccepted++;
        } catch (bytes memory err) {
            _expectSelector(err, Errors.Staking__NotActive.selector, "exit twice");
        }
        _observe();
    }

    /// @notice Finalise a random exiting validator, sometimes after warping to (or just before)
    ///         the moment its stake is released.
    function finaliseExit(uint256 seed, uint8 timing) external {
        if (exitingList.length == 0) {
            _observe();
            return;
        }
        uint256 i = seed % exitingList.length;
        address a = exitingList[i];
        Ghost storage g = ghostOf[a];
        if (block.timestamp < g.exitableAt) {
            timing %= 4;
            if (timing == 1) {
                _warpTo(g.exitableAt); // first second it is allowed
            } else if (timing == 2) {
                _warpTo(g.exitableAt - 1); // last second it is not
            } else if (timing == 3) {
                _warpTo(g.exitableAt + _bound(seed >> 8, 1, 2 * EPOCH_DURATION * SLOT_DURATION));
            }
        }
        bool ready = block.timestamp >= g.exitableAt;
        try rollup.finaliseExit(a) {
            if (!ready) {
                ghost_unauthorizedAccepted++;
                return;
            }
            _removeAt(exitingList, i);
            exitedList.push(a);
            g.status = ValidatorStatus.NONE;
            g.exitableAt = 0;
            g.exitsFinalised++;
        } catch (bytes memory err) {
            if (ready) _unexpected(err, "finaliseExit");
            else _expectSelector(err, Errors.Staking__ExitNotReady.selector, "early finaliseExit");
        }
        _observe();
    }

    /// @notice Move time forward: inside a slot, to slot and epoch edges, or several epochs on.
    ///         Also varies prevrandao, which seeds the epochs set up from now on.
    function warp(uint8 kind, uint256 amount, uint256 randao) external {
        vm.prevrandao(randao);
        uint256 slotStart = genesis + _currentSlot() * SLOT_DURATION;
        uint256 epochStart = genesis + _currentEpoch() * EPOCH_DURATION * SLOT_DURATION;
        uint256 epochLen = EPOCH_DURATION * SLOT_DURATION;
        kind %= 6;
        uint256 to;
        if (kind == 0) to = block.timestamp + _bound(amount, 1, SLOT_DURATION - 1); // may stay in the slot
        else if (kind == 1) to = slotStart + SLOT_DURATION + _bound(amount, 0, SLOT_DURATION - 1);
        else if (kind == 2) to = slotStart + _bound(amount, 1, EPOCH_DURATION) * SLOT_DURATION;
        else if (kind == 3) to = epochStart + _bound(amount, 1, 3) * epochLen + (amount % epochLen);
        else if (kind == 4) to = epochStart + epochLen - 1; // last second of this epoch
        else to = epochStart + epochLen; // first second of the next
        if (to <= block.timestamp) to = block.timestamp + 1;
        _warpTo(to);
        _observe();
    }

    /// @notice Anyone may set up the current epoch early.
    function setupEpoch() external {
        try rollup.setupEpoch() {
            ghost_setUp[_currentEpoch()] = true;
        } catch (bytes memory err) {
            _unexpected(err, "setupEpoch");
        }
        _observe();
    }

    /// @notice Propose a valid block in the current slot as its proposer, with a random quorum
    ///         (or more) of real committee signatures and 0..3 blobs. Skipped when the slot is used.
    function propose(uint256 signerSeed, uint256 contentSeed, uint8 blobCount) external {
        uint256 slot = _currentSlot();
        if (ghost_proposes != 0 && ghost_lastProposedSlot == slot) {
            ghost_proposesSkipped++;
            // Half the time move on to the next slot rather than give up the call, so that runs
            // build longer chains.
            if ((signerSeed >> 128) % 2 == 0) {
                _observe();
                return;
            }
            _warpTo(genesis + (slot + 1) * SLOT_DURATION + (contentSeed % SLOT_DURATION));
            slot = _currentSlot();
        }
        (ProposeArgs memory args, address[] memory committee) = _validArgs(contentSeed, blobCount);
        CommitteeAttestations memory att;
        address sender;
        if (committee.length == 0) {
            sender = address(uint160(uint256(keccak256(abi.encode(signerSeed))))); // anyone
        } else {
            uint256 q = _specQuorum(committee.length);
            att = _attestSubset(args, committee, _bound(signerSeed, q, committee.length), signerSeed >> 16);
            sender = _specProposer(committee);
        }

        uint256 tip = rollup.getPendingBlockNumber();
        // No proofs here: an epoch is pruned once the next epoch's claim window closes, and the
        // propose that finds it due prunes first and builds on the proven tip.
        bool pruneDue = rollup.canPrune();
        uint256 base = args.blockNumber - 1;
        vm.recordLogs();
        vm.prank(sender);
        try rollup.propose(args, att) {
            ghost_setUp[_currentEpoch()] = true;
            ghost_proposes++;
            if (committee.length != 0) ghost_proposesWithCommittee++;
            ghost_lastProposedSlot = slot;
            if (pruneDue) {
                ghost_prunes++;
                while (ghost_archives.length > base + 1) {
                    ghost_archives.pop();
                    ghost_previousArchives.pop();
                }
            }
            ghost_archives.push(args.archive);
            ghost_previousArchives.push(args.previousArchive);
            if (rollup.getPendingBlockNumber() != base + 1) ghost_tipMisstep++;
            _checkProposedEvent(args);
            _checkDigestBindsEveryField(args);
        } catch (bytes memory err) {
            _unexpected(err, "propose");
            if (rollup.getPendingBlockNumber() != tip) ghost_tipMisstep++;
        }
        _observe();
    }

    /// @notice Attempt a proposal broken in exactly one way; it must revert with that reason.
    function proposeInvalid(uint8 modeSeed, uint256 seed) external {
        (ProposeArgs memory args, address[] memory committee) = _validArgs(seed, uint8(seed >> 8));
        uint256 size = committee.length;
        bool slotUsed = ghost_proposes != 0 && ghost_lastProposedSlot == _currentSlot();
        Bad mode = Bad(modeSeed % BAD_MODES);
        // Modes that need a committee fall back to ones that do not.
        if (size == 0) {
            if (mode == Bad.WrongProposer) mode = Bad.WrongArchive;
            else if (mode == Bad.BelowQuorum) mode = Bad.WrongBlockNumber;
            else if (mode == Bad.ForgedAttestation) mode = Bad.WrongBlobs;
            else if (mode == Bad.OutsiderQuorum) mode = Bad.WrongSlot;
        }
        if (mode == Bad.SlotReuse && !slotUsed) mode = Bad.WrongArchive;

        CommitteeAttestations memory att;
        if (size != 0) att = _attestSubset(args, committee, _specQuorum(size), seed >> 16);
        address sender = size == 0 ? address(uint160(seed | 1)) : _specProposer(committee);
        bytes4 expected;

        if (mode == Bad.WrongProposer) {
            // Another committee member, or a stranger; never the slot's proposer.
            address other = committee[(seed >> 24) % size];
            sender = other != sender && (seed >> 32) % 2 == 0 ? other : address(uint160(sender) ^ 0x1);
            expected = Errors.Rollup__InvalidProposer.selector;
        } else if (mode == Bad.BelowQuorum) {
            uint256 q = _specQuorum(size);
            att = _attestSubset(args, committee, _bound(seed >> 24, 0, q - 1), seed >> 40);
            expected = Errors.Rollup__InsufficientAttestations.selector;
        } else if (mode == Bad.WrongArchive) {
            args.previousArchive = keccak256(abi.encode("not the tip", seed));
            att = _resign(args, att);
            expected = Errors.Rollup__InvalidArchive.selector;
        } else if (mode == Bad.WrongBlockNumber) {
            args.blockNumber =
                (seed >> 24) % 2 == 0 ? args.blockNumber + 1 + (seed >> 32) % 3 : args.blockNumber - 1;
            att = _resign(args, att);
            expected = Errors.Rollup__InvalidBlockNumber.selector;
        } else if (mode == Bad.WrongSlot) {
            uint256 s = Slot.unwrap(args.slot);
            args.slot = Slot.wrap((seed >> 24) % 2 == 0 || s == 0 ? s + 1 + (seed >> 32) % 40 : s - 1);
            att = _resign(args, att);
            expected = Errors.Rollup__InvalidSlot.selector;
        } else if (mode == Bad.ForgedAttestation) {
            att = _forge(args, att, seed >> 24);
            expected = Errors.Rollup__InvalidAttestation.selector;
        } else if (mode == Bad.WrongBlobs) {
            expected = _breakBlobs(args, seed >> 24);
        } else if (mode == Bad.OutsiderQuorum) {
            // The committee is read from what the epoch's setup stored, never from the caller: a
            // quorum signed by keys outside it fails at its first signature.
            bytes32 digest = rollup.proposalDigest(args);
            for (uint256 i = 0; i < att.signatures.length; ++i) {
                att.signatures[i] = _sign(uint256(keccak256(abi.encode("outsider", seed, i))), digest);
            }
            expected = Errors.Rollup__InvalidAttestation.selector;
        } else if (mode == Bad.SignatureCountMismatch) {
            Signature[] memory sigs = new Signature[](att.signatures.length + 1);
            for (uint256 i = 0; i < att.signatures.length; ++i) {
                sigs[i] = att.signatures[i];
            }
            sigs[att.signatures.length] = _sign(uint256(keccak256(abi.encode("extra", seed))), bytes32(seed));
            att.signatures = sigs;
            expected = Errors.Rollup__SignatureCountMismatch.selector;
        } else if (mode == Bad.SignersOutOfRange) {
            // One more set bit, beyond the committee, with a signature for it so the count matches.
            att.signers |= 1 << (size + (seed >> 24) % (256 - size));
            Signature[] memory sigs = new Signature[](att.signatures.length + 1);
            for (uint256 i = 0; i < att.signatures.length; ++i) {
                sigs[i] = att.signatures[i];
            }
            sigs[att.signatures.length] = _sign(uint256(keccak256(abi.encode("beyond", seed))), bytes32(seed));
            att.signatures = sigs;
            expected = Errors.Rollup__SignersOutOfRange.selector;
        } else {
            // SlotReuse: a fresh, fully signed block for a slot that already has one.
            expected = Errors.Rollup__SlotAlreadyUsed.selector;
        }
        // The slot check comes first: a used slot hides every later reason but a wrong slot.
        if (slotUsed && mode != Bad.WrongSlot) expected = Errors.Rollup__SlotAlreadyUsed.selector;

        ghost_invalidAttempts++;
        ghost_invalidByMode[uint256(mode)]++;
        uint256 tip = rollup.getPendingBlockNumber();
        vm.prank(sender);
        try rollup.propose(args, att) {
            ghost_invalidAccepted++;
            ghost_lastInvalidAccepted = _badName(mode);
        } catch (bytes memory err) {
            if (bytes4(err) != expected) {
                ghost_invalidWrongReason++;
                ghost_lastUnexpected = err;
                ghost_lastUnexpectedWhere = string.concat("proposeInvalid ", _badName(mode));
            }
        }
        if (rollup.getPendingBlockNumber() != tip) ghost_tipMisstep++;
        _observe();
    }

    // ================================================================ views for the invariants

    function getRollup() external view returns (Rollup) {
        return rollup;
    }

    function getToken() external view returns (DevToken) {
        return stakingAsset;
    }

    function everStakedCount() external view returns (uint256) {
        return everStaked.length;
    }

    function activeCount() external view returns (uint256) {
        return activeList.length;
    }

    function exitingCount() external view returns (uint256) {
        return exitingList.length;
    }

    function observedCount() external view returns (uint256) {
        return observedEpochs.length;
    }

    function archivesLength() external view returns (uint256) {
        return ghost_archives.length;
    }

    /// @notice The digest RollupInvariants compares validator sets with.
    function setDigest(address[] memory set) public pure returns (uint256 sum) {
        unchecked {
            for (uint256 i = 0; i < set.length; ++i) {
                sum += _memberHash(set[i]);
            }
        }
    }

    /// @notice Ghost digest and size of the set `epoch`'s committee is drawn from (snapshot key
    ///         epoch - 1, epoch 0 uses key 0); keys past the frozen ones hold the live set.
    function expectedSetFor(uint256 epoch) external view returns (uint256 sum, uint256 size) {
        uint256 key = epoch == 0 ? 0 : epoch - 1;
        if (key > ghost_snapUpTo) return (ghost_setSum, ghost_setSize);
        return (ghost_snapSum[key], ghost_snapSize[key]);
    }

    function summary() external view {
        console.log("proposes", ghost_proposes, "with committee", ghost_proposesWithCommittee);
        console.log("proposes that pruned first", ghost_prunes);
        console.log("skipped", ghost_proposesSkipped, "invalid attempts", ghost_invalidAttempts);
        for (uint256 m = 0; m < BAD_MODES; ++m) {
            console.log("  invalid mode", m, ghost_invalidByMode[m]);
        }
        console.log("active", activeList.length, "exiting", exitingList.length);
        console.log("exited", exitedList.length, "ever staked", everStaked.length);
        console.log("epoch", _currentEpoch(), "observed epochs", observedEpochs.length);
        try rollup.getCommitteeAt(rollup.getCurrentEpoch()) returns (address[] memory committee) {
            console.log("committee size now", committee.length);
        } catch {
            console.log("committee now: not drawn yet (the epoch and the one before were not set up)");
        }
        console.log("seeds visible too early", ghost_seedTooEarly, "missing", ghost_seedMissing);
    }

    // ================================================================ internals

    function _validArgs(uint256 contentSeed, uint8 blobCount)
        internal
        returns (ProposeArgs memory args, address[] memory committee)
    {
        // A proposer builds on the proven tip when a prune is due: `propose` prunes first.
        uint256 n = rollup.canPrune() ? rollup.getProvenBlockNumber() : rollup.getPendingBlockNumber();
        bytes32[] memory blobs = new bytes32[](_bound(blobCount, 0, MAX_BLOBS));
        for (uint256 i = 0; i < blobs.length; ++i) {
            blobs[i] = _versionedHash(keccak256(abi.encode("blob", contentSeed, n + 1, i)));
        }
        vm.blobhashes(blobs);
        args = ProposeArgs({
            blockNumber: n + 1,
            slot: rollup.getCurrentSlot(),
            // The ghost's archive, not the rollup's: the invariant then checks the chain links.
            previousArchive: ghost_archives[n],
            archive: keccak256(abi.encode("archive", contentSeed, n + 1)),
            stateRoot: keccak256(abi.encode("state", contentSeed, n + 1)),
            blobHashes: blobs,
            txCount: 0,
            forcedTxCount: 0,
            forcedTxsHash: bytes32(0)
        });
        _knowCommittee();
        committee = rollup.getCommitteeAt(rollup.getCurrentEpoch());
    }

    /// @dev As a proposer's node does: when the current epoch's seed is not drawn (neither it nor
    ///      the epoch before was set up), set it up to learn the committee. Otherwise leave it to
    ///      `propose`, so that path is exercised too.
    function _knowCommittee() internal {
        uint256 cur = _currentEpoch();
        if (cur == 0 || ghost_setUp[cur] || ghost_setUp[cur - 1]) return;
        rollup.setupEpoch();
        ghost_setUp[cur] = true;
    }

    function _badName(Bad mode) internal pure returns (string memory) {
        string[11] memory names = [
            "WrongProposer",
            "BelowQuorum",
            "WrongArchive",
            "WrongBlockNumber",
            "WrongSlot",
            "ForgedAttestation",
            "WrongBlobs",
            "OutsiderQuorum",
            "SignatureCountMismatch",
            "SignersOutOfRange",
            "SlotReuse"
        ];
        return names[uint256(mode)];
    }

    /// @dev SPEC 4: floor(2n/3) + 1 of the epoch's committee of n. Taken from the specification,
    ///      not from `rollup.quorum`, so a wrong quorum shows up as accepted or refused blocks.
    function _specQuorum(uint256 size) internal pure returns (uint256) {
        return size * 2 / 3 + 1;
    }

    /// @dev SPEC 4: the attested digest binds slot, block number, both archives, state root and
    ///      the blobs, and (SPEC 7) the tx count, forced-tx count and forced-txs hash. Changing any
    ///      one of them must change it, or an attestation could be reused for a different block.
    function _checkDigestBindsEveryField(ProposeArgs memory args) internal {
        bytes32 digest = rollup.proposalDigest(args);
        for (uint256 field = 0; field < 10; ++field) {
            ProposeArgs memory other = _copy(args);
            if (field == 0) {
                other.slot = Slot.wrap(Slot.unwrap(args.slot) + 1);
            } else if (field == 1) {
                other.blockNumber = args.blockNumber + 1;
            } else if (field == 2) {
                other.previousArchive = ~args.previousArchive;
            } else if (field == 3) {
                other.archive = ~args.archive;
            } else if (field == 4) {
                other.stateRoot = ~args.stateRoot;
            } else if (field == 5) {
                other.blobHashes = _copyHashes(args.blobHashes, args.blobHashes.length + 1);
            } else if (field == 7) {
                other.txCount = args.txCount + 1; // SPEC 7's header fields are attested too
            } else if (field == 8) {
                other.forcedTxCount = args.forcedTxCount + 1;
            } else if (field == 9) {
                other.forcedTxsHash = ~args.forcedTxsHash;
            } else if (args.blobHashes.length != 0) {
                other.blobHashes = _copyHashes(args.blobHashes, args.blobHashes.length);
                other.blobHashes[0] = ~args.blobHashes[0];
            } else {
                continue;
            }
            if (rollup.proposalDigest(other) == digest) ghost_digestNotBinding++;
        }
    }

    /// @dev SPEC 3: committee[hash(epoch, slot, seed) % size], computed here rather than read from
    ///      the rollup, so that the rollup's own check is held to the specification.
    function _specProposer(address[] memory committee) internal view returns (address) {
        uint256 epoch = _currentEpoch();
        bytes32 seed = rollup.getSampleSeed(Epoch.wrap(epoch));
        return committee[uint256(keccak256(abi.encode(epoch, _currentSlot(), seed))) % committee.length];
    }

    /// @dev `count` signatures from a pseudo-random subset of committee positions, ascending.
    function _attestSubset(ProposeArgs memory args, address[] memory committee, uint256 count, uint256 seed)
        internal
        view
        returns (CommitteeAttestations memory att)
    {
        uint256 size = committee.length;
        uint256 mask = size == 256 ? type(uint256).max : (1 << size) - 1;
        uint256 signers = uint256(keccak256(abi.encode(seed))) & mask;
        uint256 have = _popcount(signers);
        for (uint256 i = 0; have < count && i < size; ++i) {
            if (signers & (1 << i) == 0) {
                signers |= 1 << i;
                ++have;
            }
        }
        for (uint256 i = 0; have > count && i < size; ++i) {
            if (signers & (1 << i) != 0) {
                signers &= ~(1 << i);
                --have;
            }
        }
        att.signers = signers;
        att.signatures = new Signature[](count);
        bytes32 digest = rollup.proposalDigest(args);
        uint256 j = 0;
        for (uint256 i = 0; i < size; ++i) {
            if (signers & (1 << i) != 0) att.signatures[j++] = _sign(keyOf[committee[i]], digest);
        }
    }

    /// @dev The committee `propose` checks against now (the rollup reads it from the epoch's setup).
    function _committeeNow() internal view returns (address[] memory) {
        return rollup.getCommitteeAt(rollup.getCurrentEpoch());
    }

    /// @dev The same signers over the changed args, so only the intended defect remains.
    function _resign(ProposeArgs memory args, CommitteeAttestations memory att)
        internal
        view
        returns (CommitteeAttestations memory)
    {
        address[] memory committee = _committeeNow();
        if (committee.length == 0) return att;
        bytes32 digest = rollup.proposalDigest(args);
        uint256 j = 0;
        for (uint256 i = 0; i < committee.length; ++i) {
            if (att.signers & (1 << i) != 0) att.signatures[j++] = _sign(keyOf[committee[i]], digest);
        }
        return att;
    }

    /// @dev One attestation made invalid: a stranger's key, a member signing another proposal (a
    ///      replay from another slot), two members' signatures swapped, or a high-s twin.
    function _forge(ProposeArgs memory args, CommitteeAttestations memory att, uint256 seed)
        internal
        view
        returns (CommitteeAttestations memory)
    {
        uint256 count = att.signatures.length;
        uint256 j = seed % count;
        uint256 pos = _nthSetBit(att.signers, j);
        uint256 kind = (seed >> 8) % 4;
        if (kind == 1 || (kind == 2 && count < 2)) {
            ProposeArgs memory other = _copy(args);
            other.slot = Slot.wrap(Slot.unwrap(args.slot) + 1);
            att.signatures[j] = _sign(keyOf[_committeeNow()[pos]], rollup.proposalDigest(other));
        } else if (kind == 2) {
            // Swap signatures j and j+1 (mod count): both positions then hold the other's signature.
            uint256 k = (j + 1) % count;
            (att.signatures[j], att.signatures[k]) = (att.signatures[k], att.signatures[j]);
        } else if (kind == 3) {
            Signature memory s = att.signatures[j];
            att.signatures[j] =
                Signature({v: s.v == 27 ? 28 : 27, r: s.r, s: bytes32(SECP256K1_N - uint256(s.s))});
        } else {
            att.signatures[j] =
                _sign(uint256(keccak256(abi.encode("stranger", seed))), rollup.proposalDigest(args));
        }
        return att;
    }

    /// @dev Blobs that disagree with the header: a different hash, one blob too many on the
    ///      transaction, or one too few. Returns the reason the rollup must give.
    function _breakBlobs(ProposeArgs memory args, uint256 seed) internal returns (bytes4) {
        uint256 n = args.blobHashes.length;
        uint256 kind = seed % 3;
        if (kind == 0 && n != 0) {
            bytes32[] memory tx_ = _copyHashes(args.blobHashes, n);
            tx_[(seed >> 8) % n] = _versionedHash(keccak256(abi.encode("other blob", seed)));
            vm.blobhashes(tx_);
            return Errors.Rollup__InvalidBlobHash.selector;
        }
        if (kind == 1 || n == 0) {
            bytes32[] memory tx_ = _copyHashes(args.blobHashes, n + 1);
            tx_[n] = _versionedHash(keccak256(abi.encode("extra blob", seed)));
            vm.blobhashes(tx_);
            return Errors.Rollup__UnexpectedBlob.selector;
        }
        vm.blobhashes(_copyHashes(args.blobHashes, n - 1));
        return Errors.Rollup__InvalidBlobHash.selector;
    }

    function _checkProposedEvent(ProposeArgs memory args) internal {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        uint256 found = 0;
        for (uint256 i = 0; i < logs.length; ++i) {
            if (
                logs[i].emitter != address(rollup) || logs[i].topics.length != 3
                    || logs[i].topics[0] != IRollup.L2BlockProposed.selector
            ) continue;
            if (
                logs[i].topics[1] == bytes32(args.blockNumber) && logs[i].topics[2] == args.archive
                    && abi.decode(logs[i].data, (uint256)) == Slot.unwrap(args.slot)
            ) ++found;
            else ghost_eventMismatch++;
        }
        if (found != 1) ghost_eventMismatch++;
    }

    /// @dev Records each epoch's committee and seed the first time it is visible (from the start of
    ///      the epoch before it). RollupInvariants re-reads them after every call and at the end of
    ///      each run; re-sampling here too would only double the cost of a call.
    function _observe() internal {
        if (block.timestamp < ghost_lastTimestamp) ghost_timeWentBack++;
        ghost_lastTimestamp = block.timestamp;
        uint256 cur = _currentEpoch();
        for (uint256 e = cur; e <= cur + 1; ++e) {
            if (observed[e]) continue;
            // SPEC 3 as corrected (F-01): epoch e's seed is drawn when e - 1 is set up (or e
            // itself, if e - 1 never was), after the set it draws from is final; not earlier.
            bool drawn = e == 0 || ghost_setUp[e] || ghost_setUp[e - 1];
            try rollup.getSampleSeed(Epoch.wrap(e)) returns (bytes32 seed) {
                if (!drawn) ghost_seedTooEarly++;
                observed[e] = true;
                observedSeed[e] = seed;
                observedCommittee[e] = keccak256(abi.encodePacked(rollup.getCommitteeAt(Epoch.wrap(e))));
                observedSet[e] = setDigest(rollup.getValidatorSetFor(Epoch.wrap(e)));
                observedEpochs.push(e);
            } catch (bytes memory err) {
                if (drawn) ghost_seedMissing++;
                else _expectSelector(err, Errors.Rollup__SeedNotFixed.selector, "seed not drawn");
            }
        }
    }

    /// @dev The only way the handler moves time: it freezes the ghost set under every snapshot key
    ///      whose epoch began during the jump.
    function _warpTo(uint256 ts) internal {
        uint256 before = _currentEpoch();
        vm.warp(ts);
        uint256 next = _currentEpoch();
        for (uint256 key = before + 1; key <= next; ++key) {
            ghost_snapSum[key] = ghost_setSum;
            ghost_snapSize[key] = ghost_setSize;
        }
        if (next > ghost_snapUpTo) ghost_snapUpTo = next;
    }

    function _stakeNew() internal {
        (address a, uint256 pk) = makeAddrAndKey(string.concat("validator", vm.toString(everStaked.length)));
        keyOf[a] = pk;
        everStaked.push(a);
        ghostOf[a].withdrawer = makeAddr(string.concat("withdrawer", vm.toString(everStaked.length - 1)));
        _stakeExisting(a);
    }

    /// @dev Half the time the attester stakes itself, half the time the handler pays with the
    ///      attester's signed consent.
    function _stakeExisting(address a) internal {
        Ghost storage g = ghostOf[a];
        _fund();
        bytes memory call;
        if (uint256(keccak256(abi.encode(a, everStaked.length))) % 2 == 0) {
            stakingAsset.transfer(a, MIN_STAKE);
            vm.prank(a);
            stakingAsset.approve(address(rollup), MIN_STAKE);
            vm.prank(a);
            call = abi.encodeCall(IRollup.stake, (a, g.withdrawer));
        } else {
            uint256 deadline = block.timestamp;
            (uint8 v, bytes32 r, bytes32 sig) =
                vm.sign(keyOf[a], rollup.stakeConsentDigest(a, g.withdrawer, deadline));
            call = abi.encodeCall(
                IRollup.stakeWithConsent, (a, g.withdrawer, deadline, Signature({v: v, r: r, s: sig}))
            );
        }
        (bool ok, bytes memory err) = address(rollup).call(call);
        if (ok) {
            g.status = ValidatorStatus.ACTIVE;
            activeList.push(a);
            _setAdd(a);
        } else {
            _unexpected(err, "stake");
        }
    }

    function _fund() internal {
        stakingAsset.mint(address(this), MIN_STAKE);
        stakingAsset.approve(address(rollup), MIN_STAKE);
        ghost_totalMinted += MIN_STAKE;
    }

    function _anyRegistered(uint256 seed) internal view returns (address) {
        uint256 n = activeList.length + exitingList.length;
        if (n == 0) return address(0);
        uint256 i = seed % n;
        return i < activeList.length ? activeList[i] : exitingList[i - activeList.length];
    }

    function _setAdd(address a) internal {
        unchecked {
            ghost_setSum += _memberHash(a);
        }
        ghost_setSize++;
    }

    function _setRemove(address a) internal {
        unchecked {
            ghost_setSum -= _memberHash(a);
        }
        ghost_setSize--;
    }

    function _memberHash(address a) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(a)));
    }

    function _expectSelector(bytes memory err, bytes4 selector, string memory where) internal {
        if (bytes4(err) == selector) return;
        ghost_invalidWrongReason++;
        ghost_lastUnexpected = err;
        ghost_lastUnexpectedWhere = where;
    }

    function _unexpected(bytes memory err, string memory where) internal {
        ghost_unexpectedReverts++;
        ghost_lastUnexpected = err;
        ghost_lastUnexpectedWhere = where;
    }

    function _removeAt(address[] storage list, uint256 i) internal {
        list[i] = list[list.length - 1];
        list.pop();
    }

    function _versionedHash(bytes32 h) internal pure returns (bytes32) {
        return bytes32((uint256(0x01) << 248) | (uint256(h) >> 8));
    }

    function _copyHashes(bytes32[] memory src, uint256 len) internal pure returns (bytes32[] memory dst) {
        dst = new bytes32[](len);
        for (uint256 i = 0; i < len && i < src.length; ++i) {
            dst[i] = src[i];
        }
    }

    function _copy(ProposeArgs memory a) internal pure returns (ProposeArgs memory) {
        return ProposeArgs({
            blockNumber: a.blockNumber,
            slot: a.slot,
            previousArchive: a.previousArchive,
            archive: a.archive,
            stateRoot: a.stateRoot,
            blobHashes: a.blobHashes,
            txCount: a.txCount,
            forcedTxCount: a.forcedTxCount,
            forcedTxsHash: a.forcedTxsHash
        });
    }

    function _nthSetBit(uint256 x, uint256 n) internal pure returns (uint256 i) {
        for (i = 0; i < 256; ++i) {
            if (x & (1 << i) != 0) {
                if (n == 0) return i;
                --n;
            }
        }
    }

    function _popcount(uint256 x) internal pure returns (uint256 count) {
        while (x != 0) {
            x &= x - 1;
            ++count;
        }
    }
}
