//! The committee size K: the smallest K whose committee, sampled without replacement from N
//! validators of which M are malicious, has more than 2K/3 malicious members with probability
//! below ε.

use num_bigint::{BigInt, BigUint};
use num_rational::BigRational;
use num_traits::Zero;

use crate::ParamsError;

/// The least number of malicious members that is more than 2K/3 of a K-member committee:
/// floor(2K/3) + 1. It is also the attestation quorum of SPEC 4, so "more than 2K/3 malicious"
/// means exactly "the malicious members can attest a block on their own".
pub fn supermajority_threshold(committee_size: u64) -> u64 {
    let threshold = u128::from(committee_size) * 2 / 3 + 1;
    u64::try_from(threshold).expect("2K/3 + 1 fits in u64")
}

/// P[X >= threshold] for X, the malicious members of a committee of `committee_size` drawn
/// without replacement, kept as the exact quotient `favourable / total` with
/// `total = C(N, K)` (the committees) and `favourable` the committees with at least
/// `threshold` malicious members.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tail {
    pub committee_size: u64,
    pub threshold: u64,
    pub favourable: BigUint,
    pub total: BigUint,
}

impl Tail {
    pub fn probability(&self) -> BigRational {
        BigRational::new(self.favourable.clone().into(), self.total.clone().into())
    }

    /// Whether the probability is strictly below `bound`, by cross-multiplication (no gcd; a
    /// `BigRational`'s denominator is positive).
    pub fn is_below(&self, bound: &BigRational) -> bool {
        BigInt::from(self.favourable.clone()) * bound.denom()
            < bound.numer() * BigInt::from(self.total.clone())
    }
}

/// The supermajority tails P[X >= floor(2K/3) + 1] for K = 1, 2, ..., N in turn, exactly.
///
/// Each step costs a handful of big-integer by machine-word products and quotients, all exact:
/// with T_K(x) = C(M, x)·C(N - M, K - x), the committees of size K with x malicious members,
/// and S_K(t) = Σ_{x >= t} T_K(x), drawing one more member gives
/// S_{K+1}(t) = ((N - K)·S_K(t) + (M - t + 1)·T_K(t - 1)) / (K + 1),
/// and a threshold that moves up by one subtracts T_{K+1}(t). Only T at x = t - 1 is carried
/// from step to step. The whole scan up to K is O(K²·log N) bit operations, which keeps
/// N = 1,000,000 well under a second for committees of a few hundred.
#[derive(Clone, Debug)]
pub struct SupermajorityTails {
    validators: u64,
    malicious: u64,
    committee_size: u64,
    threshold: u64,
    favourable: BigUint,
    total: BigUint,
    /// T_K(threshold - 1).
    edge: BigUint,
}

impl SupermajorityTails {
    /// # Panics
    /// If `malicious > validators`.
    pub fn new(validators: u64, malicious: u64) -> Self {
        assert!(
            malicious <= validators,
            "{malicious} malicious out of {validators} validators"
        );
        Self {
            validators,
            malicious,
            committee_size: 0,
            threshold: supermajority_threshold(0),
            favourable: BigUint::zero(),
            total: BigUint::from(1u8),
            edge: BigUint::from(1u8),
        }
    }
}

impl Iterator for SupermajorityTails {
    type Item = Tail;

    fn next(&mut self) -> Option<Tail> {
        let (n, m, k) = (self.validators, self.malicious, self.committee_size);
        if k >= n {
            return None;
        }
        let edge_malicious = self.threshold - 1;
        let edge_honest = k - edge_malicious;
        // A non-zero edge has edge_malicious <= M and edge_honest <= N - M, so no subtraction
        // below underflows; a zero edge stays zero, as both counts only grow.
        let mut favourable = &self.favourable * (n - k);
        if !self.edge.is_zero() {
            favourable += &self.edge * (m - edge_malicious);
        }
        self.favourable = favourable / (k + 1);
        self.total = &self.total * (n - k) / (k + 1);
        self.committee_size = k + 1;
        if supermajority_threshold(self.committee_size) > self.threshold {
            if !self.edge.is_zero() {
                self.edge = &self.edge * (m - edge_malicious) / (edge_malicious + 1);
            }
            self.favourable -= &self.edge;
            self.threshold += 1;
        } else if !self.edge.is_zero() {
            self.edge = &self.edge * (n - m - edge_honest) / (edge_honest + 1);
        }
        Some(Tail {
            committee_size: self.committee_size,
            threshold: self.threshold,
            favourable: self.favourable.clone(),
            total: self.total.clone(),
        })
    }
}

/// P[more than 2K/3 of a K-member committee malicious], sampling K of N validators of which M
/// are malicious without replacement; `None` unless 1 <= K <= N.
pub fn supermajority_probability(
    validators: u64,
    malicious: u64,
    committee_size: u64,
) -> Option<BigRational> {
    let index = usize::try_from(committee_size.checked_sub(1)?).ok()?;
    SupermajorityTails::new(validators, malicious)
        .nth(index)
        .map(|tail| tail.probability())
}

/// The chosen K, with the tails around it.
#[derive(Clone, Debug)]
pub struct CommitteeChoice {
    pub chosen: Tail,
    /// K - 1, which does not meet ε (absent for K = 1).
    pub smaller: Option<Tail>,
    /// K + 1 (absent for K = N).
    pub larger: Option<Tail>,
    /// The sizes in (K, `checked_up_to`] that do not meet ε: the tail is not monotone in K,
    /// since floor(2K/3) climbs in steps of 0 and 1.
    pub failing_above: Vec<u64>,
    /// min(2K, N): how far past K the scan went.
    pub checked_up_to: u64,
}

impl CommitteeChoice {
    pub fn size(&self) -> u64 {
        self.chosen.committee_size
    }

    /// The smallest size from which every size up to `checked_up_to` meets ε.
    pub fn stable_from(&self) -> u64 {
        self.failing_above
            .last()
            .map_or(self.size(), |&failing| failing + 1)
    }
}

/// The smallest K <= min(`limit`, N) with P[more than 2K/3 malicious] < ε: literally the
/// smallest, though a larger K may fail again (K = 49 after K = 48 at the defaults). Past it the
/// scan goes on to min(2K, N) to report which larger sizes fail.
pub fn committee_size(
    validators: u64,
    malicious: u64,
    epsilon: &BigRational,
    limit: u64,
) -> Result<CommitteeChoice, ParamsError> {
    let limit = limit.min(validators);
    let mut tails = SupermajorityTails::new(validators, malicious);
    let mut previous: Option<Tail> = None;
    let chosen = loop {
        let Some(tail) = tails.next().filter(|tail| tail.committee_size <= limit) else {
            return Err(ParamsError::NoCommittee { limit, validators });
        };
        if tail.is_below(epsilon) {
            break tail;
        }
        previous = Some(tail);
    };
    let checked_up_to = chosen.committee_size.saturating_mul(2).min(validators);
    let mut larger = None;
    let mut failing_above = Vec::new();
    for tail in tails.take_while(|tail| tail.committee_size <= checked_up_to) {
        if !tail.is_below(epsilon) {
            failing_above.push(tail.committee_size);
        }
        if larger.is_none() {
            larger = Some(tail);
        }
    }
    Ok(CommitteeChoice {
        chosen,
        smaller: previous,
        larger,
        failing_above,
        checked_up_to,
    })
}
