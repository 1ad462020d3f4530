//! Conformance: the OpenID Connect provider's keys, clients, codes, login sessions and consents.

use super::*;
use authbridge::oidc::client::{Client, ClientAuth, RedirectUri, SecretHash};
use authbridge::oidc::code::{CodeHash, CodeRecord, NewCode};
use authbridge::oidc::keys::{KeyRecord, SigningAlg};
use authbridge::oidc::pkce::CodeChallenge;
use authbridge::oidc::Scope;
use authbridge::storage::{Consent, KeyRotation, LoginSession, SessionHash};

fn key(kid: &str, alg: SigningAlg, created: DateTime<Utc>) -> KeyRecord {
    KeyRecord {
        kid: kid.into(),
        alg,
        sealed: vec![1, 0, 255, kid.len() as u8],
        created_at: created,
        retire_at: None,
    }
}

fn uri(text: &str) -> RedirectUri {
    RedirectUri::parse(text).unwrap()
}

fn client(id: &str, secret: Option<&str>) -> Client {
    Client {
        client_id: id.into(),
        name: format!("App {id}"),
        auth: secret.map_or(ClientAuth::Public, |s| {
            ClientAuth::Secret(SecretHash::of(s))
        }),
        redirect_uris: vec![
            uri("https://app.test/cb"),
            uri("http://127.0.0.1:3000/cb?x=1"),
        ],
        post_logout_redirect_uris: vec![uri("https://app.test/")],
        first_party: secret.is_some(),
        id_token_alg: secret.map(|_| SigningAlg::EdDSA),
    }
}

fn code(text: &str, user_id: i64, now: DateTime<Utc>) -> CodeRecord {
    CodeRecord::new(
        CodeHash::of(text),
        NewCode {
            client_id: "app".into(),
            user_id,
            redirect_uri: "https://app.test/cb".into(),
            scope: Scope::parse("openid email"),
            nonce: Some("n-0S6_WzA2Mj".into()),
            code_challenge: Some(
                CodeChallenge::parse("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", Some("S256"))
                    .unwrap(),
            ),
            auth_time: now - Duration::minutes(3),
        },
        now,
        300,
    )
}

fn session(id: &str, user_id: i64, now: DateTime<Utc>, days: i64) -> LoginSession {
    LoginSession {
        hash: SessionHash::of(id),
        user_id,
        auth_time: now,
        created_at: now,
        expires_at: now + Duration::days(days),
    }
}

/// One active key per algorithm; a rotation retires and adds in one transaction, and a second
/// rotation of the same keys writes nothing; retired keys are deleted once past `retire_at`.
pub(super) async fn oidc_keys_rotate_with_one_active_key_per_algorithm(db: Db) {
    let store = db.migrated().await;
    let now = t0();
    assert!(store.list_keys().await.unwrap().is_empty());
    store
        .insert_key(&key("rs-1", SigningAlg::RS256, now))
        .await
        .unwrap();
    store
        .insert_key(&key("ed-1", SigningAlg::EdDSA, now))
        .await
        .unwrap();
    for refused in [
        key("rs-2", SigningAlg::RS256, now),
        key("rs-1", SigningAlg::ES256, now),
    ] {
        assert!(matches!(
            store.insert_key(&refused).await,
            Err(StorageError::Conflict(_))
        ));
    }
    let listed = store.list_keys().await.unwrap();
    assert_eq!(listed.len(), 2);
    let rs1 = listed.iter().find(|k| k.kid == "rs-1").unwrap();
    assert_eq!(rs1, &key("rs-1", SigningAlg::RS256, now));

    let later = now + Duration::hours(1);
    let rotation = KeyRotation {
        retire: vec![("rs-1".into(), later + Duration::days(7))],
        add: vec![key("rs-2", SigningAlg::RS256, later)],
    };
    store.rotate_keys(&rotation).await.unwrap();
    let again = KeyRotation {
        retire: vec![("rs-1".into(), later + Duration::days(8))],
        add: vec![key("rs-3", SigningAlg::RS256, later)],
    };
    assert!(matches!(
        store.rotate_keys(&again).await,
        Err(StorageError::Conflict(_))
    ));
    let listed = store.list_keys().await.unwrap();
    let kids: Vec<&str> = listed.iter().map(|k| k.kid.as_str()).collect();
    assert_eq!(
        kids,
        ["ed-1", "rs-1", "rs-2"],
        "oldest first, nothing of the refused rotation"
    );
    assert_eq!(listed[1].retire_at, Some(later + Duration::days(7)));

    assert_eq!(store.delete_retired_keys(later).await.unwrap(), 0);
    assert_eq!(
        store
            .delete_retired_keys(later + Duration::days(7))
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.list_keys().await.unwrap().len(), 2);
}

/// Two instances generating the same missing key at once store one.
pub(super) async fn oidc_concurrent_key_generation_stores_one(db: Db) {
    let store = db.migrated().await.clone();
    let tasks = (0..8).map(|i| {
        let store = store.clone();
        tokio::spawn(async move {
            let rotation = KeyRotation {
                retire: vec![],
                add: vec![key(&format!("k{i}"), SigningAlg::RS256, t0())],
            };
            store.rotate_keys(&rotation).await.is_ok()
        })
    });
    let won = futures_util::future::join_all(tasks)
        .await
        .into_iter()
        .filter(|r| *r.as_ref().unwrap())
        .count();
    assert_eq!(won, 1);
    assert_eq!(store.list_keys().await.unwrap().len(), 1);
}

pub(super) async fn oidc_clients_are_stored_with_their_secret_hashed(db: Db) {
    let store = db.migrated().await;
    let now = t0();
    let confidential = client("web", Some("a-long-random-secret-0123456789abcdef"));
    let public = client("spa", None);
    store.insert_client(&confidential, now).await.unwrap();
    store.insert_client(&public, now).await.unwrap();
    assert!(matches!(
        store.insert_client(&client("web", None), now).await,
        Err(StorageError::Conflict(_))
    ));
    assert_eq!(
        store.client("web").await.unwrap(),
        Some(confidential.clone())
    );
    assert_eq!(store.client("spa").await.unwrap(), Some(public.clone()));
    assert_eq!(store.client("nope").await.unwrap(), None);
    assert_eq!(store.list_clients().await.unwrap(), [public, confidential]);
    assert_eq!(
        db.strings("SELECT secret_hash FROM authbridge_oidc_client WHERE client_id = 'web'")
            .await,
        [SecretHash::of("a-long-random-secret-0123456789abcdef").to_hex()],
        "only the SHA-256 of the secret is stored"
    );
    assert!(store.delete_client("web").await.unwrap());
    assert!(!store.delete_client("web").await.unwrap());
    assert_eq!(store.list_clients().await.unwrap().len(), 1);
}

pub(super) async fn oidc_codes_redeem_once_and_remember_their_refresh_token(db: Db) {
    let store = db.migrated().await;
    let now = t0();
    let record = code("the-code", 7, now);
    store.insert_code(&record).await.unwrap();
    assert!(matches!(
        store.insert_code(&record).await,
        Err(StorageError::Conflict(_))
    ));
    assert_eq!(
        store.redeem_code(CodeHash::of("other"), now).await.unwrap(),
        None
    );

    let first = store
        .redeem_code(record.hash, now + Duration::seconds(5))
        .await
        .unwrap()
        .unwrap();
    assert!(!first.already_used());
    assert_eq!(first.record, record);
    assert_eq!(first.refresh_jti, None);
    store
        .set_code_refresh_jti(record.hash, "jti-1")
        .await
        .unwrap();

    let second = store
        .redeem_code(record.hash, now + Duration::seconds(9))
        .await
        .unwrap()
        .unwrap();
    assert!(second.already_used());
    assert_eq!(second.record.used_at, Some(now + Duration::seconds(5)));
    assert_eq!(second.refresh_jti.as_deref(), Some("jti-1"));

    let fresh = code("fresh", 7, now + Duration::seconds(200));
    store.insert_code(&fresh).await.unwrap();
    assert_eq!(
        store
            .delete_expired_codes(now + Duration::seconds(299))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .delete_expired_codes(now + Duration::seconds(301))
            .await
            .unwrap(),
        1
    );
    assert!(store.redeem_code(fresh.hash, now).await.unwrap().is_some());
}

/// Of concurrent redemptions of one code, exactly one finds it unused.
pub(super) async fn oidc_concurrent_redeems_of_one_code_have_one_winner(db: Db) {
    let store = db.migrated().await.clone();
    let record = code("raced", 7, t0());
    store.insert_code(&record).await.unwrap();
    let tasks = (0..16).map(|_| {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .redeem_code(record.hash, t0() + Duration::seconds(1))
                .await
                .unwrap()
                .unwrap()
                .already_used()
        })
    });
    let winners = futures_util::future::join_all(tasks)
        .await
        .into_iter()
        .filter(|used| !used.as_ref().unwrap())
        .count();
    assert_eq!(winners, 1);
}

pub(super) async fn oidc_login_sessions_expire_and_are_revoked(db: Db) {
    let store = db.migrated().await;
    let now = t0();
    let ann = store
        .create_user(&new_user("ann", "ann@example.com"), now)
        .await
        .unwrap();
    let bob = store.create_user(&new_user("bob", ""), now).await.unwrap();
    let a1 = session("ann-1", ann.id, now, 14);
    store.create_login_session(&a1).await.unwrap();
    store
        .create_login_session(&session("ann-2", ann.id, now, 14))
        .await
        .unwrap();
    store
        .create_login_session(&session("ann-old", ann.id, now, 1))
        .await
        .unwrap();
    store
        .create_login_session(&session("bob-1", bob.id, now, 14))
        .await
        .unwrap();
    assert!(matches!(
        store.create_login_session(&a1).await,
        Err(StorageError::Conflict(_))
    ));

    let (found, user) = store
        .login_session(SessionHash::of("ann-1"), now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, a1);
    assert_eq!(user.username, "ann");
    assert!(store
        .login_session(SessionHash::of("nope"), now)
        .await
        .unwrap()
        .is_none());

    // Expired: not returned, then swept.
    let two_days = now + Duration::days(2);
    assert!(store
        .login_session(SessionHash::of("ann-old"), now)
        .await
        .unwrap()
        .is_some());
    assert!(store
        .login_session(SessionHash::of("ann-old"), two_days)
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        store.delete_expired_login_sessions(two_days).await.unwrap(),
        1
    );

    // One, then all of a user's; the other user keeps theirs.
    assert!(store
        .revoke_login_session(SessionHash::of("ann-1"))
        .await
        .unwrap());
    assert!(!store
        .revoke_login_session(SessionHash::of("ann-1"))
        .await
        .unwrap());
    assert!(store
        .login_session(SessionHash::of("ann-1"), now)
        .await
        .unwrap()
        .is_none());
    assert!(store
        .login_session(SessionHash::of("ann-2"), now)
        .await
        .unwrap()
        .is_some());
    assert_eq!(store.revoke_user_login_sessions(ann.id).await.unwrap(), 1);
    assert!(store
        .login_session(SessionHash::of("ann-2"), now)
        .await
        .unwrap()
        .is_none());
    assert!(store
        .login_session(SessionHash::of("bob-1"), now)
        .await
        .unwrap()
        .is_some());

    // Logout everywhere through the token API ends the sessions created before it.
    store
        .revoke_user(bob.id, now + Duration::seconds(1))
        .await
        .unwrap();
    assert!(store
        .login_session(SessionHash::of("bob-1"), now)
        .await
        .unwrap()
        .is_none());
    let after = session("bob-2", bob.id, now + Duration::seconds(2), 14);
    store.create_login_session(&after).await.unwrap();
    assert!(store
        .login_session(after.hash, now)
        .await
        .unwrap()
        .is_some());

    // A user Django deleted has no session.
    store
        .create_login_session(&session("gone", 999, now, 14))
        .await
        .unwrap();
    assert!(store
        .login_session(SessionHash::of("gone"), now)
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        db.count("SELECT COUNT(*) FROM authbridge_login_session WHERE id_hash = 'ann-2'")
            .await,
        0,
        "only hashes are stored"
    );
}

pub(super) async fn oidc_consents_are_upserted(db: Db) {
    let store = db.migrated().await;
    assert_eq!(store.consent(7, "app").await.unwrap(), None);
    let first = Consent {
        user_id: 7,
        client_id: "app".into(),
        scope: Scope::parse("openid"),
        created_at: t0(),
    };
    store.upsert_consent(&first).await.unwrap();
    assert_eq!(store.consent(7, "app").await.unwrap(), Some(first.clone()));
    assert_eq!(store.consent(8, "app").await.unwrap(), None);
    assert_eq!(store.consent(7, "other").await.unwrap(), None);
    let wider = Consent {
        scope: Scope::parse("openid email profile"),
        created_at: t0() + Duration::days(1),
        ..first
    };
    store.upsert_consent(&wider).await.unwrap();
    assert_eq!(store.consent(7, "app").await.unwrap(), Some(wider));
    assert_eq!(
        db.count("SELECT COUNT(*) FROM authbridge_oidc_consent")
            .await,
        1
    );
}
