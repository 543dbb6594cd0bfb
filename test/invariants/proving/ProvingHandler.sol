// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Vm} from "forge-std/Vm.sol";
import {console} from "forge-std/console.sol";

import {ProverEscrow} from "../../../contracts/core/ProverEscrow.sol";
import {Rollup} from "../../../contracts/core/Rollup.sol";
import {DevToken} from "../../../contracts/dev/DevToken.sol";
import {
    CommitteeAttestations,
    EpochProofArgs,
    FeeRecipient,
    IRollup,
    ProposeArgs,
    RollupConfig,
    Signature
} from "../../../contracts/interfaces/IRollup.sol";
import {EpochProofQuote, SignedEpochProofQuote} from "../../../contracts/libraries/EpochProofQuoteLib.sol";
import {Errors} from "../../../contracts/libraries/Errors.sol";
import {Epoch} from "../../../contracts/libraries/TimeLib.sol";
import {InsecureDevEpochVerifier} from "../../../contracts/verifiers/InsecureDevEpochVerifier.sol";
import {InsecureDevTxProofVerifier} from "../../../contracts/verifiers/InsecureDevTxProofVerifier.sol";
import {ProvingBase} from "../../harnesses/ProvingBase.sol";

/// @notice The actors of prover coordination in one contract, driven by ProvingInvariants: provers
///         (deposit, withdraw, sign quotes), proposers (propose, claim), submitters (proofs), anyone
///         (prune, block rewards, withdraw rewards) and time.
/// @dev The handler keeps its own model of the rollup (tips, epoch to prove, the live claim), of
///      every prover's escrow account and of every reward booked, built from the SPEC alone. Before
///      each call it predicts the outcome (success, or the exact error the first failing check of
///      SPEC 5.3/5.4 raises); after it, it compares. With `fail_on_revert = false` a reverting call
///      would vanish silently, so every surprise is counted in a ghost counter the invariants read.
///      Events are checked on their own, independently of the model: claims, proofs, slashes and
///      prunes are recorded with the time they happened.
contract ProvingHandler is ProvingBase {
    // ---------------------------------------------------------------- deployment

    /// @dev Short epochs so that a run of 64 calls crosses many claim windows and deadlines.
    uint256 public constant H_EPOCH = 8; // slots
    uint256 public constant H_CLAIM_WINDOW = 3; // slots
    uint256 public constant H_K = 4;
    uint256 public constant H_VALIDATORS = 8;
    /// @dev The shortest delay the Rollup accepts (two epochs and a second), so a withdrawal started
    ///      in the last second before a quote's epoch can complete exactly at the proof deadline.
    uint256 public constant H_ESCROW_DELAY = 2 * H_EPOCH * SLOT_DURATION + 1;
    uint256 public constant H_SLASH_BURN_BPS = 7500;
    uint256 public constant REWARD_FUNDING = 1e30;
    uint256 public constant N_PROVERS = 3;
    uint256 public constant MAX_FEE = 5 ether;
    address public constant BURN = 0x000000000000000000000000000000000000dEaD;
    uint256 internal constant BPS = 10_000;
    uint256 internal constant SECP256K1_N =
        0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    /// @dev SPEC 5.1's type string, restated here rather than taken from the library.
    bytes32 internal constant QUOTE_TYPEHASH = keccak256(
        "EpochProofQuote(uint256 epochToProve,uint256 validUntilSlot,uint256 bondAmount,address prover,uint32 basisPointFee)"
    );
    bytes4 internal constant OK = bytes4(0);

    address[] public provers;
    uint256[] internal proverKeys;
    address[] public submitters;
    address[] public coinbases;
    address[] public rewardees; // every address the rollup may book rewards to
    address public rewardSink = makeAddr("rewardSink");

    // ---------------------------------------------------------------- model of the rollup

    struct Model {
        uint256 pending;
        uint256 proven;
        uint256 epochToProve; // meaningful while pending > proven
        bool claimed; // a live claim (always on epochToProve)
        uint256 claimEpoch;
        address claimProver;
        uint256 claimBond;
        uint256 claimBps;
    }

    Model internal m;
    mapping(uint256 blockNumber => uint256) public blockSlot;
    mapping(uint256 blockNumber => bytes32) public archiveOf;
    uint256 public lastProposedSlot;

    // ---------------------------------------------------------------- model of the escrow

    struct ProverAccount {
        uint256 free;
        uint256 pending;
        uint256 withdrawableAt;
        uint256 staked;
        uint256 deposited;
        uint256 withdrawn;
        uint256 slashed;
    }

    mapping(address prover => ProverAccount) public acct;
    uint256 public ghost_deposited;
    uint256 public ghost_withdrawn;
    uint256 public ghost_slashed;
    uint256 public ghost_burned;
    uint256 public ghost_withdrawOverpaid; // a withdrawal paid more than the prover's pending amount
    uint256 public ghost_withdrawMismatch; // ... or anything but exactly that amount

    // ---------------------------------------------------------------- rewards

    struct ProvenEpoch {
        uint256 firstBlock;
        uint256 lastBlock;
        uint256 bps; // the claim's basisPointFee (0: proven without a claim)
        uint256 paidBits; // blocks whose proposer share was booked
        uint256 booked; // everything booked for this epoch (prover, submitter, proposers)
        uint256 cap; // blocks * BLOCK_REWARD + fees + SUBMITTER_REWARD
    }

    mapping(uint256 epoch => ProvenEpoch) public provenEpoch;
    uint256[] public provenEpochs;
    mapping(address => uint256) public ghost_booked;
    mapping(address => uint256) public ghost_rewardsWithdrawn;
    uint256 public ghost_totalRewardsWithdrawn;
    uint256 public ghost_rewardPayMismatch; // withdrawRewards paid other than what was booked

    // ---------------------------------------------------------------- events, as they happened

    struct ClaimRecord {
        address prover;
        address proposer;
        uint256 bond;
        uint256 slot;
        uint256 time;
    }

    mapping(uint256 epoch => uint256) public ev_claims;
    mapping(uint256 epoch => uint256) public ev_proofs;
    mapping(uint256 epoch => uint256) public ev_slashes;
    mapping(uint256 epoch => ClaimRecord) public claimRecord;
    mapping(uint256 epoch => uint256) public proofTime;
    mapping(uint256 epoch => uint256) public slashTime;
    uint256[] public claimedEpochs;
    uint256 public ev_claimsTotal;
    uint256 public ev_proofsTotal;
    uint256 public ev_slashesTotal;
    uint256 public ev_prunesTotal;
    uint256 public lastPruneTime;
    uint256 public ghost_eventViolations;
    string public ghost_lastEventViolation;

    /// @dev What the model expected the same events to number.
    uint256 public ghost_claimsExpected;
    uint256 public ghost_proofsExpected;
    uint256 public ghost_slashesExpected;
    uint256 public ghost_prunesExpected;

    // ---------------------------------------------------------------- outcomes

    uint256 public ghost_unexpectedReverts;
    bytes public ghost_lastUnexpected;
    string public ghost_lastUnexpectedWhere;
    uint256 public ghost_invalidAccepted;
    string public ghost_lastInvalidAccepted;
    uint256 public ghost_invalidWrongReason;
    bytes public ghost_lastWrongReason;
    string public ghost_lastWrongReasonWhere;
    uint256 public ghost_digestMismatch; // quoteToDigest disagrees with SPEC 5.1's EIP-712 digest
    uint256 public ghost_provenDecreased;
    uint256 public ghost_lastProvenSeen;
    uint256 public ghost_timeWentBack;
    uint256 public ghost_lastTimestamp;

    /// @dev Coverage counters (`coverage()`), summed over all runs with INVARIANT_SUMMARY=true.
    mapping(string what => uint256) public tally;

    constructor() {
        vm.warp(1_700_000_000);
        genesis = vm.getBlockTimestamp();
        stakingAsset = new DevToken("Stake", "STK");
        bondAsset = new DevToken("Bond", "BND");
        rewardAsset = new DevToken("Reward", "RWD");
        verifier = new InsecureDevEpochVerifier(address(this));
        txVerifier = new InsecureDevTxProofVerifier(address(this));
        RollupConfig memory cfg = _config(H_K);
        cfg.epochDuration = H_EPOCH;
        cfg.proofClaimWindow = H_CLAIM_WINDOW;
        cfg.slashBurnBps = H_SLASH_BURN_BPS;
        cfg.validatorExitDelay = 2 * H_EPOCH * SLOT_DURATION;
        // The escrow is bound to the rollup's address before the rollup exists (RollupBase does the
        // same with its own escrow delay).
        address predicted = _predictRollup();
        escrow = new ProverEscrow(bondAsset, predicted, H_ESCROW_DELAY);
        cfg.escrow = address(escrow);
        queue = _deployQueue(cfg, predicted);
        cfg.forcedInclusionQueue = address(queue);
        rollup = new Rollup(cfg);
        require(address(rollup) == predicted, "rollup address");
        rewardAsset.mint(address(rollup), REWARD_FUNDING);

        // Staked in epoch 0: the set of epoch 2 on. The runs start there, so every slot has a
        // proposer and a claim by anyone else can be refused.
        _stakeValidators(H_VALIDATORS);
        for (uint256 i = 0; i < N_PROVERS; ++i) {
            (address p, uint256 pk) = makeAddrAndKey(string.concat("prover", vm.toString(i)));
            provers.push(p);
            proverKeys.push(pk);
            rewardees.push(p);
            // A starting deposit, so that claims can succeed from the first call on.
            uint256 amount = (2 + i) * MIN_BOND;
            _depositBond(p, amount);
            acct[p].free = amount;
            acct[p].deposited = amount;
            ghost_deposited += amount;
        }
        for (uint256 i = 0; i < 2; ++i) {
            address s = makeAddr(string.concat("submitter", vm.toString(i)));
            submitters.push(s);
            rewardees.push(s);
        }
        for (uint256 i = 0; i < 3; ++i) {
            address c = makeAddr(string.concat("coinbase", vm.toString(i)));
            coinbases.push(c);
            rewardees.push(c);
        }
        archiveOf[0] = GENESIS_ARCHIVE;
        vm.warp(genesis + 2 * H_EPOCH * SLOT_DURATION);
        ghost_lastTimestamp = vm.getBlockTimestamp();
        lastProposedSlot = 2 * H_EPOCH - 1;
    }

    // ================================================================ provers

    /// @notice A prover deposits bond tokens (zero is refused).
    function deposit(uint256 seed, uint256 amount) external {
        _begin();
        seed = _mix(seed);
        address p = provers[seed % N_PROVERS];
        amount = (seed >> 8) % 16 == 0 ? 0 : _bound(amount, 1, 4 * MIN_BOND);
        bondAsset.mint(p, amount);
        vm.startPrank(p);
        bondAsset.approve(address(escrow), amount);
        bool ok;
        bytes memory err;
        try escrow.deposit(amount) {
            ok = true;
        } catch (bytes memory e) {
            err = e;
        }
        vm.stopPrank();
        bytes4 expected = amount == 0 ? Errors.Escrow__ZeroAmount.selector : OK;
        if (_outcome(expected, ok, err, "deposit") && ok) {
            ProverAccount storage a = acct[p];
            a.free += amount;
            a.deposited += amount;
            ghost_deposited += amount;
            tally["deposit"]++;
        }
        _end();
    }

    /// @notice A prover moves free funds to pending; sometimes asks for more than is free (for
    ///         instance its staked bond too), which must fail. Sometimes at the last second of an
    ///         epoch e - 1 (the withdrawal then completes exactly at the proof deadline of epoch e,
    ///         so a claim on e must not count it) or at the first second of an epoch (it completes
    ///         one second after that deadline, and counts).
    function startWithdraw(uint256 seed, uint256 amount, uint8 timing) external {
        _begin();
        seed = _mix(seed);
        timing %= 4;
        bool nudge = timing == 1;
        if (timing == 1) _warpTo(_epochStartTs(_epochNow() + 1) - 1);
        else if (timing == 2) _warpTo(_epochStartTs(_epochNow() + 1));
        address p = provers[seed % N_PROVERS];
        ProverAccount storage a = acct[p];
        uint256 kind = (seed >> 8) % 6;
        if (kind == 0) amount = 0;
        else if (kind == 1 || a.free == 0) amount = a.free + a.staked + 1 + amount % MIN_BOND;
        else amount = _bound(amount, 1, a.free);
        bytes4 expected = amount == 0
            ? Errors.Escrow__ZeroAmount.selector
            : (amount > a.free ? Errors.Escrow__InsufficientFreeBalance.selector : OK);
        uint256 now_ = _now();
        vm.prank(p);
        (bool ok, bytes memory err) = _try(address(escrow), abi.encodeCall(escrow.startWithdraw, (amount)));
        if (_outcome(expected, ok, err, "startWithdraw") && ok) {
            a.free -= amount;
            a.pending += amount;
            a.withdrawableAt = now_ + H_ESCROW_DELAY;
            tally["startWithdraw"]++;
        }
        // Then into the next epoch, so the blocks that follow are in the epoch whose deadline is
        // exactly when this withdrawal completes.
        if (nudge) _warpTo(now_ + 1);
        _end();
    }

    /// @notice A prover executes its pending withdrawal, sometimes after warping to the first second
    ///         it is allowed or to the last second it is not.
    function executeWithdraw(uint256 seed, uint8 timing) external {
        _begin();
        seed = _mix(seed);
        address p = provers[seed % N_PROVERS];
        ProverAccount storage a = acct[p];
        if (a.pending != 0 && a.withdrawableAt > _now()) {
            timing %= 3;
            if (timing == 1) _warpTo(a.withdrawableAt);
            else if (timing == 2 && a.withdrawableAt - 1 > _now()) _warpTo(a.withdrawableAt - 1);
        }
        bytes4 expected = a.pending == 0
            ? Errors.Escrow__NoPendingWithdrawal.selector
            : (_now() < a.withdrawableAt ? Errors.Escrow__WithdrawNotReady.selector : OK);
        uint256 before = bondAsset.balanceOf(p);
        vm.prank(p);
        (bool ok, bytes memory err) = _try(address(escrow), abi.encodeCall(escrow.executeWithdraw, ()));
        uint256 paid = bondAsset.balanceOf(p) - before;
        if (paid > a.pending) ghost_withdrawOverpaid++;
        if (_outcome(expected, ok, err, "executeWithdraw") && ok) {
            if (paid != a.pending) ghost_withdrawMismatch++;
            a.withdrawn += paid;
            ghost_withdrawn += paid;
            a.pending = 0;
            a.withdrawableAt = 0;
            tally["executeWithdraw"]++;
        }
        _end();
    }

    /// @notice Someone other than the rollup tries to move a prover's bond in the escrow.
    function escrowAttack(uint256 seed, uint256 callerSeed) external {
        _begin();
        seed = _mix(seed);
        address caller = address(uint160(uint256(keccak256(abi.encode("attacker", callerSeed % 4)))));
        address p = provers[seed % N_PROVERS];
        ProverAccount storage a = acct[p];
        bytes memory data;
        uint256 kind = (seed >> 8) % 3;
        if (kind == 0) data = abi.encodeCall(escrow.unstakeBond, (p, a.staked));
        else if (kind == 1) data = abi.encodeCall(escrow.slashBond, (p, a.staked, 0, caller));
        else data = abi.encodeCall(escrow.stakeBond, (p, a.free));
        vm.prank(caller);
        (bool ok, bytes memory err) = _try(address(escrow), data);
        _outcome(Errors.Escrow__NotRollup.selector, ok, err, "escrow call by a non-rollup");
        _end();
    }

    // ================================================================ proposers

    /// @notice The current slot's proposer proposes one to three blocks with a quorum, in fresh
    ///         slots (skipping `gap` slots first). When a prune is due the block builds on the
    ///         proven tip, since `propose` prunes first.
    function propose(uint256 seed, uint8 blocks, uint8 gap) external {
        _begin();
        seed = _mix(seed);
        uint256 n = 1 + blocks % 3;
        gap %= 4;
        if (gap != 0) _warpTo(_slotStart(_slotNow() + gap) + seed % SLOT_DURATION);
        for (uint256 i = 0; i < n; ++i) {
            if (_slotNow() <= lastProposedSlot) {
                _warpTo(_slotStart(lastProposedSlot + 1) + (seed >> (8 * i)) % SLOT_DURATION);
            }
            _proposeOne(uint256(keccak256(abi.encode(seed, i))));
        }
        _end();
    }

    /// @notice A proposer (or someone else) claims the epoch to prove with a prover's quote, valid
    ///         or broken in one way, through claimEpochProofRight or proposeAndClaim; sometimes
    ///         after warping into the claim window (any slot, its last slot, or one past it).
    function claim(uint256 seed, uint8 defect, uint8 timing, bool viaPropose) external {
        _begin();
        seed = _mix(seed);
        // Three times in four, with nothing to claim, first propose a block: its epoch becomes the
        // epoch to prove, and the steering below takes the claim into its window.
        if (
            (m.pending == m.proven || _pruneDue(m)) && (seed >> 240) % 4 != 0 && _slotNow() > lastProposedSlot
        ) {
            _proposeOne(seed >> 1);
        }
        _steerIntoClaimWindow(seed, timing);
        (SignedEpochProofQuote memory sq, bool sigValid, string memory what) = _makeQuote(seed, defect);
        address proposer = rollup.getCurrentProposer();
        address sender = proposer;
        if ((seed >> 200) % 6 == 0) {
            sender = _otherThan(proposer, seed >> 208);
            what = string.concat(what, " by a non-proposer");
        }
        viaPropose = viaPropose && _slotNow() > lastProposedSlot;

        // Predict on a copy of the model: prune first when due, then the block, then the claim.
        Model memory mm = m;
        bool due = _pruneDue(mm);
        if (due) {
            mm.pending = mm.proven;
            mm.claimed = false;
        }
        bytes4 expected;
        ProposeArgs memory args;
        CommitteeAttestations memory att;
        if (viaPropose) {
            (args, att) = _proposal(due ? m.proven : m.pending, seed);
            if (mm.pending == mm.proven) mm.epochToProve = _epochNow();
            mm.pending++;
            expected = sender != proposer ? Errors.Rollup__InvalidProposer.selector : OK;
            what = string.concat("proposeAndClaim ", what);
        } else {
            what = string.concat("claimEpochProofRight ", what);
        }
        if (expected == OK) expected = _predictClaim(mm, sq, sender, proposer, sigValid);
        ProverAccount storage pa = acct[sq.quote.prover];
        if (pa.free < sq.quote.bondAmount && pa.free + pa.pending >= sq.quote.bondAmount) {
            // Coverage of SPEC 5.2's minBalanceAtTime: the pending withdrawal's timing decides.
            tally["claim: bond needs pending funds"]++;
            if (pa.withdrawableAt == _deadline(mm.epochToProve)) {
                tally["claim: ... withdrawable at deadline"]++;
            }
        }

        vm.prank(sender);
        (bool ok, bytes memory err) = viaPropose
            ? _try(address(rollup), abi.encodeCall(rollup.proposeAndClaim, (args, att, sq)))
            : _try(address(rollup), abi.encodeCall(rollup.claimEpochProofRight, (sq)));
        if (_outcome(expected, ok, err, what) && ok) {
            if (due) _applyPrune();
            if (viaPropose) {
                _applyPropose(args.archive, seed);
                tally["proposeAndClaim"]++;
            }
            _applyClaim(sq.quote);
        }
        tally[string.concat("claim: ", _errName(expected))]++;
        _end();
    }

    // ================================================================ submitters

    /// @notice Submit a proof of the epoch to prove: valid, or broken in one way (a partial epoch,
    ///         two epochs, the wrong prover, the wrong fees, a bad proof, another epoch, the wrong
    ///         parent), sometimes after warping to the proof window, the end of the claim window,
    ///         or either side of the deadline.
    function submitProof(uint256 seed, uint8 mode, uint8 timing) external {
        _begin();
        seed = _mix(seed);
        _steerForProof(seed, timing);
        (EpochProofArgs memory a, string memory what) = _proofFor(seed, mode);
        bytes4 expected = _predictSubmit(a);
        address submitter_ = submitters[seed % submitters.length];
        vm.prank(submitter_);
        (bool ok, bytes memory err) = _try(address(rollup), abi.encodeCall(rollup.submitEpochRootProof, (a)));
        if (_outcome(expected, ok, err, what) && ok) _applyProof(a, submitter_);
        tally[string.concat("proof: ", _errName(expected))]++;
        _end();
    }

    // ================================================================ anyone

    /// @notice Anyone prunes: succeeds exactly when a prune is due.
    function prune(uint256 seed) external {
        _begin();
        seed = _mix(seed);
        bool due = _pruneDue(m);
        vm.prank(address(uint160(uint256(keccak256(abi.encode("pruner", seed % 4))))));
        (bool ok, bytes memory err) = _try(address(rollup), abi.encodeCall(rollup.prune, ()));
        if (_outcome(due ? OK : Errors.Rollup__NothingToPrune.selector, ok, err, "prune") && ok) {
            _applyPrune();
            tally["prune()"]++;
        }
        _end();
    }

    /// @notice Book proposers' rewards of a proven epoch for random block indices (some already
    ///         paid, repeated or out of range), or with the wrong fees, or for an unproven epoch.
    function claimBlockRewards(uint256 seed, uint8 mode) external {
        _begin();
        seed = _mix(seed);
        mode %= 8;
        if (provenEpochs.length == 0) mode = 6;
        uint256 e;
        FeeRecipient[] memory fees;
        uint256[] memory indices;
        bytes4 expected = OK;
        if (mode == 6) {
            // Never proven: the epoch to prove, or one in the future.
            e = m.pending > m.proven && (seed >> 8) % 2 == 0 ? m.epochToProve : _epochNow() + (seed >> 16) % 3;
            fees = new FeeRecipient[](1);
            fees[0] = FeeRecipient({recipient: coinbases[0], value: 0});
            indices = new uint256[](1);
            expected = Errors.Rollup__EpochNotProven.selector;
        } else {
            e = provenEpochs[seed % provenEpochs.length];
            ProvenEpoch storage pe = provenEpoch[e];
            uint256 n = pe.lastBlock - pe.firstBlock + 1;
            fees = _feesOf(pe.firstBlock, pe.lastBlock);
            indices = mode == 7 ? _unpaid(pe.paidBits, n) : _randomIndices(seed, n);
            if (mode == 5) {
                fees[(seed >> 64) % n].value += 1;
                expected = Errors.Rollup__InvalidFees.selector;
            } else {
                uint256 bits = pe.paidBits;
                for (uint256 i = 0; i < indices.length && expected == OK; ++i) {
                    if (indices[i] >= n) {
                        expected = Errors.Rollup__BlockIndexOutOfRange.selector;
                    } else if (bits & (1 << indices[i]) != 0) {
                        expected = Errors.Rollup__RewardAlreadyClaimed.selector;
                    } else {
                        bits |= 1 << indices[i];
                    }
                }
            }
        }
        vm.prank(address(uint160(uint256(keccak256(abi.encode("claimer", seed % 3))))));
        (bool ok, bytes memory err) =
            _try(address(rollup), abi.encodeCall(rollup.claimBlockRewards, (Epoch.wrap(e), fees, indices)));
        if (_outcome(expected, ok, err, "claimBlockRewards") && ok) {
            ProvenEpoch storage pe = provenEpoch[e];
            for (uint256 i = 0; i < indices.length; ++i) {
                FeeRecipient memory f = fees[indices[i]];
                pe.paidBits |= 1 << indices[i];
                _book(f.recipient, (BLOCK_REWARD + f.value) * (BPS - pe.bps) / BPS, e);
            }
        }
        tally[string.concat("blockRewards: ", _errName(expected))]++;
        _end();
    }

    /// @notice An owner withdraws its booked rewards (to itself or elsewhere); nothing booked: refused.
    function withdrawRewards(uint256 seed) external {
        _begin();
        seed = _mix(seed);
        address who = rewardees[seed % rewardees.length];
        address to = (seed >> 8) % 2 == 0 ? who : rewardSink;
        uint256 owed = ghost_booked[who] - ghost_rewardsWithdrawn[who];
        uint256 before = rewardAsset.balanceOf(to);
        vm.prank(who);
        (bool ok, bytes memory err) = _try(address(rollup), abi.encodeCall(rollup.withdrawRewards, (to)));
        uint256 paid = rewardAsset.balanceOf(to) - before;
        if (_outcome(owed == 0 ? Errors.Rollup__NoRewards.selector : OK, ok, err, "withdrawRewards") && ok) {
            if (paid != owed) ghost_rewardPayMismatch++;
            ghost_rewardsWithdrawn[who] += paid;
            ghost_totalRewardsWithdrawn += paid;
            tally["withdrawRewards"]++;
        }
        _end();
    }

    // ================================================================ time

    /// @notice Move time forward: inside a slot, to the next slot, a few slots or epochs on, or to
    ///         an edge of the epoch to prove: its claim window's first and last slot, the last and
    ///         first second around the window's end, and around the proof deadline.
    function warp(uint8 kind, uint256 amount) external {
        _begin();
        uint256 e = m.pending > m.proven ? m.epochToProve : _epochNow();
        uint256 now_ = _now();
        uint256 to;
        kind %= 10;
        if (kind == 0) to = now_ + _bound(amount, 1, SLOT_DURATION - 1);
        else if (kind == 1) to = _slotStart(_slotNow() + 1) + amount % SLOT_DURATION;
        else if (kind == 2) to = now_ + _bound(amount, 1, H_EPOCH) * SLOT_DURATION;
        else if (kind == 3) to = _slotStart((e + 1) * H_EPOCH);
        else if (kind == 4) to = _slotStart((e + 1) * H_EPOCH + H_CLAIM_WINDOW - 1);
        else if (kind == 5) to = _slotStart(_windowEndSlot(e)) - 1;
        else if (kind == 6) to = _slotStart(_windowEndSlot(e));
        else if (kind == 7) to = _deadline(e) - 1;
        else if (kind == 8) to = _deadline(e);
        else to = now_ + _bound(amount, 1, 3 * H_EPOCH * SLOT_DURATION);
        if (to <= now_) to = now_ + 1;
        _warpTo(to);
        _end();
    }

    // ================================================================ model: predictions

    /// @dev SPEC 5.5: due when the chain has unproven blocks and either the epoch after the epoch
    ///      to prove is over, or its claim window is over with no claim on the epoch.
    function _pruneDue(Model memory mm) internal view returns (bool) {
        if (mm.pending == mm.proven) return false;
        uint256 e = mm.epochToProve;
        uint256 s = _slotNow();
        if (s / H_EPOCH > e + 1) return true;
        if (s < _windowEndSlot(e)) return false;
        return !(mm.claimed && mm.claimEpoch == e);
    }

    /// @dev SPEC 5.3, checks in the order docs/proving.md lists them.
    function _predictClaim(
        Model memory mm,
        SignedEpochProofQuote memory sq,
        address sender,
        address proposer,
        bool sigValid
    ) internal view returns (bytes4) {
        if (mm.pending == mm.proven) return Errors.Rollup__NoEpochToProve.selector;
        uint256 e = mm.epochToProve;
        uint256 s = _slotNow();
        if (s < (e + 1) * H_EPOCH || s >= _windowEndSlot(e)) return Errors.Rollup__NotInClaimPhase.selector;
        if (sender != proposer) return Errors.Rollup__InvalidProposer.selector;
        if (!sigValid) return Errors.Rollup__InvalidQuoteSignature.selector;
        EpochProofQuote memory q = sq.quote;
        if (q.epochToProve != e) return Errors.Rollup__NotClaimingCorrectEpoch.selector;
        if (q.validUntilSlot < s) return Errors.Rollup__QuoteExpired.selector;
        if (q.basisPointFee > BPS) return Errors.Rollup__InvalidBasisPointFee.selector;
        if (q.bondAmount < MIN_BOND) return Errors.Rollup__InsufficientBondAmount.selector;
        if (mm.claimed && mm.claimEpoch == e) return Errors.Rollup__ProofRightAlreadyClaimed.selector;
        if (_available(q.prover, _deadline(e)) < q.bondAmount) {
            return Errors.Rollup__InsufficientEscrowBalance.selector;
        }
        return OK;
    }

    /// @dev SPEC 5.4, checks in the order docs/proving.md lists them.
    function _predictSubmit(EpochProofArgs memory a) internal view returns (bytes4) {
        if (m.pending == m.proven) return Errors.Rollup__NoEpochToProve.selector;
        uint256 e = m.epochToProve;
        if (Epoch.unwrap(a.epoch) != e) return Errors.Rollup__NotEpochToProve.selector;
        uint256 cur = _epochNow();
        if (cur <= e) return Errors.Rollup__EpochNotEnded.selector;
        if (cur != e + 1) return Errors.Rollup__ProofDeadlinePassed.selector;
        bool claimed = m.claimed && m.claimEpoch == e;
        if (!claimed && _slotNow() >= _windowEndSlot(e)) {
            return Errors.Rollup__UnclaimedPastClaimWindow.selector;
        }
        if (claimed && a.prover != m.claimProver) return Errors.Rollup__InvalidProver.selector;
        uint256 end = _epochEnd(e);
        if (a.endBlockNumber != end) return Errors.Rollup__InvalidEpochEnd.selector;
        if (a.previousArchive != archiveOf[m.proven]) return Errors.Rollup__InvalidPreviousArchive.selector;
        if (a.endArchive != archiveOf[end]) return Errors.Rollup__InvalidEndArchive.selector;
        if (a.fees.length != end - m.proven) return Errors.Rollup__InvalidFeesLength.selector;
        if (keccak256(a.proof) != keccak256(_devProof(a))) return Errors.Rollup__InvalidProof.selector;
        return OK;
    }

    /// @dev SPEC 5.2: what of the prover's deposit is certainly still in the escrow at `t`.
    function _available(address p, uint256 t) internal view returns (uint256 avail) {
        ProverAccount storage a = acct[p];
        if (t < _now() + H_ESCROW_DELAY) avail = a.free;
        if (t < a.withdrawableAt) avail += a.pending;
    }

    /// @dev The last block of epoch `e` among the unproven blocks, from the slots they were
    ///      proposed in.
    function _epochEnd(uint256 e) internal view returns (uint256 end) {
        end = m.proven;
        for (uint256 n = m.proven + 1; n <= m.pending && blockSlot[n] / H_EPOCH == e; ++n) {
            end = n;
        }
    }

    // ================================================================ model: effects

    function _applyPrune() internal {
        if (m.claimed && m.claimEpoch == m.epochToProve) {
            // The claim's deadline passed without a proof: its bond is slashed.
            uint256 bond = m.claimBond;
            ProverAccount storage a = acct[m.claimProver];
            a.staked -= bond;
            a.slashed += bond;
            ghost_slashed += bond;
            ghost_burned += bond * H_SLASH_BURN_BPS / BPS;
            ghost_slashesExpected++;
        }
        m.claimed = false;
        m.pending = m.proven;
        ghost_prunesExpected++;
    }

    function _applyPropose(bytes32 archive, uint256 seed) internal {
        uint256 slot = _slotNow();
        if (m.pending == m.proven) m.epochToProve = slot / H_EPOCH;
        uint256 n = ++m.pending;
        blockSlot[n] = slot;
        archiveOf[n] = archive;
        feeOf[n] = FeeRecipient({
            recipient: coinbases[(seed >> 32) % coinbases.length],
            value: (seed >> 40) % 4 == 0 ? 0 : (seed >> 48) % MAX_FEE
        });
        lastProposedSlot = slot;
        tally["blocks"]++;
    }

    /// @dev SPEC 5.2: a bond is staked from free funds first, then pending ones.
    function _applyClaim(EpochProofQuote memory q) internal {
        ProverAccount storage a = acct[q.prover];
        if (q.bondAmount <= a.free) {
            a.free -= q.bondAmount;
        } else {
            a.pending -= q.bondAmount - a.free;
            a.free = 0;
        }
        a.staked += q.bondAmount;
        m.claimed = true;
        m.claimEpoch = m.epochToProve;
        m.claimProver = q.prover;
        m.claimBond = q.bondAmount;
        m.claimBps = q.basisPointFee;
        ghost_claimsExpected++;
    }

    function _applyProof(EpochProofArgs memory a, address submitter_) internal {
        uint256 e = m.epochToProve;
        uint256 end = a.endBlockNumber;
        bool claimed = m.claimed && m.claimEpoch == e;
        uint256 total = (end - m.proven) * BLOCK_REWARD;
        for (uint256 i = 0; i < a.fees.length; ++i) {
            total += a.fees[i].value;
        }
        provenEpoch[e] = ProvenEpoch({
            firstBlock: m.proven + 1,
            lastBlock: end,
            bps: claimed ? m.claimBps : 0,
            paidBits: 0,
            booked: 0,
            cap: total + SUBMITTER_REWARD
        });
        provenEpochs.push(e);
        if (claimed) {
            ProverAccount storage acc = acct[m.claimProver];
            acc.staked -= m.claimBond;
            acc.free += m.claimBond;
            m.claimed = false;
            _book(m.claimProver, total * m.claimBps / BPS, e);
        }
        _book(submitter_, SUBMITTER_REWARD, e);
        m.proven = end;
        if (m.pending > end) m.epochToProve = blockSlot[end + 1] / H_EPOCH;
        ghost_proofsExpected++;
    }

    function _book(address to, uint256 amount, uint256 e) internal {
        ghost_booked[to] += amount;
        provenEpoch[e].booked += amount;
    }

    // ================================================================ building calls

    function _proposeOne(uint256 seed) internal {
        bool due = _pruneDue(m);
        (ProposeArgs memory args, CommitteeAttestations memory att) =
            _proposal(due ? m.proven : m.pending, seed);
        address proposer = rollup.getCurrentProposer();
        vm.prank(proposer);
        (bool ok, bytes memory err) = _try(address(rollup), abi.encodeCall(rollup.propose, (args, att)));
        if (_outcome(OK, ok, err, "propose") && ok) {
            if (due) _applyPrune();
            _applyPropose(args.archive, seed);
        }
    }

    /// @dev The next block on `base` in the current slot, with one blob set on the transaction and
    ///      a quorum of the current committee, from the ghost archives (never the rollup's).
    function _proposal(uint256 base, uint256 seed)
        internal
        returns (ProposeArgs memory args, CommitteeAttestations memory att)
    {
        bytes32[] memory blobs = new bytes32[](1);
        blobs[0] = bytes32((uint256(0x01) << 248) | (uint256(keccak256(abi.encode("blob", seed))) >> 8));
        vm.blobhashes(blobs);
        args = ProposeArgs({
            blockNumber: base + 1,
            slot: rollup.getCurrentSlot(),
            previousArchive: archiveOf[base],
            archive: keccak256(abi.encode("archive", seed, base + 1)),
            stateRoot: keccak256(abi.encode("state", seed, base + 1)),
            blobHashes: blobs,
            txCount: 0,
            forcedTxCount: 0,
            forcedTxsHash: bytes32(0)
        });
        address[] memory committee = rollup.getCommitteeAt(Epoch.wrap(_epochNow()));
        uint256 q = committee.length * 2 / 3 + 1;
        bytes32 digest = rollup.proposalDigest(args);
        // q consecutive committee positions (cyclically) from a random one, in ascending order.
        uint256 start = seed % committee.length;
        for (uint256 j = 0; j < q; ++j) {
            att.signers |= 1 << ((start + j) % committee.length);
        }
        att.signatures = new Signature[](q);
        uint256 k = 0;
        for (uint256 i = 0; i < committee.length; ++i) {
            if (att.signers & (1 << i) != 0) att.signatures[k++] = _sign(keyOf[committee[i]], digest);
        }
    }

    /// @dev A quote from a random prover with random fee, bond and expiry, broken in at most one way.
    function _makeQuote(uint256 seed, uint8 defect)
        internal
        returns (SignedEpochProofQuote memory sq, bool sigValid, string memory what)
    {
        uint256 pi = _pickProver(seed);
        uint256 s = _slotNow();
        uint256 e = m.pending > m.proven ? m.epochToProve : _epochNow() - 1;
        EpochProofQuote memory q = EpochProofQuote({
            epochToProve: e,
            validUntilSlot: s + (seed >> 8) % (2 * H_EPOCH),
            bondAmount: _pickBond(acct[provers[pi]], seed >> 16),
            prover: provers[pi],
            basisPointFee: uint32((seed >> 80) % (BPS + 1))
        });
        // Two in three quotes are valid (3 < d < 13 breaks one thing).
        uint256 d = defect % 26;
        what = "valid quote";
        if (d == 4) {
            q.epochToProve = (seed >> 96) % 2 == 0 ? e + 1 : e - 1;
            what = "quote for another epoch";
        } else if (d == 5) {
            q.validUntilSlot = s - 1 - (seed >> 96) % 3;
            what = "expired quote";
        } else if (d == 6) {
            q.basisPointFee = uint32(BPS + 1 + (seed >> 96) % (type(uint32).max - BPS));
            what = "fee above 10000 bps";
        } else if (d == 7) {
            q.bondAmount = (seed >> 96) % MIN_BOND;
            what = "bond below MIN_BOND";
        } else if (d == 8) {
            uint256 avail = _available(q.prover, _deadline(e));
            q.bondAmount = avail + 1 + (seed >> 96) % MIN_BOND;
            if (q.bondAmount < MIN_BOND) q.bondAmount = MIN_BOND;
            what = "bond above what the escrow will hold";
        } else if (d == 9 && m.claimed) {
            // Another quote for an epoch already claimed.
            what = "second claim";
        }

        bytes32 digest = _quoteDigest(q, block.chainid, address(rollup));
        if (digest != rollup.quoteToDigest(q)) ghost_digestMismatch++;
        sigValid = true;
        uint256 key = proverKeys[pi];
        if (d == 10) {
            // Signed by another prover, or by a stranger.
            key = (seed >> 96) % 2 == 0
                ? proverKeys[(pi + 1) % N_PROVERS]
                : uint256(keccak256(abi.encode("stranger", seed)));
            sigValid = false;
            what = "quote signed by someone else";
        } else if (d == 11) {
            // Replays: signed for another chain, or for another rollup deployment.
            digest = (seed >> 96) % 2 == 0
                ? _quoteDigest(q, block.chainid + 1, address(rollup))
                : _quoteDigest(q, block.chainid, address(escrow));
            sigValid = false;
            what = "quote signed for another domain";
        }
        Signature memory sig = _sign(key, digest);
        if (d == 12) {
            // The high-s twin of a valid signature.
            sig = Signature({v: sig.v == 27 ? 28 : 27, r: sig.r, s: bytes32(SECP256K1_N - uint256(sig.s))});
            sigValid = false;
            what = "malleable quote signature";
        }
        sq = SignedEpochProofQuote({quote: q, signature: sig});
    }

    /// @dev Half the time a prover with a pending withdrawal, when there is one: whether its pending
    ///         funds count towards a bond depends on when they become withdrawable.
    function _pickProver(uint256 seed) internal view returns (uint256) {
        uint256 pi = seed % N_PROVERS;
        if ((seed >> 224) % 2 == 0) {
            for (uint256 j = 0; j < N_PROVERS; ++j) {
                if (acct[provers[(pi + j) % N_PROVERS]].pending != 0) return (pi + j) % N_PROVERS;
            }
        }
        return pi;
    }

    /// @dev MIN_BOND; or within the free funds; or above them but within free + pending, where the
    ///      pending withdrawal's timing decides; or anything up to MIN_BOND past all of them.
    function _pickBond(ProverAccount storage a, uint256 r) internal view returns (uint256) {
        uint256 kind = r % 4;
        r >>= 8;
        if (kind == 1 && a.free > MIN_BOND) return MIN_BOND + r % (a.free - MIN_BOND + 1);
        if (kind == 2 && a.pending != 0) {
            uint256 low = a.free + 1 > MIN_BOND ? a.free + 1 : MIN_BOND;
            uint256 high = a.free + a.pending;
            if (high >= low) return low + r % (high - low + 1);
        }
        if (kind == 3) return MIN_BOND + r % (a.free + a.pending + 1);
        return MIN_BOND;
    }

    /// @dev A proof of the epoch to prove from the ghost chain, broken in at most one way; the
    ///      "proof" is always made for the arguments sent (except for a bad proof), so only the
    ///      intended defect can stop it. Modes 5-12: partial epoch, two epochs, wrong prover, another
    ///      epoch, wrong parent, a fee entry missing, a bad proof, wrong end archive.
    function _proofFor(uint256 seed, uint8 mode)
        internal
        view
        returns (EpochProofArgs memory a, string memory what)
    {
        uint256 e = m.pending > m.proven ? m.epochToProve : (_epochNow() == 0 ? 0 : _epochNow() - 1);
        uint256 end = m.pending > m.proven ? _epochEnd(e) : m.proven;
        bool claimed = m.claimed && m.claimEpoch == e;
        a.epoch = Epoch.wrap(e);
        a.prover = claimed ? m.claimProver : provers[(seed >> 8) % N_PROVERS];
        a.previousArchive = archiveOf[m.proven];
        // Two in three proofs are valid (4 < d < 13 breaks one thing).
        uint256 d = mode % 24;
        what = "valid proof";
        if (d == 5 && end > m.proven + 1) {
            end -= 1;
            what = "proof of a partial epoch";
        } else if (d == 6 && m.pending > end) {
            end = m.pending;
            what = "proof of two epochs";
        } else if (d == 7 && claimed) {
            a.prover = provers[(seed >> 8) % N_PROVERS] == m.claimProver
                ? provers[((seed >> 8) + 1) % N_PROVERS]
                : provers[(seed >> 8) % N_PROVERS];
            what = "proof by a prover other than the bond provider";
        } else if (d == 8) {
            a.epoch = Epoch.wrap(e + 1);
            what = "proof for another epoch";
        } else if (d == 9) {
            a.previousArchive = keccak256(abi.encode("not the proven tip", seed));
            what = "proof from the wrong parent";
        }
        a.endBlockNumber = end;
        a.endArchive = archiveOf[end];
        if (d == 12) {
            a.endArchive = keccak256(abi.encode("not the end block", seed));
            what = "proof to the wrong end archive";
        }
        a.fees = _feesOf(m.proven + 1, end);
        if (d == 10 && a.fees.length != 0) {
            FeeRecipient[] memory shorter = new FeeRecipient[](a.fees.length - 1);
            for (uint256 i = 0; i < shorter.length; ++i) {
                shorter[i] = a.fees[i];
            }
            a.fees = shorter;
            what = "proof with one fee entry missing";
        }
        a.proof = _devProof(a);
        if (d == 11) {
            a.proof = abi.encodePacked(keccak256(abi.encode("not a proof", seed)));
            what = "invalid proof";
        }
    }

    function _feesOf(uint256 fromBlock, uint256 toBlock) internal view returns (FeeRecipient[] memory fees) {
        if (toBlock < fromBlock) return new FeeRecipient[](0);
        return _fees(fromBlock, toBlock);
    }

    /// @dev SPEC 5.1's EIP-712 digest, computed here from the domain's parts.
    function _quoteDigest(EpochProofQuote memory q, uint256 chainId, address verifyingContract)
        internal
        pure
        returns (bytes32)
    {
        bytes32 domain = keccak256(
            abi.encode(
                DOMAIN_TYPEHASH, keccak256("Proofline Rollup"), keccak256("1"), chainId, verifyingContract
            )
        );
        bytes32 structHash = keccak256(
            abi.encode(
                QUOTE_TYPEHASH, q.epochToProve, q.validUntilSlot, q.bondAmount, q.prover, q.basisPointFee
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", domain, structHash));
    }

    function _randomIndices(uint256 seed, uint256 n) internal pure returns (uint256[] memory indices) {
        indices = new uint256[](1 + (seed >> 8) % 3);
        for (uint256 i = 0; i < indices.length; ++i) {
            uint256 r = seed >> (16 + 16 * i);
            indices[i] = r % 10 == 0 ? n + (r >> 8) % 3 : (r >> 8) % n;
        }
    }

    function _unpaid(uint256 bits, uint256 n) internal pure returns (uint256[] memory indices) {
        uint256 k = 0;
        indices = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) {
            if (bits & (1 << i) == 0) indices[k++] = i;
        }
        assembly ("memory-safe") {
            mstore(indices, k)
        }
    }

    // ================================================================ steering time

    /// @dev timing 0: now; 1-5: a random slot of the claim window of the epoch to prove; 6: its
    ///      last slot; 7: the first slot past it. Only forward, and only when that slot is ahead.
    function _steerIntoClaimWindow(uint256 seed, uint8 timing) internal {
        timing %= 8;
        if (timing == 0 || m.pending == m.proven) return;
        uint256 e = m.epochToProve;
        uint256 k =
            timing < 6 ? (seed >> 160) % H_CLAIM_WINDOW : (timing == 6 ? H_CLAIM_WINDOW - 1 : H_CLAIM_WINDOW);
        uint256 ts = _slotStart((e + 1) * H_EPOCH + k) + (seed >> 168) % SLOT_DURATION;
        if (ts > _now()) _warpTo(ts);
    }

    /// @dev timing 0: now; 1-4: into the proof window (the claim window when unclaimed); 5: the
    ///      last second before the deadline; 6: the deadline; 7: the first second after the claim
    ///      window; 8: the last second of it.
    function _steerForProof(uint256 seed, uint8 timing) internal {
        timing %= 9;
        if (timing == 0 || m.pending == m.proven) return;
        uint256 e = m.epochToProve;
        uint256 ts;
        if (timing < 5) {
            uint256 span = m.claimed ? H_EPOCH : H_CLAIM_WINDOW;
            ts = _slotStart((e + 1) * H_EPOCH + (seed >> 160) % span) + (seed >> 168) % SLOT_DURATION;
        } else if (timing == 5) {
            ts = _deadline(e) - 1;
        } else if (timing == 6) {
            ts = _deadline(e);
        } else if (timing == 7) {
            ts = _slotStart(_windowEndSlot(e));
        } else {
            ts = _slotStart(_windowEndSlot(e)) - 1;
        }
        if (ts > _now()) _warpTo(ts);
    }

    // ================================================================ bookkeeping of each call

    /// @dev Logs are recorded from here on; each call's are taken (and cleared) right after it.
    function _begin() internal {
        vm.recordLogs();
    }

    /// @dev After every action: the proven tip never moved back, time never went back.
    function _end() internal {
        uint256 proven = rollup.getProvenBlockNumber();
        if (proven < ghost_lastProvenSeen) ghost_provenDecreased++;
        ghost_lastProvenSeen = proven;
        if (_now() < ghost_lastTimestamp) ghost_timeWentBack++;
        ghost_lastTimestamp = _now();
    }

    function _onEvent(Vm.Log memory log) internal {
        bytes32 t0 = log.topics[0];
        if (t0 == IRollup.ProofRightClaimed.selector) {
            uint256 e = uint256(log.topics[1]);
            (uint256 bond, uint256 slot) = abi.decode(log.data, (uint256, uint256));
            ev_claims[e]++;
            ev_claimsTotal++;
            claimedEpochs.push(e);
            claimRecord[e] = ClaimRecord({
                prover: address(uint160(uint256(log.topics[2]))),
                proposer: address(uint160(uint256(log.topics[3]))),
                bond: bond,
                slot: slot,
                time: _now()
            });
            if (ev_claims[e] > 1) _violation("epoch claimed twice");
            if (slot != _slotNow()) _violation("claim event with the wrong slot");
            if (slot < (e + 1) * H_EPOCH || slot >= _windowEndSlot(e)) {
                _violation("claim outside the window");
            }
            if (address(uint160(uint256(log.topics[3]))) != rollup.getCurrentProposer()) {
                _violation("claim by a non-proposer");
            }
            if (bond < MIN_BOND) _violation("claim with a bond below MIN_BOND");
        } else if (t0 == IRollup.L2ProofVerified.selector) {
            uint256 e = uint256(log.topics[1]);
            ev_proofs[e]++;
            ev_proofsTotal++;
            proofTime[e] = _now();
            if (ev_proofs[e] > 1) _violation("epoch proven twice");
            if (_epochNow() != e + 1) _violation("proof outside epoch + 1");
            if (ev_slashes[e] != 0) _violation("proof of an epoch already slashed");
            if (ev_claims[e] != 0) {
                if (address(uint160(uint256(log.topics[2]))) != claimRecord[e].prover) {
                    _violation("proof by someone other than the bond provider");
                }
            } else if (_slotNow() >= _windowEndSlot(e)) {
                _violation("unclaimed epoch proven after its claim window");
            }
        } else if (t0 == IRollup.BondSlashed.selector) {
            uint256 e = uint256(log.topics[1]);
            (uint256 amount, uint256 burned) = abi.decode(log.data, (uint256, uint256));
            ev_slashes[e]++;
            ev_slashesTotal++;
            slashTime[e] = _now();
            if (ev_slashes[e] > 1) _violation("bond slashed twice");
            if (ev_claims[e] != 1) _violation("slash without a claim");
            if (ev_proofs[e] != 0) _violation("slash of a proven epoch");
            if (_now() < _deadline(e)) _violation("slash before the deadline");
            if (
                address(uint160(uint256(log.topics[2]))) != claimRecord[e].prover
                    || amount != claimRecord[e].bond
            ) {
                _violation("slashed another bond than the claim's");
            }
            if (burned != amount * H_SLASH_BURN_BPS / BPS) _violation("burn share != SLASH_BURN_BPS");
        } else if (t0 == IRollup.PrunedPending.selector) {
            ev_prunesTotal++;
            lastPruneTime = _now();
        }
    }

    function _violation(string memory what) internal {
        ghost_eventViolations++;
        ghost_lastEventViolation = what;
    }

    /// @dev Compares an outcome with the prediction; returns whether they agree.
    function _outcome(bytes4 expected, bool ok, bytes memory err, string memory what)
        internal
        returns (bool)
    {
        if (expected == OK) {
            if (ok) return true;
            ghost_unexpectedReverts++;
            ghost_lastUnexpected = err;
            ghost_lastUnexpectedWhere = what;
            return false;
        }
        if (ok) {
            ghost_invalidAccepted++;
            ghost_lastInvalidAccepted = string.concat(what, " (expected ", _errName(expected), ")");
            return false;
        }
        if (bytes4(err) != expected) {
            ghost_invalidWrongReason++;
            ghost_lastWrongReason = err;
            ghost_lastWrongReasonWhere = string.concat(what, " (expected ", _errName(expected), ")");
            return false;
        }
        return true;
    }

    /// @dev One call (pranked by the caller), then the rollup's events it emitted, checked against
    ///      when they happened. Forge records the logs of reverted calls too: those are dropped.
    /// @dev Fuzzed integers are often small or edge values: hash them so every bit range is random.
    function _mix(uint256 seed) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(seed)));
    }

    function _try(address target, bytes memory data) internal returns (bool ok, bytes memory ret) {
        (ok, ret) = target.call(data);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        if (!ok) return (ok, ret);
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].emitter == address(rollup)) _onEvent(logs[i]);
        }
    }

    function _otherThan(address proposer, uint256 seed) internal view returns (address) {
        address[] memory committee = rollup.getCommitteeAt(Epoch.wrap(_epochNow()));
        address other = committee[seed % committee.length];
        if (other == proposer) {
            other = (seed >> 8) % 2 == 0 ? committee[(seed + 1) % committee.length] : address(0xBEEF);
        }
        return other;
    }

    function _warpTo(uint256 ts) internal {
        vm.warp(ts);
    }

    function _now() internal view returns (uint256) {
        return vm.getBlockTimestamp();
    }

    function _slotNow() internal view returns (uint256) {
        return (_now() - genesis) / SLOT_DURATION;
    }

    function _epochNow() internal view returns (uint256) {
        return _slotNow() / H_EPOCH;
    }

    function _slotStart(uint256 slot) internal view returns (uint256) {
        return genesis + slot * SLOT_DURATION;
    }

    /// @dev First slot after epoch `e`'s claim window: slot C of epoch e + 1.
    function _windowEndSlot(uint256 e) internal pure returns (uint256) {
        return (e + 1) * H_EPOCH + H_CLAIM_WINDOW;
    }

    /// @dev The proof deadline of epoch `e`: the first second of epoch e + 2.
    function _deadline(uint256 e) internal view returns (uint256) {
        return _epochStartTs(e + 2);
    }

    function _epochStartTs(uint256 e) internal view returns (uint256) {
        return _slotStart(e * H_EPOCH);
    }

    // ================================================================ views for the invariants

    function getRollup() external view returns (Rollup) {
        return rollup;
    }

    function getEscrow() external view returns (ProverEscrow) {
        return escrow;
    }

    function getBondToken() external view returns (DevToken) {
        return bondAsset;
    }

    function getRewardToken() external view returns (DevToken) {
        return rewardAsset;
    }

    function getSlashRecipient() external view returns (address) {
        return slashRecipient;
    }

    function model() external view returns (Model memory) {
        return m;
    }

    function modelPruneDue() external view returns (bool) {
        return _pruneDue(m);
    }

    function modelEpochEnd() external view returns (uint256) {
        return _epochEnd(m.epochToProve);
    }

    function deadline(uint256 e) external view returns (uint256) {
        return _deadline(e);
    }

    function proverCount() external pure returns (uint256) {
        return N_PROVERS;
    }

    function rewardeeCount() external view returns (uint256) {
        return rewardees.length;
    }

    function provenEpochCount() external view returns (uint256) {
        return provenEpochs.length;
    }

    function claimedEpochCount() external view returns (uint256) {
        return claimedEpochs.length;
    }

    function provenFeesHash(uint256 e) external view returns (bytes32) {
        ProvenEpoch storage pe = provenEpoch[e];
        return keccak256(abi.encode(_feesOf(pe.firstBlock, pe.lastBlock)));
    }

    /// @notice Names and values of the coverage counters, in a fixed order.
    function coverage() external view returns (string[] memory keys, uint256[] memory values) {
        string[11] memory claimErrs = [
            "ok",
            "NoEpochToProve",
            "NotInClaimPhase",
            "InvalidProposer",
            "InvalidQuoteSignature",
            "NotClaimingCorrectEpoch",
            "QuoteExpired",
            "InvalidBasisPointFee",
            "InsufficientBondAmount",
            "ProofRightAlreadyClaimed",
            "InsufficientEscrowBalance"
        ];
        string[12] memory proofErrs = [
            "ok",
            "NoEpochToProve",
            "NotEpochToProve",
            "EpochNotEnded",
            "ProofDeadlinePassed",
            "UnclaimedPastClaimWindow",
            "InvalidProver",
            "InvalidEpochEnd",
            "InvalidPreviousArchive",
            "InvalidEndArchive",
            "InvalidFeesLength",
            "InvalidProof"
        ];
        string[5] memory rewardErrs =
            ["ok", "EpochNotProven", "InvalidFees", "BlockIndexOutOfRange", "RewardAlreadyClaimed"];
        string[9] memory plain = [
            "blocks",
            "proposeAndClaim",
            "prune()",
            "deposit",
            "startWithdraw",
            "executeWithdraw",
            "withdrawRewards",
            "claim: bond needs pending funds",
            "claim: ... withdrawable at deadline"
        ];
        keys = new string[](4 + plain.length + claimErrs.length + proofErrs.length + rewardErrs.length);
        values = new uint256[](keys.length);
        (keys[0], values[0]) = ("events: ProofRightClaimed", ev_claimsTotal);
        (keys[1], values[1]) = ("events: L2ProofVerified", ev_proofsTotal);
        (keys[2], values[2]) = ("events: BondSlashed", ev_slashesTotal);
        (keys[3], values[3]) = ("events: PrunedPending", ev_prunesTotal);
        uint256 k = 4;
        for (uint256 i = 0; i < plain.length; ++i) {
            keys[k++] = plain[i];
        }
        for (uint256 i = 0; i < claimErrs.length; ++i) {
            keys[k++] = string.concat("claim: ", claimErrs[i]);
        }
        for (uint256 i = 0; i < proofErrs.length; ++i) {
            keys[k++] = string.concat("proof: ", proofErrs[i]);
        }
        for (uint256 i = 0; i < rewardErrs.length; ++i) {
            keys[k++] = string.concat("blockRewards: ", rewardErrs[i]);
        }
        for (uint256 i = 4; i < keys.length; ++i) {
            values[i] = tally[keys[i]];
        }
    }

    function _errName(bytes4 sel) internal pure returns (string memory) {
        if (sel == OK) return "ok";
        if (sel == Errors.Rollup__NoEpochToProve.selector) return "NoEpochToProve";
        if (sel == Errors.Rollup__NotInClaimPhase.selector) return "NotInClaimPhase";
        if (sel == Errors.Rollup__InvalidProposer.selector) return "InvalidProposer";
        if (sel == Errors.Rollup__InvalidQuoteSignature.selector) return "InvalidQuoteSignature";
        if (sel == Errors.Rollup__NotClaimingCorrectEpoch.selector) return "NotClaimingCorrectEpoch";
        if (sel == Errors.Rollup__QuoteExpired.selector) return "QuoteExpired";
        if (sel == Errors.Rollup__InvalidBasisPointFee.selector) return "InvalidBasisPointFee";
        if (sel == Errors.Rollup__InsufficientBondAmount.selector) return "InsufficientBondAmount";
        if (sel == Errors.Rollup__ProofRightAlreadyClaimed.selector) return "ProofRightAlreadyClaimed";
        if (sel == Errors.Rollup__InsufficientEscrowBalance.selector) return "InsufficientEscrowBalance";
        if (sel == Errors.Rollup__NotEpochToProve.selector) return "NotEpochToProve";
        if (sel == Errors.Rollup__EpochNotEnded.selector) return "EpochNotEnded";
        if (sel == Errors.Rollup__ProofDeadlinePassed.selector) return "ProofDeadlinePassed";
        if (sel == Errors.Rollup__UnclaimedPastClaimWindow.selector) return "UnclaimedPastClaimWindow";
        if (sel == Errors.Rollup__InvalidProver.selector) return "InvalidProver";
        if (sel == Errors.Rollup__InvalidEpochEnd.selector) return "InvalidEpochEnd";
        if (sel == Errors.Rollup__InvalidPreviousArchive.selector) return "InvalidPreviousArchive";
        if (sel == Errors.Rollup__InvalidEndArchive.selector) return "InvalidEndArchive";
        if (sel == Errors.Rollup__InvalidFeesLength.selector) return "InvalidFeesLength";
        if (sel == Errors.Rollup__InvalidProof.selector) return "InvalidProof";
        if (sel == Errors.Rollup__NothingToPrune.selector) return "NothingToPrune";
        if (sel == Errors.Rollup__EpochNotProven.selector) return "EpochNotProven";
        if (sel == Errors.Rollup__InvalidFees.selector) return "InvalidFees";
        if (sel == Errors.Rollup__BlockIndexOutOfRange.selector) return "BlockIndexOutOfRange";
        if (sel == Errors.Rollup__RewardAlreadyClaimed.selector) return "RewardAlreadyClaimed";
        if (sel == Errors.Rollup__NoRewards.selector) return "NoRewards";
        if (sel == Errors.Escrow__ZeroAmount.selector) return "Escrow__ZeroAmount";
        if (sel == Errors.Escrow__InsufficientFreeBalance.selector) return "Escrow__InsufficientFreeBalance";
        if (sel == Errors.Escrow__NoPendingWithdrawal.selector) return "Escrow__NoPendingWithdrawal";
        if (sel == Errors.Escrow__WithdrawNotReady.selector) return "Escrow__WithdrawNotReady";
        if (sel == Errors.Escrow__NotRollup.selector) return "Escrow__NotRollup";
        return vm.toString(abi.encodePacked(sel));
    }
}
