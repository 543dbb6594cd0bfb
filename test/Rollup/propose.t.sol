// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {CommitteeAttestations, ProposeArgs} from "../../contracts/interfaces/IRollup.sol";
import {RollupBase} from "../harnesses/RollupBase.sol";

contract ProposeTest is RollupBase {
    function setUp() public {
        _deploy();
        _stakeValidators(64);
        _warpToEpoch(2);
    }

    function test_propose_AppendsBlock() public {
        ProposeArgs memory args = _proposeNext();
        assertEq(rollup.getPendingBlockNumber(), 1);
        assertEq(rollup.getBlock(1).archive, args.archive);
    }
}
