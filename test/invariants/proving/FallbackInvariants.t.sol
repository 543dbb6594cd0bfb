// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ProvingHandler} from "./ProvingHandler.sol";
import {ProvingInvariants} from "./ProvingInvariants.t.sol";

/// @notice Based fallback (SPEC 6) among every actor of ProvingInvariants: the rollup deployed with
///         the shortest FALLBACK_ENTER it accepts, 2 epochs + 1 slot (then one epoch of fallback
///         without a fallback block, two at most),
///         time that passes without proofs, anyone proposing blocks with their proofs, the verifier
///         sometimes refusing everything. Same properties, one campaign (invariant_proverCoordination);
///         test/invariants/PROPERTIES.md ("Based fallback") lists what this suite adds.
contract FallbackInvariants is ProvingInvariants {
    function _newHandler() internal override returns (ProvingHandler) {
        return new ProvingHandler(true);
    }

    function _selectors() internal view override returns (bytes4[] memory selectors) {
        bytes4[] memory base = super._selectors();
        selectors = new bytes4[](base.length + 5);
        for (uint256 i = 0; i < base.length; ++i) {
            selectors[i] = base[i];
        }
        uint256 k = base.length;
        selectors[k++] = ProvingHandler.proposeWithProof.selector;
        selectors[k++] = ProvingHandler.proposeWithProof.selector;
        selectors[k++] = ProvingHandler.warpFallback.selector;
        selectors[k++] = ProvingHandler.setVerifierAccepting.selector;
        selectors[k++] = ProvingHandler.syncFallback.selector;
    }

    function _coveragePrefix() internal pure override returns (string memory) {
        return "FALLBACK_COVERAGE_";
    }
}
