//! Django's password hashers on a bounded blocking pool: at most `workers` hashes run at once, on
//! blocking threads, so a login flood queues here instead of stalling the async workers that verify
//! tokens.

use django_hashers::{Hashers, Verdict};
use std::sync::Arc;
use tokio::sync::Semaphore;
use zeroize::Zeroizing;

#[derive(Clone)]
pub struct PasswordService {
    hashers: Arc<Hashers>,
    permits: Arc<Semaphore>,
}

#[derive(Debug, thiserror::Error)]
#[error("password hashing task failed")]
pub struct PasswordTaskError;

impl PasswordService {
    pub fn new(hashers: Hashers, workers: usize) -> Self {
        Self {
            hashers: Arc::new(hashers),
            permits: Arc::new(Semaphore::new(workers.max(1))),
        }
    }

    pub fn hashers(&self) -> &Hashers {
        &self.hashers
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&Hashers) -> T + Send + 'static,
    ) -> Result<T, PasswordTaskError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| PasswordTaskError)?;
        let hashers = self.hashers.clone();
        tokio::task::spawn_blocking(move || job(&hashers))
            .await
            .map_err(|_| PasswordTaskError)
    }

    /// Check `password` against the stored hash; `None` stored (unknown user) runs Django's dummy
    /// hash so the answer takes as long as for a real user.
    pub async fn check(
        &self,
        password: Zeroizing<String>,
        stored: Option<String>,
    ) -> Result<Verdict, PasswordTaskError> {
        self.run(move |h| match stored {
            Some(encoded) => h.check_password(&password, &encoded),
            None => {
                h.run_dummy(&password);
                Verdict {
                    valid: false,
                    must_update: false,
                }
            }
        })
        .await
    }

    /// Django's `make_password` with the preferred hasher.
    pub async fn make(&self, password: Zeroizing<String>) -> Result<String, PasswordTaskError> {
        self.run(move |h| h.make_password(&password, &mut rand::rng()))
            .await
    }
}
