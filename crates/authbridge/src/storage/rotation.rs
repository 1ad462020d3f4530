//! Refresh rotation, written once for every backend: what a presented refresh token's history
//! decides (replay within the grace window, reuse detection, blacklisted), and the order of the
//! writes. What differs per backend is small and lives in its [`RotationSteps`]: the family lock
//! (PostgreSQL's advisory lock; SQLite's write lock is already held), how a datetime is encoded,
//! and how the statements reach the database (sqlx, or the rusqlite writer thread).
//!
//! The statements both SQL dialects agree on are here too, written with `$N` placeholders, which
//! sqlx runs on SQLite and PostgreSQL alike and rusqlite binds in order (each `$N` first appears
//! in increasing order).

use super::{Result, RotateOutcome, Rotation, StorageError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// What a previous rotation of the presented token recorded.
#[derive(Debug, Clone)]
pub(crate) struct Previous {
    pub family: String,
    pub refresh: String,
    pub access: String,
    pub rotated_at: DateTime<Utc>,
    /// The successor was logged out since.
    pub successor_blacklisted: bool,
}

/// The statements one rotation needs, on one transaction of one backend.
#[async_trait]
pub(crate) trait RotationSteps: Send {
    /// The family `jti` was issued in (`None`: authbridge never saw it).
    async fn family_of(&mut self, jti: &str) -> Result<Option<String>>;
    /// One rotation or revocation per family at a time (a no-op where the transaction already
    /// holds the database's write lock). Statements after it see what the previous holder wrote.
    async fn lock_family(&mut self, family: &str) -> Result<()>;
    /// The previous rotation of `jti`, if any, and whether `jti` is blacklisted.
    async fn facts(&mut self, jti: &str) -> Result<(Option<Previous>, bool)>;
    /// Insert the rotation row (its primary key claims `old`); `false` when another rotation of
    /// `old` committed first.
    async fn claim(&mut self, rotation: &Rotation, family: &str) -> Result<bool>;
    async fn add_to_family(
        &mut self,
        jti: &str,
        family: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<()>;
    /// simplejwt's get-or-create of the outstanding row; its id.
    async fn ensure_outstanding(&mut self, token: &super::OutstandingToken) -> Result<i64>;
    async fn blacklist_id(&mut self, token_id: i64, at: DateTime<Utc>) -> Result<()>;
    /// Reuse: blacklist every token of `family` (creating the outstanding rows of successors
    /// Django never saw, from the rotation rows that issued them).
    async fn revoke_family(&mut self, family: &str, rotation: &Rotation) -> Result<()>;
}

/// What the history of `old` decides, before anything is written.
enum Decision {
    /// Answer without writing.
    Answer(RotateOutcome),
    /// Rotated more than `grace` ago: reuse, revoke the family.
    Revoke(String),
    /// Never rotated, not blacklisted: rotate.
    Rotate,
}

fn decide(previous: Option<Previous>, blacklisted: bool, rotation: &Rotation) -> Decision {
    if let Some(previous) = previous {
        if rotation.now.signed_duration_since(previous.rotated_at) <= rotation.grace {
            // A successor already logged out stays logged out: no replay of it.
            if previous.successor_blacklisted {
                return Decision::Answer(RotateOutcome::Blacklisted);
            }
            return Decision::Answer(RotateOutcome::Replayed {
                refresh: previous.refresh,
                access: previous.access,
            });
        }
        return Decision::Revoke(previous.family);
    }
    if blacklisted {
        return Decision::Answer(RotateOutcome::Blacklisted);
    }
    Decision::Rotate
}

/// The rotation, on a transaction the caller opened. The caller commits when the outcome
/// [`writes`] and rolls back otherwise.
pub(crate) async fn rotate<S: RotationSteps + ?Sized>(
    steps: &mut S,
    rotation: &Rotation,
) -> Result<RotateOutcome> {
    let (old, new) = (&rotation.old, &rotation.new);
    let family = steps
        .family_of(&old.jti)
        .await?
        .unwrap_or_else(|| old.jti.clone());
    // A successor issued while reuse revokes the family would otherwise escape the revocation.
    steps.lock_family(&family).await?;
    let (previous, blacklisted) = steps.facts(&old.jti).await?;
    let mut decision = decide(previous, blacklisted, rotation);
    if matches!(decision, Decision::Rotate) && !steps.claim(rotation, &family).await? {
        // Another rotation of `old` committed while this one waited on its row.
        let (previous, blacklisted) = steps.facts(&old.jti).await?;
        if previous.is_none() {
            return Err(StorageError::Task(
                "rotation row vanished after a conflict".into(),
            ));
        }
        decision = decide(previous, blacklisted, rotation);
    }
    match decision {
        Decision::Answer(outcome) => Ok(outcome),
        Decision::Revoke(family) => {
            steps.revoke_family(&family, rotation).await?;
            Ok(RotateOutcome::ReuseDetected)
        }
        Decision::Rotate => {
            steps
                .add_to_family(&old.jti, &family, old.expires_at)
                .await?;
            if rotation.blacklist_old {
                let id = steps.ensure_outstanding(old).await?;
                steps.blacklist_id(id, rotation.now).await?;
            }
            steps.ensure_outstanding(new).await?;
            steps
                .add_to_family(&new.jti, &family, new.expires_at)
                .await?;
            Ok(RotateOutcome::Rotated)
        }
    }
}

/// Whether the rotation wrote (commit) or only answered (roll back).
pub(crate) fn writes(outcome: &RotateOutcome) -> bool {
    matches!(
        outcome,
        RotateOutcome::Rotated | RotateOutcome::ReuseDetected
    )
}

/// Runs a future that never waits (the rusqlite writer's steps are synchronous) to completion
/// on the current thread.
pub(crate) fn run_ready<T>(future: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(out) => out,
        std::task::Poll::Pending => Err(StorageError::Task(
            "a synchronous rotation step waited".into(),
        )),
    }
}

pub(crate) const FAMILY_OF: &str =
    "SELECT CAST(\"family_id\" AS TEXT) FROM \"authbridge_refresh_family\" WHERE \"jti\" = $1";

pub(crate) const PREVIOUS: &str =
    "SELECT r.\"family_id\", r.\"new_refresh\", r.\"new_access\", r.\"rotated_at\", \
     EXISTS (SELECT 1 FROM \"token_blacklist_blacklistedtoken\" b INNER JOIN \
     \"token_blacklist_outstandingtoken\" o ON (b.\"token_id\" = o.\"id\") WHERE o.\"jti\" = r.\"new_jti\") \
     AS \"successor_blacklisted\" FROM \"authbridge_refresh_rotation\" r WHERE r.\"old_jti\" = $1";

pub(crate) const IS_BLACKLISTED: &str =
    "SELECT 1 AS \"a\" FROM \"token_blacklist_blacklistedtoken\" INNER JOIN \
     \"token_blacklist_outstandingtoken\" ON (\"token_blacklist_blacklistedtoken\".\"token_id\" \
     = \"token_blacklist_outstandingtoken\".\"id\") WHERE \
     \"token_blacklist_outstandingtoken\".\"jti\" = $1 LIMIT 1";

pub(crate) const CLAIM: &str =
    "INSERT INTO \"authbridge_refresh_rotation\" (\"old_jti\", \"family_id\", \"new_jti\", \
     \"new_refresh\", \"new_access\", \"rotated_at\", \"expires_at\") \
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (\"old_jti\") DO NOTHING";

pub(crate) const ADD_TO_FAMILY: &str =
    "INSERT INTO \"authbridge_refresh_family\" (\"jti\", \"family_id\", \"expires_at\") \
     VALUES ($1, $2, $3) ON CONFLICT (\"jti\") DO NOTHING";

pub(crate) const BLACKLIST_ID: &str =
    "INSERT INTO \"token_blacklist_blacklistedtoken\" (\"token_id\", \"blacklisted_at\") \
     VALUES ($1, $2) ON CONFLICT (\"token_id\") DO NOTHING";

/// Successors Django never saw get their outstanding rows from the rotations that issued them
/// (`$1` the user id, `$2` the family).
pub(crate) const OUTSTAND_SUCCESSORS: &str =
    "INSERT INTO \"token_blacklist_outstandingtoken\" (\"user_id\", \"jti\", \"token\", \
     \"created_at\", \"expires_at\") SELECT $1, r.\"new_jti\", r.\"new_refresh\", \
     r.\"rotated_at\", f.\"expires_at\" FROM \"authbridge_refresh_rotation\" r INNER JOIN \
     \"authbridge_refresh_family\" f ON (f.\"jti\" = r.\"new_jti\") WHERE r.\"family_id\" = $2 \
     ON CONFLICT (\"jti\") DO NOTHING";

/// Blacklist every not yet blacklisted token of a family (`$1` the time, `$2` the family).
pub(crate) const BLACKLIST_FAMILY: &str =
    "INSERT INTO \"token_blacklist_blacklistedtoken\" (\"token_id\", \"blacklisted_at\") \
     SELECT o.\"id\", $1 FROM \"token_blacklist_outstandingtoken\" o INNER JOIN \
     \"authbridge_refresh_family\" f ON (f.\"jti\" = o.\"jti\") WHERE f.\"family_id\" = $2 \
     AND NOT EXISTS (SELECT 1 FROM \"token_blacklist_blacklistedtoken\" b WHERE b.\"token_id\" = o.\"id\") \
     ON CONFLICT (\"token_id\") DO NOTHING";

/// authbridge's own rows about tokens that expired before `$1`.
pub(crate) const FLUSH_EXPIRED: [&str; 2] = [
    "DELETE FROM \"authbridge_refresh_family\" WHERE \"expires_at\" < $1",
    "DELETE FROM \"authbridge_refresh_rotation\" WHERE \"expires_at\" < $1",
];

/// A token of family `$1` neither expired at `$2` nor blacklisted.
pub(crate) const FAMILY_LIVE: &str =
    "SELECT 1 AS \"a\" FROM \"authbridge_refresh_family\" f INNER JOIN \
     \"token_blacklist_outstandingtoken\" o ON (o.\"jti\" = f.\"jti\") WHERE f.\"family_id\" = $1 \
     AND f.\"expires_at\" > $2 AND NOT EXISTS (SELECT 1 FROM \"token_blacklist_blacklistedtoken\" b \
     WHERE b.\"token_id\" = o.\"id\") LIMIT 1";
