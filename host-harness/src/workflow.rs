//! Declarative workflows: a TOML file of steps, each one connector action with its arguments,
//! and the parameters (`{email}`, `{team}`) a run fills in. A workflow is checked whole before
//! its first step runs: unknown actions or fields, a placeholder with no parameter, a missing
//! parameter value — each names the step and what is wrong, and nothing is run.
//!
//! ```toml
//! name = "onboarding"
//! description = "Create the person and give them their team's groups."
//!
//! [params]
//! email = { description = "work email" }
//! team = { description = "the team's group", default = "engineering" }
//!
//! [[steps]]
//! action = "sync"
//! email = "{email}"
//!
//! [[steps]]
//! action = "groups"
//! user = "{email}"
//! add = ["{team}"]
//! add_roles = ["atlassian/user@workspace:jira-software/acme"]
//! ```
//!
//! A `groups` step names groups in `add`/`remove` and roles on resources in
//! `add_roles`/`remove_roles`, as `ROLE@KIND:ID` ([`crate::entitlement`]); a role without a
//! placeholder is checked when the file is read, one with a placeholder when a run binds it.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::dispatch::Action;
use lifecycle_host::bindings::types::{
    ActionOptions, DeleteOptions, Identity, SyncOptions, UserRef,
};

/// Why a workflow file cannot run.
#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    /// The file could not be read: missing, not a regular file, too large.
    #[error(transparent)]
    Read(#[from] lifecycle_host::files::FileError),
    /// The file is not a workflow.
    #[error("workflow {path} is malformed: {message}")]
    Malformed {
        /// The file.
        path: String,
        /// What is wrong, with its place.
        message: String,
    },
    /// A run's parameters do not fit the workflow.
    #[error("workflow `{workflow}`: {message}")]
    Params {
        /// The workflow's name.
        workflow: String,
        /// What is wrong.
        message: String,
    },
}

/// One parameter a workflow takes.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Param {
    /// What it is, for `workflow show` and error messages.
    #[serde(default)]
    pub description: String,
    /// Its value when a run does not give one; without a default the parameter is required.
    pub default: Option<String>,
}

/// One step: a connector action and its arguments, which may hold `{param}` placeholders.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Step {
    /// `sync-identity`.
    Sync {
        /// Work email.
        email: String,
        /// Full name.
        name: Option<String>,
        /// Given name.
        given_name: Option<String>,
        /// Family name.
        family_name: Option<String>,
        /// Display name.
        display_name: Option<String>,
        /// The platform's id for the person.
        external_id: Option<String>,
        /// Create the person when absent (default true).
        #[serde(default = "yes")]
        create_missing: bool,
        /// Update the person when present (default true).
        #[serde(default = "yes")]
        update_existing: bool,
    },
    /// `manage-relationships`: groups and roles added and removed in one call (a value left
    /// empty by its parameter is dropped, so an optional role defaults to `""`).
    Groups {
        /// The person (an email, or `scim:`/`account:`/`external:` id).
        user: String,
        /// Groups to add, by display name.
        #[serde(default)]
        add: Vec<String>,
        /// Groups to remove, by display name.
        #[serde(default)]
        remove: Vec<String>,
        /// Roles to grant, as `ROLE@KIND:ID`.
        #[serde(default)]
        add_roles: Vec<String>,
        /// Roles to revoke, as `ROLE@KIND:ID`.
        #[serde(default)]
        remove_roles: Vec<String>,
    },
    /// `deprovision-identity`.
    Deprovision {
        /// The person.
        user: String,
        /// Also delete the person's personal API tokens (default false).
        #[serde(default)]
        revoke_api_tokens: bool,
    },
    /// `delete-identity`.
    Delete {
        /// The person.
        user: String,
        /// Also delete the Atlassian account.
        #[serde(default)]
        purge_account: bool,
    },
    /// `reactivate-identity`: the person active again, their entitlements converged to
    /// `groups` and `roles` (a value left empty by its parameter is dropped).
    Reactivate {
        /// The person.
        user: String,
        /// Groups the person should be in, by display name.
        #[serde(default)]
        groups: Vec<String>,
        /// Roles the person should hold directly, as `ROLE@KIND:ID`.
        #[serde(default)]
        roles: Vec<String>,
    },
}

fn yes() -> bool {
    true
}

/// A workflow file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workflow {
    /// Its name, used in run ids and the audit log.
    pub name: String,
    /// What it is for.
    #[serde(default)]
    pub description: String,
    /// The parameters a run fills in.
    #[serde(default)]
    pub params: BTreeMap<String, Param>,
    /// The steps, run in order; a step that does not complete stops the run.
    pub steps: Vec<Step>,
}

impl Workflow {
    /// Reads and checks a workflow file.
    pub fn from_file(path: &std::path::Path) -> Result<Self, WorkflowError> {
        let text = lifecycle_host::files::read_text(path, lifecycle_host::files::Kind::Workflow)?;
        Self::from_toml(&text).map_err(|message| WorkflowError::Malformed {
            path: path.display().to_string(),
            message,
        })
    }

    /// Parses and checks a workflow: every placeholder must name a declared parameter.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        let workflow: Workflow = toml::from_str(text).map_err(|e| e.to_string())?;
        if workflow.steps.is_empty() {
            return Err("it has no steps: add at least one [[steps]] table".into());
        }
        for (i, step) in workflow.steps.iter().enumerate() {
            for field in step_strings(step) {
                for name in placeholders(field).map_err(|e| format!("step {}: {e}", i + 1))? {
                    if !workflow.params.contains_key(name) {
                        return Err(format!(
                            "step {}: `{{{name}}}` is not a parameter; declare it under [params]",
                            i + 1
                        ));
                    }
                }
            }
            if let Step::Groups {
                add,
                remove,
                add_roles,
                remove_roles,
                ..
            } = step
            {
                if add.is_empty()
                    && remove.is_empty()
                    && add_roles.is_empty()
                    && remove_roles.is_empty()
                {
                    return Err(format!(
                        "step {}: a groups step needs `add`, `remove`, `add_roles` or \
                         `remove_roles`",
                        i + 1
                    ));
                }
                for role in add_roles.iter().chain(remove_roles) {
                    if !role.contains('{') {
                        crate::entitlement::parse_role(role)
                            .map_err(|e| format!("step {}: {e}", i + 1))?;
                    }
                }
            }
        }
        Ok(workflow)
    }

    /// Fills every step in with `given` parameter values (and the declared defaults). An
    /// unknown parameter or a required one left out is an error; nothing is half-filled.
    pub fn bind(
        &self,
        given: &BTreeMap<String, String>,
        dry_run: bool,
    ) -> Result<Vec<Action>, WorkflowError> {
        let error = |message: String| WorkflowError::Params {
            workflow: self.name.clone(),
            message,
        };
        if let Some(unknown) = given.keys().find(|k| !self.params.contains_key(*k)) {
            return Err(error(format!(
                "`{unknown}` is not one of its parameters ({})",
                self.params.keys().cloned().collect::<Vec<_>>().join(", ")
            )));
        }
        let mut values = BTreeMap::new();
        for (name, param) in &self.params {
            match given.get(name).or(param.default.as_ref()) {
                Some(v) => values.insert(name.as_str(), v.as_str()),
                None => {
                    return Err(error(format!(
                        "parameter `{name}` is required ({}): pass --set {name}=VALUE",
                        param.description
                    )));
                }
            };
        }
        let fill = |s: &String| fill(s, &values);
        let user = |s: &String| -> Result<UserRef, WorkflowError> {
            crate::user_ref::parse(&fill(s)).map_err(error)
        };
        // An optional field whose parameter was left empty is absent, not an empty string.
        let opt = |s: &Option<String>| s.as_ref().map(fill).filter(|v| !v.is_empty());
        // A list's values filled in; one its parameter left empty is dropped.
        let filled = |list: &[String]| -> Vec<String> {
            list.iter()
                .map(fill)
                .filter(|v| !v.trim().is_empty())
                .collect()
        };
        let entitlements = |groups: &[String], roles: &[String]| {
            let roles = filled(roles)
                .iter()
                .map(|r| crate::entitlement::parse_role(r).map_err(error))
                .collect::<Result<Vec<_>, _>>()?;
            Ok::<_, WorkflowError>(crate::entitlement::entitlements(&filled(groups), &roles))
        };
        self.steps
            .iter()
            .map(|step| {
                Ok(match step {
                    Step::Sync {
                        email,
                        name,
                        given_name,
                        family_name,
                        display_name,
                        external_id,
                        create_missing,
                        update_existing,
                    } => Action::Sync(
                        Identity {
                            email: fill(email),
                            name: opt(name),
                            given_name: opt(given_name),
                            family_name: opt(family_name),
                            display_name: opt(display_name),
                            external_id: opt(external_id),
                        },
                        SyncOptions {
                            create_missing: *create_missing,
                            update_existing: *update_existing,
                            dry_run,
                        },
                    ),
                    Step::Groups {
                        user: u,
                        add,
                        remove,
                        add_roles,
                        remove_roles,
                    } => Action::Groups {
                        user: user(u)?,
                        add: entitlements(add, add_roles)?,
                        remove: entitlements(remove, remove_roles)?,
                        options: ActionOptions { dry_run },
                    },
                    Step::Deprovision {
                        user: u,
                        revoke_api_tokens,
                    } => {
                        Action::Deprovision(user(u)?, ActionOptions { dry_run }, *revoke_api_tokens)
                    }
                    Step::Delete {
                        user: u,
                        purge_account,
                    } => Action::Delete(
                        user(u)?,
                        DeleteOptions {
                            purge_account: *purge_account,
                            dry_run,
                        },
                    ),
                    Step::Reactivate {
                        user: u,
                        groups,
                        roles,
                    } => Action::Reactivate(
                        user(u)?,
                        entitlements(groups, roles)?,
                        ActionOptions { dry_run },
                    ),
                })
            })
            .collect()
    }
}

fn step_strings(step: &Step) -> Vec<&String> {
    match step {
        Step::Sync {
            email,
            name,
            given_name,
            family_name,
            display_name,
            external_id,
            ..
        } => std::iter::once(email)
            .chain(
                [name, given_name, family_name, display_name, external_id]
                    .into_iter()
                    .flatten(),
            )
            .collect(),
        Step::Groups {
            user,
            add,
            remove,
            add_roles,
            remove_roles,
        } => std::iter::once(user)
            .chain(add)
            .chain(remove)
            .chain(add_roles)
            .chain(remove_roles)
            .collect(),
        Step::Deprovision { user, .. } | Step::Delete { user, .. } => vec![user],
        Step::Reactivate {
            user,
            groups,
            roles,
        } => std::iter::once(user).chain(groups).chain(roles).collect(),
    }
}

/// The placeholder names in `s`: `{name}`; `{{` and `}}` are literal braces.
fn placeholders(s: &str) -> Result<Vec<&str>, String> {
    let mut names = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find(['{', '}']) {
        let after = &rest[i + 1..];
        if rest[i..].starts_with("{{") || rest[i..].starts_with("}}") {
            rest = &after[1..];
            continue;
        }
        if rest[i..].starts_with('}') {
            return Err(format!(
                "`{s}` has a `}}` without its `{{` (write `}}}}` for a brace)"
            ));
        }
        let end = after.find('}').ok_or_else(|| {
            format!("`{s}` has a `{{` without its `}}` (write `{{{{` for a brace)")
        })?;
        let name = &after[..end];
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("`{{{name}}}` in `{s}` is not a parameter name"));
        }
        names.push(name);
        rest = &after[end + 1..];
    }
    Ok(names)
}

/// `s` with every placeholder replaced (checked beforehand by [`Workflow::from_toml`]).
fn fill(s: &str, values: &BTreeMap<&str, &str>) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..1]);
            rest = &tail[2..];
        } else if let Some(end) = tail.find('}') {
            let name = &tail[1..end];
            out.push_str(values.get(name).copied().unwrap_or_default());
            rest = &tail[end + 1..];
        } else {
            out.push_str(tail);
            rest = "";
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use lifecycle_host::bindings::types::Entitlement;

    const ONBOARDING: &str = r#"
        name = "onboarding"
        [params]
        email = { description = "work email" }
        team = { default = "engineering" }
        site = { default = "acme" }
        [[steps]]
        action = "sync"
        email = "{email}"
        name = "{{literal}} {email}"
        [[steps]]
        action = "groups"
        user = "{email}"
        add = ["{team}", "jira-software-users"]
        add_roles = ["atlassian/user@workspace:jira-software/{site}"]
        [[steps]]
        action = "groups"
        user = "{email}"
        remove_roles = ["atlassian/admin@workspace:ari:cloud:confluence::site/1"]
    "#;

    fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn binds_parameters_and_defaults() {
        let wf = Workflow::from_toml(ONBOARDING).unwrap();
        let actions = wf.bind(&params(&[("email", "a@x.io")]), false).unwrap();
        let Action::Sync(identity, options) = &actions[0] else {
            panic!("{actions:?}")
        };
        assert_eq!(identity.email, "a@x.io");
        assert_eq!(identity.name.as_deref(), Some("{literal} a@x.io"));
        assert!(options.create_missing && !options.dry_run);
        assert_eq!(
            actions[1],
            Action::Groups {
                user: UserRef::Email("a@x.io".into()),
                add: vec![
                    Entitlement::Group("engineering".into()),
                    Entitlement::Group("jira-software-users".into()),
                    Entitlement::Role(role("atlassian/user@workspace:jira-software/acme")),
                ],
                remove: vec![],
                options: ActionOptions { dry_run: false },
            }
        );
        let Action::Groups { add, remove, .. } = &actions[2] else {
            panic!("{actions:?}")
        };
        assert!(add.is_empty());
        assert_eq!(
            crate::entitlement::text(&remove[0]),
            "atlassian/admin@workspace:ari:cloud:confluence::site/1"
        );
    }

    fn role(s: &str) -> lifecycle_host::bindings::types::RoleGrant {
        crate::entitlement::parse_role(s).unwrap()
    }

    #[test]
    fn a_malformed_role_is_refused_when_read_or_bound() {
        let err = Workflow::from_toml(
            "name = \"x\"\n[[steps]]\naction = \"groups\"\nuser = \"a@b.c\"\nadd_roles = [\"admin\"]",
        )
        .unwrap_err();
        assert!(
            err.contains("step 1") && err.contains("ROLE@KIND:ID"),
            "{err}"
        );
        let wf = Workflow::from_toml(
            "name = \"x\"\n[params]\nr = {}\n[[steps]]\naction = \"groups\"\nuser = \"a@b.c\"\nremove_roles = [\"{r}\"]",
        )
        .unwrap();
        let err = wf
            .bind(&params(&[("r", "admin@workspace")]), false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("ROLE@KIND:ID"), "{err}");
    }

    #[test]
    fn the_shipped_rehire_binds_a_reactivate_step_dropping_an_empty_role() {
        let wf = Workflow::from_toml(include_str!("../../examples/workflows/rehire.toml")).unwrap();
        let actions = wf.bind(&params(&[("email", "a@x.io")]), true).unwrap();
        let desired = vec![
            lifecycle_host::bindings::types::Entitlement::Group("engineering".into()),
            lifecycle_host::bindings::types::Entitlement::Group("jira-software-users".into()),
        ];
        assert_eq!(
            actions,
            [Action::Reactivate(
                UserRef::Email("a@x.io".into()),
                desired,
                ActionOptions { dry_run: true }
            )]
        );
        let role = "atlassian/user@workspace:jira-software/acme";
        let actions = wf
            .bind(&params(&[("email", "a@x.io"), ("role", role)]), false)
            .unwrap();
        let Action::Reactivate(_, desired, _) = &actions[0] else {
            panic!("{actions:?}")
        };
        assert_eq!(crate::entitlement::text(&desired[2]), role);
        let err = wf
            .bind(&params(&[("email", "a@x.io"), ("role", "admin")]), false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a role"), "{err}");
    }

    #[test]
    fn the_shipped_role_change_moves_groups_and_optionally_a_role() {
        let wf =
            Workflow::from_toml(include_str!("../../examples/workflows/role-change.toml")).unwrap();
        let base = [
            ("email", "a@x.io"),
            ("from", "engineering"),
            ("to", "research"),
        ];
        let actions = wf.bind(&params(&base), false).unwrap();
        assert_eq!(
            actions,
            [Action::Groups {
                user: UserRef::Email("a@x.io".into()),
                add: vec![Entitlement::Group("research".into())],
                remove: vec![Entitlement::Group("engineering".into())],
                options: ActionOptions { dry_run: false },
            }],
            "no role given: groups only"
        );
        let (add, remove) = (
            "atlassian/user@workspace:jira-software/acme",
            "atlassian/admin@workspace:ari:cloud:confluence::site/1",
        );
        let mut with_roles = base.to_vec();
        with_roles.extend([("add_role", add), ("remove_role", remove)]);
        let actions = wf.bind(&params(&with_roles), true).unwrap();
        assert_eq!(
            actions,
            [Action::Groups {
                user: UserRef::Email("a@x.io".into()),
                add: vec![
                    Entitlement::Group("research".into()),
                    Entitlement::Role(role(add)),
                ],
                remove: vec![
                    Entitlement::Group("engineering".into()),
                    Entitlement::Role(role(remove)),
                ],
                options: ActionOptions { dry_run: true },
            }]
        );
        let mut bad = base.to_vec();
        bad.push(("add_role", "admin"));
        let err = wf.bind(&params(&bad), false).unwrap_err().to_string();
        assert!(err.contains("ROLE@KIND:ID"), "{err}");
    }

    #[test]
    fn bad_runs_are_refused_whole() {
        let wf = Workflow::from_toml(ONBOARDING).unwrap();
        let err = wf.bind(&params(&[]), false).unwrap_err().to_string();
        assert!(err.contains("`email` is required"), "{err}");
        let err = wf
            .bind(&params(&[("email", "a@x.io"), ("tema", "x")]), false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("`tema` is not one of its parameters"), "{err}");
        let err = wf
            .bind(&params(&[("email", "not-an-email")]), false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a user"), "{err}");
    }

    #[test]
    fn malformed_files_name_the_step_and_the_problem() {
        let cases = [
            ("name = \"x\"\nsteps = []", "no steps"),
            ("name = \"x\"\n[[steps]]\naction = \"launch\"", "launch"),
            (
                "name = \"x\"\n[[steps]]\naction = \"deprovision\"\nuser = \"{who}\"",
                "`{who}` is not a parameter",
            ),
            (
                "name = \"x\"\n[[steps]]\naction = \"deprovision\"\nuser = \"a@b.c\"\ncolour = 1",
                "colour",
            ),
            (
                "name = \"x\"\n[[steps]]\naction = \"groups\"\nuser = \"a@b.c\"",
                "needs `add`, `remove`",
            ),
            (
                "name = \"x\"\n[params]\nu = {}\n[[steps]]\naction = \"deprovision\"\nuser = \"{u\"",
                "without its",
            ),
            (
                "[[steps]]\naction = \"deprovision\"\nuser = \"a@b.c\"",
                "name",
            ),
        ];
        for (text, expected) in cases {
            let err = Workflow::from_toml(text).unwrap_err();
            assert!(err.contains(expected), "{text}: {err}");
        }
    }
}
