//! One way to run an action: the CLI's commands, batch items and workflow steps all hand a
//! [`Dispatcher`] an [`Action`], which invokes it on the connector for the tenant, writes the
//! audit records the invocation calls for, and returns both. What each caller then prints, or
//! how it counts the item, is its own.

use crate::audit::{AuditContext, AuditError, AuditLog, AuditRecord};
use lifecycle_host::bindings::types::{
    ActionOptions, DeleteOptions, Entitlement, HealthReport, Identity, Outcome, RoleGrant,
    SyncOptions, UserRef,
};
use lifecycle_host::{Invocation, LoadedConnector, Tenant};

/// One connector action with all its arguments: a bound workflow step, a batch item, a CLI
/// command.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// `sync-identity`.
    Sync(Identity, SyncOptions),
    /// `manage-relationships`: group memberships and roles on resources.
    Groups {
        /// The person.
        user: UserRef,
        /// Entitlements to add: groups by name, roles (`ROLE@KIND:ID`).
        add: Vec<Entitlement>,
        /// Entitlements to remove.
        remove: Vec<Entitlement>,
        /// Dry run or not.
        options: ActionOptions,
    },
    /// `deprovision-identity`; the flag also revokes the person's personal API tokens (the
    /// connector's `revoke_api_tokens` setting, for this call).
    Deprovision(UserRef, ActionOptions, bool),
    /// `delete-identity`.
    Delete(UserRef, DeleteOptions),
    /// `reactivate-identity`: the person active again, their entitlements converged to the
    /// desired set (groups and roles).
    Reactivate(UserRef, Vec<Entitlement>, ActionOptions),
    /// `manage-group-roles`: roles granted to and revoked from a group, by its name (an
    /// administrator's action on a group, not on a person).
    GroupRoles {
        /// The group's display name.
        group: String,
        /// Roles to grant (`ROLE@KIND:ID`).
        add: Vec<RoleGrant>,
        /// Roles to revoke.
        remove: Vec<RoleGrant>,
        /// Dry run or not.
        options: ActionOptions,
    },
}

impl Action {
    /// The action's name, as the CLI and the audit log spell it.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Sync(..) => "sync",
            Self::Groups { .. } => "groups",
            Self::Deprovision(..) => "deprovision",
            Self::Delete(..) => "delete",
            Self::Reactivate(..) => "reactivate",
            Self::GroupRoles { .. } => "group-roles",
        }
    }

    /// Invokes the action on `connector` for `tenant` (unrecorded: see [`Dispatcher::run`]).
    async fn invoke(
        &self,
        connector: &lifecycle_host::LoadedConnector,
        tenant: &lifecycle_host::Tenant,
    ) -> lifecycle_host::Invocation<lifecycle_host::bindings::types::Outcome> {
        match self {
            Self::Sync(identity, options) => {
                connector.sync_identity(tenant, identity, *options).await
            }
            Self::Groups {
                user,
                add,
                remove,
                options,
            } => {
                connector
                    .manage_relationships(tenant, user, add, remove, *options)
                    .await
            }
            Self::Deprovision(user, options, false) => {
                connector.deprovision_identity(tenant, user, *options).await
            }
            Self::Deprovision(user, options, true) => {
                let tenant = tenant.clone().with_setting("revoke_api_tokens", "true");
                connector
                    .deprovision_identity(&tenant, user, *options)
                    .await
            }
            Self::Delete(user, options) => connector.delete_identity(tenant, user, *options).await,
            Self::Reactivate(user, desired, options) => {
                connector
                    .reactivate_identity(tenant, user, desired, *options)
                    .await
            }
            Self::GroupRoles {
                group,
                add,
                remove,
                options,
            } => {
                connector
                    .manage_group_roles(tenant, group, add, remove, *options)
                    .await
            }
        }
    }

    /// Whether the action only plans (writes nothing).
    pub fn dry_run(&self) -> bool {
        match self {
            Self::Sync(_, options) => options.dry_run,
            Self::Groups { options, .. } | Self::Deprovision(_, options, _) => options.dry_run,
            Self::Delete(_, options) => options.dry_run,
            Self::Reactivate(_, _, options) => options.dry_run,
            Self::GroupRoles { options, .. } => options.dry_run,
        }
    }

    /// The person the action is about, as given (for a group's roles, `group:NAME`).
    pub fn user_text(&self) -> String {
        match self {
            Self::GroupRoles { group, .. } => format!("group:{group}"),
            Self::Sync(identity, _) => identity.email.clone(),
            Self::Groups { user, .. }
            | Self::Deprovision(user, ..)
            | Self::Delete(user, _)
            | Self::Reactivate(user, ..) => crate::user_ref::text(user),
        }
    }
}

/// Where actions run and are recorded: one connector, one tenant, its audit log.
#[derive(Clone, Copy)]
pub struct Dispatcher<'a> {
    /// The loaded connector; each invocation gets its own instance.
    pub connector: &'a LoadedConnector,
    /// The tenant the actions act on.
    pub tenant: &'a Tenant,
    /// The integration's name, in every audit record.
    pub integration: &'a str,
    /// Where the changes are recorded.
    pub audit: &'a AuditLog,
}

/// An action's invocation and what the audit log made of it.
pub struct Dispatched {
    /// The invocation: the outcome or error, its exchanges, its time.
    pub invocation: Invocation<Outcome>,
    /// The records written, or why they could not be (the action ran regardless).
    pub recorded: Result<Vec<AuditRecord>, AuditError>,
}

impl Dispatcher<'_> {
    /// The audit context of `action` run on its own: this integration, the person as the
    /// action names them, no run. Callers in a run add theirs with struct update syntax.
    pub fn context(&self, action: &Action) -> AuditContext {
        AuditContext {
            integration: self.integration.to_owned(),
            action: action.name().to_owned(),
            requested: action.user_text(),
            dry_run: action.dry_run(),
            ..AuditContext::default()
        }
    }

    /// Invokes `action`, then records it under `context` (a dry run records nothing).
    pub async fn run(&self, action: &Action, context: &AuditContext) -> Dispatched {
        let invocation = action.invoke(self.connector, self.tenant).await;
        let recorded = self.audit.record(context, &invocation);
        Dispatched {
            invocation,
            recorded,
        }
    }
}

/// Probes the tenant's credentials. Health changes nothing, so it needs no audit log and
/// writes no record; it is here so every connector call the CLI makes has one entry.
pub async fn health(connector: &LoadedConnector, tenant: &Tenant) -> Invocation<HealthReport> {
    connector.check_health(tenant).await
}
