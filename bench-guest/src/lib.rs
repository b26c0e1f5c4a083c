//! The connector's sync of an unchanged user against its `FakeTransport`, run inside a
//! component: the component side of `host-harness bench`'s native-versus-component ratio.
//! The native side (`host-harness/src/cli/bench.rs`, `native_sync_loop`) runs the same loop.

wit_bindgen::generate!({ path: "wit", world: "bench" });

use atlassian_connector::{actions, model, transport};

struct Bench;

impl Guest for Bench {
    fn run(iterations: u32, lookup_url: String, answer: String) -> Result<u64, String> {
        let config = model::Config::new(
            &[
                ("instance_name", "bench"),
                (
                    "scim_url",
                    "https://api.atlassian.com/scim/directory/bench-dir",
                ),
            ],
            &["scim_token"],
        );
        let who = model::Identity {
            email: "ada@example.com".into(),
            name: Some("Ada Lovelace".into()),
            given_name: None,
            family_name: None,
            display_name: None,
            external_id: None,
        };
        let options = model::SyncOptions {
            create_missing: true,
            update_existing: true,
            dry_run: false,
        };
        let mut checksum = 0u64;
        for _ in 0..iterations {
            let fake = transport::FakeTransport::new();
            fake.on(
                transport::Method::Get,
                std::hint::black_box(&lookup_url),
                Ok(transport::Response::json(
                    200,
                    std::hint::black_box(&answer),
                )),
            );
            let out = actions::sync::sync_identity(&config, &fake, &who, options)
                .map_err(|e| format!("sync failed: {e}"))?;
            if !out
                .changes
                .iter()
                .all(|c| matches!(c.status, model::ChangeStatus::AlreadyDone))
            {
                return Err("the sync of an unchanged user changed something".into());
            }
            checksum = checksum
                .wrapping_mul(31)
                .wrapping_add(out.changes.len() as u64)
                .wrapping_add(fake.calls().len() as u64)
                .wrapping_add(u64::from(out.completed));
        }
        Ok(checksum)
    }
}

export!(Bench);
