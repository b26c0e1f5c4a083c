//! [`FakeTransport`]: a scripted [`Transport`] for native tests and benchmarks (the
//! `testing` feature; never part of a component).

use std::cell::RefCell;
use std::collections::HashMap;

use crate::transport::{HostLimit, HostLimits, HttpError, Method, Request, Response, Transport};

/// One scripted answer of a [`FakeTransport`].
pub type Scripted = Result<Response, HttpError>;

/// One call the connector made on a [`FakeTransport`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// A `send` of one request.
    Send(Request),
    /// A `send_all` of a batch.
    SendAll(Vec<Request>),
}

/// A scripted transport: responses by method and exact URL, every request recorded.
///
/// Responses scripted for one `(method, url)` are served in order; the last one repeats.
/// A request with no script gets `HttpError::Other("no response scripted for …")`.
///
/// With [`FakeTransport::with_limits`] it also behaves like a host with limits: a `send_all`
/// longer than `max_batch`, or a request past the budget, fails as the host's would.
#[derive(Debug, Default)]
pub struct FakeTransport {
    script: RefCell<HashMap<(Method, String), Vec<Scripted>>>,
    calls: RefCell<Vec<Call>>,
    limits: Option<HostLimits>,
}

impl FakeTransport {
    /// An empty fake.
    pub fn new() -> Self {
        FakeTransport::default()
    }

    /// A fake that enforces `limits` as a host would (`requests_remaining` is ignored: the
    /// budget is `max_requests`, counted over every request sent).
    pub fn with_limits(limits: HostLimits) -> Self {
        FakeTransport {
            limits: Some(limits),
            ..FakeTransport::default()
        }
    }

    fn sent(&self) -> usize {
        self.calls
            .borrow()
            .iter()
            .map(|c| match c {
                Call::Send(_) => 1,
                Call::SendAll(rs) => rs.len(),
            })
            .sum()
    }

    /// The host-limit error for one more request, when a limit forbids it.
    fn over_budget(&self, extra: usize) -> Option<HttpError> {
        let limits = self.limits?;
        let max = usize::try_from(limits.max_requests).unwrap_or(usize::MAX);
        (self.sent() + extra > max).then_some(HttpError::LimitExceeded(HostLimit::MaxRequests))
    }

    /// Scripts one more result for `method url`.
    pub fn on(&self, method: Method, url: &str, result: Result<Response, HttpError>) -> &Self {
        self.script
            .borrow_mut()
            .entry((method, url.to_string()))
            .or_default()
            .push(result);
        self
    }

    /// Scripts a JSON response for `GET url`.
    pub fn on_get(&self, url: &str, status: u16, body: &str) -> &Self {
        self.on(Method::Get, url, Ok(Response::json(status, body)))
    }

    /// Every call made, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.calls.borrow().clone()
    }

    /// Every request sent, flattened over `send` and `send_all`, in order.
    pub fn requests(&self) -> Vec<Request> {
        self.calls
            .borrow()
            .iter()
            .flat_map(|c| match c {
                Call::Send(r) => vec![r.clone()],
                Call::SendAll(rs) => rs.clone(),
            })
            .collect()
    }

    /// The requests that were not GETs (writes and searches).
    pub fn non_get_requests(&self) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.method != Method::Get)
            .collect()
    }

    fn answer(&self, req: &Request) -> Result<Response, HttpError> {
        let mut script = self.script.borrow_mut();
        match script.get_mut(&(req.method, req.url.clone())) {
            Some(queue) if queue.len() > 1 => queue.remove(0),
            Some(queue) => match queue.first() {
                Some(r) => r.clone(),
                None => Err(no_script(req)),
            },
            None => Err(no_script(req)),
        }
    }
}

fn no_script(req: &Request) -> HttpError {
    HttpError::Other(format!(
        "fake transport: no response scripted for {} {}",
        req.method, req.url
    ))
}

impl Transport for FakeTransport {
    fn send(&self, req: Request) -> Result<Response, HttpError> {
        let result = match self.over_budget(1) {
            Some(e) => Err(e),
            None => self.answer(&req),
        };
        self.calls.borrow_mut().push(Call::Send(req));
        result
    }

    fn send_all(&self, reqs: Vec<Request>) -> Vec<Result<Response, HttpError>> {
        let too_long = self
            .limits
            .filter(|l| usize::try_from(l.max_batch).is_ok_and(|max| reqs.len() > max));
        let results = if too_long.is_some() {
            reqs.iter()
                .map(|_| Err(HttpError::LimitExceeded(HostLimit::MaxBatch)))
                .collect()
        } else {
            reqs.iter()
                .enumerate()
                .map(|(i, r)| match self.over_budget(i + 1) {
                    Some(e) => Err(e),
                    None => self.answer(r),
                })
                .collect()
        };
        self.calls.borrow_mut().push(Call::SendAll(reqs));
        results
    }

    fn limits(&self) -> HostLimits {
        match self.limits {
            None => HostLimits::UNLIMITED,
            Some(l) => {
                let max = usize::try_from(l.max_requests).unwrap_or(usize::MAX);
                let left = max.saturating_sub(self.sent());
                HostLimits {
                    requests_remaining: u32::try_from(left).unwrap_or(u32::MAX),
                    ..l
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::Auth;

    #[test]
    fn fake_serves_in_order_then_repeats_and_records() {
        let fake = FakeTransport::new();
        fake.on_get("https://x/a", 500, "{}")
            .on_get("https://x/a", 200, "{}");
        let get = || Request::get("https://x/a", Auth::bearer("scim_token"), 1000);
        assert_eq!(fake.send(get()).map(|r| r.status), Ok(500));
        assert_eq!(fake.send(get()).map(|r| r.status), Ok(200));
        assert_eq!(fake.send(get()).map(|r| r.status), Ok(200));
        let batch = fake.send_all(vec![
            get(),
            Request::get("https://x/b", Auth::bearer("k"), 1),
        ]);
        assert_eq!(batch.len(), 2);
        assert!(matches!(&batch[1], Err(HttpError::Other(m)) if m.contains("GET https://x/b")));
        assert_eq!(fake.calls().len(), 4);
        assert_eq!(fake.requests().len(), 5);
        assert!(fake.non_get_requests().is_empty());
    }

    #[test]
    fn limits_are_enforced_as_a_host_would() {
        let fake = FakeTransport::with_limits(HostLimits {
            max_batch: 2,
            max_in_flight: 1,
            max_requests: 3,
            requests_remaining: 3,
        });
        fake.on_get("https://x/a", 200, "{}");
        let get = || Request::get("https://x/a", Auth::bearer("k"), 1);
        let long = fake.send_all(vec![get(), get(), get()]);
        assert!(
            long.iter()
                .all(|r| *r == Err(HttpError::LimitExceeded(HostLimit::MaxBatch)))
        );
        assert_eq!(fake.limits().requests_remaining, 0);
        assert_eq!(
            fake.send(get()),
            Err(HttpError::LimitExceeded(HostLimit::MaxRequests))
        );
    }
}
