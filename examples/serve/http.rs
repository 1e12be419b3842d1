//! The HTTP side: hyper's HTTP/1 server on a single-threaded tokio runtime,
//! the routes, the bounded reading of a body, and the shutdown — stop
//! accepting, let the requests under way finish, return.

use std::convert::Infallible;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{ALLOW, CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use staticnet::train::StopFlag;
use tokio::sync::oneshot;
use tokio::time::timeout;

use crate::pool::{Job, Prediction};
use crate::request::{BodyKind, MAX_BODY, Rejection};

/// How often the accepting loop looks at the stop flag.
const STOP_POLL: Duration = Duration::from_millis(100);
/// The longest a client may take to send a request's head, or its body.
const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest the requests under way may take to finish at shutdown.
const GRACE: Duration = Duration::from_secs(10);

/// What every connection's handler shares.
struct Shared {
    jobs: SyncSender<Job>,
    diagram: Bytes,
    answered: AtomicU64,
}

type Answer = Response<Full<Bytes>>;

/// Serves on `listener` until `stop` is raised; returns how many
/// predictions were answered.
pub fn serve(
    listener: TcpListener,
    jobs: SyncSender<Job>,
    diagram: String,
    stop: &StopFlag,
) -> Result<u64, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the server's runtime: {e}"))?;
    let shared = Arc::new(Shared {
        jobs,
        diagram: Bytes::from(diagram),
        answered: AtomicU64::new(0),
    });
    runtime.block_on(accept_until_stopped(listener, Arc::clone(&shared), stop))?;
    Ok(shared.answered.load(Ordering::Relaxed))
}

async fn accept_until_stopped(
    listener: TcpListener,
    shared: Arc<Shared>,
    stop: &StopFlag,
) -> Result<(), String> {
    let listener = listener
        .set_nonblocking(true)
        .and_then(|()| tokio::net::TcpListener::from_std(listener))
        .map_err(|e| format!("cannot listen: {e}"))?;
    let graceful = GracefulShutdown::new();
    while !stop.is_raised() {
        let Ok(accepted) = timeout(STOP_POLL, listener.accept()).await else {
            continue;
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            // A connection reset before it was accepted, or no file
            // descriptor left for a moment: the next one may do.
            Err(e) => {
                eprintln!("note: a connection could not be accepted: {e}");
                continue;
            }
        };
        let shared = Arc::clone(&shared);
        let service = service_fn(move |request| {
            let shared = Arc::clone(&shared);
            async move { Ok::<_, Infallible>(route(&shared, request).await) }
        });
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(READ_TIMEOUT)
            // A client that shuts its sending side after the body still
            // gets the answer.
            .half_close(true)
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A client that breaks its connection is its own affair.
            let _ = connection.await;
        });
    }
    // No new connection from here; the open ones finish the request under
    // way and close.
    drop(listener);
    if timeout(GRACE, graceful.shutdown()).await.is_err() {
        eprintln!(
            "note: some requests did not finish within {} s",
            GRACE.as_secs()
        );
    }
    Ok(())
}

async fn route(shared: &Shared, request: Request<Incoming>) -> Answer {
    let allowed = match request.uri().path() {
        "/" | "/diagram.svg" => "GET",
        "/predict" => "POST",
        path => {
            return error(Rejection::new(
                StatusCode::NOT_FOUND,
                format!("no page at {path}: GET /, GET /diagram.svg or POST /predict"),
            ));
        }
    };
    if request.method().as_str() != allowed {
        let mut answer = error(Rejection::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!(
                "{} {}: use {allowed}",
                request.method(),
                request.uri().path()
            ),
        ));
        answer
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static(allowed));
        return answer;
    }
    match request.uri().path() {
        "/" => ok("text/html; charset=utf-8", include_str!("page.html")),
        "/diagram.svg" => ok("image/svg+xml", shared.diagram.clone()),
        _ => match predict(shared, request).await {
            Ok(prediction) => {
                shared.answered.fetch_add(1, Ordering::Relaxed);
                let json = serde_json::json!({
                    "class": prediction.class,
                    "probabilities": prediction.probabilities,
                });
                ok("application/json", json.to_string())
            }
            Err(rejection) => error(rejection),
        },
    }
}

/// Reads the body (bounded), queues it for a worker and waits for the
/// answer.
async fn predict(shared: &Shared, request: Request<Incoming>) -> Result<Prediction, Rejection> {
    let header = |name| request.headers().get(name).and_then(|v| v.to_str().ok());
    let kind = BodyKind::of(header(CONTENT_TYPE))?;
    let declared = header(CONTENT_LENGTH).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_BODY as u64) {
        return Err(too_large());
    }
    let body = match timeout(READ_TIMEOUT, read_bounded(request.into_body())).await {
        Ok(body) => body?,
        Err(_) => {
            return Err(Rejection::new(
                StatusCode::REQUEST_TIMEOUT,
                format!("the body took more than {} s", READ_TIMEOUT.as_secs()),
            ));
        }
    };
    let (reply, answer) = oneshot::channel();
    match shared.jobs.try_send(Job { kind, body, reply }) {
        Ok(()) => {}
        Err(TrySendError::Full(_)) => {
            return Err(Rejection::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "every worker is busy and the queue is full: try again",
            ));
        }
        Err(TrySendError::Disconnected(_)) => {
            return Err(Rejection::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the server is stopping",
            ));
        }
    }
    answer.await.unwrap_or_else(|_| {
        Err(Rejection::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the worker stopped before answering",
        ))
    })
}

/// The body, read frame by frame until it passes [`MAX_BODY`]: at most
/// one frame beyond the bound is ever read (a body without a length, sent
/// in chunks, is refused as it grows).
async fn read_bounded(mut body: Incoming) -> Result<Vec<u8>, Rejection> {
    let mut bytes = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            Rejection::new(
                StatusCode::BAD_REQUEST,
                format!("the body could not be read: {e}"),
            )
        })?;
        if let Some(data) = frame.data_ref() {
            if bytes.len() + data.len() > MAX_BODY {
                return Err(too_large());
            }
            bytes.extend_from_slice(data);
        }
    }
    Ok(bytes)
}

fn too_large() -> Rejection {
    Rejection::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("the body is over {MAX_BODY} bytes"),
    )
}

fn ok(content_type: &'static str, body: impl Into<Bytes>) -> Answer {
    let mut answer = Response::new(Full::new(body.into()));
    answer
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    answer
}

/// `{"error": "…"}` with the rejection's status.
fn error(rejection: Rejection) -> Answer {
    let json = serde_json::json!({ "error": rejection.message });
    let mut answer = ok("application/json", json.to_string());
    *answer.status_mut() = rejection.status;
    answer
}
