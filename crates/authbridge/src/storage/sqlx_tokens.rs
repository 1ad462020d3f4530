//! Tokens on the two sqlx backends, written once: `sqlx_tokens!` expands the statements and the
//! rotation steps (`sqlx_token_repository.rs` adds the per-user state and `TokenRepository`) in `sqlite/tokens.rs` and `postgres/tokens.rs` with that backend's connection
//! type and `codec` (Django's TEXT datetimes on SQLite, `timestamptz` on PostgreSQL). The SQL text
//! is shared (`rotation.rs`, `$N` placeholders). The expanding module provides what differs:
//! `ensure_outstanding` (one statement on SQLite; no row-locking upsert on PostgreSQL) and the
//! locks `lock_family`, `lock_user` and `lock_user_families` (PostgreSQL's advisory locks; no-ops
//! on SQLite, whose write transaction already holds the database's write lock).

macro_rules! sqlx_tokens {
    (store: $store:ty, conn: $conn:ty, row: $row:ty $(,)?) => {
        /// Inserts the blacklisted row unless there is one; `true` when this call inserted it.
        async fn blacklist_id(
            conn: &mut $conn,
            token_id: i64,
            at: chrono::DateTime<chrono::Utc>,
        ) -> $crate::storage::Result<bool> {
            let done = sqlx::query($crate::storage::rotation::BLACKLIST_ID)
                .bind(token_id)
                .bind(codec::encode(at))
                .execute(&mut *conn)
                .await?;
            Ok(done.rows_affected() == 1)
        }

        /// simplejwt's `check_blacklist()`.
        async fn is_blacklisted(conn: &mut $conn, jti: &str) -> $crate::storage::Result<bool> {
            let found: Option<$row> = sqlx::query($crate::storage::rotation::IS_BLACKLISTED)
                .bind(jti)
                .fetch_optional(&mut *conn)
                .await?;
            Ok(found.is_some())
        }

        async fn add_to_family(
            conn: &mut $conn,
            jti: &str,
            family: &str,
            expires_at: chrono::DateTime<chrono::Utc>,
        ) -> $crate::storage::Result<()> {
            sqlx::query($crate::storage::rotation::ADD_TO_FAMILY)
                .bind(jti)
                .bind(family)
                .bind(codec::encode(expires_at))
                .execute(&mut *conn)
                .await?;
            Ok(())
        }

        /// The family `jti` was issued in.
        async fn family_of(conn: &mut $conn, jti: &str) -> $crate::storage::Result<Option<String>> {
            Ok(sqlx::query_scalar($crate::storage::rotation::FAMILY_OF)
                .bind(jti)
                .fetch_optional(&mut *conn)
                .await?)
        }

        /// Blacklist every not yet blacklisted token of a family; returns how many.
        async fn blacklist_family(
            conn: &mut $conn,
            family: &str,
            at: chrono::DateTime<chrono::Utc>,
        ) -> $crate::storage::Result<u64> {
            Ok(sqlx::query($crate::storage::rotation::BLACKLIST_FAMILY)
                .bind(codec::encode(at))
                .bind(family)
                .execute(&mut *conn)
                .await?
                .rows_affected())
        }

        /// simplejwt's `outstand()`, and the token's family row.
        async fn outstand(
            conn: &mut $conn,
            token: &$crate::storage::OutstandingToken,
            family: Option<&str>,
        ) -> $crate::storage::Result<()> {
            ensure_outstanding(conn, token).await?;
            let family = family.unwrap_or(&token.jti);
            add_to_family(conn, &token.jti, family, token.expires_at).await
        }

        /// simplejwt's `blacklist()`: get-or-create the outstanding row, then the blacklisted row.
        async fn blacklist(
            conn: &mut $conn,
            token: &$crate::storage::OutstandingToken,
            at: chrono::DateTime<chrono::Utc>,
        ) -> $crate::storage::Result<$crate::storage::BlacklistOutcome> {
            let id = ensure_outstanding(conn, token).await?;
            Ok(if blacklist_id(conn, id, at).await? {
                $crate::storage::BlacklistOutcome::Blacklisted
            } else {
                $crate::storage::BlacklistOutcome::AlreadyBlacklisted
            })
        }

        /// Delete authbridge's family and rotation rows that expired before `now`.
        async fn flush_expired(
            conn: &mut $conn,
            now: chrono::DateTime<chrono::Utc>,
        ) -> $crate::storage::Result<u64> {
            let mut deleted = 0;
            for sql in $crate::storage::rotation::FLUSH_EXPIRED {
                deleted += sqlx::query(sql)
                    .bind(codec::encode(now))
                    .execute(&mut *conn)
                    .await?
                    .rows_affected();
            }
            Ok(deleted)
        }

        /// Live while a token of `jti`'s family is neither blacklisted nor expired.
        async fn family_state(
            conn: &mut $conn,
            jti: &str,
            now: chrono::DateTime<chrono::Utc>,
        ) -> $crate::storage::Result<$crate::storage::FamilyState> {
            use $crate::storage::FamilyState;
            let Some(family) = family_of(conn, jti).await? else {
                return Ok(if is_blacklisted(conn, jti).await? {
                    FamilyState::Revoked
                } else {
                    FamilyState::Live {
                        family: jti.to_string(),
                    }
                });
            };
            let live: Option<$row> = sqlx::query($crate::storage::rotation::FAMILY_LIVE)
                .bind(&family)
                .bind(codec::encode(now))
                .fetch_optional(&mut *conn)
                .await?;
            Ok(match live {
                Some(_) => FamilyState::Live { family },
                None => FamilyState::Revoked,
            })
        }

        /// Rotation's statements on one transaction of this backend.
        struct Steps<'a>(&'a mut $conn);

        #[async_trait::async_trait]
        impl $crate::storage::rotation::RotationSteps for Steps<'_> {
            async fn family_of(&mut self, jti: &str) -> $crate::storage::Result<Option<String>> {
                family_of(self.0, jti).await
            }

            async fn lock_family(&mut self, family: &str) -> $crate::storage::Result<()> {
                lock_family(self.0, family).await
            }

            async fn facts(
                &mut self,
                jti: &str,
            ) -> $crate::storage::Result<(Option<$crate::storage::rotation::Previous>, bool)> {
                use sqlx::Row as _;
                let blacklisted = is_blacklisted(self.0, jti).await?;
                let row: Option<$row> = sqlx::query($crate::storage::rotation::PREVIOUS)
                    .bind(jti)
                    .fetch_optional(&mut *self.0)
                    .await?;
                let previous = match row {
                    Some(row) => Some($crate::storage::rotation::Previous {
                        family: row.try_get("family_id")?,
                        refresh: row.try_get("new_refresh")?,
                        access: row.try_get("new_access")?,
                        rotated_at: codec::time(&row, "rotated_at")?,
                        successor_blacklisted: row.try_get("successor_blacklisted")?,
                    }),
                    None => None,
                };
                Ok((previous, blacklisted))
            }

            async fn claim(
                &mut self,
                rotation: &$crate::storage::Rotation,
                family: &str,
            ) -> $crate::storage::Result<bool> {
                let (old, new) = (&rotation.old, &rotation.new);
                Ok(sqlx::query($crate::storage::rotation::CLAIM)
                    .bind(&old.jti)
                    .bind(family)
                    .bind(&new.jti)
                    .bind(&new.token)
                    .bind(&rotation.new_access)
                    .bind(codec::encode(rotation.now))
                    .bind(codec::encode(old.expires_at))
                    .execute(&mut *self.0)
                    .await?
                    .rows_affected()
                    == 1)
            }

            async fn add_to_family(
                &mut self,
                jti: &str,
                family: &str,
                expires_at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::storage::Result<()> {
                add_to_family(self.0, jti, family, expires_at).await
            }

            async fn ensure_outstanding(
                &mut self,
                token: &$crate::storage::OutstandingToken,
            ) -> $crate::storage::Result<i64> {
                ensure_outstanding(self.0, token).await
            }

            async fn blacklist_id(
                &mut self,
                token_id: i64,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::storage::Result<()> {
                blacklist_id(self.0, token_id, at).await.map(|_| ())
            }

            async fn revoke_family(
                &mut self,
                family: &str,
                rotation: &$crate::storage::Rotation,
            ) -> $crate::storage::Result<()> {
                ensure_outstanding(self.0, &rotation.old).await?;
                sqlx::query($crate::storage::rotation::OUTSTAND_SUCCESSORS)
                    .bind(rotation.old.user_id)
                    .bind(family)
                    .execute(&mut *self.0)
                    .await?;
                blacklist_family(self.0, family, rotation.now).await?;
                Ok(())
            }
        }

        $crate::storage::sqlx_token_repository::sqlx_token_repository!(
            store: $store,
            conn: $conn,
            row: $row,
        );
    };
}

pub(crate) use sqlx_tokens;
