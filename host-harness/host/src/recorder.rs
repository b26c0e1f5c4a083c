//! The record of every HTTP exchange a guest made: the audit trail's raw material.
//!
//! A record holds what was asked and what came back, by name and size. It never holds a
//! header value or a secret: credentials appear only as the *name* of the secret the host
//! attached.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;

/// One request the guest asked for, and what became of it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Exchange {
    /// Order within the invocation, from 0.
    pub seq: usize,
    /// The `send-all` batch the request belonged to (`None` for a single `send`).
    pub batch: Option<usize>,
    /// HTTP method.
    pub method: String,
    /// True when the request may change state: anything but GET and HEAD, unless the
    /// connector marked it read-only (a search sent as POST).
    pub write: bool,
    /// The URL as the guest gave it (it never contains a secret: the guest has none).
    pub url: String,
    /// How the host authenticated it, by secret name: `bearer directory_token`, `basic portal_user:portal_token`.
    pub auth: Option<String>,
    /// Request body size in bytes.
    pub request_bytes: usize,
    /// The response status, when a response came back.
    pub status: Option<u16>,
    /// Response body size in bytes.
    pub response_bytes: usize,
    /// Why there was no response (`denied: …`, `timeout`, `too-large`, `transport: …`).
    pub error: Option<String>,
    /// How many times the host sent it (retries of 429/503 and idempotent failures included).
    pub attempts: u32,
    /// Time the host spent waiting between attempts.
    #[serde(serialize_with = "as_millis")]
    pub retry_wait: Duration,
    /// Time the request waited for its tenant's rate-governor lane ([`crate::governor`]).
    #[serde(
        serialize_with = "as_millis",
        skip_serializing_if = "Duration::is_zero"
    )]
    pub pace_wait: Duration,
    /// Wall-clock time of the exchange, retries included.
    #[serde(serialize_with = "as_millis")]
    pub duration: Duration,
}

impl Exchange {
    /// True when the request may change state (see [`Exchange::write`]).
    pub fn is_write(&self) -> bool {
        self.write
    }

    /// True when the request actually left the host: it was not refused before sending (by
    /// policy, a size cap or a host limit: no attempt was made) nor denied at connect time
    /// (a blocked address, found after name resolution and before connecting).
    pub fn was_sent(&self) -> bool {
        self.attempts > 0
            && !self
                .error
                .as_deref()
                .is_some_and(|e| e.starts_with("denied"))
    }
}

fn as_millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1000.0)
}

/// A shared, append-only list of exchanges for one invocation.
#[derive(Clone, Debug, Default)]
pub struct Recorder(Arc<Mutex<Vec<Exchange>>>);

impl Recorder {
    /// Appends one exchange, numbering it.
    pub fn push(&self, mut exchange: Exchange) {
        let mut log = self.0.lock().unwrap_or_else(|e| e.into_inner());
        exchange.seq = log.len();
        log.push(exchange);
    }

    /// A copy of everything recorded so far.
    pub fn snapshot(&self) -> Vec<Exchange> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Waves on the critical path of one invocation when each `send-all` runs at most `width`
/// requests at once: a batch of N is ⌈N ÷ width⌉ waves, each single `send` one more. With
/// every batch within `width`, this is [`round_trips`].
pub fn waves(exchanges: &[Exchange], width: usize) -> usize {
    let mut sizes: std::collections::BTreeMap<usize, usize> = Default::default();
    for b in exchanges.iter().filter_map(|e| e.batch) {
        *sizes.entry(b).or_default() += 1;
    }
    let width = width.max(1);
    sizes.values().map(|n| n.div_ceil(width)).sum::<usize>()
        + exchanges.iter().filter(|e| e.batch.is_none()).count()
}

/// Round trips on the critical path of one invocation: each `send-all` batch is one, each
/// single `send` another (the connector issues them one after another).
pub fn round_trips(exchanges: &[Exchange]) -> usize {
    let mut batches: Vec<usize> = exchanges.iter().filter_map(|e| e.batch).collect();
    batches.sort_unstable();
    batches.dedup();
    batches.len() + exchanges.iter().filter(|e| e.batch.is_none()).count()
}
