// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";

import {InsecureDevTxProofVerifier} from "../../contracts/verifiers/InsecureDevTxProofVerifier.sol";

contract InsecureDevTxProofVerifierTest is Test {
    InsecureDevTxProofVerifier internal verifier;

    function setUp() public {
        verifier = new InsecureDevTxProofVerifier(address(this));
    }

    function testFuzz_verifyTx_AcceptsOnlyTheHashOfTheTx(bytes memory txData, bytes memory other)
        public
        view
    {
        vm.assume(keccak256(txData) != keccak256(other));
        assertTrue(verifier.verifyTx(txData, abi.encodePacked(keccak256(txData))));
        assertFalse(verifier.verifyTx(txData, abi.encodePacked(keccak256(other))));
        assertFalse(verifier.verifyTx(txData, abi.encodePacked(keccak256(txData), bytes1(0))));
    }

    function test_setAccepting_OnlyOwnerAndRefusesWhenOff() public {
        bytes memory txData = "tx";
        bytes memory proof = abi.encodePacked(keccak256(txData));
        verifier.setAccepting(false);
        assertFalse(verifier.verifyTx(txData, proof));
        address stranger = makeAddr("stranger");
        vm.expectRevert(
            abi.encodeWithSelector(
                InsecureDevTxProofVerifier.InsecureDevTxProofVerifier__NotOwner.selector,
                address(this),
                stranger
            )
        );
        vm.prank(stranger);
        verifier.setAccepting(true);
    }
}
