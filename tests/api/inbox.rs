//! The contact-request inbox: staff move requests from new to forwarded to closed with a
//! note, each change is kept as the request's audit trail, and erasure takes them along.

use serde_json::{Value, json};

use crate::helpers::{ServerOptions, TestServer, assert_error, expert_body};

fn server_with_a_request() -> (TestServer, String) {
    let server = TestServer::start(ServerOptions::default());
    let created = server.admin_post(
        "/v1/admin/experts",
        &expert_body("ivo-petrov", "Ivo Petrov", "Bonn", "DE"),
    );
    assert_eq!(created.status(), 201);
    let request = json!({"expert_id": "ivo-petrov", "name": "Sara Ruiz", "email": "sara@example.org", "message": "Could Ivo share the cycling plan?"});
    assert_eq!(server.post_json("/v1/contact-requests", &request).status(), 202);
    let listed: Value = server.admin_get("/v1/admin/contact-requests").json().unwrap();
    let id = listed["requests"][0]["id"].as_str().unwrap().to_string();
    (server, id)
}

fn patch(server: &TestServer, id: &str, body: &Value) -> reqwest::blocking::Response {
    server
        .admin(
            server
                .client
                .patch(server.url(&format!("/v1/admin/contact-requests/{id}"))),
        )
        .json(body)
        .send()
        .unwrap()
}

#[test]
fn a_new_request_moves_to_forwarded_and_closed_with_notes_and_a_history() {
    let (server, id) = server_with_a_request();
    let listed: Value = server.admin_get("/v1/admin/contact-requests").json().unwrap();
    assert_eq!(listed["requests"][0]["status"], "new");
    assert_eq!(listed["requests"][0]["history"], json!([]));

    let forwarded = patch(
        &server,
        &id,
        &json!({"status": "forwarded", "note": "sent to Ivo by e-mail"}),
    );
    assert_eq!(forwarded.status(), 200);
    assert_eq!(forwarded.headers()["cache-control"], "no-store");
    let forwarded: Value = forwarded.json().unwrap();
    assert_eq!(forwarded["status"], "forwarded");
    assert_eq!(forwarded["note"], "sent to Ivo by e-mail");
    let closed: Value = patch(&server, &id, &json!({"status": "closed"})).json().unwrap();
    assert_eq!(closed["status"], "closed");
    assert_eq!(
        closed["note"], "sent to Ivo by e-mail",
        "a status change keeps the note"
    );
    assert_eq!(closed["history"].as_array().unwrap().len(), 2);
    assert_eq!(closed["history"][0]["actor"], "admin");

    let only_closed: Value = server
        .admin_get("/v1/admin/contact-requests?status=closed")
        .json()
        .unwrap();
    assert_eq!(only_closed["requests"].as_array().unwrap().len(), 1);
    let only_new: Value = server
        .admin_get("/v1/admin/contact-requests?status=new")
        .json()
        .unwrap();
    assert_eq!(only_new["requests"], json!([]));

    let audit: Value = server
        .admin_get(&format!("/v1/admin/audit?entity=contact-requests/{id}"))
        .json()
        .unwrap();
    let entries = audit["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3, "{audit}");
    assert_eq!(
        entries[1]["changes"][0],
        json!({"field": "status", "before": "new", "after": "forwarded"})
    );
    assert_eq!(entries[1]["changes"][1]["after"], "sent to Ivo by e-mail");
    assert_eq!(
        entries[2]["changes"],
        json!([{"field": "status", "before": "forwarded", "after": "closed"}])
    );
}

#[test]
fn bad_changes_are_refused_with_the_field_named() {
    let (server, id) = server_with_a_request();
    let body = assert_error(
        patch(&server, &id, &json!({"status": "done"})),
        422,
        "validation_failed",
    );
    assert_eq!(body["error"]["fields"][0]["field"], "status");
    assert_error(patch(&server, &id, &json!({})), 422, "validation_failed");
    assert_error(patch(&server, &id, &json!({"colour": "red"})), 422, "validation_failed");
    assert_error(
        patch(&server, &id, &json!({"note": "x".repeat(2_001)})),
        422,
        "validation_failed",
    );
    assert_error(
        patch(&server, "cr-999999", &json!({"status": "closed"})),
        404,
        "not_found",
    );
    let anonymous = server
        .client
        .patch(server.url(&format!("/v1/admin/contact-requests/{id}")))
        .json(&json!({"status": "closed"}))
        .send()
        .unwrap();
    assert_error(anonymous, 401, "unauthorized");
}

#[test]
fn erasing_the_expert_erases_the_requests_about_them_and_their_history() {
    let (server, id) = server_with_a_request();
    assert_eq!(patch(&server, &id, &json!({"status": "forwarded"})).status(), 200);
    let erased = server
        .admin(
            server
                .client
                .delete(server.url("/v1/admin/experts/ivo-petrov?erase=true")),
        )
        .header("if-match", "*")
        .send()
        .unwrap();
    assert_eq!(erased.status(), 204);
    let listed: Value = server.admin_get("/v1/admin/contact-requests").json().unwrap();
    assert_eq!(listed["requests"], json!([]));
    assert_error(patch(&server, &id, &json!({"status": "closed"})), 404, "not_found");
    assert_error(
        server.admin_get(&format!("/v1/admin/audit?entity=contact-requests/{id}")),
        404,
        "not_found",
    );
}
