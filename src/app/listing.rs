//! Faceted search over experts and cases (`GET /v1/experts`, `GET /v1/cases` and the admin
//! variants over all statuses).

use std::collections::{BTreeMap, HashSet};
use std::time::Instant;

use super::{App, AppError, EditableRecord};
use crate::domain::{Case, CountryCode, Expert, LanguageCode, Topic, Versioned};
use crate::matching::{self, WantedTopic};
use crate::search::{
    AnalysedQuery, FacetCounts, FacetFilters, ListingRequest, QueryLimits, RankOrder, country_from_code,
    language_from_code, two_letter_code,
};
use crate::text::TextLanguage;
use crate::text::highlight::HighlightTerms;

pub const DEFAULT_LIMIT: usize = 20;
pub const MAX_LIMIT: usize = 100;
pub const MAX_OFFSET: usize = 10_000;
pub const MAX_QUERY_CHARS: usize = 500;
pub const MAX_FILTER_VALUES: usize = 50;
/// Candidates re-ranked for a text query beyond the requested page.
const RERANK_DEPTH: usize = 200;

/// Search parameters as they arrive (each list parameter repeatable).
#[derive(Clone, Debug, Default)]
pub struct ListingParams {
    pub q: Option<String>,
    pub topic: Vec<String>,
    pub region: Vec<String>,
    pub country: Vec<String>,
    pub language: Vec<String>,
    pub available: Option<String>,
    pub limit: Option<String>,
    pub offset: Option<String>,
    /// Staff only: draft, published or archived.
    pub status: Option<String>,
}

pub struct Hit<R> {
    pub record: Versioned<R>,
    pub score: f32,
    pub highlights: BTreeMap<&'static str, String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facets {
    pub topic: BTreeMap<String, u64>,
    pub region: BTreeMap<String, u64>,
    pub country: BTreeMap<String, u64>,
    pub language: BTreeMap<String, u64>,
}

pub struct ListingPage<R> {
    pub total: u64,
    pub hits: Vec<Hit<R>>,
    pub facets: Facets,
    /// How `q` was read.
    pub interpreted: QueryReading,
    pub took_ms: f64,
}

/// How the engine read a query: the topics it names, its language, and the words it did not
/// know with the words of the index it searched instead ("drainige" → "drainage").
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueryReading {
    pub topics: Vec<Topic>,
    pub language: Option<LanguageCode>,
    pub corrections: Vec<(String, Vec<String>)>,
}

impl QueryReading {
    pub fn of(query: &AnalysedQuery, topics: Vec<Topic>) -> QueryReading {
        QueryReading {
            topics,
            language: query.detected_language.and_then(|language| language.language_code()),
            corrections: query
                .words
                .iter()
                .filter(|word| !word.corrections.is_empty())
                .map(|word| {
                    (
                        word.folded.clone(),
                        word.corrections
                            .iter()
                            .map(|correction| correction.folded.clone())
                            .collect(),
                    )
                })
                .collect(),
        }
    }
}

pub(super) struct ParsedListing {
    pub(super) q: Option<String>,
    pub(super) filters: FacetFilters,
    limit: usize,
    offset: usize,
}

fn parse_number(field: &str, raw: Option<&String>, default: usize, max: usize) -> Result<usize, AppError> {
    let Some(raw) = raw else { return Ok(default) };
    let value: usize = raw.trim().parse().map_err(|_| {
        AppError::bad_parameter(
            field,
            format!(
                "'{}' is not a whole number",
                crate::domain::id::truncate_for_message(raw)
            ),
        )
    })?;
    if value > max {
        return Err(AppError::bad_parameter(field, format!("must be at most {max}")));
    }
    Ok(value)
}

fn parse_values<T>(field: &str, raw: &[String], parse: impl Fn(&str) -> Result<T, String>) -> Result<Vec<T>, AppError> {
    let values: Vec<&str> = raw.iter().flat_map(|value| value.split(',')).map(str::trim).collect();
    if values.iter().any(|value| value.is_empty()) {
        return Err(AppError::bad_parameter(
            field,
            "has an empty value; leave the parameter out instead",
        ));
    }
    if values.len() > MAX_FILTER_VALUES {
        return Err(AppError::bad_parameter(
            field,
            format!("at most {MAX_FILTER_VALUES} values"),
        ));
    }
    values
        .into_iter()
        .map(|value| parse(value).map_err(|message| AppError::bad_parameter(field, message)))
        .collect()
}

pub fn parse_bool_parameter(field: &str, raw: &str) -> Result<bool, AppError> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        other => Err(AppError::bad_parameter(
            field,
            format!(
                "'{}' is not true or false",
                crate::domain::id::truncate_for_message(other)
            ),
        )),
    }
}

impl App {
    /// The words of a search text or challenge, as the index reads them (none without text).
    pub(super) fn analysed(&self, text: Option<&str>) -> AnalysedQuery {
        match text {
            Some(text) => self.engine().analyse(text, &QueryLimits::default()),
            None => AnalysedQuery::default(),
        }
    }

    pub(super) fn parse_listing(&self, params: &ListingParams, for_experts: bool) -> Result<ParsedListing, AppError> {
        let q = params
            .q
            .as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(str::to_string);
        if let Some(q) = &q
            && q.chars().count() > MAX_QUERY_CHARS
        {
            return Err(AppError::bad_parameter(
                "q",
                format!("must be at most {MAX_QUERY_CHARS} characters"),
            ));
        }
        let topics = parse_values("topic", &params.topic, Topic::parse)?;
        let regions = parse_values("region", &params.region, |raw| {
            self.vocabulary().regions.parse_slug(raw).map(|node| node.code)
        })?;
        let countries = parse_values("country", &params.country, CountryCode::parse)?;
        let languages = parse_values("language", &params.language, LanguageCode::parse)?;
        let available = match params.available.as_deref() {
            None => None,
            Some(_) if !for_experts => {
                return Err(AppError::bad_parameter("available", "only experts have availability"));
            }
            Some(raw) => Some(parse_bool_parameter("available", raw)?),
        };
        let status = match params.status.as_deref() {
            None => None,
            Some(raw) => Some(
                crate::domain::Status::parse(raw.trim())
                    .map_err(|message| AppError::bad_parameter("status", message))?
                    .code() as u8,
            ),
        };
        let limit = parse_number("limit", params.limit.as_ref(), DEFAULT_LIMIT, MAX_LIMIT)?;
        let offset = parse_number("offset", params.offset.as_ref(), 0, MAX_OFFSET)?;
        Ok(ParsedListing {
            q,
            filters: FacetFilters {
                topics: topics.iter().map(Topic::code).collect(),
                regions,
                countries: countries
                    .iter()
                    .map(|country| two_letter_code(country.as_str()))
                    .collect(),
                languages: languages
                    .iter()
                    .map(|language| two_letter_code(language.as_str()))
                    .collect(),
                available,
                status,
            },
            limit,
            offset,
        })
    }

    fn facets_from(&self, counts: &FacetCounts) -> Facets {
        let mut facets = Facets::default();
        for (code, count) in counts.topics.iter().enumerate() {
            if let (Some(topic), true) = (Topic::from_code(code as u64), *count > 0) {
                facets.topic.insert(topic.id().to_string(), *count);
            }
        }
        for (code, count) in counts.regions.iter().enumerate() {
            if let (Some(node), true) = (self.vocabulary().regions.by_code(code as u64), *count > 0) {
                facets.region.insert(node.slug.clone(), *count);
            }
        }
        for (code, count) in counts.countries.iter().enumerate() {
            if let (Some(country), true) = (country_from_code(code as u64), *count > 0) {
                facets.country.insert(country.to_string(), *count);
            }
        }
        for (code, count) in counts.languages.iter().enumerate() {
            if let (Some(language), true) = (language_from_code(code as u64), *count > 0) {
                facets.language.insert(language.to_string(), *count);
            }
        }
        facets
    }

    fn wanted_topics_of(&self, text: Option<&str>, query: &AnalysedQuery) -> Result<Vec<WantedTopic>, AppError> {
        let Some(text) = text else { return Ok(Vec::new()) };
        Ok(self
            .read_topics(text, query, None)?
            .into_iter()
            .map(|read| WantedTopic {
                topic: read.topic,
                weight: read.weight,
            })
            .collect())
    }

    /// Searches experts: published only for the public, every status for staff.
    pub fn search_experts(
        &self,
        params: &ListingParams,
        published_only: bool,
    ) -> Result<ListingPage<Expert>, AppError> {
        self.search_records::<Expert>(
            params,
            published_only,
            |request| self.engine().list_experts(request),
            |expert, query, language| self.expert_highlights(expert, query, language),
        )
    }

    /// Searches practice cases, like `search_experts`.
    pub fn search_cases(&self, params: &ListingParams, published_only: bool) -> Result<ListingPage<Case>, AppError> {
        self.search_records::<Case>(
            params,
            published_only,
            |request| self.engine().list_cases(request),
            |case, query, language| self.case_highlights(case, query, language),
        )
    }

    fn search_records<R: EditableRecord>(
        &self,
        params: &ListingParams,
        published_only: bool,
        list: impl Fn(&ListingRequest<'_>) -> Result<crate::search::Listing, crate::search::SearchError>,
        highlights_of: impl Fn(&R, &AnalysedQuery, Option<TextLanguage>) -> BTreeMap<&'static str, String>,
    ) -> Result<ListingPage<R>, AppError> {
        // Counted while it is answered: a search alone may share its work with a second
        // thread (`in_two::request_in_flight`).
        let _in_flight = crate::in_two::request_in_flight();
        let started = Instant::now();
        let parsed = self.parse_listing(params, R::KIND == crate::domain::RecordKind::Expert)?;
        let query = self.analysed(parsed.q.as_deref());
        let wanted = self.wanted_topics_of(parsed.q.as_deref(), &query)?;
        if parsed.q.is_some() && query.is_empty() && wanted.is_empty() {
            // Text with nothing to search for (only stop words, or words too long to be
            // words) matches nothing; it must not turn into a browse of everything.
            return Ok(ListingPage {
                total: 0,
                hits: Vec::new(),
                facets: Facets::default(),
                interpreted: QueryReading::of(&query, Vec::new()),
                took_ms: started.elapsed().as_secs_f64() * 1000.0,
            });
        }
        let request = ListingRequest {
            query: &query,
            topics: wanted.iter().map(|wanted| wanted.topic).collect(),
            filters: parsed.filters.clone(),
            published_only,
            keep: (parsed.offset + parsed.limit).clamp(RERANK_DEPTH, MAX_OFFSET + MAX_LIMIT),
            page_end: parsed.offset + parsed.limit,
        };
        let listing = list(&request)?;
        let ordered: Vec<(String, f32, Option<TextLanguage>)> = match listing.order {
            RankOrder::NewestFirst => listing
                .candidates
                .into_iter()
                .map(|candidate| (candidate.id, 0.0, candidate.text_language))
                .collect(),
            RankOrder::Score => matching::rank_listing(
                listing.candidates,
                &wanted,
                query.detected_language,
                &query.places,
                &self.vocabulary().taxonomy,
                self.settings(),
            )
            .into_iter()
            .map(|(candidate, score)| (candidate.id, score, candidate.text_language))
            .collect(),
        };
        let mut hits = Vec::new();
        for (id, score, language) in ordered.into_iter().skip(parsed.offset).take(parsed.limit) {
            let Ok(record_id) = crate::domain::RecordId::parse(&id) else {
                continue;
            };
            // The index may be a moment behind the store: show what the store holds now.
            let Some(record) = R::read_committed(self, &record_id)? else {
                continue;
            };
            if published_only && record.record.status() != crate::domain::Status::Published {
                continue;
            }
            let record = if published_only {
                R::for_public(self, record)?
            } else {
                record
            };
            let highlights = highlights_of(&record.record, &query, language);
            hits.push(Hit {
                record,
                score,
                highlights,
            });
        }
        Ok(ListingPage {
            total: listing.total,
            hits,
            facets: self.facets_from(&listing.counts),
            interpreted: QueryReading::of(&query, wanted.iter().map(|wanted| wanted.topic).collect()),
            took_ms: started.elapsed().as_secs_f64() * 1000.0,
        })
    }

    fn highlight_field(
        &self,
        text: &str,
        language: TextLanguage,
        query: &AnalysedQuery,
        words: &HashSet<String>,
        stems: &HashSet<(TextLanguage, String)>,
    ) -> Option<String> {
        let topics: Vec<Topic> = query.topics.iter().map(|evidence| evidence.topic).collect();
        let folded = self.analyzers().folded(text);
        let stemmed = self.analyzers().stemmed(language, text);
        let extra_spans = self
            .vocabulary()
            .matcher
            .spans_of_topics_in(&stemmed, language, &topics);
        let terms = HighlightTerms {
            folded_words: words,
            stems,
            extra_spans,
        };
        crate::text::highlight::highlight_tokens(text, &folded, &stemmed, language, &terms)
    }

    pub(crate) fn expert_highlights(
        &self,
        expert: &Expert,
        query: &AnalysedQuery,
        indexed_language: Option<TextLanguage>,
    ) -> BTreeMap<&'static str, String> {
        let mut highlights = BTreeMap::new();
        if query.is_empty() && query.topics.is_empty() {
            return highlights;
        }
        let language = indexed_language.unwrap_or_else(|| crate::search::expert_text_language(expert));
        let words = query.highlight_words();
        let stems = query.highlight_stems();
        if let Some(marked) = self.highlight_field(&expert.expertise, language, query, &words, &stems) {
            highlights.insert("expertise", marked);
        }
        // The bio is read only when the expertise does not show why the expert matched.
        if highlights.is_empty()
            && let Some(bio) = &expert.bio
            && let Some(marked) = self.highlight_field(bio, language, query, &words, &stems)
        {
            highlights.insert("bio", marked);
        }
        highlights
    }

    fn case_highlights(
        &self,
        case: &Case,
        query: &AnalysedQuery,
        indexed_language: Option<TextLanguage>,
    ) -> BTreeMap<&'static str, String> {
        let mut highlights = BTreeMap::new();
        if query.is_empty() && query.topics.is_empty() {
            return highlights;
        }
        let language = indexed_language.unwrap_or_else(|| crate::search::case_text_language(case));
        let words = query.highlight_words();
        let stems = query.highlight_stems();
        if let Some(marked) = self.highlight_field(&case.title, language, query, &words, &stems) {
            highlights.insert("title", marked);
        }
        if let Some(marked) = self.highlight_field(&case.summary, language, query, &words, &stems) {
            highlights.insert("summary", marked);
        }
        highlights
    }
}
