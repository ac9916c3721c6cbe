//! The gemeente (municipality) is the tenant: every fact belongs to exactly
//! one, identified by its four-digit CBS municipality code.

use super::Invalid;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GemeenteCode(String);

impl GemeenteCode {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        if raw.len() == 4 && raw.bytes().all(|b| b.is_ascii_digit()) && raw != "0000" {
            Ok(Self(raw.to_owned()))
        } else {
            Err(Invalid::new(
                "a gemeente code is the 4-digit CBS code, e.g. 0363",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for GemeenteCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_digit_codes_only() {
        assert!(GemeenteCode::parse("0363").is_ok());
        for bad in ["363", "03630", "03a3", "", "0000"] {
            assert!(GemeenteCode::parse(bad).is_err(), "{bad:?}");
        }
    }
}
