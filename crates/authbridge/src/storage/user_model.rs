//! The shape of Django's user table, read from the database once, and the SQL built from it.
//!
//! Custom user models (AbstractBaseUser + PermissionsMixin, or AbstractUser with fields removed)
//! lack some of `auth_user`'s columns, so every statement names only the columns that exist.

use super::migrate::quote_ident;
use super::{ExternalAccount, NewUser, Result, StorageError, UserTable};

/// One column of the user table as the database describes it.
#[derive(Debug, Clone)]
pub(crate) struct ColumnInfo {
    pub name: String,
    /// Lower-cased declared type (`varchar(150)`, `bool`, `boolean`, `timestamp with time zone`).
    pub data_type: String,
    pub not_null: bool,
    pub has_default: bool,
    /// `varchar(N)`'s N.
    pub max_len: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// A value to bind when inserting a user; each backend encodes times and booleans its own way.
#[derive(Debug, Clone)]
pub(crate) enum Value {
    Text(String),
    Bool(bool),
    /// The `now` passed to `create_user`.
    Now,
    NullTime,
}

/// Django's `AbstractUser` columns that authbridge reads or fills, besides `USERNAME_FIELD`.
const KNOWN: [&str; 10] = [
    "id",
    "password",
    "last_login",
    "is_superuser",
    "first_name",
    "last_name",
    "email",
    "is_staff",
    "is_active",
    "date_joined",
];

/// Username candidates checked per query, and how many to try before giving up.
pub(crate) const CANDIDATE_BATCH: u32 = 16;
pub(crate) const MAX_CANDIDATES: u32 = 4096;

/// Django's `username` max_length, used when the column has no declared length.
const DEFAULT_USERNAME_MAX: usize = 150;

#[derive(Debug)]
pub(crate) struct UserModel {
    dialect: Dialect,
    table: String,
    pub username_field: String,
    columns: Vec<ColumnInfo>,
    select: String,
}

impl UserModel {
    pub(crate) fn new(
        users: &UserTable,
        columns: Vec<ColumnInfo>,
        dialect: Dialect,
    ) -> Result<Self> {
        if columns.is_empty() {
            return Err(StorageError::Schema(format!(
                "the user table {:?} does not exist (run `authbridge migrate`, or Django's \
                 `manage.py migrate` for a custom user model)",
                users.table
            )));
        }
        for required in ["id", "password", users.username_field.as_str()] {
            if !columns.iter().any(|c| c.name == required) {
                return Err(StorageError::Schema(format!(
                    "the user table {:?} has no column {required:?} (check USERNAME_FIELD)",
                    users.table
                )));
            }
        }
        let mut model = Self {
            dialect,
            table: quote_ident(&users.table),
            username_field: users.username_field.clone(),
            columns,
            select: String::new(),
        };
        let list: Vec<String> = model.read_columns().map(quote_ident).collect();
        model.select = format!("SELECT {} FROM {}", list.join(", "), model.table);
        Ok(model)
    }

    pub(crate) fn has(&self, column: &str) -> bool {
        self.columns.iter().any(|c| c.name == column)
    }

    fn column(&self, name: &str) -> Option<&ColumnInfo> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The columns selected: the known ones present, and `USERNAME_FIELD`.
    fn read_columns(&self) -> impl Iterator<Item = &str> {
        let extra = (!KNOWN.contains(&self.username_field.as_str()))
            .then_some(self.username_field.as_str());
        KNOWN.into_iter().filter(|c| self.has(c)).chain(extra)
    }

    /// The declared type of `id` (`integer` or `bigint`): a foreign key to it takes the same.
    pub(crate) fn id_type(&self) -> &str {
        match self.column("id").map(|c| c.data_type.as_str()) {
            Some("bigint") => "bigint",
            _ => "integer",
        }
    }

    fn ph(&self, n: usize) -> String {
        match self.dialect {
            Dialect::Sqlite => "?".into(),
            Dialect::Postgres => format!("${n}"),
        }
    }

    pub(crate) fn by_username_sql(&self) -> String {
        format!(
            "{} WHERE {} = {}",
            self.select,
            quote_ident(&self.username_field),
            self.ph(1)
        )
    }

    pub(crate) fn by_id_sql(&self) -> String {
        format!("{} WHERE \"id\" = {}", self.select, self.ph(1))
    }

    /// Django's `email__iexact`: `LIKE ... ESCAPE` on SQLite (bind [`like_escape`]d), `UPPER` on
    /// PostgreSQL. `None` when the table has no `email` column.
    pub(crate) fn by_email_sql(&self) -> Option<String> {
        if !self.has("email") {
            return None;
        }
        let cond = match self.dialect {
            Dialect::Sqlite => "\"email\" LIKE ? ESCAPE '\\'".to_string(),
            Dialect::Postgres => "UPPER(\"email\"::text) = UPPER($1)".to_string(),
        };
        Some(format!("{} WHERE {cond} ORDER BY \"id\"", self.select))
    }

    /// `USERNAME_FIELD__iexact` (allauth's `filter_users_by_username`), as `by_email_sql`.
    pub(crate) fn by_username_iexact_sql(&self) -> String {
        let field = quote_ident(&self.username_field);
        let cond = match self.dialect {
            Dialect::Sqlite => format!("{field} LIKE ? ESCAPE '\\'"),
            Dialect::Postgres => format!("UPPER({field}::text) = UPPER($1)"),
        };
        format!("{} WHERE {cond} ORDER BY \"id\"", self.select)
    }

    /// `email = $1` (exact), by id; `None` without an `email` column.
    pub(crate) fn by_email_exact_sql(&self) -> Option<String> {
        self.has("email").then(|| {
            format!(
                "{} WHERE \"email\" = {} ORDER BY \"id\"",
                self.select,
                self.ph(1)
            )
        })
    }

    /// `UPDATE ... SET "email" = $1 WHERE "id" = $2`; `None` without an `email` column.
    pub(crate) fn set_email_sql(&self) -> Option<String> {
        self.has("email").then(|| {
            format!(
                "UPDATE {} SET \"email\" = {} WHERE \"id\" = {}",
                self.table,
                self.ph(1),
                self.ph(2)
            )
        })
    }

    /// `UPDATE ... SET <col> = $n, ... WHERE "id" = $last` for the columns of `columns` that
    /// exist (`USERNAME_FIELD` spelled `username`); `None` when none does. The columns kept, in
    /// order, come back with it.
    pub(crate) fn update_sql<'c>(&self, columns: &[&'c str]) -> Option<(String, Vec<&'c str>)> {
        let kept: Vec<&str> = columns
            .iter()
            .copied()
            .filter(|c| *c == "username" || self.has(c))
            .collect();
        if kept.is_empty() {
            return None;
        }
        let sets: Vec<String> = kept
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let name = if *c == "username" {
                    self.username_field.as_str()
                } else {
                    c
                };
                format!("{} = {}", quote_ident(name), self.ph(i + 1))
            })
            .collect();
        Some((
            format!(
                "UPDATE {} SET {} WHERE \"id\" = {}",
                self.table,
                sets.join(", "),
                self.ph(kept.len() + 1)
            ),
            kept,
        ))
    }

    pub(crate) fn set_password_sql(&self) -> String {
        format!(
            "UPDATE {} SET \"password\" = {} WHERE \"id\" = {}",
            self.table,
            self.ph(1),
            self.ph(2)
        )
    }

    /// A hash upgrade: the new password only if the stored one is still the old one.
    pub(crate) fn upgrade_password_sql(&self) -> String {
        format!(
            "{} AND \"password\" = {}",
            self.set_password_sql(),
            self.ph(3)
        )
    }

    pub(crate) fn set_last_login_sql(&self) -> Option<String> {
        self.has("last_login").then(|| {
            format!(
                "UPDATE {} SET \"last_login\" = {} WHERE \"id\" = {}",
                self.table,
                self.ph(1),
                self.ph(2)
            )
        })
    }

    /// `SELECT <USERNAME_FIELD> ... WHERE <USERNAME_FIELD> IN (...)` for `n` candidates.
    pub(crate) fn taken_sql(&self, n: usize) -> String {
        let field = quote_ident(&self.username_field);
        let list: Vec<String> = (1..=n).map(|i| self.ph(i)).collect();
        format!(
            "SELECT {field} FROM {} WHERE {field} IN ({})",
            self.table,
            list.join(", ")
        )
    }

    /// The INSERT for a new user with Django's non-null defaults, `ON CONFLICT DO NOTHING
    /// RETURNING "id"` (no row back means a unique value is taken).
    pub(crate) fn insert(&self, user: &NewUser) -> (String, Vec<Value>) {
        let username = if self.username_field == "email" && user.username.is_empty() {
            user.email.clone()
        } else {
            user.username.clone()
        };
        let mut values: Vec<(String, Value)> = Vec::new();
        for name in self.read_columns() {
            let value = match name {
                "id" => continue,
                n if n == self.username_field => Value::Text(username.clone()),
                "password" => Value::Text(user.password.clone()),
                "last_login" => Value::NullTime,
                "is_superuser" => Value::Bool(user.is_superuser),
                "first_name" => Value::Text(user.first_name.clone()),
                "last_name" => Value::Text(user.last_name.clone()),
                "email" => Value::Text(user.email.clone()),
                "is_staff" => Value::Bool(user.is_staff),
                "is_active" => Value::Bool(user.is_active),
                "date_joined" => Value::Now,
                _ => continue,
            };
            values.push((name.to_string(), value));
        }
        // Other NOT NULL columns of a custom model: Django's usual defaults for text and flags.
        for c in &self.columns {
            if !c.not_null
                || c.has_default
                || values.iter().any(|(n, _)| *n == c.name)
                || c.name == "id"
            {
                continue;
            }
            if is_text(&c.data_type) {
                values.push((c.name.clone(), Value::Text(String::new())));
            } else if c.data_type.starts_with("bool") {
                values.push((c.name.clone(), Value::Bool(false)));
            }
        }
        let names: Vec<String> = values.iter().map(|(n, _)| quote_ident(n)).collect();
        let phs: Vec<String> = (1..=values.len()).map(|i| self.ph(i)).collect();
        let sql = format!(
            "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT DO NOTHING RETURNING \"id\"",
            self.table,
            names.join(", "),
            phs.join(", ")
        );
        (sql, values.into_iter().map(|(_, v)| v).collect())
    }

    /// The user `sync_account` creates for `account`, and whether its `USERNAME_FIELD` value is a
    /// base to number (`alice`, `alice2`, ...). An email `USERNAME_FIELD` takes the email as is.
    pub(crate) fn account_user(
        &self,
        account: &ExternalAccount,
        new_user: &NewUser,
    ) -> Result<(NewUser, bool)> {
        let mut user = new_user.clone();
        if user.email.is_empty() {
            user.email = account.email.clone().unwrap_or_default();
        }
        if self.username_field == "email" {
            if user.email.is_empty() {
                return Err(StorageError::Conflict(
                    "USERNAME_FIELD is email but the account has no email".into(),
                ));
            }
            user.username = user.email.clone();
            return Ok((user, false));
        }
        if user.username.is_empty() {
            user.username = "user".into();
        }
        Ok((user, true))
    }

    /// The next batch of username candidates after `done` tried ones.
    pub(crate) fn candidates(&self, base: &str, done: u32) -> Vec<String> {
        let max = self.username_max_len();
        let mut batch: Vec<String> = (done + 1..=done + CANDIDATE_BATCH)
            .map(|n| username_candidate(base, n, max))
            .collect();
        batch.dedup();
        batch
    }

    /// The longest value `USERNAME_FIELD` takes.
    pub(crate) fn username_max_len(&self) -> usize {
        self.column(&self.username_field)
            .and_then(|c| c.max_len)
            .unwrap_or(DEFAULT_USERNAME_MAX)
    }
}

fn is_text(data_type: &str) -> bool {
    data_type.contains("char") || data_type.contains("text")
}

/// `varchar(150)` → 150.
pub(crate) fn declared_len(data_type: &str) -> Option<usize> {
    let inner = data_type.split_once('(')?.1.split_once(')')?.0;
    inner.trim().parse().ok()
}

/// Escape `\`, `%` and `_` for `LIKE ... ESCAPE '\'` (Django's iexact on SQLite).
pub(crate) fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if matches!(ch, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// The `n`th username candidate for `base` (`alice`, `alice2`, `alice3`, ...), at most `max`
/// characters: the base is shortened to leave room for the number.
pub(crate) fn username_candidate(base: &str, n: u32, max: usize) -> String {
    let suffix = if n <= 1 { String::new() } else { n.to_string() };
    let keep = max.saturating_sub(suffix.len());
    let mut out: String = base.chars().take(keep).collect();
    out.push_str(&suffix);
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn candidates_fit_the_column() {
        assert_eq!(username_candidate("alice", 1, 150), "alice");
        assert_eq!(username_candidate("alice", 2, 150), "alice2");
        let long = "x".repeat(150);
        assert_eq!(username_candidate(&long, 1, 150), long);
        let c = username_candidate(&long, 12, 150);
        assert_eq!(c.chars().count(), 150);
        assert!(c.ends_with("x12"));
        assert_eq!(username_candidate("ééé", 3, 2), "é3");
    }

    #[test]
    fn helpers() {
        assert_eq!(declared_len("varchar(150)"), Some(150));
        assert_eq!(declared_len("text"), None);
        assert_eq!(like_escape(r"a_b%c\d"), r"a\_b\%c\\d");
    }
}
