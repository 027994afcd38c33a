//! How the engine reads what people type, as answers show it: the topics, the language, and
//! the words it corrected.

use crate::helpers::demo;

#[test]
fn a_search_with_a_typo_says_which_word_it_searched_instead() {
    let found = demo().get_json("/v1/experts?q=drainige&limit=3");
    let corrections = found["interpreted"]["corrections"].as_array().unwrap();
    assert_eq!(corrections.len(), 1, "{}", found["interpreted"]);
    assert_eq!(corrections[0]["word"], "drainige");
    assert_eq!(corrections[0]["suggestions"][0], "drainage");
    assert!(found["total"].as_u64().unwrap() > 0);
    assert!(
        found["interpreted"]["topics"]
            .as_array()
            .unwrap()
            .contains(&"flood-risk".into())
    );
}

#[test]
fn a_search_without_typos_reports_no_corrections() {
    let found = demo().get_json("/v1/experts?q=Hochwasser&limit=1");
    assert_eq!(found["interpreted"]["corrections"], serde_json::json!([]));
    let browse = demo().get_json("/v1/cases?limit=1");
    assert_eq!(browse["interpreted"]["topics"], serde_json::json!([]));
    assert_eq!(browse["interpreted"]["language"], serde_json::Value::Null);
}
