//! Reading a batch file: CSV with a header row, or a JSON array of objects, chosen by the
//! file's extension. The whole file is validated before anything runs, and every problem names
//! the line it is on.
//!
//! | column / field | used by | |
//! |---|---|---|
//! | `email` | all | `sync`: required. Others: the person, instead of `user` |
//! | `user` | `groups`, `deprovision`, `delete` | an email, or `scim:ID`, `account:ID`, `external:ID` |
//! | `name`, `given_name`, `family_name`, `display_name`, `external_id` | `sync` | attributes |
//! | `add`, `remove` | `sync`, `groups` | group names: `;`-separated in CSV, arrays in JSON |
//! | `add_role`, `remove_role` | `sync`, `groups` | roles as `ROLE@KIND:ID` ([`crate::entitlement`]), listed alike |
//! | `add` | `reactivate` | the groups the person should be in (others they kept are removed) |

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use serde_json::Value;
use serde_json::value::RawValue;

use super::Action;
use crate::user_ref::parse as parse_user_ref;
use lifecycle_host::bindings::types::{Entitlement, Identity, RoleGrant, UserRef};

/// The largest batch file read, in bytes.
pub const MAX_FILE_BYTES: u64 = 64 << 20;

/// At most this many problems are listed in an error message.
const PROBLEMS_SHOWN: usize = 20;

/// One item of a batch: a person and what to do with them.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    /// The 1-based line of the file the item starts on.
    pub line: usize,
    /// The person as given (`email` or `user`).
    pub user: String,
    /// The person, parsed.
    pub user_ref: UserRef,
    /// Full name (`sync`).
    pub name: Option<String>,
    /// Given name (`sync`).
    pub given_name: Option<String>,
    /// Family name (`sync`).
    pub family_name: Option<String>,
    /// Display name (`sync`).
    pub display_name: Option<String>,
    /// The platform's id for the person (`sync`).
    pub external_id: Option<String>,
    /// Groups to add the person to (`sync`, `groups`).
    pub add: Vec<String>,
    /// Groups to remove the person from (`sync`, `groups`).
    pub remove: Vec<String>,
    /// Roles to grant the person (`sync`, `groups`).
    pub add_roles: Vec<RoleGrant>,
    /// Roles to revoke from the person (`sync`, `groups`).
    pub remove_roles: Vec<RoleGrant>,
}

impl Item {
    /// The identity a `sync` item asks for.
    pub fn identity(&self) -> Identity {
        Identity {
            email: self.user.clone(),
            name: self.name.clone(),
            given_name: self.given_name.clone(),
            family_name: self.family_name.clone(),
            display_name: self.display_name.clone(),
            external_id: self.external_id.clone(),
        }
    }

    /// Whether the item changes group memberships or roles.
    pub fn has_groups(&self) -> bool {
        !self.add.is_empty()
            || !self.remove.is_empty()
            || !self.add_roles.is_empty()
            || !self.remove_roles.is_empty()
    }

    /// The groups and roles to add, as entitlements.
    pub fn to_add(&self) -> Vec<Entitlement> {
        crate::entitlement::entitlements(&self.add, &self.add_roles)
    }

    /// The groups and roles to remove, as entitlements.
    pub fn to_remove(&self) -> Vec<Entitlement> {
        crate::entitlement::entitlements(&self.remove, &self.remove_roles)
    }
}

/// A problem with one line of a batch file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Why a batch file cannot be run. Nothing has run when one of these is returned.
#[derive(Debug, thiserror::Error)]
pub enum ItemsError {
    /// The file could not be read: missing, not a regular file, larger than [`MAX_FILE_BYTES`].
    #[error("{0}; nothing was run")]
    Read(#[from] lifecycle_host::files::FileError),
    /// The file is neither `.csv` nor `.json`, too large, or not CSV or JSON at all.
    #[error("batch file {path}: {message}; nothing was run")]
    Format {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// Some items are invalid.
    #[error(
        "batch file {path} has {count} {noun}; nothing was run:\n{list}",
        count = .problems.len(),
        noun = if .problems.len() == 1 { "problem" } else { "problems" },
        list = list(.problems)
    )]
    Invalid {
        /// The file.
        path: String,
        /// Every problem found, in line order.
        problems: Vec<Problem>,
    },
}

fn list(problems: &[Problem]) -> String {
    let mut out: Vec<String> = problems
        .iter()
        .take(PROBLEMS_SHOWN)
        .map(|p| format!("  {p}"))
        .collect();
    if problems.len() > PROBLEMS_SHOWN {
        out.push(format!("  … and {} more", problems.len() - PROBLEMS_SHOWN));
    }
    out.join("\n")
}

/// The format of a batch file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// CSV with a header row.
    Csv,
    /// A JSON array of objects.
    Json,
}

impl Format {
    /// The format a file's extension names (`.csv` or `.json`, any case).
    pub fn of(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(Self::Csv),
            "json" => Some(Self::Json),
            _ => None,
        }
    }
}

/// Reads and validates a batch file; returns its items and its bytes (for the batch's key).
pub fn load(path: &Path, action: Action) -> Result<(Vec<Item>, Vec<u8>), ItemsError> {
    let shown = path.display().to_string();
    let format_error = |message: String| ItemsError::Format {
        path: shown.clone(),
        message,
    };
    let format = Format::of(path).ok_or_else(|| {
        format_error("cannot tell its format: name it `.csv` (with a header row) or `.json` (an array of objects)".into())
    })?;
    // Bounded by what is read, not by `metadata().len()`: that is 0 for a device.
    let bytes = lifecycle_host::files::read_bounded(
        path,
        lifecycle_host::files::Kind::Batch,
        MAX_FILE_BYTES,
    )?;
    let items = parse(&bytes, format, action).map_err(|e| match e {
        ParseError::Format(message) => format_error(message),
        ParseError::Invalid(problems) => ItemsError::Invalid {
            path: shown.clone(),
            problems,
        },
    })?;
    Ok((items, bytes))
}

/// Why bytes could not be parsed into items.
#[derive(Debug, PartialEq, Eq)]
pub enum ParseError {
    /// The file as a whole is malformed.
    Format(String),
    /// Some lines are invalid.
    Invalid(Vec<Problem>),
}

/// Parses and validates the bytes of a batch file.
pub fn parse(bytes: &[u8], format: Format, action: Action) -> Result<Vec<Item>, ParseError> {
    let rows = match format {
        Format::Csv => csv_rows(bytes, action)?,
        Format::Json => json_rows(bytes, action)?,
    };
    if rows.is_empty() {
        return Err(ParseError::Format("it has no items".into()));
    }
    validate(rows, action)
}

/// A field's value as read, before validation.
#[derive(Debug)]
enum Field {
    Text(String),
    List(Vec<String>),
}

/// One item as read: its line and its non-empty fields by column name.
#[derive(Debug)]
struct Row {
    line: usize,
    fields: HashMap<String, Field>,
}

const IDENTITY_COLUMNS: [&str; 5] = [
    "name",
    "given_name",
    "family_name",
    "display_name",
    "external_id",
];

/// The columns that hold lists (`;`-separated in CSV, arrays in JSON).
const LIST_COLUMNS: [&str; 4] = ["add", "remove", "add_role", "remove_role"];

/// The columns an action reads.
fn columns(action: Action) -> &'static [&'static str] {
    match action {
        Action::Sync => &[
            "email",
            "name",
            "given_name",
            "family_name",
            "display_name",
            "external_id",
            "add",
            "remove",
            "add_role",
            "remove_role",
        ],
        Action::Groups => &["user", "email", "add", "remove", "add_role", "remove_role"],
        Action::Deprovision | Action::Delete => &["user", "email"],
        Action::Reactivate => &["user", "email", "add"],
    }
}

fn unknown_column(action: Action, column: &str) -> String {
    format!(
        "unknown column `{column}`: a {action} batch reads {}",
        columns(action)
            .iter()
            .map(|c| format!("`{c}`"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

fn csv_rows(bytes: &[u8], action: Action) -> Result<Vec<Row>, ParseError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|e| ParseError::Format(format!("not CSV: {}", csv_message(&e))))?
        .clone();
    if headers.iter().all(str::is_empty) {
        return Err(ParseError::Format(
            "it has no header row (the first line names the columns, e.g. `email,name,add`)".into(),
        ));
    }
    let mut problems = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for header in &headers {
        let name = header.to_ascii_lowercase();
        if name.is_empty() {
            problems.push(Problem {
                line: 1,
                message: "a column has no name in the header row".into(),
            });
        } else if !columns(action).contains(&name.as_str()) {
            problems.push(Problem {
                line: 1,
                message: unknown_column(action, header),
            });
        } else if names.contains(&name) {
            problems.push(Problem {
                line: 1,
                message: format!("column `{name}` appears twice in the header row"),
            });
        }
        names.push(name);
    }
    let required = match action {
        Action::Sync => (!names.iter().any(|n| n == "email"))
            .then_some("the header row has no `email` column (a sync batch needs one)"),
        _ => (!names.iter().any(|n| n == "user" || n == "email"))
            .then_some("the header row has neither a `user` nor an `email` column"),
    };
    if let Some(message) = required {
        problems.push(Problem {
            line: 1,
            message: message.into(),
        });
    }
    if !problems.is_empty() {
        return Err(ParseError::Invalid(problems));
    }
    // The line a record starts on, from its byte offset (the `csv` crate's own line count
    // leaves out blank lines, and its offset is where the blank lines before a record begin).
    let lines = LineIndex::new(bytes);
    let line_at = |position: Option<&csv::Position>| {
        position.map_or(0, |p| {
            let mut start = usize::try_from(p.byte())
                .unwrap_or(usize::MAX)
                .min(bytes.len());
            while start < bytes.len() && matches!(bytes[start], b'\n' | b'\r') {
                start += 1;
            }
            lines.line_of(start)
        })
    };
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                let line = line_at(e.position());
                let message = csv_message(&e);
                if matches!(e.kind(), csv::ErrorKind::Io(_)) || line == 0 {
                    return Err(ParseError::Format(format!("not CSV: {message}")));
                }
                problems.push(Problem { line, message });
                continue;
            }
        };
        let line = line_at(record.position());
        let fields = names
            .iter()
            .zip(record.iter())
            .filter(|(_, value)| !value.is_empty())
            .map(|(name, value)| {
                let field = if LIST_COLUMNS.contains(&name.as_str()) {
                    Field::List(value.split(';').map(|g| g.trim().to_owned()).collect())
                } else {
                    Field::Text(value.to_owned())
                };
                (name.clone(), field)
            })
            .collect();
        rows.push(Row { line, fields });
    }
    if problems.is_empty() {
        Ok(rows)
    } else {
        Err(ParseError::Invalid(problems))
    }
}

/// Where each line of a file starts, so the line of any byte offset costs O(log lines):
/// counting newlines from the start for every record made validation quadratic (20,000 rows
/// took a minute).
struct LineIndex {
    /// Offsets of every `\n`, ascending.
    newlines: Vec<usize>,
}

impl LineIndex {
    fn new(bytes: &[u8]) -> Self {
        let newlines = bytes
            .iter()
            .enumerate()
            .filter_map(|(i, b)| (*b == b'\n').then_some(i))
            .collect();
        Self { newlines }
    }

    /// The 1-based line of the byte at `offset`.
    fn line_of(&self, offset: usize) -> usize {
        self.newlines.partition_point(|&n| n < offset) + 1
    }
}

/// A CSV error's message, without the `csv` crate's byte offsets and record numbers.
fn csv_message(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} fields where the header row has {expected_len}"),
        csv::ErrorKind::Utf8 { .. } => "not valid UTF-8".into(),
        csv::ErrorKind::Io(io) => io.to_string(),
        _ => e.to_string(),
    }
}

/// A JSON object's members in document order, duplicates kept (a map would drop them).
struct Entries<'a>(Vec<(String, &'a RawValue)>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for Entries<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Visitor<'a> {
            type Value = Entries<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut map: M,
            ) -> Result<Self::Value, M::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<String, &'de RawValue>()? {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(Visitor(std::marker::PhantomData))
    }
}

fn json_rows(bytes: &[u8], action: Action) -> Result<Vec<Row>, ParseError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        ParseError::Format(format!("not valid UTF-8 (at byte {})", e.valid_up_to()))
    })?;
    let raw: Vec<&RawValue> = serde_json::from_str(text).map_err(|e| {
        ParseError::Format(match e.classify() {
            serde_json::error::Category::Data => {
                "not a JSON array of objects (one object per item)".into()
            }
            _ => format!("not valid JSON: {e}"),
        })
    })?;
    let lines = LineIndex::new(text.as_bytes());
    let line_of = |raw: &RawValue| {
        let offset = (raw.get().as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
        lines.line_of(offset)
    };
    let mut problems = Vec::new();
    let mut rows = Vec::new();
    for (index, raw) in raw.iter().enumerate() {
        let line = line_of(raw);
        let entries = match serde_json::from_str::<Entries<'_>>(raw.get()) {
            Ok(Entries(entries)) => entries,
            _ => {
                problems.push(Problem {
                    line,
                    message: format!(
                        "item {}: not an object (each item is `{{\"email\": …}}`)",
                        index + 1
                    ),
                });
                continue;
            }
        };
        // serde_json keeps the last of two equal keys: a duplicate is refused instead, so
        // `{"email": "a@x", "email": "b@x"}` never silently acts on `b@x`.
        let mut object = serde_json::Map::new();
        let mut duplicate = false;
        for (key, value) in entries {
            if object.contains_key(&key) {
                problems.push(Problem {
                    line: line_of(value),
                    message: format!("item {}: field `{key}` appears twice", index + 1),
                });
                duplicate = true;
                continue;
            }
            match serde_json::from_str::<Value>(value.get()) {
                Ok(v) => object.insert(key, v),
                Err(_) => continue,
            };
        }
        if duplicate {
            continue;
        }
        let mut problem = |message: String| {
            problems.push(Problem {
                line,
                message: format!("item {}: {message}", index + 1),
            })
        };
        let mut fields = HashMap::new();
        for (key, value) in object {
            if !columns(action).contains(&key.as_str()) {
                problem(unknown_column(action, &key).replacen("column", "field", 1));
                continue;
            }
            let field = match (key.as_str(), value) {
                (_, Value::Null) => continue,
                (k, Value::Array(values)) if LIST_COLUMNS.contains(&k) => {
                    let mut names = Vec::new();
                    for value in values {
                        match value {
                            Value::String(s) => names.push(s.trim().to_owned()),
                            _ => {
                                problem(format!("`{key}` must be {}", list_of(&key)));
                                break;
                            }
                        }
                    }
                    Field::List(names)
                }
                (k, _) if LIST_COLUMNS.contains(&k) => {
                    problem(format!("`{key}` must be {}", list_of(&key)));
                    continue;
                }
                (_, Value::String(s)) => Field::Text(s.trim().to_owned()),
                (_, _) => {
                    problem(format!("`{key}` must be a string"));
                    continue;
                }
            };
            fields.insert(key, field);
        }
        rows.push(Row { line, fields });
    }
    if problems.is_empty() {
        Ok(rows)
    } else {
        Err(ParseError::Invalid(problems))
    }
}

/// What a list column holds, for messages.
fn list_of(column: &str) -> &'static str {
    if column.ends_with("_role") {
        "an array of roles (ROLE@KIND:ID)"
    } else {
        "an array of group names"
    }
}

/// Checks every row and turns it into an item; every problem of every row is reported.
fn validate(rows: Vec<Row>, action: Action) -> Result<Vec<Item>, ParseError> {
    let mut problems = Vec::new();
    let mut items = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for mut row in rows {
        let line = row.line;
        let mut problem = |message: String| problems.push(Problem { line, message });
        let mut text = |name: &str, problem: &mut dyn FnMut(String)| match row.fields.remove(name) {
            Some(Field::Text(s)) if s.is_empty() => None,
            Some(Field::Text(s)) => Some(s),
            Some(Field::List(_)) => {
                problem(format!("`{name}` must be text"));
                None
            }
            None => None,
        };
        let email = text("email", &mut problem);
        let user = text("user", &mut problem);
        let mut attributes: Vec<Option<String>> = IDENTITY_COLUMNS
            .iter()
            .map(|c| text(c, &mut problem))
            .collect();
        let mut groups = |name: &str, problem: &mut dyn FnMut(String)| match row.fields.remove(name)
        {
            Some(Field::List(names)) => {
                let mut out: Vec<String> = Vec::new();
                for group in names {
                    if group.is_empty() {
                        problem(format!("`{name}` has an empty group name"));
                    } else if !out.iter().any(|g| g.eq_ignore_ascii_case(&group)) {
                        out.push(group);
                    }
                }
                out
            }
            Some(Field::Text(s)) => {
                problem(format!("`{name}` must be a list of group names, not `{s}`"));
                Vec::new()
            }
            None => Vec::new(),
        };
        let add = groups("add", &mut problem);
        let remove = groups("remove", &mut problem);
        let mut roles = |name: &str, problem: &mut dyn FnMut(String)| match row.fields.remove(name)
        {
            Some(Field::List(texts)) => {
                let mut out: Vec<RoleGrant> = Vec::new();
                for role in texts {
                    match crate::entitlement::parse_role(&role) {
                        Ok(r) if !out.contains(&r) => out.push(r),
                        Ok(_) => {}
                        Err(e) => problem(format!("`{name}`: {e}")),
                    }
                }
                out
            }
            Some(Field::Text(s)) => {
                problem(format!("`{name}` must be a list of roles, not `{s}`"));
                Vec::new()
            }
            None => Vec::new(),
        };
        let add_roles = roles("add_role", &mut problem);
        let remove_roles = roles("remove_role", &mut problem);
        let given = match (action, user, email) {
            (_, Some(_), Some(_)) => {
                problem("give `user` or `email`, not both".into());
                continue;
            }
            (Action::Sync, _, None) => {
                problem("`email` is missing (a sync item needs the person's email)".into());
                continue;
            }
            (_, None, None) => {
                problem("`user` is missing (an email, or scim:ID, account:ID, external:ID)".into());
                continue;
            }
            (_, Some(user), None) => user,
            (_, None, Some(email)) => {
                if !email.contains('@') || email.contains(char::is_whitespace) {
                    problem(format!("`email` `{email}` is not an email address"));
                    continue;
                }
                email
            }
        };
        let user_ref = match parse_user_ref(&given) {
            Ok(UserRef::Email(_)) => UserRef::Email(given.clone()),
            Ok(UserRef::ExternalId(id)) if id.trim().is_empty() => {
                problem(format!("`{given}` names no id after the colon"));
                continue;
            }
            Ok(UserRef::Id(id)) if id.value.trim().is_empty() => {
                problem(format!("`{given}` names no id after the colon"));
                continue;
            }
            Ok(other) => other,
            Err(message) => {
                problem(message);
                continue;
            }
        };
        if action == Action::Groups
            && add.is_empty()
            && remove.is_empty()
            && add_roles.is_empty()
            && remove_roles.is_empty()
        {
            problem(
                "nothing to do: `add`, `remove`, `add_role` and `remove_role` are all empty".into(),
            );
            continue;
        }
        if let Some(both) = add_roles.iter().find(|r| remove_roles.contains(r)) {
            let both = crate::entitlement::text(&Entitlement::Role(both.clone()));
            problem(format!(
                "role `{both}` is both in `add_role` and in `remove_role`"
            ));
            continue;
        }
        if let Some(both) = add
            .iter()
            .find(|g| remove.iter().any(|r| r.eq_ignore_ascii_case(g)))
        {
            problem(format!("group `{both}` is both in `add` and in `remove`"));
            continue;
        }
        let key = match &user_ref {
            UserRef::Email(e) => format!("email:{}", e.to_lowercase()),
            other => other.to_string(),
        };
        if let Some(first) = seen.get(&key) {
            problem(format!(
                "`{given}` is listed twice (first on line {first}): each person once per batch"
            ));
            continue;
        }
        seen.insert(key, line);
        let mut take = |i: usize| attributes[i].take();
        items.push(Item {
            line,
            user: given,
            user_ref,
            name: take(0),
            given_name: take(1),
            family_name: take(2),
            display_name: take(3),
            external_id: take(4),
            add,
            remove,
            add_roles,
            remove_roles,
        });
    }
    if problems.is_empty() {
        Ok(items)
    } else {
        problems.sort_by_key(|p| p.line);
        Err(ParseError::Invalid(problems))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(text: &str, action: Action) -> Result<Vec<Item>, ParseError> {
        parse(text.as_bytes(), Format::Csv, action)
    }

    fn json(text: &str, action: Action) -> Result<Vec<Item>, ParseError> {
        parse(text.as_bytes(), Format::Json, action)
    }

    fn problems(result: Result<Vec<Item>, ParseError>) -> Vec<String> {
        match result {
            Err(ParseError::Invalid(p)) => p.iter().map(ToString::to_string).collect(),
            other => panic!("expected problems, got {other:?}"),
        }
    }

    #[test]
    fn reads_a_csv_sync_batch_with_groups() {
        let items = csv(
            "email, name ,add\n\
             ada@example.com,Ada Lovelace,engineering; jira-software-users\n\
             \n\
             grace@example.com,,\n",
            Action::Sync,
        )
        .unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].line, 2);
        assert_eq!(items[0].name.as_deref(), Some("Ada Lovelace"));
        assert_eq!(items[0].add, ["engineering", "jira-software-users"]);
        assert_eq!(items[1].line, 4);
        assert_eq!(items[1].name, None);
        assert!(!items[1].has_groups());
        assert_eq!(items[1].identity().email, "grace@example.com");
    }

    #[test]
    fn reads_a_json_batch_with_line_numbers() {
        let items = json(
            "[\n  {\"user\": \"scim:abc\", \"remove\": [\"eng\"]},\n  {\"email\": \"a@x.io\", \"add\": [\"ops\", \"eng\"], \"remove\": null}\n]",
            Action::Groups,
        )
        .unwrap();
        assert_eq!(items[0].line, 2);
        assert_eq!(items[0].user_ref, crate::ids::scim("abc"));
        assert_eq!(items[1].line, 3);
        assert_eq!(items[1].add, ["ops", "eng"]);
    }

    #[test]
    fn reads_roles_in_csv_and_json() {
        let items = csv(
            "user,add,add_role,remove_role\n\
             a@x.io,eng,atlassian/user@workspace:jira-software/acme; admin@workspace:ari:cloud:confluence::site/1,\n\
             b@x.io,,,atlassian/user@workspace:jira-software/acme\n",
            Action::Groups,
        )
        .unwrap();
        let texts = |e: Vec<Entitlement>| -> Vec<String> {
            e.iter().map(crate::entitlement::text).collect()
        };
        assert_eq!(
            texts(items[0].to_add()),
            [
                "eng",
                "atlassian/user@workspace:jira-software/acme",
                "admin@workspace:ari:cloud:confluence::site/1"
            ]
        );
        assert!(items[1].has_groups() && items[1].to_add().is_empty());
        assert_eq!(
            texts(items[1].to_remove()),
            ["atlassian/user@workspace:jira-software/acme"]
        );
        let items = json(
            "[{\"email\": \"a@x.io\", \"add_role\": [\"user@workspace:w\"]}]",
            Action::Sync,
        )
        .unwrap();
        assert!(items[0].has_groups());
        assert_eq!(texts(items[0].to_add()), ["user@workspace:w"]);
    }

    #[test]
    fn every_problem_is_named_with_its_line() {
        let found = problems(csv(
            "email,name\n\
             ada@example.com,Ada\n\
             ,No Email\n\
             not-an-email,X\n\
             ADA@example.com,Again\n",
            Action::Sync,
        ));
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(
            found[0].starts_with("line 3: `email` is missing"),
            "{found:?}"
        );
        assert!(found[1].starts_with("line 4:") && found[1].contains("not an email"));
        assert!(found[2].starts_with("line 5:") && found[2].contains("first on line 2"));
    }

    #[test]
    fn a_reactivate_batch_reads_the_person_and_the_groups_they_should_be_in() {
        let items = csv(
            "user,add\nada@example.com,engineering;jira-users\nscim:u-2,\n",
            Action::Reactivate,
        )
        .unwrap();
        assert_eq!(items[0].add, ["engineering", "jira-users"]);
        assert!(
            items[1].add.is_empty(),
            "no group: every kept membership goes"
        );
        let found = problems(csv("user,remove\na@x.io,eng\n", Action::Reactivate));
        assert!(found[0].contains("unknown column `remove`"), "{found:?}");
    }

    #[test]
    fn unknown_and_missing_columns_are_refused_at_the_header() {
        let found = problems(csv("email,nickname\na@x.io,A\n", Action::Sync));
        assert!(found[0].contains("unknown column `nickname`"), "{found:?}");
        let found = problems(csv("name\nAda\n", Action::Sync));
        assert!(found[0].contains("no `email` column"), "{found:?}");
        let found = problems(csv("user,add\na@x.io,eng\n", Action::Deprovision));
        assert!(found[0].contains("unknown column `add`"), "{found:?}");
        let found = problems(json("[{\"email\": \"a@x.io\", \"nick\": 1}]", Action::Sync));
        assert!(
            found[0].starts_with("line 1: item 1: unknown field `nick`"),
            "{found:?}"
        );
    }

    #[test]
    fn malformed_files_are_format_errors() {
        assert!(matches!(
            csv("email,name\na@x.io,A,extra\n", Action::Sync),
            Err(ParseError::Invalid(p)) if p[0].line == 2 && p[0].message.contains("3 fields")
        ));
        assert!(matches!(csv("", Action::Sync), Err(ParseError::Format(_))));
        assert!(
            matches!(csv("email\n", Action::Sync), Err(ParseError::Format(m)) if m.contains("no items"))
        );
        assert!(
            matches!(json("[{\"email\": ", Action::Sync), Err(ParseError::Format(m)) if m.contains("not valid JSON"))
        );
        assert!(
            matches!(json("{\"email\": \"a@x\"}", Action::Sync), Err(ParseError::Format(m)) if m.contains("array"))
        );
        let found = problems(json(
            "[1, {\"email\": \"a@x.io\", \"add\": \"eng\"}]",
            Action::Sync,
        ));
        assert!(found[0].contains("item 1: not an object"), "{found:?}");
        assert!(
            found[1].contains("item 2: `add` must be an array"),
            "{found:?}"
        );
    }

    #[test]
    fn user_references_and_group_lists_are_checked() {
        let found = problems(csv(
            "user,add,remove\n\
             scim:,eng,\n\
             bob,eng,\n\
             a@x.io,,\n\
             b@x.io,eng,ENG\n\
             c@x.io,eng;;ops,\n",
            Action::Groups,
        ));
        assert_eq!(found.len(), 5, "{found:?}");
        assert!(found[0].contains("no id"));
        assert!(found[1].contains("is not a user"));
        assert!(found[2].contains("nothing to do"));
        assert!(found[3].contains("both in `add` and in `remove`"));
        assert!(found[4].contains("empty group name"));
        let found = problems(csv(
            "user,add,add_role,remove_role\n\
             a@x.io,eng,admin,\n\
             b@x.io,,user@workspace:w,user@workspace:w\n",
            Action::Groups,
        ));
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].starts_with("line 2: `add_role`") && found[0].contains("ROLE@KIND:ID"));
        assert!(found[1].contains("both in `add_role` and in `remove_role`"));
        let found = problems(json(
            "[{\"user\": \"a@x.io\", \"add_role\": \"x\"}]",
            Action::Groups,
        ));
        assert!(found[0].contains("array of roles"), "{found:?}");
        let found = problems(csv("user,email\na@x.io,a@x.io\n", Action::Delete));
        assert!(found[0].contains("not both"));
    }
}
