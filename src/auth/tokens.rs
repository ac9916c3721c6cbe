//! The static token file for development and tests. Each token stands for a
//! principal; it is off unless `--tokens FILE` is given.

use super::Principal;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::Path;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    token: Vec<RawToken>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawToken {
    token: String,
    subject: String,
    role: String,
    gemeente: String,
    /// For role provider: the reïntegratiebedrijf's KvK number.
    provider: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenFileError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a valid token file: {reason}")]
    Invalid { path: String, reason: String },
}

pub struct TokenFile {
    by_token: HashMap<String, Principal>,
}

impl TokenFile {
    pub fn load(path: &Path) -> Result<TokenFile, TokenFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| TokenFileError::Read {
            path: path.display().to_string(),
            source,
        })?;
        TokenFile::parse(&text).map_err(|reason| TokenFileError::Invalid {
            path: path.display().to_string(),
            reason,
        })
    }

    pub fn parse(text: &str) -> Result<TokenFile, String> {
        let raw: RawFile = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut by_token = HashMap::new();
        for (index, entry) in raw.token.into_iter().enumerate() {
            let at = |what: &str| format!("token {}: {what}", index + 1);
            if entry.token.trim().len() < 8 {
                return Err(at("a token must be at least 8 characters"));
            }
            let principal =
                Principal::from_parts(entry.subject, &entry.role, &entry.gemeente, entry.provider)
                    .map_err(|reason| at(&reason))?;
            if by_token.insert(entry.token, principal).is_some() {
                return Err(at("the same token is listed twice"));
            }
        }
        Ok(TokenFile { by_token })
    }

    pub fn principal(&self, token: &str) -> Option<&Principal> {
        self.by_token.get(token)
    }

    pub fn len(&self) -> usize {
        self.by_token.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_token.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;

    #[test]
    fn parses_principals() {
        let file = TokenFile::parse(
            r#"
            [[token]]
            token = "dev-casemanager-0363"
            subject = "cm-anna"
            role = "casemanager"
            gemeente = "0363"
            "#,
        )
        .unwrap();
        let anna = file.principal("dev-casemanager-0363").unwrap();
        assert_eq!(
            (anna.subject.as_str(), anna.role, anna.gemeente.as_str()),
            ("cm-anna", Role::Casemanager, "0363")
        );
        assert!(file.principal("other").is_none());
    }

    #[test]
    fn refuses_bad_entries() {
        let entry = |role: &str, gemeente: &str, extra: &str| {
            format!(
                "[[token]]\ntoken = \"long-enough\"\nsubject = \"s\"\nrole = \"{role}\"\ngemeente = \"{gemeente}\"\n{extra}"
            )
        };
        assert!(TokenFile::parse(&entry("admin", "0363", "")).is_err());
        assert!(TokenFile::parse(&entry("casemanager", "363", "")).is_err());
        assert!(TokenFile::parse(&entry("provider", "0363", "")).is_err());
        assert!(TokenFile::parse(&entry("provider", "0363", "provider = \"12345678\"")).is_ok());
        assert!(TokenFile::parse(&entry("casemanager", "0363", "colour = \"red\"")).is_err());
        let subject = |length: usize| {
            format!(
                "[[token]]\ntoken = \"long-enough\"\nsubject = \"{}\"\nrole = \"casemanager\"\ngemeente = \"0363\"\n",
                "s".repeat(length)
            )
        };
        assert!(TokenFile::parse(&subject(100)).is_ok());
        assert!(TokenFile::parse(&subject(101)).is_err());
        let twice = format!(
            "{}\n{}",
            entry("casemanager", "0363", ""),
            entry("auditor", "0363", "")
        );
        assert!(TokenFile::parse(&twice).is_err());
    }
}
