// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {SampleLib} from "../../contracts/libraries/SampleLib.sol";
import {SampleLibHarness} from "../harnesses/SampleLibHarness.sol";
import {stdError} from "forge-std/StdError.sol";
import {Test} from "forge-std/Test.sol";

/// @dev SPEC 3: the committee is min(K, set size) distinct validators drawn by a swap-or-not shuffle;
///      the proposer of slot s of epoch N is committee[hash(N, s, seed) % committeeSize].
contract SampleLibTest is Test {
    /// @dev SampleLib's documented precondition: n < 2^40.
    uint256 internal constant MAX_N = (1 << 40) - 1;

    SampleLibHarness internal harness;

    function setUp() public {
        harness = new SampleLibHarness();
    }

    // ----------------------------------------------------------------------------------------
    // Reference: the swap-or-not of SampleLib's NatSpec, line for line, with no tricks.
    // ----------------------------------------------------------------------------------------

    function _refShuffledIndex(uint256 index, uint256 n, bytes32 seed) internal pure returns (uint256 i) {
        i = index;
        for (uint256 r = 0; r < SampleLib.SHUFFLE_ROUNDS; r++) {
            uint256 pivot = uint256(keccak256(abi.encodePacked(seed, uint8(r)))) % n;
            uint256 flip = (pivot + n - i) % n;
            uint256 pos = i > flip ? i : flip;
            bytes32 source = keccak256(abi.encodePacked(seed, uint8(r), uint32(pos >> 8)));
            if ((uint256(source) >> (pos % 256)) & 1 == 1) i = flip;
        }
    }

    function _refSample(uint256 n, uint256 k, bytes32 seed) internal pure returns (uint256[] memory out) {
        out = new uint256[](k);
        for (uint256 i = 0; i < k; i++) {
            out[i] = _refShuffledIndex(i, n, seed);
        }
    }

    function _assertMatchesReference(uint256 n, uint256 k, bytes32 seed) internal pure {
        uint256[] memory got = SampleLib.sampleIndices(n, k, seed);
        assertEq(got.length, k, "length");
        for (uint256 i = 0; i < k; i++) {
            assertEq(got[i], _refShuffledIndex(i, n, seed), "sampleIndices differs from the reference");
        }
    }

    /// @dev Every value in [0, n), each exactly once.
    function _assertPermutation(uint256[] memory perm, uint256 n) internal pure {
        assertEq(perm.length, n, "length");
        bool[] memory seen = new bool[](n);
        for (uint256 i = 0; i < n; i++) {
            assertLt(perm[i], n, "out of range");
            assertFalse(seen[perm[i]], "index hit twice");
            seen[perm[i]] = true;
        }
    }

    function _assertDistinctInRange(uint256[] memory xs, uint256 n) internal pure {
        for (uint256 i = 0; i < xs.length; i++) {
            assertLt(xs[i], n, "out of range");
            for (uint256 j = 0; j < i; j++) {
                assertTrue(xs[i] != xs[j], "duplicate member");
            }
        }
    }

    // ----------------------------------------------------------------------------------------
    // The assembly against the reference
    // ----------------------------------------------------------------------------------------

    function testFuzz_sampleIndices_MatchesReference(uint256 n, uint256 k, bytes32 seed) public pure {
        n = bound(n, 1, 1_000_000);
        k = bound(k, 1, n < 64 ? n : 64);
        _assertMatchesReference(n, k, seed);
    }

    /// @dev Large sets make `pos >> 8` use all 32 bits of the packed chunk index.
    function testFuzz_sampleIndices_MatchesReference_LargeSet(uint256 n, uint256 k, bytes32 seed)
        public
        pure
    {
        n = bound(n, 1_000_000, MAX_N);
        k = bound(k, 1, 8);
        _assertMatchesReference(n, k, seed);
    }

    /// @dev Sizes around the 256-bit source boundaries and the ends of the allowed range.
    function test_sampleIndices_MatchesReference_EdgeSizes() public pure {
        uint256[14] memory sizes =
            [uint256(1), 2, 3, 5, 255, 256, 257, 511, 512, 513, 65_536, 1 << 32, (1 << 32) + 1, MAX_N];
        for (uint256 j = 0; j < sizes.length; j++) {
            uint256 n = sizes[j];
            uint256 k = n < 16 ? n : 16;
            _assertMatchesReference(n, k, keccak256(abi.encode("edge", j)));
            _assertMatchesReference(n, k, bytes32(0));
            _assertMatchesReference(n, k, bytes32(type(uint256).max));
        }
    }

    // ----------------------------------------------------------------------------------------
    // Permutation and committee properties
    // ----------------------------------------------------------------------------------------

    /// @dev Checks the NatSpec's claim that each round is a bijection, on the reference itself.
    /// forge-config: default.fuzz.runs = 24
    /// forge-config: ci.fuzz.runs = 64
    function testFuzz_reference_IsBijection(uint256 n, bytes32 seed) public pure {
        n = bound(n, 1, 300);
        _assertPermutation(_refSample(n, n, seed), n);
    }

    function testFuzz_sampleIndices_FullDrawIsPermutation(uint256 n, bytes32 seed) public pure {
        n = bound(n, 1, 512);
        _assertPermutation(SampleLib.sampleIndices(n, n, seed), n);
    }

    function testFuzz_sampleIndices_DistinctAndInRange(uint256 n, uint256 k, bytes32 seed) public pure {
        // Mostly small sets, where a broken shuffle would collide; sometimes large ones.
        n = n % 4 == 0 ? bound(n, 1, MAX_N) : bound(n, 1, 1024);
        k = bound(k, 1, n < 256 ? n : 256);
        uint256[] memory committee = SampleLib.sampleIndices(n, k, seed);
        assertEq(committee.length, k);
        _assertDistinctInRange(committee, n);
    }

    /// @dev The committee is the first k places of one permutation, so a smaller k is a prefix.
    function testFuzz_sampleIndices_SmallerCommitteeIsPrefix(uint256 n, uint256 k1, uint256 k2, bytes32 seed)
        public
        pure
    {
        n = bound(n, 1, 1_000_000);
        k2 = bound(k2, 1, n < 128 ? n : 128);
        k1 = bound(k1, 1, k2);
        uint256[] memory small = SampleLib.sampleIndices(n, k1, seed);
        uint256[] memory big = SampleLib.sampleIndices(n, k2, seed);
        for (uint256 i = 0; i < k1; i++) {
            assertEq(small[i], big[i]);
        }
    }

    function testFuzz_sampleIndices_Deterministic(uint256 n, uint256 k, bytes32 seed) public view {
        n = bound(n, 1, MAX_N);
        k = bound(k, 1, n < 64 ? n : 64);
        uint256[] memory first = SampleLib.sampleIndices(n, k, seed);
        // Dirty the scratch space and the free memory the assembly uses, then draw again.
        assembly ("memory-safe") {
            mstore(0x00, not(0))
            mstore(0x20, not(0))
            let p := mload(0x40)
            for { let o := 0 } lt(o, 0x1000) { o := add(o, 0x20) } { mstore(add(p, o), not(0)) }
        }
        uint256[] memory second = SampleLib.sampleIndices(n, k, seed);
        uint256[] memory external_ = harness.sampleIndices(n, k, seed);
        assertEq(first, second);
        assertEq(first, external_);
    }

    function testFuzz_sampleIndices_DifferentSeedsDiffer(uint256 n, uint256 k, bytes32 seed1, bytes32 seed2)
        public
        pure
    {
        vm.assume(seed1 != seed2);
        n = bound(n, 100, 1_000_000);
        k = bound(k, 10, 64);
        // Equal committees (same members in the same places) have probability below 100^-10.
        assertTrue(
            keccak256(abi.encode(SampleLib.sampleIndices(n, k, seed1)))
                != keccak256(abi.encode(SampleLib.sampleIndices(n, k, seed2)))
        );
    }

    // ----------------------------------------------------------------------------------------
    // Rough uniformity: n = 100, k = 10, 400 fixed seeds, so each index is expected 40 times.
    // A member count is Binomial(400, 0.1): sd 6, and sum((c - 40)^2) / 40 has mean ~90, sd ~13.
    // The bounds (chi-square 160, any count off by 30 = 5 sd) are generous for a fair shuffle
    // (these seeds give 83.9 and 24) yet reject a sampler with a modest bias toward low indices
    // (see the test after). Over 10,000 seeds the same shuffle gives chi-square 92.
    // ----------------------------------------------------------------------------------------

    uint256 internal constant UNI_N = 100;
    uint256 internal constant UNI_K = 10;
    uint256 internal constant UNI_SEEDS = 400;
    uint256 internal constant UNI_EXPECTED = UNI_SEEDS * UNI_K / UNI_N;
    uint256 internal constant UNI_MAX_CHI2 = 160;
    uint256 internal constant UNI_MAX_DEVIATION = 30;

    function _uniSeed(uint256 i) internal pure returns (bytes32) {
        return keccak256(abi.encode("proofline.sample.uniformity", i));
    }

    /// @return chi2x The chi-square statistic times UNI_EXPECTED (kept an integer).
    /// @return maxDev The largest |count - expected|.
    function _uniformityStats(uint256[] memory counts) internal pure returns (uint256 chi2x, uint256 maxDev) {
        for (uint256 i = 0; i < counts.length; i++) {
            uint256 d = counts[i] > UNI_EXPECTED ? counts[i] - UNI_EXPECTED : UNI_EXPECTED - counts[i];
            chi2x += d * d;
            if (d > maxDev) maxDev = d;
        }
    }

    function _withinUniformityBounds(uint256[] memory counts) internal pure returns (bool) {
        (uint256 chi2x, uint256 maxDev) = _uniformityStats(counts);
        return chi2x <= UNI_MAX_CHI2 * UNI_EXPECTED && maxDev <= UNI_MAX_DEVIATION;
    }

    function test_sampleIndices_RoughlyUniform() public {
        uint256[] memory counts = new uint256[](UNI_N);
        for (uint256 s = 0; s < UNI_SEEDS; s++) {
            uint256[] memory committee = SampleLib.sampleIndices(UNI_N, UNI_K, _uniSeed(s));
            for (uint256 j = 0; j < UNI_K; j++) {
                counts[committee[j]]++;
            }
        }
        (uint256 chi2x, uint256 maxDev) = _uniformityStats(counts);
        emit log_named_uint("chi-square x 40", chi2x);
        emit log_named_uint("max |count - 40|", maxDev);
        // Low and high halves are each expected 2000 times.
        uint256 low;
        for (uint256 i = 0; i < UNI_N / 2; i++) {
            low += counts[i];
        }
        emit log_named_uint("members in the low half", low);
        assertTrue(_withinUniformityBounds(counts), "selection counts too far from uniform");
    }

    /// @dev Keeps the uniformity bounds honest: a sampler whose candidates are one hash byte mod n
    ///      (indices below 56 drawn with odds 3/256, the others 2/256) must fail them.
    function test_uniformityBounds_RejectLowBiasedSampler() public {
        uint256[] memory counts = new uint256[](UNI_N);
        for (uint256 s = 0; s < UNI_SEEDS; s++) {
            uint256[] memory committee = _byteModuloSample(UNI_N, UNI_K, _uniSeed(s));
            for (uint256 j = 0; j < UNI_K; j++) {
                counts[committee[j]]++;
            }
        }
        (uint256 chi2x, uint256 maxDev) = _uniformityStats(counts);
        emit log_named_uint("biased: chi-square x 40", chi2x);
        emit log_named_uint("biased: max |count - 40|", maxDev);
        assertFalse(_withinUniformityBounds(counts), "uniformity bounds accept a biased sampler");
    }

    /// @dev A plausible buggy sampler: distinct draws of uint8(hash) % n, biased toward low indices.
    function _byteModuloSample(uint256 n, uint256 k, bytes32 seed)
        internal
        pure
        returns (uint256[] memory out)
    {
        out = new uint256[](k);
        uint256 nonce;
        for (uint256 i = 0; i < k; i++) {
            while (true) {
                uint256 candidate = uint256(uint8(uint256(keccak256(abi.encode(seed, nonce++))))) % n;
                bool taken;
                for (uint256 j = 0; j < i; j++) {
                    if (out[j] == candidate) taken = true;
                }
                if (!taken) {
                    out[i] = candidate;
                    break;
                }
            }
        }
    }

    // ----------------------------------------------------------------------------------------
    // Proposer election
    // ----------------------------------------------------------------------------------------

    function testFuzz_proposerIndex_MatchesSpec(uint256 epoch, uint256 slot, bytes32 seed, uint256 size)
        public
        pure
    {
        size = bound(size, 1, type(uint256).max);
        uint256 got = SampleLib.proposerIndex(epoch, slot, seed, size);
        assertLt(got, size);
        assertEq(got, uint256(keccak256(abi.encode(epoch, slot, seed))) % size);
    }

    function test_proposerIndex_SmallCommittees() public pure {
        assertEq(SampleLib.proposerIndex(7, 230, bytes32(uint256(1)), 1), 0);
        bytes32 seed = keccak256("proposer");
        for (uint256 slot = 0; slot < 64; slot++) {
            uint256 got = SampleLib.proposerIndex(2, slot, seed, 48);
            assertLt(got, 48);
            assertEq(got, uint256(keccak256(abi.encode(uint256(2), slot, seed))) % 48);
        }
    }

    /// @dev With no committee the caller must not ask for a proposer (SPEC 3: open proposing).
    function test_proposerIndex_RevertWhen_CommitteeEmpty() public {
        vm.expectRevert(stdError.divisionError);
        harness.proposerIndex(1, 2, bytes32(uint256(3)), 0);
    }
}
