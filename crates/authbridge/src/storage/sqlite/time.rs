//! Datetimes as Django keeps them in SQLite: TEXT `YYYY-MM-DD HH:MM:SS[.ffffff]` in UTC, no offset,
//! no fraction when the microseconds are zero.

use crate::storage::{Result, StorageError};
use chrono::{DateTime, NaiveDateTime, Timelike, Utc};

/// Django's format (microsecond precision, like Python's `datetime.isoformat(" ")`).
pub(crate) fn format(at: DateTime<Utc>) -> String {
    let micros = at.nanosecond() % 1_000_000_000 / 1_000;
    let base = at.format("%Y-%m-%d %H:%M:%S");
    if micros == 0 {
        base.to_string()
    } else {
        format!("{base}.{micros:06}")
    }
}

/// Parses Django's format, and tolerates a `T` separator, any fraction length and an offset
/// (`Z`, `+00:00`, `+0000`), as Django's own `parse_datetime` does.
pub(crate) fn parse(text: &str) -> Result<DateTime<Utc>> {
    let s = text.trim().replacen('T', " ", 1);
    let naive = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").ok();
    let parsed = if let Some(stripped) = s.strip_suffix('Z') {
        naive(stripped).map(|n| n.and_utc())
    } else if let Some(n) = naive(&s) {
        Some(n.and_utc())
    } else {
        DateTime::parse_from_str(&s, "%Y-%m-%d %H:%M:%S%.f%#z")
            .ok()
            .map(|d| d.with_timezone(&Utc))
    };
    parsed.ok_or_else(|| {
        StorageError::Database(sqlx::Error::Decode(
            format!("not a Django datetime: {text:?}").into(),
        ))
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn formats_like_django() {
        assert_eq!(format(at("2026-11-28T02:18:18Z")), "2026-11-28 02:18:18");
        assert_eq!(
            format(at("2026-11-27T02:18:18.405937Z")),
            "2026-11-27 02:18:18.405937"
        );
        assert_eq!(
            format(at("2026-11-27T02:18:18.000001999Z")),
            "2026-11-27 02:18:18.000001"
        );
        assert_eq!(
            format(at("2026-11-27T02:18:18.000000999Z")),
            "2026-11-27 02:18:18"
        );
    }

    #[test]
    fn parses_all_forms() {
        let whole = at("2026-11-28T02:18:18Z");
        let frac = at("2026-11-27T02:18:18.405937Z");
        assert_eq!(parse("2026-11-28 02:18:18").unwrap(), whole);
        assert_eq!(parse("2026-11-27 02:18:18.405937").unwrap(), frac);
        assert_eq!(parse("2026-11-27T02:18:18.405937").unwrap(), frac);
        assert_eq!(parse("2026-11-28 02:18:18+00:00").unwrap(), whole);
        assert_eq!(parse("2026-11-28 04:18:18+02:00").unwrap(), whole);
        assert_eq!(parse("2026-11-28 02:18:18Z").unwrap(), whole);
        assert_eq!(parse("2026-11-27 02:18:18.405937+0000").unwrap(), frac);
        assert!(parse("yesterday").is_err());
    }
}
