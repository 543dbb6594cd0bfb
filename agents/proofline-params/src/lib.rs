//! `proofline params`: the committee size K and the claim window C derived from a security
//! target, as SPEC 1 describes, in exact rational arithmetic.
//!
//! With N validators of which a fraction f is malicious, M = floor(f·N) of them are; K is the
//! smallest committee size with P[more than 2K/3 members malicious] < ε (hypergeometric:
//! K drawn from N without replacement), and C the smallest number of consecutive claim slots
//! whose proposers, each malicious with probability f, are all malicious with probability
//! f^C < ε. N = 10,000, f = 1/3, ε = 1e-6 gives SPEC 1's K = 48, C = 13. docs/params.md says
//! which readings of the SPEC these are and why.
//!
//! Every probability is an exact rational and every comparison with ε is exact: a committee
//! tail for N in the millions has a denominator of thousands of digits, which `f64` cannot
//! hold, and a rounded tail could put K one off.

use std::fmt;

use num_bigint::BigInt;
use num_traits::{One, Zero};

/// The exact rationals f and ε are given in.
pub use num_rational::BigRational;

pub mod claim;
pub mod committee;
pub mod number;

pub use claim::{all_malicious_probability, claim_window, CLAIM_WINDOW_LIMIT};
pub use committee::{
    committee_size, supermajority_probability, supermajority_threshold, CommitteeChoice,
    SupermajorityTails, Tail,
};
pub use number::{parse_rational, scientific};

/// The SPEC 1 security target behind the default K and C.
pub const DEFAULT_VALIDATORS: u64 = 10_000;
pub const DEFAULT_MALICIOUS_FRACTION: &str = "1/3";
pub const DEFAULT_EPSILON: &str = "1e-6";
/// SLOT_DURATION, in seconds.
pub const DEFAULT_SLOT_DURATION: u64 = 36;
/// EPOCH_DURATION, in slots.
pub const DEFAULT_EPOCH_DURATION: u64 = 32;
/// The largest committee size searched by default. The exact scan up to K costs O(K²·log N)
/// bit operations: this bound answers in about a second even for N in the millions, and
/// a target that needs a larger committee is reported as unmet rather than left running.
pub const DEFAULT_MAX_COMMITTEE: u64 = 10_000;

/// Significant digits of the probabilities in the report.
const DIGITS: u32 = 4;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamsError {
    #[error("not a number: {0:?} (expected a decimal such as 0.3333 or 1e-6, or a quotient such as 1/3)")]
    Parse(String),
    #[error("the number of validators N must be at least 1")]
    NoValidators,
    #[error("the malicious fraction f must be between 0 and 1, got {0}")]
    FractionOutOfRange(String),
    #[error("ε must be strictly between 0 and 1, got {0}")]
    EpsilonOutOfRange(String),
    #[error("SLOT_DURATION and EPOCH_DURATION must be at least 1")]
    ZeroDuration,
    #[error("the largest committee size to search must be at least 1")]
    ZeroCommitteeLimit,
    #[error("{}", no_committee(*limit, *validators))]
    NoCommittee { limit: u64, validators: u64 },
    #[error("no claim window up to {limit} slots meets ε: f^C >= ε for every C <= {limit}")]
    NoClaimWindow { limit: u64 },
}

fn no_committee(limit: u64, validators: u64) -> String {
    if limit < validators {
        format!(
            "no committee size up to {limit} meets ε (N = {validators}); a larger one may: \
             raise the largest size searched (--max-committee)"
        )
    } else {
        format!(
            "no committee size up to N = {validators} meets ε: too many validators are \
             malicious for any committee to be safe with that probability"
        )
    }
}

/// What `derive` works from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inputs {
    /// N.
    pub validators: u64,
    /// f, in [0, 1].
    pub malicious_fraction: BigRational,
    /// ε, in (0, 1).
    pub epsilon: BigRational,
    /// SLOT_DURATION, in seconds.
    pub slot_duration: u64,
    /// EPOCH_DURATION, in slots.
    pub epoch_duration: u64,
    /// The largest committee size searched (besides N).
    pub max_committee: u64,
}

impl Default for Inputs {
    fn default() -> Self {
        Self {
            validators: DEFAULT_VALIDATORS,
            malicious_fraction: parse_rational(DEFAULT_MALICIOUS_FRACTION)
                .expect("the default f parses"),
            epsilon: parse_rational(DEFAULT_EPSILON).expect("the default ε parses"),
            slot_duration: DEFAULT_SLOT_DURATION,
            epoch_duration: DEFAULT_EPOCH_DURATION,
            max_committee: DEFAULT_MAX_COMMITTEE,
        }
    }
}

/// M = floor(f·N), the malicious validators: a fraction f of N validators, rounded down to
/// whole validators.
///
/// # Panics
/// If f is outside [0, 1].
pub fn malicious_count(validators: u64, fraction: &BigRational) -> u64 {
    assert!(
        fraction >= &BigRational::zero() && fraction <= &BigRational::one(),
        "malicious fraction {fraction} outside [0, 1]"
    );
    let product = fraction * BigRational::from_integer(BigInt::from(validators));
    u64::try_from(product.floor().to_integer()).expect("0 <= f·N <= N")
}

/// The chosen C, with f^C and f^(C-1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimChoice {
    pub window: u64,
    /// f^C.
    pub probability: BigRational,
    /// f^(C-1), which does not meet ε (absent for C = 1).
    pub smaller: Option<BigRational>,
}

/// K and C for the inputs, and what they cost.
#[derive(Debug, Clone)]
pub struct Report {
    pub inputs: Inputs,
    /// M.
    pub malicious: u64,
    pub committee: CommitteeChoice,
    pub claim: ClaimChoice,
}

impl Report {
    /// K.
    pub fn committee_size(&self) -> u64 {
        self.committee.size()
    }

    /// C.
    pub fn claim_window(&self) -> u64 {
        self.claim.window
    }

    /// The slots a claimed prover surely has: a claim may land as late as slot C - 1 of epoch
    /// e + 1, and the proof of epoch e is due by the end of epoch e + 1 (SPEC 5.3, 5.4), so
    /// EPOCH_DURATION - C slots remain; none if C >= EPOCH_DURATION.
    pub fn proving_slots(&self) -> u64 {
        self.inputs.epoch_duration.saturating_sub(self.claim.window)
    }

    pub fn proving_seconds(&self) -> u64 {
        self.proving_slots()
            .saturating_mul(self.inputs.slot_duration)
    }
}

/// K and C for `inputs`, or why there are none.
pub fn derive(inputs: Inputs) -> Result<Report, ParamsError> {
    if inputs.validators == 0 {
        return Err(ParamsError::NoValidators);
    }
    let f = &inputs.malicious_fraction;
    if f < &BigRational::zero() || f > &BigRational::one() {
        return Err(ParamsError::FractionOutOfRange(number::exact(f)));
    }
    let epsilon = &inputs.epsilon;
    if epsilon <= &BigRational::zero() || epsilon >= &BigRational::one() {
        return Err(ParamsError::EpsilonOutOfRange(number::exact(epsilon)));
    }
    if inputs.slot_duration == 0 || inputs.epoch_duration == 0 {
        return Err(ParamsError::ZeroDuration);
    }
    if inputs.max_committee == 0 {
        return Err(ParamsError::ZeroCommitteeLimit);
    }
    let malicious = malicious_count(inputs.validators, f);
    let committee = committee_size(inputs.validators, malicious, epsilon, inputs.max_committee)?;
    let window =
        claim_window(f, epsilon, CLAIM_WINDOW_LIMIT).ok_or(ParamsError::NoClaimWindow {
            limit: CLAIM_WINDOW_LIMIT,
        })?;
    let claim = ClaimChoice {
        window,
        probability: all_malicious_probability(f, window),
        smaller: (window > 1).then(|| all_malicious_probability(f, window - 1)),
    };
    Ok(Report {
        inputs,
        malicious,
        committee,
        claim,
    })
}

fn versus_epsilon(value: &BigRational, epsilon: &BigRational) -> &'static str {
    if value < epsilon {
        "<  ε"
    } else {
        ">= ε"
    }
}

fn tail_line(
    f: &mut fmt::Formatter<'_>,
    tail: &Tail,
    epsilon: &BigRational,
    note: &str,
) -> fmt::Result {
    let probability = tail.probability();
    writeln!(
        f,
        "    K = {:<7} X >= {:<7} {:<10} {}{note}",
        tail.committee_size,
        tail.threshold,
        scientific(&probability, DIGITS),
        versus_epsilon(&probability, epsilon),
    )
}

/// "11 min 24 s", "2 h 5 min 0 s", "36 s".
fn duration(seconds: u64) -> String {
    let (hours, minutes, seconds) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    match (hours, minutes) {
        (0, 0) => format!("{seconds} s"),
        (0, _) => format!("{minutes} min {seconds} s"),
        _ => format!("{hours} h {minutes} min {seconds} s"),
    }
}

/// parts / whole as a percentage with one decimal, rounded half up.
fn percent(parts: u64, whole: u64) -> String {
    let tenths = (u128::from(parts) * 2000 + u128::from(whole)) / (2 * u128::from(whole));
    format!("{}.{}%", tenths / 10, tenths % 10)
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inputs = &self.inputs;
        let epsilon = &inputs.epsilon;
        let fraction = &inputs.malicious_fraction;
        writeln!(f, "Proofline parameters from a security target (SPEC 1)")?;
        writeln!(f)?;
        writeln!(f, "validators          N = {}", inputs.validators)?;
        writeln!(
            f,
            "malicious fraction  f = {} ({}), so M = floor(f·N) = {} malicious validators",
            number::exact(fraction),
            scientific(fraction, DIGITS),
            self.malicious
        )?;
        writeln!(
            f,
            "target              ε = {} ({})",
            scientific(epsilon, DIGITS),
            number::exact(epsilon)
        )?;
        writeln!(f)?;

        let committee = &self.committee;
        writeln!(f, "committee size      K = {}", committee.size())?;
        writeln!(
            f,
            "  P[more than 2K/3 members malicious] = P[X >= floor(2K/3) + 1], the attestation quorum,"
        )?;
        writeln!(
            f,
            "  X ~ Hypergeometric(N = {}, M = {}, K), exact:",
            inputs.validators, self.malicious
        )?;
        if let Some(smaller) = &committee.smaller {
            tail_line(f, smaller, epsilon, "")?;
        }
        tail_line(
            f,
            &committee.chosen,
            epsilon,
            "   <- the smallest K that meets ε",
        )?;
        if let Some(larger) = &committee.larger {
            tail_line(f, larger, epsilon, "")?;
        }
        let stable_from = committee.stable_from();
        if committee.checked_up_to > committee.size() {
            if committee.failing_above.is_empty() {
                writeln!(
                    f,
                    "  every K from {} to {} meets ε",
                    committee.size(),
                    committee.checked_up_to
                )?;
            } else {
                const SHOWN: usize = 8;
                let mut failing: Vec<String> = committee
                    .failing_above
                    .iter()
                    .take(SHOWN)
                    .map(u64::to_string)
                    .collect();
                if committee.failing_above.len() > SHOWN {
                    failing.push(format!(
                        "and {} more",
                        committee.failing_above.len() - SHOWN
                    ));
                }
                writeln!(
                    f,
                    "  the tail is not monotone in K: K = {} {} again; every K from {} to {} meets ε",
                    failing.join(", "),
                    if committee.failing_above.len() == 1 { "fails" } else { "fail" },
                    stable_from,
                    committee.checked_up_to
                )?;
            }
        }
        if committee.size() == inputs.validators {
            writeln!(
                f,
                "  K = N: the committee is the whole validator set, nothing is sampled"
            )?;
        }
        writeln!(f)?;

        let claim = &self.claim;
        writeln!(
            f,
            "claim window        C = {} slot{}",
            claim.window,
            if claim.window == 1 { "" } else { "s" }
        )?;
        writeln!(
            f,
            "  P[C consecutive claim slots all have malicious proposers] = f^C, exact:"
        )?;
        if let Some(smaller) = &claim.smaller {
            writeln!(
                f,
                "    C = {:<7} {:<10} {}",
                claim.window - 1,
                scientific(smaller, DIGITS),
                versus_epsilon(smaller, epsilon)
            )?;
        }
        writeln!(
            f,
            "    C = {:<7} {:<10} {}   <- the smallest C that meets ε",
            claim.window,
            scientific(&claim.probability, DIGITS),
            versus_epsilon(&claim.probability, epsilon)
        )?;
        writeln!(f)?;

        writeln!(
            f,
            "liveness cost of C  SLOT_DURATION = {} s, EPOCH_DURATION = {} slots",
            inputs.slot_duration, inputs.epoch_duration
        )?;
        writeln!(
            f,
            "  a claim may land as late as slot C - 1 = {} of epoch e+1, and the proof of epoch e is due",
            claim.window - 1
        )?;
        if claim.window < inputs.epoch_duration {
            writeln!(
                f,
                "  by the end of epoch e+1: the claimed prover has at least {} - {} = {} slots = {} s ({}),",
                inputs.epoch_duration,
                claim.window,
                self.proving_slots(),
                self.proving_seconds(),
                duration(self.proving_seconds())
            )?;
            write!(
                f,
                "  {} of the epoch",
                percent(self.proving_slots(), inputs.epoch_duration)
            )
        } else {
            write!(
                f,
                "  by the end of epoch e+1: C >= EPOCH_DURATION leaves a claimed prover no time at all"
            )
        }
    }
}
