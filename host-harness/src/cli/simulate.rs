//! `host-harness simulate`: serve the Atlassian simulator on loopback until interrupted.

use atlassian_simulator::{Seed, Simulator};
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `host-harness simulate`.
#[derive(clap::Args, Debug, Clone)]
pub struct SimulateArgs {
    /// Port to listen on at 127.0.0.1 (0 picks a free port).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Seed file (JSON if it ends in .json, TOML otherwise); default: a small demo organization.
    #[arg(long)]
    pub seed: Option<PathBuf>,
    /// Write the tenant config file here instead of printing it (created with mode 0600).
    #[arg(long)]
    pub write_config: Option<PathBuf>,
}

/// The config holds the simulator's secrets: owner-only, through a fresh temporary file
/// (never a pre-existing or planted one), renamed into place so a watcher never reads half.
fn write_private(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    use lifecycle_host::files::{Kind, Replace};
    Ok(lifecycle_host::files::write_private(
        path,
        text.as_bytes(),
        Kind::Config,
        Replace::Yes,
    )?)
}

async fn shutdown_signal() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r?,
            _ = term.recv() => {}
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await?;
        Ok(())
    }
}

/// Runs the simulator until Ctrl-C (or SIGTERM).
pub async fn run(args: SimulateArgs) -> anyhow::Result<u8> {
    let seed = match &args.seed {
        Some(p) => Seed::parse(
            p,
            &lifecycle_host::files::read_text(p, lifecycle_host::files::Kind::Seed)?,
        )?,
        None => Seed::demo(),
    };
    let sim = Simulator::builder()
        .seed(seed)
        .port(args.port)
        .start()
        .await?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "Atlassian simulator listening on {}", sim.base_url())?;
    writeln!(out, "  SCIM:        {}", sim.scim_url())?;
    writeln!(
        out,
        "  Admin API:   {}/admin/v2/orgs/{}",
        sim.base_url(),
        sim.org_id()
    )?;
    writeln!(
        out,
        "  Lifecycle:   {}/users/{{accountId}}/manage/lifecycle/…",
        sim.base_url()
    )?;
    writeln!(
        out,
        "  Jira:        {}/rest/api/3/project/search",
        sim.base_url()
    )?;
    writeln!(out, "  Confluence:  {}/wiki/api/v2/spaces", sim.base_url())?;
    writeln!(
        out,
        "  Bitbucket:   {}/2.0/repositories/{}",
        sim.base_url(),
        sim.workspace()
    )?;
    print_organization(&sim, &mut out)?;
    writeln!(
        out,
        "The simulator speaks plain http on loopback: run the harness with --allow-loopback \
         (the host operator's setting; a tenant's config cannot grant it)."
    )?;
    match &args.write_config {
        Some(path) => {
            write_private(path, &sim.config_toml())?;
            writeln!(
                out,
                "Config written to {} (contains the secrets)",
                path.display()
            )?;
        }
        None => {
            writeln!(
                out,
                "Config (save it as a file for `host-harness --config`):\n"
            )?;
            writeln!(out, "{}", sim.config_toml())?;
        }
    }
    writeln!(out, "Serving until Ctrl-C.")?;
    out.flush()?;
    drop(out);
    shutdown_signal().await?;
    println!("Stopped after {} requests.", sim.requests().len());
    Ok(crate::cli::EXIT_OK)
}

/// Lists the simulated organization's users and groups, one line each.
pub fn print_organization(sim: &Simulator, out: &mut impl Write) -> std::io::Result<()> {
    writeln!(out, "Users:")?;
    for u in sim.users() {
        writeln!(
            out,
            "  {:<28} {:<9} account {}  scim {}",
            u.email,
            if u.active { "active" } else { "inactive" },
            u.account_id,
            u.scim_id.as_deref().unwrap_or("-"),
        )?;
    }
    writeln!(out, "Groups:")?;
    for g in sim.groups() {
        writeln!(
            out,
            "  {:<28} {:<30} members: {}",
            g.name,
            if g.synced {
                "synced from identity provider"
            } else {
                "admin-managed"
            },
            g.member_emails.join(", "),
        )?;
    }
    Ok(())
}
