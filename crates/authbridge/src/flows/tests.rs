//! The flows on an in-memory SQLite store, a `MockClock` and seeded randomness: expiry, the grace
//! window and reuse detection are decided by moving the clock, never by sleeping.

use chrono::{Duration, TimeZone, Utc};
use secrecy::SecretString;
use std::net::{IpAddr, Ipv4Addr};

use super::{FlowError, Flows, Refreshed, SessionRefusal, TokenPair};
use crate::clock::{Clock, MockClock};
use crate::config::{Algorithm, SimpleJwt};
use crate::model::{ExternalAccount, NewUser, User};
use crate::random::SeededRandom;
use crate::storage::{self, DynStore, UserTable};
use crate::tokens::{Keys, TokenError, TokenRules, TokenService};

const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

struct World {
    store: DynStore,
    tokens: TokenService,
    jwt: SimpleJwt,
    clock: MockClock,
    random: SeededRandom,
}

impl World {
    /// simplejwt's settings with rotation, blacklist after rotation and a 10 s grace window.
    async fn rotating() -> Self {
        Self::new(SimpleJwt {
            rotate_refresh_tokens: true,
            blacklist_after_rotation: true,
            refresh_token_grace_period: 10,
            ..SimpleJwt::default()
        })
        .await
    }

    async fn new(jwt: SimpleJwt) -> Self {
        let store = storage::connect("sqlite://:memory:", UserTable::default())
            .await
            .expect("store");
        store.migrate().await.expect("migrate");
        let key = SecretString::from("a-test-key-of-at-least-thirty-two-bytes".to_string());
        let tokens = TokenService {
            keys: Keys::new(Algorithm::HS256, &key, None, None).expect("keys"),
            rules: TokenRules::from(&jwt),
        };
        let start = Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).single();
        Self {
            store,
            tokens,
            jwt,
            clock: MockClock::new(start.expect("a valid date")),
            random: SeededRandom::new(8),
        }
    }

    fn flows(&self) -> Flows<'_> {
        Flows {
            store: &*self.store,
            tokens: &self.tokens,
            jwt: &self.jwt,
            clock: &self.clock,
            random: &self.random,
        }
    }

    async fn user(&self, username: &str) -> User {
        let new = NewUser {
            username: username.into(),
            password: "pbkdf2_sha256$1$salt$hash".into(),
            is_active: true,
            ..NewUser::default()
        };
        self.store
            .create_user(&new, self.clock.now())
            .await
            .expect("user")
    }

    async fn pair(&self, user: &User) -> TokenPair {
        self.flows().issue_pair(user, None).await.expect("pair")
    }

    async fn refresh(&self, raw: &str) -> Result<Refreshed, FlowError> {
        self.flows().refresh(raw, CLIENT).await
    }

    fn later(&self, seconds: i64) {
        self.clock.advance(Duration::seconds(seconds));
    }
}

fn refused_as(result: Result<Refreshed, FlowError>, expected: TokenError) {
    match result {
        Err(FlowError::Token(e)) => assert_eq!(e.to_string(), expected.to_string()),
        other => panic!("expected {expected}, got {other:?}"),
    }
}

#[tokio::test]
async fn a_refresh_token_expires_with_its_lifetime() {
    let world = World::rotating().await;
    let user = world.user("ann").await;
    let pair = world.pair(&user).await;
    world.later(world.jwt.refresh_token_lifetime - 1);
    let refreshed = world.refresh(&pair.refresh).await.expect("still valid");
    assert_eq!(refreshed.user_id, Some(user.id));
    let successor = refreshed.refresh.expect("rotated");
    world.later(1);
    refused_as(world.refresh(&pair.refresh).await, TokenError::Expired);
    // Rotation slides the window: the successor lives a whole lifetime from its refresh.
    world.later(world.jwt.refresh_token_lifetime - 2);
    assert!(world.refresh(&successor).await.is_ok());
}

#[tokio::test]
async fn a_rotated_token_replays_its_successor_within_the_grace_window() {
    let world = World::rotating().await;
    let user = world.user("ann").await;
    let pair = world.pair(&user).await;
    world.later(1);
    let first = world.refresh(&pair.refresh).await.expect("rotated");
    world.later(world.jwt.refresh_token_grace_period);
    let again = world.refresh(&pair.refresh).await.expect("replayed");
    assert_eq!(again.refresh, first.refresh);
    assert_eq!(again.access, first.access);
}

#[tokio::test]
async fn reuse_after_the_grace_window_revokes_the_family() {
    let world = World::rotating().await;
    let user = world.user("ann").await;
    let pair = world.pair(&user).await;
    world.later(1);
    let first = world.refresh(&pair.refresh).await.expect("rotated");
    let successor = first.refresh.expect("successor");
    world.later(world.jwt.refresh_token_grace_period + 1);
    refused_as(world.refresh(&pair.refresh).await, TokenError::Blacklisted);
    // The thief's (or the owner's) successor dies with its family.
    refused_as(world.refresh(&successor).await, TokenError::Blacklisted);
    // Another login of the same user is untouched.
    let other = world.pair(&user).await;
    assert!(world.refresh(&other.refresh).await.is_ok());
}

#[tokio::test]
async fn a_blacklisted_token_is_refused() {
    let world = World::rotating().await;
    let user = world.user("ann").await;
    let pair = world.pair(&user).await;
    world
        .flows()
        .blacklist(&pair.refresh, CLIENT)
        .await
        .expect("blacklisted");
    refused_as(world.refresh(&pair.refresh).await, TokenError::Blacklisted);
    assert!(matches!(
        world.flows().blacklist(&pair.refresh, CLIENT).await,
        Err(FlowError::Token(TokenError::Blacklisted))
    ));
}

#[tokio::test]
async fn logout_ends_the_login_and_its_rotations() {
    let world = World::rotating().await;
    let user = world.user("ann").await;
    let pair = world.pair(&user).await;
    world.later(1);
    let successor = world.refresh(&pair.refresh).await.expect("rotated").refresh;
    let successor = successor.expect("successor");
    // Signing out with the stale (rotated) token still ends the login.
    world
        .flows()
        .logout(&pair.refresh, CLIENT)
        .await
        .expect("logout");
    refused_as(world.refresh(&successor).await, TokenError::Blacklisted);
}

#[tokio::test]
async fn logout_all_ends_every_login_but_not_later_ones() {
    let world = World::rotating().await;
    let user = world.user("ann").await;
    let (a, b) = (world.pair(&user).await, world.pair(&user).await);
    world.later(1);
    world
        .flows()
        .logout_all(&user, CLIENT)
        .await
        .expect("logout all");
    refused_as(world.refresh(&a.refresh).await, TokenError::Blacklisted);
    refused_as(world.refresh(&b.refresh).await, TokenError::Blacklisted);
    world.later(1);
    let fresh = world.pair(&user).await;
    assert!(world.refresh(&fresh.refresh).await.is_ok());
}

#[tokio::test]
async fn a_password_change_revokes_older_tokens_only() {
    let world = World::rotating().await;
    let user = world.user("ann").await;
    let old = world.pair(&user).await;
    world.later(1);
    let changed = "pbkdf2_sha256$1$salt$other".to_string();
    world
        .store
        .set_password(user.id, &changed)
        .await
        .expect("password");
    let user = User {
        password: changed,
        ..user
    };
    // Issuing a pair notices the change first: the older pair dies, the new one lives.
    let new = world.pair(&user).await;
    refused_as(world.refresh(&old.refresh).await, TokenError::Blacklisted);
    assert!(world.refresh(&new.refresh).await.is_ok());
}

#[tokio::test]
async fn a_password_change_seen_on_refresh_revokes_the_token() {
    let world = World::rotating().await;
    let user = world.user("ann").await;
    let pair = world.pair(&user).await;
    world.later(1);
    world
        .store
        .set_password(user.id, "pbkdf2_sha256$1$salt$other")
        .await
        .expect("password");
    refused_as(world.refresh(&pair.refresh).await, TokenError::Blacklisted);
}

#[tokio::test]
async fn an_inactive_users_tokens_are_refused_and_revoked() {
    let world = World::rotating().await;
    let user = world.user("ann").await;
    let pair = world.pair(&user).await;
    world
        .store
        .create_user(
            &NewUser {
                username: "inactive".into(),
                ..NewUser::default()
            },
            world.clock.now(),
        )
        .await
        .expect("user");
    let inactive = world.user_by_name("inactive").await;
    let their = world.pair(&inactive).await;
    assert!(matches!(
        world.refresh(&their.refresh).await,
        Err(FlowError::NoActiveAccount)
    ));
    // Refused again as blacklisted: revoked on sight, so a reactivation brings nothing back.
    refused_as(world.refresh(&their.refresh).await, TokenError::Blacklisted);
    assert!(world.refresh(&pair.refresh).await.is_ok());
}

impl World {
    async fn user_by_name(&self, username: &str) -> User {
        self.store
            .user_by_username(username)
            .await
            .expect("query")
            .expect("user")
    }
}

#[tokio::test]
async fn seeded_randomness_mints_the_same_pair() {
    let (one, two) = (World::rotating().await, World::rotating().await);
    let (a, b) = (one.user("ann").await, two.user("ann").await);
    assert_eq!(one.pair(&a).await.refresh, two.pair(&b).await.refresh);
}

#[tokio::test]
async fn a_sync_creates_the_user_once_and_refuses_an_unverified_email() {
    let world = World::rotating().await;
    let account = ExternalAccount {
        provider: "github".into(),
        provider_account_id: "42".into(),
        email: Some("ann@example.com".into()),
        email_verified: true,
        name: Some("Ann Lee".into()),
        image: None,
        email_linking: false,
    };
    let flows = world.flows();
    let sync = |account: ExternalAccount| async move {
        flows.sync_account(&account, "username", CLIENT).await
    };
    let first = sync(account.clone()).await.expect("created");
    assert!(first.created);
    assert_eq!(first.user.username, "ann");
    let again = sync(account.clone()).await.expect("linked");
    assert!(!again.created);
    assert_eq!(again.user.id, first.user.id);
    assert!(world.refresh(&again.pair.refresh).await.is_ok());
    let unverified = ExternalAccount {
        provider: "gitlab".into(),
        provider_account_id: "7".into(),
        email_verified: false,
        ..account
    };
    assert!(matches!(
        sync(unverified).await,
        Err(FlowError::EmailNotVerified)
    ));
}

#[tokio::test]
async fn a_session_stands_for_its_login_until_it_is_signed_out() {
    let world = World::rotating().await;
    let user = world.user("ann").await;
    let pair = world.pair(&user).await;
    let login = world
        .flows()
        .session_login(Some(&pair.refresh), CLIENT)
        .await
        .expect("live");
    assert_eq!(login.user.id, user.id);
    let refused = |r: Result<_, FlowError>| match r {
        Err(FlowError::Session(why)) => why,
        other => panic!("expected a refusal, got {other:?}"),
    };
    let flows = world.flows();
    assert_eq!(
        refused(flows.session_login(None, CLIENT).await),
        SessionRefusal::NotLinked
    );
    assert_eq!(
        refused(flows.session_login(Some("not.a.token"), CLIENT).await),
        SessionRefusal::Invalid
    );
    flows.logout(&pair.refresh, CLIENT).await.expect("logout");
    assert_eq!(
        refused(flows.session_login(Some(&pair.refresh), CLIENT).await),
        SessionRefusal::Revoked
    );
}
