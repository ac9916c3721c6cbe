//! Doelgroepen: target groups a gemeente defines itself (jongeren,
//! statushouders, …). Procurement and the reports are often per doelgroep.

use super::Invalid;
use std::collections::BTreeSet;
use std::fmt;

/// A doelgroep code: 1 to 32 characters of A–Z, 0–9 and `_`, so that codes
/// are stable identifiers in reports and CSV files.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DoelgroepCode(String);

impl DoelgroepCode {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let valid = (1..=32).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
        if valid {
            Ok(Self(raw.to_owned()))
        } else {
            Err(Invalid::new(format!(
                "{raw:?} is not a doelgroep code: 1 to 32 characters of A-Z, 0-9 and _"
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DoelgroepCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A client's doelgroepen from one date on: a set, sorted, possibly empty.
pub type DoelgroepSet = BTreeSet<DoelgroepCode>;

/// Parses a list of codes into a set; a code given twice is refused, since
/// it usually means the caller meant another code.
pub fn doelgroep_set(raw: &[String]) -> Result<DoelgroepSet, Invalid> {
    let mut set = DoelgroepSet::new();
    for code in raw {
        if !set.insert(DoelgroepCode::parse(code)?) {
            return Err(Invalid::new(format!("{code} is given twice")));
        }
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_upper_case_identifiers() {
        assert!(DoelgroepCode::parse("JONGEREN_27").is_ok());
        for bad in ["", "jongeren", "JONG EREN", "É", &"A".repeat(33)] {
            assert!(DoelgroepCode::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn sets_are_sorted_and_refuse_duplicates() {
        let set = doelgroep_set(&["STATUSHOUDERS".into(), "JONGEREN".into()]).unwrap();
        let codes: Vec<_> = set.iter().map(DoelgroepCode::as_str).collect();
        assert_eq!(codes, ["JONGEREN", "STATUSHOUDERS"]);
        assert!(doelgroep_set(&["A".into(), "A".into()]).is_err());
        assert!(doelgroep_set(&[]).unwrap().is_empty());
    }
}
