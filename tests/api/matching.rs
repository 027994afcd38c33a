//! `POST /v1/match`: response shape, hard constraints, preferences, diversity, reasons,
//! typos and cross-language requests, over the demo data.

use serde_json::{Value, json};

use crate::helpers::{assert_error, demo};

fn matches(body: Value) -> Value {
    let response = demo().post_json("/v1/match", &body);
    assert_eq!(response.status(), 200, "{body}");
    response.json().unwrap()
}

pub(crate) fn expert_ids(answer: &Value) -> Vec<String> {
    answer["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|matched| matched["expert"]["id"].as_str().unwrap().to_string())
        .collect()
}

/// Full records of the demo data, including private and status fields.
fn demo_expert(id: &str) -> Value {
    for text in citypeers::curation::demo::DEMO_EXPERTS {
        for line in text.lines() {
            let record: Value = serde_json::from_str(line).unwrap();
            if record["id"] == id {
                return record;
            }
        }
    }
    panic!("{id} is not in the demo data")
}

#[test]
fn a_match_has_the_contract_shape_with_scores_in_descending_order() {
    let answer = matches(
        json!({"challenge": "Our riverside districts flood every year. Who has set up an early warning system?", "limit": 10}),
    );
    let list = answer["matches"].as_array().unwrap();
    assert_eq!(list.len(), 10);
    let mut previous = 1.0f64;
    for matched in list {
        let score = matched["score"].as_f64().unwrap();
        assert!(
            (0.0..=1.0).contains(&score) && score <= previous + 1e-9,
            "{score} after {previous}"
        );
        previous = score;
        for part in ["text", "topic", "language", "region", "evidence"] {
            let value = matched["breakdown"][part].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&value), "{part} = {value}");
        }
        assert!(!matched["reasons"].as_array().unwrap().is_empty());
        assert!(matched["cases"].is_array());
    }
    assert!(
        answer["interpreted"]["topics"]
            .as_array()
            .unwrap()
            .contains(&json!("flood-risk"))
    );
    assert_eq!(answer["interpreted"]["language"], "en");
    assert!(answer["took_ms"].as_f64().is_some());
}

#[test]
fn the_french_example_returns_french_speaking_flood_experts_first() {
    let answer = matches(json!({"challenge": "inondations dans les quartiers précaires", "languages": ["fr"]}));
    let list = answer["matches"].as_array().unwrap();
    assert!(list.len() >= 5);
    for matched in list.iter().take(5) {
        let topics = demo_expert(matched["expert"]["id"].as_str().unwrap());
        assert!(topics["languages"].as_array().unwrap().contains(&json!("fr")));
    }
    let flood_first = list
        .iter()
        .take(3)
        .filter(|matched| matched["reasons"].to_string().contains("flood"))
        .count();
    assert!(flood_first >= 2, "{}", answer);
    assert!(
        answer["interpreted"]["topics"]
            .as_array()
            .unwrap()
            .contains(&json!("flood-risk"))
    );
}

#[test]
fn a_match_never_returns_an_expert_without_a_shared_language() {
    for (challenge, languages) in [
        ("solid waste collection and recycling", json!(["pt"])),
        (
            "participatory budgeting with neighbourhood councils",
            json!(["es", "pt"]),
        ),
        ("Hochwasserschutz und Starkregenvorsorge", json!(["de"])),
        ("public transport and cycling", json!(["ar"])),
    ] {
        let answer = matches(json!({"challenge": challenge, "languages": languages, "limit": 50}));
        for matched in answer["matches"].as_array().unwrap() {
            let spoken = matched["expert"]["languages"].as_array().unwrap();
            assert!(
                languages
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|language| spoken.contains(language)),
                "{challenge}: {}",
                matched["expert"]["id"]
            );
        }
    }
}

#[test]
fn a_match_never_returns_an_expert_from_the_requesters_own_city() {
    let answer = matches(
        json!({"challenge": "flood early warning and drainage", "city": "saint louis", "country": "sn", "limit": 50}),
    );
    assert!(!answer["matches"].as_array().unwrap().is_empty());
    for matched in answer["matches"].as_array().unwrap() {
        let expert = &matched["expert"];
        assert!(
            !(expert["city"] == "Saint-Louis" && expert["country"] == "SN"),
            "{}",
            expert["id"]
        );
    }
    let without = matches(json!({"challenge": "flood early warning and drainage", "limit": 50}));
    assert!(
        without["matches"]
            .as_array()
            .unwrap()
            .iter()
            .any(|matched| matched["expert"]["city"] == "Saint-Louis")
    );
}

#[test]
fn a_match_never_returns_unavailable_or_unpublished_experts() {
    for challenge in [
        "flood",
        "mobility",
        "waste",
        "housing",
        "tourism",
        "municipal finance",
        "migration",
        "energy",
    ] {
        let answer = matches(json!({"challenge": challenge, "limit": 50}));
        for id in expert_ids(&answer) {
            let record = demo_expert(&id);
            assert_eq!(record["status"], "published", "{id}");
            assert_ne!(record["available"], json!(false), "{id}");
        }
    }
}

#[test]
fn preferred_regions_lift_matches_without_hiding_the_rest() {
    let with =
        matches(json!({"challenge": "bus rapid transit and cycling lanes", "regions": ["south-america"], "limit": 20}));
    let without = matches(json!({"challenge": "bus rapid transit and cycling lanes", "limit": 20}));
    let in_region = |answer: &Value, take: usize| {
        answer["matches"]
            .as_array()
            .unwrap()
            .iter()
            .take(take)
            .filter(|matched| matched["expert"]["intermediate_region"] == "South America")
            .count()
    };
    assert!(in_region(&with, 5) >= 4, "{with}");
    assert!(in_region(&with, 5) > in_region(&without, 5));
    let outside = with["matches"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|matched| matched["expert"]["intermediate_region"] != "South America")
        .count();
    assert!(outside > 0, "a preference is not a filter");
    assert!(with["matches"][0]["reasons"].to_string().contains("South America"));
}

#[test]
fn mena_is_accepted_as_a_preferred_region() {
    let answer = matches(json!({"challenge": "hosting refugees in municipalities", "regions": ["mena"], "limit": 5}));
    let regions: Vec<&str> = answer["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|matched| matched["expert"]["subregion"].as_str().unwrap_or_default())
        .collect();
    assert!(
        regions
            .iter()
            .filter(|region| ["Western Asia", "Northern Africa"].contains(region))
            .count()
            >= 3,
        "{regions:?}"
    );
}

#[test]
fn at_most_two_experts_of_one_city_are_in_the_top_ten_while_others_qualify() {
    for challenge in ["cycling", "flooding", "waste", "participatory budgeting", "housing"] {
        let answer = matches(json!({"challenge": challenge, "limit": 10}));
        let mut per_city = std::collections::HashMap::new();
        for matched in answer["matches"].as_array().unwrap() {
            let city = format!("{}|{}", matched["expert"]["city"], matched["expert"]["country"]);
            *per_city.entry(city).or_insert(0) += 1;
        }
        assert!(per_city.values().all(|count| *count <= 2), "{challenge}: {per_city:?}");
    }
}

#[test]
fn reasons_come_in_the_asked_language() {
    let german = matches(json!({"challenge": "flood early warning", "languages": ["fr"], "lang": "de", "limit": 3}));
    assert!(
        german["matches"][0]["reasons"].to_string().contains("Spricht"),
        "{german}"
    );
    let spanish = matches(json!({"challenge": "flood early warning", "languages": ["fr"], "lang": "es", "limit": 3}));
    assert!(
        spanish["matches"][0]["reasons"].to_string().contains("Habla"),
        "{spanish}"
    );
    let query_parameter = demo().post_json(
        "/v1/match?lang=fr",
        &json!({"challenge": "flood", "languages": ["fr"], "limit": 1}),
    );
    let body: Value = query_parameter.json().unwrap();
    assert!(body["matches"][0]["reasons"].to_string().contains("Parle"), "{body}");
}

#[test]
fn cases_are_evidence_and_named_in_the_reasons() {
    let answer = matches(json!({"challenge": "SMS flood early warning along the river", "limit": 10}));
    let with_case = answer["matches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|matched| !matched["cases"].as_array().unwrap().is_empty());
    let matched = with_case.expect("some match is linked to a relevant case");
    assert!(matched["breakdown"]["evidence"].as_f64().unwrap() > 0.0);
    let title = matched["cases"][0]["title"].as_str().unwrap();
    assert!(matched["reasons"].to_string().contains(title), "{matched}");
}

#[test]
fn typos_still_find_what_they_mean() {
    for (typo, topic) in [
        ("flod protection", "flood-risk"),
        ("drainige", "flood-risk"),
        ("mobilty plan", "mobility"),
        ("Hochwaser", "flood-risk"),
    ] {
        let answer = matches(json!({"challenge": typo, "limit": 5}));
        assert!(
            answer["interpreted"]["topics"]
                .as_array()
                .unwrap()
                .contains(&json!(topic)),
            "{typo}: {}",
            answer["interpreted"]
        );
        let first = &answer["matches"][0];
        assert!(
            first["reasons"]
                .to_string()
                .to_lowercase()
                .contains(if topic == "mobility" { "mobility" } else { "flood" }),
            "{typo}: {first}"
        );
    }
}

#[test]
fn a_challenge_in_one_language_finds_profiles_written_in_others() {
    let answer =
        matches(json!({"challenge": "Wir suchen Erfahrung mit der Sanierung informeller Siedlungen", "limit": 20}));
    let languages: std::collections::HashSet<String> = answer["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|matched| {
            demo_expert(matched["expert"]["id"].as_str().unwrap())["languages"][0]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(languages.len() >= 3, "profiles in several languages: {languages:?}");
    assert!(
        answer["interpreted"]["topics"]
            .as_array()
            .unwrap()
            .contains(&json!("housing"))
    );
}

#[test]
fn topics_alone_are_enough_for_a_match() {
    let answer = matches(json!({"topics": ["tourism"], "limit": 5}));
    assert_eq!(answer["matches"].as_array().unwrap().len(), 5);
    assert_eq!(answer["interpreted"]["topics"], json!(["tourism"]));
}

#[test]
fn invalid_match_requests_are_explained_field_by_field() {
    let server = demo();
    let body = assert_error(
        server.post_json("/v1/match", &json!({"languages": ["fr"]})),
        422,
        "validation_failed",
    );
    assert_eq!(body["error"]["fields"][0]["field"], "challenge");
    assert_error(
        server.post_json("/v1/match", &json!({"challenge": "x", "limit": 0})),
        422,
        "validation_failed",
    );
    assert_error(
        server.post_json("/v1/match", &json!({"challenge": "x", "limit": 51})),
        422,
        "validation_failed",
    );
    assert_error(
        server.post_json("/v1/match", &json!({"challenge": "x", "regions": ["atlantis"]})),
        422,
        "validation_failed",
    );
    assert_error(
        server.post_json("/v1/match", &json!({"challenge": "x", "languages": ["xx"]})),
        422,
        "validation_failed",
    );
    assert_error(
        server.post_json("/v1/match", &json!({"challenge": "x", "topics": ["floods"]})),
        422,
        "validation_failed",
    );
    assert_error(
        server.post_json("/v1/match", &json!({"challenge": "x", "colour": "red"})),
        422,
        "validation_failed",
    );
    assert_error(
        server.post_json("/v1/match", &json!({"challenge": 5})),
        422,
        "validation_failed",
    );
    assert_error(
        server.post_json("/v1/match", &json!({"challenge": "x".repeat(6000)})),
        422,
        "validation_failed",
    );
    assert_error(
        server.post_json("/v1/match", &json!(["not", "an", "object"])),
        422,
        "validation_failed",
    );
}

#[test]
fn short_and_strange_inputs_never_break_the_engine() {
    let server = demo();
    for challenge in [
        "a",
        "?",
        "\"",
        "*",
        "AND",
        "(",
        "ü",
        "—",
        "  ",
        "0",
        "\u{0000}",
        "🙂",
        "a:b",
        "title:flood",
        "-",
        "~2",
        "\\",
    ] {
        let response = server.post_json("/v1/match", &json!({"challenge": challenge, "topics": ["water"]}));
        assert!(
            response.status() == 200 || response.status() == 422,
            "{challenge:?}: {}",
            response.status()
        );
        let response = server
            .client
            .get(server.url("/v1/experts"))
            .query(&[("q", challenge)])
            .send()
            .unwrap();
        assert!(
            response.status() == 200 || response.status() == 400,
            "{challenge:?}: {}",
            response.status()
        );
        let response = server
            .client
            .get(server.url("/v1/suggest"))
            .query(&[("q", challenge)])
            .send()
            .unwrap();
        assert_eq!(response.status(), 200, "{challenge:?}");
    }
}

#[test]
fn places_named_in_the_challenge_are_a_preference_when_no_regions_are_given() {
    let answer =
        matches(json!({"challenge": "participatory budgeting, ideally someone from Latin America", "limit": 10}));
    assert!(
        answer["interpreted"]["regions"]
            .as_array()
            .unwrap()
            .contains(&json!("latin-america-and-the-caribbean")),
        "{}",
        answer["interpreted"]
    );
    let in_region = answer["matches"]
        .as_array()
        .unwrap()
        .iter()
        .take(5)
        .filter(|matched| matched["expert"]["subregion"] == "Latin America and the Caribbean")
        .count();
    assert!(in_region >= 4, "{answer}");
    let brazil = matches(json!({"challenge": "Bürgerhaushalt, Erfahrung aus Brasilien", "limit": 5}));
    assert_eq!(brazil["interpreted"]["countries"], json!(["BR"]));
    assert_eq!(brazil["matches"][0]["expert"]["country"], "BR");
}
