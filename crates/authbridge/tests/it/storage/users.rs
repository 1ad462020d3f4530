//! Conformance: Users.

use super::*;

/// A project with `AUTH_USER_MODEL = "accounts.User"`:
/// `class User(AbstractBaseUser, PermissionsMixin): email = EmailField(unique=True); is_staff;
/// is_active; date_joined`, `USERNAME_FIELD = "email"`, BigAutoField. Django created contenttypes,
/// auth (without auth_user, which is swapped out) and accounts; token_blacklist is not installed.
pub(super) async fn create_custom_user_project(db: &Db) {
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

pub(super) async fn custom_user_table_crud(db: Db) {
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

pub(super) async fn user_crud(db: Db) {
    user_crud_on(&db).await;
}

pub(super) async fn user_crud_on(db: &Db) {
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

pub(super) async fn datetimes_are_stored_as_django_stores_them(db: Db) {
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
