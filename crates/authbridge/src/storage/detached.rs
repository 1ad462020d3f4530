//! Every write runs on a task of its own, so that a request cancelled mid-call (a client that
//! disconnects, a timeout) cannot abandon a transaction half-way: sqlx hands a connection whose
//! `BEGIN` ran but whose `Transaction` was never built back to the pool with the transaction open,
//! which leaves SQLite locked. Reads pass straight through.
//!
//! One generic way does it for every method: the arguments are kept (owned copies moved into the
//! task, [`Keep`]) and lent back to the store's method inside it ([`Lend`]). A new repository
//! method is one line in the lists below.

use super::{
    AccountRepository, AttemptCount, AttemptRule, AuthCodeRepository, BlacklistOutcome, Client,
    CodeHash, CodeRecord, Consent, ConsentRepository, DynStore, EmailAddress,
    EmailAddressRepository, ExternalAccount, FamilyState, Inspection, KeyRecord, KeyRotation,
    LoginAttemptRepository, LoginSession, LoginSessionRepository, MigrationReport, NewUser,
    OidcClientRepository, OidcKeyRepository, OutboxEntry, OutboxRepository, OutstandingToken,
    PasswordCheck, RedeemedCode, Result, RotateOutcome, Rotation, SessionHash, SignupOutcome,
    StorageError, Store, SyncOutcome, TokenRepository, User, UserRepository, VerifyOutcome,
};
use crate::mail::OutgoingEmail;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

pub(super) struct Detached(pub(super) DynStore);

/// Runs `job` on a task of its own and waits for it; dropping the caller does not cancel it.
pub(super) async fn detached<T: Send + 'static>(
    job: impl std::future::Future<Output = Result<T>> + Send + 'static,
) -> Result<T> {
    tokio::spawn(job)
        .await
        .map_err(|e| StorageError::Task(e.to_string()))?
}

/// An argument turned into a value the detached task owns.
trait Keep {
    type Kept: Send + Sync + 'static;
    fn keep(self) -> Self::Kept;
}

impl Keep for &str {
    type Kept = String;
    fn keep(self) -> String {
        self.to_string()
    }
}

impl Keep for Option<&str> {
    type Kept = Option<String>;
    fn keep(self) -> Option<String> {
        self.map(str::to_string)
    }
}

macro_rules! keep_cloned {
    ($($t:ty),*) => {$(
        impl Keep for &$t {
            type Kept = $t;
            fn keep(self) -> $t {
                self.clone()
            }
        }
    )*};
}
keep_cloned!(
    NewUser,
    OutstandingToken,
    Rotation,
    ExternalAccount,
    KeyRecord,
    KeyRotation,
    Client,
    CodeRecord,
    LoginSession,
    Consent,
    OutgoingEmail
);

macro_rules! keep_copied {
    ($($t:ty),*) => {$(
        impl Keep for $t {
            type Kept = $t;
            fn keep(self) -> $t {
                self
            }
        }
    )*};
}
keep_copied!(
    i64,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    AttemptRule,
    CodeHash,
    SessionHash
);

/// A kept value lent back as the argument type `P` the store's method takes.
trait Lend<'a, P> {
    fn lend(&'a self) -> P;
}

impl<'a> Lend<'a, &'a str> for String {
    fn lend(&'a self) -> &'a str {
        self
    }
}

impl<'a> Lend<'a, Option<&'a str>> for Option<String> {
    fn lend(&'a self) -> Option<&'a str> {
        self.as_deref()
    }
}

impl<'a, T> Lend<'a, &'a T> for T {
    fn lend(&'a self) -> &'a T {
        self
    }
}

impl<T: Copy> Lend<'_, T> for T {
    fn lend(&self) -> T {
        *self
    }
}

/// `impl $trait for Detached`: `read` methods call the store directly, `write` methods run
/// detached.
macro_rules! forward {
    ($trait:ident {
        read { $(fn $r:ident($($ra:ident: $rt:ty),*) -> $rr:ty;)* }
        write { $(fn $w:ident($($wa:ident: $wt:ty),*) -> $wr:ty;)* }
    }) => {
        #[async_trait]
        impl $trait for Detached {
            $(async fn $r(&self, $($ra: $rt),*) -> Result<$rr> {
                self.0.$r($($ra),*).await
            })*
            $(async fn $w(&self, $($wa: $wt),*) -> Result<$wr> {
                let store = self.0.clone();
                $(let $wa = Keep::keep($wa);)*
                detached(async move { store.$w($(Lend::lend(&$wa)),*).await }).await
            })*
        }
    };
}

forward!(UserRepository {
    read {
        fn user_by_username(username: &str) -> Option<User>;
        fn user_by_id(id: i64) -> Option<User>;
        fn users_by_email(email: &str) -> Vec<User>;
    }
    write {
        fn create_user(user: &NewUser, now: DateTime<Utc>) -> User;
        fn set_password(id: i64, encoded: &str) -> ();
        fn set_last_login(id: i64, at: DateTime<Utc>) -> ();
    }
});

forward!(EmailAddressRepository {
    read {
        fn verified_email_exists(email: &str) -> bool;
        fn email_address_by_id(id: i64) -> Option<EmailAddress>;
        fn first_email_address(email: &str) -> Option<EmailAddress>;
        fn email_addresses_of(user_id: i64) -> Vec<EmailAddress>;
        fn users_by_email_address(email: &str, prefer_verified: bool) -> Vec<User>;
        fn users_by_username_iexact(username: &str) -> Vec<User>;
    }
    write {
        fn migrate_email_addresses() -> bool;
        fn create_user_with_email(user: &NewUser, email: Option<&str>, now: DateTime<Utc>) -> SignupOutcome;
        fn verify_email_address(id: i64) -> VerifyOutcome;
        fn ensure_email_address(user_id: i64, email: &str) -> bool;
        fn update_user_names(
            id: i64,
            username: Option<&str>,
            first_name: Option<&str>,
            last_name: Option<&str>
        ) -> Option<User>;
        fn replace_password(id: i64, old: &str, new: &str) -> bool;
    }
});

forward!(TokenRepository {
    read {
        fn is_blacklisted(jti: &str) -> bool;
        fn family_state(jti: &str, now: DateTime<Utc>) -> FamilyState;
    }
    write {
        fn outstand(token: &OutstandingToken, family: Option<&str>) -> ();
        fn blacklist(token: &OutstandingToken, at: DateTime<Utc>) -> BlacklistOutcome;
        fn rotate(rotation: &Rotation) -> RotateOutcome;
        fn flush_expired(now: DateTime<Utc>) -> u64;
        fn revoke_family(token: &OutstandingToken, now: DateTime<Utc>) -> u64;
        fn revoke_user(user_id: i64, now: DateTime<Utc>) -> u64;
        fn check_password(user_id: i64, fingerprint: &str, now: DateTime<Utc>) -> PasswordCheck;
        fn upgrade_password(id: i64, old: &str, new: &str) -> ();
    }
});

forward!(AccountRepository {
    read {
        fn linked_user(provider: &str, provider_account_id: &str) -> Option<User>;
    }
    write {
        fn sync_account(account: &ExternalAccount, new_user: &NewUser, now: DateTime<Utc>)
            -> SyncOutcome;
    }
});

forward!(LoginAttemptRepository {
    read {}
    write {
        fn count_attempt(key: &str, rule: AttemptRule, now: DateTime<Utc>) -> AttemptCount;
        fn uncount_attempt(key: &str) -> ();
        fn clear_attempts(key: &str) -> ();
        fn purge_attempts(now: DateTime<Utc>) -> u64;
    }
});

forward!(OidcKeyRepository {
    read {
        fn list_keys() -> Vec<KeyRecord>;
    }
    write {
        fn insert_key(key: &KeyRecord) -> ();
        fn rotate_keys(rotation: &KeyRotation) -> ();
        fn delete_retired_keys(now: DateTime<Utc>) -> u64;
    }
});

forward!(OidcClientRepository {
    read {
        fn client(client_id: &str) -> Option<Client>;
        fn list_clients() -> Vec<Client>;
    }
    write {
        fn insert_client(client: &Client, now: DateTime<Utc>) -> ();
        fn delete_client(client_id: &str) -> bool;
    }
});

forward!(AuthCodeRepository {
    read {}
    write {
        fn insert_code(code: &CodeRecord) -> ();
        fn redeem_code(hash: CodeHash, now: DateTime<Utc>) -> Option<RedeemedCode>;
        fn set_code_refresh_jti(hash: CodeHash, jti: &str) -> ();
        fn delete_expired_codes(now: DateTime<Utc>) -> u64;
    }
});

forward!(LoginSessionRepository {
    read {
        fn login_session(hash: SessionHash, now: DateTime<Utc>) -> Option<(LoginSession, User)>;
    }
    write {
        fn create_login_session(session: &LoginSession) -> ();
        fn revoke_login_session(hash: SessionHash) -> bool;
        fn revoke_user_login_sessions(user_id: i64) -> u64;
        fn delete_expired_login_sessions(now: DateTime<Utc>) -> u64;
    }
});

forward!(ConsentRepository {
    read {
        fn consent(user_id: i64, client_id: &str) -> Option<Consent>;
    }
    write {
        fn upsert_consent(consent: &Consent) -> ();
    }
});

forward!(OutboxRepository {
    read {
        fn list_outbox(all: bool, limit: i64) -> Vec<OutboxEntry>;
    }
    write {
        fn enqueue_email(email: &OutgoingEmail, now: DateTime<Utc>) -> i64;
        fn claim_due_emails(
            now: DateTime<Utc>,
            lease_until: DateTime<Utc>,
            limit: i64,
            worker: &str
        ) -> Vec<OutboxEntry>;
        fn mark_email_sent(id: i64, now: DateTime<Utc>) -> bool;
        fn mark_email_failed(id: i64, retry_at: Option<DateTime<Utc>>, error: &str) -> bool;
        fn retry_email(id: i64, now: DateTime<Utc>) -> bool;
        fn prune_sent_emails(before: DateTime<Utc>) -> u64;
    }
});

#[async_trait]
impl Store for Detached {
    async fn migrate(&self) -> Result<MigrationReport> {
        let store = self.0.clone();
        detached(async move { store.migrate().await }).await
    }
    async fn ping(&self) -> Result<()> {
        self.0.ping().await
    }
    async fn inspect(&self) -> Result<Inspection> {
        self.0.inspect().await
    }
    fn backend(&self) -> &'static str {
        self.0.backend()
    }
}
