//! How a section of settings is declared and filled, once for every section.
//!
//! A section is one struct declared with [`section!`]: each setting is written once, as its doc
//! line, its key (the ecosystem's own name), its field, its default and its parser. The macro
//! derives the struct, its `Default` and its key table; the loader below then fills any section
//! from the TOML file and from the environment alike, refuses unknown keys with the nearest valid
//! name, and runs each section's cross-field [`Rules`] once every source is applied.
//!
//! A section may also hold *groups* (sections whose keys sit at its own level, as the CORS keys
//! sit at the top of the file) and *tables* (`[simple_jwt]`, also `SIMPLE_JWT_<KEY>` in the
//! environment). Nested data (a table, or an array of tables such as `[[oidc.clients]]`) is a key
//! whose parser is [`table`] or [`tables`]: in the environment it is the same data as JSON.

use super::ConfigError;

/// One value from either source. Parsers see where it came from: an environment variable is
/// always a string, a TOML value has its own type.
#[derive(Debug, Clone)]
pub enum RawValue {
    Toml(toml::Value),
    Env(String),
}

/// One setting of section `S`: its key, its doc line, and how a value is parsed into `S`.
pub struct Key<S> {
    pub name: &'static str,
    pub doc: &'static str,
    /// Parse the value (errors name the key as the second argument) and store it.
    pub set: fn(&mut S, &str, &RawValue) -> Result<(), ConfigError>,
}

/// What a section checks beyond single values.
pub trait Rules {
    /// Cross-field checks, once every source is applied.
    fn check(&self) -> Result<(), ConfigError> {
        Ok(())
    }

    /// Keys that belong to the original package but not here, with the reason they are refused.
    fn refused(_name: &str) -> Option<&'static str> {
        None
    }
}

/// A section as the loader sees it; implemented by [`section!`].
pub trait Section: Default + Rules + Sized + 'static {
    /// This section's own keys, in declaration order.
    const KEYS: &'static [Key<Self>];

    /// Set `name` (a key of this section or of one of its groups); `None` when there is none.
    fn set(&mut self, name: &str, shown: &str, value: &RawValue)
        -> Option<Result<(), ConfigError>>;

    /// Every key name at this level: its own and its groups', in declaration order.
    fn names(out: &mut Vec<&'static str>);

    /// Its tables: the table's name (lower case, as in the file) and the section.
    fn tables(&mut self) -> Vec<(&'static str, &mut dyn Table)>;

    /// Every table's name and key names.
    fn table_names() -> Vec<(&'static str, Vec<&'static str>)>;

    /// Tables' and groups' rules, then the section's own.
    fn validate(&self) -> Result<(), ConfigError>;

    /// Every key name at this level.
    fn all_names() -> Vec<&'static str> {
        let mut out = Vec::new();
        Self::names(&mut out);
        out
    }
}

/// A section behind a table name, as an object (tables of one level have different types).
pub trait Table {
    fn set_key(
        &mut self,
        name: &str,
        shown: &str,
        value: &RawValue,
    ) -> Option<Result<(), ConfigError>>;
    fn key_names(&self) -> Vec<&'static str>;
    fn refusal(&self, name: &str) -> Option<&'static str>;
}

impl<S: Section> Table for S {
    fn set_key(
        &mut self,
        name: &str,
        shown: &str,
        value: &RawValue,
    ) -> Option<Result<(), ConfigError>> {
        self.set(name, shown, value)
    }
    fn key_names(&self) -> Vec<&'static str> {
        S::all_names()
    }
    fn refusal(&self, name: &str) -> Option<&'static str> {
        S::refused(name)
    }
}

/// Declare a section. Per setting: doc line, `"KEY" field: Type = default, parser;` where the
/// parser is a `fn(&str, &RawValue) -> Result<Type, ConfigError>` (the key's name for errors, the
/// value). Then optionally `groups { field: Section, }` (keys at this level), `tables {
/// "name" field: Section, }` and `derived { field: Type = default, }` (filled after loading).
macro_rules! section {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[doc = $doc:literal])*
                $key:literal $field:ident: $ty:ty = $default:expr, $parse:expr;
            )*
        }
        $(groups {
            $( $(#[doc = $gdoc:literal])* $gvis:vis $gfield:ident: $gty:ty, )*
        })?
        $(tables {
            $( $(#[doc = $tdoc:literal])* $table:literal $tfield:ident: $tty:ty, )*
        })?
        $(derived {
            $( $(#[doc = $ddoc:literal])* $dfield:ident: $dty:ty = $ddefault:expr, )*
        })?
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone)]
        pub struct $name {
            $( $(#[doc = $doc])* pub $field: $ty, )*
            $($( $(#[doc = $gdoc])* $gvis $gfield: $gty, )*)?
            $($( $(#[doc = $tdoc])* pub $tfield: $tty, )*)?
            $($( $(#[doc = $ddoc])* pub $dfield: $dty, )*)?
        }

        impl Default for $name {
            fn default() -> Self {
                Self {
                    $( $field: $default, )*
                    $($( $gfield: <$gty>::default(), )*)?
                    $($( $tfield: <$tty>::default(), )*)?
                    $($( $dfield: $ddefault, )*)?
                }
            }
        }

        impl $crate::config::schema::Section for $name {
            const KEYS: &'static [$crate::config::schema::Key<Self>] = &[$(
                $crate::config::schema::Key {
                    name: $key,
                    doc: concat!($($doc),*),
                    set: |s: &mut Self, k: &str, v: &$crate::config::RawValue| {
                        s.$field = ($parse)(k, v)?;
                        Ok(())
                    },
                },
            )*];

            fn set(
                &mut self,
                name: &str,
                shown: &str,
                value: &$crate::config::RawValue,
            ) -> Option<Result<(), $crate::config::ConfigError>> {
                if let Some(key) = Self::KEYS.iter().find(|k| k.name == name) {
                    return Some((key.set)(self, shown, value));
                }
                $($(
                    if let Some(done) = $crate::config::schema::Section::set(&mut self.$gfield, name, shown, value) {
                        return Some(done);
                    }
                )*)?
                None
            }

            fn names(out: &mut Vec<&'static str>) {
                out.extend(Self::KEYS.iter().map(|k| k.name));
                $($( <$gty as $crate::config::schema::Section>::names(out); )*)?
            }

            fn tables(&mut self) -> Vec<(&'static str, &mut dyn $crate::config::schema::Table)> {
                vec![$($( ($table, &mut self.$tfield as &mut dyn $crate::config::schema::Table), )*)?]
            }

            fn table_names() -> Vec<(&'static str, Vec<&'static str>)> {
                vec![$($( ($table, <$tty as $crate::config::schema::Section>::all_names()), )*)?]
            }

            fn validate(&self) -> Result<(), $crate::config::ConfigError> {
                $($( $crate::config::schema::Section::validate(&self.$tfield)?; )*)?
                $($( $crate::config::schema::Section::validate(&self.$gfield)?; )*)?
                $crate::config::schema::Rules::check(self)
            }
        }
    };
}
pub(crate) use section;

/// The unknown-key error, with the nearest valid name when one is close.
pub fn unknown<'a>(
    written: &str,
    bare: &str,
    names: impl IntoIterator<Item = &'a str>,
) -> ConfigError {
    ConfigError::UnknownKey {
        key: written.to_string(),
        suggestion: nearest(bare, names).map(str::to_string),
    }
}

/// The candidate closest to `name` (case aside) by edit distance, when within a third of its
/// length (at least one edit): `ACCES_TOKEN_LIFETIME` → `ACCESS_TOKEN_LIFETIME`.
pub fn nearest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let name = name.to_ascii_uppercase();
    let limit = (name.len() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (edit_distance(&name, &c.to_ascii_uppercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = d;
        }
    }
    rows[a.len()][b.len()]
}

/// Set one key of `section` at one level, or refuse it: unknown (with the nearest name) or one
/// the section refuses by name. `shown` names the key in value errors, `written` as the user
/// wrote it.
fn set_or_refuse(
    section: &mut dyn Table,
    name: &str,
    shown: &str,
    written: &str,
    value: &RawValue,
) -> Result<(), ConfigError> {
    if let Some(done) = section.set_key(name, shown, value) {
        return done;
    }
    if let Some(reason) = section.refusal(name) {
        return Err(ConfigError::Invalid {
            key: shown.to_string(),
            reason: reason.to_string(),
        });
    }
    Err(unknown(written, name, section.key_names()))
}

/// The canonical name of a table's key in messages: `SIMPLE_JWT.ACCESS_TOKEN_LIFETIME`.
fn qualified(table: &str, key: &str) -> String {
    format!("{}.{key}", table.to_ascii_uppercase())
}

/// One top-level entry of the file: a key of the root (or of its groups), or one of its tables
/// (the table's name in any case: `[simple_jwt]` or `[SIMPLE_JWT]`).
pub fn apply_file_entry<S: Section>(
    root: &mut S,
    key: &str,
    value: toml::Value,
) -> Result<(), ConfigError> {
    if let Some((table, section)) = root
        .tables()
        .into_iter()
        .find(|(t, _)| t.eq_ignore_ascii_case(key))
    {
        let toml::Value::Table(entries) = value else {
            return Err(ConfigError::Invalid {
                key: table.to_string(),
                reason: "must be a table".into(),
            });
        };
        for (k, v) in entries {
            let shown = qualified(table, &k);
            set_or_refuse(
                section,
                &k,
                &shown,
                &format!("{key}.{k}"),
                &RawValue::Toml(v),
            )?;
        }
        return Ok(());
    }
    if let Some(done) = root.set(key, key, &RawValue::Toml(value)) {
        return done;
    }
    // A table's key written at the top (`ACCESS_TOKEN_LIFETIME`, `SIMPLE_JWT_ACCESS_TOKEN_LIFETIME`)
    // is named with its table.
    for (table, names) in S::table_names() {
        let bare = strip_prefix_ignore_case(key, &format!("{table}_")).unwrap_or(key);
        if let Some(hit) = names.iter().find(|n| n.eq_ignore_ascii_case(bare)) {
            return Err(ConfigError::UnknownKey {
                key: key.to_string(),
                suggestion: Some(format!("{hit} in [{table}]")),
            });
        }
    }
    Err(unknown(key, key, S::all_names()))
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// Tables named after an ecosystem setting (Django's `SIMPLE_JWT` dict) keep that name in the
/// environment; authbridge's own tables are `AUTHBRIDGE_<TABLE>_<KEY>`, so that a variable of
/// another program sharing the environment (mozilla-django-oidc's `OIDC_RP_CLIENT_ID`) is never
/// read, or refused, as one of ours.
const ECOSYSTEM_TABLES: &[&str] = &["simple_jwt"];

/// The environment prefix of a table's keys, `_` included.
pub fn env_prefix(table: &str) -> String {
    if ECOSYSTEM_TABLES.contains(&table) {
        format!("{}_", table.to_ascii_uppercase())
    } else {
        format!("AUTHBRIDGE_{}_", table.to_ascii_uppercase())
    }
}

/// One environment variable: a top-level key by its exact name, a table's key as its
/// [`env_prefix`] and the key (`SIMPLE_JWT_ACCESS_TOKEN_LIFETIME`, `AUTHBRIDGE_OIDC_ENABLED`);
/// anything else belongs to other programs.
pub fn apply_env_var<S: Section>(
    root: &mut S,
    key: &str,
    value: String,
) -> Result<(), ConfigError> {
    for (table, section) in root.tables() {
        if let Some(k) = key.strip_prefix(&env_prefix(table)) {
            return set_or_refuse(section, k, &qualified(table, k), key, &RawValue::Env(value));
        }
    }
    root.set(key, key, &RawValue::Env(value)).unwrap_or(Ok(()))
}

/// A nested table (`[oidc.provider]`; in the environment a JSON object) as section `S`.
pub fn table<S: Section>(key: &str, value: &RawValue) -> Result<S, ConfigError> {
    let value = toml_value(key, value)?;
    section_from(key, &value)
}

/// An array of tables (`[[oidc.clients]]`; in the environment a JSON array of objects), each a
/// section `S`; errors name the item (`oidc.clients[1].redirect_uris`).
pub fn tables<S: Section>(key: &str, value: &RawValue) -> Result<Vec<S>, ConfigError> {
    let toml::Value::Array(items) = toml_value(key, value)? else {
        return Err(ConfigError::Invalid {
            key: key.to_string(),
            reason: "expected an array of tables".into(),
        });
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| section_from(&format!("{key}[{i}]"), item))
        .collect()
}

/// A TOML value as it is, or an environment variable's JSON as TOML.
fn toml_value(key: &str, value: &RawValue) -> Result<toml::Value, ConfigError> {
    match value {
        RawValue::Toml(v) => Ok(v.clone()),
        RawValue::Env(s) => {
            let json: serde_json::Value =
                serde_json::from_str(s).map_err(|e| ConfigError::Invalid {
                    key: key.to_string(),
                    reason: format!("not JSON: {e}"),
                })?;
            toml::Value::try_from(json).map_err(|e| ConfigError::Invalid {
                key: key.to_string(),
                reason: e.to_string(),
            })
        }
    }
}

fn section_from<S: Section>(path: &str, value: &toml::Value) -> Result<S, ConfigError> {
    let toml::Value::Table(entries) = value else {
        return Err(ConfigError::Invalid {
            key: path.to_string(),
            reason: "expected a table".into(),
        });
    };
    let mut section = S::default();
    for (k, v) in entries {
        let shown = format!("{path}.{k}");
        set_or_refuse(&mut section, k, &shown, &shown, &RawValue::Toml(v.clone()))?;
    }
    section.validate()?;
    Ok(section)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::parse;
    use super::*;

    section! {
        /// A client, as `[[example.clients]]` would hold it.
        pub struct Client {
            /// The client's id.
            "client_id" client_id: String = String::new(), parse::string;
            /// Where it may be sent back to.
            "redirect_uris" redirect_uris: Vec<String> = Vec::new(), parse::string_list;
        }
    }
    impl Rules for Client {
        fn check(&self) -> Result<(), ConfigError> {
            if self.client_id.is_empty() {
                return Err(ConfigError::Invalid {
                    key: "client_id".into(),
                    reason: "is required".into(),
                });
            }
            Ok(())
        }
    }

    section! {
        /// A future section with a nested table and an array of tables.
        pub struct Example {
            /// On or off.
            "ENABLED" enabled: bool = false, parse::boolean;
            /// The clients.
            "clients" clients: Vec<Client> = Vec::new(), tables::<Client>;
            /// One more table.
            "default_client" default_client: Option<Client> = None, |k, v| table::<Client>(k, v).map(Some);
        }
    }
    impl Rules for Example {}

    section! {
        /// A root with one table.
        pub struct Root {
            /// A top-level key.
            "TOP" top: i64 = 0, parse::integer;
        }
        tables {
            /// `[example]`.
            "example" example: Example,
        }
    }
    impl Rules for Root {}

    fn load(file: &str, env: &[(&str, &str)]) -> Result<Root, ConfigError> {
        let mut root = Root::default();
        for (k, v) in file.parse::<toml::Table>().unwrap() {
            apply_file_entry(&mut root, &k, v)?;
        }
        for (k, v) in env {
            apply_env_var(&mut root, k, v.to_string())?;
        }
        root.validate()?;
        Ok(root)
    }

    #[test]
    fn nested_tables_and_arrays_of_tables() {
        let root = load(
            r#"
TOP = 3
[example]
ENABLED = true
[[example.clients]]
client_id = "a"
redirect_uris = ["https://a.test/cb"]
[[example.clients]]
client_id = "b"
[example.default_client]
client_id = "d"
"#,
            &[],
        )
        .unwrap();
        assert_eq!(root.top, 3);
        assert!(root.example.enabled);
        let ids: Vec<_> = root
            .example
            .clients
            .iter()
            .map(|c| c.client_id.as_str())
            .collect();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(root.example.clients[0].redirect_uris, ["https://a.test/cb"]);
        assert_eq!(root.example.default_client.unwrap().client_id, "d");

        let root = load(
            "",
            &[(
                "AUTHBRIDGE_EXAMPLE_clients",
                r#"[{"client_id": "e", "redirect_uris": ["x"]}]"#,
            )],
        )
        .unwrap();
        assert_eq!(root.example.clients[0].client_id, "e");
    }

    #[test]
    fn nested_errors_name_the_item_and_suggest() {
        let err = load(
            "[[example.clients]]\nclient_id = \"a\"\nredirect_uri = []\n",
            &[],
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "unknown configuration key EXAMPLE.clients[0].redirect_uri; did you mean redirect_uris?"
        );
        let err = load("[[example.clients]]\nredirect_uris = []\n", &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("client_id") && err.contains("required"),
            "{err}"
        );
    }

    #[test]
    fn unknown_keys_get_the_nearest_name() {
        let err = load("", &[("AUTHBRIDGE_EXAMPLE_ENABLD", "1")])
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "unknown configuration key AUTHBRIDGE_EXAMPLE_ENABLD; did you mean ENABLED?"
        );
        let err = load("TPO = 1\n", &[]).unwrap_err().to_string();
        assert_eq!(err, "unknown configuration key TPO; did you mean TOP?");
        let err = load("ENABLED = true\n", &[]).unwrap_err().to_string();
        assert_eq!(
            err,
            "unknown configuration key ENABLED; did you mean ENABLED in [example]?"
        );
        let err = load("NOTHING_LIKE_IT = 1\n", &[]).unwrap_err().to_string();
        assert_eq!(err, "unknown configuration key NOTHING_LIKE_IT");
        // Other programs' variables are not ours to refuse.
        assert!(load("", &[("PATH", "/bin")]).is_ok());
    }

    #[test]
    fn distances() {
        assert_eq!(edit_distance("ACCES", "ACCESS"), 1);
        assert_eq!(edit_distance("ROTAET", "ROTATE"), 1);
        assert_eq!(edit_distance("", "ABC"), 3);
        assert_eq!(
            nearest("access_token_lifetime", ["ACCESS_TOKEN_LIFETIME"]),
            Some("ACCESS_TOKEN_LIFETIME")
        );
        assert_eq!(nearest("NOPE", ["LEEWAY", "ISSUER"]), None);
    }
}
