//! UI sessions kept in the database (any replica serves any signed-in user), and the
//! database's health, for the server's session layer and its readiness check.

use escalator_storage::SessionRecord;

use crate::{EngineResult, Escalator};

impl Escalator {
    /// Stores a new session; false if its id is taken.
    pub async fn create_session(&self, session: &SessionRecord) -> EngineResult<bool> {
        Ok(self.store.create_session(session).await?)
    }

    /// Stores a session, replacing any with its id.
    pub async fn save_session(&self, session: &SessionRecord) -> EngineResult<()> {
        Ok(self.store.save_session(session).await?)
    }

    /// A session that has not expired.
    pub async fn load_session(&self, id: &str) -> EngineResult<Option<SessionRecord>> {
        Ok(self.store.load_session(id, self.now()).await?)
    }

    /// Deletes a session (signing out).
    pub async fn delete_session(&self, id: &str) -> EngineResult<()> {
        Ok(self.store.delete_session(id).await?)
    }

    /// Deletes the sessions that have expired; how many.
    pub async fn delete_expired_sessions(&self) -> EngineResult<u64> {
        Ok(self.store.delete_expired_sessions(self.now()).await?)
    }

    /// Whether the database answers and is migrated (for `/readyz`).
    pub async fn ping(&self) -> EngineResult<()> {
        Ok(self.store.ping().await?)
    }
}
