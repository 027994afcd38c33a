//! Messages in the client's language: error answers (and the per-record reasons of an import
//! report) are written in the language `lang` or `Accept-Language` asks for, once, on their
//! way out; their `code`s stay as they are.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use serde_json::Value;

use super::extract::{query_pairs, single};
use crate::locale::{Locale, translate};

fn requested_locale(request: &Request) -> Locale {
    let pairs = query_pairs(request.uri().query());
    let accept = request
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok());
    Locale::negotiate(single(&pairs, "lang").as_deref(), accept)
}

fn translate_in_place(value: &mut Value, locale: Locale) {
    if let Some(Value::String(message)) = value.get_mut("message") {
        *message = translate(message, locale).into_owned();
    }
    for list in ["fields", "errors"] {
        if let Some(Value::Array(fields)) = value.get_mut(list) {
            for field in fields {
                translate_in_place(field, locale);
            }
        }
    }
}

/// Translates the messages of an error answer (`error.message`, `error.fields[].message`) or
/// of an import report (`rejected[].errors[].message`).
fn translate_answer(answer: &mut Value, locale: Locale) {
    if let Some(error) = answer.get_mut("error") {
        translate_in_place(error, locale);
    }
    if let Some(Value::Array(rejected)) = answer.get_mut("rejected") {
        for record in rejected {
            translate_in_place(record, locale);
        }
    }
}

pub async fn localize_messages(request: Request, next: Next) -> Response {
    let locale = requested_locale(&request);
    let is_import = request.method() == Method::POST && request.uri().path() == "/v1/admin/import";
    let is_api = request.uri().path().starts_with("/v1/");
    let response = next.run(request).await;
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/json"));
    let carries_messages = response.status().is_client_error() || response.status().is_server_error() || is_import;
    if locale == Locale::English || !is_api || !is_json || !carries_messages {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let Ok(mut answer) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    translate_answer(&mut answer, locale);
    let translated = serde_json::to_vec(&answer).unwrap_or_else(|_| bytes.to_vec());
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_LANGUAGE, HeaderValue::from_static(locale.code()));
    Response::from_parts(parts, Body::from(translated))
}
