//! Matching peers for a request, as a few named steps: read what the request is about, find
//! the practice cases that back it, gather candidates behind the hard filters (filled up to the
//! limit with other eligible peers when few fit), rank them (`matching`), and present the best
//! with their reasons and cases, checked again against the store.

use std::collections::HashMap;
use std::time::Instant;

use super::match_request::{MatchInput, MatchOutcome, MatchedExpert, ValidMatch};
use super::{App, AppError};
use crate::domain::{CountryCode, RecordId, Status, Topic};
use crate::matching::{self, CaseEvidence, MatchContext, RankedMatch, ReasonLabels, WantedTopic};
use crate::reading::ReadTopic;
use crate::search::{AnalysedQuery, MatchFilters, MatchRetrieval, QueryMatches, city_key};
use crate::vocab::Place;

/// Weight of a topic the requester chose explicitly, against at most 1 for one read from text.
const GIVEN_TOPIC_WEIGHT: f32 = 2.0;

/// What a request is about.
struct RequestReading {
    query: AnalysedQuery,
    /// The challenge's text scored once against experts and cases, for the reading's
    /// feedback, the relevant cases and the candidates.
    matches: QueryMatches,
    /// Given topics first, then those read from the challenge, with their weights.
    wanted: Vec<WantedTopic>,
    read: Vec<ReadTopic>,
}

/// Where the requester would like peers from.
struct Preferences {
    regions: Vec<u64>,
    countries: Vec<CountryCode>,
    /// Read from the challenge rather than given as `regions`.
    from_text: bool,
}

impl App {
    /// Ranks published, available experts for a request; see CONTRACT §4 `POST /v1/match`.
    pub fn match_experts(&self, input: MatchInput) -> Result<MatchOutcome, AppError> {
        let started = Instant::now();
        // Counted while it is answered: a match alone may share its work with a second
        // thread (`in_two::request_in_flight`).
        let _in_flight = crate::in_two::request_in_flight();
        let request = self.validate_match(input)?;
        let reading = self.read_request(&request)?;
        let cases = self.case_evidence(&reading)?;
        let preferences = preferences(&request, &reading.query);
        let candidates = self.gather_candidates(&request, &reading, &preferences, &cases)?;
        let context = MatchContext {
            settings: self.settings(),
            taxonomy: &self.vocabulary().taxonomy,
            wanted_topics: reading.wanted.clone(),
            requested_languages: request.languages.clone(),
            challenge_language: reading
                .query
                .detected_language
                .and_then(|language| language.language_code()),
            challenge_text_language: reading.query.detected_language,
            preferred_regions: preferences.regions.clone(),
            preferred_countries: preferences.countries.clone(),
            preference_from_text: preferences.from_text,
            requester_subregion: request
                .country
                .and_then(|country| self.vocabulary().regions.subregion_code(country)),
            cases,
        };
        // Rank a few more than asked: a record may have changed since it was indexed.
        let ranked = matching::rank_matches(candidates, &context, request.limit + 5);
        let summary = matching::reading_summary(&reading.read, &self.vocabulary().taxonomy, request.reason_language);
        let matches = self.present(ranked, &request, &reading, summary.as_deref())?;
        let strongest = reading.wanted.iter().map(|wanted| wanted.weight).fold(0.0f32, f32::max);
        Ok(MatchOutcome {
            matches,
            interpreted_topics: reading.wanted.iter().map(|wanted| wanted.topic).collect(),
            interpreted_weights: reading
                .wanted
                .iter()
                .map(|wanted| (wanted.topic, wanted.weight / strongest.max(f32::EPSILON)))
                .collect(),
            interpreted_places: reading.query.places.clone(),
            interpreted_language: context.challenge_language,
            reading: reading.read,
            reading_summary: summary,
            took_ms: started.elapsed().as_secs_f64() * 1000.0,
        })
    }

    /// The requester's own city, whose experts a match leaves out.
    pub(super) fn excluded_city_key(&self, request: &ValidMatch) -> Option<u64> {
        request
            .requester_city
            .as_ref()
            .map(|(city, country)| city_key(self.analyzers(), city, *country))
    }

    /// The topics the requester chose (weighing most) and those read from the challenge.
    fn read_request(&self, request: &ValidMatch) -> Result<RequestReading, AppError> {
        let query = self.analysed(request.challenge.as_deref());
        let matches = self.engine().query_matches(&query)?;
        let read = match &request.challenge {
            Some(text) => self.read_topics(text, &query, Some(&matches))?,
            None => Vec::new(),
        };
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
        for topic in &read {
            if !wanted.iter().any(|existing| existing.topic == topic.topic) {
                wanted.push(WantedTopic {
                    topic: topic.topic,
                    weight: text_scale * topic.weight,
                });
            }
        }
        Ok(RequestReading {
            query,
            matches,
            wanted,
            read,
        })
    }

    /// Published cases relevant to the challenge and its topics, as evidence for the experts
    /// linked to them.
    fn case_evidence(&self, reading: &RequestReading) -> Result<Vec<CaseEvidence>, AppError> {
        let topics: Vec<Topic> = reading.wanted.iter().map(|wanted| wanted.topic).collect();
        let keep = self.settings().matching.retrieval.cases;
        let hits = self.engine().relevant_cases(&reading.matches, &topics, keep)?;
        let best = hits.iter().map(|hit| hit.score).fold(0.0f32, f32::max);
        Ok(hits
            .into_iter()
            .map(|hit| CaseEvidence {
                case_id: hit.id,
                relevance: if best > 0.0 { hit.score / best } else { 0.0 },
                topics: hit.topics,
                experts: hit.experts,
            })
            .collect())
    }

    /// Candidates behind the hard filters: those the text, topics, related topics, preferences
    /// and case evidence point to, filled up with other eligible peers when fewer than asked.
    fn gather_candidates(
        &self,
        request: &ValidMatch,
        reading: &RequestReading,
        preferences: &Preferences,
        cases: &[CaseEvidence],
    ) -> Result<Vec<crate::search::CandidateFeatures>, AppError> {
        let topics: Vec<Topic> = reading.wanted.iter().map(|wanted| wanted.topic).collect();
        let related_topics: Vec<Topic> = topics
            .iter()
            .filter(|topic| !topic.is_area())
            .flat_map(|topic| self.vocabulary().taxonomy.entry(*topic).related.clone())
            .filter(|topic| !topics.contains(topic))
            .collect();
        let mut evidence_expert_ids: Vec<String> = cases.iter().flat_map(|case| case.experts.iter().cloned()).collect();
        evidence_expert_ids.sort();
        evidence_expert_ids.dedup();
        let retrieval = MatchRetrieval {
            matches: &reading.matches,
            topics,
            related_topics,
            filters: MatchFilters {
                languages: request.languages.clone(),
                exclude_city_key: self.excluded_city_key(request),
            },
            prefer_regions: preferences.regions.clone(),
            prefer_countries: preferences
                .countries
                .iter()
                .map(|country| crate::search::two_letter_code(country.as_str()))
                .collect(),
            evidence_expert_ids,
            keep: self.settings().matching.retrieval.candidates,
            fill_to: request.limit + 5,
        };
        Ok(self.engine().match_candidates(&retrieval)?)
    }

    /// The best ranked matches that are still eligible in the store, with reasons and cases.
    fn present(
        &self,
        ranked: Vec<RankedMatch>,
        request: &ValidMatch,
        reading: &RequestReading,
        summary: Option<&str>,
    ) -> Result<Vec<MatchedExpert>, AppError> {
        let read_topics: Vec<Topic> = reading.read.iter().map(|read| read.topic).collect();
        let mut case_titles: HashMap<String, String> = HashMap::new();
        let mut matches = Vec::with_capacity(request.limit);
        for ranked_match in ranked {
            if matches.len() >= request.limit {
                break;
            }
            let Ok(id) = RecordId::parse(&ranked_match.candidate.id) else {
                continue;
            };
            let Some(expert) = self.shown_expert(&id)? else {
                continue;
            };
            let still_eligible = expert.record.status == Status::Published
                && expert.record.available
                && (request.languages.is_empty()
                    || request.languages.iter().any(|language| expert.record.speaks(*language)));
            if !still_eligible {
                continue;
            }
            let shown_cases = self.case_titles(&ranked_match.explanation.cases, &mut case_titles)?;
            let labels = ReasonLabels {
                taxonomy: &self.vocabulary().taxonomy,
                regions: &self.vocabulary().regions,
                case_titles: &case_titles,
            };
            let mut reasons = Vec::new();
            let fits_the_reading = ranked_match
                .explanation
                .topics
                .first()
                .is_some_and(|(topic, _)| read_topics.contains(topic));
            if let Some(summary) = summary.filter(|_| fits_the_reading) {
                reasons.push(summary.to_string());
            }
            reasons.extend(matching::render_reasons(
                &ranked_match.explanation,
                &labels,
                request.reason_language,
            ));
            matches.push(MatchedExpert {
                expert,
                score: ranked_match.score,
                breakdown: ranked_match.breakdown,
                reasons,
                cases: shown_cases,
            });
        }
        Ok(matches)
    }

    /// Titles of the first three published cases among `case_ids`, remembered in `titles`.
    fn case_titles(
        &self,
        case_ids: &[String],
        titles: &mut HashMap<String, String>,
    ) -> Result<Vec<(String, String)>, AppError> {
        let mut shown = Vec::new();
        for case_id in case_ids.iter().take(3) {
            if !titles.contains_key(case_id)
                && let Ok(id) = RecordId::parse(case_id)
                && let Some(case) = self.shown_case(&id)?
                && case.record.status == Status::Published
            {
                titles.insert(case_id.clone(), case.record.title.clone());
            }
            if let Some(title) = titles.get(case_id) {
                shown.push((case_id.clone(), title.clone()));
            }
        }
        Ok(shown)
    }
}

/// The region preference: `regions` when given, else the places the challenge names.
fn preferences(request: &ValidMatch, query: &AnalysedQuery) -> Preferences {
    if !request.regions.is_empty() || query.places.is_empty() {
        return Preferences {
            regions: request.regions.clone(),
            countries: Vec::new(),
            from_text: false,
        };
    }
    Preferences {
        regions: query
            .places
            .iter()
            .filter_map(|place| match place {
                Place::Region(code) => Some(*code),
                Place::Country(_) => None,
            })
            .collect(),
        countries: query
            .places
            .iter()
            .filter_map(|place| match place {
                Place::Country(country) => Some(*country),
                Place::Region(_) => None,
            })
            .collect(),
        from_text: true,
    }
}
