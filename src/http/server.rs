//! The connection loop: accepts connections up to a cap (beyond it they wait in the kernel's
//! backlog), serves each with hyper's HTTP/1, and cuts a connection that sends its request head
//! too slowly, sits idle too long between requests, or stalls its body (`http::extract`
//! answers 408). Shutdown stops accepting and lets the requests in flight finish.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

/// How long clients may take, and how many may be connected at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// From the first byte of a request to the end of its head.
    pub header_read: Duration,
    /// The longest pause while a request body arrives.
    pub body_read: Duration,
    /// How long a keep-alive connection may wait for its next request.
    pub idle: Duration,
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            header_read: Duration::from_secs(10),
            body_read: Duration::from_secs(60),
            idle: Duration::from_secs(75),
            max_connections: 1_024,
        }
    }
}

/// Descriptors kept free for the store, the index and logs beside the connections.
const RESERVED_FILE_DESCRIPTORS: u64 = 256;

/// The connection cap, lowered when the process may not open that many files.
fn connection_cap(wanted: usize) -> usize {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes into the struct we pass.
    let read = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0;
    if !read || limit.rlim_cur == libc::RLIM_INFINITY {
        return wanted.max(1);
    }
    let allowed = limit.rlim_cur.saturating_sub(RESERVED_FILE_DESCRIPTORS).max(8);
    let cap = wanted.min(usize::try_from(allowed).unwrap_or(usize::MAX)).max(1);
    if cap < wanted {
        tracing::warn!(
            wanted,
            cap,
            open_files_limit = limit.rlim_cur,
            "fewer connections allowed than configured: the open-files limit is low"
        );
    }
    cap
}

/// What a connection is doing, for its watchdog. Times are milliseconds since it opened.
struct Activity {
    opened: Instant,
    in_flight: AtomicUsize,
    /// When the current idle period began.
    idle_since: AtomicU64,
    /// When the first byte of a request head arrived (0: none is arriving).
    head_since: AtomicU64,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            opened: Instant::now(),
            in_flight: AtomicUsize::new(0),
            idle_since: AtomicU64::new(0),
            head_since: AtomicU64::new(0),
        }
    }

    fn now(&self) -> u64 {
        (self.opened.elapsed().as_millis() as u64).max(1)
    }

    fn bytes_arrived(&self) {
        if self.in_flight.load(Ordering::SeqCst) == 0 {
            let _ = self
                .head_since
                .compare_exchange(0, self.now(), Ordering::SeqCst, Ordering::SeqCst);
        }
    }

    fn request_started(&self) {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        self.head_since.store(0, Ordering::SeqCst);
    }

    fn request_finished(&self) {
        self.idle_since.store(self.now(), Ordering::SeqCst);
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
    }

    /// When the connection must be cut, if nothing changes; `None` while a request is served.
    fn deadline(&self, limits: &ConnectionLimits) -> Option<u64> {
        if self.in_flight.load(Ordering::SeqCst) > 0 {
            return None;
        }
        let head_since = self.head_since.load(Ordering::SeqCst);
        Some(if head_since > 0 {
            head_since + limits.header_read.as_millis() as u64
        } else {
            self.idle_since.load(Ordering::SeqCst) + limits.idle.as_millis() as u64
        })
    }
}

/// Resolves when the connection has been too slow or idle too long.
async fn watchdog(activity: Arc<Activity>, limits: ConnectionLimits) {
    loop {
        let pause = match activity.deadline(&limits) {
            None => Duration::from_millis(250),
            Some(deadline) => {
                let now = activity.now();
                if now >= deadline {
                    return;
                }
                Duration::from_millis((deadline - now).min(250))
            }
        };
        tokio::time::sleep(pause).await;
    }
}

/// The socket, telling the connection's `Activity` when bytes arrive. hyper answers requests
/// it cannot parse (too long a URI or head, a malformed line) by itself, with an empty body;
/// such answers are rewritten here into the contract's error shape.
struct WatchedStream {
    inner: TcpStream,
    activity: Arc<Activity>,
    /// A rewritten automatic answer being written, and how much of it is written.
    replacement: Option<(Vec<u8>, usize)>,
}

/// The contract-shaped version of hyper's automatic answer in `head`, if it is one.
fn shaped_parse_error(head: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(head).ok()?;
    let status_line = text.strip_prefix("HTTP/1.1 ")?.split("\r\n").next()?;
    let is_empty = text.to_ascii_lowercase().contains("content-length: 0\r\n") && text.ends_with("\r\n\r\n");
    let (code, message) = match status_line.get(..3)? {
        "400" => ("bad_request", "the request could not be read as HTTP"),
        "414" => ("uri_too_long", "the request's URL is too long"),
        "431" => ("headers_too_large", "the request's headers are too large"),
        _ => return None,
    };
    if !is_empty {
        return None;
    }
    let body = serde_json::json!({"error": {"code": code, "message": message, "fields": []}}).to_string();
    Some(
        format!(
            "HTTP/1.1 {status_line}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

impl AsyncRead for WatchedStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.activity.bytes_arrived();
        }
        polled
    }
}

impl AsyncWrite for WatchedStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        // While no request is being served, anything written is hyper's own answer.
        if this.replacement.is_none() && this.activity.in_flight.load(Ordering::SeqCst) == 0 {
            this.replacement = shaped_parse_error(buf).map(|bytes| (bytes, 0));
        }
        let Some((bytes, written)) = &mut this.replacement else {
            return Pin::new(&mut this.inner).poll_write(cx, buf);
        };
        while *written < bytes.len() {
            match Pin::new(&mut this.inner).poll_write(cx, &bytes[*written..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(count)) => *written += count,
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                Poll::Pending => return Poll::Pending,
            }
        }
        this.replacement = None;
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// Marks the end of a request when the response body has been sent (or dropped).
struct FinishOnDrop(Arc<Activity>);

impl Drop for FinishOnDrop {
    fn drop(&mut self) {
        self.0.request_finished();
    }
}

/// The router for one connection: knows the client's address and reports request starts and
/// ends to the watchdog.
#[derive(Clone)]
struct ConnectionService {
    router: Router,
    client: SocketAddr,
    activity: Arc<Activity>,
}

impl tower::Service<hyper::Request<Incoming>> for ConnectionService {
    type Response = axum::response::Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: hyper::Request<Incoming>) -> Self::Future {
        self.activity.request_started();
        let finished = FinishOnDrop(self.activity.clone());
        let mut request = request.map(Body::new);
        request.extensions_mut().insert(ConnectInfo(self.client));
        let router = self.router.clone();
        Box::pin(async move {
            let response = tower::ServiceExt::oneshot(router, request).await?;
            Ok(response.map(|body| {
                let guarded = http_body_util::BodyExt::map_frame(body, move |frame| {
                    let _keep_until_the_body_ends = &finished;
                    frame
                });
                Body::new(guarded)
            }))
        })
    }
}

/// Serves `router` on `listener` until `shutdown` completes; requests in flight then finish
/// (for at most `drain`).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
    drain: Duration,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(connection_cap(limits.max_connections)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            () = &mut shutdown => break,
            slot = slots.clone().acquire_owned() => slot.map_err(std::io::Error::other)?,
        };
        let (stream, client) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of descriptors or similar: wait a moment instead of spinning.
                    tracing::warn!(%error, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let activity = Arc::new(Activity::new());
        let service = ConnectionService {
            router: router.clone(),
            client,
            activity: activity.clone(),
        };
        let io = TokioIo::new(WatchedStream {
            inner: stream,
            activity: activity.clone(),
            replacement: None,
        });
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(None)
            .keep_alive(true)
            .serve_connection(io, hyper_util::service::TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            tokio::select! {
                _ = connection => {}
                () = watchdog(activity, limits) => {}
            }
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(drain, graceful.shutdown()).await.is_err() {
        tracing::warn!("requests still running at shutdown were cut off");
    }
    Ok(())
}
