//! How the engine reads what people type, as answers show it: the topics, the language, and
//! the words it corrected.

use crate::helpers::{ServerOptions, TestServer, demo, expert_body};

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

#[test]
fn another_form_of_a_word_the_index_holds_is_not_taken_for_a_typo() {
    let server = TestServer::start(ServerOptions::default());
    let mut expert = expert_body("lena-vogt", "Lena Vogt", "Kassel", "DE");
    expert["languages"] = serde_json::json!(["de"]);
    expert["expertise"] = "Die Stadt wartet seit Jahren auf neue Buslinien für die Vororte.".into();
    assert_eq!(server.admin_post("/v1/admin/experts", &expert).status(), 201);
    let corrected = |query: &str| {
        let found = server.get_json(&format!("/v1/experts?q={query}"));
        found["interpreted"]["corrections"]
            .as_array()
            .unwrap()
            .iter()
            .map(|correction| correction["word"].as_str().unwrap().to_string())
            .collect::<Vec<String>>()
    };
    // German text: "warten" has the stem of the indexed "wartet", so it is a word, not a typo.
    assert_eq!(
        corrected("Die%20Menschen%20warten%20jeden%20Morgen%20auf%20den%20Bus"),
        Vec::<String>::new()
    );
    // A misspelling whose stem the index does not hold is still corrected.
    assert_eq!(
        corrected("Die%20Menschen%20warten%20auf%20neue%20Buslinein"),
        vec!["buslinein".to_string()]
    );
}

#[test]
fn regions_can_carry_labels_in_the_asked_language() {
    let regions = demo().get_json("/v1/regions?lang=ar");
    let western_africa = regions["regions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|region| region["slug"] == "western-africa")
        .unwrap();
    assert_eq!(western_africa["name"], "Western Africa");
    assert_eq!(western_africa["label"], "غرب أفريقيا");
    let plain = demo().get_json("/v1/regions");
    assert!(plain["regions"][0].get("label").is_none());
    assert_eq!(demo().get("/v1/regions?lang=xx").status(), 400);
}

#[test]
fn staff_can_list_records_of_one_status() {
    let drafts: serde_json::Value = demo()
        .admin_get("/v1/admin/experts?status=draft&limit=100")
        .json()
        .unwrap();
    let hits = drafts["hits"].as_array().unwrap();
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|hit| hit["expert"]["status"] == "draft"));
    assert_eq!(drafts["total"].as_u64().unwrap() as usize, hits.len());
    assert_eq!(demo().admin_get("/v1/admin/experts?status=gone").status(), 400);
    assert_eq!(
        demo().get("/v1/experts?status=draft").status(),
        400,
        "the public sees published records only"
    );
}

#[test]
fn staff_can_see_which_words_the_engine_learned_for_a_topic() {
    let server = demo();
    let learned: serde_json::Value = server
        .admin_get("/v1/admin/learned-terms?topic=flood-risk&lang=en&limit=15")
        .json()
        .unwrap();
    assert!(learned["examples"].as_u64().unwrap() > 0, "{learned}");
    let topics = learned["topics"].as_array().unwrap();
    assert_eq!(topics.len(), 1);
    assert_eq!(topics[0]["topic"], "flood-risk");
    let terms = topics[0]["languages"]["en"].as_array().unwrap();
    assert!(!terms.is_empty() && terms.len() <= 15, "{learned}");
    let words: Vec<&str> = terms.iter().map(|term| term["term"].as_str().unwrap()).collect();
    assert!(
        words
            .iter()
            .any(|word| ["flood", "drainag", "dike", "leve", "stormwat", "runoff", "gutter"].contains(word)),
        "flood-risk learned {words:?}"
    );
    let weights: Vec<f64> = terms.iter().map(|term| term["weight"].as_f64().unwrap()).collect();
    assert!(
        weights.windows(2).all(|pair| pair[0] >= pair[1]),
        "strongest first: {weights:?}"
    );
}

#[test]
fn learned_terms_are_for_staff_and_refuse_unknown_parameters() {
    let server = demo();
    assert_eq!(server.get("/v1/admin/learned-terms").status(), 401);
    assert_eq!(server.admin_get("/v1/admin/learned-terms?topic=weather").status(), 400);
    assert_eq!(server.admin_get("/v1/admin/learned-terms?lang=xx").status(), 400);
    assert_eq!(server.admin_get("/v1/admin/learned-terms?limit=0").status(), 400);
    assert_eq!(server.admin_get("/v1/admin/learned-terms?colour=red").status(), 400);
    let all: serde_json::Value = server.admin_get("/v1/admin/learned-terms?limit=3").json().unwrap();
    assert!(all["topics"].as_array().unwrap().len() > 5);
    assert!(all["topics"][0]["languages"]["ar"].is_array());
}

/// A name is not a topic: words learned from the few profiles that mention a person used to
/// read "Kwame Asante" as public space, and the topic outranked the person.
#[test]
fn a_search_for_a_person_s_name_finds_them_and_reads_no_topic() {
    let server = demo();
    let listed = server.get_json("/v1/experts?limit=100");
    let experts = listed["hits"].as_array().unwrap();
    assert!(experts.len() >= 50, "{}", experts.len());
    let mut missed = Vec::new();
    for expert in experts.iter().step_by(3) {
        let id = expert["expert"]["id"].as_str().unwrap();
        let name = expert["expert"]["name"].as_str().unwrap();
        let query: String = form_urlencoded::byte_serialize(name.as_bytes()).collect();
        let found = server.get_json(&format!("/v1/experts?limit=3&q={query}"));
        let first_three: Vec<&str> = found["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|hit| hit["expert"]["id"].as_str().unwrap())
            .collect();
        if !first_three.contains(&id) {
            missed.push(format!(
                "{name}: {first_three:?}, read as {}",
                found["interpreted"]["topics"]
            ));
        }
    }
    assert!(missed.is_empty(), "{missed:#?}");
    let named = server.get_json("/v1/experts?limit=1&q=Kwame%20Asante");
    assert_eq!(named["interpreted"]["topics"], serde_json::json!([]));
    assert_eq!(named["hits"][0]["expert"]["id"], "kwame-asante");
    let named_with_a_subject = server.get_json("/v1/experts?limit=1&q=Kwame%20Asante%20drainage");
    assert_eq!(
        named_with_a_subject["interpreted"]["topics"],
        serde_json::json!(["flood-risk"]),
        "the name adds no topic of its own"
    );
    assert_eq!(named_with_a_subject["hits"][0]["expert"]["id"], "kwame-asante");
}

/// Experts speaking Icelandic, which no demo expert speaks: a match asking for it sees only
/// the ones a test adds.
fn icelandic_expert(id: &str, name: &str, topics: &[&str], expertise: &str) -> serde_json::Value {
    serde_json::json!({
        "id": id,
        "name": name,
        "city": "Reykjavík",
        "country": "IS",
        "languages": ["en", "is"],
        "topics": topics,
        "expertise": expertise,
        "status": "published",
    })
}

#[test]
fn a_profile_staff_have_not_tagged_is_matched_by_what_the_learned_model_reads_in_it() {
    let data = tempfile::tempdir().unwrap();
    let options = || crate::helpers::ServerOptions {
        demo_data: true,
        ..Default::default()
    };
    let server = crate::helpers::TestServer::start_in(data.path(), options());
    // Tagged flood profiles teach the model words the vocabulary does not know.
    for number in 0..8 {
        let expert = serde_json::json!({
            "id": format!("teacher-{number}"),
            "name": format!("Teacher Number{number}"),
            "city": "Hamburg",
            "country": "DE",
            "languages": ["de", "en"],
            "topics": ["flood-risk"],
            "expertise": format!("Zorblat bunds and quarvel plinths along the lanes, district {number}."),
            "status": "published",
        });
        assert_eq!(server.admin_post("/v1/admin/experts", &expert).status(), 201);
    }
    let untagged = [
        (
            "quarvel-keeper",
            "Sigrun Quarvelsdottir",
            "Builds zorblat bunds and mends quarvel plinths.",
        ),
        (
            "choir-leader",
            "Olafur Songvari",
            "Leads choir rehearsals and community singing.",
        ),
    ];
    for (id, name, expertise) in untagged {
        let expert = icelandic_expert(id, name, &[], expertise);
        assert_eq!(server.admin_post("/v1/admin/experts", &expert).status(), 201);
    }
    let request = serde_json::json!({
        "challenge": "Heavy rain floods our riverside districts every year",
        "languages": ["is"],
        "limit": 5,
    });
    let topic_part = |answer: &serde_json::Value, id: &str| {
        answer["matches"]
            .as_array()
            .unwrap()
            .iter()
            .find(|matched| matched["expert"]["id"] == id)
            .map_or(-1.0, |matched| matched["breakdown"]["topic"].as_f64().unwrap())
    };
    // The model learns a moment after the writes, then reads the untagged profiles again.
    let settled_answer = |server: &crate::helpers::TestServer| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let answer: serde_json::Value = server.post_json("/v1/match", &request).json().unwrap();
            if topic_part(&answer, "quarvel-keeper") > 0.0 || std::time::Instant::now() > deadline {
                return answer;
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    };
    let check = |answer: &serde_json::Value| {
        let ids = crate::matching::expert_ids(answer);
        assert_eq!(ids, ["quarvel-keeper", "choir-leader"], "{answer}");
        assert!(
            topic_part(answer, "quarvel-keeper") > topic_part(answer, "choir-leader"),
            "{answer}"
        );
    };
    check(&settled_answer(&server));
    // An index rebuilt from the store (lost here) reads them the same way once it is done.
    server.stop();
    std::fs::remove_dir_all(data.path().join("index")).unwrap();
    let restarted = crate::helpers::TestServer::start_in(data.path(), options());
    check(&settled_answer(&restarted));
    restarted.stop();
    crate::helpers::postgres::drop_database_of(data.path());
}
