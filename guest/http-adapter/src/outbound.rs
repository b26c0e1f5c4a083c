//! One request on `wasi:http/outgoing-handler` (wasm32): [`start`] sends it (the head, then
//! the body), [`finish`] waits for the answer and reads its body, both within the request's
//! deadline, reading at most the response cap. `wasi:http` follows no redirect: a 3xx comes
//! back to the connector as it is, as in our host.

use url::Url;

use crate::component::bindings::exports::lifecycle::connector::http_client::{HttpError, Response};
use crate::component::bindings::wasi::clocks::monotonic_clock;
use crate::component::bindings::wasi::http::outgoing_handler;
use crate::component::bindings::wasi::http::types::{
    ErrorCode, Fields, FutureIncomingResponse, IncomingBody, Method, OutgoingBody, OutgoingRequest,
    RequestOptions, Scheme,
};
use crate::component::bindings::wasi::io::poll;
use crate::component::bindings::wasi::io::streams::StreamError;
use crate::rules::limits;

/// A request that passed every rule, its credential attached.
pub(crate) struct Prepared {
    pub(crate) method: String,
    pub(crate) url: Url,
    pub(crate) headers: Vec<(String, Vec<u8>)>,
    pub(crate) body: Option<Vec<u8>>,
    pub(crate) timeout_ms: u32,
}

/// A request on its way.
pub(crate) struct InFlight {
    response: FutureIncomingResponse,
    deadline: monotonic_clock::Instant,
}

fn error(code: ErrorCode) -> HttpError {
    use ErrorCode as E;
    match code {
        E::ConnectionTimeout
        | E::ConnectionReadTimeout
        | E::ConnectionWriteTimeout
        | E::HttpResponseTimeout => HttpError::Timeout,
        E::HttpRequestBodySize(_)
        | E::HttpResponseBodySize(_)
        | E::HttpResponseHeaderSize(_)
        | E::HttpResponseHeaderSectionSize(_) => HttpError::TooLarge,
        E::HttpRequestDenied => HttpError::Denied("the platform refused the request".into()),
        E::DestinationIpProhibited => {
            HttpError::Denied("the platform refused the destination address".into())
        }
        other => HttpError::Transport(format!("{other:?}")),
    }
}

fn method(name: &str) -> Method {
    match name {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "PATCH" => Method::Patch,
        "DELETE" => Method::Delete,
        other => Method::Other(other.to_owned()),
    }
}

fn refused(what: &str) -> HttpError {
    HttpError::Other(format!("the platform's wasi:http refused the {what}"))
}

/// Sends the request's head and body.
pub(crate) fn start(p: Prepared) -> Result<InFlight, HttpError> {
    let fields = Fields::from_list(&p.headers)
        .map_err(|e| HttpError::Denied(format!("the platform refused a request header: {e:?}")))?;
    let request = OutgoingRequest::new(fields);
    request
        .set_method(&method(&p.method))
        .map_err(|()| refused("method"))?;
    let scheme = if p.url.scheme() == "http" {
        Scheme::Http
    } else {
        Scheme::Https
    };
    request
        .set_scheme(Some(&scheme))
        .map_err(|()| refused("scheme"))?;
    let host = p.url.host_str().unwrap_or_default();
    let authority = match p.url.port_or_known_default() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    request
        .set_authority(Some(&authority))
        .map_err(|()| refused("authority"))?;
    let mut path = p.url.path().to_owned();
    if let Some(q) = p.url.query() {
        path.push('?');
        path.push_str(q);
    }
    request
        .set_path_with_query(Some(&path))
        .map_err(|()| refused("path"))?;
    let timeout_ns = u64::from(p.timeout_ms) * 1_000_000;
    let options = RequestOptions::new();
    // A platform that cannot set one of these still has the deadline below.
    let _ = options.set_connect_timeout(Some(timeout_ns));
    let _ = options.set_first_byte_timeout(Some(timeout_ns));
    let _ = options.set_between_bytes_timeout(Some(timeout_ns));
    let body = request.body().map_err(|()| refused("body"))?;
    let deadline = monotonic_clock::now().saturating_add(timeout_ns);
    let response = outgoing_handler::handle(request, Some(options)).map_err(error)?;
    if let Some(bytes) = p.body {
        let stream = body.write().map_err(|()| refused("body stream"))?;
        for chunk in bytes.chunks(4096) {
            stream
                .blocking_write_and_flush(chunk)
                .map_err(|e| HttpError::Transport(format!("writing the request body: {e:?}")))?;
        }
    }
    OutgoingBody::finish(body, None).map_err(error)?;
    Ok(InFlight { response, deadline })
}

/// True when `pollable` became ready before `deadline`.
fn ready_before(pollable: &poll::Pollable, deadline: monotonic_clock::Instant) -> bool {
    let timer = monotonic_clock::subscribe_instant(deadline);
    poll::poll(&[pollable, &timer]).contains(&0)
}

/// Waits for the answer and reads it, at most [`limits::MAX_RESPONSE_BYTES`] of body.
pub(crate) fn finish(f: InFlight) -> Result<Response, HttpError> {
    let response = loop {
        let ready = ready_before(&f.response.subscribe(), f.deadline);
        if !ready {
            return Err(HttpError::Timeout);
        }
        if let Some(answer) = f.response.get() {
            break answer
                .map_err(|()| HttpError::Other("the response was taken twice".into()))?
                .map_err(error)?;
        }
    };
    let status = response.status();
    let mut headers = Vec::new();
    for (name, value) in response.headers().entries() {
        headers.push((
            name.to_ascii_lowercase(),
            String::from_utf8_lossy(&value).into_owned(),
        ));
    }
    let declared = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.trim().parse::<usize>().ok());
    if declared.is_some_and(|n| n > limits::MAX_RESPONSE_BYTES) {
        return Err(HttpError::TooLarge);
    }
    let incoming = response
        .consume()
        .map_err(|()| HttpError::Other("the response body was taken twice".into()))?;
    let mut body = Vec::new();
    {
        let stream = incoming
            .stream()
            .map_err(|()| HttpError::Other("the response body stream was taken twice".into()))?;
        loop {
            if !ready_before(&stream.subscribe(), f.deadline) {
                return Err(HttpError::Timeout);
            }
            match stream.read(64 * 1024) {
                Ok(chunk) => {
                    body.extend_from_slice(&chunk);
                    if body.len() > limits::MAX_RESPONSE_BYTES {
                        return Err(HttpError::TooLarge);
                    }
                }
                Err(StreamError::Closed) => break,
                Err(StreamError::LastOperationFailed(e)) => {
                    return Err(
                        match crate::component::bindings::wasi::http::types::http_error_code(&e) {
                            Some(code) => error(code),
                            None => HttpError::Transport(e.to_debug_string()),
                        },
                    );
                }
            }
        }
    }
    drop(IncomingBody::finish(incoming));
    Ok(Response {
        status,
        headers,
        body,
    })
}
