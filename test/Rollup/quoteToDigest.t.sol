// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

import {Rollup} from "../../contracts/core/Rollup.sol";
import {EpochProofQuote} from "../../contracts/libraries/EpochProofQuoteLib.sol";
import {RollupBase} from "../harnesses/RollupBase.sol";

/// @notice SPEC 5.1: the quote digest is EIP-712 with the SPEC's type string and domain, so a quote
///         is useless on another chain, another rollup deployment, or for another epoch.
contract QuoteToDigestTest is RollupBase {
    function setUp() public {
        _deploy(K);
    }

    function _quote() internal pure returns (EpochProofQuote memory) {
        return EpochProofQuote({
            epochToProve: 7,
            validUntilSlot: 300,
            bondAmount: 1000 ether,
            prover: address(0xBEEF),
            basisPointFee: 2500
        });
    }

    /// @dev Built by hand from the SPEC's strings, independently of the contract's libraries.
    function _expected(EpochProofQuote memory q, address verifyingContract, uint256 chainId)
        internal
        pure
        returns (bytes32)
    {
        bytes32 typeHash = keccak256(
            "EpochProofQuote(uint256 epochToProve,uint256 validUntilSlot,uint256 bondAmount,address prover,uint32 basisPointFee)"
        );
        bytes32 domain = _specDomainSeparator(verifyingContract, chainId);
        bytes32 structHash = keccak256(
            abi.encode(typeHash, q.epochToProve, q.validUntilSlot, q.bondAmount, q.prover, q.basisPointFee)
        );
        return keccak256(abi.encodePacked("\x19\x01", domain, structHash));
    }

    function test_quoteToDigest_MatchesSpecEncoding() public view {
        assertEq(rollup.quoteToDigest(_quote()), _expected(_quote(), address(rollup), block.chainid));
    }

    function test_quoteToDigest_FollowsChainIdChange() public {
        bytes32 before = rollup.quoteToDigest(_quote());
        vm.chainId(block.chainid + 1);
        bytes32 afterFork = rollup.quoteToDigest(_quote());
        assertTrue(afterFork != before);
        assertEq(afterFork, _expected(_quote(), address(rollup), block.chainid));
    }

    function test_quoteToDigest_DiffersPerRollupDeployment() public {
        (Rollup other,) = _deployRollup(_config(K));
        assertTrue(other.quoteToDigest(_quote()) != rollup.quoteToDigest(_quote()));
    }

    function testFuzz_quoteToDigest_BindsEveryField(EpochProofQuote memory a, uint256 field, uint256 delta)
        public
        view
    {
        vm.assume(delta != 0);
        EpochProofQuote memory b =
            EpochProofQuote(a.epochToProve, a.validUntilSlot, a.bondAmount, a.prover, a.basisPointFee);
        field = bound(field, 0, 4);
        unchecked {
            if (field == 0) b.epochToProve += delta;
            else if (field == 1) b.validUntilSlot += delta;
            else if (field == 2) b.bondAmount += delta;
            else if (field == 3) b.prover = address(uint160(b.prover) ^ uint160(delta | 1));
            else b.basisPointFee ^= uint32(delta | 1);
        }
        assertTrue(rollup.quoteToDigest(a) != rollup.quoteToDigest(b));
        assertEq(rollup.quoteToDigest(a), _expected(a, address(rollup), block.chainid));
    }

    function test_quoteSignature_RecoversProver() public {
        (address prover, uint256 pk) = makeAddrAndKey("prover");
        EpochProofQuote memory q = _quote();
        q.prover = prover;
        bytes32 digest = rollup.quoteToDigest(q);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(pk, digest);
        assertEq(ECDSA.recover(digest, v, r, s), prover);
    }
}
