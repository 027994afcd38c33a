//! Ranking quality floors on the judged sets in `fixtures/eval/`, so that quality cannot
//! silently regress, and the hard constraints over every judged match request.
//!
//! The floors sit 0.005 below the figures measured on 2026-12-05 (textbook set: match 0.987,
//! search 0.994, 0.992 since search weighs text as a match does; plain-word set: match 0.857,
//! search 0.811): speed work may not cost more.

use std::path::Path;

use citypeers::evaluation;

#[test]
fn ranking_quality_stays_above_its_floor_and_well_above_plain_bm25() {
    let requests = evaluation::load(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/eval/judged.jsonl"
    )))
    .expect("judged set");
    assert!(
        requests
            .iter()
            .filter(|request| request.kind == evaluation::RequestKind::Match)
            .count()
            >= 40
    );
    assert!(
        requests
            .iter()
            .filter(|request| request.kind == evaluation::RequestKind::Search)
            .count()
            >= 30
    );
    let (app, _dir) = evaluation::demo_app().expect("demo");
    let summary = evaluation::evaluate(&app, &requests).expect("evaluation");
    assert!(
        summary.matching.ndcg >= 0.982,
        "match nDCG@10 {:.3}",
        summary.matching.ndcg
    );
    assert!(
        summary.search.ndcg >= 0.989,
        "search nDCG@10 {:.3}",
        summary.search.ndcg
    );
    assert!(
        summary.matching.ndcg - summary.matching.baseline_ndcg >= 0.25,
        "{:?}",
        summary.matching
    );
    assert!(
        summary.search.ndcg - summary.search.baseline_ndcg >= 0.25,
        "{:?}",
        summary.search
    );
}

#[test]
fn plain_words_are_understood_above_their_floor_on_a_set_plain_bm25_fails() {
    let requests = evaluation::load(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/eval/plain/judged.jsonl"
    )))
    .expect("plain-word judged set");
    let count = |kind: evaluation::RequestKind| requests.iter().filter(|request| request.kind == kind).count();
    assert!(count(evaluation::RequestKind::Match) >= 60 && count(evaluation::RequestKind::Search) >= 40);
    let (app, _dir) = evaluation::demo_app().expect("demo");
    let summary = evaluation::evaluate(&app, &requests).expect("evaluation");
    // As hard as intended: plain word overlap does poorly on it.
    assert!(summary.matching.baseline_ndcg < 0.40, "{:?}", summary.matching);
    assert!(summary.search.baseline_ndcg < 0.40, "{:?}", summary.search);
    assert!(
        summary.matching.ndcg >= 0.852,
        "match nDCG@10 {:.3}",
        summary.matching.ndcg
    );
    assert!(
        summary.search.ndcg >= 0.806,
        "search nDCG@10 {:.3}",
        summary.search.ndcg
    );
}

#[test]
fn no_judged_match_returns_an_expert_breaking_a_hard_constraint() {
    let mut requests = Vec::new();
    for set in ["/fixtures/eval/judged.jsonl", "/fixtures/eval/plain/judged.jsonl"] {
        let path = format!("{}{set}", env!("CARGO_MANIFEST_DIR"));
        requests.extend(evaluation::load(Path::new(&path)).expect("judged set"));
    }
    let (app, _dir) = evaluation::demo_app().expect("demo");
    let fold = |text: &str| text.to_lowercase().replace(['-', '\''], " ");
    for judged in requests
        .iter()
        .filter(|request| request.kind == evaluation::RequestKind::Match)
    {
        let body = judged.request.as_ref().expect("body");
        let mut input = citypeers::app::MatchInput::from_json(body).expect("a valid match body");
        input.limit = Some(50);
        let outcome = app.match_experts(input.clone()).expect("match");
        for matched in &outcome.matches {
            let expert = &matched.expert.record;
            assert_eq!(
                expert.status,
                citypeers::domain::Status::Published,
                "{}: {}",
                judged.id,
                expert.id
            );
            assert!(expert.available, "{}: {}", judged.id, expert.id);
            if !input.languages.is_empty() {
                assert!(
                    expert
                        .languages
                        .iter()
                        .any(|language| input.languages.contains(&language.to_string())),
                    "{}: {}",
                    judged.id,
                    expert.id
                );
            }
            if let (Some(city), Some(country)) = (&input.city, &input.country) {
                let same_city =
                    fold(&expert.city) == fold(city) && expert.country.as_str().eq_ignore_ascii_case(country);
                assert!(!same_city, "{}: {} is from the requester's city", judged.id, expert.id);
            }
        }
    }
}
