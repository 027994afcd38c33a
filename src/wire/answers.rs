//! The shape of every answer the API gives and the CLI prints with --json (the contract's JSON),
//! built from the service's results.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::{self as wire, CaseView, ExpertView, Visibility};
use crate::app::{Facets, ListingPage, MatchOutcome, QueryReading, Suggestions};
use crate::curation::duplicates::DuplicatePair;
use crate::curation::import::ImportReport;
use crate::domain::{Case, Expert};
use crate::store::{AuditEntry, StoredContactRequest};
use crate::vocab::{Regions, Taxonomy};

#[derive(Serialize)]
pub struct ExpertHitOut<'a> {
    pub expert: ExpertView<'a>,
    pub score: f32,
    pub highlights: &'a BTreeMap<&'static str, String>,
}

#[derive(Serialize)]
pub struct CaseHitOut<'a> {
    pub case: CaseView<'a>,
    pub score: f32,
    pub highlights: &'a BTreeMap<&'static str, String>,
}

#[derive(Serialize)]
pub struct FacetsOut<'a> {
    pub topic: &'a BTreeMap<String, u64>,
    pub region: &'a BTreeMap<String, u64>,
    pub country: &'a BTreeMap<String, u64>,
    pub language: &'a BTreeMap<String, u64>,
}

fn facets(facets: &Facets) -> FacetsOut<'_> {
    FacetsOut {
        topic: &facets.topic,
        region: &facets.region,
        country: &facets.country,
        language: &facets.language,
    }
}

#[derive(Serialize)]
pub struct ListingOut<'a, H> {
    pub total: u64,
    pub hits: Vec<H>,
    pub facets: FacetsOut<'a>,
    pub interpreted: QueryReadingOut<'a>,
    pub took_ms: f64,
}

#[derive(Serialize)]
pub struct QueryReadingOut<'a> {
    pub topics: Vec<&'static str>,
    pub language: Option<&'a str>,
    pub corrections: Vec<CorrectionOut<'a>>,
}

#[derive(Serialize)]
pub struct CorrectionOut<'a> {
    pub word: &'a str,
    pub suggestions: &'a [String],
}

fn query_reading(reading: &QueryReading) -> QueryReadingOut<'_> {
    QueryReadingOut {
        topics: reading.topics.iter().map(|topic| topic.id()).collect(),
        language: reading.language.as_ref().map(|language| language.as_str()),
        corrections: reading
            .corrections
            .iter()
            .map(|(word, suggestions)| CorrectionOut { word, suggestions })
            .collect(),
    }
}

fn rounded(score: f32) -> f32 {
    (score * 10_000.0).round() / 10_000.0
}

pub fn expert_listing<'a>(
    page: &'a ListingPage<Expert>,
    regions: &Regions,
    visibility: Visibility,
) -> ListingOut<'a, ExpertHitOut<'a>> {
    ListingOut {
        total: page.total,
        hits: page
            .hits
            .iter()
            .map(|hit| ExpertHitOut {
                expert: wire::expert_view(&hit.record, regions, visibility),
                score: rounded(hit.score),
                highlights: &hit.highlights,
            })
            .collect(),
        facets: facets(&page.facets),
        interpreted: query_reading(&page.interpreted),
        took_ms: page.took_ms,
    }
}

pub fn case_listing<'a>(page: &'a ListingPage<Case>, regions: &Regions) -> ListingOut<'a, CaseHitOut<'a>> {
    ListingOut {
        total: page.total,
        hits: page
            .hits
            .iter()
            .map(|hit| CaseHitOut {
                case: wire::case_view(&hit.record, regions),
                score: rounded(hit.score),
                highlights: &hit.highlights,
            })
            .collect(),
        facets: facets(&page.facets),
        interpreted: query_reading(&page.interpreted),
        took_ms: page.took_ms,
    }
}

#[derive(Serialize)]
pub struct BreakdownOut {
    pub text: f32,
    pub topic: f32,
    pub language: f32,
    pub region: f32,
    pub evidence: f32,
}

#[derive(Serialize)]
pub struct CaseRef<'a> {
    pub id: &'a str,
    pub title: &'a str,
}

#[derive(Serialize)]
pub struct MatchOut<'a> {
    pub expert: ExpertView<'a>,
    pub score: f32,
    pub breakdown: BreakdownOut,
    pub reasons: &'a [String],
    pub cases: Vec<CaseRef<'a>>,
}

#[derive(Serialize)]
pub struct InterpretedOut<'a> {
    pub topics: Vec<&'static str>,
    /// How strongly each topic counts, relative to the strongest (1).
    pub weights: BTreeMap<&'static str, f32>,
    /// The topics read from the challenge and the words that say so.
    pub reading: Vec<ReadTopicOut<'a>>,
    /// The reading as a sentence in the request's language.
    pub summary: Option<&'a str>,
    pub language: Option<String>,
    /// Regions (slugs) and countries named in the challenge.
    pub regions: Vec<String>,
    pub countries: Vec<String>,
}

#[derive(Serialize)]
pub struct ReadTopicOut<'a> {
    pub topic: &'static str,
    pub weight: f32,
    pub words: &'a [String],
}

#[derive(Serialize)]
pub struct MatchResponse<'a> {
    pub matches: Vec<MatchOut<'a>>,
    pub interpreted: InterpretedOut<'a>,
    pub took_ms: f64,
}

pub fn match_response<'a>(outcome: &'a MatchOutcome, regions: &Regions) -> MatchResponse<'a> {
    let named_regions = outcome
        .interpreted_places
        .iter()
        .filter_map(|place| match place {
            crate::vocab::Place::Region(code) => regions.by_code(*code).map(|node| node.slug.clone()),
            crate::vocab::Place::Country(_) => None,
        })
        .collect();
    let named_countries = outcome
        .interpreted_places
        .iter()
        .filter_map(|place| match place {
            crate::vocab::Place::Country(country) => Some(country.to_string()),
            crate::vocab::Place::Region(_) => None,
        })
        .collect();
    MatchResponse {
        matches: outcome
            .matches
            .iter()
            .map(|matched| MatchOut {
                expert: wire::expert_view(&matched.expert, regions, Visibility::Public),
                score: rounded(matched.score),
                breakdown: BreakdownOut {
                    text: rounded(matched.breakdown.text),
                    topic: rounded(matched.breakdown.topic),
                    language: rounded(matched.breakdown.language),
                    region: rounded(matched.breakdown.region),
                    evidence: rounded(matched.breakdown.evidence),
                },
                reasons: &matched.reasons,
                cases: matched.cases.iter().map(|(id, title)| CaseRef { id, title }).collect(),
            })
            .collect(),
        interpreted: InterpretedOut {
            topics: outcome.interpreted_topics.iter().map(|topic| topic.id()).collect(),
            weights: outcome
                .interpreted_weights
                .iter()
                .map(|(topic, weight)| (topic.id(), rounded(*weight)))
                .collect(),
            reading: outcome
                .reading
                .iter()
                .map(|read| ReadTopicOut {
                    topic: read.topic.id(),
                    weight: rounded(read.weight),
                    words: &read.words,
                })
                .collect(),
            summary: outcome.reading_summary.as_deref(),
            language: outcome.interpreted_language.map(|language| language.to_string()),
            regions: named_regions,
            countries: named_countries,
        },
        took_ms: outcome.took_ms,
    }
}

#[derive(Serialize)]
pub struct TopicOut<'a> {
    pub id: &'static str,
    pub label: &'a str,
    pub description: &'a str,
    pub related: Vec<&'static str>,
}

#[derive(Serialize)]
pub struct AreaOut<'a> {
    pub id: &'static str,
    pub label: &'a str,
    pub description: &'a str,
    pub topics: Vec<TopicOut<'a>>,
}

#[derive(Serialize)]
pub struct TopicsResponse<'a> {
    pub lang: &'a str,
    pub areas: Vec<AreaOut<'a>>,
}

pub fn topics_response<'a>(taxonomy: &'a Taxonomy, lang: &'a str) -> TopicsResponse<'a> {
    let areas = crate::domain::Topic::ALL
        .into_iter()
        .filter(|topic| topic.is_area())
        .map(|area| {
            let entry = taxonomy.entry(area);
            AreaOut {
                id: area.id(),
                label: entry.label(lang),
                description: entry.description(lang),
                topics: area
                    .covered_topics()
                    .into_iter()
                    .map(|topic| {
                        let entry = taxonomy.entry(topic);
                        TopicOut {
                            id: topic.id(),
                            label: entry.label(lang),
                            description: entry.description(lang),
                            related: entry.related.iter().map(|related| related.id()).collect(),
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    TopicsResponse { lang, areas }
}

#[derive(Serialize)]
pub struct RegionOut<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<&'a str>,
    pub level: &'static str,
    pub parent: Option<&'a str>,
    pub countries: Vec<String>,
}

#[derive(Serialize)]
pub struct RegionsResponse<'a> {
    pub regions: Vec<RegionOut<'a>>,
}

/// Every region; with `lang`, each also gets its `label` in that language (English when the
/// vocabulary has no name in it).
pub fn regions_response<'a>(regions: &'a Regions, lang: Option<&str>) -> RegionsResponse<'a> {
    RegionsResponse {
        regions: regions
            .nodes()
            .iter()
            .map(|node| RegionOut {
                slug: &node.slug,
                name: &node.name,
                label: lang.map(|lang| regions.localized_name(&node.slug, lang).unwrap_or(&node.name)),
                level: node.level.as_str(),
                parent: node.parent.as_deref(),
                countries: regions
                    .countries_in(node.code)
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
            })
            .collect(),
    }
}

#[derive(Serialize)]
pub struct SuggestOut<'a> {
    pub text: &'a str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<&'a str>,
}

#[derive(Serialize)]
pub struct SuggestResponse<'a> {
    pub q: &'a str,
    pub completions: Vec<SuggestOut<'a>>,
    pub did_you_mean: Vec<SuggestOut<'a>>,
}

pub fn suggest_response<'a>(q: &'a str, suggestions: &'a Suggestions) -> SuggestResponse<'a> {
    let convert = |entries: &'a [crate::app::SuggestEntry]| {
        entries
            .iter()
            .map(|entry| SuggestOut {
                text: &entry.text,
                kind: entry.kind,
                value: entry.value.as_deref(),
            })
            .collect()
    };
    SuggestResponse {
        q,
        completions: convert(&suggestions.completions),
        did_you_mean: convert(&suggestions.did_you_mean),
    }
}

#[derive(Serialize)]
pub struct FieldErrorOut<'a> {
    pub field: &'a str,
    pub message: &'a str,
}

#[derive(Serialize)]
pub struct RejectedOut<'a> {
    pub line: u64,
    pub id: Option<&'a str>,
    pub errors: Vec<FieldErrorOut<'a>>,
}

#[derive(Serialize)]
pub struct ImportResponse<'a> {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: Vec<RejectedOut<'a>>,
}

pub fn import_response(report: &ImportReport) -> ImportResponse<'_> {
    ImportResponse {
        created: report.created,
        updated: report.updated,
        unchanged: report.unchanged,
        rejected: report
            .rejected
            .iter()
            .map(|rejected| RejectedOut {
                line: rejected.line,
                id: rejected.id.as_deref(),
                errors: rejected
                    .errors
                    .iter()
                    .map(|error| FieldErrorOut {
                        field: &error.field,
                        message: &error.message,
                    })
                    .collect(),
            })
            .collect(),
    }
}

#[derive(Serialize)]
pub struct DuplicatesResponse<'a> {
    pub pairs: &'a [DuplicatePairOut],
}

#[derive(Serialize)]
pub struct DuplicatePairOut {
    pub a: String,
    pub b: String,
    pub similarity: f64,
    pub reasons: Vec<String>,
}

pub fn duplicate_pairs(pairs: Vec<DuplicatePair>) -> Vec<DuplicatePairOut> {
    pairs
        .into_iter()
        .map(|pair| DuplicatePairOut {
            a: pair.a,
            b: pair.b,
            similarity: pair.similarity,
            reasons: pair.reasons,
        })
        .collect()
}

#[derive(Serialize)]
pub struct AuditEntryOut<'a> {
    pub at: String,
    pub actor: &'a str,
    pub action: &'static str,
    pub version: Option<u64>,
    pub changes: &'a [crate::store::FieldChange],
}

#[derive(Serialize)]
pub struct AuditResponse<'a> {
    pub entity: &'a str,
    pub entries: Vec<AuditEntryOut<'a>>,
}

pub fn audit_response<'a>(entity: &'a str, entries: &'a [AuditEntry]) -> AuditResponse<'a> {
    AuditResponse {
        entity,
        entries: entries
            .iter()
            .map(|entry| AuditEntryOut {
                at: wire::format_time(entry.at),
                actor: &entry.actor,
                action: entry.action.as_str(),
                version: entry.version,
                changes: &entry.changes,
            })
            .collect(),
    }
}

#[derive(Serialize)]
pub struct ContactRequestOut<'a> {
    pub id: &'a str,
    pub received_at: String,
    pub expert_id: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    pub organisation: Option<&'a str>,
    pub message: &'a str,
    pub status: &'static str,
    pub note: Option<&'a str>,
    pub history: Vec<StatusChangeOut<'a>>,
}

#[derive(Serialize)]
pub struct StatusChangeOut<'a> {
    pub at: String,
    pub actor: &'a str,
    pub status: &'static str,
    pub note: Option<&'a str>,
}

pub fn contact_request_out(stored: &StoredContactRequest) -> ContactRequestOut<'_> {
    ContactRequestOut {
        id: &stored.id,
        received_at: wire::format_time(stored.received_at),
        expert_id: stored.request.expert_id.as_str(),
        name: &stored.request.name,
        email: &stored.request.email,
        organisation: stored.request.organisation.as_deref(),
        message: &stored.request.message,
        status: stored.status.as_str(),
        note: stored.note.as_deref(),
        history: stored
            .history
            .iter()
            .map(|change| StatusChangeOut {
                at: wire::format_time(change.at),
                actor: &change.actor,
                status: change.status.as_str(),
                note: change.note.as_deref(),
            })
            .collect(),
    }
}

/// What the engine learned: per topic and language, its strongest terms with their weights.
pub fn learned_terms_response(learned: &crate::app::LearnedTerms) -> Value {
    let topics: Vec<Value> = learned
        .topics
        .iter()
        .map(|topic| {
            let languages: serde_json::Map<String, Value> = topic
                .languages
                .iter()
                .map(|(language, terms)| {
                    let terms: Vec<Value> = terms
                        .iter()
                        .map(|(term, weight)| serde_json::json!({"term": term, "weight": rounded(*weight)}))
                        .collect();
                    (language.code().to_string(), Value::Array(terms))
                })
                .collect();
            serde_json::json!({"topic": topic.topic.id(), "languages": languages})
        })
        .collect();
    serde_json::json!({
        "examples": learned.examples,
        "features": learned.features,
        "topics": topics,
    })
}
