//! The claim window C: the smallest number of consecutive claim slots whose proposers, each
//! drawn independently from the committee and malicious with probability f, are all malicious
//! with probability below ε. That probability is f^C.

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Pow, Zero};

/// The longest claim window `claim_window` looks for. f^C < ε needs C near ln ε / ln f, which
/// for f a hair below 1 is astronomically large; the bound keeps f^C's exact numerator and
/// denominator at a size that computes in moments.
pub const CLAIM_WINDOW_LIMIT: u64 = 1 << 20;

/// f^slots, exactly: every one of `slots` proposers drawn independently is malicious.
pub fn all_malicious_probability(fraction: &BigRational, slots: u64) -> BigRational {
    let numerator: BigInt = Pow::pow(fraction.numer(), slots);
    let denominator: BigInt = Pow::pow(fraction.denom(), slots);
    BigRational::new(numerator, denominator)
}

/// The smallest C in 1..=`limit` with f^C < ε, for 0 < ε < 1; `None` if there is none (always
/// so for f >= 1). f = 0 gives C = 1.
///
/// For 0 < f < 1, f^C falls strictly with C, so doubling C until f^C < ε and then bisecting
/// finds the smallest C in O(log C) exact powers, where a step-by-step product would need C
/// multiplications of ever larger numbers.
pub fn claim_window(fraction: &BigRational, epsilon: &BigRational, limit: u64) -> Option<u64> {
    if fraction >= &BigRational::one() || limit == 0 {
        return None;
    }
    let meets = |slots: u64| &all_malicious_probability(fraction, slots) < epsilon;
    if fraction.is_zero() {
        return meets(1).then_some(1);
    }
    let mut failing = 0;
    let mut meeting = 1;
    while !meets(meeting) {
        if meeting >= limit {
            return None;
        }
        failing = meeting;
        meeting = meeting.saturating_mul(2).min(limit);
    }
    while meeting - failing > 1 {
        let middle = failing + (meeting - failing) / 2;
        if meets(middle) {
            meeting = middle;
        } else {
            failing = middle;
        }
    }
    Some(meeting)
}
