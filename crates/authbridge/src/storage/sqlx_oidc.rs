//! The OpenID Connect repositories on the two sqlx backends, written once: `sqlx_oidc!` expands
//! them in `sqlite/oidc.rs` and `postgres/oidc.rs` with that backend's connection, row and
//! `codec` (times as Django stores them), over its `users::by_id`. Every write takes the store's
//! write path (`begin_single` / `begin_write`); races are settled by one statement each (a
//! redemption's `UPDATE … WHERE used_at IS NULL RETURNING`) or by unique indexes (one active key
//! per algorithm).

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

macro_rules! sqlx_oidc {
    (store: $store:ty, conn: $conn:ty, row: $row:ty $(,)?) => {
        use $crate::storage::sqlx_oidc as shared;
        use $crate::storage::sqlx_store::Commit;
        use $crate::storage::{
            Client, CodeHash, CodeRecord, Consent, KeyRecord, KeyRotation, LoginSession,
            RedeemedCode, Result, SessionHash, User,
        };
        use chrono::{DateTime, Utc};
        use sqlx::Row as _;

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

        fn code_record(row: &$row) -> Result<(CodeRecord, Option<String>)> {
            let record = CodeRecord {
                hash: CodeHash(shared::hash32(&row.try_get::<String, _>("code_hash")?)?),
                client_id: row.try_get("client_id")?,
                user_id: row.try_get("user_id")?,
                redirect_uri: row.try_get("redirect_uri")?,
                scope: $crate::oidc::Scope::parse(&row.try_get::<String, _>("scope")?),
                nonce: row.try_get("nonce")?,
                code_challenge: row
                    .try_get::<Option<String>, _>("code_challenge")?
                    .map($crate::oidc::pkce::CodeChallenge::from_stored),
                auth_time: codec::time(row, "auth_time")?,
                created_at: codec::time(row, "created_at")?,
                expires_at: codec::time(row, "expires_at")?,
                used_at: codec::opt_time(row, "used_at")?,
            };
            Ok((record, row.try_get("refresh_jti")?))
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

        #[async_trait::async_trait]
        impl $crate::storage::AuthCodeRepository for $store {
            async fn insert_code(&self, code: &CodeRecord) -> Result<()> {
                let (_writer, mut tx) = self.begin_single().await?;
                let done = sqlx::query(&format!(
                    "INSERT INTO \"authbridge_oidc_code\" ({}) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL) \
                     ON CONFLICT DO NOTHING",
                    shared::CODE_COLUMNS
                ))
                .bind(code.hash.to_hex())
                .bind(&code.client_id)
                .bind(code.user_id)
                .bind(&code.redirect_uri)
                .bind(code.scope.as_string())
                .bind(&code.nonce)
                .bind(code.code_challenge.as_ref().map(|c| c.as_str().to_string()))
                .bind(codec::encode(code.auth_time))
                .bind(codec::encode(code.created_at))
                .bind(codec::encode(code.expires_at))
                .bind(code.used_at.map(codec::encode))
                .execute(&mut *tx)
                .await?;
                Commit::commit(tx).await?;
                shared::one_row(done.rows_affected(), "the code exists")
            }

            async fn redeem_code(
                &self,
                hash: CodeHash,
                now: DateTime<Utc>,
            ) -> Result<Option<RedeemedCode>> {
                let (_writer, mut tx) = self.begin_write().await?;
                // One statement marks and reads: of two redemptions, only one finds it unused.
                let won = sqlx::query(&format!(
                    "UPDATE \"authbridge_oidc_code\" SET \"used_at\" = $2 \
                     WHERE \"code_hash\" = $1 AND \"used_at\" IS NULL RETURNING {}",
                    shared::CODE_COLUMNS
                ))
                .bind(hash.to_hex())
                .bind(codec::encode(now))
                .fetch_optional(&mut *tx)
                .await?;
                let found = match won {
                    Some(row) => {
                        let (mut record, refresh_jti) = code_record(&row)?;
                        record.used_at = None; // as it was before this redemption
                        Some((record, refresh_jti))
                    }
                    None => sqlx::query(&format!(
                        "SELECT {} FROM \"authbridge_oidc_code\" WHERE \"code_hash\" = $1",
                        shared::CODE_COLUMNS
                    ))
                    .bind(hash.to_hex())
                    .fetch_optional(&mut *tx)
                    .await?
                    .as_ref()
                    .map(code_record)
                    .transpose()?,
                };
                Commit::commit(tx).await?;
                Ok(found.map(|(record, refresh_jti)| RedeemedCode {
                    record,
                    refresh_jti,
                }))
            }

            async fn set_code_refresh_jti(&self, hash: CodeHash, jti: &str) -> Result<()> {
                let (_writer, mut tx) = self.begin_single().await?;
                sqlx::query(
                    "UPDATE \"authbridge_oidc_code\" SET \"refresh_jti\" = $2 \
                     WHERE \"code_hash\" = $1",
                )
                .bind(hash.to_hex())
                .bind(jti)
                .execute(&mut *tx)
                .await?;
                Commit::commit(tx).await
            }

            async fn delete_expired_codes(&self, now: DateTime<Utc>) -> Result<u64> {
                let (_writer, mut tx) = self.begin_single().await?;
                let done =
                    sqlx::query("DELETE FROM \"authbridge_oidc_code\" WHERE \"expires_at\" < $1")
                        .bind(codec::encode(now))
                        .execute(&mut *tx)
                        .await?;
                Commit::commit(tx).await?;
                Ok(done.rows_affected())
            }
        }

        #[async_trait::async_trait]
        impl $crate::storage::LoginSessionRepository for $store {
            async fn create_login_session(&self, session: &LoginSession) -> Result<()> {
                let (_writer, mut tx) = self.begin_single().await?;
                let done = sqlx::query(
                    "INSERT INTO \"authbridge_login_session\" (\"id_hash\", \"user_id\", \
                     \"auth_time\", \"created_at\", \"expires_at\") VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT DO NOTHING",
                )
                .bind(session.hash.to_hex())
                .bind(session.user_id)
                .bind(codec::encode(session.auth_time))
                .bind(codec::encode(session.created_at))
                .bind(codec::encode(session.expires_at))
                .execute(&mut *tx)
                .await?;
                Commit::commit(tx).await?;
                shared::one_row(done.rows_affected(), "the login session exists")
            }

            async fn login_session(
                &self,
                hash: SessionHash,
                now: DateTime<Utc>,
            ) -> Result<Option<(LoginSession, User)>> {
                let model = self.model().await?;
                let mut conn = self.pool.acquire().await?;
                // A session older than the user's last logout-everywhere (or password change) is
                // over, whichever instance or surface recorded it.
                let row = sqlx::query(
                    "SELECT s.\"user_id\", s.\"auth_time\", s.\"created_at\", s.\"expires_at\" \
                     FROM \"authbridge_login_session\" s \
                     LEFT JOIN \"authbridge_user_state\" u ON u.\"user_id\" = s.\"user_id\" \
                     WHERE s.\"id_hash\" = $1 AND s.\"expires_at\" > $2 \
                     AND (u.\"revoked_at\" IS NULL OR u.\"revoked_at\" < s.\"created_at\")",
                )
                .bind(hash.to_hex())
                .bind(codec::encode(now))
                .fetch_optional(&mut *conn)
                .await?;
                let Some(row) = row else {
                    return Ok(None);
                };
                let session = LoginSession {
                    hash,
                    user_id: row.try_get("user_id")?,
                    auth_time: codec::time(&row, "auth_time")?,
                    created_at: codec::time(&row, "created_at")?,
                    expires_at: codec::time(&row, "expires_at")?,
                };
                Ok(users::by_id(&mut conn, &model, session.user_id)
                    .await?
                    .map(|user| (session, user)))
            }

            async fn revoke_login_session(&self, hash: SessionHash) -> Result<bool> {
                let (_writer, mut tx) = self.begin_single().await?;
                let done =
                    sqlx::query("DELETE FROM \"authbridge_login_session\" WHERE \"id_hash\" = $1")
                        .bind(hash.to_hex())
                        .execute(&mut *tx)
                        .await?;
                Commit::commit(tx).await?;
                Ok(done.rows_affected() > 0)
            }

            async fn revoke_user_login_sessions(&self, user_id: i64) -> Result<u64> {
                let (_writer, mut tx) = self.begin_single().await?;
                let done =
                    sqlx::query("DELETE FROM \"authbridge_login_session\" WHERE \"user_id\" = $1")
                        .bind(user_id)
                        .execute(&mut *tx)
                        .await?;
                Commit::commit(tx).await?;
                Ok(done.rows_affected())
            }

            async fn delete_expired_login_sessions(&self, now: DateTime<Utc>) -> Result<u64> {
                let (_writer, mut tx) = self.begin_single().await?;
                let done = sqlx::query(
                    "DELETE FROM \"authbridge_login_session\" WHERE \"expires_at\" <= $1",
                )
                .bind(codec::encode(now))
                .execute(&mut *tx)
                .await?;
                Commit::commit(tx).await?;
                Ok(done.rows_affected())
            }
        }

        #[async_trait::async_trait]
        impl $crate::storage::ConsentRepository for $store {
            async fn consent(&self, user_id: i64, client_id: &str) -> Result<Option<Consent>> {
                let row = sqlx::query(
                    "SELECT \"scope\", \"created_at\" FROM \"authbridge_oidc_consent\" \
                     WHERE \"user_id\" = $1 AND \"client_id\" = $2",
                )
                .bind(user_id)
                .bind(client_id)
                .fetch_optional(&self.pool)
                .await?;
                row.map(|row| {
                    Ok(Consent {
                        user_id,
                        client_id: client_id.to_string(),
                        scope: $crate::oidc::Scope::parse(&row.try_get::<String, _>("scope")?),
                        created_at: codec::time(&row, "created_at")?,
                    })
                })
                .transpose()
            }

            async fn upsert_consent(&self, consent: &Consent) -> Result<()> {
                let (_writer, mut tx) = self.begin_single().await?;
                sqlx::query(
                    "INSERT INTO \"authbridge_oidc_consent\" (\"user_id\", \"client_id\", \
                     \"scope\", \"created_at\") VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (\"user_id\", \"client_id\") DO UPDATE SET \
                     \"scope\" = excluded.\"scope\", \"created_at\" = excluded.\"created_at\"",
                )
                .bind(consent.user_id)
                .bind(&consent.client_id)
                .bind(consent.scope.as_string())
                .bind(codec::encode(consent.created_at))
                .execute(&mut *tx)
                .await?;
                Commit::commit(tx).await
            }
        }
    };
}

pub(crate) use sqlx_oidc;
