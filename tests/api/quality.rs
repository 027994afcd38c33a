//! Ranking quality floors on the judged set in `fixtures/eval/`, so that quality cannot
//! silently regress, and the hard constraints over every judged match request.

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
        summary.matching.ndcg >= 0.90,
        "match nDCG@10 {:.3}",
        summary.matching.ndcg
    );
    assert!(summary.search.ndcg >= 0.85, "search nDCG@10 {:.3}", summary.search.ndcg);
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
