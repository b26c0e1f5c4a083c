//! `host-harness demo`: the whole lifecycle of one person, through the connector in its sandbox,
//! against the embedded Atlassian simulator: connect an integration (health-checked), run the
//! shipped onboarding, role-change and offboarding workflows, then print the person's audit
//! trail and what the simulated organization holds. No credentials, no network. The README's
//! main command.

use std::io::Write as _;
use std::path::PathBuf;

use crate::audit::AuditLog;
use crate::cli::target::Target;
use crate::cli::{EXIT_FAILED, EXIT_OK};
use crate::integrations::Home;
use crate::workflow::Workflow;
use atlassian_simulator::Simulator;
use lifecycle_host::{LoadedConnector, Tenant};

/// The shipped workflows the demo runs (the files in `examples/workflows/`).
pub const ONBOARDING: &str = include_str!("../../../examples/workflows/onboarding.toml");
/// See [`ONBOARDING`].
pub const ROLE_CHANGE: &str = include_str!("../../../examples/workflows/role-change.toml");
/// See [`ONBOARDING`].
pub const OFFBOARDING: &str = include_str!("../../../examples/workflows/offboarding.toml");

const INTEGRATION: &str = "demo-acme";
const PERSON: &str = "katherine@example.com";

/// Arguments of `demo`.
#[derive(Debug, Clone, clap::Args)]
pub struct DemoArgs {
    /// Keep the demo's integration and audit log in this directory (default: a temporary
    /// directory, removed afterwards).
    #[arg(long, value_name = "DIR")]
    pub keep_in: Option<PathBuf>,
}

/// Runs the demo. Its simulator listens on loopback, so the demo allows loopback on top of
/// the operator's policy: the operator starting a demo decides that, not a tenant.
pub async fn run(connector: &LoadedConnector, args: &DemoArgs) -> anyhow::Result<u8> {
    let connector = &connector.with_operator(connector.operator().clone().allowing_loopback())?;
    let (root, temporary) = match &args.keep_in {
        Some(dir) => (dir.clone(), false),
        None => (
            std::env::temp_dir().join(format!(
                "host-harness-demo-{}",
                uuid::Uuid::new_v4().simple()
            )),
            true,
        ),
    };
    let result = demo(connector, &Home::at(&root)).await;
    if temporary {
        let _ = std::fs::remove_dir_all(&root);
    }
    result
}

async fn demo(connector: &LoadedConnector, home: &Home) -> anyhow::Result<u8> {
    let sim = Simulator::builder().demo_org().start().await?;
    let mut out = std::io::stdout().lock();

    let info = connector.describe().await?;
    writeln!(
        out,
        "== connector {} {} (contract {}): component of {} bytes, loaded in {:.1} ms",
        info.name,
        info.version,
        info.contract_version,
        connector.info().size,
        connector.info().load_time.as_secs_f64() * 1e3
    )?;
    writeln!(
        out,
        "\n== a simulated Atlassian organization at {}",
        sim.base_url()
    )?;
    super::simulate::print_organization(&sim, &mut out)?;

    writeln!(
        out,
        "\n== connect `{INTEGRATION}`: every credential is health-checked before it is saved"
    )?;
    let mut tenant = Tenant::from_toml(&sim.config_toml())
        .map_err(|e| anyhow::anyhow!("the simulator's config is malformed: {e}"))?;
    tenant
        .settings
        .insert("instance_name".into(), INTEGRATION.into());
    if super::integrations::validate(connector, &tenant, &mut out).await? != EXIT_OK {
        writeln!(out, "not saved: the simulated organization is not healthy")?;
        return Ok(EXIT_FAILED);
    }
    home.save(INTEGRATION, &tenant, true)?;
    writeln!(
        out,
        "saved (secrets owner-only, never printed) in {}",
        home.root().display()
    )?;

    let target = Target {
        tenant: home.load(INTEGRATION)?,
        integration: INTEGRATION.to_owned(),
        audit: AuditLog::open(&home.audit_log())?,
    };
    let flows = [
        (
            ONBOARDING,
            vec![
                ("email", PERSON),
                ("name", "Katherine Johnson"),
                ("external_id", "idp-katherine"),
                ("team", "engineering"),
            ],
        ),
        (
            ROLE_CHANGE,
            vec![
                ("email", PERSON),
                ("from", "engineering"),
                ("to", "research"),
            ],
        ),
        (OFFBOARDING, vec![("email", PERSON)]),
    ];
    for (text, params) in flows {
        let workflow = Workflow::from_toml(text)
            .map_err(|e| anyhow::anyhow!("a shipped workflow is malformed: {e}"))?;
        let params = params
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let actions = workflow.bind(&params, false)?;
        writeln!(out, "\n== {}: {}", workflow.name, workflow.description)?;
        let run = super::workflow::run_id(&workflow.name);
        let code =
            super::workflow::run_steps(connector, &target, &workflow, &actions, &run, &mut out)
                .await?;
        if code != EXIT_OK {
            return Ok(code);
        }
    }

    writeln!(
        out,
        "\n== the audit trail of {PERSON} (`host-harness audit --user {PERSON}`)"
    )?;
    let trail: Vec<_> = AuditLog::read_all(&home.audit_log())?
        .into_iter()
        .filter(|r| r.user.is(PERSON))
        .collect();
    write!(out, "{}", super::audit::render(&trail))?;

    writeln!(
        out,
        "\n== what the organization holds now (read from the simulator)"
    )?;
    match sim.user_by_email(PERSON) {
        Some(u) => writeln!(
            out,
            "{PERSON}: {}, SCIM record {}, account {} kept, groups: {}",
            if u.active { "active" } else { "deactivated" },
            u.scim_id.as_deref().unwrap_or("gone"),
            u.account_id,
            if u.groups.is_empty() {
                "none".to_owned()
            } else {
                u.groups.join(", ")
            }
        )?,
        None => writeln!(out, "{PERSON}: no account")?,
    }
    writeln!(
        out,
        "\nThe simulator answered {} requests; the host added every credential, the guest saw none.\n\
         Next: `host-harness simulate` keeps a simulator running for your own commands, and\n\
         `host-harness conformance` runs every conformance case, each against a fresh simulator.",
        sim.requests().len()
    )?;
    Ok(EXIT_OK)
}
