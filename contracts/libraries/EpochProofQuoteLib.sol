// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Signature} from "../interfaces/IRollup.sol";

/// @notice A prover's offer to prove one epoch (SPEC 5.1), signed by `prover` under the Rollup's
///         EIP-712 domain {name: "Proofline Rollup", version: "1", chainId, verifyingContract}.
struct EpochProofQuote {
    uint256 epochToProve;
    uint256 validUntilSlot;
    uint256 bondAmount;
    address prover;
    uint32 basisPointFee; // share of the epoch's rewards for the prover, 0..10000
}

struct SignedEpochProofQuote {
    EpochProofQuote quote;
    Signature signature;
}

/// @title EpochProofQuoteLib
/// @notice The EIP-712 struct hash of a quote. The type string is fixed by SPEC 5.1.
library EpochProofQuoteLib {
    bytes32 internal constant EPOCH_PROOF_QUOTE_TYPEHASH = keccak256(
        "EpochProofQuote(uint256 epochToProve,uint256 validUntilSlot,uint256 bondAmount,address prover,uint32 basisPointFee)"
    );

    function structHash(EpochProofQuote memory quote) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                EPOCH_PROOF_QUOTE_TYPEHASH,
                quote.epochToProve,
                quote.validUntilSlot,
                quote.bondAmount,
                quote.prover,
                quote.basisPointFee
            )
        );
    }
}
