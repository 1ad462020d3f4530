//! PostgreSQL implementation of the storage traits, on Django's own database.
//!
//! Transactions run at READ COMMITTED (Django's default). Races are settled by primary keys and
//! unique constraints (`INSERT ... ON CONFLICT`, which waits for the concurrent inserter and then
//! sees its committed row) and by transaction-scoped advisory locks where no row exists yet.

mod accounts;
pub(crate) mod codec;
mod connect;
mod dialect;
mod email_addresses;
mod oidc;
mod tokens;
mod users;

use super::user_model::UserModel;
use super::{Result, UserTable};
use sqlx::pool::PoolConnection;
use sqlx::postgres::PgPool;
use sqlx::{PgConnection, Postgres, Transaction};
use std::sync::{Arc, RwLock};

pub struct PostgresStore {
    pool: PgPool,
    users: UserTable,
    /// The user table's columns, read on first use and again after `migrate`.
    model: RwLock<Option<Arc<UserModel>>>,
}

impl PostgresStore {
    /// Connects (and checks the connection) with a pool sized for a small box. An unreachable
    /// server fails within seconds, naming host, port and cause (see `connect.rs`).
    pub async fn connect(url: &str, users: UserTable) -> Result<Self> {
        Ok(Self {
            pool: connect::pool(url).await?,
            users,
            model: RwLock::new(None),
        })
    }

    /// The underlying pool (tests and maintenance commands).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// A write transaction. Concurrent writers are settled by row locks, unique constraints and
    /// advisory locks, not by a queue, so the guard is empty.
    pub(crate) async fn begin_write(&self) -> Result<((), Transaction<'static, Postgres>)> {
        Ok(((), self.pool.begin().await?))
    }

    /// A write of one statement: autocommitted on a pooled connection.
    pub(crate) async fn begin_single(&self) -> Result<((), PoolConnection<Postgres>)> {
        Ok(((), self.pool.acquire().await?))
    }

    /// PostgreSQL's DDL is transactional: the migration commits at once, and the advisory lock
    /// makes a second instance wait, then find the tables.
    async fn begin_migration(&self) -> Result<((), Transaction<'static, Postgres>)> {
        let mut tx = self.pool.begin().await?;
        dialect::lock_migration(&mut tx).await?;
        Ok(((), tx))
    }
}

crate::storage::attempts::sqlx_attempts!(PostgresStore);

mod outbox {
    use super::{codec, PostgresStore};

    // Concurrent claimers (other instances) skip the rows another claim holds.
    crate::storage::sqlx_outbox::sqlx_outbox!(
        store: PostgresStore,
        row: sqlx::postgres::PgRow,
        lock: " FOR UPDATE SKIP LOCKED",
    );
}

crate::storage::sqlx_store::sqlx_store!(
    store: PostgresStore,
    conn: PgConnection,
    backend: "postgresql",
);
