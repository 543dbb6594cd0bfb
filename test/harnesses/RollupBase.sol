// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Test} from "forge-std/Test.sol";

import {ForcedInclusionQueue} from "../../contracts/core/ForcedInclusionQueue.sol";
import {ProverEscrow} from "../../contracts/core/ProverEscrow.sol";
import {Rollup} from "../../contracts/core/Rollup.sol";
import {DevToken} from "../../contracts/dev/DevToken.sol";
import {
    CommitteeAttestations,
    ProposeArgs,
    RollupConfig,
    Signature
} from "../../contracts/interfaces/IRollup.sol";
import {Epoch, Slot, TimeConfig, Timestamp} from "../../contracts/libraries/TimeLib.sol";
import {InsecureDevEpochVerifier} from "../../contracts/verifiers/InsecureDevEpochVerifier.sol";
import {InsecureDevTxProofVerifier} from "../../contracts/verifiers/InsecureDevTxProofVerifier.sol";

/// @notice Deploys a Rollup with known validator keys and builds real, signed proposals.
abstract contract RollupBase is Test {
    uint256 internal constant SLOT_DURATION = 36;
    uint256 internal constant EPOCH_DURATION = 32;
    uint256 internal constant K = 48;
    uint256 internal constant MIN_STAKE = 100 ether;
    uint256 internal constant EXIT_DELAY = 3 * EPOCH_DURATION * SLOT_DURATION;
    uint256 internal constant ESCROW_DELAY = 3 * EPOCH_DURATION * SLOT_DURATION;
    uint256 internal constant CLAIM_WINDOW = 13;
    uint256 internal constant MIN_BOND = 1000 ether;
    uint256 internal constant BLOCK_REWARD = 10 ether;
    uint256 internal constant SUBMITTER_REWARD = 1 ether;
    bytes32 internal constant GENESIS_ARCHIVE = keccak256("genesis");
    uint256 internal constant FORCED_DELAY = 2; // epochs
    uint256 internal constant INCLUSION_GAS = 30_000;
    uint256 internal constant MIN_FORCED = 2;
    uint256 internal constant FEE_DOUBLE_THRESHOLD = 50;
    uint256 internal constant REWARD_POOL_FUNDING = 1e30;
    /// @dev Fee deposits credited at deploy, so blocks in suites about other rules may declare fees.
    uint256 internal constant FEE_DEPOSITS = 1e24;
    /// @dev Far off, so suites about other rules never drift into fallback; test/Rollup/fallback.t.sol
    ///      deploys with the SPEC default (3 epochs).
    uint256 internal constant FALLBACK_ENTER = 100 * EPOCH_DURATION;
    uint256 internal constant FALLBACK_EXIT_ACTIVITY = EPOCH_DURATION;
    uint256 internal constant FALLBACK_EXIT_TOTAL = 2 * EPOCH_DURATION;

    Rollup internal rollup;
    ProverEscrow internal escrow;
    InsecureDevEpochVerifier internal verifier;
    InsecureDevTxProofVerifier internal txVerifier;
    ForcedInclusionQueue internal queue;
    address internal queueTreasury = makeAddr("queueTreasury");
    DevToken internal stakingAsset;
    DevToken internal bondAsset;
    DevToken internal rewardAsset;
    address internal slashRecipient = makeAddr("slashRecipient");
    uint256 internal genesis;

    mapping(address => uint256) internal keyOf;
    address[] internal attesters;

    function _deploy() internal virtual {
        _deploy(K);
    }

    function _deploy(uint256 k) internal {
        _deployAssets();
        _deployFunded(_config(k));
    }

    /// @dev What a Rollup is configured with (tokens, verifier), at a fixed genesis time.
    function _deployAssets() internal {
        vm.warp(1_700_000_000);
        genesis = block.timestamp;
        stakingAsset = new DevToken("Stake", "STK");
        bondAsset = new DevToken("Bond", "BND");
        rewardAsset = new DevToken("Reward", "RWD");
        verifier = new InsecureDevEpochVerifier(address(this));
        txVerifier = new InsecureDevTxProofVerifier(address(this));
    }

    /// @dev The Rollup and its escrow from `cfg`, with the reward pool funded and fees backed.
    function _deployFunded(RollupConfig memory cfg) internal {
        (rollup, escrow) = _deployRollup(cfg);
        _fundRewards(REWARD_POOL_FUNDING);
        _backFees(FEE_DEPOSITS);
    }

    /// @dev What `queue.depositFee` does on L1 for fee deposits the tests' blocks never carry (the
    ///      Rollup sees no L2 state, only declared fees): the tokens reach the Rollup and the queue
    ///      reports them. test/regressions/FeesBackedByDeposits.t.sol goes through the queue.
    function _backFees(uint256 amount) internal {
        rewardAsset.mint(address(rollup), amount);
        vm.prank(address(queue));
        rollup.feesDeposited(amount);
    }

    function _fundRewards(uint256 amount) internal {
        rewardAsset.mint(address(this), amount);
        rewardAsset.approve(address(rollup), amount);
        rollup.fundRewards(amount);
    }

    /// @dev The escrow and the queue are bound to the rollup's address, computed before any of
    ///      them exists (the rollup is the third contract this deploys).
    function _deployRollup(RollupConfig memory cfg) internal returns (Rollup r, ProverEscrow e) {
        address predicted = _predictRollup();
        e = new ProverEscrow(bondAsset, predicted, ESCROW_DELAY);
        cfg.escrow = address(e);
        queue = _deployQueue(cfg, predicted);
        cfg.forcedInclusionQueue = address(queue);
        r = new Rollup(cfg);
        assertEq(address(r), predicted);
    }

    /// @dev The address of the rollup deployed after the next two contracts (escrow, queue).
    function _predictRollup() internal view returns (address) {
        return vm.computeCreateAddress(address(this), vm.getNonce(address(this)) + 2);
    }

    /// @dev A queue for `cfg`'s clock, bound to `rollupAddress`.
    function _deployQueue(RollupConfig memory cfg, address rollupAddress)
        internal
        returns (ForcedInclusionQueue)
    {
        return new ForcedInclusionQueue(
            rollupAddress,
            txVerifier,
            queueTreasury,
            TimeConfig({
                genesisTime: cfg.genesisTime == 0 ? vm.getBlockTimestamp() : cfg.genesisTime,
                // A config the rollup refuses for a zero duration still gets a queue, so the
                // rollup's own check is what refuses it.
                slotDuration: cfg.slotDuration == 0 ? 1 : cfg.slotDuration,
                epochDuration: cfg.epochDuration == 0 ? 1 : cfg.epochDuration
            }),
            FORCED_DELAY,
            INCLUSION_GAS,
            FEE_DOUBLE_THRESHOLD,
            // A config the rollup refuses for a zero reward asset still gets a queue.
            IERC20(cfg.rewardAsset == address(0) ? address(rewardAsset) : cfg.rewardAsset)
        );
    }

    function _config(uint256 k) internal view returns (RollupConfig memory) {
        return RollupConfig({
            stakingAsset: address(stakingAsset),
            rewardAsset: address(rewardAsset),
            escrow: address(0), // set by _deployRollup
            verifier: address(verifier),
            genesisTime: 0,
            genesisArchive: GENESIS_ARCHIVE,
            slotDuration: SLOT_DURATION,
            epochDuration: EPOCH_DURATION,
            targetCommitteeSize: k,
            proofClaimWindow: CLAIM_WINDOW,
            minStake: MIN_STAKE,
            validatorExitDelay: EXIT_DELAY,
            minBond: MIN_BOND,
            slashBurnBps: 10_000,
            slashRecipient: slashRecipient,
            blockReward: BLOCK_REWARD,
            submitterReward: SUBMITTER_REWARD,
            forcedInclusionQueue: address(0), // set by _deployRollup
            minForcedTxsPerBlock: MIN_FORCED,
            fallbackEnter: FALLBACK_ENTER,
            fallbackExitActivity: FALLBACK_EXIT_ACTIVITY,
            fallbackExitTotal: FALLBACK_EXIT_TOTAL
        });
    }

    /// @dev Stakes `n` validators with deterministic keys; each is its own withdrawer.
    /// @dev Marks every contract of the deployment cold, as at the start of a real transaction:
    ///      a forge test runs as one transaction, so slots its earlier calls touched stay warm.
    ///      Gas benchmarks call this right before the call they measure.
    function _coolDeployment() internal {
        vm.cool(address(rollup));
        vm.cool(address(escrow));
        vm.cool(address(verifier));
        vm.cool(address(queue));
        vm.cool(address(stakingAsset));
        vm.cool(address(bondAsset));
        vm.cool(address(rewardAsset));
    }

    function _stakeValidators(uint256 n) internal {
        for (uint256 i = 0; i < n; ++i) {
            (address a, uint256 pk) =
                makeAddrAndKey(string.concat("validator", vm.toString(attesters.length)));
            keyOf[a] = pk;
            attesters.push(a);
            _stake(a, a);
        }
    }

    /// @dev The attester stakes itself (its consent, F-08), with stake minted to it.
    function _stake(address attester, address withdrawer) internal {
        stakingAsset.mint(attester, MIN_STAKE);
        vm.startPrank(attester);
        stakingAsset.approve(address(rollup), MIN_STAKE);
        rollup.stake(attester, withdrawer);
        vm.stopPrank();
    }

    function _warpToSlot(uint256 slot) internal {
        vm.warp(genesis + slot * SLOT_DURATION);
    }

    function _warpToEpoch(uint256 epoch) internal {
        _warpToSlot(epoch * EPOCH_DURATION);
    }

    function _currentSlot() internal view returns (uint256) {
        return Slot.unwrap(rollup.getCurrentSlot());
    }

    function _currentEpoch() internal view returns (uint256) {
        return Epoch.unwrap(rollup.getCurrentEpoch());
    }

    /// @dev Args for the next block in the current slot, with one blob whose hash is set on the tx.
    function _nextArgs() internal returns (ProposeArgs memory args) {
        // As a proposer's node does when the epoch's seed is not drawn yet (an idle epoch before):
        // set it up first, so its committee and proposers are known.
        try rollup.getSampleSeed(rollup.getCurrentEpoch()) {}
        catch {
            rollup.setupEpoch();
        }
        // When a prune is due, `propose` prunes first: the block builds on the proven tip.
        uint256 n = rollup.canPrune() ? rollup.getProvenBlockNumber() : rollup.getPendingBlockNumber();
        bytes32[] memory blobs = new bytes32[](1);
        blobs[0] = bytes32((uint256(0x01) << 248) | uint256(keccak256(abi.encode("blob", n + 1))) >> 8);
        vm.blobhashes(blobs);
        args = ProposeArgs({
            blockNumber: n + 1,
            slot: rollup.getCurrentSlot(),
            previousArchive: rollup.getBlock(n).archive,
            archive: keccak256(abi.encode("archive", n + 1)),
            stateRoot: keccak256(abi.encode("state", n + 1)),
            blobHashes: blobs,
            txCount: 0,
            forcedTxCount: 0,
            forcedTxsHash: bytes32(0)
        });
    }

    /// @dev Attestations from the first `count` committee members, in committee order.
    function _attest(ProposeArgs memory args, uint256 count)
        internal
        view
        returns (CommitteeAttestations memory att)
    {
        address[] memory committee = rollup.getCommitteeAt(rollup.getCurrentEpoch());
        bytes32 digest = rollup.proposalDigest(args);
        att.signatures = new Signature[](count);
        for (uint256 i = 0; i < count; ++i) {
            att.signers |= 1 << i;
            att.signatures[i] = _sign(keyOf[committee[i]], digest);
        }
    }

    /// @dev A quorum of attestations: floor(2n/3)+1 of the committee.
    function _quorumAttest(ProposeArgs memory args) internal view returns (CommitteeAttestations memory) {
        uint256 size = rollup.getCommitteeAt(rollup.getCurrentEpoch()).length;
        return _attest(args, size == 0 ? 0 : rollup.quorum(size));
    }

    /// @dev The Rollup's EIP-712 domain separator, built by hand from the SPEC's strings,
    ///      independently of the contract's libraries.
    function _specDomainSeparator(address verifyingContract, uint256 chainId)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(
            abi.encode(
                keccak256(
                    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
                ),
                keccak256("Proofline Rollup"),
                keccak256("1"),
                chainId,
                verifyingContract
            )
        );
    }

    function _sign(uint256 pk, bytes32 digest) internal pure returns (Signature memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(pk, digest);
        return Signature({v: v, r: r, s: s});
    }

    function _proposer() internal view returns (address) {
        return rollup.getProposerAt(Timestamp.wrap(block.timestamp));
    }

    /// @dev Proposes the next block in the current slot as its proposer, with a quorum.
    function _proposeNext() internal returns (ProposeArgs memory args) {
        args = _nextArgs();
        CommitteeAttestations memory att = _quorumAttest(args);
        vm.prank(_proposer());
        rollup.propose(args, att);
    }
}
