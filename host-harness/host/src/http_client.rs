//! The host's implementation of the guest's only way out: the `http-client` import.
//!
//! Every request passes, in order: the per-invocation request budget, the egress allow-list
//! (URL and the secret it names), header rules (no guest-set credentials, no hop-by-hop or
//! `Host` overrides), the request size cap; then the host attaches the credential, sends it
//! with a timeout and without following redirects, through a client that checks every
//! resolved address before connecting ([`crate::network`]), reads at most the response size
//! cap, takes every form of every tenant secret out of what came back (body, headers,
//! transport errors: an upstream that echoes the `Authorization` header gets nothing to the
//! guest, the terminal or the audit log), and records the exchange without any header value
//! or secret.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use futures::StreamExt as _;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::bindings::http_client::{
    Auth, HostLimit, HostLimits as GuestLimits, HttpError, Method, Request, Response,
};
use crate::egress::EgressPolicy;
use crate::governor::{Governor, LaneKey, Priority};
use crate::limits::Limits;
use crate::network::{AddressRules, BlockedAddress, GuardedResolver, Resolver};
use crate::recorder::{Exchange, Recorder};
use crate::retry::Attempt;
use crate::secrets::Scrubber;
use crate::tenant::Tenant;

/// Headers a guest may not set: credentials are the host's job, and these others would let a
/// guest reroute or desynchronise a request behind the allow-list's back.
const FORBIDDEN_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
];

/// Builds an outbound client: rustls, no redirects, no proxies from the environment, and names
/// resolved only through a [`GuardedResolver`] over `resolver`, so every new connection is
/// checked against `rules` after resolution and before connecting.
pub fn outbound_client(rules: AddressRules, resolver: &Resolver) -> reqwest::Result<NetworkClient> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(GuardedResolver::new(resolver.clone(), rules)))
        .user_agent(concat!(
            "lifecycle-host-harness/",
            env!("CARGO_PKG_VERSION")
        ))
        .pool_idle_timeout(Duration::from_secs(30))
        .build()
        .map(|client| NetworkClient { client, rules })
}

/// A client built by [`outbound_client`]: only the host builds one, so no caller can hand the
/// sandbox a client that skips the address check.
#[derive(Clone)]
pub struct NetworkClient {
    client: reqwest::Client,
    rules: AddressRules,
}

impl NetworkClient {
    /// The address rules its resolver enforces.
    pub fn rules(&self) -> AddressRules {
        self.rules
    }
}

/// A request as it leaves the sandbox for an [`Upstream::InProcess`] answerer: every policy
/// applied and the credential attached, exactly what would go on the wire.
pub struct OutboundRequest<'a> {
    /// The method.
    pub method: &'a reqwest::Method,
    /// The URL the egress policy allowed.
    pub url: &'a url::Url,
    /// The headers, `Authorization` included (marked sensitive).
    pub headers: &'a HeaderMap,
    /// The body, if any.
    pub body: Option<&'a [u8]>,
}

/// An in-process answerer: a function from request to response, with no socket.
pub type AnswerFn = dyn Fn(&OutboundRequest<'_>) -> Response + Send + Sync;

/// Where requests go once the sandbox let them through. Only the socket differs: the
/// budget, allow-list, header rules, size caps, credential injection, timeout, retries and
/// recording apply to both.
#[derive(Clone)]
pub enum Upstream {
    /// The network, through a guarded client (the default).
    Network(NetworkClient),
    /// A function answering in process, with zero latency: for measuring the host's and the
    /// guest's own cost per action.
    InProcess(Arc<AnswerFn>),
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Upstream::Network(_) => "Upstream::Network",
            Upstream::InProcess(_) => "Upstream::InProcess",
        })
    }
}

impl Upstream {
    /// The network, through [`outbound_client`].
    pub fn network(rules: AddressRules, resolver: &Resolver) -> reqwest::Result<Self> {
        outbound_client(rules, resolver).map(Upstream::Network)
    }

    /// An in-process answerer.
    pub fn in_process(
        answer: impl Fn(&OutboundRequest<'_>) -> Response + Send + Sync + 'static,
    ) -> Self {
        Upstream::InProcess(Arc::new(answer))
    }
}

/// Per-invocation HTTP state of one guest.
pub struct HttpContext {
    client: Upstream,
    tenant: Arc<Tenant>,
    policy: Arc<EgressPolicy>,
    limits: Arc<Limits>,
    recorder: Recorder,
    /// The tenant's, looked up on the first answer, then used for every answer.
    scrubber: OnceLock<Arc<Scrubber>>,
    requests: usize,
    batches: usize,
    /// A dry run of a connector that marks its reads: every write is denied.
    writes_refused: bool,
    /// The rate governor shared by every invocation, when there is one.
    governor: Option<Arc<Governor>>,
    /// The tenant's name for the governor (a digest of its settings).
    tenant_key: String,
    /// This invocation's priority in its tenant's lanes.
    priority: Priority,
}

/// A request that passed every check and is ready to go on the wire.
struct Prepared {
    method: reqwest::Method,
    url: url::Url,
    headers: HeaderMap,
    body: Option<Vec<u8>>,
    timeout: Duration,
    exchange: Exchange,
    /// The governor lane: this tenant and the grant the URL falls under.
    lane: Option<LaneKey>,
}

impl HttpContext {
    /// State for one invocation of one tenant.
    pub fn new(
        client: Upstream,
        tenant: Arc<Tenant>,
        policy: Arc<EgressPolicy>,
        limits: Arc<Limits>,
        recorder: Recorder,
    ) -> Self {
        Self {
            client,
            tenant,
            policy,
            limits,
            recorder,
            scrubber: OnceLock::new(),
            requests: 0,
            batches: 0,
            writes_refused: false,
            governor: None,
            tenant_key: String::new(),
            priority: Priority::Normal,
        }
    }

    /// Paces every request through `governor`'s lanes of this tenant, at `priority`.
    pub fn governed(mut self, governor: Arc<Governor>, priority: Priority) -> Self {
        self.tenant_key = LaneKey::tenant_digest(&self.tenant);
        self.governor = Some(governor);
        self.priority = priority;
        self
    }

    /// Denies every write from now on: the invocation is a dry run of a connector whose
    /// contract marks read-only requests, so nothing but reads may leave.
    pub fn refuse_writes(&mut self) {
        self.writes_refused = true;
    }

    /// `limits`: the limits this invocation runs under, and what is left of its budget.
    pub fn limits(&self) -> GuestLimits {
        let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        GuestLimits {
            max_batch: clamp(self.limits.max_batch),
            max_in_flight: clamp(self.limits.send_all_concurrency.max(1)),
            max_requests: clamp(self.limits.max_requests),
            requests_remaining: clamp(self.limits.max_requests.saturating_sub(self.requests)),
        }
    }

    /// The tenant's scrubber (looked up on first use: an invocation that sends nothing pays
    /// nothing; built once per tenant).
    fn scrubber(&self) -> &Scrubber {
        self.scrubber
            .get_or_init(|| Scrubber::shared_for_tenant(&self.tenant))
    }

    /// `send`: one request.
    pub async fn send(&mut self, request: Request) -> Result<Response, HttpError> {
        let prepared = self.prepare(request, None)?;
        let scrubber = self.scrubber();
        let pace = self.pace();
        execute(
            &self.client,
            &self.limits,
            &self.recorder,
            scrubber,
            pace,
            prepared,
        )
        .await
    }

    /// `send-all`: independent requests, concurrently (at most `send_all_concurrency` in
    /// flight, a new one starting whenever any is answered), results in request order.
    pub async fn send_all(&mut self, requests: Vec<Request>) -> Vec<Result<Response, HttpError>> {
        let batch = self.batches;
        self.batches += 1;
        if requests.len() > self.limits.max_batch {
            let why = format!(
                "{HOST_LIMIT} a send-all of {} requests exceeds max-batch ({})",
                requests.len(),
                self.limits.max_batch
            );
            requests
                .into_iter()
                .map(|r| {
                    self.recorder
                        .push(refused_exchange(&r, Some(batch), why.clone()));
                    Err(HttpError::LimitExceeded(HostLimit::MaxBatch))
                })
                .collect()
        } else {
            let prepared: Vec<_> = requests
                .into_iter()
                .map(|r| self.prepare(r, Some(batch)))
                .collect();
            let (client, limits, recorder) = (&self.client, &*self.limits, &self.recorder);
            let scrubber = self.scrubber();
            let pace = self.pace();
            // A slot frees as soon as any request is answered, not when the oldest is: with
            // answers held for request order (`buffered`), one slow request stalled the whole
            // window behind it. The order of the results is restored once all are in.
            let mut answered: Vec<(usize, Result<Response, HttpError>)> =
                futures::stream::iter(prepared.into_iter().enumerate())
                    .map(|(i, p)| async move {
                        let answer = match p {
                            Ok(p) => execute(client, limits, recorder, scrubber, pace, p).await,
                            Err(e) => Err(e),
                        };
                        (i, answer)
                    })
                    .buffer_unordered(self.limits.send_all_concurrency.max(1))
                    .collect()
                    .await;
            answered.sort_unstable_by_key(|(i, _)| *i);
            answered.into_iter().map(|(_, answer)| answer).collect()
        }
    }

    /// The governor and priority requests are paced with.
    fn pace(&self) -> Pace<'_> {
        Pace {
            governor: self.governor.as_deref(),
            priority: self.priority,
        }
    }

    /// Applies every policy to a request. A refusal is recorded here and never sent.
    fn prepare(&mut self, request: Request, batch: Option<usize>) -> Result<Prepared, HttpError> {
        let deny = |why: String| {
            self.recorder.push(denied_exchange(&request, batch, &why));
            HttpError::Denied(why)
        };
        if self.requests >= self.limits.max_requests {
            let why = format!(
                "{HOST_LIMIT} the request budget of {} per invocation (max-requests) is spent",
                self.limits.max_requests
            );
            self.recorder
                .push(refused_exchange(&request, batch, why.clone()));
            return Err(HttpError::LimitExceeded(HostLimit::MaxRequests));
        }
        self.requests += 1;
        if self.writes_refused && is_write(&request.method, request.read_only) {
            return Err(deny(
                "a dry run sends only reads (GET, HEAD, or requests marked read-only)".into(),
            ));
        }
        let method = method(&request.method).map_err(&deny)?;

        let secret_name = match &request.auth {
            Some(Auth::Bearer(secret)) => Some(secret.as_str()),
            Some(Auth::Basic(basic)) => Some(basic.secret_key.as_str()),
            None => None,
        };
        if let Some(name) = secret_name
            && self.tenant.secrets.get(name).is_none()
        {
            return Err(deny(format!("the tenant has no secret named `{name}`")));
        }
        let url = self
            .policy
            .check(&request.url, secret_name)
            .map_err(|d| deny(d.0))?;

        let mut headers = HeaderMap::new();
        for (name, value) in &request.headers {
            let lower = name.to_ascii_lowercase();
            if FORBIDDEN_HEADERS.contains(&lower.as_str()) {
                return Err(deny(format!(
                    "header `{lower}` may not be set by the guest{}",
                    if lower.contains("authorization") || lower == "cookie" {
                        " (credentials are attached by the host: use `auth`)"
                    } else {
                        ""
                    }
                )));
            }
            let name = HeaderName::from_bytes(lower.as_bytes())
                .map_err(|_| deny(format!("invalid header name `{lower}`")))?;
            let value = HeaderValue::from_str(value)
                .map_err(|_| deny(format!("invalid value for header `{name}`")))?;
            headers.append(name, value);
        }

        let body_len = request.body.as_ref().map_or(0, Vec::len);
        if body_len > self.limits.max_request_bytes {
            let why = format!(
                "request body of {body_len} bytes exceeds the cap of {}",
                self.limits.max_request_bytes
            );
            let mut exchange = denied_exchange(&request, batch, &why);
            exchange.error = Some(format!("too-large: {why}"));
            self.recorder.push(exchange);
            return Err(HttpError::TooLarge);
        }

        let (auth_value, auth_label) = match &request.auth {
            None => (None, None),
            Some(Auth::Bearer(key)) => {
                let secret = self
                    .tenant
                    .secrets
                    .get(key)
                    .ok_or_else(|| deny(format!("the tenant has no secret named `{key}`")))?;
                (
                    Some(format!("Bearer {}", secret.expose())),
                    Some(format!("bearer {key}")),
                )
            }
            Some(Auth::Basic(basic)) => {
                let user = self
                    .tenant
                    .settings
                    .get(&basic.user_config_key)
                    .ok_or_else(|| {
                        deny(format!(
                            "the tenant has no setting named `{}`",
                            basic.user_config_key
                        ))
                    })?;
                let secret = self.tenant.secrets.get(&basic.secret_key).ok_or_else(|| {
                    deny(format!(
                        "the tenant has no secret named `{}`",
                        basic.secret_key
                    ))
                })?;
                let token = base64::engine::general_purpose::STANDARD
                    .encode(format!("{user}:{}", secret.expose()));
                (
                    Some(format!("Basic {token}")),
                    Some(format!(
                        "basic {}:{}",
                        basic.user_config_key, basic.secret_key
                    )),
                )
            }
        };
        if let Some(value) = auth_value {
            let mut value = HeaderValue::from_str(&value)
                .map_err(|_| deny("the secret is not a valid header value".into()))?;
            value.set_sensitive(true);
            headers.insert(reqwest::header::AUTHORIZATION, value);
        }

        let timeout = request
            .timeout_ms
            .map(|ms| Duration::from_millis(ms.into()))
            .unwrap_or(self.limits.request_timeout)
            .min(self.limits.request_timeout);

        let mut exchange = base_exchange(&request, batch);
        exchange.auth = auth_label;
        let lane = self.governor.as_ref().and_then(|_| {
            self.policy.grant_for(&url).map(|grant| LaneKey {
                tenant: self.tenant_key.clone(),
                api: grant.describe(),
            })
        });
        Ok(Prepared {
            lane,
            method,
            url,
            headers,
            body: request.body,
            timeout,
            exchange,
        })
    }
}

fn method(m: &Method) -> Result<reqwest::Method, String> {
    Ok(match m {
        Method::Get => reqwest::Method::GET,
        Method::Head => reqwest::Method::HEAD,
        Method::Post => reqwest::Method::POST,
        Method::Put => reqwest::Method::PUT,
        Method::Patch => reqwest::Method::PATCH,
        Method::Delete => reqwest::Method::DELETE,
        Method::Other(token) => {
            let upper = token.to_ascii_uppercase();
            if matches!(upper.as_str(), "CONNECT" | "TRACE") {
                return Err(format!("method `{upper}` is refused"));
            }
            reqwest::Method::from_bytes(token.as_bytes())
                .map_err(|_| format!("`{token}` is not an HTTP method token"))?
        }
    })
}

fn method_name(m: &Method) -> String {
    match m {
        Method::Get => "GET".into(),
        Method::Head => "HEAD".into(),
        Method::Post => "POST".into(),
        Method::Put => "PUT".into(),
        Method::Patch => "PATCH".into(),
        Method::Delete => "DELETE".into(),
        Method::Other(token) => crate::sanitize::text(token).into_owned(),
    }
}

/// True when a request may change state: anything but GET and HEAD, unless the connector
/// marked it read-only.
pub fn is_write(method: &Method, read_only: bool) -> bool {
    !read_only && !matches!(method, Method::Get | Method::Head)
}

fn base_exchange(request: &Request, batch: Option<usize>) -> Exchange {
    Exchange {
        seq: 0,
        batch,
        method: method_name(&request.method),
        write: is_write(&request.method, request.read_only),
        url: request.url.clone(),
        auth: None,
        request_bytes: request.body.as_ref().map_or(0, Vec::len),
        status: None,
        response_bytes: 0,
        error: None,
        attempts: 0,
        retry_wait: Duration::ZERO,
        pace_wait: Duration::ZERO,
        duration: Duration::ZERO,
    }
}

/// How every refusal for a host limit begins (WIT `http-error::other`), so a connector and
/// a person can tell it from a policy denial.
pub const HOST_LIMIT: &str = "host limit:";

/// The record of a request refused for a host limit: never sent.
fn refused_exchange(request: &Request, batch: Option<usize>, why: String) -> Exchange {
    Exchange {
        error: Some(why),
        ..base_exchange(request, batch)
    }
}

fn denied_exchange(request: &Request, batch: Option<usize>, why: &str) -> Exchange {
    Exchange {
        error: Some(format!("denied: {why}")),
        ..base_exchange(request, batch)
    }
}

/// The governor a request is paced by, and at which priority.
#[derive(Clone, Copy)]
struct Pace<'a> {
    governor: Option<&'a Governor>,
    priority: Priority,
}

/// Sends a prepared request, each attempt admitted by its governor lane, retrying as
/// [`crate::retry`] allows, and records the exchange.
async fn execute(
    client: &Upstream,
    limits: &Limits,
    recorder: &Recorder,
    scrubber: &Scrubber,
    pace: Pace<'_>,
    p: Prepared,
) -> Result<Response, HttpError> {
    let started = Instant::now();
    let mut exchange = p.exchange.clone();
    let (mut attempts, mut waited, mut paced) = (0, Duration::ZERO, Duration::ZERO);
    let result = loop {
        attempts += 1;
        let permit = match pace.governor {
            Some(g) => g.admit(p.lane.as_ref(), pace.priority).await,
            None => crate::governor::Permit::free(),
        };
        paced += permit.waited;
        let result = attempt(client, limits, scrubber, &p).await;
        match &result {
            Ok(r) => permit.answered(r.status, &r.headers),
            Err(_) => drop(permit),
        }
        let kind = match &result {
            Ok(r) => Attempt::Status(r.status),
            Err((HttpError::Timeout, _)) => Attempt::Timeout,
            Err((HttpError::Transport(_), _)) => Attempt::Transport,
            Err(_) => break result,
        };
        if !crate::retry::is_retryable(p.method.as_str(), kind) {
            break result;
        }
        // Offboarding retries at the window's reset when the server names it, not at the
        // rounded-up Retry-After (the governor's high-priority lane does the same).
        let read_hint = match pace.priority {
            Priority::High => crate::retry::earliest_hint,
            Priority::Normal => crate::retry::hint,
        };
        let hint = result
            .as_ref()
            .ok()
            .and_then(|r| read_hint(&r.headers, SystemTime::now()));
        match limits.retry.wait_before(attempts + 1, hint, waited) {
            Some(wait) => {
                tokio::time::sleep(wait).await;
                waited += wait;
            }
            None => break result,
        }
    };

    exchange.attempts = attempts;
    exchange.retry_wait = waited;
    exchange.pace_wait = paced;
    exchange.duration = started.elapsed();
    match &result {
        Ok(r) => {
            exchange.status = Some(r.status);
            exchange.response_bytes = r.body.len();
        }
        Err((e, status)) => {
            exchange.status = *status;
            exchange.error = Some(describe_error(e));
        }
    }
    recorder.push(exchange);
    result.map_err(|(e, _)| e)
}

/// One attempt, and the one place every upstream answer passes, from the network or in
/// process: every form of every tenant secret is taken out of the body, the headers and any
/// error text before anything else sees them. The size cap holds for the scrubbed body too.
async fn attempt(
    upstream: &Upstream,
    limits: &Limits,
    scrubber: &Scrubber,
    p: &Prepared,
) -> Result<Response, (HttpError, Option<u16>)> {
    match read(upstream, limits, p).await {
        Ok(response) if scrubber.is_empty() => Ok(response),
        // A clean answer (nearly all of them) is passed on as it came, not copied: a page of
        // users is tens of kilobytes, and every answer goes through here.
        Ok(mut response) => {
            if let Cow::Owned(body) = scrubber.scrub_bytes(&response.body) {
                response.body = body;
            }
            if response.body.len() > limits.max_response_bytes {
                return Err((HttpError::TooLarge, Some(response.status)));
            }
            for (name, value) in &mut response.headers {
                scrub_in_place(scrubber, name);
                scrub_in_place(scrubber, value);
            }
            Ok(response)
        }
        Err((error, status)) => Err((
            match error {
                HttpError::Transport(why) => {
                    HttpError::Transport(scrubber.scrub(&why).into_owned())
                }
                HttpError::Other(why) => HttpError::Other(scrubber.scrub(&why).into_owned()),
                HttpError::Denied(why) => HttpError::Denied(scrubber.scrub(&why).into_owned()),
                other => other,
            },
            status,
        )),
    }
}

/// `text` with every form of every secret taken out; left as it is (no copy) when clean.
fn scrub_in_place(scrubber: &Scrubber, text: &mut String) {
    if let Cow::Owned(clean) = scrubber.scrub(text) {
        *text = clean;
    }
}

/// Sends, then reads the body within the timeout and the size cap: the upstream's answer as it
/// came.
async fn read(
    upstream: &Upstream,
    limits: &Limits,
    p: &Prepared,
) -> Result<Response, (HttpError, Option<u16>)> {
    let client = match upstream {
        Upstream::Network(network) => &network.client,
        Upstream::InProcess(answer) => {
            let response = answer(&OutboundRequest {
                method: &p.method,
                url: &p.url,
                headers: &p.headers,
                body: p.body.as_deref(),
            });
            if response.body.len() > limits.max_response_bytes {
                return Err((HttpError::TooLarge, Some(response.status)));
            }
            return Ok(response);
        }
    };
    let mut builder = client
        .request(p.method.clone(), p.url.clone())
        .headers(p.headers.clone());
    if let Some(body) = &p.body {
        builder = builder.body(body.clone());
    }
    tokio::time::timeout(p.timeout, async {
        let mut response = builder.send().await.map_err(transport_error)?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect::<Vec<_>>();
        let cap = limits.max_response_bytes;
        if response.content_length().is_some_and(|n| n > cap as u64) {
            return Err((HttpError::TooLarge, Some(status)));
        }
        // Room for the announced length up front (a page arrives in many chunks), but never
        // more than 1 MiB on an upstream's word: a larger body grows as it really comes.
        let announced = response.content_length().unwrap_or(0).min(1 << 20);
        let mut body = Vec::with_capacity(usize::try_from(announced).unwrap_or(0));
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| (transport_error(e).0, Some(status)))?
        {
            if body.len() + chunk.len() > cap {
                return Err((HttpError::TooLarge, Some(status)));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Response {
            status,
            headers,
            body,
        })
    })
    .await
    .unwrap_or(Err((HttpError::Timeout, None)))
}

fn transport_error(e: reqwest::Error) -> (HttpError, Option<u16>) {
    // An address the guard refused: nothing was sent, and it is the policy's answer.
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        if let Some(blocked) = s.downcast_ref::<BlockedAddress>() {
            return (HttpError::Denied(blocked.to_string()), None);
        }
        source = s.source();
    }
    if e.is_timeout() {
        return (HttpError::Timeout, None);
    }
    // Describe the cause chain without the URL (which the guest already knows).
    let e = e.without_url();
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    (HttpError::Transport(message), None)
}

/// The short form of an error used in exchange records: `timeout`, `too-large`, `denied: …`.
pub fn describe_error(e: &HttpError) -> String {
    match e {
        HttpError::Denied(why) => format!("denied: {why}"),
        HttpError::Timeout => "timeout".into(),
        HttpError::TooLarge => "too-large".into(),
        HttpError::Transport(why) => format!("transport: {why}"),
        HttpError::LimitExceeded(HostLimit::MaxBatch) => format!("{HOST_LIMIT} max-batch"),
        HttpError::LimitExceeded(HostLimit::MaxRequests) => format!("{HOST_LIMIT} max-requests"),
        HttpError::Other(why) => format!("other: {why}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::http_client::BasicAuth;

    const DIRECTORY_TOKEN: &str = "directory-T0ken-abcdefghijklmnop";
    const PORTAL_TOKEN: &str = "portal-T0ken-qrstuvwxyz0123";

    fn tenant(base: &str) -> Tenant {
        Tenant::default()
            .with_setting("directory_url", format!("{base}/dir/d1"))
            .with_setting("portal_url", base)
            .with_setting("portal_user", "bot@example.com")
            .with_secret("directory_token", DIRECTORY_TOKEN)
            .with_secret("portal_token", PORTAL_TOKEN)
    }

    fn context(upstream: Upstream, tenant: Tenant) -> (HttpContext, Recorder) {
        let recorder = Recorder::default();
        let operator = crate::OperatorPolicy::local_simulator();
        let policy = Arc::new(EgressPolicy::for_tenant(
            &tenant,
            &crate::egress::tests::declaration(),
            &operator,
        ));
        let context = HttpContext::new(
            upstream,
            Arc::new(tenant),
            policy,
            Arc::new(Limits::default()),
            recorder.clone(),
        );
        (context, recorder)
    }

    fn requests(base: &str) -> Vec<Request> {
        let get = |url: String, auth| Request {
            method: Method::Get,
            url,
            headers: vec![],
            body: None,
            auth: Some(auth),
            timeout_ms: None,
            read_only: false,
        };
        vec![
            get(
                format!("{base}/dir/d1/Users"),
                Auth::Bearer("directory_token".into()),
            ),
            get(
                format!("{base}/rest/api/3/myself"),
                Auth::Basic(BasicAuth {
                    user_config_key: "portal_user".into(),
                    secret_key: "portal_token".into(),
                }),
            ),
        ]
    }

    /// Everything of a response or error that the guest is handed, as text.
    fn seen(result: &Result<Response, HttpError>) -> String {
        match result {
            Ok(r) => format!("{:?} {}", r.headers, String::from_utf8_lossy(&r.body)),
            Err(e) => describe_error(e),
        }
    }

    /// Fails naming the form that leaked, never showing the text (which would hold it).
    fn assert_no_secret(what: &str, text: &str) {
        let b64 = base64::engine::general_purpose::STANDARD;
        for (form, leak) in [
            ("directory_token", DIRECTORY_TOKEN.to_owned()),
            ("portal_token", PORTAL_TOKEN.to_owned()),
            ("base64(directory_token)", b64.encode(DIRECTORY_TOKEN)),
            (
                "base64(user:portal_token)",
                b64.encode(format!("bot@example.com:{PORTAL_TOKEN}")),
            ),
            (
                "user:portal_token",
                format!("bot@example.com:{PORTAL_TOKEN}"),
            ),
        ] {
            assert!(!text.contains(&leak), "{what}: {form} reached it");
        }
    }

    /// The answer of an upstream that echoes what it was sent: the `Authorization` header,
    /// the raw credential and its `user:token` form, in a header and in the body.
    fn echo(authorization: &str) -> Response {
        let raw = match authorization.split_once(' ') {
            Some(("Basic", b64)) => String::from_utf8(
                base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .unwrap_or_default(),
            )
            .unwrap_or_default(),
            Some((_, token)) => token.to_owned(),
            None => String::new(),
        };
        let token = raw.rsplit(':').next().unwrap_or_default().to_owned();
        Response {
            status: 401,
            headers: vec![
                ("x-echo-authorization".into(), authorization.into()),
                (format!("x-{token}"), raw.clone()),
            ],
            body: serde_json::to_vec(&serde_json::json!({
                "message": format!("bad credentials: Authorization: {authorization}"),
                "raw": raw,
                "token": token,
            }))
            .unwrap(),
        }
    }

    #[tokio::test]
    async fn an_in_process_upstream_echoing_the_credential_gives_the_guest_none_of_it() {
        let base = "https://acme.example.net";
        let upstream = Upstream::in_process(|r: &OutboundRequest<'_>| {
            let authorization = r
                .headers
                .get(reqwest::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            echo(authorization)
        });
        let (mut http, recorder) = context(upstream, tenant(base));
        let mut results = Vec::new();
        for request in requests(base) {
            results.push(http.send(request).await);
        }
        results.extend(http.send_all(requests(base)).await);
        assert_eq!(results.len(), 4);
        for result in &results {
            let text = seen(result);
            assert_no_secret("the guest", &text);
            assert!(text.contains("[redacted]"), "the echo came back: {text}");
            assert!(text.contains("bad credentials"), "the rest is kept: {text}");
        }
        assert_no_secret(
            "the exchange records",
            &serde_json::to_string(&recorder.snapshot()).unwrap(),
        );
    }

    #[tokio::test]
    async fn a_network_upstream_echoing_the_credential_gives_the_guest_none_of_it() {
        use wiremock::{Mock, MockServer, ResponseTemplate, matchers::any};
        let server = MockServer::start().await;
        Mock::given(any())
            .respond_with(|request: &wiremock::Request| {
                let authorization = request
                    .headers
                    .get(reqwest::header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                let echoed = echo(authorization);
                let mut template = ResponseTemplate::new(echoed.status);
                for (name, value) in &echoed.headers {
                    template = template.insert_header(name.as_str(), value.as_str());
                }
                template.set_body_raw(echoed.body, "application/json")
            })
            .mount(&server)
            .await;
        let base = server.uri();
        let (mut http, recorder) = context(
            Upstream::network(
                crate::OperatorPolicy::local_simulator().address_rules(),
                &crate::network::Resolver::system(),
            )
            .unwrap(),
            tenant(&base),
        );
        for request in requests(&base) {
            let result = http.send(request).await;
            let text = seen(&result);
            assert_no_secret("the guest", &text);
            assert!(
                text.contains("x-echo-authorization") && text.contains("[redacted]"),
                "{text}"
            );
        }
        assert_no_secret(
            "the exchange records",
            &serde_json::to_string(&recorder.snapshot()).unwrap(),
        );
    }

    #[tokio::test]
    async fn a_dry_run_sends_reads_only_and_tells_the_guest_why_a_write_was_not_sent() {
        let base = "https://acme.example.net";
        let upstream = Upstream::in_process(|_: &OutboundRequest<'_>| Response {
            status: 200,
            headers: vec![],
            body: b"{}".to_vec(),
        });
        let (mut http, recorder) = context(upstream, tenant(base));
        http.refuse_writes();
        let request = |method: Method, read_only: bool| Request {
            method,
            url: format!("{base}/dir/d1/Users"),
            headers: vec![],
            body: None,
            auth: Some(Auth::Bearer("directory_token".into())),
            timeout_ms: None,
            read_only,
        };
        assert!(http.send(request(Method::Get, false)).await.is_ok());
        assert!(http.send(request(Method::Head, false)).await.is_ok());
        assert!(
            http.send(request(Method::Post, true)).await.is_ok(),
            "a search"
        );
        for write in [
            Method::Post,
            Method::Patch,
            Method::Delete,
            Method::Other("QUERY".into()),
        ] {
            match http.send(request(write.clone(), false)).await {
                Err(HttpError::Denied(why)) => assert!(why.contains("dry run"), "{why}"),
                other => panic!("{write:?}: {other:?}"),
            }
        }
        let exchanges = recorder.snapshot();
        let sent: Vec<bool> = exchanges.iter().map(Exchange::was_sent).collect();
        assert_eq!(sent, [true, true, true, false, false, false, false]);
        assert!(
            !exchanges[2].is_write(),
            "a read-only POST is recorded as a read"
        );
        assert!(exchanges[3].is_write());
    }

    #[test]
    fn a_method_token_is_checked_before_anything_is_sent() {
        assert!(method(&Method::Other("QUERY".into())).is_ok());
        for bad in ["", "GE T", "TRACE", "connect", "\u{1b}[2J"] {
            assert!(method(&Method::Other(bad.into())).is_err(), "{bad:?}");
        }
    }
}
