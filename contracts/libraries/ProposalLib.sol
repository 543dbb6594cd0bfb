// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ProposeArgs} from "../interfaces/IRollup.sol";
import {Slot} from "./TimeLib.sol";

/// @title ProposalLib
/// @notice The EIP-712 struct a committee attests (SPEC 4): it binds slot, block number, previous
///         and new archive, state root and the DA commitment, and the forced-inclusion header
///         fields (SPEC 7): the block's tx count, how many queue entries lead it and their hash.
///         The archive is a tree of headers, so everything else in the header is bound through it.
library ProposalLib {
    bytes32 internal constant PROPOSAL_TYPEHASH = keccak256(
        "Proposal(uint256 slot,uint256 blockNumber,bytes32 previousArchive,bytes32 archive,bytes32 stateRoot,bytes32 blobsHash,uint256 txCount,uint256 forcedTxCount,bytes32 forcedTxsHash)"
    );

    /// @notice The DA commitment: keccak256 over the blobs' versioned hashes, in order.
    function blobsHash(bytes32[] calldata blobHashes) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(blobHashes));
    }

    function structHash(ProposeArgs calldata args) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                PROPOSAL_TYPEHASH,
                Slot.unwrap(args.slot),
                args.blockNumber,
                args.previousArchive,
                args.archive,
                args.stateRoot,
                blobsHash(args.blobHashes),
                args.txCount,
                args.forcedTxCount,
                args.forcedTxsHash
            )
        );
    }
}
