//! Pages for people: public profile and case pages (published records only, localized, no
//! private field), the friendly 404, redirects of merged records, the staff desk and the
//! files and strings the pages load.

use serde_json::json;

use crate::helpers::{ServerOptions, TestServer, demo, expert_body};

fn page(server: &TestServer, path: &str, accept_language: Option<&str>) -> (u16, String, reqwest::header::HeaderMap) {
    let mut request = server.client.get(server.url(path));
    if let Some(languages) = accept_language {
        request = request.header("accept-language", languages);
    }
    let response = request.send().unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, response.text().unwrap(), headers)
}

#[test]
fn a_published_profile_is_a_localized_html_page_without_private_fields() {
    let (status, html, headers) = page(demo(), "/experts/amadou-ndiaye?lang=ar", None);
    assert_eq!(status, 200);
    assert!(headers["content-type"].to_str().unwrap().starts_with("text/html"));
    assert_eq!(headers["content-language"], "ar");
    assert!(html.contains("lang=\"ar\""), "page language");
    assert!(html.contains("dir=\"rtl\""), "Arabic reads right to left");
    assert!(html.contains("Amadou Ndiaye"));
    assert!(html.contains("rel=\"alternate\""), "the JSON twin is linked");
    assert!(headers["link"].to_str().unwrap().contains("/v1/experts/amadou-ndiaye"));
    assert!(
        html.contains("/cases/early-warning-saint-louis"),
        "their case is linked"
    );
    let admin: serde_json::Value = demo().admin_get("/v1/admin/experts/amadou-ndiaye").json().unwrap();
    for private in ["email", "phone"] {
        if let Some(value) = admin[private].as_str() {
            assert!(!html.contains(value), "{private} leaked into the page");
        }
    }
}

#[test]
fn the_page_language_follows_accept_language_when_no_lang_is_given() {
    let (status, html, headers) = page(demo(), "/experts/amadou-ndiaye", Some("de-DE,de;q=0.9,en;q=0.5"));
    assert_eq!(status, 200);
    assert_eq!(headers["content-language"], "de");
    assert!(html.contains("lang=\"de\""));
    let (_, english, _) = page(demo(), "/experts/amadou-ndiaye", Some("ja"));
    assert!(
        english.contains("lang=\"en\""),
        "unsupported languages fall back to English"
    );
}

#[test]
fn a_case_page_links_the_published_experts_who_can_speak_about_it() {
    let (status, html, _) = page(demo(), "/cases/early-warning-saint-louis?lang=fr", None);
    assert_eq!(status, 200);
    assert!(html.contains("/experts/amadou-ndiaye"));
    assert!(html.contains("lang=\"fr\""));
}

#[test]
fn drafts_unknown_ids_and_unknown_languages_get_a_friendly_html_404() {
    let server = TestServer::start(ServerOptions::default());
    let mut draft = expert_body("hidden-draft", "Hidden Draft", "Kiel", "DE");
    draft["status"] = json!("draft");
    assert_eq!(server.admin_post("/v1/admin/experts", &draft).status(), 201);
    for path in [
        "/experts/hidden-draft",
        "/experts/nobody",
        "/cases/nothing",
        "/experts/%FF%FE",
        "/i18n/xx.json",
    ] {
        let (status, html, headers) = page(&server, path, None);
        assert_eq!(status, 404, "{path}");
        assert!(
            headers["content-type"].to_str().unwrap().starts_with("text/html"),
            "{path}"
        );
        assert!(!html.contains("Hidden Draft"), "{path}");
    }
}

#[test]
fn the_page_of_a_merged_expert_redirects_to_the_kept_one() {
    let server = TestServer::start(ServerOptions::default());
    for (id, name) in [("ana-lima", "Ana Lima"), ("ana-lima-2", "Ana Lima")] {
        assert_eq!(
            server
                .admin_post("/v1/admin/experts", &expert_body(id, name, "Recife", "BR"))
                .status(),
            201
        );
    }
    let merged = server.admin_post("/v1/admin/experts/ana-lima-2/merge", &json!({"into": "ana-lima"}));
    assert_eq!(merged.status(), 200);
    let client = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client.get(server.url("/experts/ana-lima-2?lang=pt")).send().unwrap();
    assert_eq!(response.status(), 308);
    assert_eq!(response.headers()["location"], "/experts/ana-lima");
}

#[test]
fn the_staff_desk_scripts_and_strings_are_served_from_the_binary() {
    let (status, html, headers) = page(demo(), "/admin?lang=es", None);
    assert_eq!(status, 200);
    assert!(html.contains("lang=\"es\""));
    let policy = headers["content-security-policy"].to_str().unwrap();
    assert!(
        policy.contains("script-src 'self'") && !policy.contains("unsafe-inline"),
        "{policy}"
    );
    let widget = demo().get("/widget.js");
    assert_eq!(widget.status(), 200);
    let etag = widget.headers()["etag"].to_str().unwrap().to_string();
    let again = demo()
        .client
        .get(demo().url("/widget.js"))
        .header("if-none-match", &etag)
        .send()
        .unwrap();
    assert_eq!(again.status(), 304);
    for lang in ["en", "de", "fr", "es", "pt", "ar"] {
        let strings = demo().get(&format!("/i18n/{lang}.json"));
        assert_eq!(strings.status(), 200, "{lang}");
        let _: serde_json::Value = strings.json().unwrap();
    }
}
