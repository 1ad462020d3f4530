#![allow(clippy::unwrap_used)]

use super::*;
use crate::clock::{Clock, MockClock};
use crate::config::Settings;
use crate::oidc::client::RedirectUri;
use crate::random::SeededRandom;
use crate::storage::sqlite::SqliteStore;
use crate::storage::{Store, UserTable};

const EDDSA_ONLY: &str =
    "[oidc]\nSIGNING_ALGORITHMS = [\"EdDSA\"]\nID_TOKEN_SIGNING_ALG = \"EdDSA\"\n";
const SECRET: &[u8] = b"a django secret key for the OIDC runtime tests";

async fn store() -> DynStore {
    let store = SqliteStore::open(std::path::Path::new(":memory:"), UserTable::default())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    Arc::new(store)
}

fn t0() -> DateTime<Utc> {
    "2026-11-30T05:00:00Z".parse().unwrap()
}

fn settings(toml: &str) -> OidcSettings {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("authbridge.toml");
    std::fs::write(&path, toml).unwrap();
    Settings::load(Some(&path), std::iter::empty())
        .unwrap()
        .oidc
}

async fn start(oidc: &OidcSettings, store: &DynStore, clock: &MockClock) -> Arc<OidcRuntime> {
    OidcRuntime::start(
        oidc,
        Some("https://auth.test"),
        SECRET,
        &test_tokens(),
        store.clone(),
        Arc::new(clock.clone()),
        Arc::new(SeededRandom::new(5)),
    )
    .await
    .unwrap()
}

fn test_tokens() -> crate::tokens::TokenService {
    let key = secrecy::SecretString::from("a-test-key-of-at-least-thirty-two-bytes".to_string());
    crate::tokens::TokenService {
        keys: crate::tokens::Keys::new(crate::config::Algorithm::HS256, &key, None, None)
            .expect("keys"),
        rules: crate::tokens::TokenRules::from(&crate::config::SimpleJwt::default()),
    }
}

fn kids(set: &KeySet, now: DateTime<Utc>) -> Vec<String> {
    set.published(now).map(|k| k.kid().to_string()).collect()
}

#[tokio::test]
async fn a_first_start_generates_the_keys_and_the_next_reuses_them() {
    let store = store().await;
    let clock = MockClock::new(t0());
    let oidc = settings("[oidc]\nSIGNING_ALGORITHMS = [\"RS256\", \"EdDSA\"]\n");
    let first = start(&oidc, &store, &clock).await;
    let keys = first.keys();
    assert_eq!(kids(&keys, t0()).len(), 2);
    for alg in [SigningAlg::RS256, SigningAlg::EdDSA] {
        assert!(keys.signer(alg, t0()).is_some());
    }
    assert_eq!(first.issuer(), "https://auth.test");
    let second = start(&oidc, &store, &clock).await;
    let mut a = kids(&keys, t0());
    let mut b = kids(&second.keys(), t0());
    a.sort();
    b.sort();
    assert_eq!(a, b, "another instance uses the stored keys");
    assert_eq!(store.list_keys().await.unwrap().len(), 2);
    // The private halves are stored sealed.
    for record in store.list_keys().await.unwrap() {
        let key = keys.by_kid(&record.kid, t0()).unwrap();
        assert!(!record
            .sealed
            .windows(32)
            .any(|w| key.pkcs8().windows(32).any(|p| p == w)));
    }
}

#[tokio::test]
async fn a_rotation_reaches_a_running_instance_at_its_next_reload() {
    let store = store().await;
    let clock = MockClock::new(t0());
    let oidc = settings(EDDSA_ONLY);
    let runtime = start(&oidc, &store, &clock).await;
    let before = runtime.keys();
    let old = before
        .signer(SigningAlg::EdDSA, t0())
        .unwrap()
        .kid()
        .to_string();

    clock.advance(Duration::hours(1));
    let now = clock.now();
    let sealer = KeySealer::new(SECRET).unwrap();
    let random: DynRandom = Arc::new(SeededRandom::new(6));
    let rotation = rotate_keys(
        &store,
        &sealer,
        &random,
        &[SigningAlg::EdDSA],
        now,
        Duration::days(7),
    )
    .await
    .unwrap();
    assert_eq!(rotation.retire, [(old.clone(), now + Duration::days(7))]);
    let new = rotation.add[0].kid.clone();

    // The snapshot taken before stays as it was; a reload publishes the new key, which signs
    // only once every instance has had time to publish it too.
    assert_eq!(
        runtime.keys().signer(SigningAlg::EdDSA, now).unwrap().kid(),
        old
    );
    runtime.reload_keys().await.unwrap();
    let published = runtime.keys();
    assert!(
        published.by_kid(&new, now).is_some(),
        "the new key is published"
    );
    assert_eq!(published.signer(SigningAlg::EdDSA, now).unwrap().kid(), old);
    clock.advance(PUBLISH_BEFORE_SIGNING);
    let now = clock.now();
    runtime.reload_keys().await.unwrap();
    let after = runtime.keys();
    assert_eq!(after.signer(SigningAlg::EdDSA, now).unwrap().kid(), new);
    assert!(
        after.by_kid(&old, now).is_some(),
        "the old key stays published"
    );
    assert_eq!(before.signer(SigningAlg::EdDSA, now).unwrap().kid(), old);

    // After the overlap the old key is gone from the set, and the next rotation deletes it.
    clock.advance(Duration::days(8));
    runtime.reload_keys().await.unwrap();
    assert_eq!(kids(&runtime.keys(), clock.now()), [new]);
    rotate_keys(
        &store,
        &sealer,
        &random,
        &[SigningAlg::EdDSA],
        clock.now(),
        Duration::days(7),
    )
    .await
    .unwrap();
    assert!(store
        .list_keys()
        .await
        .unwrap()
        .iter()
        .all(|k| k.kid != old));
}

#[tokio::test]
async fn config_clients_win_over_stored_ones() {
    let store = store().await;
    let clock = MockClock::new(t0());
    let oidc = settings(
        "[oidc]\nSIGNING_ALGORITHMS = [\"EdDSA\"]\nID_TOKEN_SIGNING_ALG = \"EdDSA\"\n\
         [[oidc.clients]]\nclient_id = \"shared\"\nclient_name = \"From the file\"\n\
         public = true\nredirect_uris = [\"https://file.test/cb\"]\n",
    );
    let stored = |id: &str, name: &str| Client {
        client_id: id.into(),
        name: name.into(),
        auth: crate::oidc::client::ClientAuth::Public,
        redirect_uris: vec![RedirectUri::parse("https://db.test/cb").unwrap()],
        post_logout_redirect_uris: vec![],
        first_party: false,
        id_token_alg: None,
    };
    store
        .insert_client(&stored("shared", "From the database"), t0())
        .await
        .unwrap();
    store
        .insert_client(&stored("db-only", "Database"), t0())
        .await
        .unwrap();
    let runtime = start(&oidc, &store, &clock).await;
    let shared = runtime.client("shared").await.unwrap().unwrap();
    assert_eq!(shared.name, "From the file");
    let db_only = runtime.client("db-only").await.unwrap().unwrap();
    assert_eq!(db_only.name, "Database");
    assert!(runtime.client("unknown").await.unwrap().is_none());
    assert_eq!(runtime.id_token_alg(&db_only), SigningAlg::EdDSA);
    let mut picky = db_only;
    picky.id_token_alg = Some(SigningAlg::RS256);
    assert_eq!(runtime.id_token_alg(&picky), SigningAlg::RS256);
}

#[tokio::test]
async fn the_reload_task_ends_with_the_runtime() {
    let store = store().await;
    let clock = MockClock::new(t0());
    let oidc = settings(EDDSA_ONLY);
    let runtime = start(&oidc, &store, &clock).await;
    let weak = Arc::downgrade(&runtime);
    drop(runtime);
    assert!(
        weak.upgrade().is_none(),
        "the task holds no strong reference"
    );
}
