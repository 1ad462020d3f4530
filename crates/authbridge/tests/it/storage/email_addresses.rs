//! Conformance: allauth's `account_emailaddress` (`EmailAddressRepository`).

use super::*;
use authbridge::storage::{SignupOutcome, VerifyOutcome};

/// `sqlite_master` of allauth's tables after Django's `migrate` (django-allauth 65.21.1).
const SQLITE_ACCOUNT: &str = include_str!("../fixtures/ddl/sqlite/account.sql");
/// pg_dump of the same tables, for reading; `PG_ACCOUNT_CATALOG` is what the test compares.
#[allow(dead_code)]
const PG_ACCOUNT: &str = include_str!("../fixtures/ddl/postgres/account.sql");
/// Constraints, index definitions and columns of those tables on PostgreSQL, from Django's
/// `migrate` (the queries are below).
const PG_ACCOUNT_CATALOG: &str = include_str!("../fixtures/ddl/postgres/account_catalog.txt");

const ACCOUNT_MIGRATIONS: [&str; 9] = [
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

async fn account_catalog(db: &Db) -> Vec<String> {
    let mut all = db
        .strings(
            "SELECT t.relname || ' ' || c.conname || ' ' || c.contype::text || ' ' || \
             c.condeferrable::text || c.condeferred::text FROM pg_constraint c JOIN pg_class t \
             ON t.oid = c.conrelid WHERE t.relnamespace = current_schema()::regnamespace AND \
             t.relname LIKE 'account_email%' ORDER BY 1",
        )
        .await;
    all.extend(
        db.strings(
            "SELECT replace(indexdef, current_schema() || '.', '') FROM pg_indexes WHERE \
             schemaname = current_schema() AND tablename LIKE 'account_email%' ORDER BY indexname",
        )
        .await,
    );
    all.extend(
        db.strings(
            "SELECT table_name || ' ' || string_agg(column_name || ' ' || data_type || ' ' || \
             is_nullable, ', ' ORDER BY ordinal_position) FROM information_schema.columns WHERE \
             table_schema = current_schema() AND table_name LIKE 'account_email%' GROUP BY \
             table_name ORDER BY 1",
        )
        .await,
    );
    all
}

async fn migrated_with_allauth(db: &Db) -> &Arc<dyn Store> {
    let store = db.migrated().await;
    assert!(store.migrate_email_addresses().await.unwrap());
    store
}

pub(super) async fn email_address_tables_are_allauths(db: Db) {
    let before = {
        db.store.migrate().await.unwrap();
        db.django_schema().await
    };
    let store = migrated_with_allauth(&db).await;
    if db.is_pg() {
        let expected: Vec<String> = PG_ACCOUNT_CATALOG.lines().map(String::from).collect();
        assert_eq!(account_catalog(&db).await, expected);
    } else {
        let actual: BTreeSet<String> = db
            .strings(
                "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND tbl_name LIKE \
                 'account_email%'",
            )
            .await
            .into_iter()
            .collect();
        let expected: BTreeSet<String> = SQLITE_ACCOUNT
            .lines()
            .filter(|l| !l.starts_with("--"))
            .map(|s| s.trim_end_matches(';').to_string())
            .collect();
        assert_eq!(actual, expected);
    }
    let rows = db
        .strings("SELECT name FROM django_migrations WHERE app = 'account' ORDER BY id")
        .await;
    assert_eq!(rows, ACCOUNT_MIGRATIONS);
    // Once only; Django's other tables untouched.
    assert!(!store.migrate_email_addresses().await.unwrap());
    assert!(!db
        .open(UserTable::default())
        .await
        .migrate_email_addresses()
        .await
        .unwrap());
    let after: Vec<String> = db
        .django_schema()
        .await
        .into_iter()
        .filter(|l| {
            !l.contains("account_email")
                && !l.contains("unique_verified_email")
                && !l.contains("unique_primary_email")
        })
        .collect();
    assert_eq!(after, before);
    assert_eq!(
        db.count("SELECT COUNT(*) FROM django_migrations").await,
        26 + 9
    );
}

pub(super) async fn email_address_tables_follow_a_custom_user_table(db: Db) {
    create_custom_user_project(&db).await;
    let store = db.open(custom_users()).await;
    store.migrate().await.unwrap();
    assert!(store.migrate_email_addresses().await.unwrap());
    if db.is_pg() {
        let fk = db
            .strings(
                "SELECT conname::text FROM pg_constraint WHERE contype = 'f' AND \
                 conrelid = 'account_emailaddress'::regclass",
            )
            .await;
        assert_eq!(
            fk,
            ["account_emailaddress_user_id_2c513194_fk_accounts_user_id"]
        );
        let types = db
            .strings(
                "SELECT data_type::text FROM information_schema.columns WHERE \
                 table_name = 'account_emailaddress' AND column_name = 'user_id'",
            )
            .await;
        assert_eq!(types, ["bigint"]);
    } else {
        let sql = db
            .strings("SELECT sql FROM sqlite_master WHERE name = 'account_emailaddress'")
            .await;
        assert!(
            sql[0].contains("REFERENCES \"accounts_user\" (\"id\")"),
            "{}",
            sql[0]
        );
    }
    let outcome = store
        .create_user_with_email(
            &new_user("", "Zed@example.com"),
            Some("zed@example.com"),
            t0(),
        )
        .await
        .unwrap();
    let SignupOutcome::Created { user, address } = outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(address.unwrap().user_id, user.id);
}

pub(super) async fn signup_writes_the_user_and_its_address_in_one_transaction(db: Db) {
    let store = migrated_with_allauth(&db).await;
    let SignupOutcome::Created { user, address } = store
        .create_user_with_email(
            &new_user("Amy", "amy@example.com"),
            Some("amy@example.com"),
            t0(),
        )
        .await
        .unwrap()
    else {
        panic!("not created");
    };
    let address = address.unwrap();
    assert_eq!((user.username.as_str(), address.user_id), ("Amy", user.id));
    assert_eq!(
        (address.email.as_str(), address.verified, address.primary),
        ("amy@example.com", false, true)
    );
    assert_eq!(
        store.email_address_by_id(address.id).await.unwrap(),
        Some(address.clone())
    );
    assert_eq!(
        store
            .create_user_with_email(
                &new_user("AMY", "other@example.com"),
                Some("other@example.com"),
                t0()
            )
            .await
            .unwrap(),
        SignupOutcome::UsernameTaken
    );
    // Unverified: a second user may take the address, but gets no row for it
    // (setup_user_email skips an address some row holds); verified, nobody may.
    let SignupOutcome::Created {
        user: second,
        address: None,
    } = store
        .create_user_with_email(
            &new_user("amy2", "amy@example.com"),
            Some("amy@example.com"),
            t0(),
        )
        .await
        .unwrap()
    else {
        panic!("not created, or a row written");
    };
    assert!(store
        .email_addresses_of(second.id)
        .await
        .unwrap()
        .is_empty());
    // allauth syncs one at the confirmation (verified 0, primary 0).
    assert!(store
        .ensure_email_address(second.id, "amy@example.com")
        .await
        .unwrap());
    // No address at all: the user alone.
    let SignupOutcome::Created {
        user: plain,
        address: None,
    } = store
        .create_user_with_email(&new_user("amy4", "amy@exa"), None, t0())
        .await
        .unwrap()
    else {
        panic!("not created, or a row written");
    };
    assert!(store.email_addresses_of(plain.id).await.unwrap().is_empty());
    assert!(matches!(
        store.verify_email_address(address.id).await.unwrap(),
        VerifyOutcome::Verified {
            made_primary: false,
            ..
        }
    ));
    assert!(store
        .verified_email_exists("AMY@Example.com")
        .await
        .unwrap());
    assert!(!store.verified_email_exists("amy@example").await.unwrap());
    assert!(!store
        .verified_email_exists("am_@example.com")
        .await
        .unwrap());
    assert_eq!(
        store
            .create_user_with_email(
                &new_user("amy3", "amy@example.com"),
                Some("amy@example.com"),
                t0()
            )
            .await
            .unwrap(),
        SignupOutcome::EmailRegistered
    );
    assert_eq!(db.user_count().await, 3);
    assert_eq!(
        db.count("SELECT COUNT(*) FROM account_emailaddress").await,
        2
    );
    // The second row cannot be verified while the first is (ACCOUNT_UNIQUE_EMAIL).
    let second_row = store.email_addresses_of(second.id).await.unwrap();
    assert_eq!(
        store.verify_email_address(second_row[0].id).await.unwrap(),
        VerifyOutcome::Conflict
    );
    assert!(!store.email_addresses_of(second.id).await.unwrap()[0].verified);
}

pub(super) async fn concurrent_signups_of_one_name_create_one_user(db: Db) {
    let store = migrated_with_allauth(&db).await.clone();
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = store.clone();
        let name = if i % 2 == 0 { "Bea" } else { "bea" };
        tasks.push(tokio::spawn(async move {
            store
                .create_user_with_email(
                    &new_user(name, &format!("b{i}@example.com")),
                    Some(&format!("b{i}@example.com")),
                    t0(),
                )
                .await
                .unwrap()
        }));
    }
    let mut created = 0;
    for task in tasks {
        match task.await.unwrap() {
            SignupOutcome::Created { .. } => created += 1,
            SignupOutcome::UsernameTaken => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(created, 1);
    assert_eq!(db.user_count().await, 1);
    assert_eq!(
        db.count("SELECT COUNT(*) FROM account_emailaddress").await,
        1
    );
}

pub(super) async fn concurrent_verifications_have_one_winner(db: Db) {
    let store = migrated_with_allauth(&db).await.clone();
    let user = store
        .create_user(&new_user("cy", "Cy@Example.com"), t0())
        .await
        .unwrap();
    // A user made outside allauth: the synced row is neither verified nor primary.
    assert!(store
        .ensure_email_address(user.id, "cy@example.com")
        .await
        .unwrap());
    assert!(!store
        .ensure_email_address(user.id, "cy@example.com")
        .await
        .unwrap());
    let row = store
        .first_email_address("cy@example.com")
        .await
        .unwrap()
        .unwrap();
    assert!(!row.primary && !row.verified);
    assert_eq!(
        store.first_email_address("CY@example.com").await.unwrap(),
        None
    );
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store.verify_email_address(row.id).await.unwrap()
        }));
    }
    let mut winners = 0;
    for task in tasks {
        match task.await.unwrap() {
            VerifyOutcome::Verified {
                made_primary,
                address,
            } => {
                assert!(made_primary && address.primary && address.verified);
                winners += 1;
            }
            VerifyOutcome::NotFound => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(winners, 1);
    // set_as_primary wrote the address into the user's email.
    let stored = store.user_by_id(user.id).await.unwrap().unwrap();
    assert_eq!(stored.email.as_deref(), Some("cy@example.com"));
    assert_eq!(
        store.verify_email_address(row.id).await.unwrap(),
        VerifyOutcome::NotFound
    );
    assert_eq!(
        store.verify_email_address(9999).await.unwrap(),
        VerifyOutcome::NotFound
    );
}

pub(super) async fn user_lookups_follow_allauth(db: Db) {
    let store = migrated_with_allauth(&db).await;
    let dee = store
        .create_user(&new_user("Dee", "dee@example.com"), t0())
        .await
        .unwrap();
    let dan = store
        .create_user(&new_user("dan", "DEE@example.com"), t0())
        .await
        .unwrap();
    let don = store
        .create_user(&new_user("don", "other@example.com"), t0())
        .await
        .unwrap();
    // No rows: users whose email column is exactly the lower-cased address.
    let ids =
        |users: Vec<authbridge::model::User>| users.into_iter().map(|u| u.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store
            .users_by_email_address("dee@example.com", true)
            .await
            .unwrap()),
        [dee.id]
    );
    // Rows join in; once a verified row exists, only its users count.
    store
        .ensure_email_address(don.id, "dee@example.com")
        .await
        .unwrap();
    assert_eq!(
        ids(store
            .users_by_email_address("dee@example.com", true)
            .await
            .unwrap()),
        [dee.id, don.id]
    );
    let row = store
        .first_email_address("dee@example.com")
        .await
        .unwrap()
        .unwrap();
    store.verify_email_address(row.id).await.unwrap();
    assert_eq!(
        ids(store
            .users_by_email_address("dee@example.com", true)
            .await
            .unwrap()),
        [don.id]
    );
    // Without prefer_verified (dj-rest-auth's password reset): every row's user and the users
    // whose email column is exactly it.
    assert_eq!(
        ids(store
            .users_by_email_address("dee@example.com", false)
            .await
            .unwrap()),
        [dee.id, don.id]
    );
    assert_eq!(
        ids(store.users_by_username_iexact("DEE").await.unwrap()),
        [dee.id]
    );
    assert_eq!(
        ids(store.users_by_username_iexact("d_e").await.unwrap()),
        Vec::<i64>::new()
    );
    // Names: only what is given; a taken username is a conflict.
    let renamed = store
        .update_user_names(dan.id, Some("dana"), Some("Dana"), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            renamed.username.as_str(),
            renamed.first_name.as_deref(),
            renamed.last_name.as_deref()
        ),
        ("dana", Some("Dana"), Some(""))
    );
    assert!(matches!(
        store
            .update_user_names(dan.id, Some("Dee"), None, None)
            .await,
        Err(StorageError::Conflict(_))
    ));
    assert_eq!(
        store
            .update_user_names(9999, None, Some("x"), None)
            .await
            .unwrap(),
        None
    );
    // A reset's password write wins once.
    assert!(store
        .replace_password(dee.id, &dee.password, "pbkdf2_sha256$1$a$b")
        .await
        .unwrap());
    assert!(!store
        .replace_password(dee.id, &dee.password, "pbkdf2_sha256$1$c$d")
        .await
        .unwrap());
    let stored = store.user_by_id(dee.id).await.unwrap().unwrap();
    assert_eq!(stored.password, "pbkdf2_sha256$1$a$b");
}
