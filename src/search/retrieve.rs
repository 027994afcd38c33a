//! Retrieval: listings with facets, candidates for matching with the features ranking needs
//! (read from fast fields, never from stored documents) and case evidence.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use tantivy::query::EnableScoring;
use tantivy::{DocSet, TERMINATED};

use tantivy::collector::TopDocs;
use tantivy::query::{AllQuery, BooleanQuery, ConstScoreQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocAddress, Searcher, Term};

use super::SearchError;
use super::collect::{self, FacetCounts, FacetFilters, FacetedTopCollector, RankOrder};
use super::engine::{SearchEngine, and, published_only};
use super::query::{self, AnalysedQuery, QueryLimits, TextWeights, TopicClauseWeights, any_of, filter};
use super::row_queries::{self, RowFilter, TopicClauses};
use super::schema::{CommonFields, ExpertFields, country_from_code, language_from_code};
use super::segments::{SegmentTable, SegmentTables};
use super::text_matches::QueryMatches;
use crate::domain::{CountryCode, LanguageCode, Topic, TopicSet};

/// What ranking needs to know about one record, read from fast fields.
#[derive(Clone, Debug, PartialEq)]
pub struct CandidateFeatures {
    pub id: String,
    /// BM25 of the text query alone (0 when the record does not contain its words).
    pub text_score: f32,
    /// Score of the first retrieval stage (text, topics, preferences together).
    pub retrieval_score: f32,
    pub tagged_topics: TopicSet,
    pub area_tags: TopicSet,
    pub inferred_strong: TopicSet,
    pub inferred_weak: TopicSet,
    pub regions: RegionCodes,
    pub country: Option<CountryCode>,
    pub languages: Vec<LanguageCode>,
    pub city_key: u64,
    pub available: bool,
    pub updated_at: i64,
    /// The language the record's text is written in.
    pub text_language: Option<crate::text::TextLanguage>,
}

/// A listing request (`GET /v1/experts`, `GET /v1/cases`).
pub struct ListingRequest<'a> {
    pub query: &'a AnalysedQuery,
    /// Topics read from the text, which lift and widen the listing.
    pub topics: Vec<Topic>,
    pub filters: FacetFilters,
    pub published_only: bool,
    /// How many of the best records to return as candidates for re-ranking.
    pub keep: usize,
    /// Where the asked page ends (offset + limit): all a listing newest first needs, since
    /// nothing re-ranks it.
    pub page_end: usize,
}

pub struct Listing {
    pub total: u64,
    /// Best first by the retrieval order (score, or newest first when browsing).
    pub candidates: Vec<CandidateFeatures>,
    pub counts: FacetCounts,
    pub order: RankOrder,
}

/// Candidate retrieval for `POST /v1/match`: hard filters here, ranking in `matching`.
pub struct MatchRetrieval<'a> {
    /// The challenge's text matched against the index (`SearchEngine::query_matches`).
    pub matches: &'a QueryMatches,
    pub topics: Vec<Topic>,
    pub related_topics: Vec<Topic>,
    pub filters: MatchFilters,
    pub prefer_regions: Vec<u64>,
    /// Two-letter codes of preferred countries.
    pub prefer_countries: Vec<u64>,
    /// Experts linked to relevant cases: always considered.
    pub evidence_expert_ids: Vec<String>,
    pub keep: usize,
    /// When fewer candidates than this fit the text and topics, other eligible experts are
    /// added (preferred places first), so that a match can show as many peers as asked.
    pub fill_to: usize,
}

/// A relevant published case and the experts linked to it.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseHit {
    pub id: String,
    pub score: f32,
    pub experts: Vec<String>,
    pub topics: Vec<Topic>,
}

/// Constant scores used to gather match candidates (not the final ranking).
const RETRIEVAL_TOPIC_WEIGHTS: TopicClauseWeights = TopicClauseWeights {
    tagged: 4.0,
    inferred_strong: 3.0,
    inferred_weak: 1.5,
    area_only: 1.5,
};
const RETRIEVAL_RELATED_WEIGHTS: TopicClauseWeights = TopicClauseWeights {
    tagged: 1.0,
    inferred_strong: 0.8,
    inferred_weak: 0.3,
    area_only: 0.0,
};
const RETRIEVAL_REGION_BOOST: f32 = 2.0;

/// Region codes (below `MAX_REGION_CODES`) as the bits of a mask.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RegionCodes(u64);

impl RegionCodes {
    pub fn from_mask(mask: u64) -> RegionCodes {
        RegionCodes(mask)
    }

    pub fn contains(&self, code: &u64) -> bool {
        *code < 64 && self.0 & (1 << code) != 0
    }
}

/// The features of each address, from the per-segment tables (no stored documents, no
/// column reads).
fn read_features(
    tables: &[Arc<SegmentTable>],
    addresses: &[(f32, DocAddress)],
) -> Vec<(DocAddress, CandidateFeatures)> {
    let mut features = Vec::with_capacity(addresses.len());
    for (retrieval_score, address) in addresses {
        let Some(table) = tables.get(address.segment_ord as usize) else {
            continue;
        };
        let doc = address.doc_id;
        let row = table.row(doc);
        features.push((
            *address,
            CandidateFeatures {
                id: table.id(doc).to_string(),
                text_score: 0.0,
                retrieval_score: *retrieval_score,
                tagged_topics: TopicSet::from_mask(row.topics),
                area_tags: TopicSet::from_mask(row.area_tags),
                inferred_strong: TopicSet::from_mask(row.inferred_strong),
                inferred_weak: TopicSet::from_mask(row.inferred_weak),
                regions: RegionCodes::from_mask(row.regions),
                country: country_from_code(u64::from(row.country)),
                languages: table
                    .languages(doc)
                    .iter()
                    .filter_map(|code| language_from_code(u64::from(*code)))
                    .collect(),
                city_key: row.city_key,
                available: row.available,
                updated_at: row.updated_at,
                text_language: crate::text::TextLanguage::from_index_code(u64::from(row.text_language)),
            },
        ));
    }
    features
}

/// Candidate addresses in the order found, each once.
#[derive(Default)]
struct Gathered {
    addresses: Vec<(f32, DocAddress)>,
    seen: HashSet<DocAddress>,
}

impl Gathered {
    fn add(&mut self, hits: Vec<(f32, DocAddress)>) {
        for (score, address) in hits {
            if self.seen.insert(address) {
                self.addresses.push((score, address));
            }
        }
    }
}

/// BM25 of `text` for exactly these documents: each segment's scorer seeks to them in turn.
fn text_scores(
    searcher: &Searcher,
    text: &dyn Query,
    addresses: &[DocAddress],
) -> Result<HashMap<DocAddress, f32>, SearchError> {
    let weight = text.weight(EnableScoring::enabled_from_searcher(searcher))?;
    let mut by_segment: HashMap<u32, Vec<u32>> = HashMap::new();
    for address in addresses {
        by_segment.entry(address.segment_ord).or_default().push(address.doc_id);
    }
    let mut scores = HashMap::with_capacity(addresses.len());
    for (segment_ord, mut docs) in by_segment {
        docs.sort_unstable();
        docs.dedup();
        let mut scorer = weight.scorer(searcher.segment_reader(segment_ord), 1.0)?;
        for doc in docs {
            if scorer.doc() == TERMINATED {
                break;
            }
            if scorer.doc() < doc {
                scorer.seek(doc);
            }
            if scorer.doc() == doc {
                scores.insert(DocAddress::new(segment_ord, doc), scorer.score());
            }
        }
    }
    Ok(scores)
}

/// Features with their exact text scores filled in.
fn candidates_with_text_scores(
    searcher: &Searcher,
    tables: &[Arc<SegmentTable>],
    text: Option<&dyn Query>,
    addresses: &[(f32, DocAddress)],
) -> Result<Vec<CandidateFeatures>, SearchError> {
    let features = read_features(tables, addresses);
    let Some(text) = text else {
        return Ok(features.into_iter().map(|(_, feature)| feature).collect());
    };
    let docs: Vec<DocAddress> = features.iter().map(|(address, _)| *address).collect();
    let scores = text_scores(searcher, text, &docs)?;
    Ok(features
        .into_iter()
        .map(|(address, mut feature)| {
            feature.text_score = scores.get(&address).copied().unwrap_or(0.0);
            feature
        })
        .collect())
}

fn listing(
    searcher: &Searcher,
    tables: &SegmentTables,
    fields: &CommonFields,
    name_field: Option<Field>,
    request: &ListingRequest<'_>,
) -> Result<Listing, SearchError> {
    let tables = tables.for_searcher(searcher)?;
    let text = query::text_query(fields, name_field, request.query, &TextWeights::default());
    let topics = query::topic_query(
        fields,
        &request.topics,
        &TopicClauseWeights {
            tagged: 3.0,
            inferred_strong: 2.5,
            inferred_weak: 0.0,
            area_only: 0.0,
        },
    );
    let mut scoring: Vec<Box<dyn Query>> = Vec::new();
    scoring.extend(text.as_ref().map(|query| query.box_clone()));
    scoring.extend(topics);
    let order = if scoring.is_empty() {
        RankOrder::NewestFirst
    } else {
        RankOrder::Score
    };
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    match scoring.len() {
        0 => clauses.push((Occur::Must, Box::new(AllQuery))),
        1 => clauses.extend(scoring.into_iter().map(|query| (Occur::Must, query))),
        _ => clauses.push((Occur::Must, Box::new(BooleanQuery::union(scoring)))),
    }
    let mut filters = request.filters.clone();
    if request.published_only {
        filters.status = Some(crate::domain::Status::Published.code() as u8);
    }
    let collector = FacetedTopCollector {
        filters,
        keep: match order {
            RankOrder::Score => request.keep,
            RankOrder::NewestFirst => request.page_end.min(request.keep),
        },
        order,
        tables: tables.clone(),
    };
    let found = match order {
        RankOrder::NewestFirst => collect::newest_first(searcher, &collector)?,
        RankOrder::Score => searcher.search(&and(clauses), &collector)?,
    };
    let addresses: Vec<(f32, DocAddress)> = found.top.iter().map(|(key, address)| (*key as f32, *address)).collect();
    let candidates = candidates_with_text_scores(searcher, &tables, text.as_deref(), &addresses)?;
    Ok(Listing {
        total: found.total,
        candidates,
        counts: found.counts,
        order,
    })
}

/// What every match candidate passes: published, available, a shared language when asked,
/// not from the requester's city.
#[derive(Clone, Debug, Default)]
pub struct MatchFilters {
    pub languages: Vec<LanguageCode>,
    pub exclude_city_key: Option<u64>,
}

/// `MatchFilters` as tantivy clauses (the fill-up and the floor).
pub(super) fn match_hard_filters(fields: &ExpertFields, filters: &MatchFilters) -> Vec<(Occur, Box<dyn Query>)> {
    let common = &fields.common;
    let mut hard_filters: Vec<(Occur, Box<dyn Query>)> = vec![
        filter(published_only(common.status)),
        filter(Box::new(query::u64_term_query(fields.available, 1))),
    ];
    if !filters.languages.is_empty() {
        let codes: Vec<u64> = filters
            .languages
            .iter()
            .map(|language| super::two_letter_code(language.as_str()))
            .collect();
        hard_filters.push(filter(any_of(common.languages, &codes)));
    }
    if let Some(city_key) = filters.exclude_city_key {
        hard_filters.push((
            Occur::MustNot,
            Box::new(query::u64_term_query(common.city_key, city_key)),
        ));
    }
    hard_filters
}

/// Constant boosts for experts in a preferred region or country (`match_row_filter`'s, as
/// tantivy clauses).
fn place_preferences(common: &CommonFields, request: &MatchRetrieval<'_>) -> Vec<(Occur, Box<dyn Query>)> {
    let mut preferences: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for (field, codes) in [
        (common.regions, &request.prefer_regions),
        (common.country, &request.prefer_countries),
    ] {
        if !codes.is_empty() {
            let boost = Box::new(ConstScoreQuery::new(any_of(field, codes), RETRIEVAL_REGION_BOOST));
            preferences.push((Occur::Should, boost));
        }
    }
    preferences
}

/// The match's hard filters and place preferences, read from the segment tables.
fn match_row_filter(request: &MatchRetrieval<'_>) -> RowFilter {
    RowFilter {
        status: Some(crate::domain::Status::Published.code() as u8),
        available_only: true,
        languages: request
            .filters
            .languages
            .iter()
            .filter_map(|language| u16::try_from(super::two_letter_code(language.as_str())).ok())
            .collect(),
        exclude_city_key: request.filters.exclude_city_key,
        prefer_regions: row_queries::region_mask(&request.prefer_regions),
        prefer_countries: request
            .prefer_countries
            .iter()
            .filter_map(|code| u16::try_from(*code).ok())
            .collect(),
        preference_boost: RETRIEVAL_REGION_BOOST,
    }
}

impl SearchEngine {
    pub fn analyse(&self, text: &str, limits: &QueryLimits) -> AnalysedQuery {
        let searcher = self.experts.searcher();
        query::analyse(
            text,
            &self.analyzers,
            &self.vocabulary,
            &searcher,
            query::AnalysedFields {
                folded: self.experts.fields.common.folded,
                name: self.experts.fields.name,
                stemmed: &self.experts.fields.common.text,
            },
            limits,
        )
    }

    pub fn list_experts(&self, request: &ListingRequest<'_>) -> Result<Listing, SearchError> {
        let fields = &self.experts.fields;
        listing(
            &self.experts.searcher(),
            &self.experts.tables,
            &fields.common,
            Some(fields.name),
            request,
        )
    }

    pub fn list_cases(&self, request: &ListingRequest<'_>) -> Result<Listing, SearchError> {
        listing(
            &self.cases.searcher(),
            &self.cases.tables,
            &self.cases.fields.common,
            None,
            request,
        )
    }

    /// Candidates for a match request: every one passes the hard filters (published,
    /// available, a shared language when asked, not from the requester's city).
    pub fn match_candidates(&self, request: &MatchRetrieval<'_>) -> Result<Vec<CandidateFeatures>, SearchError> {
        let text = &request.matches.experts;
        let searcher = text.searcher();
        let fields = &self.experts.fields;
        let common = &fields.common;
        let mut topics = TopicClauses::default();
        topics.add(&request.topics, &RETRIEVAL_TOPIC_WEIGHTS);
        topics.add(&request.related_topics, &RETRIEVAL_RELATED_WEIGHTS);

        let mut gathered = Gathered::default();
        if text.has_text() || !topics.is_empty() {
            gathered.add(row_queries::best_by_rows(
                text,
                &self.experts.tables,
                &topics,
                &match_row_filter(request),
                request.keep,
            )?);
        }
        if !request.evidence_expert_ids.is_empty() {
            gathered.add(row_queries::docs_with_ids(
                searcher,
                &self.experts.tables,
                &request.evidence_expert_ids,
                &match_row_filter(request),
            )?);
        }
        if gathered.addresses.len() < request.fill_to {
            // Few fit: other eligible experts, by plain tantivy filters.
            let mut clauses = match_hard_filters(fields, &request.filters);
            clauses.push((Occur::Must, Box::new(ConstScoreQuery::new(Box::new(AllQuery), 0.0))));
            clauses.extend(place_preferences(common, request));
            let room = request.fill_to + gathered.addresses.len();
            gathered.add(searcher.search(&and(clauses), &TopDocs::with_limit(room).order_by_score())?);
        }
        let tables = self.experts.tables.for_searcher(searcher)?;
        Ok(read_features(&tables, &gathered.addresses)
            .into_iter()
            .map(|(address, mut feature)| {
                feature.text_score = text.score_of(address);
                feature
            })
            .collect())
    }

    /// Published cases relevant to a text and topics, best first, with their linked experts.
    pub fn relevant_cases(
        &self,
        matches: &QueryMatches,
        topics: &[Topic],
        keep: usize,
    ) -> Result<Vec<CaseHit>, SearchError> {
        let text = &matches.cases;
        let mut topic_clauses = TopicClauses::default();
        topic_clauses.add(
            topics,
            &TopicClauseWeights {
                tagged: 3.0,
                inferred_strong: 2.0,
                inferred_weak: 0.5,
                area_only: 0.0,
            },
        );
        if !text.has_text() && topic_clauses.is_empty() {
            return Ok(Vec::new());
        }
        let published = RowFilter {
            status: Some(crate::domain::Status::Published.code() as u8),
            ..RowFilter::default()
        };
        let hits = row_queries::best_by_rows(text, &self.cases.tables, &topic_clauses, &published, keep)?;
        self.case_hits(text.searcher(), &hits)
    }

    /// Published cases that name an expert, newest first.
    pub fn cases_of_expert(&self, expert_id: &str, keep: usize) -> Result<Vec<CaseHit>, SearchError> {
        let searcher = self.cases.searcher();
        let fields = &self.cases.fields;
        let linked = TermQuery::new(
            Term::from_field_text(fields.experts, expert_id),
            IndexRecordOption::Basic,
        );
        let query = and(vec![
            filter(published_only(fields.common.status)),
            filter(Box::new(linked)),
        ]);
        let hits = searcher.search(
            &query,
            &TopDocs::with_limit(keep).order_by_fast_field::<i64>("updated_at", tantivy::Order::Desc),
        )?;
        let addresses: Vec<(f32, DocAddress)> = hits.into_iter().map(|(_, address)| (0.0, address)).collect();
        self.case_hits(&searcher, &addresses)
    }

    fn case_hits(&self, searcher: &Searcher, hits: &[(f32, DocAddress)]) -> Result<Vec<CaseHit>, SearchError> {
        let tables = self.cases.tables.for_searcher(searcher)?;
        let features = read_features(&tables, hits);
        let mut cases = Vec::with_capacity(hits.len());
        for ((score, _), (address, feature)) in hits.iter().zip(features) {
            let experts = tables
                .get(address.segment_ord as usize)
                .map(|table| table.linked(address.doc_id).map(str::to_string).collect())
                .unwrap_or_default();
            let mut topics: Vec<Topic> = feature.tagged_topics.iter().collect();
            topics.extend(feature.inferred_strong.iter());
            cases.push(CaseHit {
                id: feature.id,
                score: *score,
                experts,
                topics,
            });
        }
        Ok(cases)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_codes_hold_the_bits_of_their_mask_and_nothing_past_63() {
        let codes = RegionCodes::from_mask((1 << 0) | (1 << 17) | (1 << 63));
        let check = |code: u64, expected: bool| assert_eq!(codes.contains(&code), expected, "code {code}");
        check(0, true);
        check(17, true);
        check(63, true);
        check(1, false);
        check(64, false);
        check(u64::MAX, false);
    }
}
