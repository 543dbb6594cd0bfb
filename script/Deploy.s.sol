// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Script} from "forge-std/Script.sol";

import {Rollup} from "../contracts/core/Rollup.sol";
import {DevToken} from "../contracts/dev/DevToken.sol";
import {RollupConfig} from "../contracts/interfaces/IRollup.sol";

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
///      GENESIS_ARCHIVE        archive of L2 block 0                  keccak256("proofline.genesis")
///      STAKING_ASSET          ERC-20 to stake; zero deploys a DevToken
///      STAKE_VALIDATORS       validators to stake at once (dev only)  0
///
///      forge script script/Deploy.s.sol --rpc-url $RPC --broadcast --private-key $KEY
contract Deploy is Script {
    /// @dev anvil's default mnemonic. Index 0 is the deployer; STAKE_VALIDATORS uses 1..n.
    string internal constant TEST_MNEMONIC = "test test test test test test test test test test test junk";

    struct Params {
        RollupConfig config;
        uint256 stakeValidators;
    }

    function run() external returns (Rollup rollup) {
        Params memory p = _params();

        vm.startBroadcast();
        (, address deployer,) = vm.readCallers();

        bool devToken = p.config.stakingAsset == address(0);
        if (devToken) p.config.stakingAsset = address(new DevToken("Proofline Stake", "PSTK"));
        rollup = new Rollup(p.config);
        address[] memory validators = _stakeValidators(rollup, deployer, p.stakeValidators, devToken);

        vm.stopBroadcast();

        _record(rollup, deployer, validators);
    }

    function _params() internal view returns (Params memory p) {
        uint256 slotDuration = vm.envOr("SLOT_DURATION", uint256(12));
        uint256 epochDuration = vm.envOr("EPOCH_DURATION", uint256(8));
        p.config = RollupConfig({
            stakingAsset: vm.envOr("STAKING_ASSET", address(0)),
            // Fixed here rather than left to the constructor (0 = deployment block) so the simulated
            // run that writes the JSON and the broadcast transaction agree on it.
            genesisTime: vm.envOr("GENESIS_TIME", block.timestamp),
            genesisArchive: vm.envOr("GENESIS_ARCHIVE", keccak256("proofline.genesis")),
            slotDuration: slotDuration,
            epochDuration: epochDuration,
            targetCommitteeSize: vm.envOr("TARGET_COMMITTEE_SIZE", uint256(48)),
            minStake: vm.envOr("MIN_STAKE", uint256(100 ether)),
            // The Rollup's floor is two epochs (a leaving validator may sit on the next committee);
            // the default keeps one epoch of margin above it.
            validatorExitDelay: vm.envOr("VALIDATOR_EXIT_DELAY", 3 * epochDuration * slotDuration)
        });
        p.stakeValidators = vm.envOr("STAKE_VALIDATORS", uint256(0));
    }

    /// @dev Stakes validators whose keys derive from the test mnemonic, each its own withdrawer,
    ///      paid for by the deployer (which mints the stake when the asset is a DevToken). Staked in
    ///      epoch 0, they first sit on epoch 2's committee: epochs 0 and 1 have none.
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
        for (uint32 index = 1; index <= n; ++index) {
            address attester = vm.addr(vm.deriveKey(TEST_MNEMONIC, index));
            attesters[index - 1] = attester;
            rollup.stake(attester, attester);
        }
    }

    /// @dev `deployBlock` is the chain head the script ran against: the deployment lands after it,
    ///      so it is a safe block to scan the Rollup's events from.
    function _record(Rollup rollup, address deployer, address[] memory validators) internal {
        string memory o = "deployment";
        vm.serializeUint(o, "chainId", block.chainid);
        vm.serializeAddress(o, "rollup", address(rollup));
        vm.serializeAddress(o, "stakingAsset", address(rollup.STAKING_ASSET()));
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
