//! A practitioner's request for peers (`POST /v1/match`): reading and checking it. The
//! matching itself is in `match_flow.rs`.

use serde_json::Value;

use super::{App, AppError};
use crate::domain::{CountryCode, Expert, FieldError, LanguageCode, Topic, Versioned};
use crate::matching::{Breakdown, ReasonLanguage};
use crate::vocab::Place;
use crate::wire::{optional_string, string_list};

pub const MAX_CHALLENGE_CHARS: usize = 5_000;
pub const DEFAULT_MATCH_LIMIT: usize = 10;
pub const MAX_MATCH_LIMIT: usize = 50;

/// A match request as it arrives (already type-checked JSON).
#[derive(Clone, Debug, Default)]
pub struct MatchInput {
    pub challenge: Option<String>,
    pub topics: Vec<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub languages: Vec<String>,
    pub regions: Vec<String>,
    pub limit: Option<i64>,
    pub lang: Option<String>,
}

/// The fields of a match request body (CONTRACT §4).
const MATCH_FIELDS: [&str; 8] = [
    "challenge",
    "topics",
    "city",
    "country",
    "languages",
    "regions",
    "limit",
    "lang",
];

impl MatchInput {
    /// Reads a match request body: every field type-checked, unknown fields refused, every
    /// problem named at once. Values are checked later, by `App::match_experts`.
    pub fn from_json(body: &Value) -> Result<MatchInput, Vec<FieldError>> {
        let Some(object) = body.as_object() else {
            return Err(vec![FieldError::new("body", "must be a JSON object")]);
        };
        let mut errors = Vec::new();
        for key in object.keys() {
            if !MATCH_FIELDS.contains(&key.as_str()) {
                errors.push(FieldError::new(
                    crate::domain::id::truncate_for_message(key),
                    "unknown field",
                ));
            }
        }
        let limit = match object.get("limit") {
            None | Some(Value::Null) => None,
            Some(value) => match value.as_i64() {
                Some(limit) => Some(limit),
                None => {
                    errors.push(FieldError::new("limit", "must be a whole number"));
                    None
                }
            },
        };
        let input = MatchInput {
            challenge: optional_string(object, "challenge", &mut errors),
            topics: string_list(object, "topics", &mut errors),
            city: optional_string(object, "city", &mut errors),
            country: optional_string(object, "country", &mut errors),
            languages: string_list(object, "languages", &mut errors),
            regions: string_list(object, "regions", &mut errors),
            limit,
            lang: optional_string(object, "lang", &mut errors),
        };
        if errors.is_empty() { Ok(input) } else { Err(errors) }
    }
}

pub struct MatchedExpert {
    pub expert: Versioned<Expert>,
    pub score: f32,
    pub breakdown: Breakdown,
    pub reasons: Vec<String>,
    pub cases: Vec<(String, String)>,
}

pub struct MatchOutcome {
    pub matches: Vec<MatchedExpert>,
    pub interpreted_topics: Vec<Topic>,
    /// How strongly each of `interpreted_topics` counts, relative to the strongest (1).
    pub interpreted_weights: Vec<(Topic, f32)>,
    /// The topics read from the challenge, with the words that say so.
    pub reading: Vec<crate::reading::ReadTopic>,
    /// The reading as a sentence in the request's language.
    pub reading_summary: Option<String>,
    /// Places read from the challenge (the preference when no `regions` were given).
    pub interpreted_places: Vec<Place>,
    pub interpreted_language: Option<LanguageCode>,
    pub took_ms: f64,
}

pub(super) struct ValidMatch {
    pub challenge: Option<String>,
    pub topics: Vec<Topic>,
    pub requester_city: Option<(String, CountryCode)>,
    pub country: Option<CountryCode>,
    pub languages: Vec<LanguageCode>,
    pub regions: Vec<u64>,
    pub limit: usize,
    pub reason_language: ReasonLanguage,
}

impl App {
    pub(super) fn validate_match(&self, input: MatchInput) -> Result<ValidMatch, AppError> {
        let mut errors: Vec<FieldError> = Vec::new();
        let challenge = input
            .challenge
            .map(|text| text.trim().to_string())
            .filter(|text| !text.is_empty());
        if let Some(text) = &challenge {
            let length = text.chars().count();
            if length > MAX_CHALLENGE_CHARS {
                errors.push(FieldError::new(
                    "challenge",
                    format!("must be at most {MAX_CHALLENGE_CHARS} characters (got {length})"),
                ));
            }
        }
        let mut topics = Vec::new();
        for (position, raw) in input.topics.iter().enumerate() {
            match Topic::parse(raw) {
                Ok(topic) if !topics.contains(&topic) => topics.push(topic),
                Ok(_) => {}
                Err(message) => errors.push(FieldError::new("topics", format!("entry {}: {message}", position + 1))),
            }
        }
        if challenge.is_none() && input.topics.is_empty() {
            errors.push(FieldError::new("challenge", "give a challenge, topics, or both"));
        }
        let country = match input.country.as_deref().map(str::trim).filter(|raw| !raw.is_empty()) {
            Some(raw) => match CountryCode::parse(raw) {
                Ok(country) => Some(country),
                Err(message) => {
                    errors.push(FieldError::new("country", message));
                    None
                }
            },
            None => None,
        };
        let city = input
            .city
            .map(|city| city.trim().to_string())
            .filter(|city| !city.is_empty());
        if city.as_ref().is_some_and(|city| city.chars().count() > 200) {
            errors.push(FieldError::new("city", "must be at most 200 characters"));
        }
        let mut languages = Vec::new();
        for (position, raw) in input.languages.iter().enumerate() {
            match LanguageCode::parse(raw) {
                Ok(language) if !languages.contains(&language) => languages.push(language),
                Ok(_) => {}
                Err(message) => errors.push(FieldError::new(
                    "languages",
                    format!("entry {}: {message}", position + 1),
                )),
            }
        }
        let mut regions = Vec::new();
        for (position, raw) in input.regions.iter().enumerate() {
            match self.vocabulary().regions.parse_slug(raw) {
                Ok(node) if !regions.contains(&node.code) => regions.push(node.code),
                Ok(_) => {}
                Err(message) => errors.push(FieldError::new("regions", format!("entry {}: {message}", position + 1))),
            }
        }
        let limit = match input.limit {
            None => DEFAULT_MATCH_LIMIT,
            Some(limit) if (1..=MAX_MATCH_LIMIT as i64).contains(&limit) => limit as usize,
            Some(limit) => {
                errors.push(FieldError::new(
                    "limit",
                    format!("must be between 1 and {MAX_MATCH_LIMIT} (got {limit})"),
                ));
                DEFAULT_MATCH_LIMIT
            }
        };
        let reason_language = match input.lang.as_deref() {
            None => ReasonLanguage::English,
            Some(raw) => ReasonLanguage::parse(raw).unwrap_or_else(|message| {
                errors.push(FieldError::new("lang", message));
                ReasonLanguage::English
            }),
        };
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let requester_city = match (&city, country) {
            (Some(city), Some(country)) => Some((city.clone(), country)),
            _ => None,
        };
        Ok(ValidMatch {
            challenge,
            topics,
            requester_city,
            country,
            languages,
            regions,
            limit,
            reason_language,
        })
    }
}
