//! The second connector (`guest/generic-scim`) proves contract 0.2.0 is generic: built for
//! wasm32-wasip2, it is loaded by the same host library and the same CLI as the Atlassian
//! connector, with no host change, its egress built from its own `describe`, and it runs
//! sync, group membership and deprovisioning against the simulator's SCIM side.

mod support;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use atlassian_simulator::Simulator;
use lifecycle_host::bindings::types::{
    ActionOptions, ChangeKind, ChangeStatus, Entitlement, Identity, Outcome, PageRequest,
    SyncOptions, UserRef,
};
use lifecycle_host::{LoadedConnector, OperatorPolicy, Runtime, RuntimeOptions, Tenant};

/// Builds the connector for wasm32-wasip2 once per test binary, next to the built-in
/// connector's own guest build (`<target>/connector-wasm`, which shares its dependencies).
fn component_path() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("host-harness sits in the workspace");
        let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .parent()
            .expect("the tmp dir sits in the target dir")
            .join("connector-wasm");
        let status =
            host_harness::guest_build::command(root, &target, &["-p", "generic-scim-connector"])
                .status()
                .expect("cargo runs");
        assert!(status.success(), "building generic-scim failed: {status}");
        target.join("wasm32-wasip2/release/generic_scim_connector.wasm")
    })
}

/// The component loaded by the host library, loopback allowed (the simulator's).
fn connector() -> LoadedConnector {
    let wasm = std::fs::read(component_path()).expect("the component was built");
    Runtime::new(RuntimeOptions::default())
        .expect("runtime")
        .load(&wasm)
        .expect("generic-scim loads")
        .with_operator(OperatorPolicy::local_simulator())
        .expect("operator policy")
}

/// A tenant of the generic connector pointed at the simulator's SCIM directory.
fn tenant(sim: &Simulator) -> Tenant {
    Tenant::default()
        .with_setting("instance_name", "generic")
        .with_setting("base_url", sim.scim_url())
        .with_secret("token", sim.tokens().scim_token)
}

fn statuses(outcome: &Outcome) -> Vec<(ChangeKind, ChangeStatus)> {
    outcome
        .changes
        .iter()
        .map(|c| (c.kind.clone(), c.status.clone()))
        .collect()
}

const EMAIL: &str = "grace@example.com";

fn grace() -> Identity {
    Identity {
        email: EMAIL.into(),
        name: Some("Grace Hopper".into()),
        given_name: Some("Grace".into()),
        family_name: Some("Hopper".into()),
        display_name: None,
        external_id: Some("idp-grace".into()),
    }
}

const SYNC: SyncOptions = SyncOptions {
    create_missing: true,
    update_existing: true,
    dry_run: false,
};
const RUN: ActionOptions = ActionOptions { dry_run: false };

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generic_scim_syncs_groups_and_deprovisions_through_the_host() {
    let sim = Simulator::builder()
        .synced_group("engineering", &[])
        .synced_group("operations", &[])
        .start()
        .await
        .unwrap();
    let connector = connector();
    let tenant = tenant(&sim);

    let info = connector.describe().await.unwrap();
    assert_eq!(info.name, "generic-scim");
    assert_eq!(info.contract_version, "0.2.0");
    let health = connector.check_health(&tenant).await.result.unwrap();
    assert!(health.healthy, "{health:?}");

    // Sync: created, then already done with no write.
    let created = connector.sync_identity(&tenant, &grace(), SYNC).await;
    let created = created.result.unwrap();
    assert_eq!(
        statuses(&created),
        [(ChangeKind::CreateUser, ChangeStatus::Applied)]
    );
    let user = sim.user_by_email(EMAIL).expect("the user exists");
    assert!(user.active);
    assert_eq!(user.external_id.as_deref(), Some("idp-grace"));
    let id = created.user.as_ref().unwrap().ids[0].clone();
    assert_eq!(
        (id.namespace.as_str(), user.scim_id.as_ref()),
        ("scim", Some(&id.value))
    );

    sim.clear_requests();
    let again = connector.sync_identity(&tenant, &grace(), SYNC).await;
    let again = again.result.unwrap();
    assert_eq!(
        statuses(&again),
        [(ChangeKind::UpdateUser, ChangeStatus::AlreadyDone)]
    );
    assert!(again.completed);
    assert!(sim.mutations().is_empty(), "{:?}", sim.mutations());

    // Groups: both added, then already done.
    let groups = [
        Entitlement::Group("engineering".into()),
        Entitlement::Group("Operations".into()),
    ];
    let by_id = UserRef::Id(id.clone());
    let added = connector
        .manage_relationships(&tenant, &by_id, &groups, &[], RUN)
        .await
        .result
        .unwrap();
    assert!(added.completed, "{added:?}");
    assert_eq!(
        statuses(&added),
        [
            (ChangeKind::AddMembership, ChangeStatus::Applied),
            (ChangeKind::AddMembership, ChangeStatus::Applied)
        ]
    );
    assert_eq!(sim.group_members("engineering"), [EMAIL]);
    assert_eq!(sim.group_members("operations"), [EMAIL]);
    let listed = connector
        .list_groups(
            &tenant,
            &PageRequest {
                cursor: None,
                limit: Some(1),
            },
        )
        .await
        .result
        .unwrap();
    assert_eq!(listed.items.len(), 1);
    assert!(listed.next_cursor.is_some());
    let role = Entitlement::Role(lifecycle_host::bindings::types::RoleGrant {
        role: "admin".into(),
        resource: lifecycle_host::bindings::types::ResourceRef {
            kind: "project".into(),
            id: "P".into(),
        },
    });
    let refused = connector
        .manage_relationships(&tenant, &by_id, &[role], &[], RUN)
        .await
        .result;
    assert!(
        format!("{refused:?}").contains("Unsupported"),
        "{refused:?}"
    );

    // Deprovision: out of both groups, then deactivated; again: nothing left to do.
    let by_email = UserRef::Email(EMAIL.to_uppercase());
    let gone = connector
        .deprovision_identity(&tenant, &by_email, RUN)
        .await
        .result
        .unwrap();
    assert!(gone.completed, "{gone:?}");
    assert_eq!(
        statuses(&gone),
        [
            (ChangeKind::RemoveMembership, ChangeStatus::Applied),
            (ChangeKind::RemoveMembership, ChangeStatus::Applied),
            (ChangeKind::DeactivateUser, ChangeStatus::Applied)
        ]
    );
    assert!(sim.group_members("engineering").is_empty());
    assert!(sim.group_members("operations").is_empty());
    let user = sim.user_by_email(EMAIL).expect("the record stays");
    assert!(!user.active);

    sim.clear_requests();
    let again = connector
        .deprovision_identity(&tenant, &by_email, RUN)
        .await
        .result
        .unwrap();
    assert_eq!(
        statuses(&again),
        [(ChangeKind::DeactivateUser, ChangeStatus::AlreadyDone)]
    );
    assert!(sim.mutations().is_empty(), "{:?}", sim.mutations());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generic_scim_runs_through_the_cli_with_component() {
    let sim = Simulator::builder().start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("generic.toml");
    std::fs::write(
        &config,
        format!(
            "instance_name = \"generic-cli\"\nbase_url = \"{}\"\n\n[secrets]\ntoken = \"{}\"\n",
            sim.scim_url(),
            sim.tokens().scim_token
        ),
    )
    .unwrap();
    let component = component_path().to_str().unwrap();
    let home = dir.path().join("home");
    let run = |args: &[&str]| {
        let args: Vec<&str> = ["--allow-loopback", "--component", component]
            .iter()
            .chain(args)
            .copied()
            .collect();
        support::run(Some(&home), &args)
    };

    let out = run(&["describe"]);
    let shown = support::text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(shown.contains("generic-scim"), "{shown}");
    assert!(
        shown.contains("base_url") && shown.contains("token"),
        "{shown}"
    );

    let config = config.to_str().unwrap();
    let out = run(&[
        "sync",
        "--json",
        "--config",
        config,
        "--email",
        EMAIL,
        "--name",
        "Grace Hopper",
    ]);
    let shown = support::text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON output");
    assert_eq!(value["outcome"]["completed"], true, "{shown}");
    assert!(!shown.contains(&sim.tokens().scim_token));
    let user = sim.user_by_email(EMAIL).expect("the CLI created the user");
    assert!(user.active);
}
