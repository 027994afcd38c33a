//! Pages and files for browsers: each handler asks `web` for a `Page` (in the language that
//! `?lang=` or `Accept-Language` asks for) and sends it with its headers.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::HttpState;
use super::extract::{Segment, query_pairs, single};
use crate::locale::Locale;
use crate::web::{self, Page};

/// The page language: `?lang=`, else `Accept-Language`, else English.
pub fn page_locale(query: Option<&str>, headers: &HeaderMap) -> Locale {
    let pairs = query_pairs(query);
    let lang = single(&pairs, "lang");
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok());
    Locale::negotiate(lang.as_deref(), accept)
}

fn header_value(text: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(text).ok()
}

/// A `Page` as a response, with its caching, security and language headers.
pub fn respond(page: Page, request_headers: &HeaderMap) -> Response {
    if let Some(etag) = &page.etag {
        let matches = request_headers
            .get(header::IF_NONE_MATCH)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|candidates| candidates.split(',').any(|candidate| candidate.trim() == etag));
        if matches {
            let mut response = StatusCode::NOT_MODIFIED.into_response();
            if let Some(value) = header_value(etag) {
                response.headers_mut().insert(header::ETAG, value);
            }
            return response;
        }
    }
    let status = StatusCode::from_u16(page.status).unwrap_or(StatusCode::OK);
    let mut response = (status, Body::from(page.body.into_owned())).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(page.content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(page.cache_control));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    if let Some(policy) = page.content_security_policy {
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(policy));
    }
    if let Some(language) = page.language {
        headers.insert(header::CONTENT_LANGUAGE, HeaderValue::from_static(language.code()));
        headers.insert(header::VARY, HeaderValue::from_static("Accept-Language"));
    }
    if let Some(location) = page.location.as_deref().and_then(header_value) {
        headers.insert(header::LOCATION, location);
    }
    if let Some(link) = page
        .alternate_json
        .as_deref()
        .and_then(|url| header_value(&format!("<{url}>; rel=\"alternate\"; type=\"application/json\"")))
    {
        headers.insert(header::LINK, link);
    }
    if let Some(etag) = page.etag.as_deref().and_then(header_value) {
        headers.insert(header::ETAG, etag);
    }
    response
}

pub async fn practitioner(request: Request) -> Response {
    let locale = page_locale(request.uri().query(), request.headers());
    respond(web::practitioner_page(locale), request.headers())
}

pub async fn embed(request: Request) -> Response {
    let locale = page_locale(request.uri().query(), request.headers());
    respond(web::embed_page(locale), request.headers())
}

pub async fn staff_desk(request: Request) -> Response {
    let locale = page_locale(request.uri().query(), request.headers());
    respond(web::staff_desk(locale), request.headers())
}

pub async fn widget(request: Request) -> Response {
    static_response("widget.js", &request)
}

fn static_response(path: &str, request: &Request) -> Response {
    match web::static_file(path) {
        Some(page) => respond(page, request.headers()),
        None => not_found_page(request),
    }
}

pub async fn static_file(Segment(path): Segment, request: Request) -> Response {
    static_response(&path, &request)
}

pub async fn interface_strings(Segment(file): Segment, request: Request) -> Response {
    let page = file.strip_suffix(".json").and_then(web::interface_strings);
    match page {
        Some(page) => respond(page, request.headers()),
        None => not_found_page(&request),
    }
}

pub fn not_found_page(request: &Request) -> Response {
    let locale = page_locale(request.uri().query(), request.headers());
    respond(web::not_found_page(locale), request.headers())
}

pub async fn expert(State(state): State<HttpState>, Segment(id): Segment, request: Request) -> Response {
    let locale = page_locale(request.uri().query(), request.headers());
    let app = state.app.clone();
    let page = tokio::task::spawn_blocking(move || web::expert_page(&app, &id, locale)).await;
    match page {
        Ok(page) => respond(page, request.headers()),
        Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

pub async fn case(State(state): State<HttpState>, Segment(id): Segment, request: Request) -> Response {
    let locale = page_locale(request.uri().query(), request.headers());
    let app = state.app.clone();
    let page = tokio::task::spawn_blocking(move || web::case_page(&app, &id, locale)).await;
    match page {
        Ok(page) => respond(page, request.headers()),
        Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}
