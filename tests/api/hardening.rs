//! What no client can do to the service: hold connections with slow or idle sockets, stall a
//! body, or get an answer outside the contract's error shape.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use citypeers::http::{ConnectionLimits, Limits};
use serde_json::Value;

use crate::helpers::{ServerOptions, TestServer};

fn server_with_short_timeouts(max_connections: usize) -> TestServer {
    let connections = ConnectionLimits {
        header_read: Duration::from_secs(1),
        body_read: Duration::from_secs(1),
        idle: Duration::from_secs(3),
        max_connections,
    };
    TestServer::start(ServerOptions {
        limits: Limits::new(1_000, 1_000).with_connection_limits(connections),
        ..ServerOptions::default()
    })
}

fn connect(server: &TestServer) -> TcpStream {
    let address = server.base.trim_start_matches("http://");
    let stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    stream
}

/// Reads until the server closes the connection; returns what it sent.
fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => received.extend_from_slice(&buffer[..read]),
            Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(error) => panic!("the server did not close the connection: {error}"),
        }
    }
    String::from_utf8_lossy(&received).into_owned()
}

#[test]
fn slow_and_idle_connections_are_cut_and_readyz_keeps_answering() {
    let server = server_with_short_timeouts(16);
    let started = Instant::now();
    let mut held = Vec::new();
    for number in 0..40 {
        let mut stream = connect(&server);
        // Half send a head that never ends (slowloris); half connect and stay silent.
        if number % 2 == 0 {
            stream
                .write_all(b"GET /v1/topics HTTP/1.1\r\nHost: citypeers\r\nX-Slow: ")
                .unwrap();
        }
        held.push(stream);
    }
    // More connections than the cap are held, yet the service answers once the slow ones
    // are cut.
    let ready = server
        .client
        .get(server.url("/readyz"))
        .timeout(Duration::from_secs(20))
        .send()
        .unwrap();
    assert_eq!(ready.status(), 200);
    for mut stream in held {
        let answer = read_until_closed(&mut stream);
        assert!(!answer.contains("200 OK"), "a slow request was served: {answer}");
    }
    assert!(
        started.elapsed() < Duration::from_secs(25),
        "the connections were held for {:?}",
        started.elapsed()
    );
}

#[test]
fn a_keep_alive_connection_may_rest_between_requests_for_the_idle_timeout() {
    let server = server_with_short_timeouts(16);
    let mut stream = connect(&server);
    let request = b"GET /healthz HTTP/1.1\r\nHost: citypeers\r\n\r\n";
    stream.write_all(request).unwrap();
    let mut buffer = [0u8; 4096];
    let read = stream.read(&mut buffer).unwrap();
    assert!(String::from_utf8_lossy(&buffer[..read]).starts_with("HTTP/1.1 200"));
    // Longer than the header timeout, shorter than the idle timeout: still open.
    std::thread::sleep(Duration::from_millis(1_800));
    stream.write_all(request).unwrap();
    let read = stream.read(&mut buffer).unwrap();
    assert!(String::from_utf8_lossy(&buffer[..read]).starts_with("HTTP/1.1 200"));
    // Beyond the idle timeout the server closes it.
    let closed_after = Instant::now();
    assert_eq!(read_until_closed(&mut stream), "");
    assert!(closed_after.elapsed() >= Duration::from_secs(2));
}

#[test]
fn a_body_that_stops_arriving_gets_408_in_the_error_shape() {
    let server = server_with_short_timeouts(16);
    let mut stream = connect(&server);
    stream
        .write_all(
            b"POST /v1/match HTTP/1.1\r\nHost: citypeers\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"challenge\": \"flo",
        )
        .unwrap();
    let answer = read_until_closed(&mut stream);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    let body: Value = serde_json::from_str(body.trim()).unwrap_or_else(|_| panic!("not JSON: {answer}"));
    assert_eq!(body["error"]["code"], "request_timeout");
}

/// Sends raw bytes and returns the status line and the parsed JSON body of the answer.
fn raw_exchange(server: &TestServer, request: &[u8]) -> (String, Value) {
    let mut stream = connect(server);
    stream.write_all(request).unwrap();
    let answer = read_until_closed(&mut stream);
    let status_line = answer.lines().next().unwrap_or_default().to_string();
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    let body = serde_json::from_str(body.trim()).unwrap_or_else(|_| panic!("not JSON: {answer}"));
    (status_line, body)
}

#[test]
fn requests_too_large_or_malformed_to_parse_still_get_the_error_shape() {
    let server = TestServer::start(ServerOptions::default());
    let long_uri = format!("GET /v1/experts?q={} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(70_000));
    let (status, body) = raw_exchange(&server, long_uri.as_bytes());
    assert!(status.starts_with("HTTP/1.1 414"), "{status}");
    assert_eq!(body["error"]["code"], "uri_too_long");

    let mut many_headers = String::from("GET /v1/topics HTTP/1.1\r\nHost: x\r\n");
    for number in 0..200 {
        many_headers.push_str(&format!("X-Header-{number}: {}\r\n", "v".repeat(100)));
    }
    many_headers.push_str("\r\n");
    let (status, body) = raw_exchange(&server, many_headers.as_bytes());
    assert!(status.starts_with("HTTP/1.1 431"), "{status}");
    assert_eq!(body["error"]["code"], "headers_too_large");

    let (status, body) = raw_exchange(&server, b"HELLO WORLD\r\n\r\n");
    assert!(status.starts_with("HTTP/1.1 400"), "{status}");
    assert_eq!(body["error"]["code"], "bad_request");
}

#[test]
fn an_export_compressed_for_the_client_is_complete() {
    let server = crate::helpers::demo();
    for kind in ["experts", "cases"] {
        let path = format!("/v1/admin/export?kind={kind}");
        let plain = server.admin_get(&path).text().unwrap();
        assert!(plain.lines().count() > 100, "{kind}");
        let compressed = server
            .admin(server.client.get(server.url(&path)))
            .header("accept-encoding", "gzip")
            .send()
            .unwrap();
        assert_eq!(compressed.headers()["content-encoding"], "gzip");
        let bytes = compressed.bytes().unwrap();
        let mut decoded = String::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut decoded)
            .unwrap();
        assert_eq!(decoded, plain, "{kind}");
    }
}

#[test]
fn admin_answers_with_personal_data_are_never_stored_by_caches() {
    let server = crate::helpers::demo();
    for path in [
        "/v1/admin/experts?q=drainage",
        "/v1/admin/experts/amadou-ndiaye",
        "/v1/admin/export?kind=experts",
        "/v1/admin/duplicates",
        "/v1/admin/audit?entity=experts/amadou-ndiaye",
        "/v1/admin/contact-requests",
        "/v1/admin/cases?limit=1",
        "/v1/admin/nothing-here",
    ] {
        let response = server.admin_get(path);
        assert_eq!(
            response
                .headers()
                .get("cache-control")
                .map(|value| value.to_str().unwrap()),
            Some("no-store"),
            "{path}"
        );
    }
}

#[test]
fn anything_under_admin_without_a_token_is_401_even_where_nothing_is() {
    let server = crate::helpers::demo();
    for (method, path) in [
        ("GET", "/v1/admin/nothing-here"),
        ("GET", "/v1/admin/"),
        ("POST", "/v1/admin/experts/x/unknown"),
        ("PUT", "/v1/admin/import"),
        ("GET", "/v1/admin/experts"),
    ] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let response = server.client.request(method, server.url(path)).send().unwrap();
        crate::helpers::assert_error(response, 401, "unauthorized");
    }
    let found = server.admin_get("/v1/admin/nothing-here");
    crate::helpers::assert_error(found, 404, "not_found");
}

#[test]
fn invalid_utf8_in_an_import_rejects_that_record_only() {
    let server = TestServer::start(ServerOptions::default());
    let import = |content_type: &str, body: Vec<u8>| -> Value {
        let response = server
            .admin(server.client.post(server.url("/v1/admin/import?kind=experts")))
            .header("content-type", content_type)
            .body(body)
            .send()
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json().unwrap()
    };
    let mut lines =
        br#"{"id": "good-one", "name": "Ana Lima", "city": "Recife", "country": "BR", "languages": ["pt"]}"#.to_vec();
    lines.extend_from_slice(b"\n{\"id\": \"bad-one\", \"name\": \"Jo\xff\xfeo\", \"city\": \"Recife\", \"country\": \"BR\", \"languages\": [\"pt\"]}\n");
    let report = import("application/x-ndjson", lines);
    assert_eq!(report["created"], 1, "{report}");
    assert_eq!(report["rejected"][0]["line"], 2, "{report}");

    let csv =
        b"id,name,city,country,languages\ncsv-good,Ana Lima,Recife,BR,pt\ncsv-bad,Jo\xff\xfeo,Recife,BR,pt\n".to_vec();
    let report = import("text/csv", csv);
    assert_eq!(report["created"], 1, "{report}");
    assert_eq!(report["rejected"][0]["line"], 3, "{report}");

    let mut array =
        br#"[{"id": "array-good", "name": "Ana Lima", "city": "Recife", "country": "BR", "languages": ["pt"]}, "#
            .to_vec();
    array.extend_from_slice(b"{\"id\": \"array-bad\", \"name\": \"Jo\xff\xfeo\", \"city\": \"Recife\", \"country\": \"BR\", \"languages\": [\"pt\"]}]");
    let response = server
        .admin(server.client.post(server.url("/v1/admin/import?kind=experts")))
        .header("content-type", "application/json")
        .body(array)
        .send()
        .unwrap();
    assert!(matches!(response.status().as_u16(), 200 | 400), "{}", response.status());
    let export = server.admin_get("/v1/admin/export?kind=experts").text().unwrap();
    assert!(
        !export.contains('\u{FFFD}'),
        "a replacement character was stored: {export}"
    );
    assert!(!export.contains("bad-one") && !export.contains("csv-bad") && !export.contains("array-bad"));
}

#[test]
fn a_query_of_only_unsearchable_words_finds_nothing_instead_of_everything() {
    let server = TestServer::start(ServerOptions::default());
    let mut expert = crate::helpers::expert_body("long-words", "Greta Lang", "Hamburg", "DE");
    expert["expertise"] = Value::from("Advises on the Donaudampfschifffahrtsgesellschaftskapitänsmütze regulation.");
    assert_eq!(server.admin_post("/v1/admin/experts", &expert).status(), 201);
    let found = server.get_json("/v1/experts?q=Donaudampfschifffahrtsgesellschaftskapit%C3%A4nsm%C3%BCtze");
    assert_eq!(found["total"], 1, "a 45-letter word is a word");
    let nothing = server.get_json(&format!("/v1/experts?q={}", "x".repeat(45)));
    assert_eq!(nothing["total"], 0);
    let too_long = server.get_json(&format!("/v1/experts?q={}", "y".repeat(300)));
    assert_eq!(too_long["total"], 0, "an unsearchable word does not become a browse");
    assert_eq!(
        server.get_json("/v1/experts")["total"],
        1,
        "browsing still lists everyone"
    );
}

#[test]
fn public_cases_name_only_published_experts() {
    let server = TestServer::start(ServerOptions::default());
    for (id, status) in [
        ("shown-expert", "published"),
        ("draft-expert", "draft"),
        ("old-expert", "archived"),
    ] {
        let mut body = crate::helpers::expert_body(id, id, "Lyon", "FR");
        body["status"] = Value::from(status);
        assert_eq!(server.admin_post("/v1/admin/experts", &body).status(), 201);
    }
    let case = serde_json::json!({"id": "tram-lyon", "title": "Tram in Lyon", "summary": "Tram priority at signals.", "city": "Lyon", "country": "FR", "topics": ["mobility"], "experts": ["shown-expert", "draft-expert", "old-expert", "not-yet-imported"], "status": "published"});
    assert_eq!(server.admin_post("/v1/admin/cases", &case).status(), 201);
    let public = server.get_json("/v1/cases/tram-lyon");
    assert_eq!(public["experts"], serde_json::json!(["shown-expert"]));
    let listed = server.get_json("/v1/cases?q=tram");
    assert_eq!(
        listed["hits"][0]["case"]["experts"],
        serde_json::json!(["shown-expert"])
    );
    let of_expert = server.get_json("/v1/experts/shown-expert/cases");
    assert!(!of_expert.to_string().contains("draft-expert"), "{of_expert}");
    let admin: Value = server.admin_get("/v1/admin/cases/tram-lyon").json().unwrap();
    assert_eq!(admin["experts"].as_array().unwrap().len(), 4, "staff see every link");
}

#[test]
fn bodies_are_read_as_the_openapi_document_describes_them() {
    let server = TestServer::start(ServerOptions::default());
    let mut body = crate::helpers::expert_body("", "Ana Lima", "Recife", "BR");
    let refused = server.admin_post("/v1/admin/experts", &body);
    let error = crate::helpers::assert_error(refused, 422, "validation_failed");
    assert_eq!(
        error["error"]["fields"][0]["field"], "id",
        "an empty id is not an omitted one"
    );
    body["id"] = Value::from("ana-lima");
    body["email"] = Value::from("");
    let refused = server.admin_post("/v1/admin/experts", &body);
    let error = crate::helpers::assert_error(refused, 422, "validation_failed");
    assert_eq!(error["error"]["fields"][0]["field"], "email");
    body["email"] = Value::Null;
    body["available"] = Value::from("true");
    crate::helpers::assert_error(server.admin_post("/v1/admin/experts", &body), 422, "validation_failed");
    body["available"] = Value::from(true);
    assert_eq!(server.admin_post("/v1/admin/experts", &body).status(), 201);

    let patch = |if_match: &str, patch: Value| {
        server
            .admin(server.client.patch(server.url("/v1/admin/experts/ana-lima")))
            .header("if-match", if_match)
            .header("content-type", "application/merge-patch+json")
            .json(&patch)
            .send()
            .unwrap()
    };
    // An entity tag that names no version matches nothing: 412, as for a stale one.
    crate::helpers::assert_error(
        patch("\"abc\"", serde_json::json!({"city": "Olinda"})),
        412,
        "precondition_failed",
    );
    crate::helpers::assert_error(
        patch("\"7\", \"9\"", serde_json::json!({"city": "Olinda"})),
        412,
        "precondition_failed",
    );
    // An invalid body is 422 whatever version it was meant for.
    crate::helpers::assert_error(
        patch("\"7\"", serde_json::json!({"status": "gone"})),
        422,
        "validation_failed",
    );
    crate::helpers::assert_error(patch("\"1\"", serde_json::json!({"bio": ""})), 422, "validation_failed");
    assert_eq!(
        patch("\"5\", W/\"1\"", serde_json::json!({"city": "Olinda"})).status(),
        200
    );

    let matched = server.post_json("/v1/match", &serde_json::json!({"challenge": "flood", "country": ""}));
    crate::helpers::assert_error(matched, 422, "validation_failed");
}
