//! The limits every invocation runs under, and the memory limiter that enforces them.

use std::time::Duration;

/// Resource limits for one invocation of a guest, and for its HTTP traffic.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest linear memory a guest may grow to.
    pub memory_bytes: usize,
    /// Guest CPU time (time spent outside host calls) before the invocation is interrupted.
    pub cpu_time: Duration,
    /// Wall-clock time for the whole invocation, HTTP included.
    pub wall_time: Duration,
    /// Longest a single HTTP request may take; a guest's `timeout-ms` is capped to this.
    pub request_timeout: Duration,
    /// Largest request body a guest may send.
    pub max_request_bytes: usize,
    /// Largest response body passed back to a guest.
    pub max_response_bytes: usize,
    /// Most requests in flight at once for one `send-all`. The default, 64, sends an
    /// action's whole batch in one wave (a deprovision of a user in 64 groups, a
    /// manage-relationships of 64 groups), so a batch costs one latency, while still
    /// capping the connections one guest can open at once well below `max_batch`.
    pub send_all_concurrency: usize,
    /// Most requests in one `send-all` call.
    pub max_batch: usize,
    /// Most requests in one invocation.
    pub max_requests: usize,
    /// How 429s, 503s and idempotent failures are retried.
    pub retry: crate::retry::RetryPolicy,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            memory_bytes: 64 << 20,
            cpu_time: Duration::from_secs(2),
            wall_time: Duration::from_secs(120),
            request_timeout: Duration::from_secs(30),
            max_request_bytes: 1 << 20,
            max_response_bytes: 16 << 20,
            send_all_concurrency: 64,
            max_batch: 256,
            max_requests: 5_000,
            retry: crate::retry::RetryPolicy::default(),
        }
    }
}

/// Wasmtime's [`StoreLimits`](wasmtime::StoreLimits) for one store, plus a flag recording
/// whether it refused a memory growth, so a trap that follows can be reported as
/// "out of memory" rather than as a generic crash.
pub struct MemoryLimiter {
    limits: wasmtime::StoreLimits,
    /// Set when a growth request was refused.
    pub exhausted: bool,
    /// The largest linear memory granted so far, in bytes.
    pub peak: usize,
}

impl MemoryLimiter {
    /// A limiter for at most `max_memory` bytes of linear memory per memory, a handful of
    /// instances, tables and memories, and bounded tables.
    pub fn new(max_memory: usize) -> Self {
        Self {
            limits: wasmtime::StoreLimitsBuilder::new()
                .memory_size(max_memory)
                .table_elements(100_000)
                .instances(16)
                .tables(16)
                .memories(4)
                .build(),
            exhausted: false,
            peak: 0,
        }
    }
}

impl wasmtime::ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = self.limits.memory_growing(current, desired, maximum)?
            && maximum.is_none_or(|m| desired <= m);
        self.exhausted |= !allowed;
        if allowed {
            self.peak = self.peak.max(desired);
        }
        Ok(allowed)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.limits.table_growing(current, desired, maximum)
    }

    fn instances(&self) -> usize {
        self.limits.instances()
    }

    fn tables(&self) -> usize {
        self.limits.tables()
    }

    fn memories(&self) -> usize {
        self.limits.memories()
    }
}
