//! Django's password hashers on a bounded blocking pool: at most `workers` hashes run at once, on
//! blocking threads, so a login flood queues here instead of stalling the async workers that verify
//! tokens. At most `queue` more wait for a worker; beyond that a job is refused at once
//! (`PasswordError::QueueFull`) without hashing, so a flood gets fast refusals instead of an
//! ever-growing queue of requests (and of the passwords they hold in memory).

use django_hashers::{Hashers, Verdict};
use std::sync::Arc;
use tokio::sync::Semaphore;
use zeroize::Zeroizing;

use crate::random::{DynRandom, OsRandom};

#[derive(Clone)]
pub struct PasswordService {
    hashers: Arc<Hashers>,
    /// One per worker: held while hashing.
    permits: Arc<Semaphore>,
    /// One per worker or waiting place: taken without waiting on entry, held until the job ends.
    admission: Arc<Semaphore>,
    /// Salts for new hashes.
    random: DynRandom,
}

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// Every worker is busy and the waiting queue is full: nothing was hashed.
    #[error("password queue is full")]
    QueueFull,
    #[error("password hashing task failed")]
    Task,
}

/// The former name of `PasswordError`.
pub type PasswordTaskError = PasswordError;

impl PasswordService {
    /// An unbounded queue (the CLI and tests); servers use `bounded`.
    pub fn new(hashers: Hashers, workers: usize) -> Self {
        Self::bounded(hashers, workers, Semaphore::MAX_PERMITS - workers.max(1))
    }

    /// `workers` hashes at once, `queue` more waiting.
    pub fn bounded(hashers: Hashers, workers: usize, queue: usize) -> Self {
        let workers = workers.max(1);
        let places = workers.saturating_add(queue).min(Semaphore::MAX_PERMITS);
        Self {
            hashers: Arc::new(hashers),
            permits: Arc::new(Semaphore::new(workers)),
            admission: Arc::new(Semaphore::new(places)),
            random: Arc::new(OsRandom),
        }
    }

    /// Salts drawn from `random` instead of the operating system.
    pub fn with_random(mut self, random: DynRandom) -> Self {
        self.random = random;
        self
    }

    pub fn hashers(&self) -> &Hashers {
        &self.hashers
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&Hashers) -> T + Send + 'static,
    ) -> Result<T, PasswordError> {
        let place = self
            .admission
            .clone()
            .try_acquire_owned()
            .map_err(|_| PasswordError::QueueFull)?;
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| PasswordError::Task)?;
        let hashers = self.hashers.clone();
        // The permits move into the job: a request cancelled while its hash runs (a client that
        // disconnects) keeps its worker and place until the hash is done.
        tokio::task::spawn_blocking(move || {
            let _held = (place, permit);
            job(&hashers)
        })
        .await
        .map_err(|_| PasswordError::Task)
    }

    /// Check `password` against the stored hash; `None` stored (unknown user) runs Django's dummy
    /// hash so the answer takes as long as for a real user.
    pub async fn check(
        &self,
        password: Zeroizing<String>,
        stored: Option<String>,
    ) -> Result<Verdict, PasswordError> {
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
    pub async fn make(&self, password: Zeroizing<String>) -> Result<String, PasswordError> {
        let random = self.random.clone();
        self.run(move |h| h.make_password(&password, &mut random.rng()))
            .await
    }
}
