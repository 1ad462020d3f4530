//! Value parsers shared by the sections: `fn(key, value) -> Result<T, ConfigError>`, the key
//! being the name errors give. Environment values are strings; TOML values may also be typed.

use secrecy::SecretString;

use super::{simple_jwt, ConfigError, RawValue};

pub fn invalid(key: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_string(),
        reason: reason.into(),
    }
}

pub fn string(key: &str, value: &RawValue) -> Result<String, ConfigError> {
    match value {
        RawValue::Env(s) | RawValue::Toml(toml::Value::String(s)) => Ok(s.clone()),
        RawValue::Toml(toml::Value::Integer(i)) => Ok(i.to_string()),
        RawValue::Toml(_) => Err(invalid(key, "expected a string")),
    }
}

/// Empty strings (and Python's `None` spelled as a string) mean unset.
pub fn optional_string(key: &str, value: &RawValue) -> Result<Option<String>, ConfigError> {
    let s = string(key, value)?;
    Ok(if s.is_empty() || s == "None" {
        None
    } else {
        Some(s)
    })
}

/// A secret: unset when empty, as `optional_string`.
pub fn secret(key: &str, value: &RawValue) -> Result<Option<SecretString>, ConfigError> {
    Ok(optional_string(key, value)?.map(SecretString::from))
}

pub fn boolean(key: &str, value: &RawValue) -> Result<bool, ConfigError> {
    match value {
        RawValue::Toml(toml::Value::Boolean(b)) => Ok(*b),
        RawValue::Env(s) | RawValue::Toml(toml::Value::String(s)) => {
            match s.to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => Ok(true),
                "0" | "false" | "no" | "off" => Ok(false),
                _ => Err(invalid(key, format!("{s:?} is not a boolean"))),
            }
        }
        RawValue::Toml(_) => Err(invalid(key, "expected a boolean")),
    }
}

/// Seconds, from an integer or a string (see `simple_jwt::parse_duration`).
pub fn seconds(key: &str, value: &RawValue) -> Result<i64, ConfigError> {
    match value {
        RawValue::Toml(toml::Value::Integer(i)) => Ok(*i),
        RawValue::Toml(toml::Value::Float(f)) => Ok(*f as i64),
        RawValue::Env(s) | RawValue::Toml(toml::Value::String(s)) => simple_jwt::parse_duration(s)
            .ok_or_else(|| invalid(key, format!("{s:?} is not a duration"))),
        RawValue::Toml(_) => Err(invalid(key, "expected seconds or a duration string")),
    }
}

pub fn integer(key: &str, value: &RawValue) -> Result<i64, ConfigError> {
    match value {
        RawValue::Toml(toml::Value::Integer(i)) => Ok(*i),
        RawValue::Env(s) | RawValue::Toml(toml::Value::String(s)) => s
            .trim()
            .parse()
            .map_err(|_| invalid(key, format!("{s:?} is not an integer"))),
        RawValue::Toml(_) => Err(invalid(key, "expected an integer")),
    }
}

/// An integer between `lo` and `hi` (inclusive), as `T`.
pub fn int_in<T: TryFrom<i64>>(
    lo: i64,
    hi: i64,
) -> impl Fn(&str, &RawValue) -> Result<T, ConfigError> {
    move |key, value| {
        let n = integer(key, value)?;
        (lo..=hi)
            .contains(&n)
            .then(|| T::try_from(n).ok())
            .flatten()
            .ok_or_else(|| invalid(key, format!("must be between {lo} and {hi}")))
    }
}

/// A TOML array of strings, or a comma-separated string.
pub fn string_list(key: &str, value: &RawValue) -> Result<Vec<String>, ConfigError> {
    match value {
        RawValue::Toml(toml::Value::Array(items)) => items
            .iter()
            .map(|v| match v {
                toml::Value::String(s) => Ok(s.clone()),
                _ => Err(invalid(key, "expected a list of strings")),
            })
            .collect(),
        RawValue::Env(s) | RawValue::Toml(toml::Value::String(s)) => Ok(s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()),
        RawValue::Toml(_) => Err(invalid(key, "expected a list of strings")),
    }
}

/// `HOST:PORT`.
pub fn socket_addr(key: &str, value: &RawValue) -> Result<std::net::SocketAddr, ConfigError> {
    let s = string(key, value)?;
    s.parse()
        .map_err(|_| invalid(key, format!("{s:?} is not HOST:PORT")))
}

/// Structured data as JSON: a TOML value converted, or an environment variable's JSON text
/// (Django's own shape, e.g. `AUTH_PASSWORD_VALIDATORS`).
pub fn json(key: &str, value: &RawValue) -> Result<serde_json::Value, ConfigError> {
    match value {
        RawValue::Toml(v) => serde_json::to_value(v).map_err(|e| invalid(key, e.to_string())),
        RawValue::Env(s) => {
            serde_json::from_str(s).map_err(|e| invalid(key, format!("not JSON: {e}")))
        }
    }
}

/// Table and column names end up in SQL; allow only plain identifiers.
pub fn identifier(key: &str, value: &RawValue) -> Result<String, ConfigError> {
    let s = string(key, value)?;
    let ok = !s.is_empty()
        && s.len() <= 63
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit());
    if ok {
        Ok(s)
    } else {
        Err(invalid(key, format!("{s:?} is not a plain SQL identifier")))
    }
}

/// An HTTP token (RFC 9110 §5.6.2): header names, methods, cookie names.
pub fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}
