// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title ITxProofVerifier
/// @notice Checks a forced transaction's client proof (SPEC 7) before it is queued: that `txData`
///         is a well-formed L2 transaction whose client-side proof verifies, so a forced entry can
///         fail at execution but never be garbage the chain must carry.
interface ITxProofVerifier {
    function verifyTx(bytes calldata txData, bytes calldata proof) external view returns (bool);
}
