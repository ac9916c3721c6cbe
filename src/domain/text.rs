//! Free text with a length limit. Limits keep notes short (the seeds warn of
//! vague, wordy reports) and keep one request from filling the database.

use super::Invalid;

/// Checks a text field: trimmed of surrounding white space, at most `max`
/// characters, and present when `required`. Control characters other than
/// new lines and tabs are refused.
pub fn bounded(raw: &str, max: usize, required: bool) -> Result<String, Invalid> {
    let text = raw.trim();
    if required && text.is_empty() {
        return Err(Invalid::new("is required"));
    }
    let length = text.chars().count();
    if length > max {
        return Err(Invalid::new(format!(
            "is {length} characters long; at most {max} are allowed"
        )));
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(Invalid::new("contains control characters"));
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_limits() {
        assert_eq!(bounded("  Anna ", 10, true).unwrap(), "Anna");
        assert!(bounded("   ", 10, true).is_err());
        assert_eq!(bounded("", 10, false).unwrap(), "");
        assert!(bounded("ëëëëëëëëëëë", 10, false).is_err());
        assert!(bounded("ëëëëëëëëëë", 10, false).is_ok());
        assert!(bounded("a\u{0}b", 10, false).is_err());
    }
}
