//! Exact rationals in and out: parsing `1/3`, `0.3333`, `1e-6` without rounding, and printing a
//! rational in scientific notation from its exact value.

use num_bigint::{BigInt, BigUint};
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};

use crate::ParamsError;

/// Largest decimal exponent `parse_rational` accepts. Far past any meaningful ε, and the bound
/// keeps a typo such as `1e-999999999` from building a billion-digit power of ten.
pub const MAX_EXPONENT: u32 = 1000;

/// Parses a decimal (`0.3333`, `.5`, `1e-6`, `2.5E+3`) or a quotient of two decimals (`1/3`,
/// `0.5/1.5`) into the exact rational it denotes: no binary floating point is involved, so
/// `0.1` is exactly 1/10.
pub fn parse_rational(text: &str) -> Result<BigRational, ParamsError> {
    let trimmed = text.trim();
    let invalid = || ParamsError::Parse(trimmed.to_owned());
    match trimmed.split_once('/') {
        Some((numerator, denominator)) => {
            let numerator = parse_decimal(numerator.trim()).ok_or_else(invalid)?;
            let denominator = parse_decimal(denominator.trim()).ok_or_else(invalid)?;
            if denominator.is_zero() {
                return Err(invalid());
            }
            Ok(numerator / denominator)
        }
        None => parse_decimal(trimmed).ok_or_else(invalid),
    }
}

fn parse_decimal(text: &str) -> Option<BigRational> {
    let (negative, unsigned) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], parse_exponent(&unsigned[at + 1..])?),
        None => (unsigned, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    if !whole
        .bytes()
        .chain(fraction.bytes())
        .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let digits: BigInt = format!("0{whole}{fraction}").parse().ok()?;
    let scale = exponent - i64::try_from(fraction.len()).ok()?;
    let power = pow10(u32::try_from(scale.unsigned_abs()).ok()?);
    let value = if scale >= 0 {
        BigRational::from_integer(digits * power)
    } else {
        BigRational::new(digits, power)
    };
    Some(if negative { -value } else { value })
}

fn parse_exponent(text: &str) -> Option<i64> {
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let magnitude: u32 = digits.parse().ok().filter(|&e| e <= MAX_EXPONENT)?;
    let magnitude = i64::from(magnitude);
    Some(if negative { -magnitude } else { magnitude })
}

fn pow10(exponent: u32) -> BigInt {
    BigInt::from(10u8).pow(exponent)
}

/// `value` in scientific notation (`5.355e-7`) with `digits` significant digits, rounded half
/// up from the exact rational; trailing zeros are dropped when that is exact (`1e-6`, `2.5e0`).
/// Works on the integers themselves, so a probability with a denominator of thousands of digits
/// prints as well as a small one, where a conversion to `f64` would overflow or underflow.
pub fn scientific(value: &BigRational, digits: u32) -> String {
    if value.is_zero() {
        return "0".to_owned();
    }
    let digits = digits.max(1);
    let sign = if value.is_negative() { "-" } else { "" };
    let numerator = value.numer().magnitude();
    let denominator = value.denom().magnitude();
    // An estimate of floor(log10(value)) from the bit lengths (log10(2) ≈ 30103/100000), then
    // corrected exactly so that 10^exponent <= value < 10^(exponent + 1).
    let bit_difference = i64::try_from(numerator.bits()).unwrap_or(i64::MAX)
        - i64::try_from(denominator.bits()).unwrap_or(i64::MAX);
    let mut exponent = (bit_difference * 30103).div_euclid(100_000);
    while !at_least_pow10(numerator, denominator, exponent) {
        exponent -= 1;
    }
    while at_least_pow10(numerator, denominator, exponent + 1) {
        exponent += 1;
    }
    let (scaled, divisor) =
        scale_by_pow10(numerator, denominator, i64::from(digits) - 1 - exponent);
    let mut mantissa = &scaled / &divisor;
    let remainder = scaled - &mantissa * &divisor;
    let exact = remainder.is_zero();
    if remainder * 2u8 >= divisor {
        mantissa += 1u8;
    }
    if &mantissa == pow10(digits).magnitude() {
        mantissa /= 10u8;
        exponent += 1;
    }
    let text = mantissa.to_string();
    let (first, rest) = text.split_at(1);
    let rest = if exact {
        rest.trim_end_matches('0')
    } else {
        rest
    };
    if rest.is_empty() {
        format!("{sign}{first}e{exponent}")
    } else {
        format!("{sign}{first}.{rest}e{exponent}")
    }
}

/// numerator / denominator >= 10^exponent.
fn at_least_pow10(numerator: &BigUint, denominator: &BigUint, exponent: i64) -> bool {
    let (scaled, divisor) = scale_by_pow10(numerator, denominator, -exponent);
    scaled >= divisor
}

/// (a, b) with a / b = numerator / denominator · 10^shift.
fn scale_by_pow10(numerator: &BigUint, denominator: &BigUint, shift: i64) -> (BigUint, BigUint) {
    let power = BigUint::from(10u8).pow(u32::try_from(shift.unsigned_abs()).unwrap_or(u32::MAX));
    if shift >= 0 {
        (numerator * power, denominator.clone())
    } else {
        (numerator.clone(), denominator * power)
    }
}

/// The exact rational as `p/q`, or `p` when it is an integer.
pub fn exact(value: &BigRational) -> String {
    if value.denom().is_one() {
        value.numer().to_string()
    } else {
        format!("{}/{}", value.numer(), value.denom())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ratio(numerator: i64, denominator: i64) -> BigRational {
        BigRational::new(numerator.into(), denominator.into())
    }

    #[test]
    fn parses_decimals_fractions_and_exponents_exactly() {
        assert_eq!(parse_rational("1/3").unwrap(), ratio(1, 3));
        assert_eq!(parse_rational(" 0.3333 ").unwrap(), ratio(3333, 10_000));
        assert_eq!(parse_rational("1e-6").unwrap(), ratio(1, 1_000_000));
        assert_eq!(parse_rational("0.000001").unwrap(), ratio(1, 1_000_000));
        assert_eq!(parse_rational("1E-06").unwrap(), ratio(1, 1_000_000));
        assert_eq!(parse_rational("2.5e+3").unwrap(), ratio(2500, 1));
        assert_eq!(parse_rational(".5").unwrap(), ratio(1, 2));
        assert_eq!(parse_rational("5.").unwrap(), ratio(5, 1));
        assert_eq!(parse_rational("0.1").unwrap(), ratio(1, 10));
        assert_eq!(parse_rational("0.5/1.5").unwrap(), ratio(1, 3));
        assert_eq!(parse_rational("-1/4").unwrap(), ratio(-1, 4));
        assert_eq!(parse_rational("0").unwrap(), ratio(0, 1));
        assert_eq!(
            parse_rational("1e-1000").unwrap(),
            BigRational::new(1.into(), pow10(1000))
        );
    }

    #[test]
    fn rejects_what_is_not_a_number() {
        for text in [
            "", ".", "e-6", "1e", "1e-", "1/0", "1/", "/3", "abc", "1..2", "1/2/3", "0x10", "inf",
            "NaN", "1e-1001", "1 /", "- 1",
        ] {
            assert!(
                matches!(parse_rational(text), Err(ParamsError::Parse(_))),
                "{text:?} parsed"
            );
        }
    }

    #[test]
    fn scientific_rounds_the_exact_value() {
        assert_eq!(scientific(&ratio(1, 1_000_000), 4), "1e-6");
        assert_eq!(scientific(&ratio(1, 3), 4), "3.333e-1");
        assert_eq!(scientific(&ratio(2, 3), 4), "6.667e-1");
        assert_eq!(scientific(&ratio(5, 2), 4), "2.5e0");
        assert_eq!(scientific(&ratio(0, 1), 4), "0");
        assert_eq!(scientific(&ratio(1, 1), 4), "1e0");
        assert_eq!(scientific(&ratio(-1, 8), 4), "-1.25e-1");
        assert_eq!(scientific(&ratio(99_999, 100_000), 4), "1.000e0");
        assert_eq!(scientific(&ratio(12_345, 1), 2), "1.2e4");
        assert_eq!(scientific(&ratio(1, 1_594_323), 4), "6.272e-7");
        let tiny = BigRational::new(7.into(), pow10(5000));
        assert_eq!(scientific(&tiny, 4), "7e-5000");
        let third_of_tiny = BigRational::new(1.into(), pow10(5000) * 3);
        assert_eq!(scientific(&third_of_tiny, 4), "3.333e-5001");
    }
}
