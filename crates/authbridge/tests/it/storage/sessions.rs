//! Conformance: Sessions and revocation.

use super::*;

pub(super) fn live(family: &str) -> FamilyState {
    FamilyState::Live {
        family: family.into(),
    }
}

pub(super) async fn family_state_follows_the_login(db: Db) {
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

pub(super) async fn revoke_family_ends_the_whole_login(db: Db) {
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

pub(super) async fn revoke_user_blacklists_only_that_users_live_tokens(db: Db) {
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

pub(super) async fn check_password_records_then_revokes_on_a_change(db: Db) {
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

pub(super) async fn upgrade_password_is_not_a_password_change(db: Db) {
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

pub(super) async fn sync_refusals_write_nothing(db: Db) {
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
pub(super) async fn revocation_racing_rotation_leaves_no_live_successor(db: Db) {
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
