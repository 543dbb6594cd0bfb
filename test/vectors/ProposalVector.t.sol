// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ProposeArgs} from "../../contracts/interfaces/IRollup.sol";
import {ProposalLib} from "../../contracts/libraries/ProposalLib.sol";
import {Slot} from "../../contracts/libraries/TimeLib.sol";
import {RollupBase} from "../harnesses/RollupBase.sol";

/// @notice The proposal digest shared with the Rust agents: `test-vectors/proposal.json` holds fixed
///         `ProposeArgs`, the chain id, the Rollup's address and every hash on the way to
///         `rollup.proposalDigest(args)`; `agents/proofline-core` (proposal.rs) recomputes each one.
///         This test checks the committed file against the deployed contract, so a change on the
///         Solidity side fails here until the vector is regenerated and the Rust test re-run:
///
///           PROOFLINE_WRITE_VECTORS=true forge test --match-path test/vectors/ProposalVector.t.sol
///           cargo test -p proofline-core digest_matches_the_contract_vector
contract ProposalVectorTest is RollupBase {
    string internal constant PATH = "test-vectors/proposal.json";
    string internal constant STALE =
        "test-vectors/proposal.json is stale: regenerate (see ProposalVector.t.sol)";
    /// @dev Not forge's default, so a digest that ignored the chain id would not match by luck.
    uint256 internal constant CHAIN_ID = 11_155_111;
    bytes32 internal constant EIP712_DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");

    function setUp() public {
        vm.chainId(CHAIN_ID);
        _deploy();
    }

    /// @dev Every field set, none equal to another, two blobs, three forced txs out of 17.
    function _args() internal pure returns (ProposeArgs memory args) {
        bytes32[] memory blobs = new bytes32[](2);
        blobs[0] = bytes32((uint256(0x01) << 248) | (uint256(keccak256("proofline.vector.blob0")) >> 8));
        blobs[1] = bytes32((uint256(0x01) << 248) | (uint256(keccak256("proofline.vector.blob1")) >> 8));
        bytes32[] memory forced = new bytes32[](3);
        for (uint256 i = 0; i < 3; ++i) {
            forced[i] = keccak256(abi.encode("proofline.vector.forcedTx", i));
        }
        args = ProposeArgs({
            blockNumber: 987_654,
            slot: Slot.wrap(1_234_567),
            previousArchive: keccak256("proofline.vector.previousArchive"),
            archive: keccak256("proofline.vector.archive"),
            stateRoot: keccak256("proofline.vector.stateRoot"),
            blobHashes: blobs,
            txCount: 17,
            forcedTxCount: 3,
            forcedTxsHash: keccak256(abi.encodePacked(forced))
        });
    }

    function _domainSeparator() internal view returns (bytes32) {
        (, string memory name, string memory version, uint256 chainId, address verifyingContract,,) =
            rollup.eip712Domain();
        return keccak256(
            abi.encode(
                EIP712_DOMAIN_TYPEHASH,
                keccak256(bytes(name)),
                keccak256(bytes(version)),
                chainId,
                verifyingContract
            )
        );
    }

    function _structHash(ProposeArgs memory args) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                ProposalLib.PROPOSAL_TYPEHASH,
                Slot.unwrap(args.slot),
                args.blockNumber,
                args.previousArchive,
                args.archive,
                args.stateRoot,
                keccak256(abi.encodePacked(args.blobHashes)),
                args.txCount,
                args.forcedTxCount,
                args.forcedTxsHash
            )
        );
    }

    function test_proposalVector_MatchesContractAndCommittedJson() public {
        ProposeArgs memory args = _args();
        bytes32 domainSeparator = _domainSeparator();
        bytes32 structHash = _structHash(args);
        bytes32 digest = rollup.proposalDigest(args);
        // The hashes the vector records are the ones the contract's digest is made of.
        assertEq(keccak256(abi.encodePacked(hex"1901", domainSeparator, structHash)), digest, "digest parts");

        if (vm.envOr("PROOFLINE_WRITE_VECTORS", false)) {
            _write(args, domainSeparator, structHash, digest);
        }

        string memory json = vm.readFile(PATH);
        assertEq(vm.parseJsonUint(json, ".chainId"), block.chainid, STALE);
        assertEq(vm.parseJsonAddress(json, ".rollup"), address(rollup), STALE);
        assertEq(vm.parseJsonUint(json, ".args.blockNumber"), args.blockNumber, STALE);
        assertEq(vm.parseJsonUint(json, ".args.slot"), Slot.unwrap(args.slot), STALE);
        assertEq(vm.parseJsonBytes32(json, ".args.previousArchive"), args.previousArchive, STALE);
        assertEq(vm.parseJsonBytes32(json, ".args.archive"), args.archive, STALE);
        assertEq(vm.parseJsonBytes32(json, ".args.stateRoot"), args.stateRoot, STALE);
        assertEq(vm.parseJsonBytes32Array(json, ".args.blobHashes"), args.blobHashes, STALE);
        assertEq(vm.parseJsonUint(json, ".args.txCount"), args.txCount, STALE);
        assertEq(vm.parseJsonUint(json, ".args.forcedTxCount"), args.forcedTxCount, STALE);
        assertEq(vm.parseJsonBytes32(json, ".args.forcedTxsHash"), args.forcedTxsHash, STALE);
        assertEq(vm.parseJsonBytes32(json, ".typeHash"), ProposalLib.PROPOSAL_TYPEHASH, STALE);
        assertEq(vm.parseJsonBytes32(json, ".domainSeparator"), domainSeparator, STALE);
        assertEq(vm.parseJsonBytes32(json, ".blobsHash"), keccak256(abi.encodePacked(args.blobHashes)), STALE);
        assertEq(vm.parseJsonBytes32(json, ".structHash"), structHash, STALE);
        assertEq(vm.parseJsonBytes32(json, ".digest"), digest, STALE);
    }

    /// @dev Numbers as decimal strings: JSON numbers lose precision past 2^53 in most readers.
    function _write(ProposeArgs memory args, bytes32 domainSeparator, bytes32 structHash, bytes32 digest)
        internal
    {
        string memory a = "args";
        vm.serializeString(a, "blockNumber", vm.toString(args.blockNumber));
        vm.serializeString(a, "slot", vm.toString(Slot.unwrap(args.slot)));
        vm.serializeBytes32(a, "previousArchive", args.previousArchive);
        vm.serializeBytes32(a, "archive", args.archive);
        vm.serializeBytes32(a, "stateRoot", args.stateRoot);
        vm.serializeBytes32(a, "blobHashes", args.blobHashes);
        vm.serializeString(a, "txCount", vm.toString(args.txCount));
        vm.serializeString(a, "forcedTxCount", vm.toString(args.forcedTxCount));
        string memory argsJson = vm.serializeBytes32(a, "forcedTxsHash", args.forcedTxsHash);

        string memory o = "vector";
        vm.serializeString(
            o,
            "note",
            "Written by test/vectors/ProposalVector.t.sol (PROOFLINE_WRITE_VECTORS=true); checked by it and by agents/proofline-l2"
        );
        vm.serializeString(o, "chainId", vm.toString(block.chainid));
        vm.serializeAddress(o, "rollup", address(rollup));
        vm.serializeString(o, "args", argsJson);
        vm.serializeBytes32(o, "typeHash", ProposalLib.PROPOSAL_TYPEHASH);
        vm.serializeBytes32(o, "domainSeparator", domainSeparator);
        vm.serializeBytes32(o, "blobsHash", keccak256(abi.encodePacked(args.blobHashes)));
        vm.serializeBytes32(o, "structHash", structHash);
        string memory json = vm.serializeBytes32(o, "digest", digest);
        vm.writeJson(json, PATH);
    }
}
