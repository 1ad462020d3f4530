//! Request bodies as DRF reads them: its three default parsers (JSON, form-encoded, multipart),
//! its 415 for anything else, and `CharField`'s validation (trim, blank, null, type) with DRF's
//! messages.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use serde_json::{Map, Value};

use super::error::ApiError;
use super::pyjson;

/// Django's `DATA_UPLOAD_MAX_MEMORY_SIZE` (2.5 MB): larger bodies are refused before parsing.
pub const MAX_BODY_BYTES: usize = 2_621_440;

/// The parsed request data (`request.data`): a JSON object, or form fields as strings.
#[derive(Debug, Default)]
pub struct DrfData(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for DrfData {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default();
        let media = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let kind = match media.as_str() {
            "application/json" => Kind::Json,
            "application/x-www-form-urlencoded" => Kind::Form,
            "multipart/form-data" => Kind::Multipart,
            _ => return Err(ApiError::UnsupportedMediaType(content_type)),
        };
        let body = Bytes::from_request(req, state)
            .await
            .map_err(|_| ApiError::PayloadTooLarge)?;
        if body.len() > MAX_BODY_BYTES {
            return Err(ApiError::PayloadTooLarge);
        }
        // DRF: an empty body gives empty data, whatever the parser.
        if body.is_empty() {
            return Ok(Self::default());
        }
        match kind {
            Kind::Json => parse_json(&body),
            Kind::Form => Ok(Self(
                form_urlencoded::parse(&body)
                    .map(|(k, v)| (k.into_owned(), Value::from(v.into_owned())))
                    .collect(),
            )),
            Kind::Multipart => parse_multipart(&content_type, body).await,
        }
    }
}

enum Kind {
    Json,
    Form,
    Multipart,
}

fn parse_json(body: &[u8]) -> Result<DrfData, ApiError> {
    let text = std::str::from_utf8(body).map_err(|e| {
        let pos = e.valid_up_to();
        let byte = body.get(pos).copied().unwrap_or(0);
        ApiError::Parse(format!(
            "JSON parse error - 'utf-8' codec can't decode byte 0x{byte:02x} in position {pos}: invalid start byte"
        ))
    })?;
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(DrfData(map)),
        // DRF's serializer sees `None` as "no data" rather than as a value of the wrong type.
        Ok(Value::Null) => Err(ApiError::NonField("No data provided".into())),
        Ok(other) => Err(ApiError::NonField(format!(
            "Invalid data. Expected a dictionary, but got {}.",
            python_type_name(&other)
        ))),
        Err(_) => {
            let message = pyjson::error_message(text).unwrap_or_else(|| "Invalid JSON".into());
            Err(ApiError::Parse(format!("JSON parse error - {message}")))
        }
    }
}

fn python_type_name(v: &Value) -> &'static str {
    match v {
        Value::Array(_) => "list",
        Value::String(_) => "str",
        Value::Bool(_) => "bool",
        Value::Null => "NoneType",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::Object(_) => "dict",
    }
}

async fn parse_multipart(content_type: &str, body: Bytes) -> Result<DrfData, ApiError> {
    let boundary = multer::parse_boundary(content_type).map_err(|_| {
        ApiError::Parse("Multipart form parse error - Invalid boundary in multipart: None".into())
    })?;
    let stream = futures_stream(body);
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut map = Map::new();
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => {
                let Some(name) = field.name().map(str::to_string) else {
                    continue;
                };
                if field.file_name().is_some() {
                    continue; // files are not form fields
                }
                let text = field
                    .text()
                    .await
                    .map_err(|e| ApiError::Parse(format!("Multipart form parse error - {e}")))?;
                map.insert(name, Value::from(text));
            }
            Ok(None) => break,
            Err(e) => return Err(ApiError::Parse(format!("Multipart form parse error - {e}"))),
        }
    }
    Ok(DrfData(map))
}

fn futures_stream(
    body: Bytes,
) -> impl futures_util::Stream<Item = Result<Bytes, std::convert::Infallible>> {
    futures_util::stream::once(async move { Ok(body) })
}

/// Validates declared `CharField`s and collects DRF's field errors in declaration order.
pub struct Fields<'a> {
    data: &'a Map<String, Value>,
    errors: Map<String, Value>,
}

impl<'a> Fields<'a> {
    pub fn new(data: &'a DrfData) -> Self {
        Self {
            data: &data.0,
            errors: Map::new(),
        }
    }

    /// DRF `CharField()` (required, trim_whitespace, no blank, no null). Returns the cleaned
    /// value, or records the error and returns an empty string.
    pub fn char_field(&mut self, name: &str) -> String {
        match char_field(self.data.get(name)) {
            Ok(v) => v,
            Err(msg) => {
                self.errors.insert(name.to_string(), Value::from(vec![msg]));
                String::new()
            }
        }
    }

    /// `CharField(required=False, allow_null=True, allow_blank=True)`: absent, null and blank
    /// all mean "not given" (Auth.js types profile fields as `string | null`).
    pub fn optional_char_field(&mut self, name: &str) -> Option<String> {
        match self.data.get(name) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.trim().is_empty() => None,
            Some(v) => match char_field(Some(v)) {
                Ok(s) => Some(s),
                Err(msg) => {
                    self.errors.insert(name.to_string(), Value::from(vec![msg]));
                    None
                }
            },
        }
    }

    /// `BooleanField(required=False)` with DRF's accepted spellings.
    pub fn boolean_field(&mut self, name: &str) -> bool {
        match self.data.get(name) {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(Value::Number(n)) if n.as_i64() == Some(1) => true,
            Some(Value::Number(n)) if n.as_i64() == Some(0) => false,
            Some(Value::String(s)) => match s.as_str() {
                "true" | "True" | "TRUE" | "1" | "on" | "On" | "ON" | "y" | "Y" | "yes" | "Yes"
                | "YES" => true,
                "false" | "False" | "FALSE" | "0" | "off" | "Off" | "OFF" | "n" | "N" | "no"
                | "No" | "NO" => false,
                _ => {
                    self.errors
                        .insert(name.into(), Value::from(vec!["Must be a valid boolean."]));
                    false
                }
            },
            Some(_) => {
                self.errors
                    .insert(name.into(), Value::from(vec!["Must be a valid boolean."]));
                false
            }
        }
    }

    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Fields(self.errors))
        }
    }
}

fn char_field(value: Option<&Value>) -> Result<String, &'static str> {
    let s = match value {
        None => return Err("This field is required."),
        Some(Value::Null) => return Err("This field may not be null."),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => python_number_str(n),
        Some(_) => return Err("Not a valid string."),
    };
    let trimmed = s.trim();
    if trimmed.is_empty() {
        return Err("This field may not be blank.");
    }
    if trimmed.contains('\0') {
        return Err("Null characters are not allowed.");
    }
    Ok(trimmed.to_string())
}

/// `str()` of the number Python's json module would have produced.
fn python_number_str(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    let f = n.as_f64().unwrap_or(0.0);
    if f.fract() == 0.0 && f.abs() < 1e16 {
        format!("{f:.1}")
    } else {
        f.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn char_field_follows_drf() {
        assert_eq!(char_field(None), Err("This field is required."));
        assert_eq!(
            char_field(Some(&json!(null))),
            Err("This field may not be null.")
        );
        assert_eq!(
            char_field(Some(&json!(""))),
            Err("This field may not be blank.")
        );
        assert_eq!(
            char_field(Some(&json!("   "))),
            Err("This field may not be blank.")
        );
        assert_eq!(char_field(Some(&json!(["x"]))), Err("Not a valid string."));
        assert_eq!(char_field(Some(&json!(true))), Err("Not a valid string."));
        assert_eq!(
            char_field(Some(&json!({"a": 1}))),
            Err("Not a valid string.")
        );
        assert_eq!(char_field(Some(&json!(123))), Ok("123".into()));
        assert_eq!(char_field(Some(&json!(1.5))), Ok("1.5".into()));
        assert_eq!(char_field(Some(&json!(2.0))), Ok("2.0".into()));
        assert_eq!(
            char_field(Some(&json!("  pass-1234 "))),
            Ok("pass-1234".into())
        );
        assert_eq!(
            char_field(Some(&json!("a\u{0}b"))),
            Err("Null characters are not allowed.")
        );
    }

    #[test]
    fn json_errors_are_drfs() {
        assert!(
            matches!(parse_json(b"[]"), Err(ApiError::NonField(m)) if m == "Invalid data. Expected a dictionary, but got list.")
        );
        assert!(
            matches!(parse_json(b"{not json"), Err(ApiError::Parse(m)) if m == "JSON parse error - Expecting property name enclosed in double quotes: line 1 column 2 (char 1)")
        );
    }
}
