//! Properties over arbitrary input (proptest, a bounded number of cases): the query analyser
//! and the import readers never panic, and keep their limits, whatever text or bytes come in.

use std::sync::OnceLock;

use citypeers::app::{App, AppConfig, ListingParams, MatchInput};
use citypeers::curation::import::{FileError, Row, read_csv, read_json_array, read_json_lines};
use citypeers::search::QueryLimits;
use proptest::prelude::*;

/// One service over the demo data, for reading queries against a real index.
fn service() -> &'static App {
    static SERVICE: OnceLock<(App, tempfile::TempDir)> = OnceLock::new();
    &SERVICE
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let mut config = AppConfig::new(dir.path());
            config.load_demo_data = true;
            let app = App::open(config).unwrap();
            app.wait_until_indexed().unwrap();
            (app, dir)
        })
        .0
}

/// Text people might type, and worse: any Unicode, control characters, very long words,
/// words of the vocabulary with typos, right-to-left scripts.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "\\PC{0,400}",
        "[a-zA-Zäöüéèàçñãõ ]{0,300}",
        "(flood|drainage|Hochwasser|inondation|lixo|مياه|transport|x{50}|[a-z]{1,30}) {0,3}"
            .prop_map(|words| words.repeat(3)),
        proptest::collection::vec("[a-z]{1,120}", 0..80).prop_map(|words| words.join(" ")),
    ]
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 200,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn reading_any_text_keeps_to_its_limits(text in text()) {
        let limits = QueryLimits::default();
        let query = service().engine().analyse(&text, &limits);
        prop_assert!(query.words.len() <= limits.max_words);
        let corrected = query.words.iter().filter(|word| !word.corrections.is_empty()).count();
        prop_assert!(corrected <= limits.max_corrected_words);
        for word in &query.words {
            prop_assert!(word.corrections.len() <= limits.max_corrections_per_word);
        }
    }

    #[test]
    fn any_text_searched_or_matched_gets_an_answer_or_a_clear_refusal(text in text()) {
        let app = service();
        let params = ListingParams { q: Some(text.clone()), limit: Some("5".into()), ..ListingParams::default() };
        match app.search_experts(&params, true) {
            Ok(page) => prop_assert!(page.hits.len() <= 5),
            Err(error) => prop_assert!(matches!(error, citypeers::app::AppError::BadRequest { .. }), "{error}"),
        }
        let input = MatchInput { challenge: Some(text), limit: Some(5), ..MatchInput::default() };
        match app.match_experts(input) {
            Ok(outcome) => prop_assert!(outcome.matches.len() <= 5),
            Err(error) => prop_assert!(matches!(error, citypeers::app::AppError::Invalid(_)), "{error}"),
        }
    }

    #[test]
    fn the_import_readers_never_panic_and_number_every_record(bytes in proptest::collection::vec(any::<u8>(), 0..4_000), lines in "(\\{\"id\": \"[a-z]{1,8}\"[^\\n]{0,40}\\}\\n|[^\\n]{0,60}\\n){0,30}") {
        for input in [bytes.clone(), lines.into_bytes()] {
            let mut rows: Vec<u64> = Vec::new();
            let mut take = |row: Row| -> Result<(), FileError> {
                rows.push(row.line);
                Ok(())
            };
            let _ = read_json_lines(&input[..], &mut take);
            prop_assert!(rows.windows(2).all(|pair| pair[0] < pair[1]), "{rows:?}");
            prop_assert!(rows.iter().all(|line| *line >= 1));
            let newlines = input.iter().filter(|byte| **byte == b'\n').count() as u64 + 1;
            prop_assert!(rows.len() as u64 <= newlines);
            rows.clear();
            let _ = read_json_array(&input[..], &mut |row: Row| -> Result<(), FileError> {
                rows.push(row.line);
                Ok(())
            });
            prop_assert!(rows.iter().all(|line| *line >= 1));
            rows.clear();
            let mut csv = b"id,name,city,country,languages\n".to_vec();
            csv.extend_from_slice(&input);
            let _ = read_csv(&csv[..], &["id", "name", "city", "country", "languages"], &mut |row: Row| -> Result<(), FileError> {
                rows.push(row.line);
                Ok(())
            });
            prop_assert!(rows.iter().all(|line| *line >= 2), "the header is line 1: {rows:?}");
        }
    }
}
