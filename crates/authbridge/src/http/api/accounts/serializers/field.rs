//! DRF's `CharField` and `EmailField` as `Serializer.to_internal_value` runs them, and the error
//! map it builds: one entry per field, in the serializer's declaration order.
//!
//! `run_validation` order (DRF 3.18): the blank check on the raw value; then absent (`required`,
//! or skipped) and null; then the type (`bool`, lists and objects are refused, numbers become
//! Python's `str()` of them) and Python's `strip()`; then every validator, all reported:
//! `max_length`, `min_length`, null characters, and for `EmailField` Django's `EmailValidator`.

use serde_json::{Map, Value};

use super::email::is_valid_email;
use crate::http::DrfError;

pub const REQUIRED: &str = "This field is required.";
pub const BLANK: &str = "This field may not be blank.";
pub const NULL: &str = "This field may not be null.";
pub const NOT_A_STRING: &str = "Not a valid string.";
pub const INVALID_EMAIL: &str = "Enter a valid email address.";
pub const NULL_CHARACTERS: &str = "Null characters are not allowed.";

/// What a field gives the serializer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cleaned {
    /// The cleaned value.
    Value(String),
    /// Not given and not required (or a partial update): the field is left out.
    Skipped,
    /// The field's errors, in DRF's order.
    Invalid(Vec<String>),
}

impl Cleaned {
    pub fn value(&self) -> Option<&str> {
        match self {
            Self::Value(v) => Some(v),
            _ => None,
        }
    }
}

/// A DRF `CharField` (or `EmailField`) with its options.
#[derive(Debug, Clone, Copy)]
pub struct CharField {
    pub required: bool,
    pub allow_blank: bool,
    pub max_length: Option<usize>,
    pub min_length: Option<usize>,
    pub email: bool,
}

impl CharField {
    /// `CharField()`: required, no blank, no null.
    pub const fn required() -> Self {
        Self {
            required: true,
            allow_blank: false,
            max_length: None,
            min_length: None,
            email: false,
        }
    }

    pub const fn max_length(self, n: usize) -> Self {
        Self {
            max_length: Some(n),
            ..self
        }
    }

    pub const fn min_length(self, n: usize) -> Self {
        Self {
            min_length: Some(n),
            ..self
        }
    }

    pub const fn email(self) -> Self {
        Self {
            email: true,
            ..self
        }
    }

    pub const fn optional(self) -> Self {
        Self {
            required: false,
            ..self
        }
    }

    pub const fn allow_blank(self) -> Self {
        Self {
            allow_blank: true,
            ..self
        }
    }

    /// `run_validation` of the raw value (`None`: the key is absent). `partial`: a PATCH, where
    /// an absent field is skipped even when required.
    pub fn clean(&self, raw: Option<&Value>, partial: bool) -> Cleaned {
        match self.to_internal(raw, partial) {
            Err(messages) => Cleaned::Invalid(messages),
            Ok(None) => Cleaned::Skipped,
            Ok(Some(text)) if text.is_empty() => Cleaned::Value(text),
            Ok(Some(text)) => {
                let errors = self.run_validators(&text);
                if errors.is_empty() {
                    Cleaned::Value(text)
                } else {
                    Cleaned::Invalid(errors)
                }
            }
        }
    }

    /// Everything before the validators: blank, absent, null, type, strip. `Ok(None)`: skipped;
    /// `Ok(Some(""))`: an allowed blank (the validators do not run on it).
    pub fn to_internal(
        &self,
        raw: Option<&Value>,
        partial: bool,
    ) -> Result<Option<String>, Vec<String>> {
        let invalid = |m: &str| Err(vec![m.to_string()]);
        // `data == '' or str(data).strip() == ''`: only a string can be blank.
        if let Some(Value::String(s)) = raw {
            if python_strip(s).is_empty() {
                return if self.allow_blank {
                    Ok(Some(String::new()))
                } else {
                    invalid(BLANK)
                };
            }
        }
        match raw {
            None if self.required && !partial => invalid(REQUIRED),
            None => Ok(None),
            Some(Value::Null) => invalid(NULL),
            Some(Value::String(s)) => Ok(Some(python_strip(s).to_string())),
            Some(Value::Number(n)) => Ok(Some(python_str_number(n))),
            Some(_) => invalid(if self.email {
                INVALID_EMAIL
            } else {
                NOT_A_STRING
            }),
        }
    }

    /// The field's validators, every message: `max_length`, `min_length`, null characters, the
    /// email rule.
    pub fn run_validators(&self, text: &str) -> Vec<String> {
        let mut errors = Vec::new();
        let length = text.chars().count();
        if let Some(max) = self.max_length {
            if length > max {
                errors.push(format!(
                    "Ensure this field has no more than {max} characters."
                ));
            }
        }
        if let Some(min) = self.min_length {
            if length < min {
                errors.push(format!("Ensure this field has at least {min} characters."));
            }
        }
        if text.contains('\0') {
            errors.push(NULL_CHARACTERS.to_string());
        }
        if self.email && !is_valid_email(text) {
            errors.push(INVALID_EMAIL.to_string());
        }
        errors
    }
}

/// Python's `str.strip()`: Unicode whitespace plus the separators `\x1c`..`\x1f`.
pub fn python_strip(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || ('\x1c'..='\x1f').contains(&c))
}

/// `str()` of the number Python's `json` module would have produced: integers exactly, floats
/// as `repr` (shortest round trip; exponent form below 1e-4 and from 1e16).
pub fn python_str_number(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    python_float_repr(n.as_f64().unwrap_or(0.0))
}

fn python_float_repr(f: f64) -> String {
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    // `{:e}` is the shortest round-trip digits: "1.5e0", "-1.2345e22".
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if (-4..16).contains(&exp) {
        let point = exp + 1;
        let body = if point <= 0 {
            format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize))
        } else if point as usize >= digits.len() {
            format!("{digits}{}.0", "0".repeat(point as usize - digits.len()))
        } else {
            let (int, frac) = digits.split_at(point as usize);
            format!("{int}.{frac}")
        };
        format!("{sign}{body}")
    } else {
        let exp_sign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{mantissa}e{exp_sign}{:02}", exp.unsigned_abs())
    }
}

/// A serializer's errors, kept in its fields' declaration order whatever order they are found
/// in (a database check can come after the checks of later fields).
#[derive(Debug)]
pub struct Errors {
    order: &'static [&'static str],
    found: Vec<(&'static str, Vec<String>)>,
}

impl Errors {
    pub fn new(order: &'static [&'static str]) -> Self {
        Self {
            order,
            found: Vec::new(),
        }
    }

    /// Record `field`'s messages (a field named in `order`).
    pub fn add(&mut self, field: &'static str, messages: Vec<String>) {
        if messages.is_empty() {
            return;
        }
        match self.found.iter_mut().find(|(f, _)| *f == field) {
            Some((_, existing)) => existing.extend(messages),
            None => self.found.push((field, messages)),
        }
    }

    /// Clean `field` from `data` and record its errors; the value when it is valid.
    pub fn clean(
        &mut self,
        data: &Map<String, Value>,
        field: &'static str,
        spec: CharField,
        partial: bool,
    ) -> Cleaned {
        let cleaned = spec.clean(data.get(field), partial);
        if let Cleaned::Invalid(messages) = &cleaned {
            self.add(field, messages.clone());
        }
        cleaned
    }

    /// Remove and return `field`'s messages.
    pub fn take(&mut self, field: &str) -> Vec<String> {
        match self.found.iter().position(|(f, _)| *f == field) {
            Some(i) => self.found.remove(i).1,
            None => Vec::new(),
        }
    }

    pub fn has(&self, field: &str) -> bool {
        self.found.iter().any(|(f, _)| *f == field)
    }

    pub fn is_empty(&self) -> bool {
        self.found.is_empty()
    }

    /// DRF's 400 body, `{"<field>": [..], ..}` in declaration order.
    pub fn into_map(self) -> Map<String, Value> {
        let mut map = Map::new();
        for name in self.order {
            if let Some((_, messages)) = self.found.iter().find(|(f, _)| f == name) {
                map.insert((*name).to_string(), Value::from(messages.clone()));
            }
        }
        map
    }

    /// `Ok` when no field failed, else DRF's 400.
    pub fn finish(self) -> Result<(), DrfError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(DrfError::Fields(self.into_map()))
        }
    }
}

/// `{"non_field_errors": [..]}` with every message (`DrfError::NonField` holds one).
pub fn non_field_errors(messages: Vec<String>) -> DrfError {
    let mut map = Map::new();
    map.insert("non_field_errors".into(), Value::from(messages));
    DrfError::Fields(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn floats_print_as_python_repr() {
        for (f, s) in [
            (1.5, "1.5"),
            (2.0, "2.0"),
            (-7.25, "-7.25"),
            (1e16, "1e+16"),
            (1.2345678901234568e22, "1.2345678901234568e+22"),
            (9999999999999998.0, "9999999999999998.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-0.0, "-0.0"),
            (0.1, "0.1"),
            (123456.789, "123456.789"),
        ] {
            assert_eq!(python_float_repr(f), s, "{f}");
        }
    }

    #[test]
    fn python_strip_includes_the_separators() {
        assert_eq!(python_strip("\x1c a \u{a0}\x1f"), "a");
        assert_eq!(python_strip("\u{feff}a"), "\u{feff}a");
    }

    #[test]
    fn errors_keep_declaration_order() {
        let mut e = Errors::new(&["a", "b", "c"]);
        e.add("c", vec!["3".into()]);
        e.add("a", vec!["1".into()]);
        e.add("a", vec!["1b".into()]);
        assert_eq!(
            Value::Object(e.into_map()),
            json!({"a": ["1", "1b"], "c": ["3"]})
        );
        let data = json!({"x": ""});
        let mut e = Errors::new(&["x"]);
        let spec = CharField::required().allow_blank();
        assert_eq!(
            e.clean(data.as_object().unwrap_or(&Map::new()), "x", spec, false),
            Cleaned::Value(String::new())
        );
        assert!(e.is_empty());
    }
}
