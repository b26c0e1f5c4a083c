//! What a case calls: the connector under test, behind [`Subject`], so that the same case
//! bodies run against a component in our host ([`LoadedConnector`]) or against one served by
//! another platform (the harness's wasi:http subject speaks the HTTP front's JSON API).
//!
//! Each method has the argument and result types of [`LoadedConnector`]'s own: an
//! [`Invocation`] whose `exchanges` and `peak_memory` are what the subject can see (a subject
//! behind HTTP sees no exchange of the component's, and says `0` for memory). The cases that
//! need more than the calls (our host's exchange records, operator policy, limits, audit)
//! take the [`LoadedConnector`] of [`Subject::host`] and are declared host-only
//! (`| host(why)` in the case list): a subject without one skips them with that reason.

use std::future::Future;
use std::pin::Pin;

use crate::check::Difference;
use lifecycle_host::bindings::types::{
    ActionOptions, ConnectorInfo, DeleteOptions, Entitlement, GroupPage, HealthReport, Identity,
    Outcome, PageRequest, ResourcePage, RoleGrant, SyncOptions, UserPage, UserRef,
};
use lifecycle_host::{CallError, Invocation, LoadedConnector, Tenant};

/// The future of one call of a [`Subject`].
pub type Call<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The connector under test, as the cases call it.
pub trait Subject: Send + Sync {
    /// Which path the calls take, for the report (e.g. `our host`).
    fn name(&self) -> String;

    /// The component in our host, when the calls go through it: the host-only cases run on it.
    fn host(&self) -> Option<&LoadedConnector>;

    /// The same subject with loopback destinations allowed: what its operator decides when it
    /// points tenants at a local simulator. The difference says why that failed.
    fn on_simulator(&self) -> Result<Box<dyn Subject>, Difference>;

    /// `describe`.
    fn describe(&self) -> Call<'_, Result<ConnectorInfo, CallError>>;

    /// `check-health` for a tenant.
    fn check_health<'a>(&'a self, tenant: &'a Tenant) -> Call<'a, Invocation<HealthReport>>;

    /// `sync-identity` for a tenant.
    fn sync_identity<'a>(
        &'a self,
        tenant: &'a Tenant,
        identity: &'a Identity,
        options: SyncOptions,
    ) -> Call<'a, Invocation<Outcome>>;

    /// `manage-relationships` for a tenant: entitlements added and removed.
    fn manage_relationships<'a>(
        &'a self,
        tenant: &'a Tenant,
        user: &'a UserRef,
        add: &'a [Entitlement],
        remove: &'a [Entitlement],
        options: ActionOptions,
    ) -> Call<'a, Invocation<Outcome>>;

    /// `deprovision-identity` for a tenant.
    fn deprovision_identity<'a>(
        &'a self,
        tenant: &'a Tenant,
        user: &'a UserRef,
        options: ActionOptions,
    ) -> Call<'a, Invocation<Outcome>>;

    /// `delete-identity` for a tenant.
    fn delete_identity<'a>(
        &'a self,
        tenant: &'a Tenant,
        user: &'a UserRef,
        options: DeleteOptions,
    ) -> Call<'a, Invocation<Outcome>>;

    /// `list-users`: one page.
    fn list_users<'a>(
        &'a self,
        tenant: &'a Tenant,
        page: &'a PageRequest,
    ) -> Call<'a, Invocation<UserPage>>;

    /// `list-groups`: one page.
    fn list_groups<'a>(
        &'a self,
        tenant: &'a Tenant,
        page: &'a PageRequest,
    ) -> Call<'a, Invocation<GroupPage>>;

    /// `list-resources`: one page of one kind.
    fn list_resources<'a>(
        &'a self,
        tenant: &'a Tenant,
        kind: &'a str,
        page: &'a PageRequest,
    ) -> Call<'a, Invocation<ResourcePage>>;

    /// `manage-relationships` with group memberships only, groups named by display name.
    fn manage_groups<'a>(
        &'a self,
        tenant: &'a Tenant,
        user: &'a UserRef,
        add: &'a [String],
        remove: &'a [String],
        options: ActionOptions,
    ) -> Call<'a, Invocation<Outcome>> {
        let groups = |names: &[String]| -> Vec<Entitlement> {
            names.iter().cloned().map(Entitlement::Group).collect()
        };
        let (add, remove) = (groups(add), groups(remove));
        Box::pin(async move {
            self.manage_relationships(tenant, user, &add, &remove, options)
                .await
        })
    }

    /// `reactivate-identity` for a tenant: the person back, entitlements converged to
    /// `desired`.
    fn reactivate_identity<'a>(
        &'a self,
        tenant: &'a Tenant,
        user: &'a UserRef,
        desired: &'a [Entitlement],
        options: ActionOptions,
    ) -> Call<'a, Invocation<Outcome>>;

    /// `manage-group-roles` for a tenant: roles granted to and revoked from a group.
    fn manage_group_roles<'a>(
        &'a self,
        tenant: &'a Tenant,
        group: &'a str,
        add: &'a [RoleGrant],
        remove: &'a [RoleGrant],
        options: ActionOptions,
    ) -> Call<'a, Invocation<Outcome>>;
}

/// Our host: each call is the [`LoadedConnector`]'s own.
impl Subject for LoadedConnector {
    fn name(&self) -> String {
        "our host".into()
    }

    fn host(&self) -> Option<&LoadedConnector> {
        Some(self)
    }

    fn on_simulator(&self) -> Result<Box<dyn Subject>, Difference> {
        crate::support::on_simulator(self).map(|c| Box::new(c) as Box<dyn Subject>)
    }

    fn describe(&self) -> Call<'_, Result<ConnectorInfo, CallError>> {
        Box::pin(LoadedConnector::describe(self))
    }

    fn check_health<'a>(&'a self, tenant: &'a Tenant) -> Call<'a, Invocation<HealthReport>> {
        Box::pin(LoadedConnector::check_health(self, tenant))
    }

    fn sync_identity<'a>(
        &'a self,
        tenant: &'a Tenant,
        identity: &'a Identity,
        options: SyncOptions,
    ) -> Call<'a, Invocation<Outcome>> {
        Box::pin(LoadedConnector::sync_identity(
            self, tenant, identity, options,
        ))
    }

    fn manage_relationships<'a>(
        &'a self,
        tenant: &'a Tenant,
        user: &'a UserRef,
        add: &'a [Entitlement],
        remove: &'a [Entitlement],
        options: ActionOptions,
    ) -> Call<'a, Invocation<Outcome>> {
        Box::pin(LoadedConnector::manage_relationships(
            self, tenant, user, add, remove, options,
        ))
    }

    fn deprovision_identity<'a>(
        &'a self,
        tenant: &'a Tenant,
        user: &'a UserRef,
        options: ActionOptions,
    ) -> Call<'a, Invocation<Outcome>> {
        Box::pin(LoadedConnector::deprovision_identity(
            self, tenant, user, options,
        ))
    }

    fn delete_identity<'a>(
        &'a self,
        tenant: &'a Tenant,
        user: &'a UserRef,
        options: DeleteOptions,
    ) -> Call<'a, Invocation<Outcome>> {
        Box::pin(LoadedConnector::delete_identity(
            self, tenant, user, options,
        ))
    }

    fn list_users<'a>(
        &'a self,
        tenant: &'a Tenant,
        page: &'a PageRequest,
    ) -> Call<'a, Invocation<UserPage>> {
        Box::pin(LoadedConnector::list_users(self, tenant, page))
    }

    fn list_groups<'a>(
        &'a self,
        tenant: &'a Tenant,
        page: &'a PageRequest,
    ) -> Call<'a, Invocation<GroupPage>> {
        Box::pin(LoadedConnector::list_groups(self, tenant, page))
    }

    fn list_resources<'a>(
        &'a self,
        tenant: &'a Tenant,
        kind: &'a str,
        page: &'a PageRequest,
    ) -> Call<'a, Invocation<ResourcePage>> {
        Box::pin(LoadedConnector::list_resources(self, tenant, kind, page))
    }

    fn reactivate_identity<'a>(
        &'a self,
        tenant: &'a Tenant,
        user: &'a UserRef,
        desired: &'a [Entitlement],
        options: ActionOptions,
    ) -> Call<'a, Invocation<Outcome>> {
        Box::pin(LoadedConnector::reactivate_identity(
            self, tenant, user, desired, options,
        ))
    }

    fn manage_group_roles<'a>(
        &'a self,
        tenant: &'a Tenant,
        group: &'a str,
        add: &'a [RoleGrant],
        remove: &'a [RoleGrant],
        options: ActionOptions,
    ) -> Call<'a, Invocation<Outcome>> {
        Box::pin(LoadedConnector::manage_group_roles(
            self, tenant, group, add, remove, options,
        ))
    }
}
