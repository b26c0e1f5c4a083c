//! What the suite asks of the platform around the host: the audit log it keeps, the way it
//! shows answers to people, and how it labels a tenant. The G cases check the audit log (one
//! record per applied or failed change, nothing for a dry run) and H8 checks that no
//! credential reaches any of these, so the suite runs them through the platform under test
//! rather than through an audit log of its own.
//!
//! `host-harness` implements [`Platform`] with its JSONL audit log and the CLI's renderings;
//! another platform embedding the host implements it with its own.

use lifecycle_host::bindings::types::{HealthReport, Outcome};
use lifecycle_host::{Invocation, Tenant};

/// The platform around the host, as far as the suite checks it.
pub trait Platform: Send + Sync {
    /// Opens a fresh, empty audit log for one case (each case has its own).
    fn open_audit_log(&self) -> Result<Box<dyn AuditLog>, String>;
    /// The tenant's label, as the platform records and shows it.
    fn tenant_label(&self, tenant: &Tenant) -> String;
    /// The readable form of an action's outcome, as the platform shows it to a person.
    fn show_outcome(&self, action: &str, outcome: &Outcome) -> String;
    /// The readable form of a health report of the tenant labelled `tenant`.
    fn show_health(&self, tenant: &str, report: &HealthReport) -> String;
}

/// One case's audit log.
pub trait AuditLog: Send + Sync {
    /// Records an invocation as the platform records one it ran, and returns the records it
    /// wrote.
    fn record(
        &self,
        call: &AuditedCall,
        invocation: &Invocation<Outcome>,
    ) -> Result<Vec<AuditEntry>, String>;
    /// Every record written so far, oldest first, and the stored text they were read from
    /// (scanned for secrets as it is).
    fn read(&self) -> Result<(Vec<AuditEntry>, String), String>;
}

/// The call an invocation answered, as the platform knows it.
#[derive(Debug, Clone, Default)]
pub struct AuditedCall {
    /// The tenant's label.
    pub integration: String,
    /// The action, in the platform's words (`sync`, `groups`, …).
    pub action: String,
    /// How the request named the user.
    pub requested: String,
}

/// One audit record, in the fields the suite checks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditEntry {
    /// When it was written (RFC 3339).
    pub time: String,
    /// The tenant's label.
    pub integration: String,
    /// The action.
    pub action: String,
    /// How the request named the user.
    pub requested: String,
    /// The user's SCIM id, when known.
    pub scim_id: Option<String>,
    /// The user's account id, when known.
    pub account_id: Option<String>,
    /// The change's kind (none for a record of a refused call).
    pub change: Option<String>,
    /// The change's target.
    pub target: Option<String>,
    /// `applied`, `failed`, or the refused call's status.
    pub status: String,
    /// The error class of a failure.
    pub error_class: Option<String>,
}
