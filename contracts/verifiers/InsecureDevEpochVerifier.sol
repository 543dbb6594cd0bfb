// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IEpochVerifier} from "../interfaces/IEpochVerifier.sol";

/// @title InsecureDevEpochVerifier
/// @notice PROVES NOTHING. For local devnets and tests only: it accepts a "proof" that is just
///         keccak256 of the public inputs, so agents exercise the real submission path, and its
///         owner can make it refuse everything (tests of the failure paths). Never deploy it
///         where anything of value depends on the rollup.
contract InsecureDevEpochVerifier is IEpochVerifier {
    address public immutable OWNER;
    bool public accepting = true;

    event AcceptingSet(bool accepting);

    error InsecureDevEpochVerifier__NotOwner(address owner, address caller);

    constructor(address owner) {
        OWNER = owner;
    }

    function setAccepting(bool accepting_) external {
        require(msg.sender == OWNER, InsecureDevEpochVerifier__NotOwner(OWNER, msg.sender));
        accepting = accepting_;
        emit AcceptingSet(accepting_);
    }

    /// @notice The "proof" a dev prover produces for `publicInputs`.
    function devProof(bytes32[] calldata publicInputs) external pure returns (bytes memory) {
        return abi.encodePacked(keccak256(abi.encodePacked(publicInputs)));
    }

    function verify(bytes calldata proof, bytes32[] calldata publicInputs)
        external
        view
        override
        returns (bool)
    {
        return accepting && proof.length == 32 && bytes32(proof) == keccak256(abi.encodePacked(publicInputs));
    }
}
