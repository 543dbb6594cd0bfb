// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ITxProofVerifier} from "../interfaces/ITxProofVerifier.sol";

/// @title InsecureDevTxProofVerifier
/// @notice PROVES NOTHING. For local devnets and tests only: the "proof" of a transaction is
///         keccak256 of its data, and the owner can make it refuse everything.
contract InsecureDevTxProofVerifier is ITxProofVerifier {
    address public immutable OWNER;
    bool public accepting = true;

    event AcceptingSet(bool accepting);

    error InsecureDevTxProofVerifier__NotOwner(address owner, address caller);

    constructor(address owner) {
        OWNER = owner;
    }

    function setAccepting(bool accepting_) external {
        require(msg.sender == OWNER, InsecureDevTxProofVerifier__NotOwner(OWNER, msg.sender));
        accepting = accepting_;
        emit AcceptingSet(accepting_);
    }

    function verifyTx(bytes calldata txData, bytes calldata proof) external view override returns (bool) {
        return accepting && proof.length == 32 && bytes32(proof) == keccak256(txData);
    }
}
