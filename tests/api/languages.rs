//! The API speaks the client's language: error messages (and each field's) follow `lang` or
//! `Accept-Language` in en, de, fr, es, pt and ar, while codes stay the same; reasons follow
//! `lang`, Arabic included.

use serde_json::{Value, json};

use crate::helpers::demo;

const LANGUAGES: [&str; 6] = ["en", "de", "fr", "es", "pt", "ar"];

fn error_in(language: &str, request: reqwest::blocking::RequestBuilder) -> (u16, Value) {
    let response = request.header("accept-language", language).send().unwrap();
    let status = response.status().as_u16();
    (status, response.json().unwrap())
}

#[test]
fn error_messages_follow_accept_language_and_codes_do_not() {
    let server = demo();
    let mut messages = Vec::new();
    for language in LANGUAGES {
        let (status, body) = error_in(
            language,
            server
                .client
                .post(server.url("/v1/match"))
                .json(&json!({"limit": 500, "country": "XX"})),
        );
        assert_eq!(status, 422);
        assert_eq!(body["error"]["code"], "validation_failed");
        let fields: Vec<String> = body["error"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|field| field["message"].as_str().unwrap().to_string())
            .collect();
        assert!(
            fields.iter().any(|message| message.contains("500")),
            "values are kept: {fields:?}"
        );
        messages.push((language, body["error"]["message"].as_str().unwrap().to_string(), fields));
    }
    let english = &messages[0];
    for (language, message, fields) in &messages[1..] {
        assert_ne!(message, &english.1, "{language}: {message}");
        for (translated, original) in fields.iter().zip(&english.2) {
            assert_ne!(translated, original, "{language}: field message not translated");
        }
    }
    let arabic = &messages[5].2.join(" ");
    assert!(
        arabic
            .chars()
            .any(|character| ('\u{0600}'..='\u{06FF}').contains(&character)),
        "{arabic}"
    );
}

#[test]
fn a_lang_parameter_chooses_the_language_of_errors_too() {
    let server = demo();
    for (path, status) in [
        ("/v1/experts?limit=1000&lang=fr", 400),
        ("/v1/experts/nobody-at-all?lang=fr", 404),
    ] {
        let response = server.get(path);
        assert_eq!(response.status().as_u16(), status);
        assert_eq!(response.headers()["content-language"], "fr");
        let body: Value = response.json().unwrap();
        let english = server.get(&path.replace("lang=fr", "lang=en")).json::<Value>().unwrap();
        assert_eq!(body["error"]["code"], english["error"]["code"]);
        assert_ne!(body["error"]["message"], english["error"]["message"], "{path}");
    }
}

#[test]
fn reasons_come_in_arabic_when_asked() {
    let response = demo().post_json(
        "/v1/match",
        &json!({"challenge": "flood early warning", "lang": "ar", "limit": 3}),
    );
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().unwrap();
    let reasons = answer["matches"][0]["reasons"].to_string();
    assert!(
        reasons
            .chars()
            .any(|character| ('\u{0600}'..='\u{06FF}').contains(&character)),
        "{reasons}"
    );
}
