//! The connector's settings and secrets as command-line flags, derived at run time from the
//! config schema its `describe` publishes: `connect` and `integrations update` take exactly the
//! keys the loaded component declares, so a new schema key needs no CLI change.
//!
//! A key `k` of kind secret becomes `--k-file FILE` (a file, or `-` for standard input: a secret
//! is never a value on the command line); any other key becomes `--k VALUE`, `_` written `-`
//! (a bool key takes `true|false`, a list key comma-separated items). A key whose flag would
//! clash with one of the command's own flags (`connect --instance-name`) or is not a plain
//! name gets no flag; `--set KEY=VALUE` still reaches it.
//!
//! The command line is parsed twice: clap's static parse collects what it cannot know in a
//! trailing catch-all; once the component is loaded, [`reparse`] parses the whole command line
//! again with the schema's flags added.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Arg, ArgAction, ArgMatches, Command, CommandFactory, FromArgMatches};
use lifecycle_host::bindings::types::{ConfigKey, ConfigKind};

/// Prefix of the clap ids of schema flags, so they never collide with a static argument's.
const ID_PREFIX: &str = "schema:";

/// One schema key and the flag that sets it.
#[derive(Debug, Clone)]
pub struct Flag {
    /// The schema's key.
    pub key: ConfigKey,
    /// The flag's long name, without the leading `--`.
    pub long: String,
}

impl Flag {
    /// The flag as usage shows it: `--scim-url URL`, `--scim-token-file FILE`.
    pub fn usage(&self) -> String {
        format!("--{} {}", self.long, value_name(&self.key.kind))
    }
}

/// What the command line gives for one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A setting's value.
    Setting(String),
    /// The file (or `-`, standard input) a secret is read from.
    SecretFile(PathBuf),
}

/// What the command line gave: each key with its value, in schema order.
pub type Given = Vec<(String, Value)>;

/// The flags a connector's config schema gives one command.
#[derive(Debug, Clone, Default)]
pub struct SchemaFlags {
    schema: Vec<ConfigKey>,
    flags: Vec<Flag>,
}

/// The flag name of a key: `scim_url` → `scim-url`, the secret `scim_token` → `scim-token-file`.
pub fn flag_name(key: &ConfigKey) -> String {
    let name = key.key.replace('_', "-");
    if matches!(key.kind, ConfigKind::Secret) {
        format!("{name}-file")
    } else {
        name
    }
}

fn value_name(kind: &ConfigKind) -> &'static str {
    match kind {
        ConfigKind::Secret => "FILE",
        ConfigKind::Url => "URL",
        ConfigKind::Bool => "true|false",
        ConfigKind::List => "A,B,...",
        ConfigKind::String | ConfigKind::Other(_) => "VALUE",
    }
}

/// A long name clap takes as given: lowercase letters, digits and inner dashes.
fn plain(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

impl SchemaFlags {
    /// The flags of `schema`, leaving out any whose name is in `reserved` (the command's own
    /// flags) or taken by an earlier key, or is not a plain name.
    pub fn new(schema: &[ConfigKey], reserved: &[String]) -> Self {
        let mut flags: Vec<Flag> = Vec::new();
        for key in schema {
            let long = flag_name(key);
            if plain(&long) && !reserved.contains(&long) && !flags.iter().any(|f| f.long == long) {
                flags.push(Flag {
                    key: key.clone(),
                    long,
                });
            }
        }
        Self {
            schema: schema.to_vec(),
            flags,
        }
    }

    /// The flags, in schema order.
    pub fn flags(&self) -> &[Flag] {
        &self.flags
    }

    /// The schema's entry for `key`.
    pub fn key(&self, key: &str) -> Option<&ConfigKey> {
        self.schema.iter().find(|k| k.key == key)
    }

    /// How a person sets `key`: its flag, else `--set KEY=…`.
    pub fn how_to_set(&self, key: &str) -> String {
        match self.flags.iter().find(|f| f.key.key == key) {
            Some(flag) => flag.usage(),
            None => format!("--set {key}=VALUE"),
        }
    }

    /// Every flag's usage, comma-separated: for error messages.
    pub fn usage_list(&self) -> String {
        self.flags
            .iter()
            .map(Flag::usage)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Every key of the schema, comma-separated: for error messages.
    pub fn key_list(&self) -> String {
        self.schema
            .iter()
            .map(|k| k.key.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `--list-flags`: one flag a line, what it sets and whether it is required.
    pub fn listing(&self) -> String {
        let mut out = String::from("flags from the connector's config schema:\n");
        for flag in &self.flags {
            let mut notes = Vec::new();
            if flag.key.required {
                notes.push("required".to_owned());
            }
            if let Some(default) = &flag.key.default {
                notes.push(format!("default {default}"));
            }
            if !flag.key.requires.is_empty() {
                let with: Vec<String> = flag
                    .key
                    .requires
                    .iter()
                    .map(|r| self.how_to_set(r))
                    .collect();
                notes.push(format!("with {}", with.join(", ")));
            }
            let notes = if notes.is_empty() {
                String::new()
            } else {
                format!(" ({})", notes.join("; "))
            };
            out.push_str(&format!(
                "  {}{notes}\n      {}\n",
                flag.usage(),
                flag.key.description
            ));
        }
        out.push_str("  --set KEY=VALUE (repeatable)\n      any non-secret key of the schema\n");
        out
    }

    /// `cmd` with these flags added.
    pub fn augment(&self, cmd: Command) -> Command {
        self.flags.iter().fold(cmd, |cmd, flag| {
            let mut arg = Arg::new(format!("{ID_PREFIX}{}", flag.key.key))
                .long(flag.long.clone())
                .value_name(value_name(&flag.key.kind))
                .help(flag.key.description.clone())
                .action(ArgAction::Set);
            match flag.key.kind {
                ConfigKind::Secret => {
                    arg = arg.value_parser(clap::value_parser!(PathBuf));
                }
                ConfigKind::Bool => {
                    arg = arg.value_parser(["true", "false"]);
                }
                ConfigKind::List => arg = arg.action(ArgAction::Append),
                _ => {}
            }
            cmd.arg(arg)
        })
    }

    /// What `matches` (of a command built by [`SchemaFlags::augment`]) gives, in schema order.
    pub fn values(&self, matches: &ArgMatches) -> Given {
        let mut out = Vec::new();
        for flag in &self.flags {
            let id = format!("{ID_PREFIX}{}", flag.key.key);
            let value = if matches!(flag.key.kind, ConfigKind::Secret) {
                matches
                    .get_one::<PathBuf>(&id)
                    .map(|p| Value::SecretFile(p.clone()))
            } else {
                matches
                    .get_many::<String>(&id)
                    .map(|v| Value::Setting(v.cloned().collect::<Vec<_>>().join(",")))
            };
            if let Some(value) = value {
                out.push((flag.key.key.clone(), value));
            }
        }
        out
    }

    /// The error for arguments clap could not place once the schema's flags were known. It
    /// names the argument only when it is a flag (a value may be a secret).
    pub fn unknown(&self, extra: &[String]) -> String {
        let Some(first) = extra.first() else {
            return String::new();
        };
        let valid = format!("the connector's flags: {}", self.usage_list());
        let Some(name) = first.strip_prefix("--") else {
            return format!("unexpected value where a flag was expected (not shown); {valid}");
        };
        let name = name.split_once('=').map_or(name, |(n, _)| n);
        if let Some(flag) = self
            .flags
            .iter()
            .find(|f| matches!(f.key.kind, ConfigKind::Secret) && f.long == format!("{name}-file"))
        {
            return format!(
                "`{}` is a secret: give it as a file with {}, never as a value on the command line",
                flag.key.key,
                flag.usage()
            );
        }
        format!("unknown flag `--{name}`; {valid}")
    }

    /// Checks `given` against the schema before anything is read or sent: values' syntax
    /// (bool, url), and which keys must be set together. `present` says whether a key is set
    /// without `given` (already saved); with `require_all`, every required key must be set.
    pub fn check(
        &self,
        given: &[(String, Value)],
        present: impl Fn(&str) -> bool,
        require_all: bool,
    ) -> Result<(), String> {
        let set = |key: &str| given.iter().any(|(k, _)| k == key) || present(key);
        for (key, value) in given {
            let (Some(spec), Value::Setting(value)) = (self.key(key), value) else {
                continue;
            };
            check_syntax(spec, value)?;
        }
        if require_all {
            let missing: Vec<String> = self
                .schema
                .iter()
                .filter(|k| k.required && k.default.is_none() && !set(&k.key))
                .map(|k| format!("{} ({})", self.how_to_set(&k.key), k.key))
                .collect();
            if !missing.is_empty() {
                return Err(format!("missing required {}", missing.join(", ")));
            }
        }
        for (key, _) in given {
            let Some(spec) = self.key(key) else { continue };
            if let Some(other) = spec.requires.iter().find(|r| !set(r)) {
                return Err(format!(
                    "`{key}` needs `{other}` too: add {}",
                    self.how_to_set(other)
                ));
            }
        }
        Ok(())
    }
}

/// A bool is `true` or `false`; a url an absolute `http(s)` URL with a host.
fn check_syntax(spec: &ConfigKey, value: &str) -> Result<(), String> {
    match spec.kind {
        ConfigKind::Bool if value != "true" && value != "false" => {
            Err(format!("`{}` must be true or false", spec.key))
        }
        ConfigKind::Url => match url::Url::parse(value) {
            Ok(u) if matches!(u.scheme(), "https" | "http") && u.host().is_some() => Ok(()),
            _ => Err(format!(
                "`{}` must be an absolute https URL, not `{value}`",
                spec.key
            )),
        },
        _ => Ok(()),
    }
}

/// Every long flag name `cmd` already takes, with the root's (global flags) and `--help`.
fn reserved(root: &Command, path: &[&str]) -> Vec<String> {
    let mut names = vec!["help".to_owned(), "version".to_owned()];
    let mut cmd = Some(root);
    for depth in 0..=path.len() {
        let Some(c) = cmd else { break };
        names.extend(
            c.get_arguments()
                .filter_map(|a| a.get_long().map(str::to_owned)),
        );
        cmd = path.get(depth).and_then(|name| c.find_subcommand(name));
    }
    names
}

fn augment_at(cmd: Command, path: &[&str], flags: &SchemaFlags) -> Command {
    match path.split_first() {
        None => flags.augment(cmd),
        Some((name, rest)) => cmd.mut_subcommand(*name, |sub| augment_at(sub, rest, flags)),
    }
}

/// Parses `argv` again as `T`, the subcommand at `path` (`["connect"]`, `["integrations",
/// "update"]`) taking the flags of `schema` too; returns the arguments, the flags and what they
/// gave.
pub fn reparse<T: CommandFactory + FromArgMatches>(
    argv: impl IntoIterator<Item = OsString>,
    path: &[&str],
    schema: &[ConfigKey],
) -> Result<(T, SchemaFlags, Given), clap::Error> {
    let root = T::command();
    let flags = SchemaFlags::new(schema, &reserved(&root, path));
    let matches = augment_at(root, path, &flags).try_get_matches_from(argv)?;
    let parsed = T::from_arg_matches(&matches)?;
    let mut sub = &matches;
    for name in path {
        sub = sub
            .subcommand_matches(name)
            .ok_or_else(|| clap::Error::new(clap::error::ErrorKind::MissingSubcommand))?;
    }
    let values = flags.values(sub);
    Ok((parsed, flags, values))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str, kind: ConfigKind, required: bool, requires: &[&str]) -> ConfigKey {
        ConfigKey {
            key: name.to_owned(),
            kind,
            required,
            default: None,
            requires: requires.iter().map(|s| (*s).to_owned()).collect(),
            description: format!("the {name}"),
        }
    }

    fn schema() -> Vec<ConfigKey> {
        vec![
            key("base_url", ConfigKind::Url, true, &[]),
            key("api_token", ConfigKind::Secret, true, &[]),
            key("user_name", ConfigKind::String, false, &["password"]),
            key("password", ConfigKind::Secret, false, &["user_name"]),
            key("dry", ConfigKind::Bool, false, &[]),
            key("protected", ConfigKind::List, false, &[]),
            key("weird key", ConfigKind::String, false, &[]),
            key("home", ConfigKind::String, false, &[]),
        ]
    }

    #[test]
    fn every_plain_unreserved_key_is_a_flag_named_after_it() {
        let flags = SchemaFlags::new(&schema(), &["home".to_owned()]);
        let longs: Vec<&str> = flags.flags().iter().map(|f| f.long.as_str()).collect();
        assert_eq!(
            longs,
            [
                "base-url",
                "api-token-file",
                "user-name",
                "password-file",
                "dry",
                "protected"
            ]
        );
        // The derived command parses them; a secret is a path, a list joins its repeats.
        let cmd = flags.augment(Command::new("t"));
        let m = cmd
            .try_get_matches_from([
                "t",
                "--base-url",
                "https://x.example",
                "--api-token-file",
                "-",
                "--protected",
                "a,b",
                "--protected",
                "c",
            ])
            .unwrap();
        assert_eq!(
            flags.values(&m),
            [
                (
                    "base_url".into(),
                    Value::Setting("https://x.example".into())
                ),
                ("api_token".into(), Value::SecretFile("-".into())),
                ("protected".into(), Value::Setting("a,b,c".into())),
            ]
        );
        assert_eq!(flags.how_to_set("home"), "--set home=VALUE");
    }

    #[test]
    fn a_flag_the_schema_lacks_is_refused_naming_the_valid_ones_and_never_a_value() {
        let flags = SchemaFlags::new(&schema(), &[]);
        let e = flags.unknown(&["--org-id".into(), "o".into()]);
        assert!(
            e.contains("`--org-id`") && e.contains("--base-url URL"),
            "{e}"
        );
        let e = flags.unknown(&["--api-token=s3cret".into()]);
        assert!(
            e.contains("--api-token-file FILE") && !e.contains("s3cret"),
            "{e}"
        );
        let e = flags.unknown(&["s3cret".into()]);
        assert!(!e.contains("s3cret"), "{e}");
    }

    #[test]
    fn required_keys_pairs_and_syntax_are_checked_from_the_schema() {
        let flags = SchemaFlags::new(&schema(), &[]);
        let url = |v: &str| ("base_url".to_owned(), Value::Setting(v.into()));
        let token = ("api_token".to_owned(), Value::SecretFile("t".into()));
        let none = |_: &str| false;
        let e = flags
            .check(&[url("https://x.example")], none, true)
            .unwrap_err();
        assert!(e.contains("--api-token-file FILE"), "{e}");
        assert!(
            flags
                .check(&[url("https://x.example")], none, false)
                .is_ok()
        );
        let e = flags
            .check(&[url("x.example"), token.clone()], none, true)
            .unwrap_err();
        assert!(e.contains("base_url"), "{e}");
        let user = ("user_name".to_owned(), Value::Setting("u".into()));
        let e = flags
            .check(
                &[url("https://x.example"), token.clone(), user.clone()],
                none,
                true,
            )
            .unwrap_err();
        assert!(e.contains("--password-file FILE"), "{e}");
        // Rotating one key of a pair: the other is already saved.
        assert!(flags.check(&[user], |k| k == "password", false).is_ok());
        let dry = ("dry".to_owned(), Value::Setting("yes".into()));
        assert!(flags.check(&[dry], none, false).is_err());
    }
}
