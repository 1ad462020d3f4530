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
