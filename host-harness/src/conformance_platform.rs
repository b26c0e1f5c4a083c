//! The harness as the platform the conformance suite ([`lifecycle_conformance`]) checks: its
//! JSONL audit log ([`crate::audit`], in a fresh owner-only file per case), the CLI's
//! renderings ([`crate::render`]) and its tenant label (`instance_name`).

use std::path::PathBuf;
use std::sync::Arc;

use lifecycle_conformance::{AuditEntry, AuditLog, AuditedCall, Platform};
use lifecycle_host::bindings::types::{HealthReport, Outcome};
use lifecycle_host::{Invocation, Tenant};

use crate::audit::{AuditContext, AuditRecord};
use crate::ids::TenantLabel as _;

/// The harness's platform side, as the suite runs it.
#[derive(Debug, Clone, Copy, Default)]
pub struct HarnessPlatform;

impl HarnessPlatform {
    /// The platform, shared as [`lifecycle_conformance::run`] takes it.
    pub fn shared() -> Arc<dyn Platform> {
        Arc::new(Self)
    }
}

impl Platform for HarnessPlatform {
    fn open_audit_log(&self) -> Result<Box<dyn AuditLog>, String> {
        TempAuditLog::new().map(|log| Box::new(log) as Box<dyn AuditLog>)
    }

    fn tenant_label(&self, tenant: &Tenant) -> String {
        tenant.name().to_owned()
    }

    fn show_outcome(&self, action: &str, outcome: &Outcome) -> String {
        crate::render::outcome(action, outcome)
    }

    fn show_health(&self, tenant: &str, report: &HealthReport) -> String {
        crate::render::health(tenant, report)
    }
}

/// The harness's audit log in a fresh temporary file, removed when dropped.
struct TempAuditLog {
    log: crate::audit::AuditLog,
    path: PathBuf,
}

impl TempAuditLog {
    /// Creates the file (owner-only) under the system's temporary directory.
    fn new() -> Result<Self, String> {
        let path = std::env::temp_dir().join(format!(
            "host-harness-conformance-{}-{}.jsonl",
            std::process::id(),
            uuid::Uuid::new_v4()
        ));
        let log = crate::audit::AuditLog::open(&path).map_err(|e| e.to_string())?;
        Ok(Self { log, path })
    }
}

impl AuditLog for TempAuditLog {
    fn record(
        &self,
        call: &AuditedCall,
        invocation: &Invocation<Outcome>,
    ) -> Result<Vec<AuditEntry>, String> {
        let context = AuditContext {
            integration: call.integration.clone(),
            action: call.action.clone(),
            requested: call.requested.clone(),
            ..AuditContext::default()
        };
        let records = self
            .log
            .record(&context, invocation)
            .map_err(|e| e.to_string())?;
        Ok(records.into_iter().map(entry).collect())
    }

    fn read(&self) -> Result<(Vec<AuditEntry>, String), String> {
        let records = crate::audit::AuditLog::read_all(&self.path).map_err(|e| e.to_string())?;
        let text = std::fs::read_to_string(&self.path).map_err(|e| e.to_string())?;
        Ok((records.into_iter().map(entry).collect(), text))
    }
}

impl Drop for TempAuditLog {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// A harness audit record in the fields the suite checks.
fn entry(record: AuditRecord) -> AuditEntry {
    AuditEntry {
        time: record.time,
        integration: record.integration,
        action: record.action,
        requested: record.user.requested,
        scim_id: record.user.scim_id,
        account_id: record.user.account_id,
        change: record.change,
        target: record.target,
        status: record.status,
        error_class: record.error_class,
    }
}
