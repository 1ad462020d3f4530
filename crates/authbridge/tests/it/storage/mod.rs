//! Storage conformance suite, one file per repository or theme: every behaviour is one body, run on SQLite (a temporary file; one
//! smoke test on `:memory:`) and on PostgreSQL when `TEST_DATABASE_URL` is set (each test in a
//! database of its own, created and dropped here; set but unreachable fails the test).

#![allow(clippy::unwrap_used)]

use authbridge::storage::postgres::PostgresStore;
use authbridge::storage::sqlite::SqliteStore;
use authbridge::storage::{
    password_fingerprint, AttemptRule, BlacklistOutcome, ExternalAccount, FamilyState, NewUser,
    OutstandingToken, PasswordCheck, RotateOutcome, Rotation, StorageError, Store, SyncOutcome,
    UserTable,
};
use chrono::{DateTime, Duration, Utc};
use sqlx::{PgPool, SqlitePool};
use std::collections::BTreeSet;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

mod accounts;
mod attempts;
mod connect;
mod ddl;
mod email_addresses;
mod inspection;
mod migration;
mod oidc;
mod outbox;
mod sessions;
mod tokens;
mod users;

use accounts::*;
use attempts::*;
use ddl::*;
use tokens::*;
use users::*;

// ---------------------------------------------------------------------------------------------
// Harness

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    SqliteFile,
    SqliteMemory,
    Postgres,
}

/// One test database: the store under test, a raw pool on the same database for assertions, and
/// where it is, to open more stores on it.
struct Db {
    backend: Backend,
    store: Arc<dyn Store>,
    raw: Raw,
    place: Place,
}

#[derive(Clone)]
enum Raw {
    Sqlite(SqlitePool),
    Pg(PgPool),
}

#[derive(Clone)]
enum Place {
    Sqlite(PathBuf),
    Pg(String),
}

const PG_ENV: &str = "TEST_DATABASE_URL";

async fn run<F, Fut>(backend: Backend, body: F)
where
    F: FnOnce(Db) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    match backend {
        Backend::SqliteFile => {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("db.sqlite3");
            let db = open_sqlite(backend, path).await;
            finish(tokio::spawn(body(db)).await);
        }
        Backend::SqliteMemory => {
            let db = open_sqlite(backend, PathBuf::from(":memory:")).await;
            finish(tokio::spawn(body(db)).await);
        }
        Backend::Postgres => {
            let Ok(server) = std::env::var(PG_ENV) else {
                eprintln!("{PG_ENV} is not set: PostgreSQL conformance test skipped");
                return;
            };
            let admin = sqlx::postgres::PgPoolOptions::new()
                .acquire_timeout(std::time::Duration::from_secs(5))
                .connect(&server)
                .await
                .unwrap_or_else(|e| panic!("{PG_ENV} is set but unreachable: {e}"));
            let name = format!("authbridge_test_{}", uuid::Uuid::new_v4().simple());
            sqlx::raw_sql(&format!("CREATE DATABASE \"{name}\""))
                .execute(&admin)
                .await
                .unwrap();
            let mut url = url::Url::parse(&server).unwrap();
            url.set_path(&name);
            let url = url.to_string();
            let pg = PostgresStore::connect(&url, UserTable::default())
                .await
                .unwrap();
            let db = Db {
                backend,
                raw: Raw::Pg(pg.pool().clone()),
                store: Arc::new(pg),
                place: Place::Pg(url),
            };
            let outcome = tokio::spawn(body(db)).await;
            sqlx::raw_sql(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
                .execute(&admin)
                .await
                .unwrap();
            admin.close().await;
            finish(outcome);
        }
    }
}

async fn open_sqlite(backend: Backend, path: PathBuf) -> Db {
    let store = SqliteStore::open(&path, UserTable::default())
        .await
        .unwrap();
    Db {
        backend,
        raw: Raw::Sqlite(store.pool().clone()),
        store: Arc::new(store),
        place: Place::Sqlite(path),
    }
}

fn finish(outcome: Result<(), tokio::task::JoinError>) {
    if let Err(e) = outcome {
        match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => panic!("test task failed: {e}"),
        }
    }
}

impl Db {
    fn is_pg(&self) -> bool {
        self.backend == Backend::Postgres
    }

    async fn migrated(&self) -> &Arc<dyn Store> {
        self.store.migrate().await.unwrap();
        &self.store
    }

    /// Another store on the same database.
    async fn open(&self, users: UserTable) -> Arc<dyn Store> {
        match &self.place {
            Place::Sqlite(path) => Arc::new(SqliteStore::open(path, users).await.unwrap()),
            Place::Pg(url) => Arc::new(PostgresStore::connect(url, users).await.unwrap()),
        }
    }

    async fn exec(&self, sql: &str) {
        match &self.raw {
            Raw::Sqlite(p) => sqlx::raw_sql(sql).execute(p).await.map(|_| ()),
            Raw::Pg(p) => sqlx::raw_sql(sql).execute(p).await.map(|_| ()),
        }
        .unwrap_or_else(|e| panic!("{e}: {sql}"));
    }

    async fn strings(&self, sql: &str) -> Vec<String> {
        match &self.raw {
            Raw::Sqlite(p) => sqlx::query_scalar(sql).fetch_all(p).await,
            Raw::Pg(p) => sqlx::query_scalar(sql).fetch_all(p).await,
        }
        .unwrap_or_else(|e| panic!("{e}: {sql}"))
    }

    async fn count(&self, sql: &str) -> i64 {
        match &self.raw {
            Raw::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await,
            Raw::Pg(p) => sqlx::query_scalar(sql).fetch_one(p).await,
        }
        .unwrap_or_else(|e| panic!("{e}: {sql}"))
    }

    async fn tables(&self) -> BTreeSet<String> {
        let sql = if self.is_pg() {
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()"
        } else {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'sqlite_sequence'"
        };
        self.strings(sql).await.into_iter().collect()
    }

    async fn columns(&self, table: &str) -> Vec<String> {
        let sql = if self.is_pg() {
            format!(
                "SELECT column_name::text FROM information_schema.columns WHERE table_schema = \
                 current_schema() AND table_name = '{table}' ORDER BY ordinal_position"
            )
        } else {
            format!("SELECT name FROM pragma_table_info('{table}') ORDER BY cid")
        };
        self.strings(&sql).await
    }

    /// Everything about Django's tables that a migration could change.
    async fn django_schema(&self) -> Vec<String> {
        if self.is_pg() {
            let mut all = self
                .strings(
                    "SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable \
                     FROM information_schema.columns WHERE table_schema = current_schema() AND \
                     table_name NOT LIKE 'authbridge%' ORDER BY table_name, ordinal_position",
                )
                .await;
            all.extend(
                self.strings(
                    "SELECT t.relname || ' ' || c.conname || ' ' || c.contype::text || ' ' || \
                     c.condeferrable::text || c.condeferred::text FROM pg_constraint c JOIN pg_class t \
                     ON t.oid = c.conrelid WHERE t.relnamespace = current_schema()::regnamespace \
                     AND t.relname NOT LIKE 'authbridge%' ORDER BY 1",
                )
                .await,
            );
            all.extend(
                self.strings(
                    "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND \
                     tablename NOT LIKE 'authbridge%' ORDER BY indexname",
                )
                .await,
            );
            all
        } else {
            self.strings(
                "SELECT type || ' ' || name || ': ' || COALESCE(sql, '') FROM sqlite_master \
                 WHERE tbl_name NOT LIKE 'authbridge%' ORDER BY name",
            )
            .await
        }
    }

    async fn user_count(&self) -> i64 {
        self.count("SELECT COUNT(*) FROM auth_user").await
    }

    async fn blacklisted(&self, jti: &str) -> bool {
        self.store.is_blacklisted(jti).await.unwrap()
    }

    async fn outstanding_count(&self) -> i64 {
        self.count("SELECT COUNT(*) FROM token_blacklist_outstandingtoken")
            .await
    }
}

/// Every behaviour below runs on each backend.
macro_rules! conformance {
    ($($theme:ident :: $name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::run(super::Backend::SqliteFile, super::$theme::$name).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::run(super::Backend::Postgres, super::$theme::$name).await;
                }
            )+
        }
    };
}

conformance!(
    migration::migrate_creates_djangos_schema_on_an_empty_database,
    migration::migrate_twice_is_a_no_op,
    migration::migrate_on_a_django_migrated_database_adds_only_own_tables,
    migration::concurrent_migrations_create_the_schema_once,
    migration::missing_custom_user_table_is_a_schema_error,
    users::custom_user_table_crud,
    users::user_crud,
    users::datetimes_are_stored_as_django_stores_them,
    tokens::outstand_blacklist_and_check,
    tokens::rotate_stores_successor_and_blacklists_old,
    tokens::rotate_replays_within_grace,
    tokens::rotate_detects_reuse_after_grace_and_revokes_the_family,
    tokens::rotate_refuses_a_logged_out_token,
    tokens::rotate_does_not_replay_a_logged_out_successor,
    tokens::concurrent_rotations_rotate_once,
    accounts::sync_account_links_and_creates,
    accounts::sync_account_numbers_usernames_within_150_chars,
    accounts::concurrent_syncs_create_one_user,
    email_addresses::email_address_tables_are_allauths,
    email_addresses::email_address_tables_follow_a_custom_user_table,
    email_addresses::signup_writes_the_user_and_its_address_in_one_transaction,
    email_addresses::concurrent_signups_of_one_name_create_one_user,
    email_addresses::concurrent_verifications_have_one_winner,
    email_addresses::user_lookups_follow_allauth,
    tokens::flush_expired_deletes_only_expired_own_rows,
    attempts::login_attempts_are_counted_atomically,
    attempts::login_attempt_periods_restart_and_settle,
    sessions::family_state_follows_the_login,
    sessions::revoke_family_ends_the_whole_login,
    sessions::revoke_user_blacklists_only_that_users_live_tokens,
    sessions::check_password_records_then_revokes_on_a_change,
    sessions::upgrade_password_is_not_a_password_change,
    sessions::sync_refusals_write_nothing,
    sessions::revocation_racing_rotation_leaves_no_live_successor,
    inspection::inspect_reports_tables_migrations_hash_algorithms_and_clock,
    oidc::oidc_keys_rotate_with_one_active_key_per_algorithm,
    oidc::oidc_concurrent_key_generation_stores_one,
    oidc::oidc_clients_are_stored_with_their_secret_hashed,
    oidc::oidc_codes_redeem_once_and_remember_their_refresh_token,
    oidc::oidc_concurrent_redeems_of_one_code_have_one_winner,
    oidc::oidc_login_sessions_expire_and_are_revoked,
    oidc::oidc_consents_are_upserted,
    outbox::outbox_claims_lease_rows_until_they_expire,
    outbox::outbox_claims_due_rows_in_order_and_in_batches,
    outbox::outbox_concurrent_claimers_never_share_a_row,
    outbox::outbox_dead_rows_wait_for_retry_and_sent_rows_are_pruned,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_memory_database_keeps_its_schema() {
    run(Backend::SqliteMemory, |db| async move {
        user_crud_on(&db).await;
        concurrent_rotations_on(&db).await;
        replay_after_logout_on(&db).await;
        concurrent_syncs_on(&db).await;
        login_attempts_on(&db).await;
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// Fixtures shared by the themes

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// `created_at` as simplejwt writes it (microseconds) and `expires_at` from an integer `exp`.
fn token(jti: &str, user_id: Option<i64>) -> OutstandingToken {
    OutstandingToken {
        user_id,
        jti: jti.into(),
        token: format!("eyJhbGciOiJIUzI1NiJ9.{jti}.sig"),
        created_at: Some(at("2026-11-27T02:18:18.405937Z")),
        expires_at: at("2026-11-28T02:18:18Z"),
    }
}

fn rotation(old: &OutstandingToken, new_jti: &str, now: DateTime<Utc>) -> Rotation {
    Rotation {
        old: old.clone(),
        new: token(new_jti, old.user_id),
        new_access: format!("access-for-{new_jti}"),
        blacklist_old: true,
        now,
        grace: Duration::seconds(30),
    }
}

fn t0() -> DateTime<Utc> {
    at("2026-11-27T03:00:00.123456Z")
}

fn new_user(username: &str, email: &str) -> NewUser {
    NewUser {
        username: username.into(),
        password: "pbkdf2_sha256$1000000$salt$hash=".into(),
        email: email.into(),
        is_active: true,
        ..NewUser::default()
    }
}

fn account(id: &str, email: Option<&str>, verified: bool) -> ExternalAccount {
    ExternalAccount {
        provider: "github".into(),
        provider_account_id: id.into(),
        email: email.map(Into::into),
        email_verified: verified,
        name: None,
        image: None,
        // Linking by verified email is allowed here; its refusals have tests of their own.
        email_linking: true,
    }
}

fn custom_users() -> UserTable {
    UserTable {
        table: "accounts_user".into(),
        username_field: "email".into(),
    }
}
