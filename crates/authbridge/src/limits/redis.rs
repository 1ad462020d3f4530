//! Attempt counters in Redis (`REDIS_URL`), shared by every instance. Each operation is one Lua
//! script, which Redis runs atomically. Times come from authbridge's clock (not Redis's), so the
//! rule is the same on every backend; Redis only expires a key once its period is over.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use redis::aio::MultiplexedConnection;
use redis::Script;
use tokio::sync::Mutex;

use crate::storage::{AttemptCount, AttemptRule, LoginAttemptRepository, Result, StorageError};

/// KEYS[1]: the counter (a hash: `n` attempts, `r` reset time in ms). ARGV: now, period, limit (ms,
/// ms, count). Returns {attempts, reset_at}.
const COUNT: &str = r"
local now = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local v = redis.call('HMGET', KEYS[1], 'n', 'r')
local n = tonumber(v[1])
local r = tonumber(v[2])
if n == nil or r == nil or r <= now then
  n = 1
  r = now + period
else
  n = n + 1
  if n == limit then r = now + period end
end
redis.call('HSET', KEYS[1], 'n', n, 'r', r)
redis.call('PEXPIRE', KEYS[1], math.max(r - now, 1) + 1000)
return {n, r}
";

const UNCOUNT: &str = r"
local n = tonumber(redis.call('HGET', KEYS[1], 'n'))
if n ~= nil and n > 0 then redis.call('HSET', KEYS[1], 'n', n - 1) end
return 0
";

pub struct RedisAttempts {
    client: redis::Client,
    /// Reconnected on the next call after an error.
    conn: Mutex<Option<MultiplexedConnection>>,
    prefix: String,
    count: Script,
    uncount: Script,
}

fn redis_err(e: redis::RedisError) -> StorageError {
    StorageError::Task(format!("redis: {e}"))
}

impl RedisAttempts {
    /// Connects once now, so that a wrong `REDIS_URL` fails at startup.
    pub async fn connect(url: &str) -> Result<Self> {
        let client = redis::Client::open(url).map_err(|e| StorageError::Config(e.to_string()))?;
        let conn = client
            .get_multiplexed_async_connection()
            .await
            .map_err(redis_err)?;
        Ok(Self {
            client,
            conn: Mutex::new(Some(conn)),
            prefix: "authbridge:login:".into(),
            count: Script::new(COUNT),
            uncount: Script::new(UNCOUNT),
        })
    }

    async fn conn(&self) -> Result<MultiplexedConnection> {
        let mut slot = self.conn.lock().await;
        if let Some(conn) = slot.as_ref() {
            return Ok(conn.clone());
        }
        let conn = self
            .client
            .get_multiplexed_async_connection()
            .await
            .map_err(redis_err)?;
        *slot = Some(conn.clone());
        Ok(conn)
    }

    async fn failed(&self, e: redis::RedisError) -> StorageError {
        *self.conn.lock().await = None;
        redis_err(e)
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }
}

#[async_trait]
impl LoginAttemptRepository for RedisAttempts {
    async fn count_attempt(
        &self,
        key: &str,
        rule: AttemptRule,
        now: DateTime<Utc>,
    ) -> Result<AttemptCount> {
        let mut conn = self.conn().await?;
        let result: redis::RedisResult<(i64, i64)> = self
            .count
            .key(self.key(key))
            .arg(now.timestamp_millis())
            .arg(rule.period.num_milliseconds())
            .arg(rule.limit)
            .invoke_async(&mut conn)
            .await;
        let (attempts, reset_ms) = match result {
            Ok(v) => v,
            Err(e) => return Err(self.failed(e).await),
        };
        Ok(AttemptCount {
            attempts,
            reset_at: DateTime::from_timestamp_millis(reset_ms)
                .ok_or_else(|| StorageError::Task(format!("redis: bad reset time {reset_ms}")))?,
        })
    }

    async fn uncount_attempt(&self, key: &str) -> Result<()> {
        let mut conn = self.conn().await?;
        let result: redis::RedisResult<i64> = self
            .uncount
            .key(self.key(key))
            .invoke_async(&mut conn)
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => Err(self.failed(e).await),
        }
    }

    async fn clear_attempts(&self, key: &str) -> Result<()> {
        let mut conn = self.conn().await?;
        let result: redis::RedisResult<i64> = redis::cmd("DEL")
            .arg(self.key(key))
            .query_async(&mut conn)
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => Err(self.failed(e).await),
        }
    }

    /// Redis expires keys itself.
    async fn purge_attempts(&self, _now: DateTime<Utc>) -> Result<u64> {
        Ok(0)
    }
}
