//! Conformance: Tokens.

use super::*;

pub(super) async fn family_of(db: &Db, jti: &str) -> Vec<String> {
    db.strings(&format!(
        "SELECT family_id FROM authbridge_refresh_family WHERE jti = '{jti}'"
    ))
    .await
}

pub(super) async fn outstand_blacklist_and_check(db: Db) {
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

pub(super) async fn rotate_stores_successor_and_blacklists_old(db: Db) {
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

pub(super) async fn rotate_replays_within_grace(db: Db) {
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

pub(super) async fn rotate_detects_reuse_after_grace_and_revokes_the_family(db: Db) {
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

pub(super) async fn rotate_refuses_a_logged_out_token(db: Db) {
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
pub(super) async fn rotate_does_not_replay_a_logged_out_successor(db: Db) {
    replay_after_logout_on(&db).await;
}

pub(super) async fn replay_after_logout_on(db: &Db) {
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

pub(super) async fn concurrent_rotations_rotate_once(db: Db) {
    concurrent_rotations_on(&db).await;
}

pub(super) async fn concurrent_rotations_on(db: &Db) {
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

pub(super) async fn flush_expired_deletes_only_expired_own_rows(db: Db) {
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
