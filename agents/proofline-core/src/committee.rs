//! Committee rules the agents apply (SPEC 4): how many attestations a block needs.

/// The quorum of a committee of `size`: floor(2K/3) + 1 (SPEC 4), none without a committee.
pub fn quorum(size: usize) -> usize {
    if size == 0 {
        0
    } else {
        2 * size / 3 + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quorum_is_two_thirds_plus_one() {
        assert_eq!(quorum(0), 0);
        assert_eq!(quorum(1), 1);
        assert_eq!(quorum(2), 2);
        assert_eq!(quorum(3), 3);
        assert_eq!(quorum(4), 3);
        assert_eq!(quorum(8), 6);
        assert_eq!(quorum(48), 33);
    }

    /// More than two thirds, and the smallest such count: one attestation fewer is not enough.
    #[test]
    fn quorum_is_the_smallest_count_above_two_thirds() {
        for k in 1..=300usize {
            let q = quorum(k);
            assert!(3 * q > 2 * k, "K = {k}: {q} is not above 2K/3");
            assert!(3 * (q - 1) <= 2 * k, "K = {k}: {} already is", q - 1);
            assert!(q <= k);
        }
    }
}
