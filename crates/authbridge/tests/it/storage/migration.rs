//! Conformance: Migration.

use super::*;

pub(super) const OWN_TABLES: [&str; 12] = [
    "authbridge_email_outbox",
    "authbridge_login_attempt",
    "authbridge_login_session",
    "authbridge_migrations",
    "authbridge_oidc_client",
    "authbridge_oidc_code",
    "authbridge_oidc_consent",
    "authbridge_oidc_key",
    "authbridge_refresh_family",
    "authbridge_refresh_rotation",
    "authbridge_social_account",
    "authbridge_user_state",
];

pub(super) const OWN_MIGRATIONS: [&str; 5] = [
    "0001_refresh_families_and_social_accounts",
    "0002_login_attempts",
    "0003_user_state",
    "0004_oidc",
    "0005_email_outbox",
];

pub(super) const DJANGO_TABLES: [&str; 10] = [
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
pub(super) fn migrated_columns(pg: bool) -> Vec<(&'static str, Vec<&'static str>)> {
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
pub(super) const PG_CONSTRAINTS: &[&str] = &[
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
pub(super) const PG_INDEXES: &[&str] = &[
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
pub(super) const PG_ID_TYPES: &[&str] = &[
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

pub(super) async fn assert_djangos_migrated_schema(db: &Db) {
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

pub(super) async fn migrate_creates_djangos_schema_on_an_empty_database(db: Db) {
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

pub(super) async fn migrate_twice_is_a_no_op(db: Db) {
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
pub(super) async fn migrate_on_a_django_migrated_database_adds_only_own_tables(db: Db) {
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

pub(super) async fn concurrent_migrations_create_the_schema_once(db: Db) {
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

pub(super) async fn missing_custom_user_table_is_a_schema_error(db: Db) {
    let store = db.open(custom_users()).await;
    match store.migrate().await {
        Err(StorageError::Schema(message)) => {
            assert!(message.contains("accounts_user"), "{message}")
        }
        other => panic!("expected a schema error, got {other:?}"),
    }
    assert!(db.tables().await.is_empty(), "nothing may be created");
}
