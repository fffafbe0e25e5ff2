//! Reading the audit log: admins only, for the REST API and the UI alike.

use escalator_storage::{AuditEntry, AuditFilter};

use crate::{Actor, EngineResult, Escalator};

impl Escalator {
    /// Audit entries matching `filter`, newest first (admins).
    pub async fn audit_log(&self, mut filter: AuditFilter, actor: &Actor) -> EngineResult<Vec<AuditEntry>> {
        actor.require_admin()?;
        filter.actor = filter.actor.map(|a| a.trim().to_lowercase());
        filter.limit = filter.limit.clamp(0, 5000);
        Ok(self.store.audit_entries(&filter).await?)
    }
}
