//! allauth's `account_emailaddress` on PostgreSQL: the shared statements
//! (`sqlx_email_addresses.rs`), a sign-up under advisory locks on its username and email (upper
//! case, as the iexact checks compare), so two sign-ups of one name or address cannot both pass.

use super::dialect::{lock, EMAIL_LOCK};
use super::{codec, dialect, users, PostgresStore};
use sqlx::PgConnection;

/// Django's `email__iexact` on PostgreSQL.
const EMAIL_IEXACT: &str = "UPPER(\"email\"::text) = UPPER($1)";

/// Advisory lock class of a sign-up's username.
const SIGNUP_USERNAME_LOCK: i32 = 0x6162_0010;

/// Always the username first, then the email: no two sign-ups wait on each other in a cycle.
async fn lock_signup(
    conn: &mut PgConnection,
    username: &str,
    email: &str,
) -> crate::storage::Result<()> {
    lock(conn, SIGNUP_USERNAME_LOCK, &username.to_uppercase()).await?;
    lock(conn, EMAIL_LOCK, &email.to_uppercase()).await
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

crate::storage::sqlx_email_addresses::sqlx_email_addresses!(
    store: PostgresStore,
    conn: PgConnection,
    row: sqlx::postgres::PgRow,
);
