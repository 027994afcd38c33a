//! Matching peers for a practitioner's request (`POST /v1/match`).

use std::collections::HashMap;
use std::time::Instant;

use serde_json::Value;

use super::listing::detected_topic_weights;
use super::{App, AppError};
use crate::domain::{CountryCode, Expert, FieldError, LanguageCode, RecordId, Status, Topic, Versioned};
use crate::matching::{self, Breakdown, CaseEvidence, MatchContext, ReasonLabels, ReasonLanguage, WantedTopic};
use crate::search::{MatchRetrieval, QueryLimits, city_key};
use crate::vocab::Place;
use crate::wire::{optional_string, string_list};

pub const MAX_CHALLENGE_CHARS: usize = 5_000;
pub const DEFAULT_MATCH_LIMIT: usize = 10;
pub const MAX_MATCH_LIMIT: usize = 50;
/// Weight of a topic the requester chose explicitly, against ~1 for one read from the text.
const GIVEN_TOPIC_WEIGHT: f32 = 2.0;

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
    /// Places read from the challenge (the preference when no `regions` were given).
    pub interpreted_places: Vec<Place>,
    pub interpreted_language: Option<LanguageCode>,
    pub took_ms: f64,
}

struct ValidMatch {
    challenge: Option<String>,
    topics: Vec<Topic>,
    requester_city: Option<(String, CountryCode)>,
    country: Option<CountryCode>,
    languages: Vec<LanguageCode>,
    regions: Vec<u64>,
    limit: usize,
    reason_language: ReasonLanguage,
}

impl App {
    fn validate_match(&self, input: MatchInput) -> Result<ValidMatch, AppError> {
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

    /// Ranks published, available experts for a request; see CONTRACT §4 `POST /v1/match`.
    pub fn match_experts(&self, input: MatchInput) -> Result<MatchOutcome, AppError> {
        let started = Instant::now();
        let request = self.validate_match(input)?;
        let query = match &request.challenge {
            Some(text) => self.engine().analyse(text, &QueryLimits::default()),
            None => Default::default(),
        };

        // Topics the requester chose weigh most; topics read from the text add to them.
        let mut wanted: Vec<WantedTopic> = request
            .topics
            .iter()
            .map(|topic| WantedTopic {
                topic: *topic,
                weight: GIVEN_TOPIC_WEIGHT,
            })
            .collect();
        let text_scale = if wanted.is_empty() {
            GIVEN_TOPIC_WEIGHT
        } else {
            GIVEN_TOPIC_WEIGHT / 2.0
        };
        for detected in detected_topic_weights(&query.topics, text_scale) {
            if !wanted.iter().any(|existing| existing.topic == detected.topic) {
                wanted.push(detected);
            }
        }
        let wanted_topics: Vec<Topic> = wanted.iter().map(|wanted| wanted.topic).collect();
        let related_topics: Vec<Topic> = wanted_topics
            .iter()
            .flat_map(|topic| {
                if topic.is_area() {
                    Vec::new()
                } else {
                    self.vocabulary().taxonomy.entry(*topic).related.clone()
                }
            })
            .filter(|topic| !wanted_topics.contains(topic))
            .collect();

        let settings = &self.settings().matching;
        let case_hits = self
            .engine()
            .relevant_cases(&query, &wanted_topics, settings.retrieval.cases)?;
        let best_case = case_hits.iter().map(|hit| hit.score).fold(0.0f32, f32::max);
        let cases: Vec<CaseEvidence> = case_hits
            .iter()
            .map(|hit| CaseEvidence {
                case_id: hit.id.clone(),
                relevance: if best_case > 0.0 { hit.score / best_case } else { 0.0 },
                topics: hit.topics.clone(),
                experts: hit.experts.clone(),
            })
            .collect();
        let mut evidence_expert_ids: Vec<String> = cases.iter().flat_map(|case| case.experts.iter().cloned()).collect();
        evidence_expert_ids.sort();
        evidence_expert_ids.dedup();

        // Without a `regions` preference, places the challenge names are the preference.
        let preference_from_text = request.regions.is_empty() && !query.places.is_empty();
        let (preferred_regions, preferred_countries): (Vec<u64>, Vec<CountryCode>) = if preference_from_text {
            (
                query
                    .places
                    .iter()
                    .filter_map(|place| {
                        if let Place::Region(code) = place {
                            Some(*code)
                        } else {
                            None
                        }
                    })
                    .collect(),
                query
                    .places
                    .iter()
                    .filter_map(|place| {
                        if let Place::Country(country) = place {
                            Some(*country)
                        } else {
                            None
                        }
                    })
                    .collect(),
            )
        } else {
            (request.regions.clone(), Vec::new())
        };
        let exclude_city_key = request
            .requester_city
            .as_ref()
            .map(|(city, country)| city_key(self.analyzers(), city, *country));
        let retrieval = MatchRetrieval {
            query: &query,
            topics: wanted_topics.clone(),
            related_topics,
            languages: request.languages.clone(),
            exclude_city_key,
            prefer_regions: preferred_regions.clone(),
            prefer_countries: preferred_countries
                .iter()
                .map(|country| crate::search::two_letter_code(country.as_str()))
                .collect(),
            evidence_expert_ids,
            keep: settings.retrieval.candidates,
        };
        let candidates = self.engine().match_candidates(&retrieval)?;
        let challenge_language = query.detected_language.and_then(|language| language.language_code());
        let context = MatchContext {
            settings: self.settings(),
            taxonomy: &self.vocabulary().taxonomy,
            wanted_topics: wanted,
            requested_languages: request.languages.clone(),
            challenge_language,
            challenge_text_language: query.detected_language,
            preferred_regions: preferred_regions.clone(),
            preferred_countries: preferred_countries.clone(),
            preference_from_text,
            requester_subregion: request
                .country
                .and_then(|country| self.vocabulary().regions.subregion_code(country)),
            cases,
        };
        // Rank a few more than asked: a record may have changed since it was indexed.
        let ranked = matching::rank_matches(candidates, &context, request.limit + 5);

        let mut case_titles: HashMap<String, String> = HashMap::new();
        let mut matches = Vec::with_capacity(request.limit);
        for ranked_match in ranked {
            if matches.len() >= request.limit {
                break;
            }
            let Ok(id) = RecordId::parse(&ranked_match.candidate.id) else {
                continue;
            };
            let Some(expert) = self.store().expert(&id)? else {
                continue;
            };
            let still_eligible = expert.record.status == Status::Published
                && expert.record.available
                && (request.languages.is_empty()
                    || request.languages.iter().any(|language| expert.record.speaks(*language)));
            if !still_eligible {
                continue;
            }
            let mut shown_cases = Vec::new();
            for case_id in ranked_match.explanation.cases.iter().take(3) {
                if !case_titles.contains_key(case_id)
                    && let Ok(case_record_id) = RecordId::parse(case_id)
                    && let Some(case) = self.store().case(&case_record_id)?
                    && case.record.status == Status::Published
                {
                    case_titles.insert(case_id.clone(), case.record.title.clone());
                }
                if let Some(title) = case_titles.get(case_id) {
                    shown_cases.push((case_id.clone(), title.clone()));
                }
            }
            let labels = ReasonLabels {
                taxonomy: &self.vocabulary().taxonomy,
                regions: &self.vocabulary().regions,
                case_titles: &case_titles,
            };
            let reasons = matching::render_reasons(&ranked_match.explanation, &labels, request.reason_language);
            matches.push(MatchedExpert {
                expert,
                score: ranked_match.score,
                breakdown: ranked_match.breakdown,
                reasons,
                cases: shown_cases,
            });
        }
        Ok(MatchOutcome {
            matches,
            interpreted_topics: wanted_topics,
            interpreted_places: query.places.clone(),
            interpreted_language: challenge_language,
            took_ms: started.elapsed().as_secs_f64() * 1000.0,
        })
    }
}
