//! An expert: a peer consultant's profile, and the draft it is parsed from.

use super::validation::{self, ErrorCollector, FieldError};
use super::{CountryCode, LanguageCode, RecordId, Status, Topic};

pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_SHORT_TEXT_CHARS: usize = 300;
pub const MAX_LONG_TEXT_CHARS: usize = 10_000;
pub const MAX_LANGUAGES: usize = 20;

/// A valid expert profile. `email` and `phone` are private: public paths never show them.
#[derive(Clone, Debug, PartialEq)]
pub struct Expert {
    pub id: RecordId,
    pub name: String,
    pub position: Option<String>,
    pub organisation: Option<String>,
    pub city: String,
    pub country: CountryCode,
    pub languages: Vec<LanguageCode>,
    pub topics: Vec<Topic>,
    pub expertise: String,
    pub bio: Option<String>,
    pub available: bool,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub status: Status,
}

/// Unvalidated input for an expert, as it arrives from JSON, CSV or a form.
/// `None` means the field was absent.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExpertDraft {
    pub id: Option<String>,
    pub name: Option<String>,
    pub position: Option<String>,
    pub organisation: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub languages: Option<Vec<String>>,
    pub topics: Option<Vec<String>>,
    pub expertise: Option<String>,
    pub bio: Option<String>,
    pub available: Option<bool>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub status: Option<String>,
}

impl Expert {
    /// Parses a draft; `default_status` applies when the draft has none
    /// (`draft` on create, `published` on import).
    pub fn parse(draft: ExpertDraft, default_status: Status) -> Result<Expert, Vec<FieldError>> {
        let mut errors = ErrorCollector::default();
        let id = match draft.id {
            Some(raw) => errors.take("id", RecordId::parse(&raw)),
            None => {
                errors.push("id", "is required");
                None
            }
        };
        let name = errors.take("name", validation::required_text(draft.name, MAX_NAME_CHARS));
        let position = errors.take(
            "position",
            validation::optional_text(draft.position, MAX_SHORT_TEXT_CHARS),
        );
        let organisation = errors.take(
            "organisation",
            validation::optional_text(draft.organisation, MAX_SHORT_TEXT_CHARS),
        );
        let city = errors.take("city", validation::required_text(draft.city, MAX_NAME_CHARS));
        let country = match draft.country {
            Some(raw) => errors.take("country", CountryCode::parse(&raw)),
            None => {
                errors.push("country", "is required");
                None
            }
        };
        let languages = match draft.languages {
            Some(items) if !items.is_empty() => errors.take(
                "languages",
                validation::parse_list(items, MAX_LANGUAGES, LanguageCode::parse),
            ),
            _ => {
                errors.push("languages", "at least one ISO 639-1 language code is required");
                None
            }
        };
        let topics = errors.take(
            "topics",
            validation::parse_list(draft.topics.unwrap_or_default(), Topic::ALL.len(), Topic::parse),
        );
        let expertise = errors.take(
            "expertise",
            validation::optional_text(draft.expertise, MAX_LONG_TEXT_CHARS).map(Option::unwrap_or_default),
        );
        let bio = errors.take("bio", validation::optional_text(draft.bio, MAX_LONG_TEXT_CHARS));
        let email = errors.take("email", validation::email(draft.email));
        let phone = errors.take("phone", validation::phone(draft.phone));
        let status = match draft.status {
            Some(raw) => errors.take("status", Status::parse(&raw)),
            None => Some(default_status),
        };
        let available = draft.available.unwrap_or(true);
        errors.finish(|| {
            Some(Expert {
                id: id?,
                name: name?,
                position: position?,
                organisation: organisation?,
                city: city?,
                country: country?,
                languages: languages?,
                topics: topics?,
                expertise: expertise?,
                bio: bio?,
                available,
                email: email?,
                phone: phone?,
                status: status?,
            })
        })
    }

    /// The inverse of `parse`: a draft that parses back to this expert.
    pub fn to_draft(&self) -> ExpertDraft {
        ExpertDraft {
            id: Some(self.id.to_string()),
            name: Some(self.name.clone()),
            position: self.position.clone(),
            organisation: self.organisation.clone(),
            city: Some(self.city.clone()),
            country: Some(self.country.to_string()),
            languages: Some(self.languages.iter().map(ToString::to_string).collect()),
            topics: Some(self.topics.iter().map(ToString::to_string).collect()),
            expertise: Some(self.expertise.clone()),
            bio: self.bio.clone(),
            available: Some(self.available),
            email: self.email.clone(),
            phone: self.phone.clone(),
            status: Some(self.status.to_string()),
        }
    }

    /// The topics this profile is tagged with, with each tagged topic's area added.
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

    pub fn speaks(&self, language: LanguageCode) -> bool {
        self.languages.contains(&language)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid_draft() -> ExpertDraft {
        ExpertDraft {
            id: Some("amadou-ndiaye".into()),
            name: Some("  Amadou Ndiaye ".into()),
            city: Some("Saint-Louis".into()),
            country: Some("sn".into()),
            languages: Some(vec!["FR".into(), "en".into(), "fr".into()]),
            topics: Some(vec!["flood-risk".into()]),
            expertise: Some("Early warning for floods".into()),
            ..ExpertDraft::default()
        }
    }

    #[test]
    fn a_valid_draft_becomes_a_normalised_expert() {
        let expert = Expert::parse(valid_draft(), Status::Draft).expect("valid");
        assert_eq!(expert.name, "Amadou Ndiaye");
        assert_eq!(expert.country.as_str(), "SN");
        assert_eq!(expert.languages.len(), 2);
        assert_eq!(expert.status, Status::Draft);
        assert!(expert.available);
        assert_eq!(Expert::parse(expert.to_draft(), Status::Published), Ok(expert));
    }

    #[test]
    fn every_invalid_field_is_reported_at_once() {
        let draft = ExpertDraft {
            name: Some(" ".into()),
            country: Some("XX".into()),
            languages: Some(vec![]),
            topics: Some(vec!["floods".into()]),
            email: Some("nope".into()),
            ..valid_draft()
        };
        let errors = Expert::parse(draft, Status::Draft).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|error| error.field.as_str()).collect();
        assert_eq!(fields, vec!["name", "country", "languages", "topics", "email"]);
    }

    #[test]
    fn tagged_topics_bring_their_area() {
        let expert = Expert::parse(valid_draft(), Status::Draft).expect("valid");
        assert_eq!(
            expert.topics_with_areas(),
            vec![Topic::FloodRisk, Topic::UrbanDevelopment]
        );
    }
}
