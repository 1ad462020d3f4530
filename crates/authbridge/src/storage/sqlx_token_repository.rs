//! `TokenRepository` on the two sqlx backends, written once, with the per-user token state
//! (`authbridge_user_state`: password fingerprint, revocation time); `sqlx_tokens!` expands it
//! after its statements, in `sqlite/tokens.rs` and `postgres/tokens.rs`. Each write is one
//! transaction from the store's `begin_write` (SQLite's write queue and `BEGIN IMMEDIATE`;
//! PostgreSQL's READ COMMITTED plus the advisory locks `lock_user` and `lock_user_families`, no-ops
//! on SQLite).

macro_rules! sqlx_token_repository {
    (store: $store:ty, conn: $conn:ty, row: $row:ty $(,)?) => {
        /// Blacklist every unexpired, not yet blacklisted refresh token of a user and record the
        /// revocation (creating the user's state row if needed); returns how many tokens.
        async fn revoke_user(
            conn: &mut $conn,
            user_id: i64,
            now: chrono::DateTime<chrono::Utc>,
        ) -> $crate::storage::Result<u64> {
            lock_user_families(conn, user_id, now).await?;
            let at = codec::encode(now);
            let revoked = sqlx::query(
                "INSERT INTO \"token_blacklist_blacklistedtoken\" (\"token_id\", \"blacklisted_at\") \
                 SELECT o.\"id\", $1 FROM \"token_blacklist_outstandingtoken\" o \
                 WHERE o.\"user_id\" = $2 AND o.\"expires_at\" > $1 AND NOT EXISTS \
                 (SELECT 1 FROM \"token_blacklist_blacklistedtoken\" b WHERE b.\"token_id\" = o.\"id\") \
                 ON CONFLICT (\"token_id\") DO NOTHING",
            )
            .bind(&at)
            .bind(user_id)
            .execute(&mut *conn)
            .await?
            .rows_affected();
            sqlx::query(
                "INSERT INTO \"authbridge_user_state\" (\"user_id\", \"password_fp\", \"revoked_at\", \
                 \"updated_at\") VALUES ($1, '', $2, $2) ON CONFLICT (\"user_id\") DO UPDATE SET \
                 \"revoked_at\" = $2, \"updated_at\" = $2",
            )
            .bind(user_id)
            .bind(&at)
            .execute(&mut *conn)
            .await?;
            Ok(revoked)
        }

        /// The recorded fingerprint and revocation time of a user.
        async fn user_state(
            conn: &mut $conn,
            user_id: i64,
        ) -> $crate::storage::Result<Option<(String, Option<chrono::DateTime<chrono::Utc>>)>> {
            use sqlx::Row as _;
            let row: Option<$row> = sqlx::query(
                "SELECT \"password_fp\", \"revoked_at\" FROM \"authbridge_user_state\" \
                 WHERE \"user_id\" = $1",
            )
            .bind(user_id)
            .fetch_optional(&mut *conn)
            .await?;
            match row {
                Some(row) => Ok(Some((
                    row.try_get("password_fp")?,
                    codec::opt_time(&row, "revoked_at")?,
                ))),
                None => Ok(None),
            }
        }

        async fn set_fingerprint(
            conn: &mut $conn,
            user_id: i64,
            fingerprint: &str,
            now: chrono::DateTime<chrono::Utc>,
        ) -> $crate::storage::Result<()> {
            sqlx::query(
                "INSERT INTO \"authbridge_user_state\" (\"user_id\", \"password_fp\", \"revoked_at\", \
                 \"updated_at\") VALUES ($1, $2, NULL, $3) ON CONFLICT (\"user_id\") DO UPDATE SET \
                 \"password_fp\" = $2, \"updated_at\" = $3",
            )
            .bind(user_id)
            .bind(fingerprint)
            .bind(codec::encode(now))
            .execute(&mut *conn)
            .await?;
            Ok(())
        }

        #[async_trait::async_trait]
        impl $crate::storage::TokenRepository for $store {
            async fn outstand(
                &self,
                token: &$crate::storage::OutstandingToken,
                family: Option<&str>,
            ) -> $crate::storage::Result<()> {
                let (_writer, mut tx) = self.begin_write().await?;
                outstand(&mut tx, token, family).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn is_blacklisted(&self, jti: &str) -> $crate::storage::Result<bool> {
                let mut conn = self.pool.acquire().await?;
                is_blacklisted(&mut conn, jti).await
            }

            async fn blacklist(
                &self,
                token: &$crate::storage::OutstandingToken,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::storage::Result<$crate::storage::BlacklistOutcome> {
                let (_writer, mut tx) = self.begin_write().await?;
                let outcome = blacklist(&mut tx, token, at).await?;
                tx.commit().await?;
                Ok(outcome)
            }

            async fn rotate(
                &self,
                rotation: &$crate::storage::Rotation,
            ) -> $crate::storage::Result<$crate::storage::RotateOutcome> {
                use $crate::storage::rotation;
                if let Some(outcome) = self.rotate_elsewhere(rotation).await? {
                    return Ok(outcome);
                }
                let (_writer, mut tx) = self.begin_write().await?;
                let outcome = rotation::rotate(&mut Steps(&mut tx), rotation).await?;
                if rotation::writes(&outcome) {
                    tx.commit().await?;
                }
                Ok(outcome)
            }

            async fn flush_expired(
                &self,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::storage::Result<u64> {
                let (_writer, mut tx) = self.begin_write().await?;
                let deleted = flush_expired(&mut tx, now).await?;
                tx.commit().await?;
                Ok(deleted)
            }

            async fn family_state(
                &self,
                jti: &str,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::storage::Result<$crate::storage::FamilyState> {
                let mut conn = self.pool.acquire().await?;
                family_state(&mut conn, jti, now).await
            }

            async fn revoke_family(
                &self,
                token: &$crate::storage::OutstandingToken,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::storage::Result<u64> {
                let (_writer, mut tx) = self.begin_write().await?;
                let family = family_of(&mut tx, &token.jti)
                    .await?
                    .unwrap_or_else(|| token.jti.clone());
                // Serialized with rotations of the family: no successor escapes the revocation.
                lock_family(&mut tx, &family).await?;
                let id = ensure_outstanding(&mut tx, token).await?;
                let mut revoked = u64::from(blacklist_id(&mut tx, id, now).await?);
                revoked += blacklist_family(&mut tx, &family, now).await?;
                tx.commit().await?;
                Ok(revoked)
            }

            async fn revoke_user(
                &self,
                user_id: i64,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::storage::Result<u64> {
                let (_writer, mut tx) = self.begin_write().await?;
                lock_user(&mut tx, user_id).await?;
                let revoked = revoke_user(&mut tx, user_id, now).await?;
                tx.commit().await?;
                Ok(revoked)
            }

            async fn check_password(
                &self,
                user_id: i64,
                fingerprint: &str,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::storage::Result<$crate::storage::PasswordCheck> {
                use $crate::storage::PasswordCheck;
                {
                    let mut conn = self.pool.acquire().await?;
                    if let Some((fp, revoked_at)) = user_state(&mut conn, user_id).await? {
                        if fp == fingerprint {
                            return Ok(PasswordCheck::Unchanged { revoked_at });
                        }
                    }
                }
                let (_writer, mut tx) = self.begin_write().await?;
                lock_user(&mut tx, user_id).await?;
                let check = match user_state(&mut tx, user_id).await? {
                    Some((fp, revoked_at)) if fp == fingerprint => {
                        PasswordCheck::Unchanged { revoked_at }
                    }
                    // Recorded by a "log out everywhere" before authbridge saw the password.
                    Some((fp, revoked_at)) if fp.is_empty() => {
                        set_fingerprint(&mut tx, user_id, fingerprint, now).await?;
                        PasswordCheck::Unchanged { revoked_at }
                    }
                    Some(_) => {
                        let revoked = revoke_user(&mut tx, user_id, now).await?;
                        set_fingerprint(&mut tx, user_id, fingerprint, now).await?;
                        PasswordCheck::Changed { revoked }
                    }
                    None => {
                        set_fingerprint(&mut tx, user_id, fingerprint, now).await?;
                        PasswordCheck::Unchanged { revoked_at: None }
                    }
                };
                tx.commit().await?;
                Ok(check)
            }

            async fn upgrade_password(
                &self,
                id: i64,
                old: &str,
                new: &str,
            ) -> $crate::storage::Result<()> {
                use $crate::storage::password_fingerprint;
                let model = self.model().await?;
                let (_writer, mut tx) = self.begin_write().await?;
                lock_user(&mut tx, id).await?;
                let updated = sqlx::query(&model.upgrade_password_sql())
                    .bind(new)
                    .bind(id)
                    .bind(old)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if updated == 1 {
                    sqlx::query(
                        "UPDATE \"authbridge_user_state\" SET \"password_fp\" = $1 \
                         WHERE \"user_id\" = $2 AND \"password_fp\" = $3",
                    )
                    .bind(password_fingerprint(new))
                    .bind(id)
                    .bind(password_fingerprint(old))
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }
        }
    };
}

pub(crate) use sqlx_token_repository;
