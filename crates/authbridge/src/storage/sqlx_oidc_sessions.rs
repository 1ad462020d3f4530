//! Authorization codes, login sessions and consents (what a sign-in leaves in the database) on
//! the two sqlx backends, written once: `sqlx_oidc_sessions!` expands them in `sqlite/oidc.rs` and
//! `postgres/oidc.rs` with that backend's connection, row, `codec` and `users::by_id`. A code is
//! redeemed by one `UPDATE … WHERE used_at IS NULL RETURNING`, so of two redemptions on any
//! instances only one finds it unused.

macro_rules! sqlx_oidc_sessions {
    (store: $store:ty, conn: $conn:ty, row: $row:ty $(,)?) => {
        use $crate::storage::sqlx_oidc as shared;
        use $crate::storage::sqlx_store::Commit;
        use $crate::storage::{
            CodeHash, CodeRecord, Consent, LoginSession, RedeemedCode, Result, SessionHash, User,
        };
        use chrono::{DateTime, Utc};
        use sqlx::Row as _;

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

pub(crate) use sqlx_oidc_sessions;
