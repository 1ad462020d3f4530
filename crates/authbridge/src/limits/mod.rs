//! Failed-login throttling and lockout. Every login attempt is counted *before* its password is
//! checked, in one atomic operation per key (`LoginAttemptRepository::count_attempt`); the
//! attempt whose count passes a limit is refused without hashing. Because the count and the
//! decision come from the same atomic step, concurrent attempts cannot all slip under the limit:
//! with a limit of N, exactly N attempts are judged and every later one is refused.
//!
//! Keys (SHA-256 digests, so no username is stored):
//! - (username, client address): `AUTHBRIDGE_LOGIN_FAILURES` per `AUTHBRIDGE_LOGIN_LOCKOUT`, the
//!   lockout. A successful login clears it.
//! - client address: `AUTHBRIDGE_LOGIN_ADDRESS_FAILURES` per `..._ADDRESS_PERIOD`, against one
//!   address guessing across many usernames. A successful login only takes its own attempt back.
//! - username: `AUTHBRIDGE_LOGIN_USERNAME_FAILURES` (off by default: anyone could lock anyone
//!   out; see docs/security.md).
//!
//! An unknown client address (no `ClientIp`, e.g. a request built in-process) has no address
//! scope, and its (username, address) key becomes a per-username key.

mod actions;
mod memory;
mod redis;

pub use self::actions::{AccountAction, ActionLimiter};
pub use self::memory::MemoryAttempts;
pub use self::redis::RedisAttempts;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::config::{LoginSettings, Settings, ThrottleBackend};
use crate::storage::{AttemptRule, DynStore, LoginAttemptRepository, StorageError};

/// What a key counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    UsernameAddress,
    Address,
    Username,
}

impl Scope {
    fn tag(self) -> &'static str {
        match self {
            Self::UsernameAddress => "ua",
            Self::Address => "a",
            Self::Username => "u",
        }
    }

    /// A refusal that concerns one account (a lockout) rather than one address (throttling).
    pub fn is_lockout(self) -> bool {
        self != Self::Address
    }
}

/// The counter key of a scope: a digest, so the table holds no usernames (users type passwords
/// into the username field) and its keys have a fixed length.
pub fn key(scope: Scope, username: &str, client: Option<IpAddr>) -> String {
    let mut h = Sha256::new();
    h.update(scope.tag().as_bytes());
    h.update([0]);
    if scope != Scope::Address {
        h.update(username.as_bytes());
    }
    h.update([0]);
    if let Some(ip) = client {
        if scope != Scope::Username {
            h.update(ip.to_string().as_bytes());
        }
    }
    hex::encode(h.finalize())
}

/// The attempts an admitted login counted, to settle once it is judged.
#[derive(Debug, Default)]
pub struct Admission {
    keys: Vec<(Scope, String)>,
}

#[derive(Debug)]
pub enum Decision {
    Admitted(Admission),
    /// Refused without checking the password: retry in `wait` seconds (at least 1).
    Refused {
        scope: Scope,
        wait: i64,
    },
}

pub struct LoginLimiter {
    /// `None`: throttling is off.
    backend: Option<Arc<dyn LoginAttemptRepository>>,
    backend_name: &'static str,
    rules: Vec<(Scope, AttemptRule)>,
    admitted: AtomicU64,
}

/// Expired counters are purged from the database every this many attempts.
const PURGE_EVERY: u64 = 1024;

impl LoginLimiter {
    pub fn new(
        backend: Option<Arc<dyn LoginAttemptRepository>>,
        backend_name: &'static str,
        login: &LoginSettings,
    ) -> Self {
        let rule = |limit: i64, period: i64| AttemptRule {
            limit,
            period: chrono::Duration::seconds(period),
        };
        let rules = [
            (Scope::UsernameAddress, rule(login.failures, login.lockout)),
            (
                Scope::Address,
                rule(login.address_failures, login.address_period),
            ),
            (
                Scope::Username,
                rule(login.username_failures, login.username_period),
            ),
        ]
        .into_iter()
        .filter(|(_, r)| r.limit > 0)
        .collect::<Vec<_>>();
        let backend = if rules.is_empty() { None } else { backend };
        Self {
            backend_name: if backend.is_some() {
                backend_name
            } else {
                "off"
            },
            backend,
            rules,
            admitted: AtomicU64::new(0),
        }
    }

    /// The backend named by the settings (`auto`: Redis when `REDIS_URL` is set, the database on
    /// PostgreSQL, process memory on SQLite).
    pub async fn from_settings(
        settings: &Settings,
        store: &DynStore,
    ) -> Result<Self, StorageError> {
        let login = &settings.login;
        let choice = match login.backend {
            ThrottleBackend::Auto if login.redis_url.is_some() => ThrottleBackend::Redis,
            ThrottleBackend::Auto if store.backend() == "sqlite" => ThrottleBackend::Memory,
            ThrottleBackend::Auto => ThrottleBackend::Database,
            other => other,
        };
        let (backend, name): (Option<Arc<dyn LoginAttemptRepository>>, _) = match choice {
            ThrottleBackend::Off => (None, "off"),
            ThrottleBackend::Memory | ThrottleBackend::Auto => {
                (Some(Arc::new(MemoryAttempts::new())), "memory")
            }
            ThrottleBackend::Database => (Some(store.clone()), "database"),
            ThrottleBackend::Redis => {
                let url = login.redis_url.as_deref().ok_or_else(|| {
                    StorageError::Config("AUTHBRIDGE_LOGIN_THROTTLE=redis needs REDIS_URL".into())
                })?;
                (Some(Arc::new(RedisAttempts::connect(url).await?)), "redis")
            }
        };
        Ok(Self::new(backend, name, login))
    }

    /// The counters (`None` when throttling is off).
    pub fn backend(&self) -> Option<&Arc<dyn LoginAttemptRepository>> {
        self.backend.as_ref()
    }

    /// `memory`, `database`, `redis` or `off`.
    pub fn backend_name(&self) -> &'static str {
        self.backend_name
    }

    /// Count this attempt under every scope and decide. `client` is `None` when unknown.
    pub async fn admit(
        &self,
        username: &str,
        client: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> Result<Decision, StorageError> {
        let Some(backend) = &self.backend else {
            return Ok(Decision::Admitted(Admission::default()));
        };
        if self.admitted.fetch_add(1, Ordering::Relaxed) % PURGE_EVERY == PURGE_EVERY - 1 {
            let backend = backend.clone();
            tokio::spawn(async move {
                if let Err(e) = backend.purge_attempts(now).await {
                    tracing::warn!("purging expired login counters failed: {e}");
                }
            });
        }
        let mut admission = Admission::default();
        let mut refusal: Option<(Scope, i64)> = None;
        for &(scope, rule) in &self.rules {
            if scope == Scope::Address && client.is_none() {
                continue;
            }
            let key = key(scope, username, client);
            let count = backend.count_attempt(&key, rule, now).await?;
            admission.keys.push((scope, key));
            if count.attempts > rule.limit {
                let ms = (count.reset_at - now).num_milliseconds().max(0);
                let wait = ((ms + 999) / 1000).max(1);
                let worse = match refusal {
                    None => true,
                    Some((s, w)) => (scope.is_lockout() && !s.is_lockout()) || wait > w,
                };
                if worse {
                    refusal = Some((scope, wait));
                }
            }
        }
        Ok(match refusal {
            Some((scope, wait)) => Decision::Refused { scope, wait },
            None => Decision::Admitted(admission),
        })
    }

    /// The password was right: clear the account's counters, take back the address's attempt.
    pub async fn succeeded(&self, admission: Admission) -> Result<(), StorageError> {
        let Some(backend) = &self.backend else {
            return Ok(());
        };
        for (scope, key) in admission.keys {
            match scope {
                Scope::Address => backend.uncount_attempt(&key).await?,
                Scope::UsernameAddress | Scope::Username => backend.clear_attempts(&key).await?,
            }
        }
        Ok(())
    }

    /// The attempt was never judged (the password queue was full, an error): take it back.
    pub async fn abandoned(&self, admission: Admission) -> Result<(), StorageError> {
        let Some(backend) = &self.backend else {
            return Ok(());
        };
        for (_, key) in admission.keys {
            backend.uncount_attempt(&key).await?;
        }
        Ok(())
    }
}

/// DRF's `Throttled(wait)` detail: "Request was throttled. Expected available in N second(s)."
pub fn throttled_detail(wait: i64) -> String {
    let unit = if wait == 1 { "second" } else { "seconds" };
    format!("Request was throttled. Expected available in {wait} {unit}.")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn drf_wording() {
        assert_eq!(
            throttled_detail(1),
            "Request was throttled. Expected available in 1 second."
        );
        assert_eq!(
            throttled_detail(900),
            "Request was throttled. Expected available in 900 seconds."
        );
    }

    #[test]
    fn keys_differ_by_scope_and_hide_the_username() {
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let a = key(Scope::UsernameAddress, "alice", Some(ip));
        assert_ne!(a, key(Scope::Username, "alice", Some(ip)));
        assert_ne!(a, key(Scope::UsernameAddress, "alice", None));
        assert_eq!(
            key(Scope::Address, "alice", Some(ip)),
            key(Scope::Address, "bob", Some(ip))
        );
        assert!(!a.contains("alice"));
        assert_eq!(a.len(), 64);
    }
}
