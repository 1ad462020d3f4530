//! `DATABASE_URL` in the forms dj-database-url accepts.

use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A file path (relative to the working directory unless absolute), or `:memory:`.
    Sqlite(PathBuf),
    /// A `postgres://` URL as sqlx accepts it.
    Postgres(String),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DatabaseUrlError {
    #[error("DATABASE_URL scheme {0:?} is not supported (use sqlite:///path.db or postgres://user@host/db)")]
    Scheme(String),
    #[error("DATABASE_URL is not a URL: {0}")]
    Malformed(String),
}

impl DatabaseUrl {
    /// `sqlite:///relative.db`, `sqlite:////abs/path.db`, `sqlite://:memory:`,
    /// `postgres://`, `postgresql://`, `pgsql://` (dj-database-url's aliases).
    pub fn parse(url: &str) -> Result<Self, DatabaseUrlError> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| DatabaseUrlError::Malformed("missing '://'".into()))?;
        match scheme {
            "sqlite" => {
                if rest == ":memory:" || rest.is_empty() || rest == "/:memory:" {
                    return Ok(Self::Sqlite(PathBuf::from(":memory:")));
                }
                // dj-database-url: the path is everything after "sqlite://" minus one leading slash.
                let path = rest.strip_prefix('/').unwrap_or(rest);
                let path = path.split('?').next().unwrap_or(path);
                if path.is_empty() {
                    return Err(DatabaseUrlError::Malformed("empty sqlite path".into()));
                }
                let decoded = percent_encoding::percent_decode_str(path)
                    .decode_utf8()
                    .map_err(|_| DatabaseUrlError::Malformed("path is not UTF-8".into()))?;
                Ok(Self::Sqlite(PathBuf::from(decoded.as_ref())))
            }
            "postgres" | "postgresql" | "pgsql" | "postgis" => {
                url::Url::parse(url).map_err(|e| DatabaseUrlError::Malformed(e.to_string()))?;
                Ok(Self::Postgres(format!("postgres://{rest}")))
            }
            other => Err(DatabaseUrlError::Scheme(other.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_forms() {
        assert_eq!(
            DatabaseUrl::parse("sqlite:///db.sqlite3"),
            Ok(DatabaseUrl::Sqlite("db.sqlite3".into()))
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:////var/lib/app/db.sqlite3"),
            Ok(DatabaseUrl::Sqlite("/var/lib/app/db.sqlite3".into()))
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite://:memory:"),
            Ok(DatabaseUrl::Sqlite(":memory:".into()))
        );
    }

    #[test]
    fn postgres_forms() {
        assert_eq!(
            DatabaseUrl::parse("postgresql://u:p@127.0.0.1:5432/app"),
            Ok(DatabaseUrl::Postgres(
                "postgres://u:p@127.0.0.1:5432/app".into()
            ))
        );
        assert_eq!(
            DatabaseUrl::parse("postgres://postgres@127.0.0.1/test"),
            Ok(DatabaseUrl::Postgres(
                "postgres://postgres@127.0.0.1/test".into()
            ))
        );
    }

    #[test]
    fn rejects_other_schemes() {
        assert!(matches!(
            DatabaseUrl::parse("mysql://x/y"),
            Err(DatabaseUrlError::Scheme(_))
        ));
        assert!(DatabaseUrl::parse("nonsense").is_err());
    }
}
