//! A client of the work-and-income department and the background data the
//! seeds ask to be registered (003 §6.2): education, work experience, skills,
//! wishes, and the casemanager who follows the client.

use super::bsn::Bsn;
use super::text::bounded;
use super::{Invalid, stored_enum};
use chrono::NaiveDate;

pub const NAME_MAX: usize = 200;
pub const SURNAME_PREFIX_MAX: usize = 20;
pub const LONG_TEXT_MAX: usize = 2_000;
pub const SKILLS_MAX: usize = 50;
pub const SKILL_MAX: usize = 100;
pub const SUBJECT_MAX: usize = 100;

/// Highest completed education (opleidingsniveau).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EducationLevel {
    Unknown,
    None,
    Basisonderwijs,
    VmboMbo1,
    HavoVwoMbo,
    HboWo,
}

stored_enum!(EducationLevel {
    Unknown => "unknown",
    None => "none",
    Basisonderwijs => "basisonderwijs",
    VmboMbo1 => "vmbo_mbo1",
    HavoVwoMbo => "havo_vwo_mbo",
    HboWo => "hbo_wo",
});

/// Everything a casemanager records about a client, already checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientDetails {
    pub bsn: Bsn,
    pub given_name: String,
    pub surname_prefix: String,
    pub surname: String,
    pub birth_date: NaiveDate,
    pub education_level: EducationLevel,
    pub work_experience: String,
    pub skills: Vec<String>,
    pub wishes: String,
    pub notes: String,
    pub casemanager: String,
}

/// A birth date may not lie after today.
pub fn birth_date(date: NaiveDate, today: NaiveDate) -> Result<NaiveDate, Invalid> {
    if date > today {
        Err(Invalid::new("the birth date lies in the future"))
    } else {
        Ok(date)
    }
}

/// At most 50 skills of at most 100 characters; blanks and duplicates are
/// dropped, order kept.
pub fn skills(raw: &[String]) -> Result<Vec<String>, Invalid> {
    if raw.len() > SKILLS_MAX {
        return Err(Invalid::new(format!(
            "at most {SKILLS_MAX} skills are allowed"
        )));
    }
    let mut skills: Vec<String> = Vec::with_capacity(raw.len());
    for skill in raw {
        let skill = bounded(skill, SKILL_MAX, false)?;
        if !skill.is_empty() && !skills.contains(&skill) {
            skills.push(skill);
        }
    }
    Ok(skills)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn birth_dates_in_the_future_are_refused() {
        let today = NaiveDate::from_ymd_opt(2025, 6, 1).unwrap();
        assert!(birth_date(today, today).is_ok());
        assert!(birth_date(today.succ_opt().unwrap(), today).is_err());
    }

    #[test]
    fn skills_are_limited_and_deduplicated() {
        let raw: Vec<String> = ["lassen", " lassen ", "", "rijbewijs B"]
            .map(String::from)
            .to_vec();
        assert_eq!(skills(&raw).unwrap(), vec!["lassen", "rijbewijs B"]);
        assert!(skills(&vec!["x".to_owned(); 51]).is_err());
        assert!(skills(&["y".repeat(101)]).is_err());
    }

    #[test]
    fn education_levels_round_trip_through_storage() {
        for level in EducationLevel::ALL.iter().copied() {
            assert_eq!(EducationLevel::parse_stored(level.as_str()), Some(level));
        }
    }
}
