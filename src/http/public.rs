//! Public endpoints: search, records by id, match, taxonomy, regions, suggestions and
//! contact requests. Only published records, never private fields.

use std::net::SocketAddr;

use axum::Json;
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::{Segment, json_body, only_known, query_pairs, repeated, single};
use super::{HttpState, blocking, too_many};
use crate::app::{ListingParams, MatchInput};
use crate::domain::ContactRequestDraft;
use crate::wire::answers as dto;
use crate::wire::{self, Visibility};

const LISTING_PARAMETERS: [&str; 8] = [
    "q",
    "topic",
    "region",
    "country",
    "language",
    "available",
    "limit",
    "offset",
];

/// Who is listing: the public sees published records, staff may filter by status.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Audience {
    Public,
    Staff,
}

pub(super) fn listing_params(uri: &Uri, allow_available: bool, audience: Audience) -> Result<ListingParams, ApiError> {
    let pairs = query_pairs(uri.query());
    let mut known: Vec<&str> = LISTING_PARAMETERS
        .iter()
        .copied()
        .filter(|name| allow_available || *name != "available")
        .collect();
    if audience == Audience::Staff {
        known.push("status");
    }
    only_known(&pairs, &known)?;
    Ok(ListingParams {
        q: single(&pairs, "q"),
        topic: repeated(&pairs, "topic"),
        region: repeated(&pairs, "region"),
        country: repeated(&pairs, "country"),
        language: repeated(&pairs, "language"),
        available: single(&pairs, "available"),
        limit: single(&pairs, "limit"),
        offset: single(&pairs, "offset"),
        status: single(&pairs, "status"),
    })
}

pub async fn search_experts(State(state): State<HttpState>, uri: Uri) -> Result<Response, ApiError> {
    let params = listing_params(&uri, true, Audience::Public)?;
    let app = state.app.clone();
    let page = blocking(move || app.search_experts(&params, true)).await?;
    Ok(Json(dto::expert_listing(
        &page,
        &state.app.vocabulary().regions,
        Visibility::Public,
    ))
    .into_response())
}

pub async fn search_cases(State(state): State<HttpState>, uri: Uri) -> Result<Response, ApiError> {
    let params = listing_params(&uri, false, Audience::Public)?;
    let app = state.app.clone();
    let page = blocking(move || app.search_cases(&params, true)).await?;
    Ok(Json(dto::case_listing(&page, &state.app.vocabulary().regions)).into_response())
}

pub async fn get_expert(State(state): State<HttpState>, Segment(id): Segment) -> Result<Response, ApiError> {
    let app = state.app.clone();
    let expert = blocking(move || app.public_expert(&id)).await?;
    Ok(Json(wire::expert_view(
        &expert,
        &state.app.vocabulary().regions,
        Visibility::Public,
    ))
    .into_response())
}

pub async fn expert_cases(State(state): State<HttpState>, Segment(id): Segment) -> Result<Response, ApiError> {
    let app = state.app.clone();
    let cases = blocking(move || {
        let expert = app.public_expert(&id)?;
        app.cases_of_expert(expert.record.id.as_str())
    })
    .await?;
    let regions = &state.app.vocabulary().regions;
    let views: Vec<_> = cases.iter().map(|case| wire::case_view(case, regions)).collect();
    Ok(Json(json!({ "cases": views })).into_response())
}

pub async fn get_case(State(state): State<HttpState>, Segment(id): Segment) -> Result<Response, ApiError> {
    let app = state.app.clone();
    let case = blocking(move || app.public_case(&id)).await?;
    Ok(Json(wire::case_view(&case, &state.app.vocabulary().regions)).into_response())
}

fn match_input(body: &Value, lang_parameter: Option<String>) -> Result<MatchInput, ApiError> {
    let mut input =
        MatchInput::from_json(body).map_err(|errors| ApiError::from(crate::app::AppError::Invalid(errors)))?;
    input.lang = input.lang.or(lang_parameter);
    Ok(input)
}

pub async fn match_experts(
    State(state): State<HttpState>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let pairs = query_pairs(uri.query());
    only_known(&pairs, &["lang"])?;
    let body = json_body(&headers, body, &[]).await?;
    let input = match_input(&body, single(&pairs, "lang"))?;
    let app = state.app.clone();
    let outcome = blocking(move || app.match_experts(input)).await?;
    Ok(Json(dto::match_response(&outcome, &state.app.vocabulary().regions)).into_response())
}

pub async fn topics(State(state): State<HttpState>, uri: Uri) -> Result<Response, ApiError> {
    let pairs = query_pairs(uri.query());
    only_known(&pairs, &["lang"])?;
    let lang = match single(&pairs, "lang") {
        Some(raw) => crate::locale::Locale::parse(&raw)
            .map_err(|message| ApiError::from(crate::app::AppError::bad_parameter("lang", message)))?
            .code(),
        None => "en",
    };
    Ok(Json(dto::topics_response(&state.app.vocabulary().taxonomy, lang)).into_response())
}

pub async fn regions(State(state): State<HttpState>, uri: Uri) -> Result<Response, ApiError> {
    let pairs = query_pairs(uri.query());
    only_known(&pairs, &["lang"])?;
    let lang = match single(&pairs, "lang") {
        Some(raw) => Some(
            crate::locale::Locale::parse(&raw)
                .map_err(|message| ApiError::from(crate::app::AppError::bad_parameter("lang", message)))?
                .code(),
        ),
        None => None,
    };
    Ok(Json(dto::regions_response(&state.app.vocabulary().regions, lang)).into_response())
}

pub async fn suggest(State(state): State<HttpState>, uri: Uri) -> Result<Response, ApiError> {
    let pairs = query_pairs(uri.query());
    only_known(&pairs, &["q"])?;
    let q = single(&pairs, "q").unwrap_or_default();
    let app = state.app.clone();
    let typed = q.clone();
    let suggestions = blocking(move || app.suggest(&typed)).await?;
    Ok(Json(dto::suggest_response(&q, &suggestions)).into_response())
}

pub async fn contact_request(
    State(state): State<HttpState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    if let Some(refusal) = too_many(&state.limits.contact_requests, client.ip()) {
        return Err(refusal);
    }
    let body = json_body(&headers, body, &[]).await?;
    let Some(object) = body.as_object() else {
        return Err(ApiError::from(crate::app::AppError::Invalid(vec![
            crate::domain::FieldError::new("body", "must be a JSON object"),
        ])));
    };
    let mut errors = Vec::new();
    for key in object.keys() {
        if !["expert_id", "name", "email", "organisation", "message"].contains(&key.as_str()) {
            errors.push(crate::domain::FieldError::new(
                crate::domain::id::truncate_for_message(key),
                "unknown field",
            ));
        }
    }
    let draft = ContactRequestDraft {
        expert_id: wire::optional_string(object, "expert_id", &mut errors),
        name: wire::optional_string(object, "name", &mut errors),
        email: wire::optional_string(object, "email", &mut errors),
        organisation: wire::optional_string(object, "organisation", &mut errors),
        message: wire::optional_string(object, "message", &mut errors),
    };
    if !errors.is_empty() {
        // Name every problem at once: the request's own rules for the fields not reported yet.
        if let Err(rules) = crate::domain::ContactRequest::parse(draft) {
            for problem in rules {
                if !errors.iter().any(|reported| reported.field == problem.field) {
                    errors.push(problem);
                }
            }
        }
        return Err(ApiError::from(crate::app::AppError::Invalid(errors)));
    }
    let app = state.app.clone();
    let stored = blocking(move || app.submit_contact_request(draft)).await?;
    let body = json!({
        "id": stored.id,
        "status": "received",
        "message": "Thank you. The citypeers team will put you in touch with the expert."
    });
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}
