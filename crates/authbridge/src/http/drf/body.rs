//! Request bodies as DRF reads them: its three default parsers (JSON, form-encoded, multipart),
//! its 415 for anything else, and `CharField`'s validation (trim, blank, null, type) with DRF's
//! messages.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use serde_json::{Map, Value};

use super::pyjson;
use crate::http::error::DrfError;

/// Django's `DATA_UPLOAD_MAX_MEMORY_SIZE` (2.5 MB): larger bodies are refused before parsing.
pub const MAX_BODY_BYTES: usize = 2_621_440;

/// The parsed request data (`request.data`): a JSON object, or form fields as strings.
#[derive(Debug, Default)]
pub struct DrfData(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for DrfData {
    type Rejection = DrfError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default();
        let media = super::media_type(&content_type);
        let kind = match media.as_str() {
            "application/json" => Some(Kind::Json),
            "application/x-www-form-urlencoded" => Some(Kind::Form),
            "multipart/form-data" => Some(Kind::Multipart),
            _ => None,
        };
        let Some(kind) = kind else {
            // DRF looks for a parser only when `CONTENT_LENGTH` says there is a body: without one
            // the data is empty whatever the media type, and the serializer's field errors answer.
            let declared = req
                .headers()
                .get(CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap_or(0);
            if declared == 0 {
                return Ok(Self::default());
            }
            return Err(DrfError::UnsupportedMediaType(content_type));
        };
        let body = Bytes::from_request(req, state)
            .await
            .map_err(|_| DrfError::PayloadTooLarge)?;
        if body.len() > MAX_BODY_BYTES {
            return Err(DrfError::PayloadTooLarge);
        }
        // DRF: an empty body gives empty data, whatever the parser.
        if body.is_empty() {
            return Ok(Self::default());
        }
        match kind {
            Kind::Json => parse_json(&body),
            Kind::Form => Ok(parse_form(&body)),
            Kind::Multipart => parse_multipart(&content_type, body).await,
        }
    }
}

enum Kind {
    Json,
    Form,
    Multipart,
}

pub(in crate::http) fn parse_form(body: &[u8]) -> DrfData {
    DrfData(
        form_urlencoded::parse(body)
            .map(|(k, v)| (k.into_owned(), Value::from(v.into_owned())))
            .collect(),
    )
}

pub(in crate::http) fn parse_json(body: &[u8]) -> Result<DrfData, DrfError> {
    let text = std::str::from_utf8(body).map_err(|e| {
        let pos = e.valid_up_to();
        let byte = body.get(pos).copied().unwrap_or(0);
        DrfError::Parse(format!(
            "JSON parse error - 'utf-8' codec can't decode byte 0x{byte:02x} in position {pos}: invalid start byte"
        ))
    })?;
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(DrfData(map)),
        // DRF's serializer sees `None` as "no data" rather than as a value of the wrong type.
        Ok(Value::Null) => Err(DrfError::NonField("No data provided".into())),
        Ok(other) => Err(DrfError::NonField(format!(
            "Invalid data. Expected a dictionary, but got {}.",
            python_type_name(&other)
        ))),
        Err(_) => {
            let message = pyjson::error_message(text).unwrap_or_else(|| "Invalid JSON".into());
            Err(DrfError::Parse(format!("JSON parse error - {message}")))
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

async fn parse_multipart(content_type: &str, body: Bytes) -> Result<DrfData, DrfError> {
    let boundary = multer::parse_boundary(content_type).map_err(|_| {
        DrfError::Parse("Multipart form parse error - Invalid boundary in multipart: None".into())
    })?;
    Ok(DrfData(multipart_fields(&body, boundary.as_bytes())))
}

/// The form fields of a multipart body as Django's `MultiPartParser` finds them: the body is cut
/// at every `--boundary`; a part is the bytes up to a blank line (its headers, one per CRLF line)
/// and what follows (its value, less the line break before the next boundary). A part without a
/// blank line, without a `Content-Disposition` name, or with a file name is not a form field; a
/// header line that is not UTF-8 or has no colon is skipped. Nothing here fails the request:
/// control bytes in a field name leave that field with a name no serializer field has. Bounded:
/// one pass over a body already capped at `MAX_BODY_BYTES`, no recursion.
pub(in crate::http) fn multipart_fields(body: &[u8], boundary: &[u8]) -> Map<String, Value> {
    let mut separator = b"--".to_vec();
    separator.extend_from_slice(boundary);
    let mut fields = Map::new();
    for part in split_on(body, &separator) {
        let part = strip_line_break(part);
        let Some(header_end) = find(part, b"\r\n\r\n") else {
            continue;
        };
        let mut name = None;
        let mut is_file = false;
        let mut base64 = false;
        for line in split_on(&part[..header_end], b"\r\n") {
            let Ok(line) = std::str::from_utf8(line) else {
                continue;
            };
            let Some((header, value)) = line.split_once(':') else {
                continue;
            };
            let header = header.trim().to_ascii_lowercase();
            if header == "content-disposition" {
                let params = header_params(value);
                is_file = params.iter().any(|(k, v)| k == "filename" && !v.is_empty());
                name = params
                    .into_iter()
                    .find(|(k, _)| k == "name")
                    .map(|(_, v)| python_strip(&v).to_string());
            } else if header == "content-transfer-encoding" {
                base64 = value.trim().eq_ignore_ascii_case("base64");
            }
        }
        let (Some(name), false) = (name, is_file) else {
            continue;
        };
        let raw = &part[header_end + 4..];
        let decoded = if base64 {
            base64::engine::general_purpose::STANDARD.decode(raw).ok()
        } else {
            None
        };
        let value = String::from_utf8_lossy(decoded.as_deref().unwrap_or(raw)).into_owned();
        fields.insert(name, Value::from(value));
    }
    fields
}

use base64::Engine as _;

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn split_on<'a>(mut body: &'a [u8], separator: &'a [u8]) -> impl Iterator<Item = &'a [u8]> + 'a {
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        match find(body, separator) {
            Some(i) => {
                let part = &body[..i];
                body = &body[i + separator.len()..];
                Some(part)
            }
            None => {
                done = true;
                Some(body)
            }
        }
    })
}

/// The line break that belongs to the boundary after a part, not to its value.
fn strip_line_break(part: &[u8]) -> &[u8] {
    let part = part.strip_suffix(b"\n").unwrap_or(part);
    part.strip_suffix(b"\r").unwrap_or(part)
}

/// `; key=value; key="quoted \"value\""` parameters of a header value (after the main value).
fn header_params(value: &str) -> Vec<(String, String)> {
    let mut params = Vec::new();
    let mut rest = match value.split_once(';') {
        Some((_, rest)) => rest,
        None => return params,
    };
    loop {
        rest = rest.trim_start_matches([' ', '\t', ';']);
        let Some((key, after)) = rest.split_once('=') else {
            break;
        };
        let key = key.trim().to_ascii_lowercase();
        let after = after.trim_start();
        let (val, remainder) = if let Some(quoted) = after.strip_prefix('"') {
            let mut val = String::new();
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, escaped)) = chars.next() {
                            val.push(escaped);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    _ => val.push(c),
                }
            }
            (val, &quoted[end.min(quoted.len())..])
        } else {
            let end = after.find(';').unwrap_or(after.len());
            (after[..end].trim().to_string(), &after[end..])
        };
        params.push((key, val));
        rest = remainder;
        if rest.is_empty() {
            break;
        }
    }
    params
}

/// Python's `str.strip()`: Unicode whitespace plus the ASCII separators `\x1c`..`\x1f`.
fn python_strip(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || ('\x1c'..='\x1f').contains(&c))
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

    pub fn finish(self) -> Result<(), DrfError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(DrfError::Fields(self.errors))
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
            matches!(parse_json(b"[]"), Err(DrfError::NonField(m)) if m == "Invalid data. Expected a dictionary, but got list.")
        );
        assert!(
            matches!(parse_json(b"{not json"), Err(DrfError::Parse(m)) if m == "JSON parse error - Expecting property name enclosed in double quotes: line 1 column 2 (char 1)")
        );
    }
}

#[cfg(test)]
mod multipart_tests {
    use super::*;

    fn body(names: &[&[u8]]) -> Bytes {
        let mut b = Vec::new();
        for name in names {
            b.extend_from_slice(b"--xyz\r\nContent-Disposition: form-data; name=\"");
            b.extend_from_slice(name);
            b.extend_from_slice(b"\"\r\n\r\nv\r\n");
        }
        b.extend_from_slice(
            b"--xyz\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nbob\r\n--xyz--\r\n",
        );
        Bytes::from(b)
    }

    /// Django keeps parsing a multipart body whose field names hold control bytes (the field is
    /// just one the serializer does not know); the whole request must not fail.
    #[tokio::test]
    async fn control_bytes_in_field_names_do_not_fail_the_request() {
        for name in [
            &b"a\x1db"[..],
            b"a\rb",
            b"a\x01b",
            b"a\x00b",
            b"a\x7fb",
            b"a\tb",
            b"a\nb",
            b"a\xffb",
        ] {
            let data = parse_multipart("multipart/form-data; boundary=xyz", body(&[name]))
                .await
                .unwrap_or_else(|e| panic!("{name:?}: {e}"));
            assert_eq!(
                data.0.get("username"),
                Some(&Value::from("bob")),
                "{name:?}"
            );
        }
    }
}

#[cfg(test)]
mod multipart_shape_tests {
    use super::*;

    #[test]
    fn fields_as_django_reads_them() {
        let body = b"preamble\r\n--b\r\nContent-Disposition: form-data; name=\"a\\\"q\"\r\n\r\nline1\r\nline2\r\n--b\r\ncontent-disposition: form-data; name=\"f\"; filename=\"x.txt\"\r\n\r\nfile\r\n--b\r\nContent-Disposition: form-data; name=\"n\x1c\"\r\nContent-Transfer-Encoding: base64\r\n\r\naGk=\r\n--b\r\nno headers here\r\n--b\r\nContent-Disposition: form-data; name=\"a\nb\"\r\n\r\nv\r\n--b--\r\n";
        let fields = multipart_fields(body, b"b");
        assert_eq!(fields.get("a\"q"), Some(&Value::from("line1\r\nline2")));
        assert_eq!(fields.get("f"), None, "files are not form fields");
        assert_eq!(fields.get("n"), Some(&Value::from("hi")));
        assert_eq!(fields.get("a\nb"), Some(&Value::from("v")));
        assert_eq!(fields.len(), 3);
    }
}
