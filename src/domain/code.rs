//! Codes a gemeente defines itself (doelgroepen, contract products): stable
//! identifiers in reports and CSV files, so their form is fixed.

use super::Invalid;
use std::fmt;

/// 1 to 32 characters of A–Z, 0–9 and `_`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Code(String);

impl Code {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let valid = (1..=32).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
        if valid {
            Ok(Self(raw.to_owned()))
        } else {
            Err(Invalid::new(format!(
                "{raw:?} is not a code: 1 to 32 characters of A-Z, 0-9 and _"
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_upper_case_identifiers() {
        assert!(Code::parse("JONGEREN_27").is_ok());
        for bad in ["", "jongeren", "JONG EREN", "É", &"A".repeat(33)] {
            assert!(Code::parse(bad).is_err(), "{bad:?}");
        }
    }
}
