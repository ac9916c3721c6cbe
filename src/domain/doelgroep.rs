//! Doelgroepen: target groups a gemeente defines itself (jongeren,
//! statushouders, …). Procurement and the reports are often per doelgroep.

use super::Invalid;
use super::code::Code;
use std::collections::BTreeSet;

/// Doelgroepen are identified by a code.
pub type DoelgroepCode = Code;

/// A client's doelgroepen from one date on: a set, sorted, possibly empty.
pub type DoelgroepSet = BTreeSet<DoelgroepCode>;

/// The most doelgroepen one set may hold: far more than any gemeente
/// defines, and it bounds what one request can make the server check.
pub const DOELGROEPEN_MAX: usize = 50;

/// Parses a list of codes into a set; a code given twice is refused, since
/// it usually means the caller meant another code.
pub fn doelgroep_set(raw: &[String]) -> Result<DoelgroepSet, Invalid> {
    if raw.len() > DOELGROEPEN_MAX {
        return Err(Invalid::new(format!(
            "at most {DOELGROEPEN_MAX} doelgroepen are allowed"
        )));
    }
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
    fn sets_are_sorted_and_refuse_duplicates() {
        let set = doelgroep_set(&["STATUSHOUDERS".into(), "JONGEREN".into()]).unwrap();
        let codes: Vec<_> = set.iter().map(DoelgroepCode::as_str).collect();
        assert_eq!(codes, ["JONGEREN", "STATUSHOUDERS"]);
        assert!(doelgroep_set(&["A".into(), "A".into()]).is_err());
        assert!(doelgroep_set(&[]).unwrap().is_empty());
        let many: Vec<String> = (0..=DOELGROEPEN_MAX).map(|i| format!("D{i}")).collect();
        assert!(doelgroep_set(&many[1..]).is_ok());
        assert!(doelgroep_set(&many).is_err());
    }
}
