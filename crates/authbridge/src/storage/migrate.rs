//! Schema creation, shared by both backends: which of Django's apps to create (and record in
//! `django_migrations`), and authbridge's own versioned migrations.
//!
//! Django's tables are Django's. authbridge creates an app's tables only when none of them exist,
//! exactly as Django 5.2's `migrate` leaves them, and records that app's migrations so that a later
//! `manage.py migrate` skips them. Tables of an app Django already migrated are never touched.

use super::{Result, StorageError, UserTable};
use std::collections::HashSet;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrationReport {
    /// Django's tables were absent and have been created (with their `django_migrations` rows).
    pub created_django_tables: bool,
    /// authbridge's own migrations applied by this run.
    pub applied: Vec<String>,
}

/// One Django app whose tables authbridge can create.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DjangoApp {
    ContentTypes,
    Auth,
    TokenBlacklist,
}

impl DjangoApp {
    pub(crate) const ALL: [DjangoApp; 3] = [
        DjangoApp::ContentTypes,
        DjangoApp::Auth,
        DjangoApp::TokenBlacklist,
    ];

    pub(crate) fn label(self) -> &'static str {
        match self {
            DjangoApp::ContentTypes => "contenttypes",
            DjangoApp::Auth => "auth",
            DjangoApp::TokenBlacklist => "token_blacklist",
        }
    }

    /// The app's tables; any of them existing means Django migrated the app. (With a custom user
    /// model Django creates only the first three `auth_*` tables.)
    fn tables(self) -> &'static [&'static str] {
        match self {
            DjangoApp::ContentTypes => &["django_content_type"],
            DjangoApp::Auth => &[
                "auth_permission",
                "auth_group",
                "auth_group_permissions",
                "auth_user",
                "auth_user_groups",
                "auth_user_user_permissions",
            ],
            DjangoApp::TokenBlacklist => &[
                "token_blacklist_outstandingtoken",
                "token_blacklist_blacklistedtoken",
            ],
        }
    }
}

/// `django_migrations` rows in the order Django 5.2 applies them on an empty database.
pub(crate) const DJANGO_MIGRATIONS: &[(&str, &str)] = &[
    ("contenttypes", "0001_initial"),
    ("auth", "0001_initial"),
    ("contenttypes", "0002_remove_content_type_name"),
    ("auth", "0002_alter_permission_name_max_length"),
    ("auth", "0003_alter_user_email_max_length"),
    ("auth", "0004_alter_user_username_opts"),
    ("auth", "0005_alter_user_last_login_null"),
    ("auth", "0006_require_contenttypes_0002"),
    ("auth", "0007_alter_validators_add_error_messages"),
    ("auth", "0008_alter_user_username_max_length"),
    ("auth", "0009_alter_user_last_name_max_length"),
    ("auth", "0010_alter_group_name_max_length"),
    ("auth", "0011_update_proxy_permissions"),
    ("auth", "0012_alter_user_first_name_max_length"),
    ("token_blacklist", "0001_initial"),
    ("token_blacklist", "0002_outstandingtoken_jti_hex"),
    ("token_blacklist", "0003_auto_20171017_2007"),
    ("token_blacklist", "0004_auto_20171017_2013"),
    ("token_blacklist", "0005_remove_outstandingtoken_jti"),
    ("token_blacklist", "0006_auto_20171017_2113"),
    ("token_blacklist", "0007_auto_20171017_2214"),
    ("token_blacklist", "0008_migrate_to_bigautofield"),
    ("token_blacklist", "0010_fix_migrate_to_bigautofield"),
    ("token_blacklist", "0011_linearizes_history"),
    ("token_blacklist", "0012_alter_outstandingtoken_user"),
    (
        "token_blacklist",
        "0013_alter_blacklistedtoken_options_and_more",
    ),
];

/// allauth's `account` app (`account_emailaddress`, `account_emailconfirmation`): created only
/// when the account flows are on (`EmailAddressRepository::migrate_email_addresses`).
pub(crate) const ACCOUNT_TABLES: [&str; 2] = ["account_emailaddress", "account_emailconfirmation"];

/// `django_migrations` rows of django-allauth 65.21.1's `account` app, in order.
pub(crate) const ACCOUNT_MIGRATIONS: &[&str] = &[
    "0001_initial",
    "0002_email_max_length",
    "0003_alter_emailaddress_create_unique_verified_email",
    "0004_alter_emailaddress_drop_unique_email",
    "0005_emailaddress_idx_upper_email",
    "0006_emailaddress_lower",
    "0007_emailaddress_idx_email",
    "0008_emailaddress_unique_primary_email_fixup",
    "0009_emailaddress_unique_primary_email",
];

/// Adapt allauth's DDL (written for `auth_user`) to a custom user table, as `token_blacklist_ddl`
/// does for simplejwt's.
pub(crate) fn account_ddl(ddl: &str, users: &UserTable, user_id_type: &str) -> String {
    let fk = UserFk {
        name: "\"account_emailaddress_user_id_2c513194_fk_auth_user_id\"",
        table: "account_emailaddress",
        hash: "2c513194",
        null: "NOT NULL",
    };
    user_fk_ddl(ddl, users, user_id_type, &fk)
}

/// A `user_id` foreign key to `auth_user` in a Django app's DDL: its constraint's name there,
/// the table and Django's hash its name for another user table is made of, and its nullability.
struct UserFk {
    name: &'static str,
    table: &'static str,
    hash: &'static str,
    null: &'static str,
}

/// `ddl` with its `user_id` foreign key pointed at `users`' table (Django's name for the
/// constraint, the target's id type); unchanged for `auth_user`.
fn user_fk_ddl(ddl: &str, users: &UserTable, user_id_type: &str, fk: &UserFk) -> String {
    if users.table == "auth_user" {
        return ddl.to_string();
    }
    ddl.replace(
        "REFERENCES \"auth_user\" (\"id\")",
        &format!("REFERENCES {} (\"id\")", quote_ident(&users.table)),
    )
    .replace(
        fk.name,
        &quote_ident(&django_fk_name(
            fk.table,
            "user_id",
            fk.hash,
            &users.table,
            "id",
        )),
    )
    .replace(
        &format!("\"user_id\" integer {}", fk.null),
        &format!("\"user_id\" {user_id_type} {}", fk.null),
    )
}

/// What `migrate` must do to Django's side of the database.
#[derive(Debug, Default)]
pub(crate) struct DjangoPlan {
    pub create_migrations_table: bool,
    pub apps: Vec<DjangoApp>,
}

impl DjangoPlan {
    /// `django_migrations` rows to record for the apps created, in Django's order.
    pub(crate) fn migration_rows(&self) -> Vec<(&'static str, &'static str)> {
        let created: Vec<&str> = self.apps.iter().map(|a| a.label()).collect();
        DJANGO_MIGRATIONS
            .iter()
            .copied()
            .filter(|(app, _)| created.contains(app))
            .collect()
    }

    /// authbridge's own migrations not yet in `applied`, in order.
    pub(crate) fn pending(applied: &[String]) -> Vec<&'static OwnMigration> {
        OWN_MIGRATIONS
            .iter()
            .filter(|m| !applied.iter().any(|a| a == m.name))
            .collect()
    }
}

/// Decide from the tables present which Django apps to create. Fails, before anything is written,
/// when a custom user table is configured but missing: only Django can create it.
pub(crate) fn plan_django(existing: &HashSet<String>, users: &UserTable) -> Result<DjangoPlan> {
    let custom_user_table = users.table != "auth_user";
    if custom_user_table && !existing.contains(&users.table) {
        return Err(StorageError::Schema(format!(
            "the user table {:?} does not exist: run Django's `manage.py migrate` for the custom \
             user model (AUTH_USER_MODEL) first; authbridge only creates Django's default tables",
            users.table
        )));
    }
    let mut plan = DjangoPlan {
        create_migrations_table: !existing.contains("django_migrations"),
        apps: Vec::new(),
    };
    for app in DjangoApp::ALL {
        if app.tables().iter().any(|t| existing.contains(*t)) {
            continue;
        }
        if app == DjangoApp::Auth && custom_user_table {
            return Err(StorageError::Schema(format!(
                "the custom user table {:?} exists but Django's auth tables do not: run Django's \
                 `manage.py migrate` first",
                users.table
            )));
        }
        plan.apps.push(app);
    }
    if !custom_user_table
        && !plan.apps.contains(&DjangoApp::Auth)
        && !existing.contains("auth_user")
    {
        return Err(StorageError::Schema(
            "Django's auth tables exist without auth_user: set AUTH_USER_TABLE (and \
             USERNAME_FIELD) to the custom user model's table"
                .into(),
        ));
    }
    Ok(plan)
}

/// Adapt token_blacklist's DDL (written for `auth_user`) to a custom user table, as Django would
/// generate it for `user = ForeignKey(AUTH_USER_MODEL)`: the FK targets that table and, on
/// PostgreSQL, gets Django's name for it and the target's id type.
pub(crate) fn token_blacklist_ddl(ddl: &str, users: &UserTable, user_id_type: &str) -> String {
    let fk = UserFk {
        name: "\"token_blacklist_outs_user_id_83bc629a_fk_auth_user\"",
        table: "token_blacklist_outstandingtoken",
        hash: "83bc629a",
        null: "NULL",
    };
    user_fk_ddl(ddl, users, user_id_type, &fk)
}

/// Django's `_create_index_name` for a foreign key on PostgreSQL (63-character identifiers):
/// `<table>_<column>_<hash>_fk_<to_table>_<to_column>`, shortened the way Django shortens it.
/// `hash` is Django's digest of the table and column names (it does not depend on the target).
pub(crate) fn django_fk_name(
    table: &str,
    column: &str,
    hash: &str,
    to_table: &str,
    to_column: &str,
) -> String {
    const MAX: usize = 63;
    let mut suffix = format!("{hash}_fk_{to_table}_{to_column}");
    let full = format!("{table}_{column}_{suffix}");
    if full.len() <= MAX {
        return full;
    }
    if suffix.len() > MAX / 3 {
        suffix.truncate(MAX / 3);
    }
    let other = (MAX - suffix.len()) / 2 - 1;
    let cut = |s: &str| s.chars().take(other).collect::<String>();
    format!("{}_{}_{}", cut(table), cut(column), suffix)
}

/// One of authbridge's own migrations, recorded by name in `authbridge_migrations`.
pub(crate) struct OwnMigration {
    pub name: &'static str,
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

/// Append only; never edit an applied migration.
pub(crate) const OWN_MIGRATIONS: &[OwnMigration] = &[
    OwnMigration {
        name: "0001_refresh_families_and_social_accounts",
        sqlite: include_str!("sql/sqlite/0001_refresh_families_and_social_accounts.sql"),
        postgres: include_str!("sql/postgres/0001_refresh_families_and_social_accounts.sql"),
    },
    OwnMigration {
        name: "0002_login_attempts",
        sqlite: include_str!("sql/sqlite/0002_login_attempts.sql"),
        postgres: include_str!("sql/postgres/0002_login_attempts.sql"),
    },
    OwnMigration {
        name: "0003_user_state",
        sqlite: include_str!("sql/sqlite/0003_user_state.sql"),
        postgres: include_str!("sql/postgres/0003_user_state.sql"),
    },
    OwnMigration {
        name: "0004_oidc",
        sqlite: include_str!("sql/sqlite/0004_oidc.sql"),
        postgres: include_str!("sql/postgres/0004_oidc.sql"),
    },
    OwnMigration {
        name: "0005_email_outbox",
        sqlite: include_str!("sql/sqlite/0005_email_outbox.sql"),
        postgres: include_str!("sql/postgres/0005_email_outbox.sql"),
    },
];

/// `"name"` with embedded quotes doubled (table and column names come from configuration).
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The DDL of Django's tables in one dialect, as Django 5.2's `migrate` leaves them.
pub(crate) struct Ddl {
    pub django_migrations: &'static str,
    pub authbridge_migrations: &'static str,
    pub contenttypes: &'static str,
    pub auth: &'static str,
    pub token_blacklist: &'static str,
    /// allauth's `account` app.
    pub account: &'static str,
}

impl Ddl {
    pub(crate) fn django(&self, app: DjangoApp) -> &'static str {
        match app {
            DjangoApp::ContentTypes => self.contenttypes,
            DjangoApp::Auth => self.auth,
            DjangoApp::TokenBlacklist => self.token_blacklist,
        }
    }
}

macro_rules! ddl_in {
    ($dir:literal) => {
        Ddl {
            django_migrations: include_str!(concat!("sql/", $dir, "/django_migrations.sql")),
            authbridge_migrations: include_str!(concat!(
                "sql/",
                $dir,
                "/authbridge_migrations.sql"
            )),
            contenttypes: include_str!(concat!("sql/", $dir, "/contenttypes.sql")),
            auth: include_str!(concat!("sql/", $dir, "/auth.sql")),
            token_blacklist: include_str!(concat!("sql/", $dir, "/token_blacklist.sql")),
            account: include_str!(concat!("sql/", $dir, "/account.sql")),
        }
    };
}

pub(crate) const SQLITE_DDL: Ddl = ddl_in!("sqlite");
pub(crate) const POSTGRES_DDL: Ddl = ddl_in!("postgres");

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn fk_names_match_django() {
        assert_eq!(
            django_fk_name(
                "token_blacklist_outstandingtoken",
                "user_id",
                "83bc629a",
                "auth_user",
                "id"
            ),
            "token_blacklist_outs_user_id_83bc629a_fk_auth_user"
        );
        assert_eq!(
            django_fk_name(
                "token_blacklist_outstandingtoken",
                "user_id",
                "83bc629a",
                "accounts_user",
                "id"
            ),
            "token_blacklist_outs_user_id_83bc629a_fk_accounts_"
        );
        assert_eq!(
            django_fk_name("auth_user_groups", "user_id", "6a12ed8b", "auth_user", "id"),
            "auth_user_groups_user_id_6a12ed8b_fk_auth_user_id"
        );
    }

    #[test]
    fn plans() {
        let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<HashSet<_>>();
        let plan = plan_django(&set(&[]), &UserTable::default()).unwrap();
        assert_eq!(plan.apps, DjangoApp::ALL.to_vec());
        assert_eq!(plan.migration_rows().len(), DJANGO_MIGRATIONS.len());
        let custom = UserTable {
            table: "accounts_user".into(),
            username_field: "email".into(),
        };
        assert!(matches!(
            plan_django(&set(&[]), &custom),
            Err(StorageError::Schema(_))
        ));
        let plan = plan_django(
            &set(&[
                "django_migrations",
                "django_content_type",
                "auth_group",
                "accounts_user",
            ]),
            &custom,
        )
        .unwrap();
        assert_eq!(plan.apps, vec![DjangoApp::TokenBlacklist]);
        assert!(!plan.create_migrations_table);
    }
}
