//! The OpenID Connect repositories on the two sqlx backends, written once (stubs for now).

macro_rules! sqlx_oidc {
    (store: $store:ty, conn: $conn:ty, row: $row:ty $(,)?) => {
        fn not_yet<T>() -> $crate::storage::Result<T> {
            Err($crate::storage::StorageError::Schema(
                "OIDC storage is not implemented yet".into(),
            ))
        }

        #[async_trait::async_trait]
        impl $crate::storage::OidcKeyRepository for $store {
            async fn list_keys(&self) -> $crate::storage::Result<Vec<$crate::storage::KeyRecord>> {
                not_yet()
            }
            async fn insert_key(
                &self,
                _: &$crate::storage::KeyRecord,
            ) -> $crate::storage::Result<()> {
                not_yet()
            }
            async fn rotate_keys(
                &self,
                _: &$crate::storage::KeyRotation,
            ) -> $crate::storage::Result<()> {
                not_yet()
            }
            async fn delete_retired_keys(
                &self,
                _: chrono::DateTime<chrono::Utc>,
            ) -> $crate::storage::Result<u64> {
                not_yet()
            }
        }

        #[async_trait::async_trait]
        impl $crate::storage::OidcClientRepository for $store {
            async fn client(
                &self,
                _: &str,
            ) -> $crate::storage::Result<Option<$crate::storage::Client>> {
                not_yet()
            }
            async fn list_clients(&self) -> $crate::storage::Result<Vec<$crate::storage::Client>> {
                not_yet()
            }
            async fn insert_client(
                &self,
                _: &$crate::storage::Client,
                _: chrono::DateTime<chrono::Utc>,
            ) -> $crate::storage::Result<()> {
                not_yet()
            }
            async fn delete_client(&self, _: &str) -> $crate::storage::Result<bool> {
                not_yet()
            }
        }

        #[async_trait::async_trait]
        impl $crate::storage::AuthCodeRepository for $store {
            async fn insert_code(
                &self,
                _: &$crate::storage::CodeRecord,
            ) -> $crate::storage::Result<()> {
                not_yet()
            }
            async fn redeem_code(
                &self,
                _: $crate::storage::CodeHash,
                _: chrono::DateTime<chrono::Utc>,
            ) -> $crate::storage::Result<Option<$crate::storage::RedeemedCode>> {
                not_yet()
            }
            async fn set_code_refresh_jti(
                &self,
                _: $crate::storage::CodeHash,
                _: &str,
            ) -> $crate::storage::Result<()> {
                not_yet()
            }
            async fn delete_expired_codes(
                &self,
                _: chrono::DateTime<chrono::Utc>,
            ) -> $crate::storage::Result<u64> {
                not_yet()
            }
        }

        #[async_trait::async_trait]
        impl $crate::storage::LoginSessionRepository for $store {
            async fn create_login_session(
                &self,
                _: &$crate::storage::LoginSession,
            ) -> $crate::storage::Result<()> {
                not_yet()
            }
            async fn login_session(
                &self,
                _: $crate::storage::SessionHash,
                _: chrono::DateTime<chrono::Utc>,
            ) -> $crate::storage::Result<
                Option<($crate::storage::LoginSession, $crate::storage::User)>,
            > {
                not_yet()
            }
            async fn revoke_login_session(
                &self,
                _: $crate::storage::SessionHash,
            ) -> $crate::storage::Result<bool> {
                not_yet()
            }
            async fn revoke_user_login_sessions(&self, _: i64) -> $crate::storage::Result<u64> {
                not_yet()
            }
            async fn delete_expired_login_sessions(
                &self,
                _: chrono::DateTime<chrono::Utc>,
            ) -> $crate::storage::Result<u64> {
                not_yet()
            }
        }

        #[async_trait::async_trait]
        impl $crate::storage::ConsentRepository for $store {
            async fn consent(
                &self,
                _: i64,
                _: &str,
            ) -> $crate::storage::Result<Option<$crate::storage::Consent>> {
                not_yet()
            }
            async fn upsert_consent(
                &self,
                _: &$crate::storage::Consent,
            ) -> $crate::storage::Result<()> {
                not_yet()
            }
        }
    };
}

pub(crate) use sqlx_oidc;
