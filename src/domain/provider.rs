//! Reïntegratiebedrijven: the companies a gemeente buys re-integration
//! services from. The seeds found their background (kind, size,
//! specialisation) rarely recorded, so it is part of the registration.

use super::{Invalid, stored_enum};
use std::fmt;

/// A Kamer van Koophandel (Chamber of Commerce) number: 8 digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KvkNumber(String);

impl KvkNumber {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        if raw.len() == 8 && raw.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(Invalid::new("a KvK number is exactly 8 digits"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KvkNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What kind of organisation the provider is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    Unknown,
    Commercial,
    NonProfit,
    /// Sociale werkvoorziening / leerwerkbedrijf.
    SocialEnterprise,
    Education,
}

/// Size by number of employees: small < 10, medium 10–99, large ≥ 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderSize {
    Unknown,
    Small,
    Medium,
    Large,
}

stored_enum!(ProviderKind {
    Unknown => "unknown",
    Commercial => "commercial",
    NonProfit => "non_profit",
    SocialEnterprise => "social_enterprise",
    Education => "education",
});

stored_enum!(ProviderSize { Unknown => "unknown", Small => "small", Medium => "medium", Large => "large" });

/// What the gemeente records about a provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderDetails {
    pub display_name: String,
    pub kvk_number: KvkNumber,
    pub kind: ProviderKind,
    pub size: ProviderSize,
    pub specialisations: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kvk_numbers_are_eight_digits() {
        assert!(KvkNumber::parse("12345678").is_ok());
        for bad in ["1234567", "123456789", "1234567a", ""] {
            assert!(KvkNumber::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn stored_codes_round_trip() {
        for kind in ProviderKind::ALL {
            assert_eq!(ProviderKind::parse_stored(kind.as_str()), Some(*kind));
        }
        for size in ProviderSize::ALL {
            assert_eq!(ProviderSize::parse_stored(size.as_str()), Some(*size));
        }
    }
}
