//! Work done off the request path: the lookup and email of a reset or resend run after the answer,
//! so a known, unknown or inactive address gets the same answer after the same work (no
//! enumeration by timing). Tests queue the jobs and run them by hand.

use futures_util::future::BoxFuture;
use std::sync::{Arc, Mutex};
use tokio::sync::Semaphore;

pub trait Background: Send + Sync {
    /// Run `job` later; never waits for it.
    fn spawn(&self, job: BoxFuture<'static, ()>);
}

/// Jobs on tokio tasks, at most `limit` at once; beyond that a job is dropped with a warning
/// (the rate limits keep this rare; memory stays bounded under a flood).
pub struct TokioBackground {
    permits: Arc<Semaphore>,
}

/// Jobs running or waiting at once.
pub const DEFAULT_BACKGROUND_JOBS: usize = 1024;

impl TokioBackground {
    pub fn new(limit: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(limit.max(1))),
        }
    }
}

impl Default for TokioBackground {
    fn default() -> Self {
        Self::new(DEFAULT_BACKGROUND_JOBS)
    }
}

impl Background for TokioBackground {
    fn spawn(&self, job: BoxFuture<'static, ()>) {
        match self.permits.clone().try_acquire_owned() {
            Ok(permit) => {
                tokio::spawn(async move {
                    let _permit = permit;
                    job.await;
                });
            }
            Err(_) => tracing::warn!("account background queue full: an email job was dropped"),
        }
    }
}

/// Jobs kept until `run_all` (tests).
#[derive(Default)]
pub struct QueuedBackground {
    jobs: Mutex<Vec<BoxFuture<'static, ()>>>,
}

impl QueuedBackground {
    pub fn pending(&self) -> usize {
        self.jobs.lock().map(|j| j.len()).unwrap_or(0)
    }

    /// Run every queued job (and those they queue) to the end.
    pub async fn run_all(&self) {
        loop {
            let jobs: Vec<_> = match self.jobs.lock() {
                Ok(mut jobs) => std::mem::take(&mut *jobs),
                Err(_) => return,
            };
            if jobs.is_empty() {
                return;
            }
            for job in jobs {
                job.await;
            }
        }
    }
}

impl Background for QueuedBackground {
    fn spawn(&self, job: BoxFuture<'static, ()>) {
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.push(job);
        }
    }
}
