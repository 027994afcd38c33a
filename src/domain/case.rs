//! A practice case (Good Practice): what a city did, and the experts who can speak about it.

use super::validation::{self, ErrorCollector, FieldError};
use super::{CountryCode, LanguageCode, RecordId, Status, Topic};

pub const MAX_TITLE_CHARS: usize = 300;
pub const MAX_SUMMARY_CHARS: usize = 20_000;
pub const MAX_LINKED_EXPERTS: usize = 50;
pub const YEARS: std::ops::RangeInclusive<i64> = 1950..=2100;

#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    pub id: RecordId,
    pub title: String,
    pub summary: String,
    pub city: String,
    pub country: CountryCode,
    pub topics: Vec<Topic>,
    /// The language of the text; detected from the text when the input omits it.
    pub language: Option<LanguageCode>,
    pub year: Option<u16>,
    /// Experts who can speak about the case; they may not exist (yet).
    pub experts: Vec<RecordId>,
    pub url: Option<String>,
    pub status: Status,
}

/// Unvalidated input for a case. `None` means the field was absent.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CaseDraft {
    pub id: Option<String>,
    pub title: Option<String>,
    pub summary: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub topics: Option<Vec<String>>,
    pub language: Option<String>,
    pub year: Option<i64>,
    pub experts: Option<Vec<String>>,
    pub url: Option<String>,
    pub status: Option<String>,
}

impl Case {
    pub fn parse(draft: CaseDraft, default_status: Status) -> Result<Case, Vec<FieldError>> {
        let mut errors = ErrorCollector::default();
        let id = match draft.id {
            Some(raw) => errors.take("id", RecordId::parse(&raw)),
            None => {
                errors.push("id", "is required");
                None
            }
        };
        let title = errors.take("title", validation::required_text(draft.title, MAX_TITLE_CHARS));
        let summary = errors.take("summary", validation::required_text(draft.summary, MAX_SUMMARY_CHARS));
        let city = errors.take(
            "city",
            validation::required_text(draft.city, super::expert::MAX_NAME_CHARS),
        );
        let country = match draft.country {
            Some(raw) => errors.take("country", CountryCode::parse(&raw)),
            None => {
                errors.push("country", "is required");
                None
            }
        };
        let topics = errors.take(
            "topics",
            validation::parse_list(draft.topics.unwrap_or_default(), Topic::ALL.len(), Topic::parse),
        );
        let language = match draft.language.filter(|raw| !raw.trim().is_empty()) {
            Some(raw) => errors.take("language", LanguageCode::parse(&raw).map(Some)),
            None => Some(None),
        };
        let year = match draft.year {
            Some(year) if YEARS.contains(&year) => Some(u16::try_from(year).ok()),
            Some(year) => {
                errors.push("year", format!("must be between 1950 and 2100 (got {year})"));
                None
            }
            None => Some(None),
        };
        let experts = errors.take(
            "experts",
            validation::parse_list(draft.experts.unwrap_or_default(), MAX_LINKED_EXPERTS, RecordId::parse),
        );
        let url = errors.take("url", validation::http_url(draft.url));
        let status = match draft.status {
            Some(raw) => errors.take("status", Status::parse(&raw)),
            None => Some(default_status),
        };
        errors.finish(|| {
            Some(Case {
                id: id?,
                title: title?,
                summary: summary?,
                city: city?,
                country: country?,
                topics: topics?,
                language: language?,
                year: year?,
                experts: experts?,
                url: url?,
                status: status?,
            })
        })
    }

    pub fn to_draft(&self) -> CaseDraft {
        CaseDraft {
            id: Some(self.id.to_string()),
            title: Some(self.title.clone()),
            summary: Some(self.summary.clone()),
            city: Some(self.city.clone()),
            country: Some(self.country.to_string()),
            topics: Some(self.topics.iter().map(ToString::to_string).collect()),
            language: self.language.map(|language| language.to_string()),
            year: self.year.map(i64::from),
            experts: Some(self.experts.iter().map(ToString::to_string).collect()),
            url: self.url.clone(),
            status: Some(self.status.to_string()),
        }
    }

    pub fn topics_with_areas(&self) -> Vec<Topic> {
        let mut expanded = Vec::with_capacity(self.topics.len() * 2);
        for topic in &self.topics {
            for candidate in [*topic, topic.area()] {
                if !expanded.contains(&candidate) {
                    expanded.push(candidate);
                }
            }
        }
        expanded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid_draft() -> CaseDraft {
        CaseDraft {
            id: Some("early-warning-saint-louis".into()),
            title: Some("Early warning in Saint-Louis".into()),
            summary: Some("An SMS-based flood early warning system.".into()),
            city: Some("Saint-Louis".into()),
            country: Some("SN".into()),
            topics: Some(vec!["flood-risk".into()]),
            language: Some("en".into()),
            year: Some(2019),
            experts: Some(vec!["amadou-ndiaye".into()]),
            url: Some("https://example.org/cases/early-warning".into()),
            status: None,
        }
    }

    #[test]
    fn a_valid_case_round_trips_through_its_draft() {
        let case = Case::parse(valid_draft(), Status::Published).expect("valid");
        assert_eq!(case.status, Status::Published);
        assert_eq!(Case::parse(case.to_draft(), Status::Draft), Ok(case));
    }

    #[test]
    fn years_outside_the_range_and_bad_urls_are_rejected() {
        let draft = CaseDraft {
            year: Some(1900),
            url: Some("mailto:x".into()),
            ..valid_draft()
        };
        let errors = Case::parse(draft, Status::Published).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|error| error.field.as_str()).collect();
        assert_eq!(fields, vec!["year", "url"]);
    }
}
