//! The burgerservicenummer (BSN): nine digits that pass the elfproef. It is
//! the key to the benefits administration, so a typo must be caught at entry.

use super::Invalid;
use std::fmt;

/// A BSN that passed the elfproef. Its `Debug` hides the digits so that a
/// BSN never ends up in a log by accident.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Bsn(String);

impl Bsn {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let digits: Vec<u32> = raw.chars().filter_map(|c| c.to_digit(10)).collect();
        if raw.len() != 9 || digits.len() != 9 {
            return Err(Invalid::new("a BSN is exactly 9 digits"));
        }
        // Elfproef for BSN: 9·d1 + 8·d2 + … + 2·d8 − 1·d9 must be divisible by 11.
        let weighted: i64 = digits
            .iter()
            .zip([9, 8, 7, 6, 5, 4, 3, 2, -1])
            .map(|(&d, w)| i64::from(d) * w)
            .sum();
        if weighted % 11 != 0 || digits.iter().all(|&d| d == 0) {
            return Err(Invalid::new("the BSN fails the elfproef"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Bsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Bsn(*********)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_numbers_that_pass_the_elfproef() {
        for ok in ["111222333", "123456782", "999999990", "010000008"] {
            assert!(Bsn::parse(ok).is_ok(), "{ok} should pass");
        }
    }

    #[test]
    fn rejects_numbers_that_fail_the_elfproef() {
        for bad in ["123456789", "111222334", "000000000"] {
            assert_eq!(
                Bsn::parse(bad).unwrap_err(),
                Invalid::new("the BSN fails the elfproef"),
                "{bad}"
            );
        }
    }

    #[test]
    fn rejects_wrong_lengths_and_non_digits() {
        for bad in [
            "",
            "12345678",
            "1234567820",
            "12345678a",
            "１２３４５６７８２",
            " 23456782",
        ] {
            assert!(Bsn::parse(bad).is_err(), "{bad:?} should fail");
        }
    }

    #[test]
    fn debug_output_hides_the_number() {
        let bsn = Bsn::parse("123456782").unwrap();
        assert!(!format!("{bsn:?}").contains("123456782"));
    }
}
