//! [`HostTransport`]: the [`Transport`] over the host's `http-client` import (wasm32 only).

use crate::transport::{
    Auth, HostLimit, HostLimits, HttpError, Method, Request, Response, Transport,
};
use crate::wit::lifecycle::connector::http_client as http;

/// The host's `http-client` import as a [`Transport`].
#[derive(Debug, Clone, Copy, Default)]
pub struct HostTransport;

impl Transport for HostTransport {
    fn send(&self, req: Request) -> Result<Response, HttpError> {
        http::send(&to_wit_request(req))
            .map(from_wit_response)
            .map_err(from_wit_http_error)
    }

    fn send_all(&self, reqs: Vec<Request>) -> Vec<Result<Response, HttpError>> {
        // Loops rather than iterator chains: each chain costs a component hundreds of bytes.
        let mut wit_reqs = Vec::with_capacity(reqs.len());
        for r in reqs {
            wit_reqs.push(to_wit_request(r));
        }
        let answers = http::send_all(&wit_reqs);
        let mut out = Vec::with_capacity(answers.len());
        for r in answers {
            out.push(match r {
                Ok(r) => Ok(from_wit_response(r)),
                Err(e) => Err(from_wit_http_error(e)),
            });
        }
        out
    }

    fn limits(&self) -> HostLimits {
        let l = http::limits();
        HostLimits {
            max_batch: l.max_batch,
            max_in_flight: l.max_in_flight,
            max_requests: l.max_requests,
            requests_remaining: l.requests_remaining,
        }
    }
}

fn to_wit_request(r: Request) -> http::Request {
    http::Request {
        method: match r.method {
            Method::Get => http::Method::Get,
            Method::Head => http::Method::Head,
            Method::Post => http::Method::Post,
            Method::Put => http::Method::Put,
            Method::Patch => http::Method::Patch,
            Method::Delete => http::Method::Delete,
        },
        url: r.url,
        headers: r.headers,
        body: r.body,
        auth: r.auth.map(|a| match a {
            Auth::Bearer(k) => http::Auth::Bearer(k),
            Auth::Basic {
                user_config_key,
                secret_key,
            } => http::Auth::Basic(http::BasicAuth {
                user_config_key,
                secret_key,
            }),
        }),
        timeout_ms: r.timeout_ms,
        read_only: r.read_only,
    }
}

fn from_wit_response(r: http::Response) -> Response {
    Response {
        status: r.status,
        headers: r.headers,
        body: r.body,
    }
}

fn from_wit_http_error(e: http::HttpError) -> HttpError {
    match e {
        http::HttpError::Denied(s) => HttpError::Denied(s),
        http::HttpError::LimitExceeded(l) => HttpError::LimitExceeded(match l {
            http::HostLimit::MaxBatch => HostLimit::MaxBatch,
            http::HostLimit::MaxRequests => HostLimit::MaxRequests,
        }),
        http::HttpError::Timeout => HttpError::Timeout,
        http::HttpError::TooLarge => HttpError::TooLarge,
        http::HttpError::Transport(s) => HttpError::Transport(s),
        http::HttpError::Other(s) => HttpError::Other(s),
    }
}
