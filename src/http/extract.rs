//! Reading requests: JSON bodies with the contract's errors (400 malformed, 413 too large,
//! 415 wrong type), repeatable query parameters, and If-Match versions.

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode, header};
use serde_json::Value;

use super::error::ApiError;

/// A path segment such as `{id}`. A segment that does not decode (`%FF`) is kept as text that
/// no record id matches, so that it gets the same 404 as any unknown id, in the contract's
/// shape (or the HTML 404 on pages), instead of axum's plain-text 400.
pub struct Segment(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Segment {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<String>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(segment)) => Ok(Segment(segment)),
            Err(_) => Ok(Segment(
                String::from_utf8_lossy(parts.uri.path().as_bytes()).into_owned(),
            )),
        }
    }
}

/// The largest JSON body accepted outside import.
pub const MAX_JSON_BODY_BYTES: usize = 1024 * 1024;
/// The largest import body.
pub const MAX_IMPORT_BODY_BYTES: usize = 512 * 1024 * 1024;

pub fn content_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(|value| value.to_ascii_lowercase())
}

fn media_type(content_type: &str) -> &str {
    content_type.split(';').next().unwrap_or_default().trim()
}

/// Reads at most `limit` bytes of a body, answering 413 beyond and 408 when the client stops
/// sending for longer than the body read timeout.
pub async fn read_body(body: Body, limit: usize) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, limit).await.map_err(|error| {
        // axum reports the limit as a `LengthLimitError` somewhere in the error's chain, and
        // tower-http a stalled body as a `TimeoutError`.
        let mut too_large = false;
        let mut timed_out = false;
        let mut current: Option<&(dyn std::error::Error + 'static)> = Some(&error);
        while let Some(cause) = current {
            too_large |= cause.to_string().contains("length limit exceeded");
            timed_out |= cause.is::<tower_http::timeout::TimeoutError>();
            current = cause.source();
        }
        if timed_out {
            ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                "the request body stopped arriving; send it again",
            )
        } else if too_large {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("the body is larger than {limit} bytes"),
            )
        } else {
            ApiError::bad_request(format!("could not read the body: {error}"))
        }
    })
}

/// A JSON body: `Content-Type` must be `application/json` (or one of `also_accepted`).
pub async fn json_body(headers: &HeaderMap, body: Body, also_accepted: &[&str]) -> Result<Value, ApiError> {
    let content_type = content_type(headers).unwrap_or_default();
    let media = media_type(&content_type);
    if media != "application/json" && !also_accepted.contains(&media) {
        let mut accepted = vec!["application/json"];
        accepted.extend_from_slice(also_accepted);
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!(
                "send the body as {} (got '{}')",
                accepted.join(" or "),
                if media.is_empty() { "nothing" } else { media }
            ),
        ));
    }
    let bytes = read_body(body, MAX_JSON_BODY_BYTES).await?;
    if bytes.is_empty() {
        return Err(ApiError::bad_request("the body is empty; send a JSON object"));
    }
    serde_json::from_slice(&bytes)
        .map_err(|error| ApiError::bad_request(format!("the body is not valid JSON: {error}")))
}

/// Query parameters in order, repeated keys kept.
pub fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect()
}

pub fn single(pairs: &[(String, String)], name: &str) -> Option<String> {
    pairs
        .iter()
        .rev()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.clone())
}

pub fn repeated(pairs: &[(String, String)], name: &str) -> Vec<String> {
    pairs
        .iter()
        .filter(|(key, _)| key == name)
        .map(|(_, value)| value.clone())
        .collect()
}

/// Rejects parameters the endpoint does not know, so that typos do not pass silently.
pub fn only_known(pairs: &[(String, String)], known: &[&str]) -> Result<(), ApiError> {
    for (key, _) in pairs {
        if !known.contains(&key.as_str()) {
            return Err(ApiError {
                fields: vec![crate::domain::FieldError::new(key.as_str(), "unknown parameter")],
                ..ApiError::bad_request(format!(
                    "unknown parameter '{}'; this endpoint takes: {}",
                    crate::domain::id::truncate_for_message(key),
                    known.join(", ")
                ))
            });
        }
    }
    Ok(())
}

/// What `If-Match` asks for: `*` (whatever is current), or entity tags. A tag names a version
/// as the ETag gives it (`"3"`; `W/"3"` is read the same); a tag that names no version, such as
/// `"abc"`, matches nothing, so the change gets 412 like a stale one (RFC 9110 §13.1.1).
pub enum IfMatch {
    Absent,
    Any,
    Versions(Vec<u64>),
}

/// At most this many entity tags are read from one header.
const MAX_IF_MATCH_TAGS: usize = 16;

pub fn if_match(headers: &HeaderMap) -> Result<IfMatch, ApiError> {
    let Some(raw) = headers.get(header::IF_MATCH) else {
        return Ok(IfMatch::Absent);
    };
    let text = String::from_utf8_lossy(raw.as_bytes());
    let text = text.trim();
    if text == "*" {
        return Ok(IfMatch::Any);
    }
    let versions = text
        .split(',')
        .take(MAX_IF_MATCH_TAGS)
        .filter_map(|tag| {
            let tag = tag.trim();
            let tag = tag.strip_prefix("W/").unwrap_or(tag);
            tag.strip_prefix('"')?.strip_suffix('"')?.parse::<u64>().ok()
        })
        .collect();
    Ok(IfMatch::Versions(versions))
}
