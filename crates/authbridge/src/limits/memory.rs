//! Attempt counters in process memory, for a single instance. One mutex makes each operation
//! atomic; expired counters are dropped when the map grows.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Mutex;

use crate::storage::{AttemptCount, AttemptRule, LoginAttemptRepository, Result};

#[derive(Default)]
pub struct MemoryAttempts {
    inner: Mutex<Counters>,
}

#[derive(Default)]
struct Counters {
    map: HashMap<String, AttemptCount>,
    /// Size at which expired counters are next dropped.
    prune_at: usize,
}

const MIN_PRUNE_AT: usize = 1024;

impl MemoryAttempts {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counters> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl LoginAttemptRepository for MemoryAttempts {
    async fn count_attempt(
        &self,
        key: &str,
        rule: AttemptRule,
        now: DateTime<Utc>,
    ) -> Result<AttemptCount> {
        let mut counters = self.lock();
        if counters.map.len() >= counters.prune_at.max(MIN_PRUNE_AT) {
            counters.map.retain(|_, c| c.reset_at > now);
            counters.prune_at = counters.map.len().saturating_mul(2);
        }
        let fresh = AttemptCount {
            attempts: 0,
            reset_at: now + rule.period,
        };
        let count = counters.map.entry(key.to_string()).or_insert(fresh);
        if count.reset_at <= now {
            *count = fresh;
        }
        count.attempts += 1;
        if count.attempts == rule.limit {
            count.reset_at = now + rule.period;
        }
        Ok(*count)
    }

    async fn uncount_attempt(&self, key: &str) -> Result<()> {
        if let Some(count) = self.lock().map.get_mut(key) {
            count.attempts = (count.attempts - 1).max(0);
        }
        Ok(())
    }

    async fn clear_attempts(&self, key: &str) -> Result<()> {
        self.lock().map.remove(key);
        Ok(())
    }

    async fn purge_attempts(&self, now: DateTime<Utc>) -> Result<u64> {
        let mut counters = self.lock();
        let before = counters.map.len();
        counters.map.retain(|_, c| c.reset_at > now);
        Ok((before - counters.map.len()) as u64)
    }
}
