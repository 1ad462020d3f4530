//! The OpenID Connect provider's keys and clients on the two sqlx backends, written once:
//! `sqlx_oidc_registry!` expands them in `sqlite/oidc.rs` and `postgres/oidc.rs` with that
//! backend's connection, row and `codec` (times as Django stores them); `sqlx_oidc_sessions.rs`
//! does the same for codes, login sessions and consents. Every write takes the store's write path
//! (`begin_single` / `begin_write`); races are settled by unique indexes (one active key per
//! algorithm) and one-row updates.

use super::{Result, StorageError};
use crate::oidc::client::{ClientAuth, RedirectUri, SecretHash};
use crate::oidc::keys::SigningAlg;

pub(crate) const KEY_COLUMNS: &str = "\"kid\", \"alg\", \"sealed\", \"created_at\", \"retire_at\"";
pub(crate) const CLIENT_COLUMNS: &str = "\"client_id\", \"client_name\", \"secret_hash\", \
     \"redirect_uris\", \"post_logout_redirect_uris\", \"first_party\", \"id_token_alg\"";
pub(crate) const CODE_COLUMNS: &str =
    "\"code_hash\", \"client_id\", \"user_id\", \"redirect_uri\", \
     \"scope\", \"nonce\", \"code_challenge\", \"auth_time\", \"created_at\", \"expires_at\", \
     \"used_at\", \"refresh_jti\"";

pub(crate) fn alg(name: &str) -> Result<SigningAlg> {
    SigningAlg::parse(name)
        .ok_or_else(|| StorageError::Schema(format!("unknown signing algorithm {name:?}")))
}

/// A stored URI list (a JSON array), each checked again as it was at registration.
pub(crate) fn uris(json: &str) -> Result<Vec<RedirectUri>> {
    let texts: Vec<String> = serde_json::from_str(json)
        .map_err(|e| StorageError::Schema(format!("a client's URI list: {e}")))?;
    texts
        .iter()
        .map(|t| RedirectUri::parse(t).map_err(|e| StorageError::Schema(e.to_string())))
        .collect()
}

pub(crate) fn uris_json(list: &[RedirectUri]) -> String {
    serde_json::Value::from(list.iter().map(|u| u.as_str()).collect::<Vec<_>>()).to_string()
}

pub(crate) fn client_auth(secret_hash: Option<String>) -> Result<ClientAuth> {
    match secret_hash {
        None => Ok(ClientAuth::Public),
        Some(hex) => SecretHash::from_hex(&hex)
            .map(ClientAuth::Secret)
            .ok_or_else(|| StorageError::Schema("a client's secret_hash is not a SHA-256".into())),
    }
}

pub(crate) fn hash32(hex: &str) -> Result<[u8; 32]> {
    hex::decode(hex)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| StorageError::Schema(format!("{hex:?} is not a SHA-256")))
}

fn conflict(what: &str) -> StorageError {
    StorageError::Conflict(what.to_string())
}

/// `Conflict` unless a write touched exactly one row.
pub(crate) fn one_row(rows: u64, what: &str) -> Result<()> {
    if rows == 1 {
        Ok(())
    } else {
        Err(conflict(what))
    }
}

macro_rules! sqlx_oidc_registry {
    (store: $store:ty, conn: $conn:ty, row: $row:ty $(,)?) => {
        use chrono::{DateTime, Utc};
        use sqlx::Row as _;
        use $crate::storage::sqlx_oidc as shared;
        use $crate::storage::sqlx_store::Commit;
        use $crate::storage::{Client, KeyRecord, KeyRotation, Result};

        fn key_record(row: &$row) -> Result<KeyRecord> {
            Ok(KeyRecord {
                kid: row.try_get("kid")?,
                alg: shared::alg(&row.try_get::<String, _>("alg")?)?,
                sealed: row.try_get("sealed")?,
                created_at: codec::time(row, "created_at")?,
                retire_at: codec::opt_time(row, "retire_at")?,
            })
        }

        fn client_record(row: &$row) -> Result<Client> {
            Ok(Client {
                client_id: row.try_get("client_id")?,
                name: row.try_get("client_name")?,
                auth: shared::client_auth(row.try_get("secret_hash")?)?,
                redirect_uris: shared::uris(&row.try_get::<String, _>("redirect_uris")?)?,
                post_logout_redirect_uris: shared::uris(
                    &row.try_get::<String, _>("post_logout_redirect_uris")?,
                )?,
                first_party: codec::flag(row, "first_party")?,
                id_token_alg: row
                    .try_get::<Option<String>, _>("id_token_alg")?
                    .map(|name| shared::alg(&name))
                    .transpose()?,
            })
        }

        /// Inserts a key unless its kid exists or its algorithm already has an active key.
        async fn insert_key(conn: &mut $conn, key: &KeyRecord) -> Result<()> {
            let done = sqlx::query(&format!(
                "INSERT INTO \"authbridge_oidc_key\" ({}) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT DO NOTHING",
                shared::KEY_COLUMNS
            ))
            .bind(&key.kid)
            .bind(key.alg.name())
            .bind(&key.sealed)
            .bind(codec::encode(key.created_at))
            .bind(key.retire_at.map(codec::encode))
            .execute(&mut *conn)
            .await?;
            shared::one_row(
                done.rows_affected(),
                "the key exists, or its algorithm has an active key",
            )
        }

        #[async_trait::async_trait]
        impl $crate::storage::OidcKeyRepository for $store {
            async fn list_keys(&self) -> Result<Vec<KeyRecord>> {
                let rows = sqlx::query(&format!(
                    "SELECT {} FROM \"authbridge_oidc_key\" ORDER BY \"created_at\", \"kid\"",
                    shared::KEY_COLUMNS
                ))
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(key_record).collect()
            }

            async fn insert_key(&self, key: &KeyRecord) -> Result<()> {
                let (_writer, mut tx) = self.begin_single().await?;
                insert_key(&mut tx, key).await?;
                Commit::commit(tx).await
            }

            async fn rotate_keys(&self, rotation: &KeyRotation) -> Result<()> {
                let (_writer, mut tx) = self.begin_write().await?;
                for (kid, retire_at) in &rotation.retire {
                    // Only a key still active: a concurrent rotation retired it first otherwise.
                    let done = sqlx::query(
                        "UPDATE \"authbridge_oidc_key\" SET \"retire_at\" = $2 \
                         WHERE \"kid\" = $1 AND \"retire_at\" IS NULL",
                    )
                    .bind(kid)
                    .bind(codec::encode(*retire_at))
                    .execute(&mut *tx)
                    .await?;
                    shared::one_row(done.rows_affected(), "the key was rotated concurrently")?;
                }
                for key in &rotation.add {
                    insert_key(&mut tx, key).await?;
                }
                Commit::commit(tx).await?;
                Ok(())
            }

            async fn delete_retired_keys(&self, now: DateTime<Utc>) -> Result<u64> {
                let (_writer, mut tx) = self.begin_single().await?;
                let done = sqlx::query(
                    "DELETE FROM \"authbridge_oidc_key\" \
                     WHERE \"retire_at\" IS NOT NULL AND \"retire_at\" <= $1",
                )
                .bind(codec::encode(now))
                .execute(&mut *tx)
                .await?;
                Commit::commit(tx).await?;
                Ok(done.rows_affected())
            }
        }

        #[async_trait::async_trait]
        impl $crate::storage::OidcClientRepository for $store {
            async fn client(&self, client_id: &str) -> Result<Option<Client>> {
                let row = sqlx::query(&format!(
                    "SELECT {} FROM \"authbridge_oidc_client\" WHERE \"client_id\" = $1",
                    shared::CLIENT_COLUMNS
                ))
                .bind(client_id)
                .fetch_optional(&self.pool)
                .await?;
                row.as_ref().map(client_record).transpose()
            }

            async fn list_clients(&self) -> Result<Vec<Client>> {
                let rows = sqlx::query(&format!(
                    "SELECT {} FROM \"authbridge_oidc_client\" ORDER BY \"client_id\"",
                    shared::CLIENT_COLUMNS
                ))
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(client_record).collect()
            }

            async fn insert_client(&self, client: &Client, now: DateTime<Utc>) -> Result<()> {
                let secret_hash = match &client.auth {
                    $crate::oidc::client::ClientAuth::Public => None,
                    $crate::oidc::client::ClientAuth::Secret(hash) => Some(hash.to_hex()),
                };
                let (_writer, mut tx) = self.begin_single().await?;
                let done = sqlx::query(&format!(
                    "INSERT INTO \"authbridge_oidc_client\" ({}, \"created_at\") \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
                    shared::CLIENT_COLUMNS
                ))
                .bind(&client.client_id)
                .bind(&client.name)
                .bind(secret_hash)
                .bind(shared::uris_json(&client.redirect_uris))
                .bind(shared::uris_json(&client.post_logout_redirect_uris))
                .bind(client.first_party)
                .bind(client.id_token_alg.map(|a| a.name()))
                .bind(codec::encode(now))
                .execute(&mut *tx)
                .await?;
                Commit::commit(tx).await?;
                shared::one_row(
                    done.rows_affected(),
                    &format!("client_id {:?} is taken", client.client_id),
                )
            }

            async fn delete_client(&self, client_id: &str) -> Result<bool> {
                let (_writer, mut tx) = self.begin_single().await?;
                let done =
                    sqlx::query("DELETE FROM \"authbridge_oidc_client\" WHERE \"client_id\" = $1")
                        .bind(client_id)
                        .execute(&mut *tx)
                        .await?;
                Commit::commit(tx).await?;
                Ok(done.rows_affected() > 0)
            }
        }
    };
}

pub(crate) use sqlx_oidc_registry;
