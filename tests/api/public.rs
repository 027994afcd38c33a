//! The public API over the demo data: search, filters, facets, highlights, records by id,
//! taxonomy, regions, suggestions, contact requests, operations endpoints and errors.

use serde_json::{Value, json};

use crate::helpers::{all_keys, assert_error, demo, ids_of_hits};

#[test]
fn browsing_experts_returns_published_experts_with_facets_and_a_total() {
    let body = demo().get_json("/v1/experts");
    assert!(body["total"].as_u64().unwrap() >= 400, "{}", body["total"]);
    assert_eq!(body["hits"].as_array().unwrap().len(), 20, "default limit");
    for facet in ["topic", "region", "country", "language"] {
        assert!(
            body["facets"][facet]
                .as_object()
                .is_some_and(|counts| !counts.is_empty()),
            "facet {facet}"
        );
    }
    assert!(body["took_ms"].as_f64().is_some());
    for hit in body["hits"].as_array().unwrap() {
        assert_eq!(hit["expert"]["status"], "published");
    }
}

#[test]
fn a_german_word_finds_experts_in_africa_with_marked_highlights() {
    let body = demo().get_json("/v1/experts?q=Hochwasser&region=africa");
    assert!(body["total"].as_u64().unwrap() >= 5, "{body}");
    let hits = body["hits"].as_array().unwrap();
    for hit in hits {
        assert_eq!(hit["expert"]["region"], "Africa", "{}", hit["expert"]["id"]);
    }
    let marked = hits
        .iter()
        .filter(|hit| hit["highlights"].to_string().contains("<mark>"))
        .count();
    assert!(
        marked >= hits.len() / 2,
        "most hits explain the match with <mark>: {marked} of {}",
        hits.len()
    );
    assert!(
        body["facets"]["topic"]["flood-risk"].as_u64().unwrap() >= 5,
        "{}",
        body["facets"]
    );
}

#[test]
fn highlights_mark_the_query_words_and_escape_the_rest() {
    let body = demo().get_json("/v1/experts?q=drainage");
    let highlight = body["hits"][0]["highlights"]["expertise"]
        .as_str()
        .unwrap_or_default()
        .to_lowercase();
    assert!(
        highlight.contains("<mark>drainage</mark>") || highlight.contains("<mark>"),
        "{highlight}"
    );
    let without_marks = highlight.replace("<mark>", "").replace("</mark>", "");
    assert!(!without_marks.contains('<'), "only <mark> tags are HTML: {highlight}");
}

#[test]
fn values_of_one_parameter_or_together_and_parameters_and_together() {
    let server = demo();
    let senegal = server.get_json("/v1/experts?country=SN&limit=100")["total"]
        .as_u64()
        .unwrap();
    let kenya = server.get_json("/v1/experts?country=KE&limit=100")["total"]
        .as_u64()
        .unwrap();
    let either = server.get_json("/v1/experts?country=SN&country=KE&limit=100");
    assert_eq!(either["total"].as_u64().unwrap(), senegal + kenya);
    let combined = server.get_json("/v1/experts?topic=flood-risk&region=sub-saharan-africa&language=fr&limit=100");
    assert!(combined["total"].as_u64().unwrap() >= 1);
    for hit in combined["hits"].as_array().unwrap() {
        let expert = &hit["expert"];
        assert_eq!(expert["subregion"], "Sub-Saharan Africa");
        assert!(expert["languages"].as_array().unwrap().contains(&json!("fr")));
        assert!(
            expert["topics"].as_array().unwrap().contains(&json!("flood-risk")),
            "{}",
            expert["id"]
        );
    }
}

fn all_ids(server: &crate::helpers::TestServer, query: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut offset = 0;
    loop {
        let page = server.get_json(&format!("/v1/experts?{query}&limit=100&offset={offset}"));
        let page_ids = ids_of_hits(&page, "expert");
        if page_ids.is_empty() {
            return ids;
        }
        ids.extend(page_ids);
        offset += 100;
    }
}

#[test]
fn a_filter_on_an_area_matches_its_topics() {
    let server = demo();
    let area = all_ids(server, "topic=economic-development");
    let tourism = all_ids(server, "topic=tourism");
    let employment = all_ids(server, "topic=employment");
    assert!(!tourism.is_empty() && !employment.is_empty());
    for id in tourism.iter().chain(&employment) {
        assert!(
            area.contains(id),
            "{id} is tagged with a topic of the area but missing from the area filter"
        );
    }
    assert!(area.len() > tourism.len());
}

#[test]
fn facet_counts_ignore_their_own_filter_but_apply_the_others() {
    let server = demo();
    let filtered = server.get_json("/v1/experts?region=africa&topic=waste");
    // The region facet ignores region=africa: other regions still have counts.
    assert!(
        filtered["facets"]["region"]["europe"].as_u64().unwrap_or(0) > 0,
        "{}",
        filtered["facets"]["region"]
    );
    // Each region count equals the total when that region replaces the region filter.
    let europe_count = filtered["facets"]["region"]["europe"].as_u64().unwrap();
    let europe_total = server.get_json("/v1/experts?region=europe&topic=waste")["total"]
        .as_u64()
        .unwrap();
    assert_eq!(europe_count, europe_total);
    // The topic facet ignores topic=waste but applies region=africa.
    let mobility_count = filtered["facets"]["topic"]["mobility"].as_u64().unwrap();
    let mobility_total = server.get_json("/v1/experts?region=africa&topic=mobility")["total"]
        .as_u64()
        .unwrap();
    assert_eq!(mobility_count, mobility_total);
    // The country facet applies both filters: every counted country is in Africa.
    for country in filtered["facets"]["country"].as_object().unwrap().keys() {
        let one = server.get_json(&format!("/v1/experts?country={country}&limit=1"));
        assert_eq!(one["hits"][0]["expert"]["region"], "Africa", "{country}");
    }
    assert_eq!(
        filtered["facets"]["topic"]["waste"].as_u64().unwrap(),
        filtered["total"].as_u64().unwrap()
    );
}

#[test]
fn pagination_walks_through_the_results_without_repeats() {
    let server = demo();
    let first = ids_of_hits(&server.get_json("/v1/experts?q=water&limit=5&offset=0"), "expert");
    let second = ids_of_hits(&server.get_json("/v1/experts?q=water&limit=5&offset=5"), "expert");
    let both = ids_of_hits(&server.get_json("/v1/experts?q=water&limit=10&offset=0"), "expert");
    assert_eq!(first.len(), 5);
    assert_eq!([first.clone(), second.clone()].concat(), both);
    assert!(first.iter().all(|id| !second.contains(id)));
}

#[test]
fn one_published_record_is_returned_by_id_and_anything_else_is_404() {
    let server = demo();
    let expert = server.get_json("/v1/experts/amadou-ndiaye");
    assert_eq!(expert["name"], "Amadou Ndiaye");
    assert_eq!(expert["country"], "SN");
    assert_eq!(expert["intermediate_region"], "Western Africa");
    assert!(expert["version"].as_u64().is_some() && expert["created_at"].as_str().is_some());
    let case = server.get_json("/v1/cases/early-warning-saint-louis");
    assert!(case["title"].as_str().is_some());
    assert_error(server.get("/v1/experts/does-not-exist"), 404, "not_found");
    assert_error(server.get("/v1/cases/does-not-exist"), 404, "not_found");
    assert_error(server.get("/v1/experts/NOT%20AN%20ID"), 404, "not_found");
}

/// Drafts and archived records from the demo data (status is in the fixtures).
fn unpublished_ids() -> Vec<String> {
    let mut ids = Vec::new();
    for text in citypeers::curation::demo::DEMO_EXPERTS {
        for line in text.lines() {
            let record: Value = serde_json::from_str(line).unwrap();
            if record["status"] != "published" {
                ids.push(record["id"].as_str().unwrap().to_string());
            }
        }
    }
    ids
}

#[test]
fn drafts_and_archived_experts_are_never_public() {
    let server = demo();
    let hidden = unpublished_ids();
    assert!(hidden.len() >= 5, "the demo data has drafts");
    for id in &hidden {
        assert_eq!(server.get(&format!("/v1/experts/{id}")).status(), 404, "{id}");
    }
    let browse = server.get_json("/v1/experts?limit=100&offset=0");
    let total = browse["total"].as_u64().unwrap();
    let mut seen = Vec::new();
    let mut offset = 0;
    while offset < total {
        seen.extend(ids_of_hits(
            &server.get_json(&format!("/v1/experts?limit=100&offset={offset}")),
            "expert",
        ));
        offset += 100;
    }
    assert!(
        hidden.iter().all(|id| !seen.contains(id)),
        "a draft appeared in the listing"
    );
    let facet_total: u64 = browse["facets"]["country"]
        .as_object()
        .unwrap()
        .values()
        .map(|count| count.as_u64().unwrap())
        .sum();
    assert_eq!(facet_total, total, "facet counts cover only published experts");
    for id in &hidden {
        let matches = server.post_json("/v1/match", &json!({"challenge": id.replace('-', " "), "limit": 50}));
        let body: Value = matches.json().unwrap();
        assert!(
            body["matches"]
                .as_array()
                .unwrap()
                .iter()
                .all(|matched| matched["expert"]["id"] != json!(id))
        );
    }
}

#[test]
fn private_fields_never_appear_in_public_answers() {
    let server = demo();
    let mut keys = Vec::new();
    all_keys(&server.get_json("/v1/experts?q=flood&limit=50"), &mut keys);
    all_keys(&server.get_json("/v1/experts/amadou-ndiaye"), &mut keys);
    let matched: Value = server
        .post_json(
            "/v1/match",
            &json!({"challenge": "solid waste collection", "limit": 20}),
        )
        .json()
        .unwrap();
    all_keys(&matched, &mut keys);
    all_keys(&server.get_json("/v1/suggest?q=ama"), &mut keys);
    assert!(
        !keys.iter().any(|key| key == "email" || key == "phone"),
        "a private field leaked"
    );
    let text = server.get("/v1/experts?q=flood&limit=100").text().unwrap();
    assert!(!text.contains("@example.org"), "an e-mail address leaked");
}

#[test]
fn topics_come_with_labels_in_the_asked_language() {
    let server = demo();
    let german = server.get_json("/v1/topics?lang=de");
    let areas = german["areas"].as_array().unwrap();
    assert_eq!(areas.len(), 3);
    let topic_count: usize = areas.iter().map(|area| area["topics"].as_array().unwrap().len()).sum();
    assert_eq!(topic_count, 18);
    let flood = areas
        .iter()
        .flat_map(|area| area["topics"].as_array().unwrap())
        .find(|topic| topic["id"] == "flood-risk")
        .unwrap();
    assert_eq!(flood["label"], "Hochwasserschutz");
    let french = server.get_json("/v1/topics?lang=fr");
    assert_ne!(french["areas"][0]["label"], german["areas"][0]["label"]);
    assert_error(server.get("/v1/topics?lang=xx"), 400, "bad_request");
}

#[test]
fn regions_list_every_m49_level_and_mena() {
    let body = demo().get_json("/v1/regions");
    let regions = body["regions"].as_array().unwrap();
    let find = |slug: &str| {
        regions
            .iter()
            .find(|region| region["slug"] == slug)
            .unwrap_or_else(|| panic!("{slug}"))
    };
    assert_eq!(find("sub-saharan-africa")["parent"], "africa");
    assert_eq!(find("eastern-africa")["parent"], "sub-saharan-africa");
    assert_eq!(find("south-america")["parent"], "latin-america-and-the-caribbean");
    assert!(find("mena")["countries"].as_array().unwrap().contains(&json!("IR")));
    assert!(!find("mena")["countries"].as_array().unwrap().contains(&json!("CY")));
    assert!(
        find("western-europe")["countries"]
            .as_array()
            .unwrap()
            .contains(&json!("DE"))
    );
}

#[test]
fn suggest_completes_and_corrects_topics_names_cities_and_countries() {
    let server = demo();
    let flood = server.get_json("/v1/suggest?q=hochwas");
    assert!(flood["completions"].to_string().contains("flood-risk"), "{flood}");
    let typo = server.get_json("/v1/suggest?q=drainige");
    assert!(
        typo["did_you_mean"].to_string().to_lowercase().contains("drainage"),
        "{typo}"
    );
    let city = server.get_json("/v1/suggest?q=saint-lo");
    assert!(city["completions"].to_string().contains("Saint-Louis"), "{city}");
    let name = server.get_json("/v1/suggest?q=amadou");
    assert!(name["completions"].to_string().contains("Amadou Ndiaye"), "{name}");
    let country = server.get_json("/v1/suggest?q=sene");
    assert!(country["completions"].to_string().contains("\"SN\""), "{country}");
    let empty = server.get_json("/v1/suggest?q=");
    assert_eq!(empty["completions"], json!([]));
}

#[test]
fn cases_are_searchable_with_facets() {
    let body = demo().get_json("/v1/cases?q=participatory%20budgeting");
    assert!(body["total"].as_u64().unwrap() >= 2, "{body}");
    assert!(body["hits"][0]["case"]["title"].as_str().is_some());
    assert!(body["facets"]["topic"]["participation"].as_u64().unwrap() >= 2);
    assert_error(demo().get("/v1/cases?available=true"), 400, "bad_request");
}

#[test]
fn bad_requests_get_the_contract_error_shape() {
    let server = demo();
    let body = assert_error(server.get("/v1/experts?limit=1000"), 400, "bad_request");
    assert_eq!(body["error"]["fields"][0]["field"], "limit");
    assert_error(server.get("/v1/experts?region=atlantis"), 400, "bad_request");
    assert_error(server.get("/v1/experts?country=XX"), 400, "bad_request");
    assert_error(server.get("/v1/experts?topic=floods"), 400, "bad_request");
    assert_error(server.get("/v1/experts?colour=red"), 400, "bad_request");
    assert_error(
        server.get(&format!("/v1/experts?q={}", "a".repeat(600))),
        400,
        "bad_request",
    );
    assert_error(server.get("/v1/no-such-endpoint"), 404, "not_found");
    let malformed = server
        .client
        .post(server.url("/v1/match"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .unwrap();
    assert_error(malformed, 400, "bad_request");
    let wrong_type = server
        .client
        .post(server.url("/v1/match"))
        .header("content-type", "text/plain")
        .body("x")
        .send()
        .unwrap();
    assert_error(wrong_type, 415, "unsupported_media_type");
    let too_large = server
        .client
        .post(server.url("/v1/match"))
        .header("content-type", "application/json")
        .body(vec![b' '; 2 * 1024 * 1024])
        .send()
        .unwrap();
    // The rest of the body is left unread: the connection must not go back to the pool.
    assert_eq!(too_large.headers().get("connection").unwrap(), "close");
    assert_error(too_large, 413, "payload_too_large");
}

#[test]
fn contact_requests_are_accepted_without_revealing_the_expert() {
    let server = demo();
    let response = server.post_json(
        "/v1/contact-requests",
        &json!({"expert_id": "amadou-ndiaye", "name": "Lina Costa", "email": "lina@example.org", "organisation": "Prefeitura de Recife", "message": "We would like to learn about your early warning system."}),
    );
    assert_eq!(response.status(), 202);
    let body: Value = response.json().unwrap();
    assert!(body["id"].as_str().is_some());
    assert!(
        !body.to_string().contains("@example.org\"") || !body.to_string().contains("amadou"),
        "{body}"
    );
    let invalid = server.post_json(
        "/v1/contact-requests",
        &json!({"expert_id": "amadou-ndiaye", "name": "", "email": "nope", "message": "hi"}),
    );
    let error = assert_error(invalid, 422, "validation_failed");
    let fields: Vec<&str> = error["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|field| field["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"name") && fields.contains(&"email"), "{fields:?}");
    let unknown = server.post_json(
        "/v1/contact-requests",
        &json!({"expert_id": "nobody-here", "name": "A", "email": "a@example.org", "message": "hi"}),
    );
    assert_error(unknown, 422, "validation_failed");
}

#[test]
fn operations_endpoints_answer() {
    let server = demo();
    assert_eq!(server.get_json("/healthz")["status"], "ok");
    let ready = server.get_json("/readyz");
    assert_eq!(ready["status"], "ready");
    // The demo data is small: learning from it finishes before the server listens.
    assert_eq!(ready["learning"], "settled", "{ready}");
    let metrics = server.get("/metrics").text().unwrap();
    assert!(metrics.contains("citypeers_indexed_experts"), "{metrics}");
    let openapi = server.get_json("/openapi.json");
    assert!(openapi["openapi"].as_str().unwrap().starts_with("3."));
    let page = server.get("/");
    assert!(page.headers().get("content-security-policy").is_some());
    assert!(page.text().unwrap().to_lowercase().contains("<html"));
    let widget = server.get("/widget.js").text().unwrap();
    assert!(widget.contains("citypeers-widget"));
    assert!(server.get("/embed").text().unwrap().contains("widget.js"));
}

#[test]
fn public_reads_can_be_revalidated_with_their_etag() {
    let server = demo();
    let first = server.get("/v1/experts?q=water");
    let etag = first.headers().get("etag").expect("etag").to_str().unwrap().to_string();
    assert!(first.headers().get("cache-control").is_some());
    let again = server
        .client
        .get(server.url("/v1/experts?q=water"))
        .header("if-none-match", &etag)
        .send()
        .unwrap();
    assert_eq!(again.status(), 304);
    let cors = server
        .client
        .get(server.url("/v1/experts"))
        .header("origin", "https://portal.example")
        .send()
        .unwrap();
    assert_eq!(cors.headers().get("access-control-allow-origin").unwrap(), "*");
}

#[test]
fn json_answers_say_utf8() {
    let response = demo().get("/v1/topics");
    let content_type = response
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(content_type, "application/json; charset=utf-8");
}

#[test]
fn a_country_named_in_the_query_lifts_its_experts() {
    let brazilians = |query: &str| {
        let body = demo().get_json(&format!("/v1/experts?q={query}&limit=5"));
        body["hits"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|hit| hit["expert"]["country"] == "BR")
            .count()
    };
    let with_country = brazilians("participatory%20budgeting%20Brazil");
    assert!(
        with_country >= 3 && with_country > brazilians("participatory%20budgeting"),
        "{with_country}"
    );
    let first = demo().get_json("/v1/experts?q=or%C3%A7amento%20participativo%20Brasil&limit=1");
    assert_eq!(first["hits"][0]["expert"]["country"], "BR");
}

#[test]
fn the_openapi_document_lists_exactly_the_routes_of_the_router() {
    let document = demo().get_json("/openapi.json");
    let paths = document["paths"].as_object().unwrap();
    let mut documented = std::collections::BTreeSet::new();
    for (path, operations) in paths {
        for method in operations.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                documented.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    let routed: std::collections::BTreeSet<(String, String)> = citypeers::http::route_list()
        .into_iter()
        .map(|route| (route.method.to_string(), route.path.replace("{*", "{")))
        .collect();
    assert_eq!(documented, routed);
    for (path, operations) in paths {
        for (method, operation) in operations.as_object().unwrap() {
            let secured = operation
                .get("security")
                .is_some_and(|security| !security.as_array().unwrap().is_empty());
            assert_eq!(
                secured,
                path.starts_with("/v1/admin"),
                "{method} {path}: bearer auth exactly on admin routes"
            );
        }
    }
}

#[test]
fn an_answer_that_leaves_the_request_body_unread_closes_the_connection_cleanly() {
    let server = crate::helpers::TestServer::start(crate::helpers::ServerOptions::default());
    let connection_header = |response: &reqwest::blocking::Response| {
        response
            .headers()
            .get("connection")
            .map(|value| value.to_str().unwrap().to_ascii_lowercase())
    };
    // Refused before its body is read, so the server closes the connection after answering:
    // the client must be told, or its next request on the same connection fails.
    for _ in 0..30 {
        let refused = server
            .client
            .post(server.url("/v1/contact-requests"))
            .header("content-type", "text/plain")
            .body("x".repeat(4_000))
            .send()
            .unwrap();
        assert_eq!(refused.status(), 415);
        assert_eq!(connection_header(&refused).as_deref(), Some("close"));
        drop(refused);
        assert_eq!(server.get("/v1/topics").status(), 200);
    }
    // A body that was read keeps the connection open for the next request.
    let matched = server.post_json("/v1/match", &json!({"challenge": "flood early warning"}));
    assert_eq!(matched.status(), 200);
    assert_eq!(connection_header(&matched), None);
}
