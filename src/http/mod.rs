//! The HTTP API: the only code that knows axum. Routes, handlers, request parsing, errors to
//! status codes, CORS, caching headers, rate limits and metrics. Handlers call the service
//! (`app`) on the blocking pool, never the engines.

mod admin;
mod error;
mod extract;
mod localize;
mod ops;
mod pages;
mod public;
mod response_cache;
mod server;
mod unread_body;

use std::future::Future;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use governor::{Quota, RateLimiter};
use tower_http::compression::CompressionLayer;
use tower_http::cors::{Any, CorsLayer};

pub use self::Limits as RateLimits;
pub use error::ApiError;
pub use server::ConnectionLimits;

use crate::app::{App, AppError, Freshness};
use response_cache::{CacheKey, CachedAnswer, ResponseCache};

type KeyedLimiter =
    RateLimiter<IpAddr, governor::state::keyed::HashMapStateStore<IpAddr>, governor::clock::DefaultClock>;

/// Limits on abuse (failed admin logins and public contact requests, per client address)
/// and on memory (the response cache).
pub struct Limits {
    failed_logins: KeyedLimiter,
    failed_logins_per_minute: u32,
    contact_requests: KeyedLimiter,
    response_cache_bytes: u64,
    connections: ConnectionLimits,
}

/// The response cache's size unless configured: a few thousand typical answers.
pub const DEFAULT_RESPONSE_CACHE_MIB: u64 = 64;

impl Limits {
    pub fn new(failed_logins_per_minute: u32, contact_requests_per_minute: u32) -> Limits {
        let per_minute = |count: u32| Quota::per_minute(NonZeroU32::new(count.max(1)).unwrap_or(NonZeroU32::MIN));
        Limits {
            failed_logins: RateLimiter::hashmap(per_minute(failed_logins_per_minute)),
            failed_logins_per_minute: failed_logins_per_minute.max(1),
            contact_requests: RateLimiter::hashmap(per_minute(contact_requests_per_minute)),
            response_cache_bytes: DEFAULT_RESPONSE_CACHE_MIB << 20,
            connections: ConnectionLimits::default(),
        }
    }

    /// Timeouts and the connection cap.
    pub fn with_connection_limits(mut self, connections: ConnectionLimits) -> Limits {
        self.connections = connections;
        self
    }

    /// Caps the response cache at `mebibytes` (0 turns it off).
    pub fn with_response_cache_mib(mut self, mebibytes: u64) -> Limits {
        self.response_cache_bytes = mebibytes.saturating_mul(1 << 20);
        self
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::new(10, 5)
    }
}

#[derive(Clone)]
pub struct HttpState {
    pub app: App,
    pub limits: Arc<Limits>,
    responses: Arc<ResponseCache>,
}

/// Runs a blocking service call (a search, a match, a write) off the runtime's async work.
/// On the multi-threaded runtime it runs in place, on the thread that read the request: the
/// runtime moves its other tasks to another thread. Handing it to the blocking pool instead
/// cost two thread wake-ups per request, 0.15–0.2 ms at an idle server.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, ApiError> {
    if tokio::runtime::Handle::current().runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread {
        return tokio::task::block_in_place(work).map_err(ApiError::from);
    }
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result.map_err(ApiError::from),
        Err(join_error) => Err(ApiError::from(AppError::Internal(format!(
            "a request task failed: {join_error}"
        )))),
    }
}

pub(crate) fn too_many(limiter: &KeyedLimiter, client: IpAddr) -> Option<ApiError> {
    limiter.check_key(&client).err().map(|not_until| {
        let wait = not_until.wait_time_from(governor::clock::Clock::now(&governor::clock::DefaultClock::default()));
        ApiError::too_many_requests(wait.as_secs() + 1)
    })
}

/// Every route, so that tests (and the OpenAPI check) can list them from the router itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteInfo {
    pub method: Method,
    pub path: &'static str,
    pub admin: bool,
}

struct Routes {
    router: Router<HttpState>,
    listed: Vec<RouteInfo>,
}

impl Routes {
    fn add(mut self, path: &'static str, methods: &[Method], handler: MethodRouter<HttpState>) -> Routes {
        for method in methods {
            self.listed.push(RouteInfo {
                method: method.clone(),
                path,
                admin: path.starts_with("/v1/admin"),
            });
        }
        self.router = self.router.route(path, handler);
        self
    }
}

fn routes() -> Routes {
    use axum::routing::{get, post};
    let routes = Routes {
        router: Router::new(),
        listed: Vec::new(),
    };
    routes
        .add("/", &[Method::GET], get(pages::practitioner))
        .add("/widget.js", &[Method::GET], get(pages::widget))
        .add("/embed", &[Method::GET], get(pages::embed))
        .add("/admin", &[Method::GET], get(pages::staff_desk))
        .add("/experts/{id}", &[Method::GET], get(pages::expert))
        .add("/cases/{id}", &[Method::GET], get(pages::case))
        .add("/static/{*path}", &[Method::GET], get(pages::static_file))
        .add("/i18n/{file}", &[Method::GET], get(pages::interface_strings))
        .add("/healthz", &[Method::GET], get(ops::healthz))
        .add("/readyz", &[Method::GET], get(ops::readyz))
        .add("/metrics", &[Method::GET], get(ops::metrics))
        .add("/openapi.json", &[Method::GET], get(ops::openapi))
        .add("/v1/experts", &[Method::GET], get(public::search_experts))
        .add("/v1/experts/{id}", &[Method::GET], get(public::get_expert))
        .add("/v1/experts/{id}/cases", &[Method::GET], get(public::expert_cases))
        .add("/v1/cases", &[Method::GET], get(public::search_cases))
        .add("/v1/cases/{id}", &[Method::GET], get(public::get_case))
        .add("/v1/match", &[Method::POST], post(public::match_experts))
        .add("/v1/topics", &[Method::GET], get(public::topics))
        .add("/v1/regions", &[Method::GET], get(public::regions))
        .add("/v1/suggest", &[Method::GET], get(public::suggest))
        .add("/v1/contact-requests", &[Method::POST], post(public::contact_request))
        .add(
            "/v1/admin/experts",
            &[Method::GET, Method::POST],
            get(admin::search_experts).post(admin::create_expert),
        )
        .add(
            "/v1/admin/experts/{id}",
            &[Method::GET, Method::PUT, Method::PATCH, Method::DELETE],
            get(admin::get_expert)
                .put(admin::replace_expert)
                .patch(admin::patch_expert)
                .delete(admin::delete_expert),
        )
        .add(
            "/v1/admin/experts/{id}/merge",
            &[Method::POST],
            post(admin::merge_expert),
        )
        .add(
            "/v1/admin/cases",
            &[Method::GET, Method::POST],
            get(admin::search_cases).post(admin::create_case),
        )
        .add(
            "/v1/admin/cases/{id}",
            &[Method::GET, Method::PUT, Method::PATCH, Method::DELETE],
            get(admin::get_case)
                .put(admin::replace_case)
                .patch(admin::patch_case)
                .delete(admin::delete_case),
        )
        .add("/v1/admin/import", &[Method::POST], post(admin::import))
        .add("/v1/admin/backup", &[Method::POST], post(admin::backup))
        .add("/v1/admin/export", &[Method::GET], get(admin::export))
        .add("/v1/admin/duplicates", &[Method::GET], get(admin::duplicates))
        .add("/v1/admin/audit", &[Method::GET], get(admin::audit))
        .add("/v1/admin/learned-terms", &[Method::GET], get(admin::learned_terms))
        .add(
            "/v1/admin/contact-requests",
            &[Method::GET],
            get(admin::contact_requests),
        )
        .add(
            "/v1/admin/contact-requests/{id}",
            &[Method::PATCH],
            axum::routing::patch(admin::update_contact_request),
        )
}

/// Every route of the API with its method, as the router has them.
pub fn route_list() -> Vec<RouteInfo> {
    routes().listed
}

/// The whole HTTP API over a service.
pub fn router(app: App, limits: Limits) -> Router {
    let body_read_timeout = limits.connections.body_read;
    ops::install_metrics_recorder();
    let state = HttpState {
        app,
        responses: Arc::new(ResponseCache::new(limits.response_cache_bytes)),
        limits: Arc::new(limits),
    };
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
        ])
        .expose_headers([header::ETAG, header::LOCATION, header::RETRY_AFTER, CACHE_STATUS])
        .max_age(std::time::Duration::from_secs(3600));
    routes()
        .router
        .fallback(|request: Request| async move {
            // People who follow a broken link get a page; API clients get the error shape.
            if request.uri().path().starts_with("/v1/") {
                ApiError::not_found("no such endpoint; see /openapi.json").into_response()
            } else {
                pages::not_found_page(&request)
            }
        })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this endpoint does not take that method; see /openapi.json",
            )
        })
        .layer(middleware::from_fn_with_state(state.clone(), admin::require_token))
        .layer(middleware::from_fn_with_state(state.clone(), public_caching))
        .layer(middleware::from_fn(localize::localize_messages))
        .layer(middleware::from_fn(record_metrics))
        .layer(middleware::from_fn(unread_body::close_when_body_unread))
        .layer(CompressionLayer::new())
        .layer(cors)
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(body_read_timeout))
        .with_state(state)
}

/// How long requests in flight may take to finish once shutdown begins.
const SHUTDOWN_DRAIN: std::time::Duration = std::time::Duration::from_secs(30);

/// Serves the API on `listener` until `shutdown` completes, then shuts the service down
/// cleanly (requests in flight finished, index merges finished, store flushed).
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: App,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let connections = limits.connections;
    let router = router(app.clone(), limits);
    server::serve(listener, router, connections, shutdown, SHUTDOWN_DRAIN).await?;
    let closing = app.clone();
    tokio::task::spawn_blocking(move || closing.shutdown())
        .await
        .map_err(std::io::Error::other)?
        .map_err(|error| std::io::Error::other(error.to_string()))?;
    Ok(())
}

async fn record_metrics(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |path| path.as_str().to_string());
    let mut response = next.run(request).await;
    // The contract promises UTF-8 JSON: say so in the content type.
    let is_plain_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes() == b"application/json");
    if is_plain_json {
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
    }
    let status = response.status().as_u16().to_string();
    metrics::counter!("citypeers_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status).increment(1);
    metrics::histogram!("citypeers_http_request_duration_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

/// Public reads carry an ETag that changes whenever the index does, and answer a matching
/// `If-None-Match` with 304 without searching again. Their answers (and those of
/// `POST /v1/match`) are kept in the response cache for as long as the data is unchanged;
/// every successful write empties it.
async fn public_caching(State(state): State<HttpState>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let is_public_read = !path.starts_with("/v1/admin")
        && ((request.method() == Method::GET && path.starts_with("/v1/"))
            || (request.method() == Method::POST && path == "/v1/match"));
    if !is_public_read {
        let writes = !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
        let response = next.run(request).await;
        if writes && response.status().is_success() {
            state.responses.clear();
        }
        return response;
    }
    let freshness = state.app.freshness();
    let etag = (request.method() == Method::GET).then(|| {
        let mut hasher = std::hash::DefaultHasher::new();
        std::hash::Hash::hash(&request.uri().to_string(), &mut hasher);
        format!(
            "W/\"{}.{}-{:x}\"",
            freshness.index_seq,
            freshness.reading,
            std::hash::Hasher::finish(&hasher)
        )
    });
    if let Some(etag) = &etag {
        let if_none_match = request
            .headers()
            .get(header::IF_NONE_MATCH)
            .and_then(|value| value.to_str().ok());
        if if_none_match.is_some_and(|candidates| candidates.split(',').any(|candidate| candidate.trim() == etag)) {
            let mut response = StatusCode::NOT_MODIFIED.into_response();
            if let Ok(value) = HeaderValue::from_str(etag) {
                response.headers_mut().insert(header::ETAG, value);
            }
            return response;
        }
    }
    let mut response = if state.responses.is_enabled() {
        match cached_or_computed(&state, freshness, request, next).await {
            Ok(response) => response,
            Err(error) => return error.into_response(),
        }
    } else {
        next.run(request).await
    };
    if let Some(etag) = etag
        && response.status().is_success()
    {
        let headers = response.headers_mut();
        if let Ok(value) = HeaderValue::from_str(&etag) {
            headers.insert(header::ETAG, value);
        }
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=30"));
        headers.insert(
            HeaderName::from_static("vary"),
            HeaderValue::from_static("Accept-Encoding, Origin"),
        );
    }
    response
}

const CACHE_STATUS: HeaderName = HeaderName::from_static("x-citypeers-cache");

/// The cached answer to this request in this data state, or the handler's answer (kept when
/// it is a success small enough to cache).
async fn cached_or_computed(
    state: &HttpState,
    freshness: Freshness,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    // Same limit and error as the handlers' own body reading.
    let body = if parts.method == Method::POST {
        extract::read_body(body, extract::MAX_JSON_BODY_BYTES).await?
    } else {
        Bytes::new()
    };
    let key = CacheKey {
        store_seq: freshness.store_seq,
        index_seq: freshness.index_seq,
        reading: freshness.reading,
        method: parts.method.clone(),
        target: parts.uri.to_string(),
        body: body.clone(),
        // The handler answers 415 to the same bytes sent as anything but JSON.
        content_type: parts.headers.get(header::CONTENT_TYPE).cloned(),
    };
    if let Some(answer) = state.responses.get(&key) {
        metrics::counter!("citypeers_response_cache_total", "result" => "hit").increment(1);
        let mut response = (answer.status, answer.headers, answer.body).into_response();
        response
            .headers_mut()
            .insert(CACHE_STATUS, HeaderValue::from_static("hit"));
        return Ok(response);
    }
    metrics::counter!("citypeers_response_cache_total", "result" => "miss").increment(1);
    let response = next.run(Request::from_parts(parts, Body::from(body))).await;
    if response.status() != StatusCode::OK {
        return Ok(response);
    }
    let (mut parts, body) = response.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .map_err(|error| ApiError::from(AppError::Internal(format!("could not read an answer: {error}"))))?;
    state.responses.insert(
        key,
        CachedAnswer {
            status: parts.status,
            headers: parts.headers.clone(),
            body: body.clone(),
        },
    );
    let (answers, bytes) = state.responses.usage();
    metrics::gauge!("citypeers_response_cache_answers").set(answers as f64);
    metrics::gauge!("citypeers_response_cache_bytes").set(bytes as f64);
    parts.headers.insert(CACHE_STATUS, HeaderValue::from_static("miss"));
    Ok(Response::from_parts(parts, Body::from(body)))
}
