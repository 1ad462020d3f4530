//! Schema creation. Filled in by the storage implementation.

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrationReport {
    /// Django's tables were absent and have been created (with their `django_migrations` rows).
    pub created_django_tables: bool,
    /// authbridge's own migrations applied by this run.
    pub applied: Vec<String>,
}
