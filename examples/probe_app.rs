use citypeers::app::{App, AppConfig, ListingParams, MatchInput};
fn main() {
    let dir = std::env::args().nth(1).unwrap_or("/tmp/cp-probe".into());
    let t = std::time::Instant::now();
    let app = App::open(AppConfig {
        data_dir: dir.into(),
        vocabulary_dir: None,
        load_demo_data: true,
        admin_token: None,
    })
    .unwrap();
    println!("open {:?} {:?}", t.elapsed(), app.readiness());
    let page = app
        .search_experts(
            &ListingParams {
                q: Some("Hochwasser".into()),
                region: vec!["africa".into()],
                ..Default::default()
            },
            true,
        )
        .unwrap();
    println!(
        "total {} took {:.2}ms facets topic {:?}",
        page.total, page.took_ms, page.facets.topic
    );
    for h in page.hits.iter().take(5) {
        println!(
            "  {} {} {:.3} {:?}",
            h.record.record.id,
            h.record.record.country,
            h.score,
            h.highlights.get("expertise").map(|s| &s[..s.len().min(160)])
        );
    }
    for ch in [
        "inondations dans les quartiers précaires",
        "our riverside districts flood every year — who has done early warning, speaks French, ideally in West Africa?",
    ] {
        let out = app
            .match_experts(MatchInput {
                challenge: Some(ch.into()),
                languages: vec!["fr".into()],
                ..Default::default()
            })
            .unwrap();
        println!(
            "match took {:.2}ms interpreted {:?} {:?}",
            out.took_ms, out.interpreted_topics, out.interpreted_language
        );
        for m in out.matches.iter().take(10) {
            println!(
                "  {:.3} {} {} {:?} topics={:?} {:?}",
                m.score, m.expert.record.id, m.expert.record.country, m.breakdown, m.expert.record.topics, m.reasons
            );
        }
    }
}
