//! `AUTH_PASSWORD_VALIDATORS`: Django 5.2's four validators, their options and their messages.
//!
//! The default is the list `django-admin startproject` writes into settings.py (all four, default
//! options). Configured with Django's own dotted names and `OPTIONS`.

use regex::Regex;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};

const MODULE: &str = "django.contrib.auth.password_validation";

/// Django's `common-passwords.txt.gz` (Django 5.2.19, decompressed): 20,000 common passwords,
/// lowercased, by Royce Williams.
const COMMON_PASSWORDS: &str = include_str!("common-passwords.txt");

fn default_common_passwords() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| COMMON_PASSWORDS.lines().map(py_strip).collect())
}

/// `auth_user`'s attributes and their `verbose_name`s, in `DEFAULT_USER_ATTRIBUTES` order.
pub const AUTH_USER_ATTRIBUTES: &[(&str, &str)] = &[
    ("username", "username"),
    ("first_name", "first name"),
    ("last_name", "last name"),
    ("email", "email address"),
];

/// One attribute of the user a password is for (`getattr(user, name)`), with the field's
/// `verbose_name` that Django's similarity message names.
#[derive(Debug, Clone, Copy)]
pub struct UserAttribute<'a> {
    pub name: &'a str,
    pub verbose_name: &'a str,
    pub value: &'a str,
}

impl<'a> UserAttribute<'a> {
    /// An attribute with `auth_user`'s verbose name (or Django's default for other fields: the
    /// name with underscores as spaces).
    pub fn new(name: &'a str, value: &'a str) -> Self {
        let verbose_name = AUTH_USER_ATTRIBUTES
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(name, |(_, v)| v);
        Self {
            name,
            verbose_name,
            value,
        }
    }
}

#[derive(Clone)]
pub enum PasswordValidator {
    UserAttributeSimilarity {
        user_attributes: Vec<String>,
        max_similarity: f64,
    },
    MinimumLength {
        min_length: i64,
    },
    /// `None`: Django's own list; `Some`: the `password_list_path` file's lines.
    CommonPassword {
        passwords: Option<Arc<HashSet<String>>>,
    },
    Numeric,
}

impl std::fmt::Debug for PasswordValidator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::UserAttributeSimilarity {
                user_attributes,
                max_similarity,
            } => write!(
                f,
                "UserAttributeSimilarityValidator({user_attributes:?}, {max_similarity})"
            ),
            Self::MinimumLength { min_length } => write!(f, "MinimumLengthValidator({min_length})"),
            Self::CommonPassword { passwords } => write!(
                f,
                "CommonPasswordValidator({} passwords)",
                passwords
                    .as_ref()
                    .map_or(default_common_passwords().len(), |p| p.len())
            ),
            Self::Numeric => f.write_str("NumericPasswordValidator"),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ValidatorConfigError {
    #[error(
        "The module in NAME could not be imported: {0}. Check your AUTH_PASSWORD_VALIDATORS setting."
    )]
    UnknownName(String),
    #[error("{0}")]
    Invalid(String),
}

/// `AUTH_PASSWORD_VALIDATORS`, in order.
#[derive(Debug, Clone)]
pub struct PasswordValidators(pub Vec<PasswordValidator>);

impl Default for PasswordValidators {
    /// The four validators `startproject` configures, with their default options.
    fn default() -> Self {
        Self(vec![
            PasswordValidator::UserAttributeSimilarity {
                user_attributes: default_user_attributes(),
                max_similarity: 0.7,
            },
            PasswordValidator::MinimumLength { min_length: 8 },
            PasswordValidator::CommonPassword { passwords: None },
            PasswordValidator::Numeric,
        ])
    }
}

fn default_user_attributes() -> Vec<String> {
    AUTH_USER_ATTRIBUTES
        .iter()
        .map(|(n, _)| n.to_string())
        .collect()
}

impl PasswordValidators {
    /// Parse Django's setting shape: `[{"NAME": "<dotted name>", "OPTIONS": {...}}, ...]`.
    pub fn from_json(value: &Value) -> Result<Self, ValidatorConfigError> {
        let invalid = |m: &str| ValidatorConfigError::Invalid(m.to_string());
        let Value::Array(items) = value else {
            return Err(invalid("expected a list of {NAME, OPTIONS} tables"));
        };
        let mut out = Vec::new();
        for item in items {
            let Value::Object(map) = item else {
                return Err(invalid("each validator is a table with NAME (and OPTIONS)"));
            };
            if let Some(k) = map.keys().find(|k| *k != "NAME" && *k != "OPTIONS") {
                return Err(invalid(&format!("unknown validator key {k}")));
            }
            let name = map
                .get("NAME")
                .and_then(Value::as_str)
                .ok_or_else(|| invalid("a validator has no NAME"))?;
            let empty = serde_json::Map::new();
            let options = match map.get("OPTIONS") {
                None => &empty,
                Some(Value::Object(o)) => o,
                Some(_) => return Err(invalid("OPTIONS must be a table")),
            };
            out.push(PasswordValidator::from_setting(name, options)?);
        }
        Ok(Self(out))
    }

    /// Django's `validate_password`: every validator's message, in order (empty = valid).
    /// `user` is `None` when there is no user yet to compare with (similarity is then skipped).
    pub fn validate(&self, password: &str, user: Option<&[UserAttribute<'_>]>) -> Vec<String> {
        self.0
            .iter()
            .filter_map(|v| v.validate(password, user))
            .collect()
    }
}

impl PasswordValidator {
    fn from_setting(
        name: &str,
        options: &serde_json::Map<String, Value>,
    ) -> Result<Self, ValidatorConfigError> {
        let class = name
            .strip_prefix(MODULE)
            .and_then(|r| r.strip_prefix('.'))
            .unwrap_or(name);
        let allowed: &[&str] = match class {
            "UserAttributeSimilarityValidator" => &["user_attributes", "max_similarity"],
            "MinimumLengthValidator" => &["min_length"],
            "CommonPasswordValidator" => &["password_list_path"],
            "NumericPasswordValidator" => &[],
            _ => return Err(ValidatorConfigError::UnknownName(name.to_string())),
        };
        if let Some(k) = options.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(ValidatorConfigError::Invalid(format!(
                "{class}.__init__() got an unexpected keyword argument '{k}'"
            )));
        }
        let bad = |opt: &str, what: &str| {
            ValidatorConfigError::Invalid(format!("{class} option {opt} must be {what}"))
        };
        Ok(match class {
            "UserAttributeSimilarityValidator" => {
                let user_attributes = match options.get("user_attributes") {
                    None => default_user_attributes(),
                    Some(Value::Array(a)) => a
                        .iter()
                        .map(|v| v.as_str().map(String::from))
                        .collect::<Option<Vec<_>>>()
                        .ok_or_else(|| bad("user_attributes", "a list of strings"))?,
                    Some(_) => return Err(bad("user_attributes", "a list of strings")),
                };
                let max_similarity = match options.get("max_similarity") {
                    None => 0.7,
                    Some(v) => v
                        .as_f64()
                        .ok_or_else(|| bad("max_similarity", "a number"))?,
                };
                if max_similarity < 0.1 {
                    return Err(ValidatorConfigError::Invalid(
                        "max_similarity must be at least 0.1".into(),
                    ));
                }
                Self::UserAttributeSimilarity {
                    user_attributes,
                    max_similarity,
                }
            }
            "MinimumLengthValidator" => Self::MinimumLength {
                min_length: match options.get("min_length") {
                    None => 8,
                    Some(v) => v.as_i64().ok_or_else(|| bad("min_length", "an integer"))?,
                },
            },
            "CommonPasswordValidator" => Self::CommonPassword {
                passwords: match options.get("password_list_path") {
                    None => None,
                    Some(Value::String(path)) => Some(Arc::new(load_list(path)?)),
                    Some(_) => return Err(bad("password_list_path", "a path")),
                },
            },
            _ => Self::Numeric,
        })
    }

    /// This validator's message for `password`, if it refuses it.
    pub fn validate(&self, password: &str, user: Option<&[UserAttribute<'_>]>) -> Option<String> {
        match self {
            Self::UserAttributeSimilarity {
                user_attributes,
                max_similarity,
            } => similar_attribute(password, user?, user_attributes, *max_similarity)
                .map(|verbose| format!("The password is too similar to the {verbose}.")),
            Self::MinimumLength { min_length } => {
                let n = *min_length;
                (i64::try_from(password.chars().count()).unwrap_or(i64::MAX) < n).then(|| {
                    let unit = if n == 1 { "character" } else { "characters" };
                    format!("This password is too short. It must contain at least {n} {unit}.")
                })
            }
            Self::CommonPassword { passwords } => {
                let lowered = password.to_lowercase();
                let candidate = py_strip(&lowered);
                let common = match passwords {
                    None => default_common_passwords().contains(candidate),
                    Some(set) => set.contains(candidate),
                };
                common.then(|| "This password is too common.".to_string())
            }
            Self::Numeric => {
                py_isdigit(password).then(|| "This password is entirely numeric.".to_string())
            }
        }
    }
}

/// A `password_list_path` file: one password per line. Django also reads gzip; authbridge has no
/// gzip decoder, so a compressed list is refused with that reason rather than misread.
fn load_list(path: &str) -> Result<HashSet<String>, ValidatorConfigError> {
    let bytes = std::fs::read(path).map_err(|e| {
        ValidatorConfigError::Invalid(format!("CommonPasswordValidator {path}: {e}"))
    })?;
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return Err(ValidatorConfigError::Invalid(format!(
            "CommonPasswordValidator {path}: gzip lists are not supported, decompress it"
        )));
    }
    let text = String::from_utf8(bytes).map_err(|_| {
        ValidatorConfigError::Invalid(format!("CommonPasswordValidator {path}: not UTF-8"))
    })?;
    Ok(text.lines().map(|l| py_strip(l).to_string()).collect())
}

/// Python's `str.strip()`: Unicode whitespace plus the separators U+001C..U+001F.
fn py_strip(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c))
}

/// Python's `str.isdigit()`: non-empty, every character a decimal digit (`Nd`) or of
/// Numeric_Type=Digit (superscripts, circled digits, ...), listed here from Python 3.11 (Unicode 14).
fn py_isdigit(s: &str) -> bool {
    const DIGIT_NOT_ND: &[(u32, u32)] = &[
        (0xB2, 0xB3),
        (0xB9, 0xB9),
        (0x1369, 0x1371),
        (0x19DA, 0x19DA),
        (0x2070, 0x2070),
        (0x2074, 0x2079),
        (0x2080, 0x2089),
        (0x2460, 0x2468),
        (0x2474, 0x247C),
        (0x2488, 0x2490),
        (0x24EA, 0x24EA),
        (0x24F5, 0x24FD),
        (0x24FF, 0x24FF),
        (0x2776, 0x277E),
        (0x2780, 0x2788),
        (0x278A, 0x2792),
        (0x10A40, 0x10A43),
        (0x10E60, 0x10E68),
        (0x11052, 0x1105A),
        (0x1F100, 0x1F10A),
    ];
    static ND: OnceLock<Regex> = OnceLock::new();
    let nd = ND.get_or_init(|| Regex::new(r"^\p{Nd}$").expect("static pattern"));
    let mut buf = [0u8; 4];
    !s.is_empty()
        && s.chars().all(|c| {
            let cp = c as u32;
            DIGIT_NOT_ND
                .iter()
                .any(|(lo, hi)| (*lo..=*hi).contains(&cp))
                || nd.is_match(c.encode_utf8(&mut buf))
        })
}

/// `UserAttributeSimilarityValidator.validate`: the verbose name of the first attribute (in
/// `user_attributes` order) that the password is too similar to.
fn similar_attribute<'a>(
    password: &str,
    user: &[UserAttribute<'a>],
    user_attributes: &[String],
    max_similarity: f64,
) -> Option<&'a str> {
    static NON_WORD: OnceLock<Regex> = OnceLock::new();
    let non_word = NON_WORD
        .get_or_init(|| Regex::new(&format!("[^{}]+", super::PY_WORD)).expect("static pattern"));
    let password: Vec<char> = password.to_lowercase().chars().collect();
    for name in user_attributes {
        let Some(attr) = user.iter().find(|a| a.name == name) else {
            continue;
        };
        if attr.value.is_empty() {
            continue;
        }
        let value_lower = attr.value.to_lowercase();
        // `re.split(r"\W+", value_lower) + [value_lower]`
        let parts = non_word
            .split(&value_lower)
            .chain(std::iter::once(value_lower.as_str()));
        for part in parts {
            let part: Vec<char> = part.chars().collect();
            if exceeds_maximum_length_ratio(password.len(), max_similarity, part.len()) {
                continue;
            }
            if quick_ratio(&password, &part) >= max_similarity {
                return Some(attr.verbose_name);
            }
        }
    }
    None
}

/// Django's `exceeds_maximum_length_ratio`: skip values so much shorter than the password that
/// they can never be similar enough.
fn exceeds_maximum_length_ratio(pwd_len: usize, max_similarity: f64, value_len: usize) -> bool {
    let length_bound_similarity = max_similarity / 2.0 * pwd_len as f64;
    pwd_len >= 10 * value_len && (value_len as f64) < length_bound_similarity
}

/// `difflib.SequenceMatcher(a=a, b=b).quick_ratio()`: an upper bound on `ratio()` from the
/// multiset intersection of the characters.
fn quick_ratio(a: &[char], b: &[char]) -> f64 {
    let mut fullbcount: HashMap<char, i64> = HashMap::new();
    for c in b {
        *fullbcount.entry(*c).or_insert(0) += 1;
    }
    let mut avail: HashMap<char, i64> = HashMap::new();
    let mut matches = 0usize;
    for c in a {
        let numb = match avail.get(c) {
            Some(n) => *n,
            None => fullbcount.get(c).copied().unwrap_or(0),
        };
        avail.insert(*c, numb - 1);
        if numb > 0 {
            matches += 1;
        }
    }
    let length = a.len() + b.len();
    if length == 0 {
        1.0
    } else {
        2.0 * matches as f64 / length as f64
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user<'a>(username: &'a str, email: &'a str) -> Vec<UserAttribute<'a>> {
        vec![
            UserAttribute::new("username", username),
            UserAttribute::new("email", email),
        ]
    }

    /// Expected messages come from Django 5.2.19's `validate_password(password, User(...))` with
    /// the four default validators.
    #[test]
    fn django_default_messages() {
        let v = PasswordValidators::default();
        assert_eq!(
            v.validate("1", Some(&user("x", ""))),
            [
                "This password is too short. It must contain at least 8 characters.",
                "This password is too common.",
                "This password is entirely numeric."
            ]
        );
        assert!(v
            .validate(
                "correct horse battery staple",
                Some(&user("alice", "a@example.com"))
            )
            .is_empty());
        assert!(v
            .validate("boss-password", Some(&user("boss", "boss@example.com")))
            .is_empty());
        assert_eq!(
            v.validate("password", None),
            ["This password is too common."]
        );
        assert_eq!(
            v.validate("alice123x", Some(&user("alice123", ""))),
            ["The password is too similar to the username."]
        );
        assert_eq!(
            v.validate("Example-77", Some(&user("zed", "example@x.org"))),
            ["The password is too similar to the email address."]
        );
        assert!(v
            .validate(
                "Example-Com-77",
                Some(&user("zed", "someone@example-com.org"))
            )
            .is_empty());
        // Without a user there is nothing to be similar to.
        assert!(v.validate("alice123x", None).is_empty());
        // Common passwords are compared lowercased and stripped.
        assert_eq!(
            v.validate("  QWERTY123 ", None),
            ["This password is too common."]
        );
    }

    #[test]
    fn python_isdigit_and_strip() {
        assert!(py_isdigit("0123456789"));
        assert!(py_isdigit("٣٤५")); // Arabic-Indic and Devanagari digits (Nd)
        assert!(py_isdigit("²³①")); // Numeric_Type=Digit, not Nd
        assert!(!py_isdigit("½")); // Numeric_Type=Numeric
        assert!(!py_isdigit("Ⅻ")); // Nl
        assert!(!py_isdigit(""));
        assert!(!py_isdigit("12a"));
        assert_eq!(py_strip("\u{1c} a \u{3000}"), "a");
    }

    #[test]
    fn quick_ratio_matches_difflib() {
        let c = |s: &str| s.chars().collect::<Vec<_>>();
        // SequenceMatcher(a="A", b="A"*10).quick_ratio() == 0.18181818181818182
        assert_eq!(quick_ratio(&c("A"), &c(&"A".repeat(10))), 2.0 / 11.0);
        assert_eq!(quick_ratio(&c("abcd"), &c("bcde")), 0.75);
        assert_eq!(quick_ratio(&c(""), &c("")), 1.0);
        assert_eq!(quick_ratio(&c("aab"), &c("abb")), 2.0 * 2.0 / 6.0);
    }

    #[test]
    fn minimum_length_singular() {
        let v = PasswordValidator::MinimumLength { min_length: 1 };
        assert_eq!(
            v.validate("", None).unwrap(),
            "This password is too short. It must contain at least 1 character."
        );
        // Characters, not bytes.
        let v = PasswordValidator::MinimumLength { min_length: 8 };
        assert!(v.validate("éééééééé", None).is_none());
    }

    #[test]
    fn configuration() {
        let v = PasswordValidators::from_json(&json!([
            {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
             "OPTIONS": {"min_length": 12}},
            {"NAME": "NumericPasswordValidator"},
        ]))
        .unwrap();
        assert_eq!(
            v.validate("12345678901", None),
            [
                "This password is too short. It must contain at least 12 characters.",
                "This password is entirely numeric."
            ]
        );
        assert!(PasswordValidators::from_json(&json!([]))
            .unwrap()
            .validate("1", None)
            .is_empty());
        assert_eq!(
            PasswordValidators::from_json(&json!([{"NAME": "x.NopeValidator"}])).unwrap_err(),
            ValidatorConfigError::UnknownName("x.NopeValidator".into())
        );
        assert_eq!(
            PasswordValidators::from_json(&json!([
                {"NAME": "UserAttributeSimilarityValidator", "OPTIONS": {"max_similarity": 0.05}}
            ]))
            .unwrap_err()
            .to_string(),
            "max_similarity must be at least 0.1"
        );
        assert!(PasswordValidators::from_json(&json!([
            {"NAME": "MinimumLengthValidator", "OPTIONS": {"min_lenght": 3}}
        ]))
        .is_err());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("list.txt");
        std::fs::write(&path, "hunter2\n correcthorse \n").unwrap();
        let v = PasswordValidators::from_json(&json!([
            {"NAME": "CommonPasswordValidator", "OPTIONS": {"password_list_path": path}}
        ]))
        .unwrap();
        assert_eq!(
            v.validate("CorrectHorse", None),
            ["This password is too common."]
        );
        assert!(v.validate("password", None).is_empty());
    }

    #[test]
    fn django_list_is_loaded() {
        assert_eq!(default_common_passwords().len(), 19640);
        assert!(default_common_passwords().contains("123456"));
    }
}
