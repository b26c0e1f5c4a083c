//! The loop behind the benchmark's native-versus-component ratio: one function, compiled
//! natively into `host-harness bench` and into the `bench-guest/` component, so the two sides
//! run literally the same code. Nothing in the connector's own exports calls it (the
//! production component's link-time optimisation drops it).

use std::cell::Cell;

use crate::model::{ChangeStatus, Config, Identity, SyncOptions};
use crate::transport::{HttpError, Method, Request, Response, Transport};

/// The loop's transport: answers `GET lookup_url` with the scripted JSON, anything else with
/// an error, and counts the requests. (The SDK's `FakeTransport` is a test double kept out of
/// the connector's non-test code.)
struct OneAnswer<'a> {
    lookup_url: &'a str,
    answer: &'a str,
    sent: Cell<u64>,
}

impl Transport for OneAnswer<'_> {
    fn send(&self, req: Request) -> Result<Response, HttpError> {
        self.sent.set(self.sent.get() + 1);
        if req.method == Method::Get && req.url == std::hint::black_box(self.lookup_url) {
            Ok(Response::json(200, std::hint::black_box(self.answer)))
        } else {
            Err(HttpError::Other(format!(
                "bench: no answer for {} {}",
                req.method, req.url
            )))
        }
    }

    fn send_all(&self, reqs: Vec<Request>) -> Vec<Result<Response, HttpError>> {
        reqs.into_iter().map(|r| self.send(r)).collect()
    }
}

/// The unchanged user's email (the SCIM `userName` of the scripted answer).
pub const EMAIL: &str = "ada@example.com";
/// The unchanged user's full name.
pub const NAME: &str = "Ada Lovelace";

/// The tenant configuration of the loop, as a host would pass it.
pub fn config() -> Config {
    Config::new(
        &[
            ("instance_name", "bench"),
            (
                "scim_url",
                "https://api.atlassian.com/scim/directory/bench-dir",
            ),
        ],
        &["scim_token"],
    )
}

/// `iterations` syncs of the unchanged user, each through a fresh transport that answers `GET lookup_url` with `answer`; returns a checksum of the outcomes (so nothing is
/// optimised away), or what went wrong when a sync failed or changed something.
pub fn sync_unchanged(iterations: u32, lookup_url: &str, answer: &str) -> Result<u64, String> {
    let config = config();
    let who = Identity {
        email: EMAIL.into(),
        name: Some(NAME.into()),
        given_name: None,
        family_name: None,
        display_name: None,
        external_id: None,
    };
    let options = SyncOptions {
        create_missing: true,
        update_existing: true,
        dry_run: false,
    };
    let mut checksum = 0u64;
    for _ in 0..iterations {
        let fake = OneAnswer {
            lookup_url,
            answer,
            sent: Cell::new(0),
        };
        let out = crate::actions::sync::sync_identity(&config, &fake, &who, options)
            .map_err(|e| format!("the sync of the unchanged user failed: {e}"))?;
        if !out
            .changes
            .iter()
            .all(|c| matches!(c.status, ChangeStatus::AlreadyDone))
        {
            return Err("the sync of the unchanged user changed something".into());
        }
        checksum = checksum
            .wrapping_mul(31)
            .wrapping_add(out.changes.len() as u64)
            .wrapping_add(fake.sent.get())
            .wrapping_add(u64::from(out.completed));
    }
    Ok(checksum)
}
