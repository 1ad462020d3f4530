//! The account flows on an in-memory SQLite store, a `MockClock`, a recording mailer and queued
//! background jobs: expiry and cooldowns are decided by moving the clock, never by sleeping.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Duration, TimeZone, Utc};
use secrecy::SecretString;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use zeroize::Zeroizing;

use super::background::QueuedBackground;
use super::mail::RecordingMailer;
use super::*;
use crate::account_tokens::{confirmation_key, SecretKeys};
use crate::clock::{Clock, MockClock};
use crate::config::{Algorithm, EmailVerification, LoginMethods, LoginSettings, Rate, SimpleJwt};
use crate::flows::FlowError;
use crate::limits::MemoryAttempts;
use crate::model::{NewUser, User};
use crate::random::SeededRandom;
use crate::storage::{self, DynStore, UserTable};
use crate::tokens::{Keys, TokenError, TokenRules, TokenService};

const CLIENT: Option<IpAddr> = Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7)));
const ORIGIN: &str = "http://testserver";
const SECRET: &str = "a-test-key-of-at-least-thirty-two-bytes";
const PASSWORD: &str = "correct horse battery";

struct World {
    store: DynStore,
    tokens: TokenService,
    jwt: SimpleJwt,
    clock: MockClock,
    random: SeededRandom,
    passwords: PasswordService,
    limiter: LoginLimiter,
    mailer: Arc<RecordingMailer>,
    background: Arc<QueuedBackground>,
    services: Arc<AccountServices>,
}

fn settings(verification: EmailVerification) -> AccountSettings {
    AccountSettings {
        enabled: true,
        email_verification: verification,
        login_methods: LoginMethods {
            username: true,
            email: true,
        },
        ..AccountSettings::default()
    }
}

async fn migrated_store() -> DynStore {
    let store = storage::connect("sqlite://:memory:", UserTable::default())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    assert!(store.migrate_email_addresses().await.unwrap());
    assert!(!store.migrate_email_addresses().await.unwrap());
    store
}

impl World {
    async fn new(verification: EmailVerification) -> Self {
        Self::with(settings(verification), migrated_store().await, vec![]).await
    }

    async fn with(
        accounts: AccountSettings,
        store: DynStore,
        fallbacks: Vec<SecretString>,
    ) -> Self {
        let jwt = SimpleJwt {
            rotate_refresh_tokens: true,
            blacklist_after_rotation: true,
            ..SimpleJwt::default()
        };
        let tokens = TokenService {
            keys: Keys::new(
                Algorithm::HS256,
                &SecretString::from(SECRET.to_string()),
                None,
                None,
            )
            .unwrap(),
            rules: TokenRules::from(&jwt),
        };
        let start = Utc
            .with_ymd_and_hms(2026, 11, 30, 12, 0, 0)
            .single()
            .unwrap();
        let clock = MockClock::new(start);
        let mailer = Arc::new(RecordingMailer::default());
        let background = Arc::new(QueuedBackground::default());
        let attempts = Arc::new(MemoryAttempts::new());
        let services = Arc::new(AccountServices {
            keys: SecretKeys::new(SecretString::from(SECRET.to_string()), fallbacks),
            limits: ActionLimiter::new(attempts.clone(), &accounts),
            settings: accounts,
            mail: mailer.clone(),
            background: background.clone(),
            store: store.clone(),
            clock: Arc::new(clock.clone()),
        });
        Self {
            store,
            tokens,
            jwt,
            clock,
            random: SeededRandom::new(8),
            passwords: PasswordService::new(
                django_hashers::Hashers::django_default().with_pbkdf2_iterations(1),
                1,
            ),
            limiter: LoginLimiter::new(Some(attempts), "memory", &LoginSettings::default()),
            mailer,
            background,
            services,
        }
    }

    fn accounts(&self) -> AccountFlows<'_> {
        AccountFlows {
            flows: Flows {
                store: &*self.store,
                tokens: &self.tokens,
                jwt: &self.jwt,
                clock: &self.clock,
                random: &self.random,
            },
            passwords: &self.passwords,
            login_limiter: &self.limiter,
            services: &self.services,
        }
    }

    async fn register(&self, username: &str, email: &str) -> Result<Registered, AccountError> {
        self.accounts()
            .register(
                NewAccount {
                    username: username.into(),
                    email: email.into(),
                    password: Zeroizing::new(PASSWORD.into()),
                    is_valid_email: crate::http::api::accounts::serializers::is_valid_email,
                },
                ORIGIN,
                CLIENT,
            )
            .await
    }

    async fn login(
        &self,
        username: Option<&str>,
        email: Option<&str>,
        password: &str,
    ) -> Result<LoggedIn, AccountError> {
        self.accounts()
            .login(
                Credentials {
                    username: username.map(String::from),
                    email: email.map(String::from),
                    password: Zeroizing::new(password.into()),
                },
                CLIENT,
            )
            .await
    }

    /// A user made outside allauth (Django's admin, `createuser`): no address row.
    async fn plain_user(&self, username: &str, email: &str, active: bool) -> User {
        let password = self
            .passwords
            .make(Zeroizing::new(PASSWORD.into()))
            .await
            .unwrap();
        self.store
            .create_user(
                &NewUser {
                    username: username.into(),
                    email: email.into(),
                    password,
                    is_active: active,
                    ..NewUser::default()
                },
                self.clock.now(),
            )
            .await
            .unwrap()
    }

    fn sent(&self) -> Vec<(AccountEmail, String, AccountEmailContext)> {
        self.mailer.sent()
    }

    fn later(&self, seconds: i64) {
        self.clock.advance(Duration::seconds(seconds));
    }
}

fn registered_user(r: Registered) -> User {
    match r {
        Registered::VerificationSent { user } | Registered::LoggedIn { user, .. } => user,
    }
}

#[tokio::test]
async fn mandatory_signup_writes_allauths_rows_and_emails_a_key_that_verifies_once() {
    let world = World::new(EmailVerification::Mandatory).await;
    let user = match world.register("Alice", "Alice@Example.COM").await.unwrap() {
        Registered::VerificationSent { user } => user,
        other => panic!("{other:?}"),
    };
    assert_eq!(user.username, "Alice");
    assert_eq!(user.email.as_deref(), Some("alice@example.com"));
    assert!(user.password.starts_with("pbkdf2_sha256$"));
    assert_eq!(user.last_login, None);
    let rows = world.store.email_addresses_of(user.id).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].email.as_str(), rows[0].verified, rows[0].primary),
        ("alice@example.com", false, true)
    );
    let sent = world.sent();
    assert_eq!(sent.len(), 1);
    let (kind, to, context) = &sent[0];
    assert_eq!(*kind, AccountEmail::ConfirmationSignup);
    assert_eq!(to, "alice@example.com");
    assert_eq!(context.username.as_deref(), Some("Alice"));
    assert_eq!(context.site_name, "example.com");
    assert_eq!(
        context.key,
        confirmation_key(
            rows[0].id,
            &world.services.keys,
            world.clock.now().timestamp()
        )
    );
    assert_eq!(
        context.link,
        format!(
            "{ORIGIN}/api/auth/registration/account-confirm-email/{}/",
            context.key
        )
    );
    // Mandatory: no login before the address is confirmed, and no email for trying.
    assert!(matches!(
        world.login(Some("Alice"), None, PASSWORD).await,
        Err(AccountError::EmailNotVerified)
    ));
    assert_eq!(world.sent().len(), 1);
    world
        .accounts()
        .verify_email(&context.key, CLIENT)
        .await
        .unwrap();
    let rows = world.store.email_addresses_of(user.id).await.unwrap();
    assert!(rows[0].verified && rows[0].primary);
    assert!(matches!(
        world.accounts().verify_email(&context.key, CLIENT).await,
        Err(AccountError::NotFound)
    ));
    let logged_in = world.login(Some("Alice"), None, PASSWORD).await.unwrap();
    assert_eq!(logged_in.user.id, user.id);
    assert_eq!(logged_in.user.last_login, Some(world.clock.now()));
}

#[tokio::test]
async fn optional_signup_logs_in_and_none_sends_nothing() {
    let world = World::new(EmailVerification::Optional).await;
    let (user, tokens) = match world.register("bob", "bob@example.com").await.unwrap() {
        Registered::LoggedIn { user, tokens } => (user, tokens),
        other => panic!("{other:?}"),
    };
    assert_eq!(user.last_login, Some(world.clock.now()));
    let stored = world.store.user_by_id(user.id).await.unwrap().unwrap();
    assert_eq!(stored.last_login, Some(world.clock.now()));
    assert!(world
        .accounts()
        .flows
        .refresh(&tokens.refresh, CLIENT.unwrap())
        .await
        .is_ok());
    assert_eq!(world.sent().len(), 1);

    let world = World::new(EmailVerification::None).await;
    assert!(matches!(
        world.register("carl", "carl@example.com").await.unwrap(),
        Registered::LoggedIn { .. }
    ));
    assert!(world.sent().is_empty());
}

#[tokio::test]
async fn signup_checks_are_case_insensitive_and_count_only_verified_addresses() {
    let world = World::new(EmailVerification::Mandatory).await;
    world.register("Dora", "dora@example.com").await.unwrap();
    let checks = world
        .accounts()
        .signup_checks(Some("DORA"), Some("DORA@example.com"), CLIENT)
        .await
        .unwrap();
    assert!(checks.username_taken);
    // Unverified: allauth lets a second user sign up with the address.
    assert!(!checks.email_registered);
    assert!(matches!(
        world.register("dora", "x@example.com").await,
        Err(AccountError::UsernameTaken)
    ));
    let second = registered_user(world.register("dora2", "Dora@Example.com").await.unwrap());
    let rows = world.store.email_addresses_of(second.id).await.unwrap();
    // allauth's sync_user_email_address row: neither primary nor verified.
    assert!(!rows[0].primary && !rows[0].verified);
    // Within the cooldown the second sign-up's confirmation is skipped silently.
    assert_eq!(world.sent().len(), 1);
    world.later(180);
    world.register("dora3", "dora@example.com").await.unwrap();
    assert_eq!(world.sent().len(), 2);
    // Verified: the address is taken now, and the other rows can no longer be verified.
    let key = world.sent()[0].2.key.clone();
    world.accounts().verify_email(&key, CLIENT).await.unwrap();
    let checks = world
        .accounts()
        .signup_checks(None, Some("DORA@EXAMPLE.COM"), CLIENT)
        .await
        .unwrap();
    assert!(checks.email_registered && !checks.username_taken);
    assert!(matches!(
        world.register("dora4", "dora@example.com").await,
        Err(AccountError::EmailRegistered)
    ));
    let key = world.sent()[1].2.key.clone();
    world.accounts().verify_email(&key, CLIENT).await.unwrap();
    let rows = world.store.email_addresses_of(second.id).await.unwrap();
    assert!(!rows[0].verified, "a second verified row for one address");
}

#[tokio::test]
async fn confirmation_keys_expire_and_foreign_ones_are_not_found() {
    let world = World::new(EmailVerification::Mandatory).await;
    world.register("erin", "erin@example.com").await.unwrap();
    let key = world.sent()[0].2.key.clone();
    let verify = |k: String| {
        let world = &world;
        async move { world.accounts().verify_email(&k, CLIENT).await }
    };
    world.later(3 * 86_400 + 1);
    assert!(matches!(
        verify(key.clone()).await,
        Err(AccountError::NotFound)
    ));
    for bad in ["", "MQ", "MQ:1vPf3Q:x", &format!("{key}x")] {
        assert!(matches!(
            verify(bad.to_string()).await,
            Err(AccountError::NotFound)
        ));
    }
    // A key for a row that does not exist.
    let missing = confirmation_key(999, &world.services.keys, world.clock.now().timestamp());
    assert!(matches!(verify(missing).await, Err(AccountError::NotFound)));
    // Resend answers at once and sends a fresh key off the request path.
    world
        .accounts()
        .resend_verification("erin@example.com", ORIGIN, CLIENT)
        .await
        .unwrap();
    assert_eq!(world.sent().len(), 1);
    world.background.run_all().await;
    assert_eq!(world.sent().len(), 2);
    assert_eq!(world.sent()[1].0, AccountEmail::Confirmation);
    verify(world.sent()[1].2.key.clone()).await.unwrap();
    // Verified now: resend sends nothing; another case finds no row (allauth's exact lookup).
    for email in ["erin@example.com", "ERIN@example.com", "nobody@example.com"] {
        world
            .accounts()
            .resend_verification(email, ORIGIN, CLIENT)
            .await
            .unwrap();
    }
    world.background.run_all().await;
    assert_eq!(world.sent().len(), 2);
}

#[tokio::test]
async fn keys_signed_with_a_fallback_secret_verify() {
    let old = SecretString::from("the-previous-secret-key-0123456789".to_string());
    let world = World::with(
        settings(EmailVerification::Mandatory),
        migrated_store().await,
        vec![old.clone()],
    )
    .await;
    let user = registered_user(world.register("fay", "fay@example.com").await.unwrap());
    let row = &world.store.email_addresses_of(user.id).await.unwrap()[0];
    let old_keys = SecretKeys::new(old, Vec::new());
    let key = confirmation_key(row.id, &old_keys, world.clock.now().timestamp());
    world.accounts().verify_email(&key, CLIENT).await.unwrap();
}

async fn reset_finds_nobody(world: &World, email: &str) {
    let before = world.sent().len();
    world
        .accounts()
        .request_password_reset(email, ORIGIN, CLIENT)
        .await
        .unwrap();
    world.background.run_all().await;
    assert_eq!(world.sent().len(), before);
}

#[tokio::test]
async fn verifying_an_extra_address_makes_it_primary_when_none_is() {
    let world = World::new(EmailVerification::Mandatory).await;
    // allauth finds a user by the email column only when it equals the lower-cased address.
    let upper = world.plain_user("guy", "Guy@Example.com", true).await;
    reset_finds_nobody(&world, "guy@example.com").await;
    assert!(world
        .store
        .email_addresses_of(upper.id)
        .await
        .unwrap()
        .is_empty());
    let user = world.plain_user("gus", "gus@example.com", true).await;
    // A reset request syncs the user's email into a row (verified 0, primary 0).
    world
        .accounts()
        .request_password_reset("gus@example.com", ORIGIN, CLIENT)
        .await
        .unwrap();
    world.background.run_all().await;
    let rows = world.store.email_addresses_of(user.id).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert!(!rows[0].primary && !rows[0].verified);
    let key = confirmation_key(
        rows[0].id,
        &world.services.keys,
        world.clock.now().timestamp(),
    );
    world.accounts().verify_email(&key, CLIENT).await.unwrap();
    let rows = world.store.email_addresses_of(user.id).await.unwrap();
    assert!(rows[0].primary && rows[0].verified);
    let stored = world.store.user_by_id(user.id).await.unwrap().unwrap();
    assert_eq!(stored.email.as_deref(), Some("gus@example.com"));
}

#[tokio::test]
async fn login_follows_djangos_then_allauths_backends() {
    let world = World::new(EmailVerification::Optional).await;
    let hana = registered_user(world.register("Hana", "hana@example.com").await.unwrap());
    let login = |u: Option<&'static str>, e: Option<&'static str>, p: &'static str| {
        let world = &world;
        async move { world.login(u, e, p).await.map(|l| l.user.id) }
    };
    assert_eq!(login(Some("Hana"), None, PASSWORD).await.unwrap(), hana.id);
    assert_eq!(login(Some("hana"), None, PASSWORD).await.unwrap(), hana.id);
    assert_eq!(
        login(None, Some("HANA@example.com"), PASSWORD)
            .await
            .unwrap(),
        hana.id
    );
    assert_eq!(
        login(Some("hana@example.com"), None, PASSWORD)
            .await
            .unwrap(),
        hana.id
    );
    // email wins over username when both are given.
    assert!(matches!(
        login(Some("Hana"), Some("other@example.com"), PASSWORD).await,
        Err(AccountError::InvalidCredentials)
    ));
    for (u, e, p) in [
        (Some("Hana"), None, "wrong password"),
        (Some("nobody"), None, PASSWORD),
        (None, Some("nobody@example.com"), PASSWORD),
    ] {
        assert!(matches!(
            login(u, e, p).await,
            Err(AccountError::InvalidCredentials)
        ));
    }
    world.plain_user("ivan", "ivan@example.com", false).await;
    assert!(matches!(
        login(Some("ivan"), None, PASSWORD).await,
        Err(AccountError::InvalidCredentials)
    ));
    assert!(matches!(
        login(None, None, PASSWORD).await,
        Err(AccountError::MissingCredentials(
            MissingCredentials::UsernameOrEmail
        ))
    ));
    assert!(matches!(
        login(Some(""), Some(""), PASSWORD).await,
        Err(AccountError::MissingCredentials(
            MissingCredentials::UsernameOrEmail
        ))
    ));
    assert_eq!(
        AccountError::MissingCredentials(MissingCredentials::UsernameOrEmail).message(),
        "Must include either \"username\" or \"email\" and \"password\"."
    );
}

#[tokio::test]
async fn login_methods_decide_which_fields_count() {
    let mut accounts = settings(EmailVerification::Optional);
    accounts.login_methods = LoginMethods {
        username: false,
        email: true,
    };
    let world = World::with(accounts, migrated_store().await, vec![]).await;
    world.register("jo", "jo@example.com").await.unwrap();
    assert!(matches!(
        world.login(Some("jo"), None, PASSWORD).await,
        Err(AccountError::MissingCredentials(MissingCredentials::Email))
    ));
    assert!(world
        .login(None, Some("jo@example.com"), PASSWORD)
        .await
        .is_ok());
    let mut accounts = settings(EmailVerification::Optional);
    accounts.login_methods = LoginMethods::default();
    let world = World::with(accounts, migrated_store().await, vec![]).await;
    world.register("kim", "kim@example.com").await.unwrap();
    assert!(matches!(
        world.login(None, Some("kim@example.com"), PASSWORD).await,
        Err(AccountError::MissingCredentials(
            MissingCredentials::Username
        ))
    ));
    assert!(matches!(
        world.login(Some("kim@example.com"), None, PASSWORD).await,
        Err(AccountError::InvalidCredentials)
    ));
}

async fn reset_mail(world: &World, email: &str) -> AccountEmailContext {
    let before = world.sent().len();
    world
        .accounts()
        .request_password_reset(email, ORIGIN, CLIENT)
        .await
        .unwrap();
    world.background.run_all().await;
    let sent = world.sent();
    assert_eq!(sent.len(), before + 1);
    assert_eq!(sent[before].0, AccountEmail::PasswordReset);
    assert_eq!(sent[before].1, email.to_lowercase());
    sent[before].2.clone()
}

#[tokio::test]
async fn reset_tokens_check_uid_then_token_work_once_and_revoke_older_logins() {
    let world = World::new(EmailVerification::Optional).await;
    let (user, old_pair) = match world.register("lee", "lee@example.com").await.unwrap() {
        Registered::LoggedIn { user, tokens } => (user, tokens),
        other => panic!("{other:?}"),
    };
    let mail = reset_mail(&world, "LEE@example.com").await;
    let uid = mail.uid.clone().unwrap();
    assert_eq!(uid, crate::account_tokens::base36::encode(user.id as u128));
    assert_eq!(
        mail.link,
        format!("{ORIGIN}/password-reset/confirm/{uid}/{}/", mail.key)
    );
    assert_eq!(mail.username.as_deref(), Some("lee"));
    let accounts = world.accounts();
    for bad_uid in ["", "MQ", "zzzzzzzzzzzzzz", "-1", "999"] {
        assert!(matches!(
            accounts.check_reset(bad_uid, "bad-token").await,
            Err(AccountError::InvalidUid)
        ));
    }
    for bad_token in ["", "x", &format!("{}0", mail.key)] {
        assert!(matches!(
            accounts.check_reset(&uid, bad_token).await,
            Err(AccountError::InvalidToken)
        ));
    }
    assert_eq!(
        accounts.check_reset(&uid, &mail.key).await.unwrap().id,
        user.id
    );
    world.later(5);
    let after = accounts
        .reset_password(
            &uid,
            &mail.key,
            Zeroizing::new("a new secret phrase".into()),
            CLIENT,
        )
        .await
        .unwrap();
    assert_ne!(after.password, user.password);
    // Single use, and the login from before the reset is over (beyond simplejwt).
    assert!(matches!(
        accounts.check_reset(&uid, &mail.key).await,
        Err(AccountError::InvalidToken)
    ));
    assert!(matches!(
        accounts
            .flows
            .refresh(&old_pair.refresh, CLIENT.unwrap())
            .await,
        Err(FlowError::Token(TokenError::Blacklisted))
    ));
    assert!(world.login(Some("lee"), None, PASSWORD).await.is_err());
    let fresh = world
        .login(Some("lee"), None, "a new secret phrase")
        .await
        .unwrap();
    world.later(5);
    assert!(accounts
        .flows
        .refresh(&fresh.tokens.refresh, CLIENT.unwrap())
        .await
        .is_ok());
}

#[tokio::test]
async fn reset_tokens_die_with_a_login_and_with_time() {
    let world = World::new(EmailVerification::Optional).await;
    world.register("max", "max@example.com").await.unwrap();
    let mail = reset_mail(&world, "max@example.com").await;
    let uid = mail.uid.clone().unwrap();
    world.later(1);
    world.login(Some("max"), None, PASSWORD).await.unwrap();
    assert!(matches!(
        world.accounts().check_reset(&uid, &mail.key).await,
        Err(AccountError::InvalidToken)
    ));
    let mail = reset_mail(&world, "max@example.com").await;
    world.later(259_200);
    assert!(world.accounts().check_reset(&uid, &mail.key).await.is_ok());
    world.later(1);
    assert!(matches!(
        world.accounts().check_reset(&uid, &mail.key).await,
        Err(AccountError::InvalidToken)
    ));
}

#[tokio::test]
async fn reset_emails_each_active_user_of_the_address_and_nobody_else() {
    let world = World::new(EmailVerification::Mandatory).await;
    let a = registered_user(world.register("nia", "Nia@example.com").await.unwrap());
    world.later(200);
    let b = registered_user(world.register("nia2", "nia@example.com").await.unwrap());
    world.plain_user("olga", "olga@example.com", false).await;
    let before = world.sent().len();
    for email in ["olga@example.com", "nobody@example.com"] {
        world
            .accounts()
            .request_password_reset(email, ORIGIN, CLIENT)
            .await
            .unwrap();
    }
    world.background.run_all().await;
    assert_eq!(
        world.sent().len(),
        before,
        "inactive and unknown get nothing"
    );
    world
        .accounts()
        .request_password_reset("NIA@example.com", ORIGIN, CLIENT)
        .await
        .unwrap();
    world.background.run_all().await;
    let uids: Vec<String> = world.sent()[before..]
        .iter()
        .map(|(_, to, c)| {
            assert_eq!(to, "nia@example.com");
            c.uid.clone().unwrap()
        })
        .collect();
    let expected: Vec<String> = [a.id, b.id]
        .iter()
        .map(|id| crate::account_tokens::base36::encode(*id as u128))
        .collect();
    assert_eq!(uids, expected);
}

/// Issue 10: resend sends nothing to an inactive user's unverified address (dj-rest-auth's
/// `ResendEmailVerificationView` would: a difference on purpose), the same answer as for the
/// active user's address.
#[tokio::test]
async fn resend_sends_nothing_to_an_inactive_users_address() {
    let world = World::new(EmailVerification::Mandatory).await;
    let ivan = world.plain_user("ivan", "ivan@example.com", false).await;
    let una = world.plain_user("una", "una@example.com", true).await;
    for user in [&ivan, &una] {
        let email = user.email.clone().unwrap();
        assert!(world
            .store
            .ensure_email_address(user.id, &email)
            .await
            .unwrap());
    }
    for email in ["ivan@example.com", "una@example.com"] {
        world
            .accounts()
            .resend_verification(email, ORIGIN, CLIENT)
            .await
            .unwrap();
    }
    world.background.run_all().await;
    let to: Vec<String> = world.sent().into_iter().map(|(_, to, _)| to).collect();
    assert_eq!(to, ["una@example.com"]);
}

/// allauth's `setup_user_email` skips an address some row already holds (any user's, exact);
/// the confirmation then goes through `sync_user_email_address`: a row primary 0, verified 0.
#[tokio::test]
async fn signup_on_an_address_another_row_holds_writes_a_row_that_is_not_primary() {
    for verification in [EmailVerification::Mandatory, EmailVerification::Optional] {
        let world = World::new(verification).await;
        let first = registered_user(world.register("nia", "Nia@example.com").await.unwrap());
        world.later(200);
        let second = registered_user(world.register("nia2", "NIA@example.com").await.unwrap());
        let rows = |id| world.store.email_addresses_of(id);
        let a = rows(first.id).await.unwrap();
        let b = rows(second.id).await.unwrap();
        assert_eq!((a.len(), a[0].primary), (1, true));
        assert_eq!(
            b.iter()
                .map(|r| (r.email.as_str(), r.verified, r.primary))
                .collect::<Vec<_>>(),
            [("nia@example.com", false, false)],
            "{verification:?}"
        );
        assert_eq!(second.email.as_deref(), Some("nia@example.com"));
        // After the cooldown both got their confirmation, the second for its own row.
        let sent = world.sent();
        assert_eq!(sent.len(), 2);
        assert_eq!(sent[1].1, "nia@example.com");
        let id = crate::account_tokens::read_confirmation_key(
            &sent[1].2.key,
            &world.services.keys,
            world.services.settings.confirmation_max_age(),
            world.clock.now().timestamp() as f64,
        )
        .unwrap();
        assert_eq!(id, b[0].id);
    }
    // Verification none: no row at all for the second (setup_user_email skips it, nothing
    // syncs one).
    let world = World::new(EmailVerification::None).await;
    registered_user(world.register("nia", "nia@example.com").await.unwrap());
    let second = registered_user(world.register("nia2", "nia@example.com").await.unwrap());
    assert!(world
        .store
        .email_addresses_of(second.id)
        .await
        .unwrap()
        .is_empty());
}

/// allauth's `user_email`: lower-cased, then cut to the column's 254 characters (`user_field`);
/// the cut address is the user's email and, valid or not, its row's (`setup_user_email` when
/// valid: primary; else `sync_user_email_address`: not primary) and the confirmation's.
#[tokio::test]
async fn an_address_over_254_characters_is_cut_as_allauth_cuts_it() {
    let world = World::new(EmailVerification::Mandatory).await;
    // Cut inside the domain: "eee…@exa" is not a valid address.
    let long = format!("{}@Example.com", "E".repeat(250));
    let user = registered_user(world.register("erin", &long).await.unwrap());
    let cut = format!("{}@exa", "e".repeat(250));
    assert_eq!(user.email.as_deref(), Some(cut.as_str()));
    let stored = world.store.user_by_id(user.id).await.unwrap().unwrap();
    assert_eq!(stored.email.as_deref(), Some(cut.as_str()));
    let rows = world.store.email_addresses_of(user.id).await.unwrap();
    assert_eq!(
        rows.iter()
            .map(|r| (r.email.as_str(), r.primary))
            .collect::<Vec<_>>(),
        [(cut.as_str(), false)]
    );
    assert_eq!(world.sent().len(), 1);
    assert_eq!(world.sent()[0].1, cut);
    // Cut inside the top-level domain and still valid: a primary row.
    let long = format!("{}@example.{}", "f".repeat(240), "c".repeat(20));
    let user = registered_user(world.register("fred", &long).await.unwrap());
    let cut: String = long.chars().take(254).collect();
    let rows = world.store.email_addresses_of(user.id).await.unwrap();
    assert_eq!(
        rows.iter()
            .map(|r| (r.email.as_str(), r.primary))
            .collect::<Vec<_>>(),
        [(cut.as_str(), true)]
    );
    // Characters, not bytes: "é" is two bytes, one character.
    let long = format!("{}@{}.example.com", "g".repeat(200), "é".repeat(50));
    let user = registered_user(world.register("gus", &long).await.unwrap());
    let cut = format!("{}@{}.ex", "g".repeat(200), "é".repeat(50));
    assert_eq!(user.email.as_deref(), Some(cut.as_str()));
    let rows = world.store.email_addresses_of(user.id).await.unwrap();
    assert_eq!(
        (rows[0].email.as_str(), rows[0].primary),
        (cut.as_str(), true)
    );
}

/// The request path of reset and resend makes no database statement: the flows below run on a
/// database without tables, where any statement fails, and still answer `Ok` for every
/// address (so known, unknown and inactive addresses get the same answer after the same work).
#[tokio::test]
async fn reset_and_resend_answer_without_touching_the_database() {
    let empty = storage::connect("sqlite://:memory:", UserTable::default())
        .await
        .unwrap();
    let world = World::with(settings(EmailVerification::Mandatory), empty, vec![]).await;
    assert!(
        world.store.user_by_id(1).await.is_err(),
        "the database must refuse"
    );
    for email in [
        "known@example.com",
        "unknown@example.com",
        "inactive@example.com",
    ] {
        world
            .accounts()
            .request_password_reset(email, ORIGIN, CLIENT)
            .await
            .unwrap();
        world
            .accounts()
            .resend_verification(email, ORIGIN, CLIENT)
            .await
            .unwrap();
    }
    assert_eq!(world.background.pending(), 6);
    assert!(world.sent().is_empty());
    // The jobs meet the broken database afterwards, and only log it.
    world.background.run_all().await;
    assert!(world.sent().is_empty());
}

#[tokio::test]
async fn signup_resend_and_reset_are_rate_limited_per_address_and_per_client() {
    let mut accounts = settings(EmailVerification::Mandatory);
    accounts.signup_address_rate = Some(Rate {
        limit: 2,
        period: 60,
    });
    accounts.resend_client_rate = Some(Rate {
        limit: 3,
        period: 60,
    });
    accounts.reset_address_rate = Some(Rate {
        limit: 1,
        period: 3600,
    });
    let world = World::with(accounts, migrated_store().await, vec![]).await;
    let flows = world.accounts();
    for _ in 0..2 {
        flows
            .signup_checks(Some("p"), Some("P@example.com"), CLIENT)
            .await
            .unwrap();
    }
    assert!(matches!(
        flows
            .signup_checks(Some("p"), Some("p@EXAMPLE.com"), CLIENT)
            .await,
        Err(AccountError::Throttled { wait: 60 })
    ));
    flows
        .signup_checks(Some("p"), Some("q@example.com"), CLIENT)
        .await
        .unwrap();
    for n in 0..3 {
        flows
            .resend_verification(&format!("r{n}@example.com"), ORIGIN, CLIENT)
            .await
            .unwrap();
    }
    assert!(matches!(
        flows
            .resend_verification("r9@example.com", ORIGIN, CLIENT)
            .await,
        Err(AccountError::Throttled { .. })
    ));
    let other = Some(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1)));
    flows
        .resend_verification("r9@example.com", ORIGIN, other)
        .await
        .unwrap();
    flows
        .request_password_reset("s@example.com", ORIGIN, CLIENT)
        .await
        .unwrap();
    assert!(matches!(
        flows
            .request_password_reset("S@example.com", ORIGIN, other)
            .await,
        Err(AccountError::Throttled { .. })
    ));
    world.later(3600);
    flows
        .request_password_reset("s@example.com", ORIGIN, other)
        .await
        .unwrap();
}

#[tokio::test]
async fn password_change_refuses_the_refresh_tokens_issued_before_it() {
    let world = World::new(EmailVerification::Optional).await;
    let (user, pair) = match world.register("quinn", "quinn@example.com").await.unwrap() {
        Registered::LoggedIn { user, tokens } => (user, tokens),
        other => panic!("{other:?}"),
    };
    world.later(2);
    let flows = world.accounts();
    flows
        .change_password(&user, Zeroizing::new("another long phrase".into()), CLIENT)
        .await
        .unwrap();
    assert!(matches!(
        flows.flows.refresh(&pair.refresh, CLIENT.unwrap()).await,
        Err(FlowError::Token(TokenError::Blacklisted))
    ));
    world.later(1);
    let fresh = world
        .login(Some("quinn"), None, "another long phrase")
        .await
        .unwrap();
    world.later(1);
    assert!(flows
        .flows
        .refresh(&fresh.tokens.refresh, CLIENT.unwrap())
        .await
        .is_ok());
}

#[tokio::test]
async fn user_updates_apply_and_refuse_a_taken_username() {
    let world = World::new(EmailVerification::Optional).await;
    let rae = registered_user(world.register("rae", "rae@example.com").await.unwrap());
    world.register("sam", "sam@example.com").await.unwrap();
    let flows = world.accounts();
    assert!(flows.username_taken("RAE").await.unwrap());
    assert!(!flows.username_taken("ray").await.unwrap());
    let updated = flows
        .update_user(
            &rae,
            UserChange {
                username: Some("ray".into()),
                first_name: Some("Rae".into()),
                last_name: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (
            updated.username.as_str(),
            updated.first_name.as_deref(),
            updated.last_name.as_deref()
        ),
        ("ray", Some("Rae"), Some(""))
    );
    assert!(matches!(
        flows
            .update_user(
                &rae,
                UserChange {
                    username: Some("sam".into()),
                    ..UserChange::default()
                }
            )
            .await,
        Err(AccountError::UsernameTaken)
    ));
}

/// Through the real mail service: the sign-up's confirmation lands in the durable outbox as
/// allauth words it, with the configured link template.
#[tokio::test]
async fn signup_queues_allauths_confirmation_in_the_outbox() {
    use crate::mail::{Mail, Templates};
    let mut accounts = settings(EmailVerification::Mandatory);
    accounts.confirmation_url = Some("http://localhost:3000/verify-email/{key}".into());
    let store = migrated_store().await;
    let mut world = World::with(accounts, store.clone(), vec![]).await;
    let mail = Mail::new(
        Templates::defaults(None).unwrap(),
        "noreply@example.com",
        store.clone(),
        Arc::new(world.clock.clone()),
    )
    .unwrap();
    let services = Arc::get_mut(&mut world.services).unwrap();
    services.mail = Arc::new(mail);
    world.register("alice", "alice@example.com").await.unwrap();
    let queued = store.list_outbox(true, 10).await.unwrap();
    assert_eq!(queued.len(), 1);
    let email = &queued[0].email;
    assert_eq!(email.to, "alice@example.com");
    assert_eq!(email.from, "noreply@example.com");
    assert_eq!(
        email.subject,
        "[example.com] Please Confirm Your Email Address"
    );
    let row = &store.email_addresses_of(1).await.unwrap()[0];
    let key = confirmation_key(row.id, &world.services.keys, world.clock.now().timestamp());
    assert!(
        email.text.contains(&format!(
            "user alice has given your email address to register an account on example.com.\n\n\
             To confirm this is correct, go to http://localhost:3000/verify-email/{key}\n"
        )),
        "{}",
        email.text
    );
}
