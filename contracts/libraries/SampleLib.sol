// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title SampleLib
/// @notice Committee sampling without replacement by a swap-or-not shuffle (SPEC 3), and proposer
///         election.
/// @dev Swap-or-not (Hoang, Morris, Rogaway 2012; as in Ethereum's `compute_shuffled_index`) maps an
///      index to its place in a pseudo-random permutation of [0, n) in a fixed number of rounds,
///      without touching the other n-1 elements. The committee is the first k places of that
///      permutation: members are distinct because a permutation is injective, and the cost is
///      O(k * ROUNDS), independent of n.
///
///      Round r, for index i:
///        pivot  = keccak256(seed ++ uint8(r)) mod n
///        flip   = (pivot + n - i) mod n
///        pos    = max(i, flip)
///        source = keccak256(seed ++ uint8(r) ++ uint32(pos / 256))
///        i      = flip if bit (pos mod 256) of source is set
///      `pos` is the same for i and flip, so both make the same choice: each round is a bijection.
///      The test suite holds a plain Solidity copy of these lines and checks this one against it.
library SampleLib {
    /// @notice Ethereum's round count, which its analysis deems safe for sets well beyond 2^20.
    uint256 internal constant SHUFFLE_ROUNDS = 90;

    /// @notice The places in [0, n) of the first `k` elements of the seed's permutation.
    /// @dev Requires 0 < k <= n < 2^40. Pivots are shared by all k members and computed once.
    function sampleIndices(uint256 n, uint256 k, bytes32 seed)
        internal
        pure
        returns (uint256[] memory indices)
    {
        indices = new uint256[](k);
        // pivots[r] = pivot_r + n, so that `pivot + n - i` needs no add in the hot loop.
        uint256[] memory pivots = new uint256[](SHUFFLE_ROUNDS);
        assembly ("memory-safe") {
            let one := shl(248, 1)
            let rounds := SHUFFLE_ROUNDS
            mstore(0x00, seed)
            let pv := add(pivots, 0x20)
            let end := add(pv, shl(5, rounds))
            {
                let rb := 0
                for { let p := pv } lt(p, end) { p := add(p, 0x20) } {
                    mstore(0x20, rb)
                    mstore(p, add(mod(keccak256(0x00, 33), n), n))
                    rb := add(rb, one)
                }
            }
            let out := add(indices, 0x20)
            for { let i := 0 } lt(i, k) { i := add(i, 1) } {
                let idx := i
                let rb := 0
                // Five rounds per iteration (SHUFFLE_ROUNDS is a multiple of 5). Each round is
                // branch-free: the max and the swap are xor-masks selected by a 0/1 multiplier.
                for { let p := pv } lt(p, end) { p := add(p, 0xa0) } {
                    {
                        let flip := mod(sub(mload(p), idx), n)
                        let d := xor(idx, flip)
                        let pos := xor(idx, mul(d, lt(idx, flip)))
                        mstore(0x20, or(rb, shl(216, shr(8, pos))))
                        idx := xor(idx, mul(d, and(shr(and(pos, 0xff), keccak256(0x00, 37)), 1)))
                        rb := add(rb, one)
                    }
                    {
                        let flip := mod(sub(mload(add(p, 0x20)), idx), n)
                        let d := xor(idx, flip)
                        let pos := xor(idx, mul(d, lt(idx, flip)))
                        mstore(0x20, or(rb, shl(216, shr(8, pos))))
                        idx := xor(idx, mul(d, and(shr(and(pos, 0xff), keccak256(0x00, 37)), 1)))
                        rb := add(rb, one)
                    }
                    {
                        let flip := mod(sub(mload(add(p, 0x40)), idx), n)
                        let d := xor(idx, flip)
                        let pos := xor(idx, mul(d, lt(idx, flip)))
                        mstore(0x20, or(rb, shl(216, shr(8, pos))))
                        idx := xor(idx, mul(d, and(shr(and(pos, 0xff), keccak256(0x00, 37)), 1)))
                        rb := add(rb, one)
                    }
                    {
                        let flip := mod(sub(mload(add(p, 0x60)), idx), n)
                        let d := xor(idx, flip)
                        let pos := xor(idx, mul(d, lt(idx, flip)))
                        mstore(0x20, or(rb, shl(216, shr(8, pos))))
                        idx := xor(idx, mul(d, and(shr(and(pos, 0xff), keccak256(0x00, 37)), 1)))
                        rb := add(rb, one)
                    }
                    {
                        let flip := mod(sub(mload(add(p, 0x80)), idx), n)
                        let d := xor(idx, flip)
                        let pos := xor(idx, mul(d, lt(idx, flip)))
                        mstore(0x20, or(rb, shl(216, shr(8, pos))))
                        idx := xor(idx, mul(d, and(shr(and(pos, 0xff), keccak256(0x00, 37)), 1)))
                        rb := add(rb, one)
                    }
                }
                mstore(add(out, shl(5, i)), idx)
            }
        }
    }

    /// @notice Index into the committee of the proposer of `slot` in `epoch`:
    ///         hash(epoch, slot, seed) mod committeeSize (SPEC 3). `slot` is the absolute slot.
    function proposerIndex(uint256 epoch, uint256 slot, bytes32 seed, uint256 committeeSize)
        internal
        pure
        returns (uint256)
    {
        return uint256(keccak256(abi.encode(epoch, slot, seed))) % committeeSize;
    }
}
