//! `authbridge doctor`: the configuration and the database as an auditor sees them. One line per
//! check (`ok` / `warn` / `FAIL`), then the Django settings and the Auth.js environment that match
//! this configuration. Reads only: no file is generated, no table created, no row written. Never
//! prints a secret's value.

use secrecy::SecretString;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use super::CliError;
use crate::app;
use crate::config::secrets;
use crate::config::{DatabaseUrl, Settings};
use crate::storage::{self, Inspection};
use crate::validation::PasswordValidator;

/// Skew between this machine's clock and the database's beyond which token times disagree.
const CLOCK_SKEW_WARN_SECONDS: f64 = 5.0;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Ok,
    Warn,
    Fail,
}

struct Report {
    color: bool,
    failures: usize,
    warnings: usize,
}

impl Report {
    fn line(&mut self, level: Level, check: &str, detail: impl AsRef<str>) {
        let (word, code) = match level {
            Level::Ok => ("ok  ", "32"),
            Level::Warn => ("warn", "33"),
            Level::Fail => ("FAIL", "31"),
        };
        match level {
            Level::Fail => self.failures += 1,
            Level::Warn => self.warnings += 1,
            Level::Ok => {}
        }
        let word = if self.color {
            format!("\x1b[{code}m{word}\x1b[0m")
        } else {
            word.to_string()
        };
        println!("{word} {check}: {}", detail.as_ref());
    }
    fn ok(&mut self, check: &str, detail: impl AsRef<str>) {
        self.line(Level::Ok, check, detail);
    }
    fn warn(&mut self, check: &str, detail: impl AsRef<str>) {
        self.line(Level::Warn, check, detail);
    }
    fn fail(&mut self, check: &str, detail: impl AsRef<str>) {
        self.line(Level::Fail, check, detail);
    }
}

/// Where the Django secret key comes from, as `serve` would find it (without generating one).
enum SecretSource {
    Configured,
    File(PathBuf),
    /// Neither configured nor on disk: `serve` would generate the file.
    Missing(PathBuf),
}

fn load_secret(settings: &mut Settings, report: &mut Report) -> SecretSource {
    if settings.secret_key.is_some() {
        return SecretSource::Configured;
    }
    let path = settings.secret_file.clone();
    match std::fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => {
            settings.secret_key = Some(SecretString::from(text.trim().to_string()));
            SecretSource::File(path)
        }
        Ok(_) => SecretSource::Missing(path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => SecretSource::Missing(path),
        Err(e) => {
            report.fail(
                "secret file",
                format!("{} cannot be read: {e}", path.display()),
            );
            SecretSource::Missing(path)
        }
    }
}

pub async fn doctor(mut settings: Settings) -> Result<(), CliError> {
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut report = Report {
        color,
        failures: 0,
        warnings: 0,
    };

    // --- secrets ---------------------------------------------------------------------------
    if settings.insecure_dev {
        report.warn(
            "development mode",
            "AUTHBRIDGE_INSECURE_DEV is on: `serve` starts with weak secrets (never in production)",
        );
    }
    let source = load_secret(&mut settings, &mut report);
    match &source {
        SecretSource::Configured => report.ok("secret key", "DJANGO_SECRET_KEY is configured"),
        SecretSource::File(path) => {
            report.ok("secret key", format!("read from {}", path.display()));
            match app::secret_file_permission_problem(path) {
                Some(problem) => report.fail(
                    "secret file permissions",
                    format!("{} {problem}", path.display()),
                ),
                None => report.ok(
                    "secret file permissions",
                    format!("{} is private to its owner", path.display()),
                ),
            }
        }
        SecretSource::Missing(path) => report.warn(
            "secret key",
            format!(
                "no DJANGO_SECRET_KEY and no {}: `serve` will generate one there",
                path.display()
            ),
        ),
    }
    let weak = secrets::weak_secrets(&settings);
    for w in &weak {
        report.fail("secret strength", w.to_string());
    }
    if weak.is_empty() {
        report.ok(
            "secret strength",
            "every configured secret passes (Django W009, PyJWT HMAC key length, 32-character \
             Auth.js and service secrets)",
        );
    }
    match settings.authjs_secrets.len() {
        0 => report.ok(
            "Auth.js secrets",
            "not set: /api/authjs/* is off (set AUTH_SECRET to read Auth.js session cookies)",
        ),
        n => report.ok("Auth.js secrets", format!("{n} set")),
    }
    match &settings.service_token {
        None => report.ok(
            "service token",
            "AUTHBRIDGE_SERVICE_TOKEN not set: /api/users/sync is off",
        ),
        Some(_) => report.ok("service token", "AUTHBRIDGE_SERVICE_TOKEN is set"),
    }

    // --- hosts and origins -----------------------------------------------------------------
    let edge = &settings.edge;
    let default_hosts = crate::config::edge::EdgeSettings::default().allowed_hosts;
    let public_bind = !settings.bind.ip().is_loopback();
    if edge.allowed_hosts.iter().any(|h| h == "*") {
        report.warn(
            "allowed hosts",
            "AUTHBRIDGE_ALLOWED_HOSTS contains \"*\": any Host header is answered (set the names \
             clients use)",
        );
    } else if edge.allowed_hosts == default_hosts && public_bind {
        report.fail(
            "allowed hosts",
            format!(
                "listening on {} with the default AUTHBRIDGE_ALLOWED_HOSTS (local names only): \
                 every other host gets 400; set the names clients use",
                settings.bind
            ),
        );
    } else {
        report.ok(
            "allowed hosts",
            format!(
                "AUTHBRIDGE_ALLOWED_HOSTS = {}",
                edge.allowed_hosts.join(", ")
            ),
        );
    }
    match &edge.public_origin {
        Some(origin) if origin.starts_with("http://") && public_bind => report.warn(
            "public URL",
            format!("AUTHBRIDGE_PUBLIC_URL {origin} is not https"),
        ),
        Some(origin) => report.ok("public URL", format!("own origin {origin}")),
        None if public_bind => report.warn(
            "public URL",
            "AUTHBRIDGE_PUBLIC_URL not set: the CSRF own origin is rebuilt from the request's Host",
        ),
        None => report.ok("public URL", "not set (local development)"),
    }
    if edge.trusted_proxies.is_empty() {
        report.ok(
            "trusted proxies",
            "none: X-Forwarded-* headers are ignored, the client is the TCP peer",
        );
    } else if edge.trusted_proxies.iter().any(|net| net.prefix_len() == 0) {
        report.fail(
            "trusted proxies",
            "AUTHBRIDGE_TRUSTED_PROXIES contains a /0 network: any client could choose its address",
        );
    } else {
        report.ok(
            "trusted proxies",
            format!(
                "{} network(s) trusted for X-Forwarded-*",
                edge.trusted_proxies.len()
            ),
        );
    }
    if settings.trusted_origins.is_empty() {
        report.ok(
            "trusted origins",
            "AUTHBRIDGE_TRUSTED_ORIGINS empty: cookie-authenticated requests only from the same \
             origin",
        );
    } else {
        let http: Vec<&String> = settings
            .trusted_origins
            .iter()
            .filter(|o| o.starts_with("http://") && !is_local_origin(o))
            .collect();
        if http.is_empty() {
            report.ok(
                "trusted origins",
                format!("{} configured", settings.trusted_origins.len()),
            );
        } else {
            report.warn(
                "trusted origins",
                format!("plain-http origins trusted: {http:?}"),
            );
        }
    }

    // --- password rules --------------------------------------------------------------------
    let hashers = match app::password_service(&settings) {
        Ok(service) => Some(service.hashers().algorithms().to_vec()),
        Err(e) => {
            report.fail("PASSWORD_HASHERS", e.to_string());
            None
        }
    };
    if settings.password_validators.0.is_empty() {
        report.warn(
            "AUTH_PASSWORD_VALIDATORS",
            "empty: createuser and changepassword accept any password",
        );
    } else {
        report.ok(
            "AUTH_PASSWORD_VALIDATORS",
            format!("{} validators", settings.password_validators.0.len()),
        );
    }

    // --- database --------------------------------------------------------------------------
    let inspection = inspect_database(&settings, &mut report).await;
    if let Some((inspection, skew, store)) = &inspection {
        check_tables(&settings, inspection, &mut report);
        let oidc_migrated = inspection
            .own_migrations_applied
            .iter()
            .any(|m| m == "0004_oidc");
        if settings.oidc.enabled && oidc_migrated {
            match super::oidc::check_keys(&settings, store).await {
                Ok(detail) => report.ok("OIDC signing keys", detail),
                Err(detail) => report.fail("OIDC signing keys", detail),
            }
        }
        if let Some(hashers) = &hashers {
            check_hashes(hashers, inspection, &mut report);
        }
        if skew.abs() > CLOCK_SKEW_WARN_SECONDS {
            report.warn(
                "clock",
                format!(
                    "this machine and the database disagree by {skew:.1} s: token exp/iat checks \
                     shift by that much (sync both with NTP)"
                ),
            );
        } else {
            report.ok(
                "clock",
                format!("this machine and the database agree within {skew:.1} s"),
            );
        }
    }

    println!();
    print!("{}", django_settings(&settings, &source));
    println!();
    print!("{}", authjs_env(&settings));
    println!();
    println!("{} failed, {} warning(s)", report.failures, report.warnings);
    if report.failures > 0 {
        return Err(CliError::DoctorFailed(report.failures));
    }
    Ok(())
}

fn is_local_origin(origin: &str) -> bool {
    let rest = origin.trim_start_matches("http://");
    rest.starts_with("localhost") || rest.starts_with("127.0.0.1") || rest.starts_with("[::1]")
}

/// Open the database without creating or migrating anything; `(facts, skew in seconds)`.
async fn inspect_database(
    settings: &Settings,
    report: &mut Report,
) -> Option<(Inspection, f64, storage::DynStore)> {
    match DatabaseUrl::parse(&settings.database_url) {
        Ok(DatabaseUrl::Sqlite(path)) if path != Path::new(":memory:") && !path.exists() => {
            report.fail(
                "database",
                format!(
                    "SQLite file {} does not exist (run `authbridge migrate`, or point \
                     DATABASE_URL at Django's database)",
                    path.display()
                ),
            );
            return None;
        }
        Ok(_) => {}
        Err(e) => {
            report.fail("database", e.to_string());
            return None;
        }
    }
    let store = match storage::connect(&settings.database_url, app::user_table(settings)).await {
        Ok(store) => store,
        // `Unavailable` already reads "cannot connect to PostgreSQL at …" / "cannot open …".
        Err(e @ storage::StorageError::Unavailable(_)) => {
            report.fail("database", e.to_string());
            return None;
        }
        Err(e) => {
            report.fail("database", format!("cannot connect: {e}"));
            return None;
        }
    };
    let before = chrono::Utc::now();
    let result = store.inspect().await;
    let after = chrono::Utc::now();
    match result {
        Ok(inspection) => {
            report.ok("database", format!("{} reachable", store.backend()));
            let middle = before + (after - before) / 2;
            let skew = (inspection.now - middle).num_milliseconds() as f64 / 1000.0;
            Some((inspection, skew, store))
        }
        Err(e) => {
            report.fail("database", format!("cannot read the schema: {e}"));
            None
        }
    }
}

fn check_tables(settings: &Settings, inspection: &Inspection, report: &mut Report) {
    let has = |t: &str| inspection.tables.iter().any(|x| x == t);
    let mut missing: Vec<&str> = [
        settings.user_table.as_str(),
        "django_migrations",
        "token_blacklist_outstandingtoken",
        "token_blacklist_blacklistedtoken",
    ]
    .into_iter()
    .filter(|t| !has(t))
    .collect();
    missing.dedup();
    if missing.is_empty() {
        report.ok(
            "Django tables",
            format!(
                "{}, django_migrations and token_blacklist_* present",
                settings.user_table
            ),
        );
    } else {
        report.fail(
            "Django tables",
            format!(
                "missing {} (run Django's `manage.py migrate` with \
                 rest_framework_simplejwt.token_blacklist installed, or `authbridge migrate`)",
                missing.join(", ")
            ),
        );
    }
    let pending: Vec<&str> = Inspection::own_migrations_known()
        .into_iter()
        .filter(|m| !inspection.own_migrations_applied.iter().any(|a| a == m))
        .collect();
    if pending.is_empty() {
        report.ok(
            "authbridge migrations",
            format!("{} applied", inspection.own_migrations_applied.len()),
        );
    } else {
        report.fail(
            "authbridge migrations",
            format!(
                "not applied: {} (run `authbridge migrate`)",
                pending.join(", ")
            ),
        );
    }
}

/// Django 5.2 removed these hashers; their hashes can no longer be checked by Django either.
const REMOVED_ALGORITHMS: &[&str] = &["sha1", "unsalted_sha1", "unsalted_md5", "crypt"];

fn check_hashes(
    configured: &[django_hashers::Algorithm],
    inspection: &Inspection,
    report: &mut Report,
) {
    if inspection.password_algorithms.is_empty() {
        report.ok("password hashes", "no users yet");
        return;
    }
    let preferred = configured.first().copied();
    for (prefix, count) in &inspection.password_algorithms {
        let check = "password hashes";
        match prefix.as_str() {
            "!" => report.ok(
                check,
                format!("{count} user(s) with an unusable password (no password login)"),
            ),
            "" => report.warn(
                check,
                format!(
                    "{count} user(s) whose password names no algorithm (empty, legacy unsalted \
                     MD5 or not a Django hash): they cannot log in with a password"
                ),
            ),
            p => match configured.iter().find(|a| a.name() == p) {
                Some(alg) if Some(*alg) == preferred => {
                    report.ok(check, format!("{count} {p} hash(es), the preferred hasher"))
                }
                Some(_) => report.ok(
                    check,
                    format!(
                        "{count} {p} hash(es): PASSWORD_HASHERS has it; upgraded to {} at the \
                         next login",
                        preferred.map_or("", |a| a.name())
                    ),
                ),
                None if REMOVED_ALGORITHMS.contains(&p) => report.fail(
                    check,
                    format!(
                        "{count} {p} hash(es): Django 5.2 removed this hasher; these users cannot \
                         log in (reset their passwords)"
                    ),
                ),
                None => {
                    let known = django_hashers::Algorithm::ALL
                        .iter()
                        .find(|a| a.name() == p);
                    let shown = if p.len() <= 40
                        && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    {
                        p.to_string()
                    } else {
                        "<unrecognised prefix>".to_string()
                    };
                    let fix = match known {
                        Some(alg) => format!("add {} to PASSWORD_HASHERS", alg.django_setting()),
                        None => "no hasher knows this prefix".to_string(),
                    };
                    report.fail(
                        check,
                        format!(
                            "{count} {shown} hash(es) but no configured hasher for them: those \
                             users cannot log in ({fix})"
                        ),
                    );
                }
            },
        }
    }
}

/// A Python string literal (JSON's escapes are Python's).
fn py_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

fn py_bool(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

fn py_opt(s: &Option<String>) -> String {
    s.as_deref().map_or("None".into(), py_str)
}

/// The Django settings that make Django and authbridge agree, secrets by reference only.
fn django_settings(settings: &Settings, source: &SecretSource) -> String {
    let jwt = &settings.simple_jwt;
    let mut out = String::from(
        "# --- Django settings.py (matches this authbridge configuration) ---\n\
         import os\nfrom datetime import timedelta\nfrom pathlib import Path\n\n",
    );
    let secret_key = match source {
        SecretSource::Configured => {
            "os.environ[\"DJANGO_SECRET_KEY\"]  # the same value as authbridge's".to_string()
        }
        SecretSource::File(path) | SecretSource::Missing(path) => {
            let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
            format!(
                "Path({}).read_text().strip()  # authbridge's secret file",
                py_str(&abs.display().to_string())
            )
        }
    };
    out.push_str(&format!("SECRET_KEY = {secret_key}\n"));
    out.push_str("INSTALLED_APPS += [\"rest_framework_simplejwt.token_blacklist\"]\n");
    if settings.user_table != "auth_user" {
        out.push_str(&format!(
            "# AUTH_USER_MODEL: the model whose table is {} (USERNAME_FIELD = {})\n",
            py_str(&settings.user_table),
            py_str(&settings.username_field)
        ));
    }
    let hashers: Vec<String> = if settings.password_hashers.is_empty() {
        django_hashers::Hashers::django_default()
            .algorithms()
            .iter()
            .map(|a| a.django_setting())
            .collect()
    } else {
        settings
            .password_hashers
            .iter()
            .map(|n| {
                django_hashers::Algorithm::from_setting(n)
                    .map(|a| a.django_setting())
                    .unwrap_or_else(|_| n.clone())
            })
            .collect()
    };
    out.push_str("PASSWORD_HASHERS = [\n");
    for h in hashers {
        out.push_str(&format!("    {},\n", py_str(&h)));
    }
    out.push_str("]\nAUTH_PASSWORD_VALIDATORS = [\n");
    for v in &settings.password_validators.0 {
        let module = "django.contrib.auth.password_validation";
        let line = match v {
            PasswordValidator::UserAttributeSimilarity {
                user_attributes,
                max_similarity,
            } => format!(
                "{{\"NAME\": \"{module}.UserAttributeSimilarityValidator\", \"OPTIONS\": \
                 {{\"user_attributes\": [{}], \"max_similarity\": {max_similarity:?}}}}}",
                user_attributes
                    .iter()
                    .map(|a| py_str(a))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            PasswordValidator::MinimumLength { min_length } => format!(
                "{{\"NAME\": \"{module}.MinimumLengthValidator\", \"OPTIONS\": {{\"min_length\": \
                 {min_length}}}}}"
            ),
            PasswordValidator::CommonPassword { passwords: None } => {
                format!("{{\"NAME\": \"{module}.CommonPasswordValidator\"}}")
            }
            PasswordValidator::CommonPassword { passwords: Some(_) } => format!(
                "{{\"NAME\": \"{module}.CommonPasswordValidator\"}},  # with authbridge's \
                 password_list_path"
            ),
            PasswordValidator::Numeric => {
                format!("{{\"NAME\": \"{module}.NumericPasswordValidator\"}}")
            }
        };
        out.push_str(&format!("    {line},\n"));
    }
    out.push_str("]\n");
    let signing_key = if jwt.signing_key.is_some() {
        "os.environ[\"SIMPLE_JWT_SIGNING_KEY\"]  # the same value as authbridge's".to_string()
    } else {
        "SECRET_KEY".to_string()
    };
    let verifying_key = if jwt.algorithm.is_symmetric() {
        "\"\"".to_string()
    } else {
        "os.environ[\"SIMPLE_JWT_VERIFYING_KEY\"]  # the public key".to_string()
    };
    let header_types = jwt
        .auth_header_types
        .iter()
        .map(|t| py_str(t))
        .collect::<Vec<_>>()
        .join(", ");
    let rows: Vec<(&str, String)> = vec![
        (
            "ACCESS_TOKEN_LIFETIME",
            format!("timedelta(seconds={})", jwt.access_token_lifetime),
        ),
        (
            "REFRESH_TOKEN_LIFETIME",
            format!("timedelta(seconds={})", jwt.refresh_token_lifetime),
        ),
        (
            "ROTATE_REFRESH_TOKENS",
            py_bool(jwt.rotate_refresh_tokens).into(),
        ),
        (
            "BLACKLIST_AFTER_ROTATION",
            py_bool(jwt.blacklist_after_rotation).into(),
        ),
        ("UPDATE_LAST_LOGIN", py_bool(jwt.update_last_login).into()),
        ("ALGORITHM", py_str(jwt.algorithm.name())),
        ("SIGNING_KEY", signing_key),
        ("VERIFYING_KEY", verifying_key),
        ("AUDIENCE", py_opt(&jwt.audience)),
        ("ISSUER", py_opt(&jwt.issuer)),
        ("LEEWAY", jwt.leeway.to_string()),
        ("AUTH_HEADER_TYPES", format!("({header_types},)")),
        ("AUTH_HEADER_NAME", py_str(&jwt.auth_header_name)),
        ("USER_ID_FIELD", py_str(&jwt.user_id_field)),
        ("USER_ID_CLAIM", py_str(&jwt.user_id_claim)),
        ("TOKEN_TYPE_CLAIM", py_str(&jwt.token_type_claim)),
        ("JTI_CLAIM", py_str(&jwt.jti_claim)),
        (
            "CHECK_USER_IS_ACTIVE",
            py_bool(jwt.check_user_is_active).into(),
        ),
        ("CHECK_REVOKE_TOKEN", py_bool(jwt.check_revoke_token).into()),
        ("REVOKE_TOKEN_CLAIM", py_str(&jwt.revoke_token_claim)),
    ];
    out.push_str("SIMPLE_JWT = {\n");
    for (k, v) in rows {
        // A trailing comment must follow the comma.
        let (value, comment) = match v.split_once("  # ") {
            Some((value, comment)) => (value.to_string(), format!("  # {comment}")),
            None => (v, String::new()),
        };
        out.push_str(&format!("    \"{k}\": {value},{comment}\n"));
    }
    out.push_str("}\n");
    out
}

/// The Auth.js side (Next.js `.env.local`), values by reference. Comments stand on lines of
/// their own (not every dotenv parser strips trailing ones).
fn authjs_env(settings: &Settings) -> String {
    let bind = settings.bind;
    let mut out = String::from("# --- Auth.js / Next.js environment (.env.local) ---\n");
    out.push_str(&format!(
        "# Where the Next.js server reaches authbridge:\nAUTHBRIDGE_URL=http://{bind}\n"
    ));
    if settings.authjs_secrets.is_empty() {
        out.push_str(
            "# authbridge has no AUTH_SECRET: generate one (npx auth secret) and give both the \
             same value:\n# AUTH_SECRET=\n",
        );
    } else {
        out.push_str("# The same value as authbridge's AUTH_SECRET:\nAUTH_SECRET=\n");
    }
    if settings.service_token.is_some() {
        out.push_str(
            "# The same value as authbridge's AUTHBRIDGE_SERVICE_TOKEN (OAuth/OIDC sign-in):\n\
             AUTHBRIDGE_SERVICE_TOKEN=\n",
        );
    } else {
        out.push_str(
            "# For OAuth/OIDC sign-in (/api/users/sync), generate a token (openssl rand -base64 \
             32) and give both the same value:\n# AUTHBRIDGE_SERVICE_TOKEN=\n",
        );
    }
    out.push_str("# auth.ts: see examples/authjs (authbridge-config.mjs)\n");
    out
}
