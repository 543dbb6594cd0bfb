// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title IEpochVerifier
/// @notice The proof system behind `submitEpochRootProof` (SPEC 5.4). The Rollup calls `verify`
///         with the epoch proof and its public inputs, in this order:
///           [0] previousArchive   archive of the proven tip the epoch builds on
///           [1] endArchive        archive of the epoch's last block
///           [2] epoch             the epoch proven (uint256)
///           [3] endBlockNumber    number of the epoch's last block (uint256)
///           [4] prover            address bound to the proof (uint160 in the low bytes)
///           [5] feesHash          keccak256(abi.encode(FeeRecipient[])): per block, in order, the
///                                 coinbase of its header and the fees it collected
///         A real verifier (e.g. a PLONK/Honk verifier generated for the epoch circuit) checks
///         that `proof` proves the circuit for exactly these inputs; it may hash them into its
///         field as the circuit expects. Swap verifiers by deploying a Rollup with another one.
interface IEpochVerifier {
    function verify(bytes calldata proof, bytes32[] calldata publicInputs) external view returns (bool);
}
