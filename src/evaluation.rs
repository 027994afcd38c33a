//! Ranking quality on a judged set (`citypeers eval FILE`): nDCG@10 and MRR for match and
//! search over the built-in demo data, next to a plain-BM25 baseline with the same hard
//! filters, and the weakest requests. The file format is in `fixtures/eval/README.md`.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use crate::app::{App, AppConfig, AppError, ListingParams, MatchInput};
use crate::domain::{CountryCode, LanguageCode, Topic};
use crate::search::{FacetFilters, city_key, two_letter_code};

pub const CUTOFF: usize = 10;
/// A result with at least this grade counts as relevant for MRR.
pub const RELEVANT_GRADE: u8 = 2;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JudgedRequest {
    pub id: String,
    pub kind: RequestKind,
    /// The body of `POST /v1/match`, for kind "match".
    #[serde(default)]
    pub request: Option<Value>,
    /// The parameters of `GET /v1/experts`, for kind "search".
    #[serde(default)]
    pub params: Option<SearchParams>,
    pub judgments: HashMap<String, u8>,
    #[serde(default)]
    pub note: Option<String>,
    /// What the request is after, as the judge read it (documentation of the grades).
    #[serde(default)]
    pub intent: Option<Value>,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RequestKind {
    Match,
    Search,
}

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub topic: Vec<String>,
    #[serde(default)]
    pub region: Vec<String>,
    #[serde(default)]
    pub country: Vec<String>,
    #[serde(default)]
    pub language: Vec<String>,
    #[serde(default)]
    pub available: Option<bool>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RequestScore {
    pub id: String,
    pub kind: RequestKind,
    pub ndcg: f64,
    pub reciprocal_rank: f64,
    pub baseline_ndcg: f64,
    pub baseline_reciprocal_rank: f64,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct KindSummary {
    pub requests: usize,
    pub ndcg: f64,
    pub mrr: f64,
    pub baseline_ndcg: f64,
    pub baseline_mrr: f64,
}

#[derive(Debug, Clone, Default)]
pub struct EvalSummary {
    pub matching: KindSummary,
    pub search: KindSummary,
    pub requests: Vec<RequestScore>,
}

/// nDCG@k with gains 2^grade − 1; the ideal ranking uses every judged grade.
pub fn ndcg_at(ranked: &[String], judgments: &HashMap<String, u8>, cutoff: usize) -> f64 {
    let gain = |grade: u8| 2f64.powi(i32::from(grade)) - 1.0;
    let discounted: f64 = ranked
        .iter()
        .take(cutoff)
        .enumerate()
        .map(|(position, id)| gain(judgments.get(id).copied().unwrap_or(0)) / ((position + 2) as f64).log2())
        .sum();
    let mut ideal_grades: Vec<u8> = judgments.values().copied().filter(|grade| *grade > 0).collect();
    ideal_grades.sort_unstable_by(|left, right| right.cmp(left));
    let ideal: f64 = ideal_grades
        .iter()
        .take(cutoff)
        .enumerate()
        .map(|(position, grade)| gain(*grade) / ((position + 2) as f64).log2())
        .sum();
    if ideal == 0.0 { 0.0 } else { discounted / ideal }
}

pub fn reciprocal_rank(ranked: &[String], judgments: &HashMap<String, u8>, cutoff: usize) -> f64 {
    ranked
        .iter()
        .take(cutoff)
        .position(|id| judgments.get(id).copied().unwrap_or(0) >= RELEVANT_GRADE)
        .map_or(0.0, |position| 1.0 / (position + 1) as f64)
}

pub fn load(path: &Path) -> Result<Vec<JudgedRequest>, String> {
    let text = std::fs::read_to_string(path).map_err(|error| format!("{}: {error}", path.display()))?;
    let mut requests = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with("//") {
            continue;
        }
        let request: JudgedRequest =
            serde_json::from_str(line).map_err(|error| format!("{}:{}: {error}", path.display(), number + 1))?;
        requests.push(request);
    }
    Ok(requests)
}

fn run_match(app: &App, body: &Value) -> Result<(Vec<String>, Vec<String>), AppError> {
    let mut input = MatchInput::from_json(body).map_err(AppError::Invalid)?;
    input.limit = Some(CUTOFF as i64);
    let system: Vec<String> = app
        .match_experts(input.clone())?
        .matches
        .into_iter()
        .map(|matched| matched.expert.record.id.to_string())
        .collect();
    let languages: Vec<LanguageCode> = input
        .languages
        .iter()
        .filter_map(|code| LanguageCode::parse(code).ok())
        .collect();
    let exclude = match (
        &input.city,
        input.country.as_deref().and_then(|code| CountryCode::parse(code).ok()),
    ) {
        (Some(city), Some(country)) => Some(city_key(app.analyzers(), city, country)),
        _ => None,
    };
    let text = format!("{} {}", input.challenge.unwrap_or_default(), input.topics.join(" "));
    let baseline =
        app.engine()
            .plain_bm25_experts(&text, &FacetFilters::default(), &languages, exclude, true, CUTOFF)?;
    Ok((system, baseline))
}

fn run_search(app: &App, params: &SearchParams) -> Result<(Vec<String>, Vec<String>), AppError> {
    let listing = ListingParams {
        q: params.q.clone(),
        topic: params.topic.clone(),
        region: params.region.clone(),
        country: params.country.clone(),
        language: params.language.clone(),
        available: params.available.map(|available| available.to_string()),
        limit: Some(CUTOFF.to_string()),
        offset: None,
        status: None,
    };
    let system: Vec<String> = app
        .search_experts(&listing, true)?
        .hits
        .into_iter()
        .map(|hit| hit.record.record.id.to_string())
        .collect();
    let filters = FacetFilters {
        topics: params
            .topic
            .iter()
            .filter_map(|topic| Topic::parse(topic).ok())
            .map(|topic| topic.code())
            .collect(),
        regions: params
            .region
            .iter()
            .filter_map(|slug| app.vocabulary().regions.by_slug(slug).map(|node| node.code))
            .collect(),
        countries: params
            .country
            .iter()
            .filter_map(|code| CountryCode::parse(code).ok())
            .map(|country| two_letter_code(country.as_str()))
            .collect(),
        languages: params
            .language
            .iter()
            .filter_map(|code| LanguageCode::parse(code).ok())
            .map(|language| two_letter_code(language.as_str()))
            .collect(),
        available: params.available,
        status: None,
    };
    let baseline = app.engine().plain_bm25_experts(
        params.q.as_deref().unwrap_or_default(),
        &filters,
        &[],
        None,
        false,
        CUTOFF,
    )?;
    Ok((system, baseline))
}

fn summarise(scores: &[&RequestScore]) -> KindSummary {
    let count = scores.len().max(1) as f64;
    KindSummary {
        requests: scores.len(),
        ndcg: scores.iter().map(|score| score.ndcg).sum::<f64>() / count,
        mrr: scores.iter().map(|score| score.reciprocal_rank).sum::<f64>() / count,
        baseline_ndcg: scores.iter().map(|score| score.baseline_ndcg).sum::<f64>() / count,
        baseline_mrr: scores.iter().map(|score| score.baseline_reciprocal_rank).sum::<f64>() / count,
    }
}

/// Evaluates judged requests against a service holding the demo data.
pub fn evaluate(app: &App, requests: &[JudgedRequest]) -> Result<EvalSummary, String> {
    let mut scores = Vec::with_capacity(requests.len());
    for judged in requests {
        let ranked = match judged.kind {
            RequestKind::Match => {
                let body = judged
                    .request
                    .as_ref()
                    .ok_or_else(|| format!("{}: a match request needs \"request\"", judged.id))?;
                run_match(app, body)
            }
            RequestKind::Search => {
                let params = judged.params.clone().unwrap_or_default();
                run_search(app, &params)
            }
        };
        let (system, baseline) = ranked.map_err(|error| format!("{}: {error}", judged.id))?;
        scores.push(RequestScore {
            id: judged.id.clone(),
            kind: judged.kind,
            ndcg: ndcg_at(&system, &judged.judgments, CUTOFF),
            reciprocal_rank: reciprocal_rank(&system, &judged.judgments, CUTOFF),
            baseline_ndcg: ndcg_at(&baseline, &judged.judgments, CUTOFF),
            baseline_reciprocal_rank: reciprocal_rank(&baseline, &judged.judgments, CUTOFF),
            note: judged.note.clone(),
        });
    }
    let of_kind = |kind: RequestKind| scores.iter().filter(|score| score.kind == kind).collect::<Vec<_>>();
    Ok(EvalSummary {
        matching: summarise(&of_kind(RequestKind::Match)),
        search: summarise(&of_kind(RequestKind::Search)),
        requests: scores,
    })
}

/// Opens a fresh service with the demo data in a temporary directory.
pub fn demo_app() -> Result<(App, tempfile::TempDir), String> {
    demo_app_with(None)
}

/// Like `demo_app`, with the vocabulary and ranking settings read from a folder when given.
pub fn demo_app_with(vocabulary_dir: Option<&Path>) -> Result<(App, tempfile::TempDir), String> {
    let dir = tempfile::tempdir().map_err(|error| error.to_string())?;
    let app = App::open(AppConfig {
        data_dir: dir.path().to_path_buf(),
        vocabulary_dir: vocabulary_dir.map(Path::to_path_buf),
        load_demo_data: true,
        admin_token: None,
        min_free_bytes: crate::store::DEFAULT_MIN_FREE_BYTES,
        store: None,
    })
    .map_err(|error| error.to_string())?;
    Ok((app, dir))
}

/// The figures an earlier engine reached on a judged set, from `previous.json` beside it.
fn previous_figures(judged: &Path) -> Result<Option<serde_json::Value>, String> {
    let path = judged.with_file_name("previous.json");
    if !path.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path).map_err(|error| format!("{}: {error}", path.display()))?;
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|error| format!("{}: {error}", path.display()))
}

pub fn run_cli(
    path: &Path,
    weakest: usize,
    verbose: bool,
    min_ndcg: Option<f64>,
    vocabulary: Option<&Path>,
) -> Result<(), String> {
    let requests = load(path)?;
    let (app, _dir) = demo_app_with(vocabulary)?;
    let summary = evaluate(&app, &requests)?;
    println!(
        "{} judged requests from {} over the built-in demo data\n",
        requests.len(),
        path.display()
    );
    let previous = previous_figures(path)?;
    println!(
        "{:<8} {:>9} {:>9} {:>11} {:>11} {:>13} {:>12} {:>9}",
        "", "nDCG@10", "MRR", "BM25 nDCG", "BM25 MRR", "before nDCG", "before MRR", "requests"
    );
    for (label, kind) in [("match", &summary.matching), ("search", &summary.search)] {
        let before = previous.as_ref().and_then(|previous| previous.get(label));
        let figure = |name: &str| {
            before
                .and_then(|kind| kind.get(name))
                .and_then(serde_json::Value::as_f64)
                .map_or_else(|| "-".to_string(), |value| format!("{value:.3}"))
        };
        println!(
            "{label:<8} {:>9.3} {:>9.3} {:>11.3} {:>11.3} {:>13} {:>12} {:>9}",
            kind.ndcg,
            kind.mrr,
            kind.baseline_ndcg,
            kind.baseline_mrr,
            figure("ndcg"),
            figure("mrr"),
            kind.requests
        );
    }
    if let Some(engine) = previous
        .as_ref()
        .and_then(|previous| previous.get("engine"))
        .and_then(|engine| engine.as_str())
    {
        println!("(before: {engine})");
    }
    let mut ordered: Vec<&RequestScore> = summary.requests.iter().collect();
    ordered.sort_by(|left, right| left.ndcg.total_cmp(&right.ndcg));
    println!("\nweakest requests:");
    for score in ordered.iter().take(weakest) {
        println!(
            "  {:<6} nDCG {:.3}  BM25 {:.3}  {}",
            score.id,
            score.ndcg,
            score.baseline_ndcg,
            score.note.as_deref().unwrap_or_default()
        );
    }
    if verbose {
        println!("\nevery request:");
        for score in &summary.requests {
            println!(
                "  {:<6} nDCG {:.3} RR {:.2}  BM25 {:.3}  {}",
                score.id,
                score.ndcg,
                score.reciprocal_rank,
                score.baseline_ndcg,
                score.note.as_deref().unwrap_or_default()
            );
        }
    }
    if let Some(floor) = min_ndcg
        && (summary.matching.ndcg < floor || summary.search.ndcg < floor)
    {
        return Err(format!(
            "nDCG@10 below {floor}: match {:.3}, search {:.3}",
            summary.matching.ndcg, summary.search.ndcg
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ndcg_is_one_for_the_ideal_order_and_lower_otherwise() {
        let judgments: HashMap<String, u8> = [("a".to_string(), 3), ("b".to_string(), 2), ("c".to_string(), 0)].into();
        let ideal = vec!["a".to_string(), "b".to_string()];
        assert!((ndcg_at(&ideal, &judgments, 10) - 1.0).abs() < 1e-9);
        let swapped = vec!["b".to_string(), "a".to_string()];
        assert!(ndcg_at(&swapped, &judgments, 10) < 1.0);
        assert_eq!(
            reciprocal_rank(&["c".to_string(), "b".to_string()], &judgments, 10),
            0.5
        );
    }
}
