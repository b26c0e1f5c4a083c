//! The embeddable host library (`lifecycle-host`, `host-harness/host/`) names no vendor and
//! none of the built-in connector's settings: what a connector needs reaches the host only
//! through the contract (its `describe`). And its embedding example runs as a platform would
//! run it, against the simulator.

mod support;

use std::path::{Path, PathBuf};

use atlassian_simulator::Simulator;
use host_harness::component::{BUILTIN, LoadBuiltin as _};
use lifecycle_host::{OperatorPolicy, Runtime, RuntimeOptions, Tenant};

#[path = "../host/examples/embed.rs"]
#[allow(dead_code)]
mod embed;

fn library() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("host")
}

/// Every file of the library that a platform takes: sources, examples, the manifest.
fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "target") {
                files(&path, out);
            }
        } else if path
            .extension()
            .is_some_and(|e| e == "rs" || e == "toml" || e == "md")
        {
            out.push(path);
        }
    }
}

/// A runtime sharing the tests' on-disk component cache (compiling in a debug build is slow).
fn cached_runtime() -> Runtime {
    Runtime::new(RuntimeOptions {
        operator: OperatorPolicy::local_simulator(),
        cache_dir: Some(concat!(env!("CARGO_TARGET_TMPDIR"), "/cli-cache/host-harness").into()),
        ..RuntimeOptions::default()
    })
    .unwrap()
}

#[tokio::test]
async fn the_host_library_names_no_vendor_and_none_of_the_connectors_settings() {
    let runtime = cached_runtime();
    let info = runtime.load_builtin().unwrap().describe().await.unwrap();
    let mut words: Vec<String> = info.config_schema.iter().map(|k| k.key.clone()).collect();
    assert!(words.iter().any(|w| w == "scim_url"), "{words:?}");
    words.extend(["atlassian", "jira", "confluence", "bitbucket"].map(String::from));
    let mut paths = Vec::new();
    files(&library(), &mut paths);
    assert!(paths.len() > 10, "{paths:?}");
    let mut found = Vec::new();
    for path in &paths {
        // The frozen 0.1.0 binding converts that contract's closed list of resource kinds,
        // which names products; it names no setting and no vendor.
        let frozen = path.ends_with("bindings/v0_1_0.rs");
        let text = std::fs::read_to_string(path).unwrap().to_lowercase();
        for word in &words {
            let product = ["jira", "confluence", "bitbucket"].contains(&word.as_str());
            if text.contains(word.as_str()) && !(frozen && product) {
                found.push(format!("{}: {word}", path.display()));
            }
        }
    }
    assert!(found.is_empty(), "the host library names: {found:#?}");
}

#[tokio::test]
async fn the_embedding_example_syncs_a_person_through_the_real_component() {
    let sim = Simulator::builder().start().await.unwrap();
    let tenant = Tenant::from_toml(&sim.config_toml()).unwrap();
    // The example's own runtime constructor, with the tests' cache added.
    assert_eq!(
        embed::runtime(OperatorPolicy::local_simulator())
            .unwrap()
            .operator(),
        &OperatorPolicy::local_simulator()
    );
    let runtime = cached_runtime();
    let lines = embed::sync_one(&runtime, BUILTIN, &tenant, "new.hire@example.com")
        .await
        .unwrap();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("create-user") && l.ends_with("applied")),
        "{lines:?}"
    );
    assert!(sim.user_by_email("new.hire@example.com").is_some());
    let again = embed::sync_one(&runtime, BUILTIN, &tenant, "new.hire@example.com")
        .await
        .unwrap();
    assert!(
        again.iter().all(|l| l.ends_with("already-done")),
        "{again:?}"
    );
}
