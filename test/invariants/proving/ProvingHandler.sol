// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Vm} from "forge-std/Vm.sol";
import {console} from "forge-std/console.sol";

import {ProverEscrow} from "../../../contracts/core/ProverEscrow.sol";
import {Rollup} from "../../../contracts/core/Rollup.sol";
import {DevToken} from "../../../contracts/dev/DevToken.sol";
import {
    DEPOSIT_TAG,
    IForcedInclusionQueue,
    NO_DUE_EPOCH
} from "../../../contracts/interfaces/IForcedInclusionQueue.sol";
import {IProverEscrow} from "../../../contracts/interfaces/IProverEscrow.sol";
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
import {Epoch, Slot} from "../../../contracts/libraries/TimeLib.sol";
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
///      Forced inclusion (SPEC 7) and based fallback (SPEC 6) are modelled too: users queue forced
///      txs, every block carries a forced-tx count of the proposer's choice (valid ones follow the
///      rule, `proposeForced` breaks it on purpose), and the ghost FIFO records the queue head after
///      every block, so a prune must give back exactly what the blocks above the proven tip took.
///      Deployed with `shortFallback`, FALLBACK_ENTER is 2 epochs + 1 slot (else far off, as in RollupBase):
///      the model then follows SPEC 6's clock, and anyone may `proposeWithProof` in fallback.
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
    /// @dev A pool of less than a full epoch's rewards (8 blocks x 10 + 1), so that proofs drain
    ///      it and pay pro rata (`fundRewards` tops it up a little at a time), and a few epochs'
    ///      fees backed at deploy (`depositFee` adds more through the queue).
    uint256 public constant REWARD_FUNDING = 50 ether;
    uint256 public constant FEE_BACKING = 60 ether;
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
    /// @dev The proposal's EIP-712 type (ProposalLib), restated: the fallback proof binds its digest.
    bytes32 internal constant PROPOSAL_TYPEHASH = keccak256(
        "Proposal(uint256 slot,uint256 blockNumber,bytes32 previousArchive,bytes32 archive,bytes32 stateRoot,bytes32 blobsHash,uint256 txCount,uint256 forcedTxCount,bytes32 forcedTxsHash)"
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
        uint256 cap; // what the proof took from the pool and the fee deposits
        uint256 perBlock; // BLOCK_REWARD, or its pro-rata part if the pool ran short
    }

    mapping(uint256 epoch => ProvenEpoch) public provenEpoch;
    uint256[] public provenEpochs;
    mapping(address => uint256) public ghost_booked;
    mapping(address => bool) internal isRewardee;
    mapping(address => uint256) public ghost_rewardsWithdrawn;
    uint256 public ghost_totalRewardsWithdrawn;
    uint256 public ghost_rewardPayMismatch; // withdrawRewards paid other than what was booked
    /// @dev The Rollup's books (RewardLib) as the model keeps them: the reward pool, the fee
    ///      deposits not yet paid out, and every reward token that came in.
    uint256 public ghost_rewardPool;
    uint256 public ghost_feePot;
    uint256 public ghost_rewardTokensIn;

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

    // ---------------------------------------------------------------- model: forced inclusion

    /// @dev The ghost FIFO: every entry ever queued, in queue order, with its due epoch.
    struct QEntry {
        bytes32 txHash;
        uint256 due;
    }

    QEntry[] internal qEntries;
    /// @dev Queue head after the pending tip (entries below it are in blocks of the pending chain).
    uint256 public qHead;
    /// @dev Queue head after block n, the entries block n took and their hash, for n <= pending.
    mapping(uint256 blockNumber => uint256) public headAfter;
    mapping(uint256 blockNumber => uint256) public forcedOf;
    mapping(uint256 blockNumber => bytes32) public forcedHashOf;
    address[] public users;
    /// @dev Queue head as the queue's events of the call in flight move it (ForcedTxsConsumed,
    ///      ForcedTxsRequeued), starting from the model's head.
    uint256 internal evQueueHead;
    uint256 public ghost_dueSkipped; // an accepted block with non-forced txs left a due entry queued

    // ---------------------------------------------------------------- model: based fallback

    uint256 public immutable FB_ENTER; // slots
    uint256 public immutable FB_ACTIVITY;
    uint256 public immutable FB_TOTAL;
    /// @dev SPEC 6's clock: the slot of the last proven progress outside fallback (an epoch proof;
    ///      the deployment at first). The fallback with recorded activity (`fbActStart`) ends
    ///      FB_ACTIVITY after its last activity (`fbActLast`: a fallback block, or an epoch proof
    ///      accepted in it); any other after its first slots.
    uint256 public fbAnchor;
    uint256 public fbActStart;
    uint256 public fbActLast;
    /// @dev The rollup's tip slot as SPEC 4 uses it (a block must come after it; 0 after a prune).
    uint256 public tipSlot;
    bool public verifierAccepting = true;
    uint256 internal refusingFor; // actions left before the verifier accepts again
    /// @dev Set by a call whose proof the handler built from the exact public inputs, accepted by
    ///      the verifier: the only calls allowed to move the proven tip.
    bool internal provenAdvanceAllowed;
    uint256 public ghost_unprovenAdvance; // the proven tip moved without such a call
    /// @dev Claims a fallback block dropped (released, neither proven nor slashed), by epoch.
    mapping(uint256 epoch => uint256) public releasedClaims;
    /// @dev A valid proof of this (claimed) epoch, in its window, was refused: SPEC 5.4 accepts it
    ///      whatever the mode, so its bond must never be slashed.
    mapping(uint256 epoch => bool) public validProofRefused;
    uint256 public ghost_slashAfterRefusal; // a bond slashed although a valid proof of it was refused
    uint256 public ev_fallbackBlocks;

    constructor(bool shortFallback) {
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
        if (shortFallback) {
            // The shortest the Rollup accepts (two epochs and a slot: it must exceed the two epochs
            // unproven blocks live), so fallback meets claims, proofs and prunes as often as it can;
            // it then lasts one epoch without a fallback block, two at most.
            cfg.fallbackEnter = 2 * H_EPOCH + 1;
            cfg.fallbackExitActivity = H_EPOCH;
            cfg.fallbackExitTotal = 2 * H_EPOCH;
        }
        FB_ENTER = cfg.fallbackEnter;
        FB_ACTIVITY = cfg.fallbackExitActivity;
        FB_TOTAL = cfg.fallbackExitTotal;
        // The escrow is bound to the rollup's address before the rollup exists (RollupBase does the
        // same with its own escrow delay).
        address predicted = _predictRollup();
        escrow = new ProverEscrow(bondAsset, predicted, H_ESCROW_DELAY);
        cfg.escrow = address(escrow);
        queue = _deployQueue(cfg, predicted);
        cfg.forcedInclusionQueue = address(queue);
        rollup = new Rollup(cfg);
        require(address(rollup) == predicted, "rollup address");
        _fundRewards(REWARD_FUNDING);
        _backFees(FEE_BACKING);
        ghost_rewardPool = REWARD_FUNDING;
        ghost_feePot = FEE_BACKING;
        ghost_rewardTokensIn = REWARD_FUNDING + FEE_BACKING;

        // Staked in epoch 0: the set of epoch 2 on. The runs start there, so every slot has a
        // proposer and a claim by anyone else can be refused.
        _stakeValidators(H_VALIDATORS);
        for (uint256 i = 0; i < N_PROVERS; ++i) {
            (address p, uint256 pk) = makeAddrAndKey(string.concat("prover", vm.toString(i)));
            provers.push(p);
            proverKeys.push(pk);
            rewardees.push(p);
            isRewardee[p] = true;
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
            isRewardee[s] = true;
        }
        for (uint256 i = 0; i < 3; ++i) {
            address c = makeAddr(string.concat("coinbase", vm.toString(i)));
            coinbases.push(c);
            rewardees.push(c);
            isRewardee[c] = true;
        }
        for (uint256 i = 0; i < 3; ++i) {
            address u = makeAddr(string.concat("user", vm.toString(i)));
            users.push(u);
            vm.deal(u, 1000 ether);
        }
        vm.deal(address(this), 1000 ether);
        // A nonzero base fee, so the enqueue fee is not zero and underpaying it can be tried.
        vm.fee(1 gwei);
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
        address proposer = _currentProposer();
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
        // In fallback both refuse first (after the prune, which the revert undoes).
        bytes4 expected = _fallbackActiveNow() ? Errors.Rollup__InFallback.selector : OK;
        ProposeArgs memory args;
        CommitteeAttestations memory att;
        if (viaPropose) {
            (args, att) = _proposal(due ? m.proven : m.pending, seed);
            if (mm.pending == mm.proven) mm.epochToProve = _epochNow();
            mm.pending++;
            if (expected == OK && sender != proposer) expected = Errors.Rollup__InvalidProposer.selector;
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
                _applyPropose(args, seed);
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
        bool inFallback = _fallbackActiveNow();
        bool claimed = m.claimed && m.claimEpoch == m.epochToProve;
        vm.prank(submitter_);
        (bool ok, bytes memory err) = _try(address(rollup), abi.encodeCall(rollup.submitEpochRootProof, (a)));
        // Kept apart from the prediction: a slash of this epoch would now punish an honest prover.
        if (expected == OK && !ok && claimed) validProofRefused[m.claimEpoch] = true;
        if (_outcome(expected, ok, err, what) && ok) {
            if (inFallback) {
                tally["fallback: epoch proof accepted in fallback"]++;
                if (claimed) tally["fallback: claimed epoch proven in fallback"]++;
            }
            _applyProof(a, submitter_);
        }
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
                _book(f.recipient, (pe.perBlock + f.value) * (BPS - pe.bps) / BPS, e);
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

    // ================================================================ forced inclusion

    /// @notice Anyone adds to the reward pool (the only source of block and submitter rewards).
    function fundRewards(uint256 amount) external {
        _begin();
        amount = _bound(amount, 1, 40 ether);
        rewardAsset.mint(address(this), amount);
        rewardAsset.approve(address(rollup), amount);
        (bool ok, bytes memory err) = _try(address(rollup), abi.encodeCall(rollup.fundRewards, (amount)));
        if (_outcome(OK, ok, err, "fundRewards") && ok) {
            ghost_rewardPool += amount;
            ghost_rewardTokensIn += amount;
            tally["fundRewards"]++;
        }
        _end();
    }

    /// @notice A user deposits fee tokens for an L2 account through the queue: an entry like a
    ///         forced tx (blocks take it in order), and fees the Rollup may pay out later.
    function depositFee(uint256 seed, uint256 amount) external {
        _begin();
        seed = _mix(seed);
        amount = _bound(amount, 1, 100 ether);
        address user = users[seed % users.length];
        address recipient = address(uint160(uint256(keccak256(abi.encode("l2 account", seed % 5)))));
        rewardAsset.mint(user, amount);
        vm.prank(user);
        rewardAsset.approve(address(queue), amount);
        uint256 fee = queue.enqueueFee(queue.DEPOSIT_LENGTH());
        vm.prank(user);
        (bool ok, bytes memory ret) =
            _tryValue(address(queue), fee, abi.encodeCall(queue.depositFee, (recipient, amount)));
        if (_outcome(OK, ok, ret, "depositFee") && ok) {
            if (abi.decode(ret, (uint256)) != qEntries.length) _violation("depositFee: index != ghost tail");
            bytes memory data = abi.encodePacked(DEPOSIT_TAG, recipient, uint128(amount));
            qEntries.push(QEntry({txHash: keccak256(data), due: _epochNow() + FORCED_DELAY}));
            ghost_feePot += amount;
            ghost_rewardTokensIn += amount;
            tally["depositFee"]++;
        }
        _end();
    }

    /// @notice A user queues a forced tx of 1-300 bytes, paying the fee (sometimes more); or an
    ///         empty tx, a bad client proof, or less than the fee, which are refused.
    function enqueue(uint256 seed, uint256 len, uint8 mode) external {
        _begin();
        seed = _mix(seed);
        mode %= 10;
        bytes memory txData = mode == 0 ? new bytes(0) : _txBytes(seed, _bound(len, 1, 300));
        (bytes memory proof, uint256 pay, bytes4 expected) = _enqueueTerms(txData, seed, mode);
        vm.prank(users[seed % users.length]);
        (bool ok, bytes memory ret) =
            _tryValue(address(queue), pay, abi.encodeCall(queue.enqueue, (txData, proof)));
        if (_outcome(expected, ok, ret, "enqueue") && ok) {
            if (abi.decode(ret, (uint256)) != qEntries.length) _violation("enqueue: index != ghost tail");
            qEntries.push(QEntry({txHash: keccak256(txData), due: _epochNow() + FORCED_DELAY}));
        }
        tally[string.concat("enqueue: ", _errName(expected))]++;
        _end();
    }

    /// @dev The client proof (mode 1: a bad one), the payment (the fee, sometimes more; mode 2: less)
    ///      and the outcome the queue's checks give, in its order: empty tx, fee, proof.
    function _enqueueTerms(bytes memory txData, uint256 seed, uint8 mode)
        internal
        view
        returns (bytes memory proof, uint256 pay, bytes4 expected)
    {
        proof = abi.encodePacked(keccak256(txData));
        if (mode == 1) proof = abi.encodePacked(keccak256(abi.encode("not a proof", seed)));
        uint256 fee = queue.enqueueFee(txData.length);
        pay = fee + ((seed >> 8) % 4 == 0 ? (seed >> 16) % 1 gwei : 0);
        if (mode == 2 && fee != 0) pay = (seed >> 16) % fee;
        expected = OK;
        if (txData.length == 0) expected = Errors.Queue__EmptyTx.selector;
        else if (txData[0] == DEPOSIT_TAG) expected = Errors.Queue__DepositTagReserved.selector;
        else if (pay < fee) expected = Errors.Queue__FeeTooLow.selector;
        else if (mode == 1) expected = Errors.Queue__InvalidTxProof.selector;
    }

    /// @notice The slot's proposer proposes one block (quorum, fresh slot) whose forced txs are
    ///         chosen at random: valid, or breaking SPEC 7 in one way (`_forcedChoice`).
    function proposeForced(uint256 seed, uint8 mode, uint8 gap) external {
        _begin();
        seed = _mix(seed);
        gap %= 3;
        if (gap != 0) _warpTo(_slotStart(_slotNow() + gap) + seed % SLOT_DURATION);
        if (_slotNow() <= lastProposedSlot) {
            _warpTo(_slotStart(lastProposedSlot + 1) + (seed >> 8) % SLOT_DURATION);
        }
        bool due = _pruneDue(m);
        (ProposeArgs memory args, CommitteeAttestations memory att, bytes4 expected, string memory what) =
            _forcedProposal(due ? m.proven : m.pending, seed, mode);
        address proposer = _currentProposer();
        vm.prank(proposer);
        (bool ok, bytes memory err) = _try(address(rollup), abi.encodeCall(rollup.propose, (args, att)));
        if (_outcome(expected, ok, err, string.concat("propose with ", what)) && ok) {
            if (due) _applyPrune();
            _applyPropose(args, seed);
        }
        tally[string.concat("proposeForced: ", _errName(expected))]++;
        _end();
    }

    function _forcedProposal(uint256 base, uint256 seed, uint8 mode)
        internal
        returns (
            ProposeArgs memory args,
            CommitteeAttestations memory att,
            bytes4 expected,
            string memory what
        )
    {
        uint256 fh = headAfter[base];
        uint256 txCount;
        uint256 k;
        bytes32 h;
        (txCount, k, h, what) = _forcedChoice(fh, seed >> 16, mode);
        (args, att) = _proposalWith(base, seed, txCount, k, h);
        expected =
            _fallbackActiveNow() ? Errors.Rollup__InFallback.selector : _predictForced(fh, txCount, k, h);
    }

    // ================================================================ based fallback

    /// @notice Anyone proposes a block with its proof (SPEC 6), sometimes after moving into (or to
    ///         the edge of) fallback: valid, or with a bad proof (garbage, another proposer's, another
    ///         block's), a slot outside [fallback start, now] or not after the tip's, a forced-tx
    ///         choice breaking SPEC 7, built on the unproven tip, or on the wrong archive.
    function proposeWithProof(uint256 seed, uint8 mode, uint8 timing) external {
        _begin();
        seed = _mix(seed);
        _steerIntoFallback(seed, timing);
        {
            // A slot after the tip's must exist: move to it when the tip is in the current slot.
            (bool a0, uint256 s0,) = _fallbackNow();
            uint256 lo0 = m.pending != m.proven ? s0 : _max(s0, tipSlot + 1);
            if (a0 && lo0 > _slotNow()) _warpTo(_slotStart(lo0) + seed % SLOT_DURATION);
        }
        FallbackCall memory c;
        (c.active, c.start,) = _fallbackNow();
        c.now_ = _slotNow();
        c.lateDue = _pruneDue(m);
        // In fallback the call prunes whatever is unproven: the block builds on the proven tip.
        c.tipAfter = m.pending != m.proven ? 0 : tipSlot;
        c.fh = headAfter[m.proven];
        c.sender = users[(seed >> 48) % users.length];
        c.proofValid = true;
        c.what = "valid fallback block";
        ProposeArgs memory args = _fallbackArgs(c, seed, mode % 12);
        bytes memory proof = _fallbackProofFor(c, args, seed, mode % 12);
        bytes4 expected = _predictFallbackBlock(c, args);
        vm.prank(c.sender);
        (bool ok, bytes memory err) =
            _try(address(rollup), abi.encodeCall(rollup.proposeWithProof, (args, proof)));
        if (_outcome(expected, ok, err, string.concat("proposeWithProof: ", c.what)) && ok) {
            if (c.lateDue) _applyPrune();
            if (m.pending != m.proven) _applyRelease();
            _applyFallbackBlock(args, c.start);
        }
        tally[string.concat("proposeWithProof: ", _errName(expected))]++;
        if (!verifierAccepting) tally["fallback: proposeWithProof while the verifier refuses"]++;
        _end();
    }

    /// @dev What proposeWithProof's prediction needs, as the call will see it.
    struct FallbackCall {
        bool active;
        uint256 start;
        uint256 now_;
        bool lateDue;
        uint256 tipAfter;
        uint256 fh;
        address sender;
        bool proofValid;
        string what;
    }

    /// @dev The block: valid (modes 0-5), or with a slot outside [start, now] (6), a slot not after
    ///      the tip's (7), a forced-tx choice breaking SPEC 7 (8), built on the unproven pending
    ///      tip or on a wrong archive (9). Modes 10-11: valid.
    function _fallbackArgs(FallbackCall memory c, uint256 seed, uint256 mode)
        internal
        returns (ProposeArgs memory args)
    {
        uint256 lo = _max(c.start, c.tipAfter + 1);
        uint256 slot = lo <= c.now_ ? lo + (seed >> 8) % (c.now_ - lo + 1) : c.now_;
        uint256 txCount;
        uint256 k;
        bytes32 h;
        if (mode == 8) {
            (txCount, k, h, c.what) = _forcedChoice(c.fh, seed >> 16, uint8(2 + (seed >> 24) % 6));
        } else {
            (txCount, k) = _validForced(c.fh, seed >> 16);
            h = _rangeHash(c.fh, k);
        }
        if (mode == 6) {
            slot = (seed >> 32) % 2 == 0 ? c.start - 1 : c.now_ + 1 + (seed >> 40) % 3;
            c.what = "slot outside [fallback start, now]";
        } else if (mode == 7 && m.pending == m.proven && m.proven != 0 && tipSlot >= c.start) {
            slot = tipSlot - (seed >> 40) % (tipSlot - c.start + 1);
            c.what = "slot not after the tip's";
        }
        uint256 base = m.proven;
        if (mode == 9 && m.pending != m.proven) {
            base = m.pending;
            c.what = "built on the unproven pending tip";
        }
        args = _blockArgs(base, seed, txCount, k, h, slot);
        if (mode == 9 && base == m.proven) {
            args.previousArchive = keccak256(abi.encode("not the tip", seed));
            c.what = "wrong previous archive";
        }
    }

    /// @dev The block's proof, or (mode 5) a bad one: garbage, another proposer's (a copied proof
    ///      does not let anyone else land the block), or the proof of another block.
    function _fallbackProofFor(FallbackCall memory c, ProposeArgs memory args, uint256 seed, uint256 mode)
        internal
        returns (bytes memory)
    {
        if (mode != 5) return _fallbackProof(args, c.sender);
        c.proofValid = false;
        uint256 kind = (seed >> 56) % 3;
        if (kind == 0) {
            c.what = "garbage proof";
            return abi.encodePacked(keccak256(abi.encode("not a proof", seed)));
        }
        if (kind == 1) {
            c.what = "another proposer's proof";
            address other = users[((seed >> 48) + 1) % users.length];
            return _fallbackProof(args, other);
        }
        c.what = "the proof of another block";
        ProposeArgs memory another = _copyArgs(args);
        another.stateRoot = ~args.stateRoot;
        return _fallbackProof(another, c.sender);
    }

    /// @notice The verifier's owner makes it refuse every proof for the next 1-4 actions (then the
    ///         handler turns it back on), so fallback blocks and epoch proofs are tried against it.
    function setVerifierAccepting(uint8 seed) external {
        _begin();
        verifier.setAccepting(false);
        verifierAccepting = false;
        refusingFor = 1 + seed % 4;
        _end();
    }

    /// @notice Time passes without proofs: to the first slot of the (next) fallback or the second
    ///         before it, to its end or the second before, or a long while on.
    function warpFallback(uint8 kind, uint256 amount) external {
        _begin();
        (, uint256 start, uint256 end) = _fallbackNow();
        uint256 now_ = _now();
        uint256 to;
        kind %= 6;
        if (kind == 0) to = _slotStart(start);
        else if (kind == 1) to = _slotStart(start) - 1;
        else if (kind == 2) to = _slotStart(end);
        else if (kind == 3) to = _slotStart(end) - 1;
        else if (kind == 4) to = now_ + (FB_ENTER + amount % FB_ENTER) * SLOT_DURATION;
        else to = now_ + _bound(amount, 1, H_EPOCH * SLOT_DURATION);
        if (to <= now_) to = now_ + 1;
        _warpTo(to);
        _end();
    }

    /// @notice Anyone records fallback entering or leaving (never refused).
    function syncFallback() external {
        _begin();
        (bool ok, bytes memory err) = _try(address(rollup), abi.encodeCall(rollup.syncFallback, ()));
        _outcome(OK, ok, err, "syncFallback");
        _end();
    }

    /// @dev Rollup.proposeWithProof's checks in order, after its prunes (undone if it reverts).
    function _predictFallbackBlock(FallbackCall memory c, ProposeArgs memory args)
        internal
        view
        returns (bytes4)
    {
        if (!c.active) return Errors.Rollup__NotInFallback.selector;
        uint256 slot = Slot.unwrap(args.slot);
        if (slot < c.start || slot > c.now_) return Errors.Rollup__FallbackSlotOutOfRange.selector;
        if (m.proven != 0 && c.tipAfter >= slot) return Errors.Rollup__SlotAlreadyUsed.selector;
        if (args.blockNumber != m.proven + 1) return Errors.Rollup__InvalidBlockNumber.selector;
        if (args.previousArchive != archiveOf[m.proven]) return Errors.Rollup__InvalidArchive.selector;
        bytes4 forced = _predictForced(c.fh, args.txCount, args.forcedTxCount, args.forcedTxsHash);
        if (forced != OK) return forced;
        if (!c.proofValid || !verifierAccepting) return Errors.Rollup__InvalidProof.selector;
        return OK;
    }

    function _copyArgs(ProposeArgs memory a) internal pure returns (ProposeArgs memory) {
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
        // Fallback does not close the proof window (SPEC 5.4 holds in either mode).
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
        if (keccak256(a.proof) != keccak256(_devProof(a)) || !verifierAccepting) {
            return Errors.Rollup__InvalidProof.selector;
        }
        // F-03: the fees are paid out of fee deposits only; a proof declaring more is refused.
        if (_feeSum(a.fees) > ghost_feePot) return Errors.Rollup__FeesExceedDeposits.selector;
        return OK;
    }

    function _feeSum(FeeRecipient[] memory fees) internal pure returns (uint256 sum) {
        for (uint256 i = 0; i < fees.length; ++i) {
            sum += fees[i].value;
        }
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
        _requeue();
        ghost_prunesExpected++;
    }

    /// @dev A fallback block drops the committee's unproven blocks: their proof is not late, so a
    ///      claim on them is released (its bond back to free funds), not slashed.
    function _applyRelease() internal {
        if (m.claimed) {
            ProverAccount storage a = acct[m.claimProver];
            a.staked -= m.claimBond;
            a.free += m.claimBond;
            releasedClaims[m.claimEpoch]++;
            tally["fallback: claim released"]++;
        }
        m.claimed = false;
        m.pending = m.proven;
        _requeue();
        ghost_prunesExpected++;
        tally["fallback: committee blocks dropped"]++;
    }

    /// @dev SPEC 7 on a prune: the entries the dropped blocks took are queued again, in place.
    function _requeue() internal {
        if (qHead != headAfter[m.proven]) tally["forced: entries requeued by a prune"]++;
        qHead = headAfter[m.proven];
        tipSlot = 0;
    }

    function _applyPropose(ProposeArgs memory args, uint256 seed) internal {
        uint256 slot = _slotNow();
        if (m.pending == m.proven) m.epochToProve = slot / H_EPOCH;
        uint256 n = ++m.pending;
        blockSlot[n] = slot;
        archiveOf[n] = args.archive;
        // Fees are declared numbers: mostly small, sometimes zero, sometimes anything at all (a
        // proof that declares more than the fee deposits back must be refused, F-03).
        uint256 r = (seed >> 40) % 16;
        feeOf[n] = FeeRecipient({
            recipient: coinbases[(seed >> 32) % coinbases.length],
            value: r < 4 ? 0 : r == 15 ? (seed >> 48) % 1e30 : (seed >> 48) % MAX_FEE
        });
        lastProposedSlot = slot;
        tipSlot = slot;
        _applyForced(n, args);
        tally["blocks"]++;
    }

    /// @dev Block n took the queue's next `forcedTxCount` entries (the handler built their hash from
    ///      the ghost FIFO, and the rollup accepted it, so the queue held the same ones).
    function _applyForced(uint256 n, ProposeArgs memory args) internal {
        uint256 k = args.forcedTxCount;
        if (headAfter[n - 1] != qHead) _violation("model: the queue head is not the parent's");
        forcedOf[n] = k;
        forcedHashOf[n] = args.forcedTxsHash;
        bool wasDue = _headDue(qHead);
        qHead += k;
        headAfter[n] = qHead;
        // SPEC 7: a block may carry non-forced txs only if it carries every due entry.
        if (args.txCount > k && _headDue(qHead)) ghost_dueSkipped++;
        if (k != 0) {
            tally["forced: blocks with forced txs"]++;
            tally["forced: txs included"] += k;
            if (!wasDue) tally["forced: included early (none due)"]++;
        }
        if (args.txCount == k && k != 0 && _headDue(qHead)) tally["forced: partial, due entries left"]++;
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
        // Coverage: the next fallback, if nobody proves first, begins before the proof deadline;
        // the proof must still be accepted there.
        (, uint256 fbStart,) = _fallbackNow();
        if (fbStart < (m.epochToProve + 2) * H_EPOCH) {
            tally["fallback: claim whose proof window fallback overlaps"]++;
        }
    }

    /// @dev The economics of docs/proving.md: block and submitter rewards from the pool (pro rata
    ///      when it cannot pay them all), fees from the fee deposits; the prover takes its share of
    ///      the epoch's total and the submitter reward (to the prover the proof binds, whoever
    ///      sent it: F-07).
    function _applyProof(EpochProofArgs memory a, address) internal {
        uint256 e = m.epochToProve;
        uint256 end = a.endBlockNumber;
        bool claimed = m.claimed && m.claimEpoch == e;
        uint256 blocks = end - m.proven;
        uint256 feeSum = _feeSum(a.fees);
        uint256 wanted = blocks * BLOCK_REWARD + SUBMITTER_REWARD;
        uint256 rewardBps = wanted <= ghost_rewardPool ? BPS : ghost_rewardPool * BPS / wanted;
        uint256 perBlock = BLOCK_REWARD * rewardBps / BPS;
        uint256 toSubmitter = SUBMITTER_REWARD * rewardBps / BPS;
        if (rewardBps < BPS) tally["rewards: pool short, paid pro rata"]++;
        ghost_rewardPool -= blocks * perBlock + toSubmitter;
        ghost_feePot -= feeSum;
        uint256 total = blocks * perBlock + feeSum;
        provenEpoch[e] = ProvenEpoch({
            firstBlock: m.proven + 1,
            lastBlock: end,
            bps: claimed ? m.claimBps : 0,
            paidBits: 0,
            booked: 0,
            cap: total + toSubmitter,
            perBlock: perBlock
        });
        provenEpochs.push(e);
        if (claimed) {
            ProverAccount storage acc = acct[m.claimProver];
            acc.staked -= m.claimBond;
            acc.free += m.claimBond;
            m.claimed = false;
        }
        _book(a.prover, total * (claimed ? m.claimBps : 0) / BPS + toSubmitter, e);
        m.proven = end;
        if (m.pending > end) m.epochToProve = blockSlot[end + 1] / H_EPOCH;
        ghost_proofsExpected++;
        (bool active, uint256 start,) = _fallbackNow();
        if (active) {
            // SPEC 6: in fallback, advancing the proven chain is fallback activity (the period ends
            // FB_ACTIVITY after it, FB_TOTAL after its start at the latest); the clock restarts at
            // the period's end, as after a fallback block.
            fbAnchor = start - FB_ENTER;
            fbActStart = start;
            fbActLast = _slotNow();
        } else {
            // SPEC 6: proven progress restarts the fallback clock.
            fbAnchor = _slotNow();
        }
        provenAdvanceAllowed = true;
    }

    function _book(address to, uint256 amount, uint256 e) internal {
        if (!isRewardee[to]) {
            // An unclaimed epoch's proof names any prover: it gets the submitter reward.
            isRewardee[to] = true;
            rewardees.push(to);
        }
        ghost_booked[to] += amount;
        provenEpoch[e].booked += amount;
    }

    // ================================================================ building calls

    function _proposeOne(uint256 seed) internal {
        bool due = _pruneDue(m);
        (ProposeArgs memory args, CommitteeAttestations memory att) =
            _proposal(due ? m.proven : m.pending, seed);
        address proposer = _currentProposer();
        bytes4 expected = _fallbackActiveNow() ? Errors.Rollup__InFallback.selector : OK;
        vm.prank(proposer);
        (bool ok, bytes memory err) = _try(address(rollup), abi.encodeCall(rollup.propose, (args, att)));
        if (_outcome(expected, ok, err, "propose") && ok) {
            if (due) _applyPrune();
            _applyPropose(args, seed);
        }
        if (expected != OK) tally["propose: InFallback"]++;
    }

    /// @dev The next block on `base` in the current slot, with one blob set on the transaction and
    ///      a quorum of the current committee, from the ghost archives (never the rollup's); its
    ///      forced txs follow SPEC 7 (`_validForced`).
    function _proposal(uint256 base, uint256 seed)
        internal
        returns (ProposeArgs memory args, CommitteeAttestations memory att)
    {
        uint256 fh = headAfter[base];
        (uint256 txCount, uint256 k) = _validForced(fh, seed >> 64);
        return _proposalWith(base, seed, txCount, k, _rangeHash(fh, k));
    }

    function _proposalWith(
        uint256 base,
        uint256 seed,
        uint256 txCount,
        uint256 forcedTxCount,
        bytes32 forcedTxsHash
    ) internal returns (ProposeArgs memory args, CommitteeAttestations memory att) {
        args = _blockArgs(base, seed, txCount, forcedTxCount, forcedTxsHash, _slotNow());
        address[] memory committee = _currentCommittee();
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

    /// @dev Block `base + 1` on the ghost archive of `base`, in `slot`, with one blob set on the
    ///      transaction.
    function _blockArgs(
        uint256 base,
        uint256 seed,
        uint256 txCount,
        uint256 forcedTxCount,
        bytes32 forcedTxsHash,
        uint256 slot
    ) internal returns (ProposeArgs memory) {
        bytes32[] memory blobs = new bytes32[](1);
        blobs[0] = bytes32((uint256(0x01) << 248) | (uint256(keccak256(abi.encode("blob", seed))) >> 8));
        vm.blobhashes(blobs);
        return ProposeArgs({
            blockNumber: base + 1,
            slot: Slot.wrap(slot),
            previousArchive: archiveOf[base],
            archive: keccak256(abi.encode("archive", seed, base + 1)),
            stateRoot: keccak256(abi.encode("state", seed, base + 1)),
            blobHashes: blobs,
            txCount: txCount,
            forcedTxCount: forcedTxCount,
            forcedTxsHash: forcedTxsHash
        });
    }

    // ================================================================ forced inclusion: choices

    /// @dev A forced-tx choice SPEC 7 allows for a block starting at queue position `fh`: with
    ///      nothing due, none or a few entries early; with entries due, all of them (maybe one more)
    ///      and other txs, or (when more than MIN are due) between MIN and all but one and nothing
    ///      else.
    function _validForced(uint256 fh, uint256 r) internal view returns (uint256 txCount, uint256 k) {
        uint256 queued = qEntries.length - fh;
        uint256 dueN = _dueFrom(fh);
        uint256 extra = (r >> 8) % 3;
        if (dueN == 0) {
            k = r % 3 == 0 ? _min(queued, 1 + (r >> 16) % 3) : 0;
            return (k + extra, k);
        }
        if (dueN > MIN_FORCED && r % 3 == 0) {
            k = MIN_FORCED + (r >> 16) % (dueN - MIN_FORCED);
            return (k, k);
        }
        k = dueN + _min(queued - dueN, (r >> 16) % 2);
        return (k + extra, k);
    }

    /// @dev A forced-tx choice valid or broken in one way: no forced tx (refused while the head is
    ///      due), random counts (maybe more than queued), part of the due entries with or without
    ///      other txs, a wrong hash (skipping the head, starting at an entry already taken, two
    ///      swapped, one entry short, garbage; nonzero with no forced tx), txCount < forcedTxCount.
    function _forcedChoice(uint256 fh, uint256 r, uint8 mode)
        internal
        view
        returns (uint256 txCount, uint256 k, bytes32 h, string memory what)
    {
        uint256 len = qEntries.length;
        uint256 queued = len - fh;
        uint256 dueN = _dueFrom(fh);
        uint256 extra = (r >> 8) % 3;
        mode %= 8;
        if (mode < 2) {
            (txCount, k) = _validForced(fh, r);
            return (txCount, k, _rangeHash(fh, k), "a valid forced-tx choice");
        }
        if (mode == 2) return (extra, 0, bytes32(0), "no forced tx");
        if (mode == 4 && dueN >= 2) {
            // Half the time one entry: below MIN_FORCED with due entries left.
            k = (r >> 16) % 2 == 0 ? 1 : 1 + (r >> 17) % (dueN - 1);
            return (k, k, _rangeHash(fh, k), "part of the due entries, nothing else");
        }
        if (mode == 5 && dueN > MIN_FORCED) {
            k = MIN_FORCED + (r >> 16) % (dueN - MIN_FORCED);
            return (k + 1 + extra, k, _rangeHash(fh, k), "part of the due entries, and other txs");
        }
        if (mode == 6) {
            (txCount, k) = _validForced(fh, r);
            uint256 kind = (r >> 32) % 5;
            if (k == 0) {
                return (txCount, 0, keccak256(abi.encode("not zero", r)), "a hash without forced txs");
            }
            if (kind == 0 && fh + 1 + k <= len) return (txCount, k, _rangeHash(fh + 1, k), "skips the head");
            if (kind == 1 && fh != 0) return (txCount, k, _rangeHash(fh - 1, k), "an entry already taken");
            if (kind == 2 && k >= 2) return (txCount, k, _swappedHash(fh, k), "two entries swapped");
            if (kind == 3) return (txCount, k, _rangeHash(fh, k - 1), "the hash of one entry fewer");
            return (txCount, k, keccak256(abi.encode("wrong", r)), "a wrong forcedTxsHash");
        }
        if (mode == 7) {
            k = 1 + (r >> 16) % (queued + 1);
            return (k - 1, k, _rangeHash(fh, k), "txCount below forcedTxCount");
        }
        k = 1 + (r >> 16) % (queued + 2);
        txCount = (r >> 24) % 3 == 0 ? k : k + extra;
        return (txCount, k, _rangeHash(fh, k), "random forced-tx count");
    }

    /// @dev SPEC 7, checks in the order Rollup._includeForced makes them, for a block starting at
    ///      queue position `fh` in the current epoch.
    function _predictForced(uint256 fh, uint256 txCount, uint256 k, bytes32 h)
        internal
        view
        returns (bytes4)
    {
        if (txCount < k) return Errors.Rollup__InvalidTxCount.selector;
        if (k == 0) {
            if (_headDue(fh)) return Errors.Rollup__ForcedTxsDue.selector;
            if (h != bytes32(0)) return Errors.Rollup__InvalidForcedTxsHash.selector;
            return OK;
        }
        if (fh + k > qEntries.length) return Errors.Queue__NotEnoughQueued.selector;
        if (h != _rangeHash(fh, k)) return Errors.Rollup__InvalidForcedTxsHash.selector;
        if (_headDue(fh + k)) {
            if (k < MIN_FORCED) return Errors.Rollup__TooFewForcedTxs.selector;
            if (txCount != k) return Errors.Rollup__NonForcedTxsBeforeDueForcedTxs.selector;
        }
        return OK;
    }

    /// @dev keccak256 of the ghost FIFO's hashes [from, from + k) (as many as exist); zero for none.
    function _rangeHash(uint256 from, uint256 k) internal view returns (bytes32) {
        if (k == 0) return bytes32(0);
        uint256 end = _min(from + k, qEntries.length);
        bytes32[] memory hashes = new bytes32[](end > from ? end - from : 0);
        for (uint256 i = 0; i < hashes.length; ++i) {
            hashes[i] = qEntries[from + i].txHash;
        }
        return keccak256(abi.encodePacked(hashes));
    }

    function _swappedHash(uint256 from, uint256 k) internal view returns (bytes32) {
        bytes32[] memory hashes = new bytes32[](k);
        for (uint256 i = 0; i < k; ++i) {
            hashes[i] = qEntries[from + i].txHash;
        }
        (hashes[0], hashes[1]) = (hashes[1], hashes[0]);
        return keccak256(abi.encodePacked(hashes));
    }

    /// @dev Due entries from queue position `fh` on, now (entries are in due-epoch order).
    function _dueFrom(uint256 fh) internal view returns (uint256 n) {
        uint256 e = _epochNow();
        while (fh + n < qEntries.length && qEntries[fh + n].due <= e) ++n;
    }

    function _headDue(uint256 i) internal view returns (bool) {
        return i < qEntries.length && qEntries[i].due <= _epochNow();
    }

    function _txBytes(uint256 seed, uint256 len) internal pure returns (bytes memory b) {
        b = new bytes(len);
        bytes32 h = keccak256(abi.encode("tx", seed));
        assembly ("memory-safe") {
            // new bytes(len >= 1) allocates at least one whole word.
            mstore(add(b, 0x20), h)
        }
    }

    // ================================================================ based fallback: the model

    /// @dev SPEC 6 from the model's clock: fallback begins FB_ENTER slots after the last proven
    ///      progress (or after the previous fallback ended) and ends FB_ACTIVITY after its last
    ///      fallback block (its start, with none) or FB_TOTAL after it began, whichever is first.
    ///      Returns the period containing now, or the next one.
    function _fallbackNow() internal view returns (bool active, uint256 start, uint256 end) {
        uint256 now_ = _slotNow();
        uint256 anchor = fbAnchor;
        uint256 idle = _min(FB_ACTIVITY, FB_TOTAL);
        while (true) {
            start = anchor + FB_ENTER;
            if (now_ < start) return (false, start, start + idle);
            uint256 last = start == fbActStart ? fbActLast : start;
            end = _min(last + FB_ACTIVITY, start + FB_TOTAL);
            if (now_ < end) return (true, start, end);
            anchor = end;
        }
    }

    function _fallbackActiveNow() internal view returns (bool active) {
        (active,,) = _fallbackNow();
    }

    /// @dev timing 0-1: now; 2-3: into the (next) fallback, anywhere in its first epoch; 4: the last
    ///      second before it; 5: the last second of the current one. Only forward.
    function _steerIntoFallback(uint256 seed, uint8 timing) internal {
        timing %= 6;
        if (timing < 2) return;
        (, uint256 start, uint256 end) = _fallbackNow();
        uint256 ts;
        if (timing < 4) ts = _slotStart(start + (seed >> 160) % H_EPOCH) + (seed >> 168) % SLOT_DURATION;
        else if (timing == 4) ts = _slotStart(start) - 1;
        else ts = _slotStart(end) - 1;
        if (ts > _now()) _warpTo(ts);
    }

    /// @dev The proof a fallback block needs (SPEC 6): over [previousArchive, archive, epoch of its
    ///      slot, block number, proposer, 0, its EIP-712 digest], the digest computed here from
    ///      ProposalLib's type string and checked against `proposalDigest`.
    function _fallbackProof(ProposeArgs memory args, address proposer) internal returns (bytes memory) {
        bytes32 digest = _proposalDigest(args);
        if (digest != rollup.proposalDigest(args)) ghost_digestMismatch++;
        bytes32[] memory pi = new bytes32[](7);
        pi[0] = args.previousArchive;
        pi[1] = args.archive;
        pi[2] = bytes32(Slot.unwrap(args.slot) / H_EPOCH);
        pi[3] = bytes32(args.blockNumber);
        pi[4] = bytes32(uint256(uint160(proposer)));
        pi[6] = digest;
        return verifier.devProof(pi);
    }

    function _proposalDigest(ProposeArgs memory a) internal view returns (bytes32) {
        bytes32 domain = keccak256(
            abi.encode(
                DOMAIN_TYPEHASH, keccak256("Proofline Rollup"), keccak256("1"), block.chainid, address(rollup)
            )
        );
        bytes32 structHash = keccak256(
            abi.encode(
                PROPOSAL_TYPEHASH,
                Slot.unwrap(a.slot),
                a.blockNumber,
                a.previousArchive,
                a.archive,
                a.stateRoot,
                keccak256(abi.encodePacked(a.blobHashes)),
                a.txCount,
                a.forcedTxCount,
                a.forcedTxsHash
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", domain, structHash));
    }

    function _applyFallbackBlock(ProposeArgs memory args, uint256 start) internal {
        uint256 n = ++m.pending;
        m.proven = n;
        uint256 slot = Slot.unwrap(args.slot);
        blockSlot[n] = slot;
        archiveOf[n] = args.archive;
        tipSlot = slot;
        if (slot > lastProposedSlot) lastProposedSlot = slot;
        _applyForced(n, args);
        // Earlier fallbacks are over: the clock now counts from this one's anchor.
        fbAnchor = start - FB_ENTER;
        fbActStart = start;
        fbActLast = _slotNow();
        provenAdvanceAllowed = true;
        tally["fallback: blocks"]++;
    }

    function _min(uint256 a, uint256 b) internal pure returns (uint256) {
        return a < b ? a : b;
    }

    function _max(uint256 a, uint256 b) internal pure returns (uint256) {
        return a > b ? a : b;
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

    /// @dev As a proposer's node does: when the current epoch's seed is not drawn (neither it nor
    ///      the epoch before was set up, e.g. after a warp over whole epochs), set it up first.
    function _ensureSeed() internal {
        try rollup.getSampleSeed(Epoch.wrap(_epochNow())) {}
        catch {
            rollup.setupEpoch();
            tally["setupEpoch: the seed was not drawn"]++;
        }
    }

    function _currentProposer() internal returns (address) {
        _ensureSeed();
        return rollup.getCurrentProposer();
    }

    function _currentCommittee() internal returns (address[] memory) {
        _ensureSeed();
        return rollup.getCommitteeAt(Epoch.wrap(_epochNow()));
    }

    // ================================================================ bookkeeping of each call

    /// @dev Logs are recorded from here on; each call's are taken (and cleared) right after it.
    function _begin() internal {
        vm.recordLogs();
        provenAdvanceAllowed = false;
        if (refusingFor != 0 && --refusingFor == 0) {
            verifier.setAccepting(true);
            verifierAccepting = true;
        }
    }

    /// @dev After every action: the proven tip never moved back, and moved forward only by a call
    ///      whose proof the handler built for it (an epoch proof, or a fallback block's), accepted
    ///      by the verifier; time never went back.
    function _end() internal {
        uint256 proven = rollup.getProvenBlockNumber();
        if (proven < ghost_lastProvenSeen) ghost_provenDecreased++;
        if (proven > ghost_lastProvenSeen && !provenAdvanceAllowed) ghost_unprovenAdvance++;
        provenAdvanceAllowed = false;
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
            if (!verifierAccepting) _violation("an epoch proof landed while the verifier refuses");
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
            uint256 amount = abi.decode(log.data, (uint256));
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
            if (validProofRefused[e]) ghost_slashAfterRefusal++;
        } else if (t0 == IRollup.PrunedPending.selector) {
            ev_prunesTotal++;
            lastPruneTime = _now();
        } else if (t0 == IRollup.L2BlockProvenInFallback.selector) {
            ev_fallbackBlocks++;
            if (!verifierAccepting) _violation("a fallback block landed while the verifier refuses");
            if (!_fallbackActiveNow()) _violation("a block proven in fallback outside fallback");
        } else if (t0 == IRollup.FallbackEntered.selector) {
            (bool active, uint256 start,) = _fallbackNow();
            if (!active || abi.decode(log.data, (uint256)) != start) {
                _violation("FallbackEntered other than SPEC 6's clock gives");
            }
        } else if (t0 == IRollup.FallbackExited.selector) {
            if (abi.decode(log.data, (uint256)) > _slotNow()) _violation("FallbackExited in the future");
        }
    }

    /// @dev The queue's events: each entry where the ghost FIFO's tail is, with its due epoch; each
    ///      block takes the entries at the queue's head (as this call's events move it); a prune puts
    ///      the head back exactly where it was after the proven tip.
    function _onQueueEvent(Vm.Log memory log) internal {
        bytes32 t0 = log.topics[0];
        if (t0 == IForcedInclusionQueue.ForcedTxQueued.selector) {
            (uint256 due, bytes memory data) = abi.decode(log.data, (uint256, bytes));
            if (uint256(log.topics[1]) != qEntries.length) _violation("ForcedTxQueued: index != ghost tail");
            if (log.topics[2] != keccak256(data)) _violation("ForcedTxQueued: hash != keccak256(tx data)");
            if (due != _epochNow() + FORCED_DELAY) _violation("ForcedTxQueued: due != epoch + delay");
        } else if (t0 == IForcedInclusionQueue.ForcedTxsConsumed.selector) {
            (uint256 from, uint256 count) = abi.decode(log.data, (uint256, uint256));
            if (from != evQueueHead) _violation("queue order: a block took other than the next entries");
            evQueueHead = from + count;
        } else if (t0 == IForcedInclusionQueue.ForcedTxsRequeued.selector) {
            (uint256 newHead, uint256 oldHead) = abi.decode(log.data, (uint256, uint256));
            if (oldHead != evQueueHead) _violation("requeue from another head than the queue's");
            if (newHead != headAfter[m.proven]) {
                _violation("a prune requeued to another head than the proven tip's");
            }
            evQueueHead = newHead;
        }
    }

    /// @dev The escrow's BondSlashed says how the bond was split: SLASH_BURN_BPS of it burned.
    function _onEscrowEvent(Vm.Log memory log) internal {
        if (log.topics[0] != IProverEscrow.BondSlashed.selector) return;
        (uint256 amount, uint256 burned) = abi.decode(log.data, (uint256, uint256));
        if (burned != amount * H_SLASH_BURN_BPS / BPS) _violation("burn share != SLASH_BURN_BPS");
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

    function _try(address target, bytes memory data) internal returns (bool, bytes memory) {
        return _tryValue(target, 0, data);
    }

    function _tryValue(address target, uint256 value, bytes memory data)
        internal
        returns (bool ok, bytes memory ret)
    {
        evQueueHead = qHead;
        (ok, ret) = target.call{value: value}(data);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        if (!ok) return (ok, ret);
        for (uint256 i = 0; i < logs.length; ++i) {
            address emitter = logs[i].emitter;
            if (emitter == address(rollup)) _onEvent(logs[i]);
            else if (emitter == address(queue)) _onQueueEvent(logs[i]);
            else if (emitter == address(escrow)) _onEscrowEvent(logs[i]);
        }
    }

    function _otherThan(address proposer, uint256 seed) internal returns (address) {
        address[] memory committee = _currentCommittee();
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

    function getQueue() external view returns (IForcedInclusionQueue) {
        return queue;
    }

    function queueLength() external view returns (uint256) {
        return qEntries.length;
    }

    function queueEntry(uint256 i) external view returns (bytes32 txHash, uint256 due) {
        QEntry storage q = qEntries[i];
        return (q.txHash, q.due);
    }

    /// @notice keccak256 of the ghost FIFO's hashes [from, from + k): what a block taking those
    ///         entries commits to.
    function rangeHash(uint256 from, uint256 k) external view returns (bytes32) {
        return _rangeHash(from, k);
    }

    /// @notice Entries due now from the model's head.
    function modelDueCount() external view returns (uint256) {
        return _dueFrom(qHead);
    }

    /// @notice SPEC 6 as the model has it: the fallback period containing now, or the next one.
    function modelFallback() external view returns (bool active, uint256 start, uint256 end) {
        return _fallbackNow();
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
        string[13] memory proofErrs = [
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
            "InvalidProof",
            "FeesExceedDeposits"
        ];
        string[5] memory rewardErrs =
            ["ok", "EpochNotProven", "InvalidFees", "BlockIndexOutOfRange", "RewardAlreadyClaimed"];
        string[5] memory enqueueErrs = [
            "ok", "Queue__EmptyTx", "Queue__FeeTooLow", "Queue__InvalidTxProof", "Queue__DepositTagReserved"
        ];
        string[8] memory forcedErrs = [
            "ok",
            "InvalidTxCount",
            "ForcedTxsDue",
            "InvalidForcedTxsHash",
            "Queue__NotEnoughQueued",
            "TooFewForcedTxs",
            "NonForcedTxsBeforeDueForcedTxs",
            "InFallback"
        ];
        string[12] memory fallbackErrs = [
            "ok",
            "NotInFallback",
            "FallbackSlotOutOfRange",
            "SlotAlreadyUsed",
            "InvalidBlockNumber",
            "InvalidArchive",
            "InvalidProof",
            "InvalidTxCount",
            "ForcedTxsDue",
            "InvalidForcedTxsHash",
            "TooFewForcedTxs",
            "NonForcedTxsBeforeDueForcedTxs"
        ];
        string[25] memory plain = [
            "blocks",
            "depositFee",
            "fundRewards",
            "rewards: pool short, paid pro rata",
            "setupEpoch: the seed was not drawn",
            "proposeAndClaim",
            "prune()",
            "deposit",
            "startWithdraw",
            "executeWithdraw",
            "withdrawRewards",
            "claim: bond needs pending funds",
            "claim: ... withdrawable at deadline",
            "propose: InFallback",
            "forced: blocks with forced txs",
            "forced: txs included",
            "forced: included early (none due)",
            "forced: partial, due entries left",
            "forced: entries requeued by a prune",
            "fallback: blocks",
            "fallback: claim released",
            "fallback: claim whose proof window fallback overlaps",
            "fallback: committee blocks dropped",
            "fallback: epoch proof accepted in fallback",
            "fallback: claimed epoch proven in fallback"
        ];
        uint256 n = 5 + plain.length + claimErrs.length + proofErrs.length + rewardErrs.length
            + enqueueErrs.length + forcedErrs.length + fallbackErrs.length + 1;
        keys = new string[](n);
        values = new uint256[](n);
        (keys[0], values[0]) = ("events: ProofRightClaimed", ev_claimsTotal);
        (keys[1], values[1]) = ("events: L2ProofVerified", ev_proofsTotal);
        (keys[2], values[2]) = ("events: BondSlashed", ev_slashesTotal);
        (keys[3], values[3]) = ("events: PrunedPending", ev_prunesTotal);
        (keys[4], values[4]) = ("events: L2BlockProvenInFallback", ev_fallbackBlocks);
        uint256 k = 5;
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
        for (uint256 i = 0; i < enqueueErrs.length; ++i) {
            keys[k++] = string.concat("enqueue: ", enqueueErrs[i]);
        }
        for (uint256 i = 0; i < forcedErrs.length; ++i) {
            keys[k++] = string.concat("proposeForced: ", forcedErrs[i]);
        }
        for (uint256 i = 0; i < fallbackErrs.length; ++i) {
            keys[k++] = string.concat("proposeWithProof: ", fallbackErrs[i]);
        }
        keys[k++] = "fallback: proposeWithProof while the verifier refuses";
        for (uint256 i = 5; i < keys.length; ++i) {
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
        if (sel == Errors.Rollup__FeesExceedDeposits.selector) return "FeesExceedDeposits";
        if (sel == Errors.Queue__DepositTagReserved.selector) return "Queue__DepositTagReserved";
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
        if (sel == Errors.Queue__EmptyTx.selector) return "Queue__EmptyTx";
        if (sel == Errors.Queue__FeeTooLow.selector) return "Queue__FeeTooLow";
        if (sel == Errors.Queue__InvalidTxProof.selector) return "Queue__InvalidTxProof";
        if (sel == Errors.Queue__NotEnoughQueued.selector) return "Queue__NotEnoughQueued";
        if (sel == Errors.Rollup__InvalidTxCount.selector) return "InvalidTxCount";
        if (sel == Errors.Rollup__InvalidForcedTxsHash.selector) return "InvalidForcedTxsHash";
        if (sel == Errors.Rollup__ForcedTxsDue.selector) return "ForcedTxsDue";
        if (sel == Errors.Rollup__TooFewForcedTxs.selector) return "TooFewForcedTxs";
        if (sel == Errors.Rollup__NonForcedTxsBeforeDueForcedTxs.selector) {
            return "NonForcedTxsBeforeDueForcedTxs";
        }
        if (sel == Errors.Rollup__InFallback.selector) return "InFallback";
        if (sel == Errors.Rollup__NotInFallback.selector) return "NotInFallback";
        if (sel == Errors.Rollup__FallbackSlotOutOfRange.selector) return "FallbackSlotOutOfRange";
        if (sel == Errors.Rollup__SlotAlreadyUsed.selector) return "SlotAlreadyUsed";
        if (sel == Errors.Rollup__InvalidBlockNumber.selector) return "InvalidBlockNumber";
        if (sel == Errors.Rollup__InvalidArchive.selector) return "InvalidArchive";
        return vm.toString(abi.encodePacked(sel));
    }
}
