//! Conformance: Django's DDL as reference facts (Django 5.2.19 / simplejwt 5.5.1), kept in `fixtures/ddl/`.

/// `django_migrations` after `migrate` of contenttypes, auth and token_blacklist, in order.
pub(super) const DJANGO_MIGRATIONS: [&str; 26] = [
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
pub(super) const SQLITE_MIGRATED: &str = include_str!("../fixtures/ddl/sqlite/migrated.sql");

/// Django's DDL for the final models on SQLite (ddl_sqlite_models.sql).
pub(super) const SQLITE_MODELS: &str = include_str!("../fixtures/ddl/sqlite/models.sql");

/// Django's DDL for the final models on PostgreSQL (ddl_postgresql_models.sql).
pub(super) const PG_MODELS: &str = include_str!("../fixtures/ddl/postgres/models.sql");

/// Django's MigrationRecorder table.
pub(super) const SQLITE_DJANGO_MIGRATIONS: &str =
    include_str!("../fixtures/ddl/sqlite/django_migrations.sql");

pub(super) const PG_DJANGO_MIGRATIONS: &str =
    include_str!("../fixtures/ddl/postgres/django_migrations.sql");

/// A custom user model's tables as Django creates them (hash suffixes of index names left out).
pub(super) const SQLITE_ACCOUNTS_USER: &str =
    include_str!("../fixtures/ddl/sqlite/accounts_user.sql");

pub(super) const PG_ACCOUNTS_USER: &str =
    include_str!("../fixtures/ddl/postgres/accounts_user.sql");
