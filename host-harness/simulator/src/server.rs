//! The HTTP server: hyper 1 on a loopback listener, one task per connection, keep-alive, on a
//! thread and runtime of its own (so a caller that blocks its own runtime, or drops the
//! simulator from inside it, never stalls the server or waits for it).
//!
//! Nothing here keeps a request once it is answered: the body is read (bounded) into the
//! parsed [`Req`], which lives until the reply is built; the simulator's own request log is
//! the only record.

use super::http::{DroppedResponse, Outcome, Reply, Req, Shared, handle, refuse};
use http_body_util::{BodyExt as _, Full, LengthLimitError, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// The largest request body the simulator reads (16 MiB); a larger one is answered 413 and
/// never buffered beyond the limit.
pub const MAX_REQUEST_BODY: usize = 16 << 20;

/// How long connections still busy at shutdown get to finish their response.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Stops the server when dropped: the accept loop ends (the port closes), idle keep-alive
/// connections close, busy ones finish their response first. Dropping never waits.
#[derive(Debug)]
pub(crate) struct Running {
    _stop: watch::Sender<()>,
}

/// Starts serving `listener` on a thread of its own.
pub(crate) fn spawn(listener: std::net::TcpListener, shared: Shared) -> std::io::Result<Running> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    listener.set_nonblocking(true)?;
    let listener = {
        let _in_runtime = runtime.enter();
        TcpListener::from_std(listener)?
    };
    let (stop, stopped) = watch::channel(());
    std::thread::Builder::new()
        .name("atlassian-simulator".into())
        .spawn(move || runtime.block_on(serve(listener, shared, stopped)))?;
    Ok(Running { _stop: stop })
}

/// The accept loop; returns once the [`Running`] handle is dropped and the connections have
/// finished (or the grace period ran out).
async fn serve(listener: TcpListener, shared: Shared, mut stopped: watch::Receiver<()>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            // The sender only ever drops: any wake-up means stop.
            _ = stopped.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(connection(stream, shared.clone(), stopped.clone()));
                }
                // Out of file descriptors and the like: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
}

/// One connection, served until the client closes it, a dropped response ends it, or the
/// simulator stops.
async fn connection(stream: TcpStream, shared: Shared, mut stopped: watch::Receiver<()>) {
    let _ = stream.set_nodelay(true);
    let service = hyper::service::service_fn(move |request| respond(shared.clone(), request));
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = stopped.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// One request: read the body (bounded), handle it, write the reply, or fail the connection
/// for a dropped response.
async fn respond(
    shared: Shared,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, DroppedResponse> {
    // A latency is the upstream's response time, counted from the request's arrival: the
    // simulator's own work on it is part of that time, not added to it (so a bench is not
    // charged for the simulator sharing the machine, as long as it keeps up).
    let arrived = tokio::time::Instant::now();
    let (parts, body) = request.into_parts();
    let (body, too_large) = match Limited::new(body, MAX_REQUEST_BODY).collect().await {
        Ok(collected) => (collected.to_bytes().to_vec(), false),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => (Vec::new(), true),
        // The client went away mid-body: nothing to answer.
        Err(_) => return Err(DroppedResponse),
    };
    let Some(req) = Req::parse(&parts, body) else {
        return Ok(response(Reply::empty(400)));
    };
    if too_large {
        let detail = format!("request body larger than {MAX_REQUEST_BODY} bytes");
        return Ok(response(refuse(&shared, &req, 413, &detail)));
    }
    match handle(&shared, &req) {
        Outcome::Drop => Err(DroppedResponse),
        Outcome::Reply(reply, delay) => {
            drop(req);
            if let Some(d) = delay {
                tokio::time::sleep_until(arrived + d).await;
            }
            Ok(response(reply))
        }
        Outcome::Held(reply, release) => {
            drop(req);
            let _ = tokio::time::timeout(super::faults::MAX_HOLD, release.notified()).await;
            Ok(response(reply))
        }
    }
}

/// The hyper response for a reply; a header that is not valid HTTP is left out.
fn response(reply: Reply) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(reply.body)));
    *response.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    for (name, value) in &reply.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.append(name, value);
        }
    }
    if let Some(ct) = reply.content_type {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(ct));
    }
    response
}
