//! The storage layer's one error type.

/// What can go wrong in storage.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique key already exists (e.g. a workflow's external id).
    #[error("{0} already exists")]
    Conflict(String),
    /// A reference to a row that does not exist (e.g. an unknown department).
    #[error("{0} does not exist")]
    MissingReference(String),
    /// The database URL names no supported backend.
    #[error("unsupported database URL {0:?}: use sqlite:PATH or postgres://…")]
    UnsupportedUrl(String),
    /// A stored row that does not parse back into the domain.
    #[error("corrupt row in {table}: {message}")]
    Corrupt { table: &'static str, message: String },
    /// Migrations failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Any other database error.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// Results of the storage layer.
pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    /// Maps unique and foreign-key violations to their meaning; passes the rest through.
    pub(crate) fn classify(err: sqlx::Error, what: &str) -> Self {
        if let Some(db) = err.as_database_error() {
            if db.is_unique_violation() {
                return StoreError::Conflict(what.to_string());
            }
            if db.is_foreign_key_violation() {
                return StoreError::MissingReference(what.to_string());
            }
        }
        StoreError::Database(err)
    }
}
