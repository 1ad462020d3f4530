//! Conformance: Accounts.

use super::*;

pub(super) async fn sync_account_links_and_creates(db: Db) {
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

pub(super) async fn sync_account_numbers_usernames_within_150_chars(db: Db) {
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

pub(super) async fn concurrent_syncs_create_one_user(db: Db) {
    concurrent_syncs_on(&db).await;
}

pub(super) async fn concurrent_syncs_on(db: &Db) {
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
