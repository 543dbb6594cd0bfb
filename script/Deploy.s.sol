// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Script} from "forge-std/Script.sol";

import {ForcedInclusionQueue} from "../contracts/core/ForcedInclusionQueue.sol";
import {ProverEscrow} from "../contracts/core/ProverEscrow.sol";
import {Rollup} from "../contracts/core/Rollup.sol";
import {DevToken} from "../contracts/dev/DevToken.sol";
import {RollupConfig, Signature} from "../contracts/interfaces/IRollup.sol";
import {ITxProofVerifier} from "../contracts/interfaces/ITxProofVerifier.sol";
import {TimeConfig} from "../contracts/libraries/TimeLib.sol";
import {InsecureDevEpochVerifier} from "../contracts/verifiers/InsecureDevEpochVerifier.sol";
import {InsecureDevTxProofVerifier} from "../contracts/verifiers/InsecureDevTxProofVerifier.sol";

/// @title Deploy
/// @notice Deploys the Rollup to any RPC and records it in `deployments/<chainId>.json`.
/// @dev Every parameter comes from the environment, with devnet defaults:
///
///      SLOT_DURATION          seconds per slot                       12
///      EPOCH_DURATION         slots per epoch                        8
///      TARGET_COMMITTEE_SIZE  K                                      48
///      MIN_STAKE              stake per validator, token base units  100 ether
///      VALIDATOR_EXIT_DELAY   seconds                                3 epochs
///      GENESIS_TIME           first second of slot 0                 the latest block's timestamp
///      GENESIS_ARCHIVE        archive of L2 block 0                  the agents' genesis (see below)
///      STAKING_ASSET          ERC-20 to stake; zero deploys a DevToken
///      BOND_ASSET             ERC-20 of prover bonds; zero deploys a DevToken
///      REWARD_ASSET           ERC-20 of rewards and fees (not the staking asset); zero deploys a
///                             DevToken and funds the reward pool (else fund it with fundRewards)
///      VERIFIER               IEpochVerifier; zero deploys InsecureDevEpochVerifier (proves nothing)
///      PROOF_CLAIM_WINDOW     C, slots                               min(13, EPOCH_DURATION / 2)
///      MIN_BOND               smallest bond a quote may offer        1000 ether
///      ESCROW_WITHDRAW_DELAY  seconds                                3 epochs
///      SLASH_BURN_BPS         share of a slashed bond burned         10000
///      SLASH_RECIPIENT        gets the rest of a slashed bond        the deployer
///      BLOCK_REWARD           reward per proven block                10 ether
///      SUBMITTER_REWARD       reward per accepted proof              1 ether
///      FORCED_INCLUSION_DELAY epochs until a forced tx is due         2
///      MIN_FORCED_TXS_PER_BLOCK                                      4
///      INCLUSION_GAS          L1 gas priced into the enqueue fee      30000
///      FEE_DOUBLE_THRESHOLD   waiting queue entries that double it   50
///      TX_PROOF_VERIFIER      ITxProofVerifier; zero deploys InsecureDevTxProofVerifier (proves nothing)
///      QUEUE_FEE_RECIPIENT    receives enqueue fees                  the deployer
///      FALLBACK_ENTER         slots without proven progress          3 epochs
///      FALLBACK_EXIT_ACTIVITY slots without a fallback block         1 epoch
///      FALLBACK_EXIT_TOTAL    slots of fallback at most              2 epochs
///      STAKE_VALIDATORS       validators to stake at once (dev only)  0
///                             (the deployer pays; each key signs its consent)
///
///      forge script script/Deploy.s.sol --rpc-url $RPC --broadcast --private-key $KEY
contract Deploy is Script {
    /// @dev anvil's default mnemonic. Index 0 is the deployer; STAKE_VALIDATORS uses 1..n.
    string internal constant TEST_MNEMONIC = "test test test test test test test test test test test junk";

    bytes32 internal constant DEFAULT_GENESIS_ARCHIVE =
        0x4a7d6209326e5bd8bd1f58338b1e76ebc9152d6559156698583f3ca1c42b5e0e;

    /// @dev Devnet funding of the Rollup's rewards when the reward asset is a DevToken.
    uint256 internal constant DEV_REWARD_FUNDING = 1e9 ether;

    struct Params {
        RollupConfig config;
        address bondAsset;
        uint256 escrowWithdrawDelay;
        uint256 stakeValidators;
        address txProofVerifier;
        address queueFeeRecipient;
        uint256 forcedInclusionDelay;
        uint256 inclusionGas;
        uint256 feeDoubleThreshold;
    }

    function run() external returns (Rollup rollup) {
        Params memory p = _params();

        vm.startBroadcast();
        (, address deployer,) = vm.readCallers();

        bool devToken = p.config.stakingAsset == address(0);
        if (devToken) p.config.stakingAsset = address(new DevToken("Proofline Stake", "PSTK"));
        if (p.bondAsset == address(0)) p.bondAsset = address(new DevToken("Proofline Bond", "PBND"));
        bool devReward = p.config.rewardAsset == address(0);
        if (devReward) p.config.rewardAsset = address(new DevToken("Proofline Reward", "PRWD"));
        if (p.config.verifier == address(0)) {
            p.config.verifier = address(new InsecureDevEpochVerifier(deployer));
        }
        if (p.config.slashRecipient == address(0)) p.config.slashRecipient = deployer;

        if (p.txProofVerifier == address(0)) {
            p.txProofVerifier = address(new InsecureDevTxProofVerifier(deployer));
        }
        if (p.queueFeeRecipient == address(0)) p.queueFeeRecipient = deployer;

        // The escrow and the queue are bound to the Rollup at construction: deploy them for the
        // address the Rollup will get (two nonces on), and let its constructor check both bindings.
        address predicted = vm.computeCreateAddress(deployer, vm.getNonce(deployer) + 2);
        ProverEscrow escrow = new ProverEscrow(DevToken(p.bondAsset), predicted, p.escrowWithdrawDelay);
        p.config.escrow = address(escrow);
        ForcedInclusionQueue queue = new ForcedInclusionQueue(
            predicted,
            ITxProofVerifier(p.txProofVerifier),
            p.queueFeeRecipient,
            TimeConfig({
                genesisTime: p.config.genesisTime,
                slotDuration: p.config.slotDuration,
                epochDuration: p.config.epochDuration
            }),
            p.forcedInclusionDelay,
            p.inclusionGas,
            p.feeDoubleThreshold,
            IERC20(p.config.rewardAsset)
        );
        p.config.forcedInclusionQueue = address(queue);
        rollup = new Rollup(p.config);
        require(address(rollup) == predicted, "Deploy: rollup address differs from the escrow's binding");

        if (devReward) {
            DevToken(p.config.rewardAsset).mint(deployer, DEV_REWARD_FUNDING);
            DevToken(p.config.rewardAsset).approve(address(rollup), DEV_REWARD_FUNDING);
            rollup.fundRewards(DEV_REWARD_FUNDING);
        }
        address[] memory validators = _stakeValidators(rollup, deployer, p.stakeValidators, devToken);

        vm.stopBroadcast();

        _record(rollup, deployer, validators);
    }

    function _params() internal view returns (Params memory p) {
        uint256 slotDuration = vm.envOr("SLOT_DURATION", uint256(12));
        uint256 epochDuration = vm.envOr("EPOCH_DURATION", uint256(8));
        p.config = RollupConfig({
            stakingAsset: vm.envOr("STAKING_ASSET", address(0)),
            rewardAsset: vm.envOr("REWARD_ASSET", address(0)),
            escrow: address(0), // deployed by run(), bound to the Rollup's address
            verifier: vm.envOr("VERIFIER", address(0)),
            // Fixed here rather than left to the constructor (0 = deployment block) so the simulated
            // run that writes the JSON and the broadcast transaction agree on it.
            genesisTime: vm.envOr("GENESIS_TIME", block.timestamp),
            // The archive after the genesis header, as agents/proofline-l2 computes it (docs/l2-state.md;
            // pinned by its `genesis` test): the agents build on it.
            genesisArchive: vm.envOr("GENESIS_ARCHIVE", DEFAULT_GENESIS_ARCHIVE),
            slotDuration: slotDuration,
            epochDuration: epochDuration,
            targetCommitteeSize: vm.envOr("TARGET_COMMITTEE_SIZE", uint256(48)),
            proofClaimWindow: vm.envOr(
                "PROOF_CLAIM_WINDOW", _min(13, epochDuration / 2 == 0 ? 1 : epochDuration / 2)
            ),
            minStake: vm.envOr("MIN_STAKE", uint256(100 ether)),
            // The Rollup's floor is two epochs (a leaving validator may sit on the next committee);
            // the default keeps one epoch of margin above it.
            validatorExitDelay: vm.envOr("VALIDATOR_EXIT_DELAY", 3 * epochDuration * slotDuration),
            minBond: vm.envOr("MIN_BOND", uint256(1000 ether)),
            slashBurnBps: vm.envOr("SLASH_BURN_BPS", uint256(10_000)),
            slashRecipient: vm.envOr("SLASH_RECIPIENT", address(0)),
            blockReward: vm.envOr("BLOCK_REWARD", uint256(10 ether)),
            submitterReward: vm.envOr("SUBMITTER_REWARD", uint256(1 ether)),
            forcedInclusionQueue: address(0), // deployed by run(), bound to the Rollup's address
            minForcedTxsPerBlock: vm.envOr("MIN_FORCED_TXS_PER_BLOCK", uint256(4)),
            fallbackEnter: vm.envOr("FALLBACK_ENTER", 3 * epochDuration),
            fallbackExitActivity: vm.envOr("FALLBACK_EXIT_ACTIVITY", epochDuration),
            fallbackExitTotal: vm.envOr("FALLBACK_EXIT_TOTAL", 2 * epochDuration)
        });
        p.txProofVerifier = vm.envOr("TX_PROOF_VERIFIER", address(0));
        p.queueFeeRecipient = vm.envOr("QUEUE_FEE_RECIPIENT", address(0));
        p.forcedInclusionDelay = vm.envOr("FORCED_INCLUSION_DELAY", uint256(2));
        p.inclusionGas = vm.envOr("INCLUSION_GAS", uint256(30_000));
        p.feeDoubleThreshold = vm.envOr("FEE_DOUBLE_THRESHOLD", uint256(50));
        p.bondAsset = vm.envOr("BOND_ASSET", address(0));
        // The Rollup requires more than two epochs (a quote's bond is due up to two epochs after
        // the quote is priced); the default keeps one epoch of margin.
        p.escrowWithdrawDelay = vm.envOr("ESCROW_WITHDRAW_DELAY", 3 * epochDuration * slotDuration);
        p.stakeValidators = vm.envOr("STAKE_VALIDATORS", uint256(0));
    }

    /// @dev Stakes validators whose keys derive from the test mnemonic, each its own withdrawer,
    ///      paid for by the deployer (which mints the stake when the asset is a DevToken), each with
    ///      its key's signed consent (`stakeWithConsent`). Staked in epoch 0, they first sit on
    ///      epoch 2's committee: epochs 0 and 1 have none.
    function _stakeValidators(Rollup rollup, address payer, uint256 n, bool mint)
        internal
        returns (address[] memory attesters)
    {
        if (n == 0) return attesters;
        uint256 total = n * rollup.MIN_STAKE();
        DevToken token = DevToken(address(rollup.STAKING_ASSET()));
        if (mint) token.mint(payer, total);
        token.approve(address(rollup), total);

        attesters = new address[](n);
        uint256 deadline = block.timestamp + 1 days;
        for (uint32 index = 1; index <= n; ++index) {
            uint256 key = vm.deriveKey(TEST_MNEMONIC, index);
            address attester = vm.addr(key);
            attesters[index - 1] = attester;
            (uint8 v, bytes32 r, bytes32 s) =
                vm.sign(key, rollup.stakeConsentDigest(attester, attester, deadline));
            rollup.stakeWithConsent(attester, attester, deadline, Signature({v: v, r: r, s: s}));
        }
    }

    function _min(uint256 a, uint256 b) internal pure returns (uint256) {
        return a < b ? a : b;
    }

    /// @dev `deployBlock` is the chain head the script ran against: the deployment lands after it,
    ///      so it is a safe block to scan the Rollup's events from.
    function _record(Rollup rollup, address deployer, address[] memory validators) internal {
        string memory o = "deployment";
        vm.serializeUint(o, "chainId", block.chainid);
        vm.serializeAddress(o, "rollup", address(rollup));
        vm.serializeAddress(o, "stakingAsset", address(rollup.STAKING_ASSET()));
        vm.serializeAddress(o, "escrow", address(rollup.ESCROW()));
        vm.serializeAddress(o, "bondAsset", address(ProverEscrow(address(rollup.ESCROW())).TOKEN()));
        vm.serializeAddress(o, "rewardAsset", address(rollup.REWARD_ASSET()));
        vm.serializeAddress(o, "verifier", address(rollup.VERIFIER()));
        ForcedInclusionQueue queue = ForcedInclusionQueue(address(rollup.QUEUE()));
        vm.serializeAddress(o, "forcedInclusionQueue", address(queue));
        vm.serializeAddress(o, "txProofVerifier", address(queue.VERIFIER()));
        vm.serializeUint(o, "forcedInclusionDelay", queue.FORCED_INCLUSION_DELAY());
        vm.serializeUint(o, "feeDoubleThreshold", queue.FEE_DOUBLE_THRESHOLD());
        vm.serializeUint(o, "minForcedTxsPerBlock", rollup.MIN_FORCED_TXS_PER_BLOCK());
        vm.serializeUint(o, "fallbackEnter", rollup.FALLBACK_ENTER());
        vm.serializeUint(o, "fallbackExitActivity", rollup.FALLBACK_EXIT_ACTIVITY());
        vm.serializeUint(o, "fallbackExitTotal", rollup.FALLBACK_EXIT_TOTAL());
        vm.serializeUint(o, "proofClaimWindow", rollup.PROOF_CLAIM_WINDOW());
        vm.serializeUint(o, "minBond", rollup.MIN_BOND());
        vm.serializeUint(o, "escrowWithdrawDelay", rollup.ESCROW().ESCROW_WITHDRAW_DELAY());
        vm.serializeAddress(o, "deployer", deployer);
        vm.serializeUint(o, "deployBlock", block.number);
        vm.serializeUint(o, "genesisTime", rollup.GENESIS_TIME());
        vm.serializeBytes32(o, "genesisArchive", rollup.getBlock(0).archive);
        vm.serializeUint(o, "slotDuration", rollup.SLOT_DURATION());
        vm.serializeUint(o, "epochDuration", rollup.EPOCH_DURATION());
        vm.serializeUint(o, "targetCommitteeSize", rollup.TARGET_COMMITTEE_SIZE());
        vm.serializeUint(o, "minStake", rollup.MIN_STAKE());
        vm.serializeUint(o, "validatorExitDelay", rollup.VALIDATOR_EXIT_DELAY());
        string memory json = vm.serializeAddress(o, "validators", validators);

        // A fresh clone has no deployments/ (git keeps no empty directories).
        string memory dir = string.concat(vm.projectRoot(), "/deployments");
        vm.createDir(dir, true);
        vm.writeJson(json, string.concat(dir, "/", vm.toString(block.chainid), ".json"));
    }
}
