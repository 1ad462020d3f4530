//! The account flows' services (`AccountServices`), built once at start when
//! `AUTHBRIDGE_ACCOUNTS` is on: the secret keys, the rate limits on the login limiter's store, the
//! mailer and the background runner.

use secrecy::SecretString;
use std::sync::Arc;

use crate::account_tokens::SecretKeys;
use crate::clock::DynClock;
use crate::config::Settings;
use crate::flows::account::mail::{AccountEmail, AccountEmailContext, AccountMailer, MailError};
use crate::flows::account::{AccountServices, TokioBackground};
use crate::limits::{ActionLimiter, LoginLimiter, MemoryAttempts};
use crate::storage::DynStore;

/// `None` unless `AUTHBRIDGE_ACCOUNTS`.
pub fn account_services(
    settings: &Settings,
    store: &DynStore,
    clock: &DynClock,
    limiter: &LoginLimiter,
    mail: Option<Arc<dyn AccountMailer>>,
) -> Option<Arc<AccountServices>> {
    let accounts = &settings.accounts;
    if !accounts.enabled {
        return None;
    }
    let secret = settings
        .secret_key
        .clone()
        .unwrap_or_else(|| SecretString::from(String::new()));
    // The same counters as the login throttle; with throttling off, process memory.
    let backend = limiter
        .backend()
        .cloned()
        .unwrap_or_else(|| Arc::new(MemoryAttempts::new()));
    Some(Arc::new(AccountServices {
        settings: accounts.clone(),
        keys: SecretKeys::new(secret, accounts.secret_key_fallbacks.clone()),
        limits: ActionLimiter::new(backend, accounts),
        mail: mail.unwrap_or_else(|| Arc::new(UnconfiguredMailer)),
        background: Arc::new(TokioBackground::default()),
        store: store.clone(),
        clock: clock.clone(),
    }))
}

/// Until the mail service is wired: says what it would send, never the link (it holds a key).
struct UnconfiguredMailer;

#[async_trait::async_trait]
impl AccountMailer for UnconfiguredMailer {
    async fn send(
        &self,
        email: AccountEmail,
        _to: &str,
        _context: &AccountEmailContext,
    ) -> Result<(), MailError> {
        tracing::warn!(?email, "no mail service configured: account email not sent");
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;

    fn load(pairs: &[(&str, String)]) -> Settings {
        Settings::load(None, pairs.iter().map(|(k, v)| (k.to_string(), v.clone()))).unwrap()
    }

    /// `AUTHBRIDGE_ACCOUNTS` creates allauth's tables at start and builds the services; off, the
    /// database keeps only Django's and authbridge's own tables.
    #[tokio::test]
    async fn the_switch_creates_allauths_tables_and_the_services() {
        let dir = tempfile::tempdir().unwrap();
        for on in [false, true] {
            let url = format!("sqlite:///{}/db{on}.sqlite3", dir.path().display());
            let mut pairs = vec![("DATABASE_URL", url)];
            if on {
                pairs.push(("AUTHBRIDGE_ACCOUNTS", "true".into()));
            }
            let settings = load(&pairs);
            let store = crate::app::open_store(&settings).await.unwrap();
            let tables = store.inspect().await.unwrap().tables;
            assert_eq!(tables.iter().any(|t| t == "account_emailaddress"), on);
            let limiter = LoginLimiter::new(None, "off", &settings.login);
            let clock: DynClock = Arc::new(SystemClock);
            assert_eq!(
                account_services(&settings, &store, &clock, &limiter, None).is_some(),
                on
            );
        }
    }
}
