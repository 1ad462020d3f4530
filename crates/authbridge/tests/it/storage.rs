//! Storage conformance suite: every behaviour is one body, run on SQLite (a temporary file; one
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
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::run(super::Backend::SqliteFile, super::$name).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::run(super::Backend::Postgres, super::$name).await;
                }
            )+
        }
    };
}

conformance!(
    migrate_creates_djangos_schema_on_an_empty_database,
    migrate_twice_is_a_no_op,
    migrate_on_a_django_migrated_database_adds_only_own_tables,
    concurrent_migrations_create_the_schema_once,
    missing_custom_user_table_is_a_schema_error,
    custom_user_table_crud,
    user_crud,
    datetimes_are_stored_as_django_stores_them,
    outstand_blacklist_and_check,
    rotate_stores_successor_and_blacklists_old,
    rotate_replays_within_grace,
    rotate_detects_reuse_after_grace_and_revokes_the_family,
    rotate_refuses_a_logged_out_token,
    rotate_does_not_replay_a_logged_out_successor,
    concurrent_rotations_rotate_once,
    sync_account_links_and_creates,
    sync_account_numbers_usernames_within_150_chars,
    concurrent_syncs_create_one_user,
    flush_expired_deletes_only_expired_own_rows,
    login_attempts_are_counted_atomically,
    login_attempt_periods_restart_and_settle,
    family_state_follows_the_login,
    revoke_family_ends_the_whole_login,
    revoke_user_blacklists_only_that_users_live_tokens,
    check_password_records_then_revokes_on_a_change,
    upgrade_password_is_not_a_password_change,
    sync_refusals_write_nothing,
    revocation_racing_rotation_leaves_no_live_successor,
    inspect_reports_tables_migrations_hash_algorithms_and_clock,
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
// Fixtures

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

// ---------------------------------------------------------------------------------------------
// Migration

const OWN_TABLES: [&str; 6] = [
    "authbridge_login_attempt",
    "authbridge_migrations",
    "authbridge_refresh_family",
    "authbridge_refresh_rotation",
    "authbridge_social_account",
    "authbridge_user_state",
];

const OWN_MIGRATIONS: [&str; 3] = [
    "0001_refresh_families_and_social_accounts",
    "0002_login_attempts",
    "0003_user_state",
];

const DJANGO_TABLES: [&str; 10] = [
    "auth_group",
    "auth_group_permissions",
    "auth_permission",
    "auth_user",
    "auth_user_groups",
    "auth_user_user_permissions",
    "django_content_type",
    "django_migrations",
    "token_blacklist_blacklistedtoken",
    "token_blacklist_outstandingtoken",
];

/// Column order after `manage.py migrate` (FACTS §3): SQLite rebuilt some tables.
fn migrated_columns(pg: bool) -> Vec<(&'static str, Vec<&'static str>)> {
    let user = if pg {
        vec![
            "id",
            "password",
            "last_login",
            "is_superuser",
            "username",
            "first_name",
            "last_name",
            "email",
            "is_staff",
            "is_active",
            "date_joined",
        ]
    } else {
        vec![
            "id",
            "password",
            "last_login",
            "is_superuser",
            "username",
            "last_name",
            "email",
            "is_staff",
            "is_active",
            "date_joined",
            "first_name",
        ]
    };
    let (outstanding, blacklisted, permission) = if pg {
        (
            vec!["id", "token", "created_at", "expires_at", "user_id", "jti"],
            vec!["id", "blacklisted_at", "token_id"],
            vec!["id", "name", "content_type_id", "codename"],
        )
    } else {
        (
            vec!["token", "created_at", "expires_at", "user_id", "jti", "id"],
            vec!["blacklisted_at", "token_id", "id"],
            vec!["id", "content_type_id", "codename", "name"],
        )
    };
    vec![
        ("django_content_type", vec!["id", "app_label", "model"]),
        ("auth_permission", permission),
        ("auth_group", vec!["id", "name"]),
        (
            "auth_group_permissions",
            vec!["id", "group_id", "permission_id"],
        ),
        ("auth_user", user),
        ("auth_user_groups", vec!["id", "user_id", "group_id"]),
        (
            "auth_user_user_permissions",
            vec!["id", "user_id", "permission_id"],
        ),
        ("token_blacklist_outstandingtoken", outstanding),
        ("token_blacklist_blacklistedtoken", blacklisted),
        ("django_migrations", vec!["id", "app", "name", "applied"]),
    ]
}

/// PostgreSQL constraints after `migrate` (pg_dump in FACTS): name, type, deferrable+deferred.
const PG_CONSTRAINTS: &[&str] = &[
    "auth_group auth_group_name_key u falsefalse",
    "auth_group auth_group_pkey p falsefalse",
    "auth_group_permissions auth_group_permissio_permission_id_84c5c92e_fk_auth_perm f truetrue",
    "auth_group_permissions auth_group_permissions_group_id_b120cbf9_fk_auth_group_id f truetrue",
    "auth_group_permissions auth_group_permissions_group_id_permission_id_0cd325b0_uniq u falsefalse",
    "auth_group_permissions auth_group_permissions_pkey p falsefalse",
    "auth_permission auth_permission_content_type_id_2f476e4b_fk_django_co f truetrue",
    "auth_permission auth_permission_content_type_id_codename_01ab375a_uniq u falsefalse",
    "auth_permission auth_permission_pkey p falsefalse",
    "auth_user auth_user_pkey p falsefalse",
    "auth_user auth_user_username_key u falsefalse",
    "auth_user_groups auth_user_groups_group_id_97559544_fk_auth_group_id f truetrue",
    "auth_user_groups auth_user_groups_pkey p falsefalse",
    "auth_user_groups auth_user_groups_user_id_6a12ed8b_fk_auth_user_id f truetrue",
    "auth_user_groups auth_user_groups_user_id_group_id_94350c0c_uniq u falsefalse",
    "auth_user_user_permissions auth_user_user_permi_permission_id_1fbb5f2c_fk_auth_perm f truetrue",
    "auth_user_user_permissions auth_user_user_permissions_pkey p falsefalse",
    "auth_user_user_permissions auth_user_user_permissions_user_id_a95ead1b_fk_auth_user_id f truetrue",
    "auth_user_user_permissions auth_user_user_permissions_user_id_permission_id_14a6b632_uniq u falsefalse",
    "django_content_type django_content_type_app_label_model_76bd3d3b_uniq u falsefalse",
    "django_content_type django_content_type_pkey p falsefalse",
    "django_migrations django_migrations_pkey p falsefalse",
    "token_blacklist_blacklistedtoken token_blacklist_blacklistedtoken_pkey p falsefalse",
    "token_blacklist_blacklistedtoken token_blacklist_blacklistedtoken_token_id_3cc7fe56_fk f truetrue",
    "token_blacklist_blacklistedtoken token_blacklist_blacklistedtoken_token_id_key u falsefalse",
    "token_blacklist_outstandingtoken token_blacklist_outs_user_id_83bc629a_fk_auth_user f truetrue",
    "token_blacklist_outstandingtoken token_blacklist_outstandingtoken_jti_hex_d9bdf6f7_uniq u falsefalse",
    "token_blacklist_outstandingtoken token_blacklist_outstandingtoken_pkey p falsefalse",
];

/// PostgreSQL indexes that back no constraint, after `migrate`.
const PG_INDEXES: &[&str] = &[
    "auth_group_name_a6ea08ec_like",
    "auth_group_permissions_group_id_b120cbf9",
    "auth_group_permissions_permission_id_84c5c92e",
    "auth_permission_content_type_id_2f476e4b",
    "auth_user_groups_group_id_97559544",
    "auth_user_groups_user_id_6a12ed8b",
    "auth_user_user_permissions_permission_id_1fbb5f2c",
    "auth_user_user_permissions_user_id_a95ead1b",
    "auth_user_username_6821ab7c_like",
    "token_blacklist_outstandingtoken_jti_hex_d9bdf6f7_like",
    "token_blacklist_outstandingtoken_user_id_83bc629a",
];

/// `id` types on PostgreSQL: auto-created M2M tables take the project's BigAutoField.
const PG_ID_TYPES: &[&str] = &[
    "auth_group integer",
    "auth_group_permissions bigint",
    "auth_permission integer",
    "auth_user integer",
    "auth_user_groups bigint",
    "auth_user_user_permissions bigint",
    "django_content_type integer",
    "django_migrations bigint",
    "token_blacklist_blacklistedtoken bigint",
    "token_blacklist_outstandingtoken bigint",
];

async fn assert_djangos_migrated_schema(db: &Db) {
    let pg = db.is_pg();
    for (table, columns) in migrated_columns(pg) {
        assert_eq!(db.columns(table).await, columns, "columns of {table}");
    }
    let rows = db
        .strings("SELECT app || ' ' || name FROM django_migrations ORDER BY id")
        .await;
    assert_eq!(rows, DJANGO_MIGRATIONS);
    if pg {
        let constraints = db
            .strings(
                "SELECT t.relname || ' ' || c.conname || ' ' || c.contype::text || ' ' || \
                 c.condeferrable::text || c.condeferred::text FROM pg_constraint c JOIN pg_class t \
                 ON t.oid = c.conrelid WHERE t.relnamespace = current_schema()::regnamespace \
                 AND t.relname NOT LIKE 'authbridge%' ORDER BY 1",
            )
            .await;
        assert_eq!(constraints, PG_CONSTRAINTS);
        let indexes = db
            .strings(
                "SELECT indexname::text FROM pg_indexes WHERE schemaname = current_schema() AND \
                 tablename NOT LIKE 'authbridge%' AND indexname NOT IN (SELECT conname FROM \
                 pg_constraint) ORDER BY 1",
            )
            .await;
        assert_eq!(indexes, PG_INDEXES);
        let ids = db
            .strings(
                "SELECT table_name || ' ' || data_type FROM information_schema.columns WHERE \
                 table_schema = current_schema() AND column_name = 'id' AND table_name NOT LIKE \
                 'authbridge%' ORDER BY 1",
            )
            .await;
        assert_eq!(ids, PG_ID_TYPES);
    } else {
        let actual: BTreeSet<String> = db
            .strings(
                "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE \
                 'authbridge%' AND name != 'sqlite_sequence'",
            )
            .await
            .into_iter()
            .collect();
        let expected: BTreeSet<String> = SQLITE_MIGRATED
            .lines()
            .chain(std::iter::once(SQLITE_DJANGO_MIGRATIONS))
            .map(|s| s.trim_end_matches(';').to_string())
            .collect();
        assert_eq!(actual, expected);
    }
}

async fn migrate_creates_djangos_schema_on_an_empty_database(db: Db) {
    let report = db.store.migrate().await.unwrap();
    assert!(report.created_django_tables);
    assert_eq!(report.applied, OWN_MIGRATIONS);
    let expected: BTreeSet<String> = DJANGO_TABLES
        .iter()
        .chain(OWN_TABLES.iter())
        .map(|s| s.to_string())
        .collect();
    assert_eq!(db.tables().await, expected);
    assert_djangos_migrated_schema(&db).await;
    let own = db.strings("SELECT name FROM authbridge_migrations").await;
    assert_eq!(own, OWN_MIGRATIONS);
}

async fn migrate_twice_is_a_no_op(db: Db) {
    db.store.migrate().await.unwrap();
    let schema = db.django_schema().await;
    let tables = db.tables().await;
    let again = db.store.migrate().await.unwrap();
    assert!(!again.created_django_tables);
    assert!(again.applied.is_empty());
    let other = db.open(UserTable::default()).await.migrate().await.unwrap();
    assert_eq!(other, again);
    assert_eq!(db.django_schema().await, schema);
    assert_eq!(db.tables().await, tables);
    assert_eq!(db.count("SELECT COUNT(*) FROM django_migrations").await, 26);
    assert_eq!(
        db.count("SELECT COUNT(*) FROM authbridge_migrations").await,
        OWN_MIGRATIONS.len() as i64
    );
}

/// Django's own DDL for the final models (not the migrated form: an older project's shape), its
/// migration rows plus other apps', and a user: authbridge must leave all of it as it is.
async fn migrate_on_a_django_migrated_database_adds_only_own_tables(db: Db) {
    let pg = db.is_pg();
    db.exec(if pg { PG_MODELS } else { SQLITE_MODELS }).await;
    db.exec(if pg {
        PG_DJANGO_MIGRATIONS
    } else {
        SQLITE_DJANGO_MIGRATIONS
    })
    .await;
    for row in DJANGO_MIGRATIONS
        .iter()
        .chain(["admin 0001_initial", "sessions 0001_initial"].iter())
    {
        let (app, name) = row.split_once(' ').unwrap();
        db.exec(&format!(
            "INSERT INTO django_migrations (app, name, applied) VALUES ('{app}', '{name}', '2025-01-01 00:00:00')"
        ))
        .await;
    }
    db.exec(&format!(
        "INSERT INTO auth_user (password, last_login, is_superuser, username, first_name, last_name, \
         email, is_staff, is_active, date_joined) VALUES ('!', NULL, {f}, 'django_user', '', '', \
         'dj@example.com', {f}, {t}, '2025-01-01 00:00:00')",
        f = if pg { "false" } else { "0" },
        t = if pg { "true" } else { "1" },
    ))
    .await;
    let schema = db.django_schema().await;
    let tables = db.tables().await;

    let report = db.store.migrate().await.unwrap();
    assert!(!report.created_django_tables);
    assert_eq!(report.applied, OWN_MIGRATIONS);
    assert_eq!(db.django_schema().await, schema);
    let added: Vec<String> = db.tables().await.difference(&tables).cloned().collect();
    assert_eq!(added, OWN_TABLES);
    assert_eq!(db.count("SELECT COUNT(*) FROM django_migrations").await, 28);
    let user = db
        .store
        .user_by_username("django_user")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.email.as_deref(), Some("dj@example.com"));
}

async fn concurrent_migrations_create_the_schema_once(db: Db) {
    let stores = [
        db.store.clone(),
        db.open(UserTable::default()).await,
        db.open(UserTable::default()).await,
    ];
    let tasks: Vec<_> = stores
        .into_iter()
        .map(|s| tokio::spawn(async move { s.migrate().await }))
        .collect();
    let mut reports = Vec::new();
    for task in tasks {
        reports.push(task.await.unwrap().unwrap());
    }
    assert_eq!(
        reports.iter().filter(|r| r.created_django_tables).count(),
        1
    );
    assert_eq!(
        reports.iter().map(|r| r.applied.len()).sum::<usize>(),
        OWN_MIGRATIONS.len()
    );
    assert_djangos_migrated_schema(&db).await;
}

async fn missing_custom_user_table_is_a_schema_error(db: Db) {
    let store = db.open(custom_users()).await;
    match store.migrate().await {
        Err(StorageError::Schema(message)) => {
            assert!(message.contains("accounts_user"), "{message}")
        }
        other => panic!("expected a schema error, got {other:?}"),
    }
    assert!(db.tables().await.is_empty(), "nothing may be created");
}

// ---------------------------------------------------------------------------------------------
// Users

/// A project with `AUTH_USER_MODEL = "accounts.User"`:
/// `class User(AbstractBaseUser, PermissionsMixin): email = EmailField(unique=True); is_staff;
/// is_active; date_joined`, `USERNAME_FIELD = "email"`, BigAutoField. Django created contenttypes,
/// auth (without auth_user, which is swapped out) and accounts; token_blacklist is not installed.
async fn create_custom_user_project(db: &Db) {
    let pg = db.is_pg();
    let django: Vec<&str> = (if pg { PG_MODELS } else { SQLITE_MODELS })
        .lines()
        .filter(|l| !l.contains("auth_user") && !l.contains("token_blacklist"))
        .collect();
    db.exec(&django.join("\n")).await;
    db.exec(if pg {
        PG_ACCOUNTS_USER
    } else {
        SQLITE_ACCOUNTS_USER
    })
    .await;
    db.exec(if pg {
        PG_DJANGO_MIGRATIONS
    } else {
        SQLITE_DJANGO_MIGRATIONS
    })
    .await;
    for row in DJANGO_MIGRATIONS
        .iter()
        .filter(|r| !r.starts_with("token_blacklist"))
    {
        let (app, name) = row.split_once(' ').unwrap();
        db.exec(&format!(
            "INSERT INTO django_migrations (app, name, applied) VALUES ('{app}', '{name}', '2025-01-01 00:00:00')"
        ))
        .await;
    }
    db.exec("INSERT INTO django_migrations (app, name, applied) VALUES ('accounts', '0001_initial', '2025-01-01 00:00:00')").await;
}

async fn custom_user_table_crud(db: Db) {
    create_custom_user_project(&db).await;
    let store = db.open(custom_users()).await;
    let report = store.migrate().await.unwrap();
    assert!(report.created_django_tables, "token_blacklist is created");
    let tables = db.tables().await;
    assert!(!tables.contains("auth_user"));
    assert!(tables.contains("token_blacklist_outstandingtoken"));
    assert_eq!(
        db.count("SELECT COUNT(*) FROM django_migrations WHERE app = 'token_blacklist'")
            .await,
        12
    );
    if db.is_pg() {
        let fk = db
            .strings(
                "SELECT conname::text FROM pg_constraint WHERE contype = 'f' AND \
                 conrelid = 'token_blacklist_outstandingtoken'::regclass",
            )
            .await;
        assert_eq!(fk, ["token_blacklist_outs_user_id_83bc629a_fk_accounts_"]);
        let user_id = db
            .strings(
                "SELECT data_type::text FROM information_schema.columns WHERE table_name = \
                 'token_blacklist_outstandingtoken' AND column_name = 'user_id'",
            )
            .await;
        assert_eq!(user_id, ["bigint"]);
    } else {
        let sql = db
            .strings(
                "SELECT sql FROM sqlite_master WHERE name = 'token_blacklist_outstandingtoken'",
            )
            .await;
        assert!(
            sql[0].contains("\"user_id\" bigint NULL REFERENCES \"accounts_user\" (\"id\") DEFERRABLE INITIALLY DEFERRED")
        );
    }

    let ann = NewUser {
        username: "Ann@Example.com".into(),
        email: "Ann@Example.com".into(),
        ..new_user("", "")
    };
    let created = store.create_user(&ann, t0()).await.unwrap();
    assert_eq!(created.username, "Ann@Example.com");
    assert_eq!(created.email.as_deref(), Some("Ann@Example.com"));
    assert_eq!(
        (created.first_name.clone(), created.last_name.clone()),
        (None, None)
    );
    assert!(created.is_active && !created.is_staff && !created.is_superuser);
    assert_eq!(
        (created.date_joined, created.last_login),
        (Some(t0()), None)
    );
    assert_eq!(
        store.user_by_username("Ann@Example.com").await.unwrap(),
        Some(created.clone())
    );
    assert_eq!(
        store.users_by_email("ann@example.COM").await.unwrap(),
        std::slice::from_ref(&created)
    );
    assert!(matches!(
        store.create_user(&ann, t0()).await,
        Err(StorageError::Conflict(_))
    ));
    store
        .set_password(created.id, "argon2$changed")
        .await
        .unwrap();
    store.set_last_login(created.id, t0()).await.unwrap();
    let reread = store.user_by_id(created.id).await.unwrap().unwrap();
    assert_eq!(
        (reread.password.as_str(), reread.last_login),
        ("argon2$changed", Some(t0()))
    );

    let gh = account("77", Some("bob@example.com"), true);
    let SyncOutcome::Created(bob) = store
        .sync_account(&gh, &new_user("bob", ""), t0())
        .await
        .unwrap()
    else {
        panic!("expected a new user");
    };
    assert_eq!(bob.username, "bob@example.com");
    store
        .outstand(&token("custom-1", Some(bob.id)), None)
        .await
        .unwrap();
    assert!(!store.is_blacklisted("custom-1").await.unwrap());
}

async fn user_crud(db: Db) {
    user_crud_on(&db).await;
}

async fn user_crud_on(db: &Db) {
    let store = db.migrated().await;
    let input = NewUser {
        first_name: "Alice".into(),
        is_staff: true,
        ..new_user("alice", "Alice@Example.com")
    };
    let alice = store.create_user(&input, t0()).await.unwrap();
    assert!(alice.id > 0);
    assert_eq!(alice.username, "alice");
    assert_eq!(alice.password, input.password);
    assert_eq!(alice.email.as_deref(), Some("Alice@Example.com"));
    assert_eq!(alice.first_name.as_deref(), Some("Alice"));
    assert_eq!(alice.last_name.as_deref(), Some(""));
    assert!(alice.is_active && alice.is_staff && !alice.is_superuser);
    assert_eq!((alice.date_joined, alice.last_login), (Some(t0()), None));

    assert_eq!(
        store.user_by_username("alice").await.unwrap(),
        Some(alice.clone())
    );
    assert_eq!(
        store.user_by_username("Alice").await.unwrap(),
        None,
        "exact match"
    );
    assert_eq!(
        store.user_by_id(alice.id).await.unwrap(),
        Some(alice.clone())
    );
    assert_eq!(store.user_by_id(alice.id + 1000).await.unwrap(), None);
    assert_eq!(
        store.users_by_email("alice@example.com").await.unwrap(),
        std::slice::from_ref(&alice)
    );
    assert!(
        store
            .users_by_email("alice@example_com")
            .await
            .unwrap()
            .is_empty(),
        "_ is literal"
    );
    assert!(
        store.users_by_email("%").await.unwrap().is_empty(),
        "% is literal"
    );

    match store.create_user(&input, t0()).await {
        Err(StorageError::Conflict(_)) => {}
        other => panic!("expected a conflict, got {other:?}"),
    }
    store.set_password(alice.id, "argon2$new").await.unwrap();
    let later = t0() + Duration::hours(1);
    store.set_last_login(alice.id, later).await.unwrap();
    let reread = store.user_by_id(alice.id).await.unwrap().unwrap();
    assert_eq!(reread.password, "argon2$new");
    assert_eq!(reread.last_login, Some(later));
    assert_eq!(reread.date_joined, alice.date_joined);
    assert_eq!(reread.first_name, alice.first_name);
}

async fn datetimes_are_stored_as_django_stores_them(db: Db) {
    let store = db.migrated().await;
    let user = store
        .create_user(
            &new_user("dt", "dt@example.com"),
            at("2026-11-27T02:18:18Z"),
        )
        .await
        .unwrap();
    let t = token("jti-dt", Some(user.id));
    store.outstand(&t, None).await.unwrap();
    store
        .blacklist(&t, at("2026-11-27T02:18:19.783480Z"))
        .await
        .unwrap();
    if db.is_pg() {
        let types = db
            .strings(
                "SELECT data_type::text FROM information_schema.columns WHERE table_schema = \
                 current_schema() AND column_name IN ('created_at', 'expires_at', 'blacklisted_at', \
                 'date_joined', 'last_login', 'rotated_at') ORDER BY 1",
            )
            .await;
        assert!(
            types.iter().all(|t| t == "timestamp with time zone"),
            "{types:?}"
        );
        let exact = db
            .count(
                "SELECT COUNT(*) FROM token_blacklist_outstandingtoken WHERE jti = 'jti-dt' AND \
                 created_at = '2026-11-27 02:18:18.405937+00' AND expires_at = '2026-11-28 02:18:18+00'",
            )
            .await;
        assert_eq!(exact, 1);
        let flags = db.strings("SELECT data_type::text FROM information_schema.columns WHERE table_name = 'auth_user' AND column_name = 'is_active'").await;
        assert_eq!(flags, ["boolean"]);
    } else {
        let raw = db
            .strings(
                "SELECT o.created_at || '|' || o.expires_at || '|' || b.blacklisted_at || '|' || \
                 typeof(o.created_at) FROM token_blacklist_outstandingtoken o JOIN \
                 token_blacklist_blacklistedtoken b ON b.token_id = o.id WHERE o.jti = 'jti-dt'",
            )
            .await;
        assert_eq!(
            raw,
            ["2026-11-27 02:18:18.405937|2026-11-28 02:18:18|2026-11-27 02:18:19.783480|text"]
        );
        let user_raw = db
            .strings(
                "SELECT date_joined || '|' || COALESCE(last_login, 'NULL') || '|' || is_active || \
                 typeof(is_active) || '|' || is_staff FROM auth_user WHERE username = 'dt'",
            )
            .await;
        assert_eq!(user_raw, ["2026-11-27 02:18:18|NULL|1integer|0"]);
        let family = db
            .strings("SELECT expires_at FROM authbridge_refresh_family WHERE jti = 'jti-dt'")
            .await;
        assert_eq!(family, ["2026-11-28 02:18:18"]);
        // Values written by other tools (an offset, a `T`) still read back.
        for stored in [
            "2026-11-28 04:18:18+02:00",
            "2026-11-28T02:18:18",
            "2026-11-28 02:18:18.000000",
        ] {
            db.exec(&format!(
                "UPDATE auth_user SET last_login = '{stored}' WHERE username = 'dt'"
            ))
            .await;
            let user = store.user_by_username("dt").await.unwrap().unwrap();
            assert_eq!(
                user.last_login,
                Some(at("2026-11-28T02:18:18Z")),
                "{stored}"
            );
        }
    }
    store
        .set_last_login(user.id, at("2026-11-29T01:02:03.000004Z"))
        .await
        .unwrap();
    let user = store.user_by_id(user.id).await.unwrap().unwrap();
    assert_eq!(user.last_login, Some(at("2026-11-29T01:02:03.000004Z")));
}

// ---------------------------------------------------------------------------------------------
// Tokens

async fn family_of(db: &Db, jti: &str) -> Vec<String> {
    db.strings(&format!(
        "SELECT family_id FROM authbridge_refresh_family WHERE jti = '{jti}'"
    ))
    .await
}

async fn outstand_blacklist_and_check(db: Db) {
    let store = db.migrated().await;
    let user = store.create_user(&new_user("tok", ""), t0()).await.unwrap();
    let t1 = token("jti-1", Some(user.id));
    store.outstand(&t1, None).await.unwrap();
    store.outstand(&t1, None).await.unwrap();
    assert_eq!(db.outstanding_count().await, 1, "get-or-create by jti");
    let row = db
        .strings(&format!(
            "SELECT token FROM token_blacklist_outstandingtoken WHERE jti = 'jti-1' AND user_id = {}",
            user.id
        ))
        .await;
    assert_eq!(row, std::slice::from_ref(&t1.token));
    assert_eq!(family_of(&db, "jti-1").await, ["jti-1"]);
    store
        .outstand(&token("jti-1b", Some(user.id)), Some("jti-1"))
        .await
        .unwrap();
    assert_eq!(family_of(&db, "jti-1b").await, ["jti-1"]);

    assert!(!db.blacklisted("jti-1").await);
    assert_eq!(
        store.blacklist(&t1, t0()).await.unwrap(),
        BlacklistOutcome::Blacklisted
    );
    assert_eq!(
        store.blacklist(&t1, t0()).await.unwrap(),
        BlacklistOutcome::AlreadyBlacklisted
    );
    assert!(db.blacklisted("jti-1").await);
    assert!(!db.blacklisted("jti-1b").await);
    assert!(!db.blacklisted("unknown").await);

    // A token Django never stored (issued before the blacklist app was installed).
    let t2 = token("jti-2", None);
    assert_eq!(
        store.blacklist(&t2, t0()).await.unwrap(),
        BlacklistOutcome::Blacklisted
    );
    assert_eq!(db.outstanding_count().await, 3);
    assert!(db.blacklisted("jti-2").await);
}

async fn rotate_stores_successor_and_blacklists_old(db: Db) {
    let store = db.migrated().await;
    let user = store.create_user(&new_user("rot", ""), t0()).await.unwrap();
    let r1 = token("r1", Some(user.id));
    store.outstand(&r1, None).await.unwrap();
    assert_eq!(
        store.rotate(&rotation(&r1, "r2", t0())).await.unwrap(),
        RotateOutcome::Rotated
    );
    assert!(db.blacklisted("r1").await);
    assert!(!db.blacklisted("r2").await);
    let stored = db
        .strings("SELECT token FROM token_blacklist_outstandingtoken WHERE jti = 'r2'")
        .await;
    assert_eq!(stored, [token("r2", None).token]);
    assert_eq!(family_of(&db, "r2").await, ["r1"]);

    // BLACKLIST_AFTER_ROTATION off: the old token stays valid; the family still grows.
    let r2 = token("r2", Some(user.id));
    let keep = Rotation {
        blacklist_old: false,
        ..rotation(&r2, "r3", t0())
    };
    assert_eq!(store.rotate(&keep).await.unwrap(), RotateOutcome::Rotated);
    assert!(!db.blacklisted("r2").await);
    assert_eq!(family_of(&db, "r3").await, ["r1"]);

    // A token only Django knew (no family row, no outstanding row) starts its own family.
    let d1 = token("d1", Some(user.id));
    assert_eq!(
        store.rotate(&rotation(&d1, "d2", t0())).await.unwrap(),
        RotateOutcome::Rotated
    );
    assert!(db.blacklisted("d1").await);
    assert_eq!(family_of(&db, "d2").await, ["d1"]);
}

async fn rotate_replays_within_grace(db: Db) {
    let store = db.migrated().await;
    let r1 = token("g1", None);
    store.outstand(&r1, None).await.unwrap();
    assert_eq!(
        store.rotate(&rotation(&r1, "g2", t0())).await.unwrap(),
        RotateOutcome::Rotated
    );
    let rows = db.outstanding_count().await;
    let expected = RotateOutcome::Replayed {
        refresh: token("g2", None).token,
        access: "access-for-g2".into(),
    };
    for (jti, later) in [("g2b", 10), ("g2c", 30)] {
        let again = rotation(&r1, jti, t0() + Duration::seconds(later));
        assert_eq!(
            store.rotate(&again).await.unwrap(),
            expected,
            "{later}s after"
        );
    }
    assert_eq!(
        db.outstanding_count().await,
        rows,
        "a replay writes nothing"
    );
    assert!(!db.blacklisted("g2").await);
}

async fn rotate_detects_reuse_after_grace_and_revokes_the_family(db: Db) {
    let store = db.migrated().await;
    let user = store
        .create_user(&new_user("reuse", ""), t0())
        .await
        .unwrap();
    let other = token("other-login", Some(user.id));
    store.outstand(&other, None).await.unwrap();
    let t1 = token("f1", Some(user.id));
    store.outstand(&t1, None).await.unwrap();
    assert_eq!(
        store.rotate(&rotation(&t1, "f2", t0())).await.unwrap(),
        RotateOutcome::Rotated
    );
    let t2 = token("f2", Some(user.id));
    let next = Rotation {
        blacklist_old: false,
        ..rotation(&t2, "f3", t0() + Duration::minutes(1))
    };
    assert_eq!(store.rotate(&next).await.unwrap(), RotateOutcome::Rotated);
    // f3's outstanding row is gone (e.g. deleted by hand): revocation recreates it.
    db.exec("DELETE FROM token_blacklist_outstandingtoken WHERE jti = 'f3'")
        .await;

    let stolen = rotation(&t1, "f2-attacker", t0() + Duration::minutes(2));
    assert_eq!(
        store.rotate(&stolen).await.unwrap(),
        RotateOutcome::ReuseDetected
    );
    for jti in ["f1", "f2", "f3"] {
        assert!(db.blacklisted(jti).await, "{jti} revoked");
    }
    assert!(
        !db.blacklisted("other-login").await,
        "other logins untouched"
    );
    assert_eq!(
        db.count("SELECT COUNT(*) FROM token_blacklist_outstandingtoken WHERE jti = 'f2-attacker'")
            .await,
        0
    );
    // The successors are now refused too.
    let t3 = token("f3", Some(user.id));
    let late = rotation(&t3, "f4", t0() + Duration::minutes(3));
    assert_eq!(
        store.rotate(&late).await.unwrap(),
        RotateOutcome::Blacklisted
    );
    let replay_f2 = rotation(&t2, "f3b", t0() + Duration::minutes(3));
    assert_eq!(
        store.rotate(&replay_f2).await.unwrap(),
        RotateOutcome::ReuseDetected
    );
}

async fn rotate_refuses_a_logged_out_token(db: Db) {
    let store = db.migrated().await;
    let t1 = token("l1", None);
    store.outstand(&t1, None).await.unwrap();
    assert_eq!(
        store.blacklist(&t1, t0()).await.unwrap(),
        BlacklistOutcome::Blacklisted
    );
    let rows = db.outstanding_count().await;
    assert_eq!(
        store.rotate(&rotation(&t1, "l2", t0())).await.unwrap(),
        RotateOutcome::Blacklisted
    );
    assert_eq!(db.outstanding_count().await, rows);
    assert!(family_of(&db, "l2").await.is_empty());
}

/// Within the grace window a replay gets the successor, unless the successor was logged out:
/// logout is final.
async fn rotate_does_not_replay_a_logged_out_successor(db: Db) {
    replay_after_logout_on(&db).await;
}

async fn replay_after_logout_on(db: &Db) {
    let store = db.migrated().await;
    let r1 = token("o1", None);
    store.outstand(&r1, None).await.unwrap();
    assert_eq!(
        store.rotate(&rotation(&r1, "o2", t0())).await.unwrap(),
        RotateOutcome::Rotated
    );
    store
        .blacklist(&token("o2", None), t0() + Duration::seconds(1))
        .await
        .unwrap();
    assert_eq!(
        store
            .rotate(&rotation(&r1, "o3", t0() + Duration::seconds(2)))
            .await
            .unwrap(),
        RotateOutcome::Blacklisted
    );
    assert!(family_of(db, "o3").await.is_empty());
}

async fn concurrent_rotations_rotate_once(db: Db) {
    concurrent_rotations_on(&db).await;
}

async fn concurrent_rotations_on(db: &Db) {
    let store = db.migrated().await;
    let t1 = token("c-old", None);
    store.outstand(&t1, None).await.unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let (store, r) = (
                store.clone(),
                rotation(&t1, &format!("c-new-{i}"), t0() + Duration::milliseconds(i)),
            );
            tokio::spawn(async move { store.rotate(&r).await })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap().unwrap());
    }
    let winners: Vec<usize> = (0..8)
        .filter(|i| outcomes[*i] == RotateOutcome::Rotated)
        .collect();
    assert_eq!(winners.len(), 1, "{outcomes:?}");
    let w = format!("c-new-{}", winners[0]);
    let replay = RotateOutcome::Replayed {
        refresh: token(&w, None).token,
        access: format!("access-for-{w}"),
    };
    for (i, outcome) in outcomes.iter().enumerate() {
        if i != winners[0] {
            assert_eq!(outcome, &replay);
        }
    }
    assert_eq!(
        db.count("SELECT COUNT(*) FROM token_blacklist_outstandingtoken WHERE jti LIKE 'c-new-%'")
            .await,
        1
    );
    assert_eq!(
        db.count("SELECT COUNT(*) FROM token_blacklist_blacklistedtoken")
            .await,
        1
    );
}

async fn flush_expired_deletes_only_expired_own_rows(db: Db) {
    let store = db.migrated().await;
    let t1 = token("x1", None);
    store.outstand(&t1, None).await.unwrap();
    store.rotate(&rotation(&t1, "x2", t0())).await.unwrap();
    let lasting = OutstandingToken {
        expires_at: at("2027-01-01T00:00:00Z"),
        ..token("x9", None)
    };
    store.outstand(&lasting, None).await.unwrap();
    let expiry = t1.expires_at;
    assert_eq!(
        store.flush_expired(expiry).await.unwrap(),
        0,
        "expires_at < now only"
    );
    // x1 and x2 family rows and x1's rotation row.
    assert_eq!(
        store
            .flush_expired(expiry + Duration::seconds(1))
            .await
            .unwrap(),
        3
    );
    assert_eq!(
        db.strings("SELECT jti FROM authbridge_refresh_family")
            .await,
        ["x9"]
    );
    assert_eq!(
        db.count("SELECT COUNT(*) FROM authbridge_refresh_rotation")
            .await,
        0
    );
    assert_eq!(
        db.outstanding_count().await,
        3,
        "Django's rows are flushexpiredtokens' job"
    );
}

// ---------------------------------------------------------------------------------------------
// Accounts

async fn sync_account_links_and_creates(db: Db) {
    let store = db.migrated().await;
    let carol_gh = account("1001", Some("carol@example.com"), true);
    let SyncOutcome::Created(carol) = store
        .sync_account(&carol_gh, &new_user("carol", ""), t0())
        .await
        .unwrap()
    else {
        panic!("expected Created");
    };
    assert_eq!(
        (carol.username.as_str(), carol.email.as_deref()),
        ("carol", Some("carol@example.com"))
    );
    assert_eq!(carol.date_joined, Some(t0()));
    assert_eq!(
        store
            .sync_account(&carol_gh, &new_user("carol", ""), t0())
            .await
            .unwrap(),
        SyncOutcome::Existing(carol.clone())
    );
    assert_eq!(
        store.linked_user("github", "1001").await.unwrap(),
        Some(carol.clone())
    );
    assert_eq!(store.linked_user("gitlab", "1001").await.unwrap(), None);

    let dave = store
        .create_user(&new_user("dave", "Dave@Example.com"), t0())
        .await
        .unwrap();
    let users = db.user_count().await;
    let dave_gh = account("1002", Some("dave@example.com"), true);
    assert_eq!(
        store
            .sync_account(&dave_gh, &new_user("dave_gh", ""), t0())
            .await
            .unwrap(),
        SyncOutcome::LinkedByEmail(dave.clone())
    );
    assert_eq!(
        store.linked_user("github", "1002").await.unwrap(),
        Some(dave)
    );
    assert_eq!(db.user_count().await, users);

    store
        .create_user(&new_user("erin", "erin@example.com"), t0())
        .await
        .unwrap();
    let erin_gh = account("1003", Some("ERIN@example.com"), false);
    assert_eq!(
        store
            .sync_account(&erin_gh, &new_user("erin", ""), t0())
            .await
            .unwrap(),
        SyncOutcome::EmailNotVerified
    );
    assert_eq!(store.linked_user("github", "1003").await.unwrap(), None);
    assert_eq!(db.user_count().await, users + 1);

    let frank_gh = account("1004", None, false);
    let SyncOutcome::Created(frank) = store
        .sync_account(&frank_gh, &new_user("frank", ""), t0())
        .await
        .unwrap()
    else {
        panic!("expected Created");
    };
    assert_eq!(
        (frank.username.as_str(), frank.email.as_deref()),
        ("frank", Some(""))
    );
    // Django deleted the user: the stale link is dropped and the account signs in afresh.
    db.exec(&format!("DELETE FROM auth_user WHERE id = {}", frank.id))
        .await;
    let SyncOutcome::Created(again) = store
        .sync_account(&frank_gh, &new_user("frank", ""), t0())
        .await
        .unwrap()
    else {
        panic!("expected Created");
    };
    assert_ne!(again.id, frank.id);
    assert_eq!(
        db.count("SELECT COUNT(*) FROM authbridge_social_account")
            .await,
        3
    );
}

async fn sync_account_numbers_usernames_within_150_chars(db: Db) {
    let store = db.migrated().await;
    store
        .create_user(&new_user("alice", ""), t0())
        .await
        .unwrap();
    for (id, expected) in [("2001", "alice2"), ("2002", "alice3")] {
        let outcome = store
            .sync_account(&account(id, None, false), &new_user("alice", ""), t0())
            .await
            .unwrap();
        let SyncOutcome::Created(user) = outcome else {
            panic!("expected Created")
        };
        assert_eq!(user.username, expected);
    }
    let long = "x".repeat(150);
    store.create_user(&new_user(&long, ""), t0()).await.unwrap();
    let outcome = store
        .sync_account(&account("2003", None, false), &new_user(&long, ""), t0())
        .await
        .unwrap();
    let SyncOutcome::Created(user) = outcome else {
        panic!("expected Created")
    };
    assert_eq!(user.username, format!("{}2", "x".repeat(149)));
}

async fn concurrent_syncs_create_one_user(db: Db) {
    concurrent_syncs_on(&db).await;
}

async fn concurrent_syncs_on(db: &Db) {
    let store = db.migrated().await;
    // Eight sign-ins of one new account, and four of another account with the same email.
    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let store = store.clone();
            let id = if i < 8 { "3001" } else { "3002" };
            let acct = ExternalAccount {
                provider: if i < 8 { "github" } else { "google" }.into(),
                ..account(id, Some("gina@example.com"), true)
            };
            tokio::spawn(
                async move { store.sync_account(&acct, &new_user("gina", ""), t0()).await },
            )
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap().unwrap());
    }
    let created = outcomes
        .iter()
        .filter(|o| matches!(o, SyncOutcome::Created(_)))
        .count();
    assert_eq!(created, 1, "{outcomes:?}");
    let ids: BTreeSet<i64> = outcomes
        .iter()
        .map(|o| match o {
            SyncOutcome::Created(u) | SyncOutcome::Existing(u) | SyncOutcome::LinkedByEmail(u) => {
                u.id
            }
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(ids.len(), 1, "one user for all");
    assert_eq!(
        db.count("SELECT COUNT(*) FROM auth_user WHERE email = 'gina@example.com'")
            .await,
        1
    );
    assert_eq!(
        db.count("SELECT COUNT(*) FROM authbridge_social_account")
            .await,
        2
    );
}

// ---------------------------------------------------------------------------------------------
// Django's DDL (reference facts, Django 5.2.19 / simplejwt 5.5.1)

/// `django_migrations` after `migrate` of contenttypes, auth and token_blacklist, in order.
const DJANGO_MIGRATIONS: [&str; 26] = [
    "contenttypes 0001_initial",
    "auth 0001_initial",
    "contenttypes 0002_remove_content_type_name",
    "auth 0002_alter_permission_name_max_length",
    "auth 0003_alter_user_email_max_length",
    "auth 0004_alter_user_username_opts",
    "auth 0005_alter_user_last_login_null",
    "auth 0006_require_contenttypes_0002",
    "auth 0007_alter_validators_add_error_messages",
    "auth 0008_alter_user_username_max_length",
    "auth 0009_alter_user_last_name_max_length",
    "auth 0010_alter_group_name_max_length",
    "auth 0011_update_proxy_permissions",
    "auth 0012_alter_user_first_name_max_length",
    "token_blacklist 0001_initial",
    "token_blacklist 0002_outstandingtoken_jti_hex",
    "token_blacklist 0003_auto_20171017_2007",
    "token_blacklist 0004_auto_20171017_2013",
    "token_blacklist 0005_remove_outstandingtoken_jti",
    "token_blacklist 0006_auto_20171017_2113",
    "token_blacklist 0007_auto_20171017_2214",
    "token_blacklist 0008_migrate_to_bigautofield",
    "token_blacklist 0010_fix_migrate_to_bigautofield",
    "token_blacklist 0011_linearizes_history",
    "token_blacklist 0012_alter_outstandingtoken_user",
    "token_blacklist 0013_alter_blacklistedtoken_options_and_more",
];

/// `sqlite_master` after `manage.py migrate` (ddl_sqlite_migrated.sql).
const SQLITE_MIGRATED: &str = r#"CREATE TABLE "django_content_type" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "app_label" varchar(100) NOT NULL, "model" varchar(100) NOT NULL);
CREATE UNIQUE INDEX "django_content_type_app_label_model_76bd3d3b_uniq" ON "django_content_type" ("app_label", "model");
CREATE TABLE "auth_permission" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "content_type_id" integer NOT NULL REFERENCES "django_content_type" ("id") DEFERRABLE INITIALLY DEFERRED, "codename" varchar(100) NOT NULL, "name" varchar(255) NOT NULL);
CREATE INDEX "auth_permission_content_type_id_2f476e4b" ON "auth_permission" ("content_type_id");
CREATE UNIQUE INDEX "auth_permission_content_type_id_codename_01ab375a_uniq" ON "auth_permission" ("content_type_id", "codename");
CREATE TABLE "auth_group" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "name" varchar(150) NOT NULL UNIQUE);
CREATE TABLE "auth_group_permissions" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "group_id" integer NOT NULL REFERENCES "auth_group" ("id") DEFERRABLE INITIALLY DEFERRED, "permission_id" integer NOT NULL REFERENCES "auth_permission" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE INDEX "auth_group_permissions_group_id_b120cbf9" ON "auth_group_permissions" ("group_id");
CREATE UNIQUE INDEX "auth_group_permissions_group_id_permission_id_0cd325b0_uniq" ON "auth_group_permissions" ("group_id", "permission_id");
CREATE INDEX "auth_group_permissions_permission_id_84c5c92e" ON "auth_group_permissions" ("permission_id");
CREATE TABLE "auth_user" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "password" varchar(128) NOT NULL, "last_login" datetime NULL, "is_superuser" bool NOT NULL, "username" varchar(150) NOT NULL UNIQUE, "last_name" varchar(150) NOT NULL, "email" varchar(254) NOT NULL, "is_staff" bool NOT NULL, "is_active" bool NOT NULL, "date_joined" datetime NOT NULL, "first_name" varchar(150) NOT NULL);
CREATE TABLE "auth_user_groups" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "user_id" integer NOT NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "group_id" integer NOT NULL REFERENCES "auth_group" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE INDEX "auth_user_groups_group_id_97559544" ON "auth_user_groups" ("group_id");
CREATE INDEX "auth_user_groups_user_id_6a12ed8b" ON "auth_user_groups" ("user_id");
CREATE UNIQUE INDEX "auth_user_groups_user_id_group_id_94350c0c_uniq" ON "auth_user_groups" ("user_id", "group_id");
CREATE TABLE "auth_user_user_permissions" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "user_id" integer NOT NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "permission_id" integer NOT NULL REFERENCES "auth_permission" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE INDEX "auth_user_user_permissions_permission_id_1fbb5f2c" ON "auth_user_user_permissions" ("permission_id");
CREATE INDEX "auth_user_user_permissions_user_id_a95ead1b" ON "auth_user_user_permissions" ("user_id");
CREATE UNIQUE INDEX "auth_user_user_permissions_user_id_permission_id_14a6b632_uniq" ON "auth_user_user_permissions" ("user_id", "permission_id");
CREATE TABLE "token_blacklist_outstandingtoken" ("token" text NOT NULL, "created_at" datetime NULL, "expires_at" datetime NOT NULL, "user_id" integer NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "jti" varchar(255) NOT NULL UNIQUE, "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT);
CREATE INDEX "token_blacklist_outstandingtoken_user_id_83bc629a" ON "token_blacklist_outstandingtoken" ("user_id");
CREATE TABLE "token_blacklist_blacklistedtoken" ("blacklisted_at" datetime NOT NULL, "token_id" bigint NOT NULL UNIQUE REFERENCES "token_blacklist_outstandingtoken" ("id") DEFERRABLE INITIALLY DEFERRED, "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT);"#;

/// Django's DDL for the final models on SQLite (ddl_sqlite_models.sql).
const SQLITE_MODELS: &str = r#"CREATE TABLE "django_content_type" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "app_label" varchar(100) NOT NULL, "model" varchar(100) NOT NULL);
CREATE TABLE "auth_permission" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "name" varchar(255) NOT NULL, "content_type_id" integer NOT NULL REFERENCES "django_content_type" ("id") DEFERRABLE INITIALLY DEFERRED, "codename" varchar(100) NOT NULL);
CREATE TABLE "auth_group" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "name" varchar(150) NOT NULL UNIQUE);
CREATE TABLE "auth_group_permissions" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "group_id" integer NOT NULL REFERENCES "auth_group" ("id") DEFERRABLE INITIALLY DEFERRED, "permission_id" integer NOT NULL REFERENCES "auth_permission" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE TABLE "auth_user" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "password" varchar(128) NOT NULL, "last_login" datetime NULL, "is_superuser" bool NOT NULL, "username" varchar(150) NOT NULL UNIQUE, "first_name" varchar(150) NOT NULL, "last_name" varchar(150) NOT NULL, "email" varchar(254) NOT NULL, "is_staff" bool NOT NULL, "is_active" bool NOT NULL, "date_joined" datetime NOT NULL);
CREATE TABLE "auth_user_groups" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "user_id" integer NOT NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "group_id" integer NOT NULL REFERENCES "auth_group" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE TABLE "auth_user_user_permissions" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "user_id" integer NOT NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "permission_id" integer NOT NULL REFERENCES "auth_permission" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE TABLE "token_blacklist_outstandingtoken" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "user_id" integer NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "jti" varchar(255) NOT NULL UNIQUE, "token" text NOT NULL, "created_at" datetime NULL, "expires_at" datetime NOT NULL);
CREATE TABLE "token_blacklist_blacklistedtoken" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "token_id" bigint NOT NULL UNIQUE REFERENCES "token_blacklist_outstandingtoken" ("id") DEFERRABLE INITIALLY DEFERRED, "blacklisted_at" datetime NOT NULL);
CREATE UNIQUE INDEX "django_content_type_app_label_model_76bd3d3b_uniq" ON "django_content_type" ("app_label", "model");
CREATE UNIQUE INDEX "auth_permission_content_type_id_codename_01ab375a_uniq" ON "auth_permission" ("content_type_id", "codename");
CREATE INDEX "auth_permission_content_type_id_2f476e4b" ON "auth_permission" ("content_type_id");
CREATE UNIQUE INDEX "auth_group_permissions_group_id_permission_id_0cd325b0_uniq" ON "auth_group_permissions" ("group_id", "permission_id");
CREATE INDEX "auth_group_permissions_group_id_b120cbf9" ON "auth_group_permissions" ("group_id");
CREATE INDEX "auth_group_permissions_permission_id_84c5c92e" ON "auth_group_permissions" ("permission_id");
CREATE UNIQUE INDEX "auth_user_groups_user_id_group_id_94350c0c_uniq" ON "auth_user_groups" ("user_id", "group_id");
CREATE INDEX "auth_user_groups_user_id_6a12ed8b" ON "auth_user_groups" ("user_id");
CREATE INDEX "auth_user_groups_group_id_97559544" ON "auth_user_groups" ("group_id");
CREATE UNIQUE INDEX "auth_user_user_permissions_user_id_permission_id_14a6b632_uniq" ON "auth_user_user_permissions" ("user_id", "permission_id");
CREATE INDEX "auth_user_user_permissions_user_id_a95ead1b" ON "auth_user_user_permissions" ("user_id");
CREATE INDEX "auth_user_user_permissions_permission_id_1fbb5f2c" ON "auth_user_user_permissions" ("permission_id");
CREATE INDEX "token_blacklist_outstandingtoken_user_id_83bc629a" ON "token_blacklist_outstandingtoken" ("user_id");"#;

/// Django's DDL for the final models on PostgreSQL (ddl_postgresql_models.sql).
const PG_MODELS: &str = r#"CREATE TABLE "django_content_type" ("id" integer NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, "app_label" varchar(100) NOT NULL, "model" varchar(100) NOT NULL);
CREATE TABLE "auth_permission" ("id" integer NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, "name" varchar(255) NOT NULL, "content_type_id" integer NOT NULL, "codename" varchar(100) NOT NULL);
CREATE TABLE "auth_group" ("id" integer NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, "name" varchar(150) NOT NULL UNIQUE);
CREATE TABLE "auth_group_permissions" ("id" integer NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, "group_id" integer NOT NULL, "permission_id" integer NOT NULL);
CREATE TABLE "auth_user" ("id" integer NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, "password" varchar(128) NOT NULL, "last_login" timestamp with time zone NULL, "is_superuser" boolean NOT NULL, "username" varchar(150) NOT NULL UNIQUE, "first_name" varchar(150) NOT NULL, "last_name" varchar(150) NOT NULL, "email" varchar(254) NOT NULL, "is_staff" boolean NOT NULL, "is_active" boolean NOT NULL, "date_joined" timestamp with time zone NOT NULL);
CREATE TABLE "auth_user_groups" ("id" integer NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, "user_id" integer NOT NULL, "group_id" integer NOT NULL);
CREATE TABLE "auth_user_user_permissions" ("id" integer NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, "user_id" integer NOT NULL, "permission_id" integer NOT NULL);
CREATE TABLE "token_blacklist_outstandingtoken" ("id" bigint NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, "user_id" integer NULL, "jti" varchar(255) NOT NULL UNIQUE, "token" text NOT NULL, "created_at" timestamp with time zone NULL, "expires_at" timestamp with time zone NOT NULL);
CREATE TABLE "token_blacklist_blacklistedtoken" ("id" bigint NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, "token_id" bigint NOT NULL UNIQUE, "blacklisted_at" timestamp with time zone NOT NULL);
ALTER TABLE "django_content_type" ADD CONSTRAINT "django_content_type_app_label_model_76bd3d3b_uniq" UNIQUE ("app_label", "model");
ALTER TABLE "auth_permission" ADD CONSTRAINT "auth_permission_content_type_id_codename_01ab375a_uniq" UNIQUE ("content_type_id", "codename");
ALTER TABLE "auth_permission" ADD CONSTRAINT "auth_permission_content_type_id_2f476e4b_fk_django_co" FOREIGN KEY ("content_type_id") REFERENCES "django_content_type" ("id") DEFERRABLE INITIALLY DEFERRED;
CREATE INDEX "auth_permission_content_type_id_2f476e4b" ON "auth_permission" ("content_type_id");
CREATE INDEX "auth_group_name_a6ea08ec_like" ON "auth_group" ("name" varchar_pattern_ops);
ALTER TABLE "auth_group_permissions" ADD CONSTRAINT "auth_group_permissions_group_id_permission_id_0cd325b0_uniq" UNIQUE ("group_id", "permission_id");
ALTER TABLE "auth_group_permissions" ADD CONSTRAINT "auth_group_permissions_group_id_b120cbf9_fk_auth_group_id" FOREIGN KEY ("group_id") REFERENCES "auth_group" ("id") DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE "auth_group_permissions" ADD CONSTRAINT "auth_group_permissio_permission_id_84c5c92e_fk_auth_perm" FOREIGN KEY ("permission_id") REFERENCES "auth_permission" ("id") DEFERRABLE INITIALLY DEFERRED;
CREATE INDEX "auth_group_permissions_group_id_b120cbf9" ON "auth_group_permissions" ("group_id");
CREATE INDEX "auth_group_permissions_permission_id_84c5c92e" ON "auth_group_permissions" ("permission_id");
CREATE INDEX "auth_user_username_6821ab7c_like" ON "auth_user" ("username" varchar_pattern_ops);
ALTER TABLE "auth_user_groups" ADD CONSTRAINT "auth_user_groups_user_id_group_id_94350c0c_uniq" UNIQUE ("user_id", "group_id");
ALTER TABLE "auth_user_groups" ADD CONSTRAINT "auth_user_groups_user_id_6a12ed8b_fk_auth_user_id" FOREIGN KEY ("user_id") REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE "auth_user_groups" ADD CONSTRAINT "auth_user_groups_group_id_97559544_fk_auth_group_id" FOREIGN KEY ("group_id") REFERENCES "auth_group" ("id") DEFERRABLE INITIALLY DEFERRED;
CREATE INDEX "auth_user_groups_user_id_6a12ed8b" ON "auth_user_groups" ("user_id");
CREATE INDEX "auth_user_groups_group_id_97559544" ON "auth_user_groups" ("group_id");
ALTER TABLE "auth_user_user_permissions" ADD CONSTRAINT "auth_user_user_permissions_user_id_permission_id_14a6b632_uniq" UNIQUE ("user_id", "permission_id");
ALTER TABLE "auth_user_user_permissions" ADD CONSTRAINT "auth_user_user_permissions_user_id_a95ead1b_fk_auth_user_id" FOREIGN KEY ("user_id") REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE "auth_user_user_permissions" ADD CONSTRAINT "auth_user_user_permi_permission_id_1fbb5f2c_fk_auth_perm" FOREIGN KEY ("permission_id") REFERENCES "auth_permission" ("id") DEFERRABLE INITIALLY DEFERRED;
CREATE INDEX "auth_user_user_permissions_user_id_a95ead1b" ON "auth_user_user_permissions" ("user_id");
CREATE INDEX "auth_user_user_permissions_permission_id_1fbb5f2c" ON "auth_user_user_permissions" ("permission_id");
ALTER TABLE "token_blacklist_outstandingtoken" ADD CONSTRAINT "token_blacklist_outs_user_id_83bc629a_fk_auth_user" FOREIGN KEY ("user_id") REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED;
CREATE INDEX "token_blacklist_outstandingtoken_user_id_83bc629a" ON "token_blacklist_outstandingtoken" ("user_id");
CREATE INDEX "token_blacklist_outstandingtoken_jti_28cb9931_like" ON "token_blacklist_outstandingtoken" ("jti" varchar_pattern_ops);
ALTER TABLE "token_blacklist_blacklistedtoken" ADD CONSTRAINT "token_blacklist_blac_token_id_3cc7fe56_fk_token_bla" FOREIGN KEY ("token_id") REFERENCES "token_blacklist_outstandingtoken" ("id") DEFERRABLE INITIALLY DEFERRED;"#;

/// Django's MigrationRecorder table.
const SQLITE_DJANGO_MIGRATIONS: &str = r#"CREATE TABLE "django_migrations" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "app" varchar(255) NOT NULL, "name" varchar(255) NOT NULL, "applied" datetime NOT NULL)"#;

const PG_DJANGO_MIGRATIONS: &str = r#"CREATE TABLE "django_migrations" ("id" bigint NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, "app" varchar(255) NOT NULL, "name" varchar(255) NOT NULL, "applied" timestamp with time zone NOT NULL)"#;

/// A custom user model's tables as Django creates them (hash suffixes of index names left out).
const SQLITE_ACCOUNTS_USER: &str = r#"CREATE TABLE "accounts_user" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "password" varchar(128) NOT NULL, "last_login" datetime NULL, "is_superuser" bool NOT NULL, "email" varchar(254) NOT NULL UNIQUE, "is_staff" bool NOT NULL, "is_active" bool NOT NULL, "date_joined" datetime NOT NULL);
CREATE TABLE "accounts_user_groups" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "user_id" bigint NOT NULL REFERENCES "accounts_user" ("id") DEFERRABLE INITIALLY DEFERRED, "group_id" integer NOT NULL REFERENCES "auth_group" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE TABLE "accounts_user_user_permissions" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "user_id" bigint NOT NULL REFERENCES "accounts_user" ("id") DEFERRABLE INITIALLY DEFERRED, "permission_id" integer NOT NULL REFERENCES "auth_permission" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE UNIQUE INDEX "accounts_user_groups_user_id_group_id_uniq" ON "accounts_user_groups" ("user_id", "group_id");
CREATE INDEX "accounts_user_groups_user_id" ON "accounts_user_groups" ("user_id");
CREATE INDEX "accounts_user_groups_group_id" ON "accounts_user_groups" ("group_id");
CREATE UNIQUE INDEX "accounts_user_user_permissions_user_id_permission_id_uniq" ON "accounts_user_user_permissions" ("user_id", "permission_id");
CREATE INDEX "accounts_user_user_permissions_user_id" ON "accounts_user_user_permissions" ("user_id");
CREATE INDEX "accounts_user_user_permissions_permission_id" ON "accounts_user_user_permissions" ("permission_id");"#;

const PG_ACCOUNTS_USER: &str = r#"CREATE TABLE "accounts_user" ("id" bigint NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, "password" varchar(128) NOT NULL, "last_login" timestamp with time zone NULL, "is_superuser" boolean NOT NULL, "email" varchar(254) NOT NULL UNIQUE, "is_staff" boolean NOT NULL, "is_active" boolean NOT NULL, "date_joined" timestamp with time zone NOT NULL);
CREATE TABLE "accounts_user_groups" ("id" bigint NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, "user_id" bigint NOT NULL, "group_id" integer NOT NULL);
CREATE TABLE "accounts_user_user_permissions" ("id" bigint NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, "user_id" bigint NOT NULL, "permission_id" integer NOT NULL);
CREATE INDEX "accounts_user_email_like" ON "accounts_user" ("email" varchar_pattern_ops);
ALTER TABLE "accounts_user_groups" ADD CONSTRAINT "accounts_user_groups_user_id_group_id_uniq" UNIQUE ("user_id", "group_id");
ALTER TABLE "accounts_user_groups" ADD CONSTRAINT "accounts_user_groups_user_id_fk_accounts_user_id" FOREIGN KEY ("user_id") REFERENCES "accounts_user" ("id") DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE "accounts_user_groups" ADD CONSTRAINT "accounts_user_groups_group_id_fk_auth_group_id" FOREIGN KEY ("group_id") REFERENCES "auth_group" ("id") DEFERRABLE INITIALLY DEFERRED;
CREATE INDEX "accounts_user_groups_user_id" ON "accounts_user_groups" ("user_id");
CREATE INDEX "accounts_user_groups_group_id" ON "accounts_user_groups" ("group_id");
ALTER TABLE "accounts_user_user_permissions" ADD CONSTRAINT "accounts_user_user_permissions_user_id_permission_id_uniq" UNIQUE ("user_id", "permission_id");
ALTER TABLE "accounts_user_user_permissions" ADD CONSTRAINT "accounts_user_user_permissions_user_id_fk_accounts_user_id" FOREIGN KEY ("user_id") REFERENCES "accounts_user" ("id") DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE "accounts_user_user_permissions" ADD CONSTRAINT "accounts_user_user_permissions_permission_id_fk_auth_perm" FOREIGN KEY ("permission_id") REFERENCES "auth_permission" ("id") DEFERRABLE INITIALLY DEFERRED;
CREATE INDEX "accounts_user_user_permissions_user_id" ON "accounts_user_user_permissions" ("user_id");
CREATE INDEX "accounts_user_user_permissions_permission_id" ON "accounts_user_user_permissions" ("permission_id");"#;

// ---------------------------------------------------------------------------------------------
// Login attempt counters

/// Counters keep milliseconds.
fn t0_ms() -> DateTime<Utc> {
    at("2026-11-27T03:00:00.123Z")
}

fn attempt_rule(limit: i64, seconds: i64) -> AttemptRule {
    AttemptRule {
        limit,
        period: Duration::seconds(seconds),
    }
}

/// 50 concurrent attempts on one key get the counts 1..=50, each once; the period restarts at the
/// attempt that reaches the limit, and only there.
async fn login_attempts_are_counted_atomically(db: Db) {
    login_attempts_on(&db).await;
}

async fn login_attempts_on(db: &Db) {
    let store = db.migrated().await.clone();
    let now = t0_ms();
    let rule = attempt_rule(5, 900);
    let tasks = (0..50).map(|_| {
        let store = store.clone();
        tokio::spawn(async move { store.count_attempt("k", rule, now).await.unwrap() })
    });
    let mut counts: Vec<_> = futures_util::future::join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    counts.sort_by_key(|c| c.attempts);
    let numbers: Vec<i64> = counts.iter().map(|c| c.attempts).collect();
    assert_eq!(numbers, (1..=50).collect::<Vec<_>>());
    assert!(counts
        .iter()
        .all(|c| c.reset_at == now + Duration::seconds(900)));
    // Another key is counted apart.
    assert_eq!(
        store
            .count_attempt("other", rule, now)
            .await
            .unwrap()
            .attempts,
        1
    );
}

async fn login_attempt_periods_restart_and_settle(db: Db) {
    let store = db.migrated().await;
    let rule = attempt_rule(3, 60);
    let t = t0_ms();
    let count = |key: &'static str, at: DateTime<Utc>| {
        let store = store.clone();
        async move { store.count_attempt(key, rule, at).await.unwrap() }
    };
    assert_eq!(count("k", t).await.reset_at, t + Duration::seconds(60));
    // The attempt that reaches the limit restarts the period: the lock lasts a whole period.
    assert_eq!(count("k", t + Duration::seconds(10)).await.attempts, 2);
    let third = count("k", t + Duration::seconds(20)).await;
    assert_eq!(third.attempts, 3);
    assert_eq!(third.reset_at, t + Duration::seconds(80));
    // Later attempts do not extend it.
    let fourth = count("k", t + Duration::seconds(30)).await;
    assert_eq!(
        (fourth.attempts, fourth.reset_at),
        (4, t + Duration::seconds(80))
    );
    // At the reset time the count starts again.
    let fresh = count("k", t + Duration::seconds(80)).await;
    assert_eq!(
        (fresh.attempts, fresh.reset_at),
        (1, t + Duration::seconds(140))
    );

    // Take one back, never below zero; clear forgets the key.
    store.uncount_attempt("k").await.unwrap();
    store.uncount_attempt("k").await.unwrap();
    store.uncount_attempt("missing").await.unwrap();
    assert_eq!(count("k", t + Duration::seconds(81)).await.attempts, 1);
    store.clear_attempts("k").await.unwrap();
    let after_clear = count("k", t + Duration::seconds(90)).await;
    assert_eq!(
        (after_clear.attempts, after_clear.reset_at),
        (1, t + Duration::seconds(150))
    );

    // Purge deletes only counters whose period is over.
    count("old", t).await;
    assert_eq!(
        store
            .purge_attempts(t + Duration::seconds(100))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        db.count("SELECT COUNT(*) FROM authbridge_login_attempt")
            .await,
        1
    );
}

// ---------------------------------------------------------------------------------------------
// Sessions and revocation

fn live(family: &str) -> FamilyState {
    FamilyState::Live {
        family: family.into(),
    }
}

async fn family_state_follows_the_login(db: Db) {
    let store = db.migrated().await;
    let user = store.create_user(&new_user("fam", ""), t0()).await.unwrap();
    let a = token("fs-a", Some(user.id));
    store.outstand(&a, None).await.unwrap();
    assert_eq!(
        store.family_state("fs-a", t0()).await.unwrap(),
        live("fs-a")
    );
    // Rotated away (blacklisted by the rotation): the login lives on in the successor.
    assert_eq!(
        store.rotate(&rotation(&a, "fs-b", t0())).await.unwrap(),
        RotateOutcome::Rotated
    );
    assert!(db.blacklisted("fs-a").await);
    assert_eq!(
        store.family_state("fs-a", t0()).await.unwrap(),
        live("fs-a")
    );
    assert_eq!(
        store.family_state("fs-b", t0()).await.unwrap(),
        live("fs-a")
    );
    // simplejwt's blacklist of the newest token ends the login too.
    store
        .blacklist(&token("fs-b", Some(user.id)), t0())
        .await
        .unwrap();
    assert_eq!(
        store.family_state("fs-a", t0()).await.unwrap(),
        FamilyState::Revoked
    );
    assert_eq!(
        store.family_state("fs-b", t0()).await.unwrap(),
        FamilyState::Revoked
    );
    // Once every token has expired the login is over as well.
    let c = token("fs-c", Some(user.id));
    store.outstand(&c, None).await.unwrap();
    assert_eq!(
        store.family_state("fs-c", c.expires_at).await.unwrap(),
        FamilyState::Revoked
    );
    // A token authbridge never saw (issued by Django) is its own family.
    assert_eq!(
        store.family_state("django-jti", t0()).await.unwrap(),
        live("django-jti")
    );
    store
        .blacklist(&token("django-jti", Some(user.id)), t0())
        .await
        .unwrap();
    assert_eq!(
        store.family_state("django-jti", t0()).await.unwrap(),
        FamilyState::Revoked
    );
}

async fn revoke_family_ends_the_whole_login(db: Db) {
    let store = db.migrated().await;
    let user = store.create_user(&new_user("rf", ""), t0()).await.unwrap();
    let a = token("rf-a", Some(user.id));
    store.outstand(&a, None).await.unwrap();
    store.rotate(&rotation(&a, "rf-b", t0())).await.unwrap();
    // A pair exchanged for the same session joins the login.
    store
        .outstand(&token("rf-x", Some(user.id)), Some("rf-a"))
        .await
        .unwrap();
    // Another login of the same user is untouched.
    store
        .outstand(&token("rf-other", Some(user.id)), None)
        .await
        .unwrap();

    // Signing out with the stale (rotated) token still ends the login.
    assert_eq!(store.revoke_family(&a, t0()).await.unwrap(), 2);
    for jti in ["rf-a", "rf-b", "rf-x"] {
        assert!(db.blacklisted(jti).await, "{jti}");
        assert_eq!(
            store.family_state(jti, t0()).await.unwrap(),
            FamilyState::Revoked
        );
    }
    assert!(!db.blacklisted("rf-other").await);
    assert_eq!(
        store.family_state("rf-other", t0()).await.unwrap(),
        live("rf-other")
    );
    assert_eq!(
        store.revoke_family(&a, t0()).await.unwrap(),
        0,
        "idempotent"
    );
    // The rotation refuses the family afterwards, within the grace window or not.
    assert_eq!(
        store
            .rotate(&rotation(&token("rf-b", Some(user.id)), "rf-c", t0()))
            .await
            .unwrap(),
        RotateOutcome::Blacklisted
    );
    // A token Django issued (no family row, no outstanding row yet) is revoked alone.
    assert_eq!(
        store
            .revoke_family(&token("rf-django", Some(user.id)), t0())
            .await
            .unwrap(),
        1
    );
    assert!(db.blacklisted("rf-django").await);
}

async fn revoke_user_blacklists_only_that_users_live_tokens(db: Db) {
    let store = db.migrated().await;
    let ann = store.create_user(&new_user("ann", ""), t0()).await.unwrap();
    let bob = store.create_user(&new_user("bob", ""), t0()).await.unwrap();
    for (jti, user) in [("ru-a1", &ann), ("ru-a2", &ann), ("ru-b1", &bob)] {
        store
            .outstand(&token(jti, Some(user.id)), None)
            .await
            .unwrap();
    }
    let mut expired = token("ru-a-old", Some(ann.id));
    expired.expires_at = at("2026-11-01T00:00:00Z");
    store.outstand(&expired, None).await.unwrap();
    store
        .blacklist(&token("ru-a2", Some(ann.id)), t0())
        .await
        .unwrap();

    assert_eq!(store.revoke_user(ann.id, t0()).await.unwrap(), 1);
    assert!(db.blacklisted("ru-a1").await);
    assert!(
        !db.blacklisted("ru-a-old").await,
        "expired rows are left to flushexpiredtokens"
    );
    assert!(!db.blacklisted("ru-b1").await);
    assert_eq!(
        store.family_state("ru-a1", t0()).await.unwrap(),
        FamilyState::Revoked
    );
    assert_eq!(
        store.revoke_user(ann.id, t0()).await.unwrap(),
        0,
        "idempotent"
    );
    // The revocation time is kept, and the password is recorded on first sight afterwards.
    assert_eq!(
        store
            .check_password(ann.id, &password_fingerprint(&ann.password), t0())
            .await
            .unwrap(),
        PasswordCheck::Unchanged {
            revoked_at: Some(t0())
        }
    );
    assert_eq!(
        store
            .check_password(bob.id, &password_fingerprint(&bob.password), t0())
            .await
            .unwrap(),
        PasswordCheck::Unchanged { revoked_at: None }
    );
}

async fn check_password_records_then_revokes_on_a_change(db: Db) {
    let store = db.migrated().await;
    let user = store.create_user(&new_user("pw", ""), t0()).await.unwrap();
    let first = password_fingerprint(&user.password);
    assert_eq!(first.len(), 32);
    let unchanged = PasswordCheck::Unchanged { revoked_at: None };
    assert_eq!(
        store.check_password(user.id, &first, t0()).await.unwrap(),
        unchanged
    );
    assert_eq!(
        store.check_password(user.id, &first, t0()).await.unwrap(),
        unchanged
    );
    store
        .outstand(&token("pw-1", Some(user.id)), None)
        .await
        .unwrap();
    store
        .outstand(&token("pw-2", Some(user.id)), None)
        .await
        .unwrap();

    // Django's `set_password` + `save()`: the hash in auth_user changes.
    store
        .set_password(user.id, "pbkdf2_sha256$1000000$other$hash=")
        .await
        .unwrap();
    let second = password_fingerprint("pbkdf2_sha256$1000000$other$hash=");
    let later = t0() + Duration::seconds(5);
    assert_eq!(
        store.check_password(user.id, &second, later).await.unwrap(),
        PasswordCheck::Changed { revoked: 2 }
    );
    assert!(db.blacklisted("pw-1").await && db.blacklisted("pw-2").await);
    assert_eq!(
        store.check_password(user.id, &second, later).await.unwrap(),
        PasswordCheck::Unchanged {
            revoked_at: Some(later)
        }
    );
}

async fn upgrade_password_is_not_a_password_change(db: Db) {
    let store = db.migrated().await;
    let user = store.create_user(&new_user("up", ""), t0()).await.unwrap();
    store
        .check_password(user.id, &password_fingerprint(&user.password), t0())
        .await
        .unwrap();
    store
        .outstand(&token("up-1", Some(user.id)), None)
        .await
        .unwrap();
    let upgraded = "pbkdf2_sha256$1200000$newsalt$hash=";
    store
        .upgrade_password(user.id, &user.password, upgraded)
        .await
        .unwrap();
    let stored = store.user_by_id(user.id).await.unwrap().unwrap();
    assert_eq!(stored.password, upgraded);
    assert_eq!(
        store
            .check_password(user.id, &password_fingerprint(upgraded), t0())
            .await
            .unwrap(),
        PasswordCheck::Unchanged { revoked_at: None }
    );
    assert!(!db.blacklisted("up-1").await);
    // An upgrade computed from a hash that changed meanwhile does not overwrite the change.
    store
        .upgrade_password(user.id, &user.password, "pbkdf2_sha256$1$x$y=")
        .await
        .unwrap();
    let stored = store.user_by_id(user.id).await.unwrap().unwrap();
    assert_eq!(stored.password, upgraded);
}

async fn sync_refusals_write_nothing(db: Db) {
    let store = db.migrated().await;
    let links = "SELECT COUNT(*) FROM authbridge_social_account";
    let admin = NewUser {
        is_staff: true,
        is_superuser: true,
        ..new_user("admin", "admin@example.com")
    };
    store.create_user(&admin, t0()).await.unwrap();
    let staff = NewUser {
        is_staff: true,
        ..new_user("staff", "staff@example.com")
    };
    store.create_user(&staff, t0()).await.unwrap();
    let gone = NewUser {
        is_active: false,
        ..new_user("gone", "gone@example.com")
    };
    let gone = store.create_user(&gone, t0()).await.unwrap();
    store
        .create_user(&new_user("plain", "plain@example.com"), t0())
        .await
        .unwrap();
    let users = db.user_count().await;

    // Verified email, linking allowed: still never to staff or superusers.
    for (id, email) in [("s-1", "ADMIN@example.com"), ("s-2", "staff@example.com")] {
        assert_eq!(
            store
                .sync_account(&account(id, Some(email), true), &new_user("x", ""), t0())
                .await
                .unwrap(),
            SyncOutcome::EmailLinkingRefused,
            "{email}"
        );
    }
    // A provider that did not opt in.
    let no_opt_in = ExternalAccount {
        email_linking: false,
        ..account("s-3", Some("plain@example.com"), true)
    };
    assert_eq!(
        store
            .sync_account(&no_opt_in, &new_user("x", ""), t0())
            .await
            .unwrap(),
        SyncOutcome::EmailLinkingRefused
    );
    // An inactive user: refused, and no link row kept.
    assert_eq!(
        store
            .sync_account(
                &account("s-4", Some("gone@example.com"), true),
                &new_user("x", ""),
                t0()
            )
            .await
            .unwrap(),
        SyncOutcome::Inactive(gone.clone())
    );
    assert_eq!(db.count(links).await, 0);
    assert_eq!(db.user_count().await, users);
    assert_eq!(store.linked_user("github", "s-4").await.unwrap(), None);

    // An account linked before its user was deactivated: refused, the link stays as it was.
    db.exec(&format!(
        "INSERT INTO authbridge_social_account (provider, provider_account_id, user_id, created_at) \
         VALUES ('github', 's-5', {}, '2026-11-27 03:00:00')",
        gone.id
    ))
    .await;
    assert_eq!(
        store
            .sync_account(&account("s-5", None, false), &new_user("x", ""), t0())
            .await
            .unwrap(),
        SyncOutcome::Inactive(gone)
    );
    assert_eq!(db.count(links).await, 1);
}

/// A logout (of one login, or of every login of the user) racing a rotation of the same login:
/// whichever commits first, no successor outlives the logout.
async fn revocation_racing_rotation_leaves_no_live_successor(db: Db) {
    let store = db.migrated().await;
    let user = store
        .create_user(&new_user("race", ""), t0())
        .await
        .unwrap();
    for i in 0..12 {
        let old = token(&format!("race-{i}"), Some(user.id));
        store.outstand(&old, None).await.unwrap();
        let rotating = {
            let (store, r) = (
                store.clone(),
                rotation(&old, &format!("race-{i}-next"), t0()),
            );
            tokio::spawn(async move { store.rotate(&r).await.unwrap() })
        };
        let revoking = {
            let (store, old) = (store.clone(), old.clone());
            tokio::spawn(async move {
                if i % 2 == 0 {
                    store.revoke_family(&old, t0()).await.unwrap()
                } else {
                    store.revoke_user(user.id, t0()).await.unwrap()
                }
            })
        };
        let rotated = rotating.await.unwrap();
        revoking.await.unwrap();
        assert!(
            matches!(rotated, RotateOutcome::Rotated | RotateOutcome::Blacklisted),
            "{rotated:?}"
        );
        assert_eq!(
            store
                .family_state(&format!("race-{i}"), t0())
                .await
                .unwrap(),
            FamilyState::Revoked,
            "after {rotated:?}"
        );
        if rotated == RotateOutcome::Rotated {
            let next = format!("race-{i}-next");
            assert!(db.blacklisted(&next).await, "{next}");
            assert_eq!(
                store.family_state(&next, t0()).await.unwrap(),
                FamilyState::Revoked
            );
        }
    }
}
/// `authbridge doctor`'s read: nothing on an empty database, then the tables, authbridge's
/// migrations, each hash algorithm prefix with its count (never a hash), and the database clock.
async fn inspect_reports_tables_migrations_hash_algorithms_and_clock(db: Db) {
    let empty = db.store.inspect().await.unwrap();
    assert!(empty.password_algorithms.is_empty());
    assert!(empty.own_migrations_applied.is_empty());
    assert!(!empty.tables.iter().any(|t| t == "auth_user"));
    // Inspecting creates nothing.
    assert!(!db.tables().await.contains("auth_user"));

    let store = db.migrated().await;
    let mut users = vec![
        ("p1", "pbkdf2_sha256$1000000$salt$hash="),
        ("p2", "pbkdf2_sha256$870000$salt$hash="),
        ("a1", "argon2$argon2id$v=19$m=102400,t=2,p=8$c2FsdA$aGFzaA"),
        ("u1", "!unusable0123456789012345678901234567890"),
        ("e1", ""),
        ("m1", "0123456789abcdef0123456789abcdef"),
    ];
    for (username, password) in users.drain(..) {
        let mut user = new_user(username, "");
        user.password = password.to_string();
        store.create_user(&user, t0()).await.unwrap();
    }
    let before = Utc::now();
    let report = store.inspect().await.unwrap();
    let after = Utc::now();
    for table in [
        "auth_user",
        "token_blacklist_outstandingtoken",
        "authbridge_migrations",
    ] {
        assert!(report.tables.iter().any(|t| t == table), "{table}");
    }
    assert_eq!(
        report.own_migrations_applied,
        authbridge::storage::Inspection::own_migrations_known()
    );
    let mut algorithms = report.password_algorithms.clone();
    algorithms.sort();
    assert_eq!(
        algorithms,
        [
            ("".to_string(), 2),
            ("!".to_string(), 1),
            ("argon2".to_string(), 1),
            ("pbkdf2_sha256".to_string(), 2),
        ]
    );
    // SQLite's clock has millisecond precision; allow for it.
    let slack = Duration::milliseconds(5);
    assert!(
        report.now >= before - slack && report.now <= after + slack,
        "{} not in [{before}, {after}]",
        report.now
    );
}
