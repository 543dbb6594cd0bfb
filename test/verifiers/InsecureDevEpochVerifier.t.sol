// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";

import {InsecureDevEpochVerifier} from "../../contracts/verifiers/InsecureDevEpochVerifier.sol";

contract InsecureDevEpochVerifierTest is Test {
    InsecureDevEpochVerifier internal verifier;

    function setUp() public {
        verifier = new InsecureDevEpochVerifier(address(this));
    }

    function _inputs(uint256 seed) internal pure returns (bytes32[] memory pi) {
        pi = new bytes32[](6);
        for (uint256 i = 0; i < 6; ++i) {
            pi[i] = keccak256(abi.encode(seed, i));
        }
    }

    function testFuzz_verify_AcceptsOnlyTheDevProofOfTheseInputs(uint256 seed, uint256 other) public view {
        vm.assume(seed != other);
        bytes32[] memory pi = _inputs(seed);
        bytes memory proof = verifier.devProof(pi);
        assertTrue(verifier.verify(proof, pi));
        assertFalse(verifier.verify(verifier.devProof(_inputs(other)), pi), "proof of other inputs");
        assertFalse(verifier.verify(abi.encodePacked(proof, bytes1(0)), pi), "longer proof");
        assertFalse(verifier.verify("", pi), "empty proof");
    }

    function test_setAccepting_RefusesEverythingWhenOff() public {
        bytes32[] memory pi = _inputs(1);
        bytes memory proof = verifier.devProof(pi);
        vm.expectEmit(address(verifier));
        emit InsecureDevEpochVerifier.AcceptingSet(false);
        verifier.setAccepting(false);
        assertFalse(verifier.verify(proof, pi));
        verifier.setAccepting(true);
        assertTrue(verifier.verify(proof, pi));
    }

    function test_setAccepting_RevertWhen_NotOwner() public {
        address stranger = makeAddr("stranger");
        vm.expectRevert(
            abi.encodeWithSelector(
                InsecureDevEpochVerifier.InsecureDevEpochVerifier__NotOwner.selector, address(this), stranger
            )
        );
        vm.prank(stranger);
        verifier.setAccepting(false);
    }
}
