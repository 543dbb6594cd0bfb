//! `proofline-params` against probabilities computed here by other exact methods: binomials
//! from factorials, the hypergeometric pmf by its ratio recurrence over x, and brute-force
//! enumeration of every committee.

use num_bigint::{BigInt, BigUint};
use num_rational::BigRational;
use num_traits::{One, Zero};
use proofline_params::{
    all_malicious_probability, claim_window, committee_size, derive, malicious_count,
    parse_rational, supermajority_probability, supermajority_threshold, Inputs, ParamsError,
    SupermajorityTails, CLAIM_WINDOW_LIMIT,
};
use proptest::prelude::*;

fn ratio(numerator: u64, denominator: u64) -> BigRational {
    BigRational::new(numerator.into(), denominator.into())
}

fn rational(text: &str) -> BigRational {
    parse_rational(text).unwrap()
}

fn factorial(n: u64) -> BigUint {
    (1..=n).fold(BigUint::one(), |product, i| product * i)
}

/// C(n, k) = n! / (k! (n - k)!), zero outside 0 <= k <= n.
fn binomial(n: u64, k: u64) -> BigUint {
    if k > n {
        return BigUint::zero();
    }
    factorial(n) / (factorial(k) * factorial(n - k))
}

/// P[X >= t] = Σ_{x >= t} C(M, x)·C(N - M, K - x) / C(N, K), from factorials.
fn factorial_tail(n: u64, m: u64, k: u64, t: u64) -> BigRational {
    let favourable: BigUint = (t..=k.min(m))
        .map(|x| binomial(m, x) * binomial(n - m, k - x))
        .sum();
    BigRational::new(favourable.into(), binomial(n, k).into())
}

/// P[X >= t] from the pmf's ratio recurrence
/// p(x + 1) / p(x) = (M - x)(K - x) / ((x + 1)(N - M - K + x + 1)), starting from
/// p(0) = Π_{i<K} (N - M - i) / (N - i), so for K <= N - M.
fn ratio_tail(n: u64, m: u64, k: u64, t: u64) -> BigRational {
    assert!(k <= n - m, "ratio_tail needs p(0) > 0");
    let mut pmf = (0..k).fold(BigRational::one(), |p, i| p * ratio(n - m - i, n - i));
    let mut tail = BigRational::zero();
    for x in 0..=k.min(m) {
        if x >= t {
            tail += &pmf;
        }
        if x < k.min(m) {
            pmf *= ratio((m - x) * (k - x), (x + 1) * (n - m - k + x + 1));
        }
    }
    tail
}

/// (committees with at least t malicious members, all committees) over every K-subset of N
/// validators, the first M malicious.
fn brute_force(n: u64, m: u64, k: u64, t: u64) -> (u64, u64) {
    let malicious_mask = (1u32 << m) - 1;
    let (mut favourable, mut total) = (0, 0);
    for committee in 0u32..(1 << n) {
        if u64::from(committee.count_ones()) == k {
            total += 1;
            if u64::from((committee & malicious_mask).count_ones()) >= t {
                favourable += 1;
            }
        }
    }
    (favourable, total)
}

fn spec_defaults() -> Inputs {
    Inputs::default()
}

#[test]
fn threshold_is_more_than_two_thirds() {
    for k in 0..300u64 {
        let t = supermajority_threshold(k);
        assert!(3 * t > 2 * k, "K = {k}: {t} is not more than 2K/3");
        assert!(3 * (t - 1) <= 2 * k, "K = {k}: {} is already more", t - 1);
    }
    assert_eq!(supermajority_threshold(48), 33);
    assert_eq!(supermajority_threshold(47), 32);
    assert_eq!(supermajority_threshold(49), 33);
}

#[test]
fn every_tail_for_twenty_validators_matches_factorials() {
    for m in 0..=20 {
        let tails: Vec<_> = SupermajorityTails::new(20, m).collect();
        assert_eq!(tails.len(), 20);
        for (tail, k) in tails.iter().zip(1u64..) {
            let t = supermajority_threshold(k);
            assert_eq!((tail.committee_size, tail.threshold), (k, t));
            assert_eq!(tail.total, binomial(20, k), "C(20, {k})");
            assert_eq!(
                tail.probability(),
                factorial_tail(20, m, k, t),
                "N = 20, M = {m}, K = {k}"
            );
        }
    }
}

#[test]
fn tails_for_a_hundred_validators_match_both_references() {
    for m in [0, 1, 10, 33, 50, 66, 67, 99, 100] {
        for k in [1, 2, 3, 10, 30, 48, 49, 60, 99, 100] {
            let expected = factorial_tail(100, m, k, supermajority_threshold(k));
            assert_eq!(
                supermajority_probability(100, m, k).unwrap(),
                expected,
                "N = 100, M = {m}, K = {k}"
            );
            if k <= 100 - m {
                assert_eq!(ratio_tail(100, m, k, supermajority_threshold(k)), expected);
            }
        }
    }
}

#[test]
fn tails_for_ten_thousand_validators_match_the_ratio_recurrence() {
    let tails: Vec<_> = SupermajorityTails::new(10_000, 3333).take(100).collect();
    for k in [1u64, 2, 3, 10, 46, 47, 48, 49, 50, 100] {
        let tail = &tails[usize::try_from(k).unwrap() - 1];
        assert_eq!(
            tail.probability(),
            ratio_tail(10_000, 3333, k, supermajority_threshold(k)),
            "K = {k}"
        );
    }
}

#[test]
fn the_spec_defaults_give_k_48_and_c_13() {
    let report = derive(spec_defaults()).unwrap();
    assert_eq!(report.malicious, 3333);
    assert_eq!(report.committee_size(), 48);
    assert_eq!(report.claim_window(), 13);

    let epsilon = ratio(1, 1_000_000);
    let k47 = ratio_tail(10_000, 3333, 47, 32);
    let k48 = ratio_tail(10_000, 3333, 48, 33);
    let k49 = ratio_tail(10_000, 3333, 49, 33);
    assert!(k47 >= epsilon && k48 < epsilon && k49 >= epsilon);
    assert_eq!(report.committee.chosen.probability(), k48);
    assert_eq!(
        report.committee.smaller.as_ref().unwrap().probability(),
        k47
    );
    assert_eq!(report.committee.larger.as_ref().unwrap().probability(), k49);
    assert_eq!(report.committee.failing_above, vec![49]);
    assert_eq!(report.committee.stable_from(), 50);
    assert_eq!(report.committee.checked_up_to, 96);

    assert_eq!(report.claim.probability, ratio(1, 1_594_323));
    assert_eq!(report.claim.smaller, Some(ratio(1, 531_441)));
    assert_eq!(report.proving_slots(), 19);
    assert_eq!(report.proving_seconds(), 684);

    let text = report.to_string();
    assert!(text.contains("K = 48"), "{text}");
    assert!(text.contains("C = 13"), "{text}");
    assert!(text.contains("5.355e-7"), "{text}");
    assert!(text.contains("19 slots = 684 s"), "{text}");
}

#[test]
fn decimal_fractions_are_taken_exactly() {
    assert_eq!(malicious_count(10_000, &rational("1/3")), 3333);
    assert_eq!(malicious_count(10_000, &rational("0.3333")), 3333);
    assert_eq!(malicious_count(10_000, &rational("0.33339")), 3333);
    assert_eq!(malicious_count(10_000, &rational("0.3334")), 3334);
    assert_eq!(malicious_count(3, &rational("2/3")), 2);
    assert_eq!(malicious_count(10, &rational("0.1")), 1);
    assert_eq!(malicious_count(7, &rational("1")), 7);
    assert_eq!(malicious_count(7, &rational("0")), 0);
    let same = derive(Inputs {
        epsilon: rational("0.000001"),
        malicious_fraction: rational("0.3333"),
        ..spec_defaults()
    })
    .unwrap();
    assert_eq!(same.committee_size(), 48);
    // f = 0.3333 < 1/3: (0.3333)^13 is still below 1e-6, (0.3333)^12 not.
    assert_eq!(same.claim_window(), 13);
}

#[test]
fn f_to_the_c_matches_repeated_multiplication() {
    for f in ["1/3", "0.3333", "1/2", "2/3", "0.9", "1/7", "0"] {
        let f = rational(f);
        let mut power = BigRational::one();
        for c in 0..60 {
            assert_eq!(all_malicious_probability(&f, c), power, "f^{c}");
            power *= &f;
        }
    }
}

#[test]
fn claim_window_is_the_smallest_by_linear_search() {
    for f in ["1/3", "0.3333", "1/2", "2/3", "0.9", "0.99", "1/7", "0.001"] {
        for epsilon in ["0.5", "0.1", "1e-3", "1e-6", "1/1594323", "1e-12"] {
            let (f, epsilon) = (rational(f), rational(epsilon));
            // f^c < ε as p^c·ε_q < ε_p·q^c, on integers: no gcd per step.
            let (mut c, mut numerator, mut denominator) = (1, f.numer().clone(), f.denom().clone());
            while &numerator * epsilon.denom() >= epsilon.numer() * &denominator {
                numerator *= f.numer();
                denominator *= f.denom();
                c += 1;
            }
            assert_eq!(
                claim_window(&f, &epsilon, CLAIM_WINDOW_LIMIT),
                Some(c),
                "f = {f}, ε = {epsilon}"
            );
        }
    }
    // ε equal to f^13 exactly: 13 slots are not strictly below, 14 are.
    assert_eq!(
        claim_window(&ratio(1, 3), &ratio(1, 1_594_323), 100),
        Some(14)
    );
    assert_eq!(claim_window(&ratio(1, 3), &ratio(1, 1_000_000), 12), None);
    assert_eq!(claim_window(&ratio(1, 1), &ratio(1, 2), 100), None);
}

#[test]
fn no_malicious_validators_need_one_member_and_one_slot() {
    let report = derive(Inputs {
        malicious_fraction: rational("0"),
        ..spec_defaults()
    })
    .unwrap();
    assert_eq!(report.malicious, 0);
    assert_eq!(report.committee_size(), 1);
    assert_eq!(report.committee.chosen.probability(), BigRational::zero());
    assert!(report.committee.smaller.is_none());
    assert_eq!(report.claim_window(), 1);
    assert_eq!(report.claim.probability, BigRational::zero());
    assert!(report.claim.smaller.is_none());
    assert_eq!(report.proving_slots(), 31);
    // f so small that fewer than one validator is malicious.
    let report = derive(Inputs {
        malicious_fraction: rational("1e-5"),
        ..spec_defaults()
    })
    .unwrap();
    assert_eq!((report.malicious, report.committee_size()), (0, 1));
}

#[test]
fn more_than_two_thirds_malicious_has_no_committee() {
    let err = derive(Inputs {
        validators: 300,
        malicious_fraction: rational("0.7"),
        ..spec_defaults()
    })
    .unwrap_err();
    assert_eq!(
        err,
        ParamsError::NoCommittee {
            limit: 300,
            validators: 300
        }
    );
    assert!(err
        .to_string()
        .starts_with("no committee size up to N = 300 meets ε"));
    let err = derive(Inputs {
        malicious_fraction: rational("0.7"),
        ..spec_defaults()
    })
    .unwrap_err();
    assert_eq!(
        err,
        ParamsError::NoCommittee {
            limit: 10_000,
            validators: 10_000
        }
    );
    let err = derive(Inputs {
        validators: 50,
        malicious_fraction: rational("1"),
        ..spec_defaults()
    })
    .unwrap_err();
    assert!(matches!(err, ParamsError::NoCommittee { limit: 50, .. }));
}

#[test]
fn exactly_two_thirds_needs_the_whole_set() {
    // With M = 2N/3, only the whole set (X = M, not more than 2N/3) is below a small ε.
    for n in [3u64, 9, 30, 300] {
        let report = derive(Inputs {
            validators: n,
            malicious_fraction: rational("2/3"),
            ..spec_defaults()
        })
        .unwrap();
        assert_eq!(report.committee_size(), n);
        assert_eq!(report.committee.chosen.probability(), BigRational::zero());
        assert!(report.to_string().contains("whole validator set"));
    }
}

#[test]
fn the_search_stops_at_the_committee_limit() {
    let err = derive(Inputs {
        max_committee: 47,
        ..spec_defaults()
    })
    .unwrap_err();
    assert_eq!(
        err,
        ParamsError::NoCommittee {
            limit: 47,
            validators: 10_000
        }
    );
    assert!(err.to_string().contains("--max-committee"), "{err}");
    assert_eq!(
        derive(Inputs {
            max_committee: 48,
            ..spec_defaults()
        })
        .unwrap()
        .committee_size(),
        48
    );
}

#[test]
fn bad_inputs_are_rejected() {
    let with = |change: fn(&mut Inputs)| {
        let mut inputs = spec_defaults();
        change(&mut inputs);
        derive(inputs).unwrap_err()
    };
    assert_eq!(with(|i| i.validators = 0), ParamsError::NoValidators);
    for epsilon in ["0", "-1e-6", "1", "2"] {
        let mut inputs = spec_defaults();
        inputs.epsilon = rational(epsilon);
        assert!(
            matches!(derive(inputs), Err(ParamsError::EpsilonOutOfRange(_))),
            "ε = {epsilon}"
        );
    }
    for f in ["-0.1", "1.0001", "4/3"] {
        let mut inputs = spec_defaults();
        inputs.malicious_fraction = rational(f);
        assert!(
            matches!(derive(inputs), Err(ParamsError::FractionOutOfRange(_))),
            "f = {f}"
        );
    }
    assert_eq!(with(|i| i.slot_duration = 0), ParamsError::ZeroDuration);
    assert_eq!(with(|i| i.epoch_duration = 0), ParamsError::ZeroDuration);
    assert_eq!(
        with(|i| i.max_committee = 0),
        ParamsError::ZeroCommitteeLimit
    );
    assert_eq!(
        with(|i| i.epsilon = rational("0")).to_string(),
        "ε must be strictly between 0 and 1, got 0"
    );
}

#[test]
fn a_claim_window_as_long_as_the_epoch_leaves_no_proving_time() {
    let report = derive(Inputs {
        epoch_duration: 13,
        ..spec_defaults()
    })
    .unwrap();
    assert_eq!(report.proving_slots(), 0);
    assert!(report.to_string().contains("no time at all"));
}

#[test]
fn a_million_validators() {
    let report = derive(Inputs {
        validators: 1_000_000,
        ..spec_defaults()
    })
    .unwrap();
    let k = report.committee_size();
    assert_eq!(report.malicious, 333_333);
    let epsilon = ratio(1, 1_000_000);
    assert!(report.committee.chosen.probability() < epsilon);
    let smaller = report.committee.smaller.as_ref().unwrap();
    assert!(smaller.probability() >= epsilon);
    assert_eq!(
        smaller.probability(),
        ratio_tail(1_000_000, 333_333, k - 1, supermajority_threshold(k - 1))
    );
    for below in 1..k {
        assert!(supermajority_probability(1_000_000, 333_333, below).unwrap() >= epsilon);
    }
}

/// The smallest K by the factorial reference, one K at a time.
fn reference_committee_size(n: u64, m: u64, epsilon: &BigRational) -> Option<u64> {
    (1..=n).find(|&k| &factorial_tail(n, m, k, supermajority_threshold(k)) < epsilon)
}

proptest! {
    #[test]
    fn tails_equal_brute_force_enumeration(n in 1u64..=12, m_seed: u64, k_seed: u64) {
        let m = m_seed % (n + 1);
        let k = k_seed % n + 1;
        let (favourable, total) = brute_force(n, m, k, supermajority_threshold(k));
        let tail = SupermajorityTails::new(n, m).nth(usize::try_from(k - 1).unwrap()).unwrap();
        prop_assert_eq!(&tail.favourable, &BigUint::from(favourable));
        prop_assert_eq!(&tail.total, &BigUint::from(total));
        prop_assert_eq!(tail.probability(), ratio(favourable, total));
    }

    #[test]
    fn committee_size_is_the_smallest_that_meets_epsilon(
        n in 1u64..=60,
        m_seed: u64,
        epsilon_numerator in 1u64..1000,
        epsilon_exponent in 3u32..9,
    ) {
        let m = m_seed % (n + 1);
        let epsilon = BigRational::new(
            BigInt::from(epsilon_numerator),
            BigInt::from(10u64.pow(epsilon_exponent)),
        );
        let found = committee_size(n, m, &epsilon, n).ok().map(|c| c.size());
        prop_assert_eq!(found, reference_committee_size(n, m, &epsilon));
    }
}
