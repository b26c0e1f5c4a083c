//! `host-harness connect` and `host-harness integrations list|update|remove`: the connect flow
//! of an identity platform. An integration is saved only after the health check passed with
//! exactly the settings and secrets that will be saved; a key is rotated the same way, so a
//! wrong key never replaces a working one.

use crate::ids::TenantLabel as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::cli::target::HomeArgs;
use crate::cli::{EXIT_ERROR, EXIT_FAILED, EXIT_OK};
use lifecycle_host::bindings::types::HealthReport;
use lifecycle_host::secrets::SecretValue;
use lifecycle_host::{CallError, LoadedConnector, Tenant};

/// Settings and secrets given on the command line; secrets only as files (or `-`, stdin).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CredentialArgs {
    /// The SCIM directory base URL, `https://api.atlassian.com/scim/directory/{id}`.
    #[arg(long, value_name = "URL")]
    pub scim_url: Option<String>,
    /// A file holding the SCIM directory API key (`-` reads standard input).
    #[arg(long, value_name = "FILE")]
    pub scim_token_file: Option<PathBuf>,
    /// A file holding the organization admin API key (`-` reads standard input).
    #[arg(long, value_name = "FILE")]
    pub admin_api_key_file: Option<PathBuf>,
    /// The organization id (needed with the admin API key).
    #[arg(long, value_name = "ID")]
    pub org_id: Option<String>,
    /// The product API user (email), for Jira/Confluence/Bitbucket discovery.
    #[arg(long, value_name = "EMAIL")]
    pub product_user: Option<String>,
    /// A file holding the product API token (`-` reads standard input).
    #[arg(long, value_name = "FILE")]
    pub product_token_file: Option<PathBuf>,
    /// Any other connector setting (`site_url`, `bitbucket_workspace`, `protected_users`, ...;
    /// see `host-harness describe`). Repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = super::parse_key_value)]
    pub settings: Vec<(String, String)>,
}

/// Secret keys that may only come from files, never from `--set`.
const SECRET_KEYS: [&str; 3] = ["scim_token", "admin_api_key", "product_token"];

impl CredentialArgs {
    /// Applies these arguments to `tenant`: settings replace settings, files are read into
    /// secrets. At most one secret may come from standard input.
    pub fn apply(&self, tenant: &mut Tenant) -> anyhow::Result<()> {
        let stdin_uses = [
            &self.scim_token_file,
            &self.admin_api_key_file,
            &self.product_token_file,
        ]
        .iter()
        .filter(|f| f.as_deref() == Some(Path::new("-")))
        .count();
        if stdin_uses > 1 {
            anyhow::bail!("only one secret can be read from standard input (`-`)");
        }
        for (key, value) in [
            ("scim_url", &self.scim_url),
            ("scim_organization_id", &self.org_id),
            ("product_user", &self.product_user),
        ] {
            if let Some(value) = value {
                tenant.settings.insert(key.to_owned(), value.clone());
            }
        }
        for (key, value) in &self.settings {
            if SECRET_KEYS.contains(&key.as_str()) {
                anyhow::bail!(
                    "`{key}` is a secret: give it as a file with --{}-file, never on the command line",
                    key.replace('_', "-")
                );
            }
            tenant.settings.insert(key.clone(), value.clone());
        }
        for (key, file) in [
            ("scim_token", &self.scim_token_file),
            ("admin_api_key", &self.admin_api_key_file),
            ("product_token", &self.product_token_file),
        ] {
            if let Some(file) = file {
                tenant.secrets.insert(key, read_secret(key, file)?);
            }
        }
        Ok(())
    }
}

/// Reads one secret from a file or standard input: surrounding whitespace (the newline an
/// editor adds) is not part of it, and an empty secret is an error. The error never quotes it.
pub fn read_secret(key: &str, file: &Path) -> anyhow::Result<SecretValue> {
    use lifecycle_host::files::{Kind, read_bounded, read_limited};
    let kind = Kind::Secret;
    let bytes = if file == Path::new("-") {
        read_limited(std::io::stdin().lock(), file, kind, kind.limit())
    } else {
        read_bounded(file, kind, kind.limit())
    }
    .map_err(|e| anyhow::anyhow!("cannot read `{key}`: {e}"))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| anyhow::anyhow!("`{key}` (read from {}) is not UTF-8", file.display()))?;
    // Surrounding whitespace (the newline an editor adds) is not part of the secret; a line
    // break or control character inside it is refused.
    let value = text.trim();
    if value.is_empty() {
        anyhow::bail!("`{key}` is empty (read from {})", file.display());
    }
    if let Some(reason) = SecretValue::check(key, value) {
        anyhow::bail!("{reason} (read from {})", file.display());
    }
    Ok(SecretValue::new(value))
}

/// Arguments of `connect`.
#[derive(Debug, Clone, clap::Args)]
pub struct ConnectArgs {
    /// The integration's name: also its `instance_name` in reports and audit records.
    #[arg(long, value_name = "NAME")]
    pub instance_name: String,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub credentials: CredentialArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub home: HomeArgs,
}

/// Runs `connect`: build the tenant, check its health, save it only when healthy.
pub async fn connect(connector: &LoadedConnector, args: &ConnectArgs) -> anyhow::Result<u8> {
    let home = args.home.home()?;
    if home.exists(&args.instance_name)? {
        return Err(
            crate::integrations::IntegrationError::Exists(args.instance_name.clone()).into(),
        );
    }
    if args.credentials.scim_url.is_none() || args.credentials.scim_token_file.is_none() {
        anyhow::bail!("connect needs --scim-url URL and --scim-token-file FILE");
    }
    let mut tenant = Tenant::default().with_setting("instance_name", &args.instance_name);
    args.credentials.apply(&mut tenant)?;
    let code = validate(connector, &tenant, &mut std::io::stdout().lock()).await?;
    if code != EXIT_OK {
        eprintln!("not saved: `{}` is not healthy", args.instance_name);
        return Ok(code);
    }
    home.save(&args.instance_name, &tenant, false)?;
    println!(
        "saved integration `{}` ({} secrets, owner-only) in {}",
        args.instance_name,
        tenant.secrets.names().count(),
        home.root().display()
    );
    Ok(EXIT_OK)
}

/// Runs the health check of `tenant` and prints it; the exit code says whether it may be saved.
pub async fn validate(
    connector: &LoadedConnector,
    tenant: &Tenant,
    out: &mut impl std::io::Write,
) -> anyhow::Result<u8> {
    let invocation = crate::dispatch::health(connector, tenant).await;
    Ok(match invocation.result {
        Ok(report) => {
            write!(out, "{}", crate::render::health(tenant.name(), &report))?;
            healthy_code(&report)
        }
        Err(e) => {
            writeln!(out, "{}: health check failed: {e}", tenant.name())?;
            match e {
                CallError::Connector(_) => EXIT_ERROR,
                CallError::Host(_) => EXIT_FAILED,
            }
        }
    })
}

fn healthy_code(report: &HealthReport) -> u8 {
    if report.healthy { EXIT_OK } else { EXIT_FAILED }
}

/// `integrations` subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum IntegrationsCommand {
    /// List saved integrations (never their secrets).
    List {
        /// Print as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        #[allow(missing_docs)]
        home: HomeArgs,
    },
    /// Change an integration (rotate a key, change a setting): the result must pass the health
    /// check before it replaces what is saved.
    Update {
        /// The integration.
        name: String,
        #[command(flatten)]
        #[allow(missing_docs)]
        credentials: CredentialArgs,
        /// Remove a setting (repeatable).
        #[arg(long, value_name = "KEY")]
        unset: Vec<String>,
        #[command(flatten)]
        #[allow(missing_docs)]
        home: HomeArgs,
    },
    /// Remove a saved integration (its audit records stay).
    Remove {
        /// The integration.
        name: String,
        #[command(flatten)]
        #[allow(missing_docs)]
        home: HomeArgs,
    },
}

/// Arguments of `integrations`.
#[derive(Debug, Clone, clap::Args)]
pub struct IntegrationsArgs {
    #[command(subcommand)]
    #[allow(missing_docs)]
    pub command: IntegrationsCommand,
}

/// Runs `integrations …`.
pub async fn run(
    connector: impl FnOnce() -> anyhow::Result<LoadedConnector>,
    args: &IntegrationsArgs,
) -> anyhow::Result<u8> {
    match &args.command {
        IntegrationsCommand::List { json, home } => list(&home.home()?, *json),
        IntegrationsCommand::Remove { name, home } => {
            home.home()?.remove(name)?;
            println!("removed integration `{name}`");
            Ok(EXIT_OK)
        }
        IntegrationsCommand::Update {
            name,
            credentials,
            unset,
            home,
        } => {
            let home = home.home()?;
            let mut tenant = home.load(name)?;
            credentials.apply(&mut tenant)?;
            for key in unset {
                if tenant.settings.remove(key).is_none() && tenant.secrets.remove(key).is_none() {
                    anyhow::bail!("`{key}` is not set in `{name}`");
                }
            }
            let code = validate(&connector()?, &tenant, &mut std::io::stdout().lock()).await?;
            if code != EXIT_OK {
                eprintln!("not updated: `{name}` keeps its previous settings and secrets");
                return Ok(code);
            }
            home.save(name, &tenant, true)?;
            println!("updated integration `{name}`");
            Ok(EXIT_OK)
        }
    }
}

fn list(home: &crate::integrations::Home, json: bool) -> anyhow::Result<u8> {
    let mut rows = Vec::new();
    for name in home.names()? {
        let row = match home.load(&name) {
            Ok(t) => serde_json::json!({
                "name": name,
                "scim_url": t.settings.get("scim_url"),
                "organization_id": t.settings.get("scim_organization_id"),
                "secrets": t.secrets.names().collect::<Vec<_>>(),
            }),
            Err(e) => serde_json::json!({"name": name, "error": e.to_string()}),
        };
        rows.push(row);
    }
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", lifecycle_host::json::to_string_pretty(&rows)?)?;
        return Ok(EXIT_OK);
    }
    if rows.is_empty() {
        writeln!(
            out,
            "no integrations in {} (add one with `host-harness connect`)",
            home.root().display()
        )?;
    }
    let field = |row: &serde_json::Value, key: &str| row[key].as_str().unwrap_or("-").to_owned();
    for row in &rows {
        match row.get("error") {
            Some(e) => writeln!(out, "{:<24} unreadable: {}", field(row, "name"), e)?,
            None => writeln!(
                out,
                "{:<24} {}  org {}  secrets: {}",
                field(row, "name"),
                field(row, "scim_url"),
                field(row, "organization_id"),
                row["secrets"]
                    .as_array()
                    .map(|s| s
                        .iter()
                        .filter_map(|v| v.as_str())
                        .collect::<Vec<_>>()
                        .join(", "))
                    .unwrap_or_default()
            )?,
        }
    }
    Ok(EXIT_OK)
}
