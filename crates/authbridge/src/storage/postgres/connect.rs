//! Connecting to PostgreSQL. The pool's own start waits out its whole acquire timeout on an
//! unreachable server and then reports only that it timed out; one direct connection first fails
//! within seconds and says where and why (the password never appears).

use crate::storage::{Result, StorageError};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Connection};
use std::time::Duration;

/// Enough for a 2-core box; PostgreSQL's default max_connections is 100.
const POOL_SIZE: u32 = 8;
/// How long the first connection may take (a server that answers does so in milliseconds).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

pub(super) async fn pool(url: &str) -> Result<PgPool> {
    let options: PgConnectOptions = url
        .parse()
        .map_err(|e: sqlx::Error| StorageError::Config(e.to_string()))?;
    let first = tokio::time::timeout(CONNECT_TIMEOUT, options.connect()).await;
    match first {
        Ok(Ok(conn)) => {
            // Only a probe: the pool opens its own.
            let _ = conn.close().await;
        }
        Ok(Err(e)) => return Err(unavailable(&options, &cause(&e))),
        Err(_) => {
            return Err(unavailable(
                &options,
                &format!("timed out after {} s", CONNECT_TIMEOUT.as_secs()),
            ))
        }
    }
    Ok(PgPoolOptions::new()
        .max_connections(POOL_SIZE)
        .acquire_timeout(Duration::from_secs(30))
        .connect_with(options)
        .await?)
}

fn unavailable(options: &PgConnectOptions, cause: &str) -> StorageError {
    StorageError::Unavailable(format!(
        "cannot connect to PostgreSQL at {}:{} (database {:?}, user {:?}): {cause}",
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or(""),
        options.get_username(),
    ))
}

/// The reason in a user's words: refused, timed out, authentication, missing database.
fn cause(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Io(io) => match io.kind() {
            std::io::ErrorKind::ConnectionRefused => "connection refused".into(),
            std::io::ErrorKind::TimedOut => "timed out".into(),
            _ => io.to_string(),
        },
        sqlx::Error::Database(db) => match db.code().as_deref() {
            Some("28P01") | Some("28000") => format!("authentication failed ({})", db.message()),
            Some("3D000") => format!("database does not exist ({})", db.message()),
            _ => db.message().to_string(),
        },
        other => other.to_string(),
    }
}
