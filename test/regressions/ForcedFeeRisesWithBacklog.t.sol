// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ForcedBase} from "../harnesses/ForcedBase.sol";

/// @notice F-10 (review, economic): the forced-inclusion fee priced L1 gas only. Once due entries
///         exceed one block's blob capacity, no block may carry ordinary txs (SPEC 7), so keeping
///         the queue crowded cost no more per entry than one honest forced tx: about 0.28 ETH an
///         hour at 1 gwei. The fee must rise with the backlog (anchor: Taiko's doubles at 50
///         pending entries).
contract ForcedFeeRisesWithBacklogTest is ForcedBase {
    function setUp() public {
        _setUpForced(0);
        vm.fee(1 gwei);
        vm.blobBaseFee(1);
    }

    function test_feeDoublesWithFiftyPendingEntries() public {
        uint256 empty = queue.enqueueFee(200);
        _enqueueN(50);
        uint256 fifty = queue.enqueueFee(200);
        assertEq(fifty, 2 * empty, "fifty pending entries do not double the fee");
        _enqueueN(50);
        assertEq(queue.enqueueFee(200), 3 * empty, "a hundred pending entries do not triple the fee");
    }
}
