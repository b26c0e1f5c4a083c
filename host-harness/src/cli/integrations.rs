//! `host-harness connect` and `host-harness integrations list|update|remove`: the connect flow
//! of an identity platform. An integration is saved only after the health check passed with
//! exactly the settings and secrets that will be saved; a key is rotated the same way, so a
//! wrong key never replaces a working one.

use crate::ids::TenantLabel as _;
use std::io::Write as _;
use std::path::Path;

use crate::cli::schema_args::{Given, SchemaFlags, Value};
use crate::cli::target::HomeArgs;
use crate::cli::{EXIT_ERROR, EXIT_FAILED, EXIT_OK};
use lifecycle_host::bindings::types::{ConfigKind, HealthReport};
use lifecycle_host::secrets::SecretValue;
use lifecycle_host::{CallError, LoadedConnector, Tenant};

/// Settings and secrets given on the command line, as flags derived from the loaded
/// connector's config schema ([`crate::cli::schema_args`]); secrets only as files (or `-`, stdin).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CredentialArgs {
    /// Set any non-secret key of the connector's config schema (see `host-harness describe`).
    /// Repeatable; an unknown key or a secret is refused.
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = super::parse_key_value)]
    pub settings: Vec<(String, String)>,
    /// Print the flags the connector's config schema gives this command, and exit.
    #[arg(long)]
    pub list_flags: bool,
    /// The connector's settings and secrets, one flag per key of its config schema: `--KEY
    /// VALUE`, a secret `--KEY-file FILE` (`-` reads standard input), `_` written `-`. They
    /// depend on the component (`--component`): `--list-flags` lists them.
    #[arg(
        value_name = "CONNECTOR FLAGS",
        num_args = 0..,
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub connector_flags: Vec<String>,
    /// The schema the connector's flags were parsed against (set by [`CredentialArgs::resolve`]).
    #[arg(skip)]
    pub schema: SchemaFlags,
    /// What the connector's flags gave, in schema order (set by [`CredentialArgs::resolve`]).
    #[arg(skip)]
    pub given: Given,
}

impl CredentialArgs {
    /// Takes what [`crate::cli::schema_args::reparse`] found: the schema's flags and their values.
    pub fn resolve(&mut self, schema: SchemaFlags, given: Given) {
        self.schema = schema;
        self.given = given;
    }

    /// Applies these arguments to `tenant` after checking them against the connector's
    /// schema: settings replace settings, files are read into secrets. With `require_all`
    /// (`connect`), every required key must be given; otherwise (a rotation) only what is given
    /// is checked, keys already saved counting as set. At most one secret may come from
    /// standard input.
    pub fn apply(&self, tenant: &mut Tenant, require_all: bool) -> anyhow::Result<()> {
        if !self.connector_flags.is_empty() {
            anyhow::bail!("{}", self.schema.unknown(&self.connector_flags));
        }
        let mut given = self.given.clone();
        for (key, value) in &self.settings {
            let Some(spec) = self.schema.key(key) else {
                anyhow::bail!(
                    "`--set {key}`: the connector has no key `{key}` (its keys: {})",
                    self.schema.key_list()
                );
            };
            if matches!(spec.kind, ConfigKind::Secret) {
                anyhow::bail!(
                    "`{key}` is a secret: give it as a file with {}, never on the command line",
                    self.schema.how_to_set(key)
                );
            }
            if given.iter().any(|(k, _)| k == key) {
                anyhow::bail!("`{key}` is given twice");
            }
            given.push((key.clone(), Value::Setting(value.clone())));
        }
        let stdin_uses = given
            .iter()
            .filter(|(_, v)| matches!(v, Value::SecretFile(f) if f == Path::new("-")))
            .count();
        if stdin_uses > 1 {
            anyhow::bail!("only one secret can be read from standard input (`-`)");
        }
        let present = |k: &str| tenant.settings.contains_key(k) || tenant.secrets.get(k).is_some();
        self.schema
            .check(&given, present, require_all)
            .map_err(anyhow::Error::msg)?;
        for (key, value) in given {
            match value {
                Value::Setting(value) => {
                    tenant.settings.insert(key, value);
                }
                Value::SecretFile(file) => {
                    let secret = read_secret(&key, &file)?;
                    tenant.secrets.insert(key, secret);
                }
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
    /// The integration's name: also its `instance_name` in reports and audit records
    /// (required).
    #[arg(long, value_name = "NAME")]
    pub instance_name: Option<String>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub credentials: CredentialArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub home: HomeArgs,
}

/// Runs `connect`: build the tenant, check its health, save it only when healthy.
pub async fn connect(connector: &LoadedConnector, args: &ConnectArgs) -> anyhow::Result<u8> {
    if args.credentials.list_flags {
        print!("{}", args.credentials.schema.listing());
        return Ok(EXIT_OK);
    }
    let Some(name) = &args.instance_name else {
        anyhow::bail!(
            "connect needs --instance-name NAME (the connector's flags: `connect --list-flags`)"
        );
    };
    let home = args.home.home()?;
    if home.exists(name)? {
        return Err(crate::integrations::IntegrationError::Exists(name.clone()).into());
    }
    let mut tenant = Tenant::default().with_setting("instance_name", name);
    args.credentials.apply(&mut tenant, true)?;
    let code = validate(connector, &tenant, &mut std::io::stdout().lock()).await?;
    if code != EXIT_OK {
        eprintln!("not saved: `{name}` is not healthy");
        return Ok(code);
    }
    home.save(name, &tenant, false)?;
    println!(
        "saved integration `{}` ({} secrets, owner-only) in {}",
        name,
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

impl IntegrationsArgs {
    /// The credential arguments of `integrations update`, whose flags come from the schema.
    pub fn credentials_mut(&mut self) -> Option<&mut CredentialArgs> {
        match &mut self.command {
            IntegrationsCommand::Update { credentials, .. } => Some(credentials),
            _ => None,
        }
    }
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
            if credentials.list_flags {
                print!("{}", credentials.schema.listing());
                return Ok(EXIT_OK);
            }
            let home = home.home()?;
            let mut tenant = home.load(name)?;
            credentials.apply(&mut tenant, false)?;
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
