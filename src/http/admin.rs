//! Staff endpoints under `/v1/admin`: every one needs a bearer token (401 otherwise; failed
//! attempts are rate-limited per client address).

use std::net::SocketAddr;

use axum::Json;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::{
    IfMatch, MAX_IMPORT_BODY_BYTES, Segment, content_type, if_match, json_body, only_known, query_pairs, read_body,
    single,
};
use super::public::{Audience, listing_params};
use super::{HttpState, blocking, too_many};
use crate::app::{Actor, App, AppError, EditableRecord, VersionCheck};
use crate::curation::import::ImportFormat;
use crate::domain::{Case, Expert, RecordKind, Versioned};
use crate::wire::Visibility;
use crate::wire::answers as dto;

fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
        .filter(|token| !token.is_empty())
}

/// Lets a request through to `/v1/admin` only with a valid token (any path there, routed or
/// not: 401 comes before 404 or 405); the actor goes along. Admin answers carry personal data:
/// no cache may keep them.
pub async fn require_token(State(state): State<HttpState>, request: Request, next: Next) -> Response {
    if !request.uri().path().starts_with("/v1/admin") {
        return next.run(request).await;
    }
    let mut response = authenticated(state, request, next).await;
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn authenticated(state: HttpState, mut request: Request, next: Next) -> Response {
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(std::net::IpAddr::from([127, 0, 0, 1]), |ConnectInfo(address)| {
            address.ip()
        });
    let Some(token) = bearer_token(request.headers()) else {
        return ApiError::unauthorized().into_response();
    };
    let app = state.app.clone();
    let actor = match blocking(move || app.authenticate(&token)).await {
        Ok(actor) => actor,
        Err(error) => return error.into_response(),
    };
    match actor {
        Some(actor) => {
            request.extensions_mut().insert(actor);
            next.run(request).await
        }
        None => match failed_login_refusal(&state, client).await {
            Ok(Some(refusal)) => refusal.into_response(),
            Ok(None) => ApiError::unauthorized().into_response(),
            Err(error) => error.into_response(),
        },
    }
}

/// Counts a failed login: in the database when several nodes share one (so that the limit
/// holds for the cluster, not per node), else in this process. A refusal once over the limit.
async fn failed_login_refusal(state: &HttpState, client: std::net::IpAddr) -> Result<Option<ApiError>, ApiError> {
    let app = state.app.clone();
    match blocking(move || app.note_failed_login(client)).await? {
        Some(counted) if counted.attempts > u64::from(state.limits.failed_logins_per_minute) => {
            Ok(Some(ApiError::too_many_requests(counted.window_ends_in_seconds)))
        }
        Some(_) => Ok(None),
        None => Ok(too_many(&state.limits.failed_logins, client)),
    }
}

fn actor_of(headers_extensions: &axum::http::Extensions) -> Actor {
    headers_extensions
        .get::<Actor>()
        .cloned()
        .unwrap_or_else(|| Actor::named("unknown"))
}

fn version_check(headers: &HeaderMap) -> Result<VersionCheck, ApiError> {
    Ok(match if_match(headers)? {
        IfMatch::Absent => return Err(ApiError::from(AppError::PreconditionRequired)),
        IfMatch::Any => VersionCheck::Any,
        IfMatch::Versions(versions) => VersionCheck::OneOf(versions),
    })
}

fn with_etag(status: StatusCode, version: u64, body: Value, location: Option<String>) -> Response {
    let mut response = (status, Json(body)).into_response();
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{version}\"")) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    if let Some(location) = location.and_then(|location| HeaderValue::from_str(&location).ok()) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn record_response<R: EditableRecord>(
    app: &App,
    status: StatusCode,
    stored: &Versioned<R>,
    location: bool,
) -> Response {
    let body = R::to_json(app, stored, Visibility::Admin);
    let location = location.then(|| format!("/v1/admin/{}/{}", R::KIND.plural(), R::id(&stored.record)));
    with_etag(status, stored.version, body, location)
}

async fn create<R: EditableRecord + Send + 'static>(state: HttpState, request: Request) -> Result<Response, ApiError> {
    let actor = actor_of(request.extensions());
    let (parts, body) = request.into_parts();
    let body = json_body(&parts.headers, body, &[]).await?;
    let app = state.app.clone();
    let stored = blocking(move || app.create_record::<R>(&body, &actor)).await?;
    Ok(record_response(&state.app, StatusCode::CREATED, &stored, true))
}

async fn read<R: EditableRecord + Send + 'static>(state: HttpState, id: String) -> Result<Response, ApiError> {
    let app = state.app.clone();
    let stored = blocking(move || app.admin_record::<R>(&id)).await?;
    Ok(record_response(&state.app, StatusCode::OK, &stored, false))
}

async fn replace<R: EditableRecord + Send + 'static>(
    state: HttpState,
    id: String,
    request: Request,
) -> Result<Response, ApiError> {
    let actor = actor_of(request.extensions());
    let (parts, body) = request.into_parts();
    let expected = version_check(&parts.headers)?;
    let body = json_body(&parts.headers, body, &[]).await?;
    let app = state.app.clone();
    let stored = blocking(move || app.replace_record::<R>(&id, &body, expected, &actor)).await?;
    Ok(record_response(&state.app, StatusCode::OK, &stored, false))
}

async fn patch<R: EditableRecord + Send + 'static>(
    state: HttpState,
    id: String,
    request: Request,
) -> Result<Response, ApiError> {
    let actor = actor_of(request.extensions());
    let (parts, body) = request.into_parts();
    let expected = version_check(&parts.headers)?;
    let body = json_body(&parts.headers, body, &["application/merge-patch+json"]).await?;
    let app = state.app.clone();
    let stored = blocking(move || app.patch_record::<R>(&id, &body, expected, &actor)).await?;
    Ok(record_response(&state.app, StatusCode::OK, &stored, false))
}

async fn delete<R: EditableRecord + Send + 'static>(
    state: HttpState,
    id: String,
    request: Request,
) -> Result<Response, ApiError> {
    let actor = actor_of(request.extensions());
    let pairs = query_pairs(request.uri().query());
    only_known(&pairs, &["erase"])?;
    let erase = match single(&pairs, "erase") {
        Some(raw) => crate::app::parse_bool_parameter("erase", &raw)?,
        None => false,
    };
    let expected = version_check(request.headers())?;
    let app = state.app.clone();
    blocking(move || app.delete_record::<R>(&id, expected, erase, &actor)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn create_expert(State(state): State<HttpState>, request: Request) -> Result<Response, ApiError> {
    create::<Expert>(state, request).await
}
pub async fn get_expert(State(state): State<HttpState>, Segment(id): Segment) -> Result<Response, ApiError> {
    read::<Expert>(state, id).await
}
pub async fn replace_expert(
    State(state): State<HttpState>,
    Segment(id): Segment,
    request: Request,
) -> Result<Response, ApiError> {
    replace::<Expert>(state, id, request).await
}
pub async fn patch_expert(
    State(state): State<HttpState>,
    Segment(id): Segment,
    request: Request,
) -> Result<Response, ApiError> {
    patch::<Expert>(state, id, request).await
}
pub async fn delete_expert(
    State(state): State<HttpState>,
    Segment(id): Segment,
    request: Request,
) -> Result<Response, ApiError> {
    delete::<Expert>(state, id, request).await
}
pub async fn create_case(State(state): State<HttpState>, request: Request) -> Result<Response, ApiError> {
    create::<Case>(state, request).await
}
pub async fn get_case(State(state): State<HttpState>, Segment(id): Segment) -> Result<Response, ApiError> {
    read::<Case>(state, id).await
}
pub async fn replace_case(
    State(state): State<HttpState>,
    Segment(id): Segment,
    request: Request,
) -> Result<Response, ApiError> {
    replace::<Case>(state, id, request).await
}
pub async fn patch_case(
    State(state): State<HttpState>,
    Segment(id): Segment,
    request: Request,
) -> Result<Response, ApiError> {
    patch::<Case>(state, id, request).await
}
pub async fn delete_case(
    State(state): State<HttpState>,
    Segment(id): Segment,
    request: Request,
) -> Result<Response, ApiError> {
    delete::<Case>(state, id, request).await
}

pub async fn search_experts(State(state): State<HttpState>, uri: Uri) -> Result<Response, ApiError> {
    let params = listing_params(&uri, true, Audience::Staff)?;
    let app = state.app.clone();
    let page = blocking(move || app.search_experts(&params, false)).await?;
    Ok(Json(dto::expert_listing(
        &page,
        &state.app.vocabulary().regions,
        Visibility::Admin,
    ))
    .into_response())
}

pub async fn search_cases(State(state): State<HttpState>, uri: Uri) -> Result<Response, ApiError> {
    let params = listing_params(&uri, false, Audience::Staff)?;
    let app = state.app.clone();
    let page = blocking(move || app.search_cases(&params, false)).await?;
    Ok(Json(dto::case_listing(&page, &state.app.vocabulary().regions)).into_response())
}

pub async fn merge_expert(
    State(state): State<HttpState>,
    Segment(id): Segment,
    request: Request,
) -> Result<Response, ApiError> {
    let actor = actor_of(request.extensions());
    let (parts, body) = request.into_parts();
    let body = json_body(&parts.headers, body, &[]).await?;
    let into = match body.get("into") {
        Some(Value::String(into)) => into.clone(),
        _ => {
            return Err(ApiError::from(AppError::Invalid(vec![crate::domain::FieldError::new(
                "into",
                "give the id of the expert to keep as a string",
            )])));
        }
    };
    if let Some(extra) = body
        .as_object()
        .and_then(|object| object.keys().find(|key| key.as_str() != "into"))
    {
        return Err(ApiError::from(AppError::Invalid(vec![crate::domain::FieldError::new(
            extra.as_str(),
            "unknown field",
        )])));
    }
    let app = state.app.clone();
    let kept = blocking(move || app.merge_experts(&id, &into, &actor)).await?;
    Ok(record_response(&state.app, StatusCode::OK, &kept, false))
}

fn kind_parameter(pairs: &[(String, String)]) -> Result<RecordKind, ApiError> {
    let raw = single(pairs, "kind")
        .ok_or_else(|| ApiError::from(AppError::bad_parameter("kind", "is required: experts or cases")))?;
    RecordKind::parse_plural(&raw).map_err(|message| ApiError::from(AppError::bad_parameter("kind", message)))
}

pub async fn import(State(state): State<HttpState>, request: Request) -> Result<Response, ApiError> {
    let actor = actor_of(request.extensions());
    let pairs = query_pairs(request.uri().query());
    only_known(&pairs, &["kind"])?;
    let kind = kind_parameter(&pairs)?;
    let media = content_type(request.headers()).unwrap_or_default();
    let Some(format) = ImportFormat::from_content_type(&media) else {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send application/json (an array), application/x-ndjson (JSON Lines) or text/csv",
        ));
    };
    let bytes = read_body(request.into_body(), MAX_IMPORT_BODY_BYTES).await?;
    let app = state.app.clone();
    let report = blocking(move || app.import(kind, bytes.as_ref(), format, &actor, &mut |_| {})).await?;
    Ok(Json(dto::import_response(&report)).into_response())
}

pub async fn export(State(state): State<HttpState>, uri: Uri) -> Result<Response, ApiError> {
    let pairs = query_pairs(uri.query());
    only_known(&pairs, &["kind"])?;
    let kind = kind_parameter(&pairs)?;
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(64);
    let app = state.app.clone();
    tokio::task::spawn_blocking(move || {
        let failure_sender = sender.clone();
        let result = app.export(kind, &mut |line| sender.blocking_send(Ok(line)).is_ok());
        if let Err(error) = result {
            tracing::error!(%error, "export failed");
            let _ = failure_sender.blocking_send(Err(std::io::Error::other("export failed")));
        }
    });
    // A channel receiver keeps answering "ended" when polled again after the end, which the
    // compression layer does (an `unfold` stream panics there).
    let mut receiver = receiver;
    let stream = futures_util::stream::poll_fn(move |context| receiver.poll_recv(context));
    let mut response = Body::from_stream(stream).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson; charset=utf-8"),
    );
    let file_name = format!("attachment; filename=\"citypeers-{}.jsonl\"", kind.plural());
    if let Ok(disposition) = HeaderValue::from_str(&file_name) {
        response.headers_mut().insert(header::CONTENT_DISPOSITION, disposition);
    }
    Ok(response)
}

pub async fn duplicates(State(state): State<HttpState>, uri: Uri) -> Result<Response, ApiError> {
    only_known(&query_pairs(uri.query()), &[])?;
    let app = state.app.clone();
    let pairs = blocking(move || app.duplicates()).await?;
    let pairs = dto::duplicate_pairs(pairs);
    Ok(Json(dto::DuplicatesResponse { pairs: &pairs }).into_response())
}

pub async fn audit(State(state): State<HttpState>, uri: Uri) -> Result<Response, ApiError> {
    let pairs = query_pairs(uri.query());
    only_known(&pairs, &["entity"])?;
    let entity = single(&pairs, "entity").ok_or_else(|| {
        ApiError::from(AppError::bad_parameter(
            "entity",
            "is required: experts/{id} or cases/{id}",
        ))
    })?;
    let app = state.app.clone();
    let requested = entity.clone();
    let entries = blocking(move || app.audit_trail(&requested)).await?;
    Ok(Json(dto::audit_response(&entity, &entries)).into_response())
}

pub async fn contact_requests(State(state): State<HttpState>, uri: Uri) -> Result<Response, ApiError> {
    let pairs = query_pairs(uri.query());
    only_known(&pairs, &["status"])?;
    let status = single(&pairs, "status");
    let app = state.app.clone();
    let requests = blocking(move || app.contact_requests_with(status.as_deref())).await?;
    let out: Vec<_> = requests.iter().map(dto::contact_request_out).collect();
    Ok(Json(json!({ "requests": out })).into_response())
}

/// Reads `{"status": …, "note": …}`; `note: null` clears the note.
fn contact_request_change(body: &Value) -> Result<crate::app::ContactRequestChange, ApiError> {
    let Some(object) = body.as_object() else {
        return Err(ApiError::from(AppError::Invalid(vec![crate::domain::FieldError::new(
            "body",
            "must be a JSON object",
        )])));
    };
    let mut errors = Vec::new();
    let mut change = crate::app::ContactRequestChange::default();
    for (key, value) in object {
        match (key.as_str(), value) {
            ("status", Value::String(status)) => change.status = Some(status.clone()),
            ("note", Value::String(note)) => change.note = Some(Some(note.clone())),
            ("note", Value::Null) => change.note = Some(None),
            ("status" | "note", _) => errors.push(crate::domain::FieldError::new(key.as_str(), "must be a string")),
            (other, _) => errors.push(crate::domain::FieldError::new(
                crate::domain::id::truncate_for_message(other),
                "unknown field",
            )),
        }
    }
    if errors.is_empty() {
        Ok(change)
    } else {
        Err(ApiError::from(AppError::Invalid(errors)))
    }
}

pub async fn update_contact_request(
    State(state): State<HttpState>,
    Segment(id): Segment,
    request: Request,
) -> Result<Response, ApiError> {
    let actor = actor_of(request.extensions());
    let (parts, body) = request.into_parts();
    let body = json_body(&parts.headers, body, &["application/merge-patch+json"]).await?;
    let change = contact_request_change(&body)?;
    let app = state.app.clone();
    let updated = blocking(move || app.update_contact_request(&id, change, &actor)).await?;
    let mut response = Json(dto::contact_request_out(&updated)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// `POST /v1/admin/backup`: a consistent snapshot of the store and its keys, as a download.
/// It is written to a file in the data directory first (writes wait only for that), then sent
/// and removed.
pub async fn backup(State(state): State<HttpState>, request: Request) -> Result<Response, ApiError> {
    only_known(&query_pairs(request.uri().query()), &[])?;
    let actor = actor_of(request.extensions());
    let app = state.app.clone();
    let (path, info, bytes) = blocking(move || {
        let directory = app.data_dir().join("backups");
        std::fs::create_dir_all(&directory)
            .map_err(|error| AppError::from(crate::store::StoreError::from_io(error)))?;
        let unique = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos());
        let path = directory.join(format!(".download-{unique}.snapshot"));
        let (info, bytes) = app.backup_to_file(&path)?;
        tracing::info!(actor = %actor.name, seq = info.seq, bytes, "snapshot taken for download");
        Ok((path, info, bytes))
    })
    .await?;
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(16);
    tokio::task::spawn_blocking(move || {
        let sent = send_file(&path, &sender);
        if let Err(error) = sent {
            let _ = sender.blocking_send(Err(error));
        }
        let _ = std::fs::remove_file(&path);
    });
    let mut receiver = receiver;
    let stream = futures_util::stream::poll_fn(move |context| receiver.poll_recv(context));
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes));
    let file_name = format!("attachment; filename=\"citypeers-seq{}.snapshot\"", info.seq);
    if let Ok(disposition) = HeaderValue::from_str(&file_name) {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    headers.insert(
        HeaderName::from_static("x-citypeers-snapshot-seq"),
        HeaderValue::from(info.seq),
    );
    Ok(response)
}

fn send_file(
    path: &std::path::Path,
    sender: &tokio::sync::mpsc::Sender<Result<Vec<u8>, std::io::Error>>,
) -> std::io::Result<()> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    loop {
        let mut chunk = vec![0u8; 256 * 1024];
        let read = file.read(&mut chunk)?;
        if read == 0 {
            return Ok(());
        }
        chunk.truncate(read);
        if sender.blocking_send(Ok(chunk)).is_err() {
            return Ok(());
        }
    }
}

/// `GET /v1/admin/learned-terms`: what the engine learned from the platform's data.
pub async fn learned_terms(State(state): State<HttpState>, uri: Uri) -> Result<Response, ApiError> {
    let pairs = query_pairs(uri.query());
    only_known(&pairs, &["topic", "lang", "limit"])?;
    let limit = match single(&pairs, "limit") {
        None => 20,
        Some(raw) => raw
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|limit| (1..=crate::app::MAX_LEARNED_TERMS).contains(limit))
            .ok_or_else(|| {
                ApiError::from(AppError::bad_parameter(
                    "limit",
                    format!("must be between 1 and {}", crate::app::MAX_LEARNED_TERMS),
                ))
            })?,
    };
    let (topic, lang) = (single(&pairs, "topic"), single(&pairs, "lang"));
    let app = state.app.clone();
    let learned = blocking(move || app.learned_terms(topic.as_deref(), lang.as_deref(), limit)).await?;
    Ok(Json(dto::learned_terms_response(&learned)).into_response())
}
