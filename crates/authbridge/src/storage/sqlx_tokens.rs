//! Tokens on the two sqlx backends, written once: `sqlx_tokens!` expands the statements and
//! `TokenRepository` in `sqlite/tokens.rs` and `postgres/tokens.rs` with that backend's connection
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

pub(crate) use sqlx_tokens;
