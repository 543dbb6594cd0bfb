// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {SampleLib} from "../../contracts/libraries/SampleLib.sol";

contract SampleLibHarness {
    function sampleIndices(uint256 n, uint256 k, bytes32 seed) external pure returns (uint256[] memory) {
        return SampleLib.sampleIndices(n, k, seed);
    }

    function proposerIndex(uint256 epoch, uint256 slot, bytes32 seed, uint256 size)
        external
        pure
        returns (uint256)
    {
        return SampleLib.proposerIndex(epoch, slot, seed, size);
    }
}
