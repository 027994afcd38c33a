//! Staff curation through `/v1/admin`: authentication, editing with versions, bulk import,
//! export, duplicates, merging, the audit trail, erasure and contact requests.

use std::path::Path;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{ServerOptions, TestServer, assert_error, expert_body};

fn fresh() -> TestServer {
    TestServer::start(ServerOptions::default())
}

fn etag(response: &reqwest::blocking::Response) -> String {
    response
        .headers()
        .get("etag")
        .expect("etag")
        .to_str()
        .unwrap()
        .to_string()
}

#[test]
fn every_admin_route_answers_401_without_a_valid_token() {
    let server = fresh();
    let routes: Vec<_> = citypeers::http::route_list()
        .into_iter()
        .filter(|route| route.admin)
        .collect();
    assert!(routes.len() >= 15, "{routes:?}");
    for route in routes {
        let path = route.path.replace("{id}", "some-id");
        for token in [None, Some("wrong-token"), Some("")] {
            let mut request = server
                .client
                .request(route.method.clone(), server.url(&path))
                .header("content-type", "application/json")
                .body("{}");
            if let Some(token) = token {
                request = request.header("authorization", format!("Bearer {token}"));
            }
            let response = request.send().unwrap();
            assert_eq!(response.status(), 401, "{} {path} with {token:?}", route.method);
            let body: Value = response.json().unwrap();
            assert_eq!(body["error"]["code"], "unauthorized");
        }
    }
    let basic = server
        .client
        .get(server.url("/v1/admin/experts"))
        .header("authorization", "Basic dXNlcjpwYXNz")
        .send()
        .unwrap();
    assert_eq!(basic.status(), 401);
}

#[test]
fn failed_token_attempts_are_rate_limited() {
    let server = TestServer::start(ServerOptions {
        limits: citypeers::http::Limits::new(3, 100),
        ..ServerOptions::default()
    });
    let attempt = || {
        server
            .client
            .get(server.url("/v1/admin/experts"))
            .bearer_auth("guess")
            .send()
            .unwrap()
    };
    for _ in 0..3 {
        assert_eq!(attempt().status(), 401);
    }
    let refused = attempt();
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().get("retry-after").is_some());
    // A valid token still works.
    assert_eq!(server.admin_get("/v1/admin/experts").status(), 200);
}

#[test]
fn creating_an_expert_answers_201_with_location_and_etag_and_409_for_a_taken_id() {
    let server = fresh();
    let created = server.admin_post(
        "/v1/admin/experts",
        &expert_body("ana-lima", "Ana Lima", "Recife", "br"),
    );
    assert_eq!(created.status(), 201);
    assert_eq!(created.headers().get("location").unwrap(), "/v1/admin/experts/ana-lima");
    assert_eq!(etag(&created), "\"1\"");
    let body: Value = created.json().unwrap();
    assert_eq!(body["country"], "BR");
    assert_eq!(body["version"], 1);
    assert_eq!(body["subregion"], "Latin America and the Caribbean");
    assert_error(
        server.admin_post(
            "/v1/admin/experts",
            &expert_body("ana-lima", "Ana Lima", "Recife", "BR"),
        ),
        409,
        "conflict",
    );
    let mut without_id = expert_body("x", "Rui Mendes", "Porto Alegre", "BR");
    without_id.as_object_mut().unwrap().remove("id");
    without_id.as_object_mut().unwrap().remove("status");
    let generated = server.admin_post("/v1/admin/experts", &without_id);
    assert_eq!(generated.status(), 201);
    let generated: Value = generated.json().unwrap();
    assert!(generated["id"].as_str().unwrap().starts_with("e-"));
    assert_eq!(generated["status"], "draft", "create defaults to draft");
    let read = server.admin_get("/v1/admin/experts/ana-lima");
    assert_eq!(etag(&read), "\"1\"");
}

#[test]
fn invalid_unknown_and_read_only_fields_are_rejected_field_by_field() {
    let server = fresh();
    let invalid = json!({"id": "Bad Id", "name": " ", "city": "X", "country": "XX", "languages": [], "topics": ["floods"], "email": "nope", "year": 3});
    let body = assert_error(
        server.admin_post("/v1/admin/experts", &invalid),
        422,
        "validation_failed",
    );
    let fields: Vec<&str> = body["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|field| field["field"].as_str().unwrap())
        .collect();
    for expected in ["id", "name", "country", "languages", "topics", "email", "year"] {
        assert!(fields.contains(&expected), "{expected} missing from {fields:?}");
    }
    let mut read_only = expert_body("kim-ho", "Kim Ho", "Hue", "VN");
    read_only["version"] = json!(7);
    read_only["region"] = json!("Asia");
    let body = assert_error(
        server.admin_post("/v1/admin/experts", &read_only),
        422,
        "validation_failed",
    );
    assert!(body.to_string().contains("read-only"));
    assert_error(
        server
            .admin(server.client.post(server.url("/v1/admin/experts")))
            .body("{oops")
            .header("content-type", "application/json")
            .send()
            .unwrap(),
        400,
        "bad_request",
    );
}

#[test]
fn two_staff_editing_the_same_profile_lose_nothing() {
    let server = fresh();
    server.admin_post(
        "/v1/admin/experts",
        &expert_body("joao-silva", "João Silva", "Curitiba", "BR"),
    );
    // Both open version 1.
    let first = server.admin_get("/v1/admin/experts/joao-silva");
    let version_seen_by_both = etag(&first);
    let mut edited_by_a: Value = first.json().unwrap();
    for read_only in [
        "version",
        "created_at",
        "updated_at",
        "region",
        "subregion",
        "intermediate_region",
    ] {
        edited_by_a.as_object_mut().unwrap().remove(read_only);
    }
    edited_by_a["position"] = json!("Head of Mobility");
    let saved = server
        .admin(server.client.put(server.url("/v1/admin/experts/joao-silva")))
        .header("if-match", &version_seen_by_both)
        .json(&edited_by_a)
        .send()
        .unwrap();
    assert_eq!(saved.status(), 200);
    assert_eq!(etag(&saved), "\"2\"");
    // B still holds version 1: refused, nothing overwritten.
    let stale = server
        .admin(server.client.patch(server.url("/v1/admin/experts/joao-silva")))
        .header("if-match", &version_seen_by_both)
        .header("content-type", "application/merge-patch+json")
        .body(json!({"organisation": "IPPUC"}).to_string())
        .send()
        .unwrap();
    assert_error(stale, 412, "precondition_failed");
    let current: Value = server.admin_get("/v1/admin/experts/joao-silva").json().unwrap();
    assert_eq!(current["position"], "Head of Mobility");
    assert_eq!(current["organisation"], Value::Null);
    // B reloads and applies the change on top.
    let retried = server
        .admin(server.client.patch(server.url("/v1/admin/experts/joao-silva")))
        .header("if-match", "\"2\"")
        .header("content-type", "application/merge-patch+json")
        .body(json!({"organisation": "IPPUC"}).to_string())
        .send()
        .unwrap();
    assert_eq!(retried.status(), 200);
    let merged: Value = retried.json().unwrap();
    assert_eq!(
        (
            merged["position"].as_str(),
            merged["organisation"].as_str(),
            merged["version"].as_u64()
        ),
        (Some("Head of Mobility"), Some("IPPUC"), Some(3))
    );
}

#[test]
fn changes_need_if_match_and_merge_patches_follow_rfc_7396() {
    let server = fresh();
    let mut body = expert_body("mina-saleh", "Mina Saleh", "Amman", "JO");
    body["bio"] = json!("Planner.");
    body["languages"] = json!(["ar", "en"]);
    server.admin_post("/v1/admin/experts", &body);
    let without = server
        .admin(server.client.patch(server.url("/v1/admin/experts/mina-saleh")))
        .json(&json!({"bio": null}))
        .send()
        .unwrap();
    assert_error(without, 428, "precondition_required");
    let patched = server
        .admin(server.client.patch(server.url("/v1/admin/experts/mina-saleh")))
        .header("if-match", "\"1\"")
        .json(&json!({"bio": null, "languages": ["ar"], "topics": ["waste", "water"]}))
        .send()
        .unwrap();
    assert_eq!(patched.status(), 200);
    let patched: Value = patched.json().unwrap();
    assert_eq!(patched["bio"], Value::Null);
    assert_eq!(patched["languages"], json!(["ar"]));
    assert_eq!(patched["topics"], json!(["waste", "water"]));
    assert_eq!(patched["name"], "Mina Saleh");
    let read_only = server
        .admin(server.client.patch(server.url("/v1/admin/experts/mina-saleh")))
        .header("if-match", "\"2\"")
        .json(&json!({"version": 9}))
        .send()
        .unwrap();
    assert_error(read_only, 422, "validation_failed");
    let wildcard = server
        .admin(server.client.patch(server.url("/v1/admin/experts/mina-saleh")))
        .header("if-match", "*")
        .json(&json!({"city": "Irbid"}))
        .send()
        .unwrap();
    assert_eq!(wildcard.status(), 200);
    let wrong_type = server
        .admin(server.client.patch(server.url("/v1/admin/experts/mina-saleh")))
        .header("if-match", "*")
        .header("content-type", "text/plain")
        .body("x")
        .send()
        .unwrap();
    assert_error(wrong_type, 415, "unsupported_media_type");
    assert_error(
        server
            .admin(server.client.delete(server.url("/v1/admin/experts/mina-saleh")))
            .send()
            .unwrap(),
        428,
        "precondition_required",
    );
}

#[test]
fn edits_are_searchable_when_the_answer_arrives() {
    let server = fresh();
    let mut body = expert_body("olu-ade", "Olu Ade", "Lagos", "NG");
    body["expertise"] = json!("Bus lanes planned with the Okonjo method.");
    server.admin_post("/v1/admin/experts", &body);
    assert_eq!(server.get_json("/v1/experts?q=Okonjo")["total"], 1);
    let patched = server
        .admin(server.client.patch(server.url("/v1/admin/experts/olu-ade")))
        .header("if-match", "\"1\"")
        .json(&json!({"expertise": "Landfill gas capture and composting."}))
        .send()
        .unwrap();
    assert_eq!(patched.status(), 200);
    assert_eq!(server.get_json("/v1/experts?q=Okonjo")["total"], 0);
    assert_eq!(server.get_json("/v1/experts?q=composting")["total"], 1);
    let draft = server
        .admin(server.client.patch(server.url("/v1/admin/experts/olu-ade")))
        .header("if-match", "\"2\"")
        .json(&json!({"status": "draft"}))
        .send()
        .unwrap();
    assert_eq!(draft.status(), 200);
    assert_eq!(server.get_json("/v1/experts?q=composting")["total"], 0);
    assert_eq!(server.get("/v1/experts/olu-ade").status(), 404);
    assert!(
        !server.get_json("/v1/suggest?q=olu")["completions"]
            .to_string()
            .contains("Olu Ade")
    );
    let admin_search: Value = server.admin_get("/v1/admin/experts?q=composting").json().unwrap();
    assert_eq!(admin_search["total"], 1);
    let deleted = server
        .admin(server.client.delete(server.url("/v1/admin/experts/olu-ade")))
        .header("if-match", "\"3\"")
        .send()
        .unwrap();
    assert_eq!(deleted.status(), 204);
    assert_eq!(server.admin_get("/v1/admin/experts/olu-ade").status(), 404);
    let admin_search: Value = server.admin_get("/v1/admin/experts?q=composting").json().unwrap();
    assert_eq!(admin_search["total"], 0);
}

fn thousand_experts_with_three_bad_rows() -> (String, Vec<(u64, String)>) {
    let mut lines = Vec::new();
    let mut bad = Vec::new();
    for number in 1..=1000u64 {
        let id = format!("bulk-{number}");
        let line = match number {
            17 => {
                bad.push((number, id.clone()));
                json!({"id": id, "name": "No Country", "city": "Nowhere", "languages": ["en"]})
            }
            480 => {
                bad.push((number, id.clone()));
                json!({"id": id, "name": "Bad Language", "city": "Lima", "country": "PE", "languages": ["xx"]})
            }
            999 => {
                bad.push((number, id.clone()));
                json!({"id": id, "name": "Bad Topic", "city": "Quito", "country": "EC", "languages": ["es"], "topics": ["floods"]})
            }
            _ => {
                json!({"id": id, "name": format!("Expert {number}"), "city": "Kigali", "country": "RW", "languages": ["en", "fr"], "topics": ["e-government"], "expertise": format!("Digital services number {number}.")})
            }
        };
        lines.push(line.to_string());
    }
    (lines.join("\n") + "\n", bad)
}

fn import(server: &TestServer, kind: &str, content_type: &str, body: String) -> Value {
    let response = server
        .admin(server.client.post(server.url(&format!("/v1/admin/import?kind={kind}"))))
        .header("content-type", content_type)
        .body(body)
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().unwrap()
}

#[test]
fn an_import_of_a_thousand_experts_with_three_bad_rows_creates_997_and_reports_3_then_is_idempotent() {
    let server = fresh();
    let (file, bad) = thousand_experts_with_three_bad_rows();
    let report = import(&server, "experts", "application/x-ndjson", file.clone());
    assert_eq!(
        (
            report["created"].as_u64(),
            report["updated"].as_u64(),
            report["unchanged"].as_u64()
        ),
        (Some(997), Some(0), Some(0))
    );
    let rejected = report["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 3);
    for ((line, id), entry) in bad.iter().zip(rejected) {
        assert_eq!(entry["line"].as_u64(), Some(*line));
        assert_eq!(entry["id"].as_str(), Some(id.as_str()));
        assert!(!entry["errors"].as_array().unwrap().is_empty());
    }
    assert_eq!(rejected[0]["errors"][0]["field"], "country");
    assert_eq!(rejected[1]["errors"][0]["field"], "languages");
    assert_eq!(rejected[2]["errors"][0]["field"], "topics");
    assert_eq!(
        server.get_json("/v1/experts?q=digital&limit=1")["total"],
        997,
        "searchable when the answer arrives"
    );
    let again = import(&server, "experts", "application/x-ndjson", file);
    assert_eq!(
        (
            again["created"].as_u64(),
            again["updated"].as_u64(),
            again["unchanged"].as_u64()
        ),
        (Some(0), Some(0), Some(997))
    );
    assert_eq!(again["rejected"].as_array().unwrap().len(), 3);
}

#[test]
fn json_arrays_and_csv_are_imported_with_positions_and_lines() {
    let server = fresh();
    let array = json!([
        {"id": "arr-1", "name": "A One", "city": "Accra", "country": "GH", "languages": ["en"]},
        {"id": "arr-2", "name": "", "city": "Accra", "country": "GH", "languages": ["en"]},
        "not an object",
    ]);
    let report = import(&server, "experts", "application/json", array.to_string());
    assert_eq!(report["created"], 1);
    let positions: Vec<u64> = report["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["line"].as_u64().unwrap())
        .collect();
    assert_eq!(positions, vec![2, 3]);

    let csv = "id,name,city,country,languages,topics,available,expertise\n\
               csv-1,Aïcha Traoré,Bamako,ML,fr;bm;en,water;waste,yes,\"Water kiosks, latrines; faecal sludge\"\n\
               csv-2,Broken Row,Bamako,ML,fr,nonsense-topic,no,x\n";
    let report = import(&server, "experts", "text/csv; charset=utf-8", csv.to_string());
    assert_eq!(report["created"], 1);
    assert_eq!(report["rejected"][0]["line"], 3, "the header is line 1");
    let record: Value = server.admin_get("/v1/admin/experts/csv-1").json().unwrap();
    assert_eq!(record["languages"], json!(["fr", "bm", "en"]));
    assert_eq!(record["topics"], json!(["water", "waste"]));
    assert_eq!(record["available"], true);
    assert_eq!(record["expertise"], "Water kiosks, latrines; faecal sludge");
    let unknown_column = server
        .admin(server.client.post(server.url("/v1/admin/import?kind=experts")))
        .header("content-type", "text/csv")
        .body("id,colour\nx,red\n")
        .send()
        .unwrap();
    assert_error(unknown_column, 400, "bad_request");
    let wrong_type = server
        .admin(server.client.post(server.url("/v1/admin/import?kind=experts")))
        .header("content-type", "application/xml")
        .body("<x/>")
        .send()
        .unwrap();
    assert_error(wrong_type, 415, "unsupported_media_type");
    let bad_kind = server
        .admin(server.client.post(server.url("/v1/admin/import?kind=people")))
        .header("content-type", "application/json")
        .body("[]")
        .send()
        .unwrap();
    assert_error(bad_kind, 400, "bad_request");
}

#[test]
fn export_then_import_into_an_empty_instance_gives_the_same_data() {
    let source = TestServer::start(ServerOptions {
        demo_data: true,
        ..ServerOptions::default()
    });
    let experts = source.admin_get("/v1/admin/export?kind=experts").text().unwrap();
    let cases = source.admin_get("/v1/admin/export?kind=cases").text().unwrap();
    assert_eq!(experts.lines().count(), 440);
    assert!(experts.contains("@example.org"), "exports carry private fields");
    let target = fresh();
    let report = import(&target, "experts", "application/x-ndjson", experts.clone());
    assert_eq!(report["created"], 440);
    import(&target, "cases", "application/x-ndjson", cases.clone());
    let experts_again = target.admin_get("/v1/admin/export?kind=experts").text().unwrap();
    let cases_again = target.admin_get("/v1/admin/export?kind=cases").text().unwrap();
    for (before, after) in [(experts, experts_again), (cases, cases_again)] {
        let before: Vec<Value> = before.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
        let after: Vec<Value> = after.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
        assert_eq!(before.len(), after.len());
        for (left, right) in before.iter().zip(&after) {
            for (field, value) in left.as_object().unwrap() {
                assert_eq!(&right[field], value, "{} field {field}", left["id"]);
            }
        }
    }
}

#[test]
fn likely_duplicates_are_found_with_reasons() {
    let server = TestServer::start(ServerOptions {
        demo_data: true,
        ..ServerOptions::default()
    });
    let body: Value = server.admin_get("/v1/admin/duplicates").json().unwrap();
    let pairs = body["pairs"].as_array().unwrap();
    let has = |a: &str, b: &str| {
        pairs
            .iter()
            .any(|pair| (pair["a"] == a && pair["b"] == b) || (pair["a"] == b && pair["b"] == a))
    };
    for (a, b) in [
        ("fatou-sow", "dr-fatou-sow"),
        ("katrin-hoffmann", "hoffmann-katrin"),
        ("rania-haddad", "rania-hadad"),
        ("mariana-costa-silva", "mariana-costa-e-silva"),
    ] {
        assert!(has(a, b), "{a} / {b} not found in {body}");
    }
    let similarities: Vec<f64> = pairs.iter().map(|pair| pair["similarity"].as_f64().unwrap()).collect();
    assert!(
        similarities.windows(2).all(|pair| pair[0] >= pair[1]),
        "most similar first"
    );
    assert!(pairs.iter().all(|pair| !pair["reasons"].as_array().unwrap().is_empty()));
    assert!(pairs.len() < 20, "few false alarms: {}", pairs.len());
}

#[test]
fn merging_fills_the_kept_record_moves_case_links_and_redirects_the_old_id() {
    let server = fresh();
    let mut kept = expert_body("fatou-sow", "Fatou Sow", "Dakar", "SN");
    kept["phone"] = Value::Null;
    server.admin_post("/v1/admin/experts", &kept);
    let mut duplicate = expert_body("dr-fatou-sow", "Dr. Fatou Sow", "Dakar", "SN");
    duplicate["phone"] = json!("+221 33 555 41 08");
    duplicate["bio"] = json!("Urban planner at ADM.");
    server.admin_post("/v1/admin/experts", &duplicate);
    let case = json!({"id": "brt-dakar", "title": "BRT in Dakar", "summary": "A bus rapid transit line.", "city": "Dakar", "country": "SN", "experts": ["dr-fatou-sow"], "status": "published"});
    server.admin_post("/v1/admin/cases", &case);

    let merged = server.admin_post("/v1/admin/experts/dr-fatou-sow/merge", &json!({"into": "fatou-sow"}));
    assert_eq!(merged.status(), 200);
    let merged: Value = merged.json().unwrap();
    assert_eq!(merged["phone"], "+221 33 555 41 08");
    assert_eq!(merged["bio"], "Urban planner at ADM.");
    let old: Value = server.admin_get("/v1/admin/experts/dr-fatou-sow").json().unwrap();
    assert_eq!(old["status"], "archived");
    assert_eq!(server.get_json("/v1/cases/brt-dakar")["experts"], json!(["fatou-sow"]));

    let no_redirects = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let redirected = no_redirects.get(server.url("/v1/experts/dr-fatou-sow")).send().unwrap();
    assert_eq!(redirected.status(), 308);
    assert_eq!(redirected.headers().get("location").unwrap(), "/v1/experts/fatou-sow");
    assert_eq!(
        server.get_json("/v1/experts/dr-fatou-sow")["id"],
        "fatou-sow",
        "clients that follow redirects land on the kept record"
    );

    assert_error(
        server.admin_post("/v1/admin/experts/fatou-sow/merge", &json!({"into": "fatou-sow"})),
        422,
        "validation_failed",
    );
    assert_error(
        server.admin_post("/v1/admin/experts/fatou-sow/merge", &json!({"into": "nobody"})),
        422,
        "validation_failed",
    );
    let audit: Value = server
        .admin_get("/v1/admin/audit?entity=experts/fatou-sow")
        .json()
        .unwrap();
    assert_eq!(audit["entries"].as_array().unwrap().last().unwrap()["action"], "merge");
}

/// The entries of an entity's audit trail, oldest first.
fn audit_entries(server: &TestServer, entity: &str) -> Vec<Value> {
    let audit: Value = server
        .admin_get(&format!("/v1/admin/audit?entity={entity}"))
        .json()
        .unwrap();
    audit["entries"].as_array().unwrap().clone()
}

fn actions_of(entries: &[Value]) -> Vec<&str> {
    entries.iter().map(|entry| entry["action"].as_str().unwrap()).collect()
}

#[test]
fn the_audit_trail_says_who_changed_what_and_when_oldest_first() {
    let server = fresh();
    server.admin_post(
        "/v1/admin/experts",
        &expert_body("zara-khan", "Zara Khan", "Lahore", "PK"),
    );
    server
        .admin(server.client.patch(server.url("/v1/admin/experts/zara-khan")))
        .header("if-match", "\"1\"")
        .json(&json!({"city": "Karachi"}))
        .send()
        .unwrap();
    server
        .admin(server.client.delete(server.url("/v1/admin/experts/zara-khan")))
        .header("if-match", "\"2\"")
        .send()
        .unwrap();
    let entries = audit_entries(&server, "experts/zara-khan");
    let actions = actions_of(&entries);
    assert_eq!(actions, vec!["create", "update", "delete"]);
    let created: Vec<(&str, &Value)> = entries[0]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .inspect(|change| assert_eq!(change["before"], Value::Null))
        .map(|change| (change["field"].as_str().unwrap(), &change["after"]))
        .collect();
    assert!(created.contains(&("city", &json!("Lahore"))), "{created:?}");
    assert!(created.contains(&("name", &json!("Zara Khan"))), "{created:?}");
    assert_eq!(entries[1]["actor"], "admin");
    assert_eq!(entries[1]["version"], 2);
    assert_eq!(
        entries[1]["changes"],
        json!([{"field": "city", "before": "Lahore", "after": "Karachi"}])
    );
    assert!(entries[0]["at"].as_str().unwrap() <= entries[2]["at"].as_str().unwrap());
    assert_error(server.admin_get("/v1/admin/audit?entity=people/x"), 400, "bad_request");
}

#[test]
fn an_imported_record_keeps_its_imported_values_in_the_trail_after_later_edits() {
    let server = fresh();
    let mut first = expert_body("imported-once", "Ines Duarte", "Maputo", "MZ");
    first["bio"] = json!("Drainage engineer.");
    import(&server, "experts", "application/x-ndjson", format!("{first}\n"));
    let mut second = first.clone();
    second["city"] = json!("Beira");
    import(&server, "experts", "application/x-ndjson", format!("{second}\n"));
    server
        .admin(server.client.patch(server.url("/v1/admin/experts/imported-once")))
        .header("if-match", "\"2\"")
        .json(&json!({"bio": null, "phone": "+258 21 000 000"}))
        .send()
        .unwrap();
    let entries = audit_entries(&server, "experts/imported-once");
    let actions = actions_of(&entries);
    assert_eq!(actions, vec!["import", "import", "update"]);
    let value_of = |entry: &Value, field: &str| {
        entry["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|change| change["field"] == field)
            .map(|change| (change["before"].clone(), change["after"].clone()))
    };
    assert_eq!(value_of(&entries[0], "city"), Some((Value::Null, json!("Maputo"))));
    assert_eq!(
        value_of(&entries[0], "bio"),
        Some((Value::Null, json!("Drainage engineer.")))
    );
    assert_eq!(value_of(&entries[0], "phone"), None, "not set at first");
    assert_eq!(value_of(&entries[1], "city"), Some((json!("Maputo"), json!("Beira"))));
    assert_eq!(
        value_of(&entries[2], "bio"),
        Some((json!("Drainage engineer."), Value::Null))
    );
}

fn files_containing(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(path) = pending.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).unwrap() {
                pending.push(entry.unwrap().path());
            }
        } else if let Ok(bytes) = std::fs::read(&path)
            && bytes.windows(needle.len()).any(|window| window == needle)
        {
            found.push(path.display().to_string());
        }
    }
    found
}

#[test]
fn after_erasure_a_unique_word_from_the_profile_appears_in_no_file_under_the_data_directory() {
    let server = fresh();
    let unique = "Qwxvoltrazine";
    let mut body = expert_body("to-be-erased", &format!("Ilse {unique}"), "Kiel", "DE");
    body["expertise"] = json!(format!(
        "Harbour flood gates and the {unique} method for dyke monitoring."
    ));
    body["email"] = json!("ilse.erasure@example.org");
    server.admin_post("/v1/admin/experts", &body);
    for number in 0..30 {
        server.admin_post(
            "/v1/admin/experts",
            &expert_body(
                &format!("neighbour-{number}"),
                &format!("Neighbour {number}"),
                "Kiel",
                "DE",
            ),
        );
    }
    let contact = server.post_json("/v1/contact-requests", &json!({"expert_id": "to-be-erased", "name": "Pat", "email": "pat@example.org", "message": format!("About the {unique} method")}));
    assert_eq!(contact.status(), 202);
    assert_eq!(server.get_json(&format!("/v1/experts?q={unique}"))["total"], 1);
    let lower = unique.to_lowercase();
    let before = [
        files_containing(server.data_dir(), unique.as_bytes()),
        files_containing(server.data_dir(), lower.as_bytes()),
    ]
    .concat();
    assert!(
        !before.is_empty(),
        "the index holds the word before erasure (else this test proves nothing)"
    );

    let erased = server
        .admin(
            server
                .client
                .delete(server.url("/v1/admin/experts/to-be-erased?erase=true")),
        )
        .header("if-match", "\"1\"")
        .send()
        .unwrap();
    assert_eq!(erased.status(), 204);
    for needle in [unique.to_string(), lower, "ilse.erasure".to_string()] {
        let found = files_containing(server.data_dir(), needle.as_bytes());
        assert!(found.is_empty(), "'{needle}' still in {found:?}");
    }
    assert_eq!(server.get_json(&format!("/v1/experts?q={unique}"))["total"], 0);
    let audit: Value = server
        .admin_get("/v1/admin/audit?entity=experts/to-be-erased")
        .json()
        .unwrap();
    let entries = audit["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{audit}");
    assert_eq!(entries[0]["action"], "erase");
    assert_eq!(entries[0]["changes"], json!([]));
    let requests: Value = server.admin_get("/v1/admin/contact-requests").json().unwrap();
    assert!(!requests.to_string().contains("to-be-erased"));
    assert_eq!(
        server.get_json("/v1/experts?q=neighbour&limit=1")["total"],
        30,
        "the neighbours survive the segment rewrite"
    );
}

#[test]
fn contact_requests_are_stored_for_staff_and_rate_limited() {
    let server = TestServer::start(ServerOptions {
        limits: citypeers::http::Limits::new(100, 2),
        ..ServerOptions::default()
    });
    server.admin_post(
        "/v1/admin/experts",
        &expert_body("ivo-petrov", "Ivo Petrov", "Bonn", "DE"),
    );
    let request = json!({"expert_id": "ivo-petrov", "name": "Sara Ruiz", "email": "sara@example.org", "organisation": "Alcaldía de Medellín", "message": "Could Ivo share the cycling plan?"});
    assert_eq!(server.post_json("/v1/contact-requests", &request).status(), 202);
    assert_eq!(server.post_json("/v1/contact-requests", &request).status(), 202);
    let limited = server.post_json("/v1/contact-requests", &request);
    assert_eq!(limited.status(), 429);
    assert!(limited.headers().get("retry-after").is_some());
    let listed: Value = server.admin_get("/v1/admin/contact-requests").json().unwrap();
    let requests = listed["requests"].as_array().unwrap();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0]["organisation"], "Alcaldía de Medellín");
    assert_eq!(requests[0]["expert_id"], "ivo-petrov");
}

#[test]
fn cases_have_the_same_editing_rules() {
    let server = fresh();
    let case = json!({"title": "Flood wall in Hamburg", "summary": "Mobile flood walls along the Elbe protect the HafenCity.", "city": "Hamburg", "country": "DE", "topics": ["flood-risk"], "year": 2019});
    let created = server.admin_post("/v1/admin/cases", &case);
    assert_eq!(created.status(), 201);
    let created: Value = created.json().unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("c-"));
    assert_eq!(
        created["language"], "en",
        "the language of the text is detected when not given"
    );
    let put = server.admin(server.client.put(server.url(&format!("/v1/admin/cases/{id}")))).header("if-match", "\"1\"").json(&json!({"title": "Flood walls in Hamburg", "summary": "Mobile flood walls.", "city": "Hamburg", "country": "DE", "status": "published", "year": 1900})).send().unwrap();
    assert_error(put, 422, "validation_failed");
    let put = server.admin(server.client.put(server.url(&format!("/v1/admin/cases/{id}")))).header("if-match", "\"1\"").json(&json!({"title": "Flood walls in Hamburg", "summary": "Mobile flood walls.", "city": "Hamburg", "country": "DE", "status": "published"})).send().unwrap();
    assert_eq!(put.status(), 200);
    assert_eq!(
        server.get_json(&format!("/v1/cases/{id}"))["title"],
        "Flood walls in Hamburg"
    );
    let stale = server
        .admin(
            server
                .client
                .request(Method::DELETE, server.url(&format!("/v1/admin/cases/{id}"))),
        )
        .header("if-match", "\"1\"")
        .send()
        .unwrap();
    assert_error(stale, 412, "precondition_failed");
}

#[test]
fn erasing_a_person_also_erases_the_duplicates_merged_into_them_and_their_redirects() {
    let server = fresh();
    server.admin_post(
        "/v1/admin/experts",
        &expert_body("kept-person", "Nadia Belkacem", "Oran", "DZ"),
    );
    server.admin_post(
        "/v1/admin/experts",
        &expert_body("old-duplicate", "Dr. Nadia Belkacem", "Oran", "DZ"),
    );
    assert_eq!(
        server
            .admin_post("/v1/admin/experts/old-duplicate/merge", &json!({"into": "kept-person"}))
            .status(),
        200
    );
    let current: Value = server.admin_get("/v1/admin/experts/kept-person").json().unwrap();
    let version = format!("\"{}\"", current["version"]);
    let erased = server
        .admin(
            server
                .client
                .delete(server.url("/v1/admin/experts/kept-person?erase=true")),
        )
        .header("if-match", version)
        .send()
        .unwrap();
    assert_eq!(erased.status(), 204);
    assert_eq!(
        server.admin_get("/v1/admin/experts/old-duplicate").status(),
        404,
        "the merged duplicate is the same person"
    );
    let no_redirects = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    assert_eq!(
        no_redirects
            .get(server.url("/v1/experts/old-duplicate"))
            .send()
            .unwrap()
            .status(),
        404
    );
    let audit: Value = server
        .admin_get("/v1/admin/audit?entity=experts/old-duplicate")
        .json()
        .unwrap();
    assert_eq!(audit["entries"].as_array().unwrap().len(), 1);
    assert_eq!(audit["entries"][0]["action"], "erase");
}

#[test]
fn readiness_stays_ready_after_writes_that_change_no_record() {
    let server = fresh();
    server.admin_post(
        "/v1/admin/experts",
        &expert_body("ready-check", "Tomás Ruiz", "Lima", "PE"),
    );
    let contact = server.post_json(
        "/v1/contact-requests",
        &json!({"expert_id": "ready-check", "name": "A", "email": "a@example.org", "message": "Hello"}),
    );
    assert_eq!(contact.status(), 202);
    let ready = server.get("/readyz");
    assert_eq!(
        ready.status(),
        200,
        "a contact request does not make the index look behind"
    );
}

fn cache_status(response: &reqwest::blocking::Response) -> Option<String> {
    response
        .headers()
        .get("x-citypeers-cache")
        .map(|value| value.to_str().unwrap().to_string())
}

#[test]
fn repeated_public_answers_come_from_the_cache_until_the_data_changes() {
    let server = fresh();
    let mut body = expert_body("olu-ade", "Olu Ade", "Lagos", "NG");
    body["expertise"] = json!("Bus lanes and cycling, planned with the Okonjo method.");
    server.admin_post("/v1/admin/experts", &body);
    let search = "/v1/experts?q=Okonjo";
    let first = server.get(search);
    assert_eq!(cache_status(&first).as_deref(), Some("miss"));
    let first_etag = etag(&first);
    let first_body = first.text().unwrap();
    let second = server.get(search);
    assert_eq!(cache_status(&second).as_deref(), Some("hit"));
    assert_eq!(etag(&second), first_etag);
    assert_eq!(second.text().unwrap(), first_body);

    let challenge = json!({"challenge": "safe cycling lanes for school children", "languages": ["en"]});
    let computed = server.post_json("/v1/match", &challenge);
    assert_eq!(cache_status(&computed).as_deref(), Some("miss"));
    let computed: Value = computed.json().unwrap();
    let repeated = server.post_json("/v1/match", &challenge);
    assert_eq!(cache_status(&repeated).as_deref(), Some("hit"));
    assert_eq!(repeated.json::<Value>().unwrap(), computed);
    assert_eq!(computed["matches"][0]["expert"]["id"], "olu-ade");
    // The same bytes declared as something other than JSON are still refused.
    let as_text = server
        .client
        .post(server.url("/v1/match"))
        .header("content-type", "text/plain")
        .body(challenge.to_string())
        .send()
        .unwrap();
    assert_error(as_text, 415, "unsupported_media_type");
    let other = server.post_json("/v1/match", &json!({"challenge": "cycling", "languages": ["en"]}));
    assert_eq!(cache_status(&other).as_deref(), Some("miss"));

    // Errors are computed every time.
    for _ in 0..2 {
        let refused = server.get("/v1/experts?limit=1000");
        assert_eq!(cache_status(&refused), None);
        assert_error(refused, 400, "bad_request");
    }

    // A write changes the answers at once.
    let patched = server
        .admin(server.client.patch(server.url("/v1/admin/experts/olu-ade")))
        .header("if-match", "\"1\"")
        .json(&json!({"expertise": "Landfill gas capture and composting."}))
        .send()
        .unwrap();
    assert_eq!(patched.status(), 200);
    let after = server.get(search);
    assert_eq!(cache_status(&after).as_deref(), Some("miss"));
    assert_ne!(etag(&after), first_etag);
    assert_eq!(after.json::<Value>().unwrap()["total"], 0);
    let after_match = server.post_json("/v1/match", &challenge);
    assert_eq!(cache_status(&after_match).as_deref(), Some("miss"));
}

#[test]
fn the_response_cache_can_be_turned_off() {
    let server = TestServer::start(ServerOptions {
        limits: citypeers::http::Limits::new(100, 100).with_response_cache_mib(0),
        ..ServerOptions::default()
    });
    server.admin_post("/v1/admin/experts", &expert_body("olu-ade", "Olu Ade", "Lagos", "NG"));
    for _ in 0..2 {
        let answer = server.get("/v1/experts?q=cycling");
        assert_eq!(cache_status(&answer), None);
        assert_eq!(answer.json::<Value>().unwrap()["total"], 1);
    }
}

#[test]
fn records_of_equal_date_keep_their_order_when_the_index_is_rebuilt() {
    let data = tempfile::tempdir().unwrap();
    let server = TestServer::start_in(data.path(), ServerOptions::default());
    // One date for all, imported in the reverse of their ids' order (a rebuild reads them in
    // the store's order).
    let rows: String = (0..40)
        .rev()
        .map(|number| {
            let mut expert = expert_body(&format!("tie-{number:02}"), "Lea Brandt", "Kiel", "DE");
            expert["created_at"] = json!("2026-01-01T00:00:00Z");
            expert["updated_at"] = json!("2026-01-01T00:00:00Z");
            format!("{expert}\n")
        })
        .collect();
    let report = import(&server, "experts", "application/x-ndjson", rows);
    assert_eq!(report["created"], 40, "{report}");
    let listed = |server: &TestServer| -> Vec<String> {
        let page: Value = server.admin_get("/v1/admin/experts?limit=40").json().unwrap();
        crate::helpers::ids_of_hits(&page, "expert")
    };
    let before = listed(&server);
    assert_eq!(before.len(), 40);
    server.stop();
    std::fs::remove_dir_all(data.path().join("index")).unwrap();
    let rebuilt = TestServer::start_in(data.path(), ServerOptions::default());
    assert_eq!(listed(&rebuilt), before, "pages of equal-date records stay the same");
    rebuilt.stop();
    crate::helpers::postgres::drop_database_of(data.path());
}

#[test]
fn a_listing_newest_first_shows_each_live_record_once_with_exact_counts_after_edits_and_deletions() {
    let server = fresh();
    let countries = ["DE", "KE", "BR"];
    // Twelve dates shared by three records each, so ties are ordered too.
    let rows: String = (0..36)
        .map(|number| {
            let country = countries[number % 3];
            let mut expert = expert_body(&format!("pg-{number:02}"), "Lea Brandt", "Kiel", country);
            let date = format!("2026-01-{:02}T00:00:00Z", number / 3 + 1);
            expert["created_at"] = json!(date);
            expert["updated_at"] = json!(date);
            format!("{expert}\n")
        })
        .collect();
    assert_eq!(import(&server, "experts", "application/x-ndjson", rows)["created"], 36);
    let edited = ["pg-03", "pg-07", "pg-11", "pg-15", "pg-19", "pg-23"];
    let deleted = ["pg-01", "pg-05", "pg-09", "pg-13", "pg-30"];
    for (id, method) in edited
        .iter()
        .map(|id| (id, Method::PATCH))
        .chain(deleted.iter().map(|id| (id, Method::DELETE)))
    {
        let version = etag(&server.admin_get(&format!("/v1/admin/experts/{id}")));
        let request = server
            .client
            .request(method, server.url(&format!("/v1/admin/experts/{id}")));
        let response = server
            .admin(request)
            .header("if-match", version)
            .header("content-type", "application/merge-patch+json")
            .body(json!({"position": "Head of Mobility"}).to_string())
            .send()
            .unwrap();
        assert!(response.status().is_success(), "{id}: {}", response.status());
    }
    let live: Vec<String> = (0..36)
        .map(|number| format!("pg-{number:02}"))
        .filter(|id| !deleted.contains(&id.as_str()))
        .collect();
    let whole = server.get_json("/v1/experts?limit=100");
    let listed = crate::helpers::ids_of_hits(&whole, "expert");
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(sorted, live, "every live record once, no deleted one");
    assert_eq!(whole["total"], live.len());
    let dates: Vec<&str> = whole["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| hit["expert"]["updated_at"].as_str().unwrap())
        .collect();
    // The index orders by the second; records of the same second are ties.
    assert!(
        dates.windows(2).all(|pair| pair[0][..19] >= pair[1][..19]),
        "newest first: {dates:?}"
    );
    let mut newest: Vec<String> = listed[..edited.len()].to_vec();
    newest.sort();
    assert_eq!(newest, edited, "the edited records are the newest");
    let paged: Vec<String> = (0..live.len())
        .step_by(4)
        .flat_map(|offset| {
            crate::helpers::ids_of_hits(
                &server.get_json(&format!("/v1/experts?limit=4&offset={offset}")),
                "expert",
            )
        })
        .collect();
    assert_eq!(paged, listed, "pages of four walk the same order");
    for (position, country) in countries.iter().enumerate() {
        let expected = live
            .iter()
            .filter(|id| id[3..].parse::<usize>().unwrap() % 3 == position)
            .count();
        assert_eq!(whole["facets"]["country"][country], expected, "{country}");
        let filtered = server.get_json(&format!("/v1/experts?country={country}&limit=100"));
        assert_eq!(filtered["total"], expected, "{country}");
        assert_eq!(filtered["hits"].as_array().unwrap().len(), expected, "{country}");
        assert_eq!(
            filtered["facets"]["country"], whole["facets"]["country"],
            "a facet ignores its own filter"
        );
    }
    server.stop();
}
