//! The command line, black-box: the real binary with a clean environment. `serve` refuses weak
//! secrets (development mode allows them loudly), the generated secret file is private and holds
//! the key alone, `createuser`/`changepassword` apply Django's validators, `doctor` audits.

use crate::support::binary::{run, text, Served};
use crate::support::{backends, TestDb, SECRET};
use std::path::Path;

fn sqlite_env(dir: &Path) -> String {
    format!("sqlite:///{}", dir.join("db.sqlite3").display())
}

// ---------------------------------------------------------------------------------------------
// Finding 6: weak secrets

#[test]
fn serve_refuses_weak_secrets_naming_the_setting_never_the_value() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_env(dir.path());
    let cases: &[(&str, &str)] = &[
        ("DJANGO_SECRET_KEY", "a"),
        ("DJANGO_SECRET_KEY", "sixteen-chars-xy"),
        (
            "DJANGO_SECRET_KEY",
            "django-insecure-q9#t2v@x8!m4k1^z7w&e5r(0y)b6n3c-h_j+l=s%d*f$g",
        ),
    ];
    for (key, value) in cases {
        let (code, stderr) = Served::start(dir.path(), &[("DATABASE_URL", &db), (key, value)])
            .err()
            .unwrap();
        assert_ne!(code, Some(0));
        assert!(
            stderr.contains("refusing to start with weak secrets"),
            "{stderr}"
        );
        assert!(stderr.contains(&format!("{key}: ")), "{stderr}");
        // ("a" is in every message; the longer values must not appear.)
        assert!(value.len() < 2 || !stderr.contains(value), "{stderr}");
    }
    for (key, value) in [
        ("AUTH_SECRET", "x"),
        ("AUTH_SECRET_1", "old-but-short"),
        ("NEXTAUTH_SECRET", "v4-short"),
        ("AUTHBRIDGE_SERVICE_TOKEN", "x"),
    ] {
        let (code, stderr) = Served::start(
            dir.path(),
            &[
                ("DATABASE_URL", &db),
                ("DJANGO_SECRET_KEY", SECRET),
                (key, value),
            ],
        )
        .err()
        .unwrap();
        assert_ne!(code, Some(0));
        let named = if key == "AUTHBRIDGE_SERVICE_TOKEN" {
            key
        } else {
            "AUTH_SECRET/AUTH_SECRET_1..3/NEXTAUTH_SECRET"
        };
        assert!(stderr.contains(named), "{key}: {stderr}");
        assert!(stderr.contains("fewer than 32"), "{key}: {stderr}");
    }
    // HS512 needs a 64-byte key (PyJWT); SECRET is long enough for Django and HS256 only.
    let (_, stderr) = Served::start(
        dir.path(),
        &[
            ("DATABASE_URL", &db),
            ("DJANGO_SECRET_KEY", SECRET),
            ("SIMPLE_JWT_ALGORITHM", "HS512"),
        ],
    )
    .err()
    .unwrap();
    assert!(stderr.contains("below the minimum of 64 bytes"), "{stderr}");
}

#[test]
fn insecure_dev_mode_starts_with_weak_secrets_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_env(dir.path());
    let mut served = Served::start(
        dir.path(),
        &[
            ("DATABASE_URL", &db),
            ("DJANGO_SECRET_KEY", "a"),
            ("AUTH_SECRET", "x"),
            ("AUTHBRIDGE_INSECURE_DEV", "true"),
        ],
    )
    .map_err(|(_, e)| e)
    .expect("starts in development mode");
    let stderr = served.stop_and_read_stderr();
    assert!(stderr.contains("WARN"), "{stderr}");
    assert!(stderr.contains("AUTHBRIDGE_INSECURE_DEV"), "{stderr}");
    assert!(stderr.contains("DJANGO_SECRET_KEY"), "{stderr}");
    assert!(stderr.contains("AUTH_SECRET"), "{stderr}");
}

// ---------------------------------------------------------------------------------------------
// Finding 14 and the issue-12 note: the secret file

#[cfg(unix)]
#[test]
fn generated_secret_file_is_private_holds_only_the_key_and_passes() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_env(dir.path());
    let mut served = Served::start(dir.path(), &[("DATABASE_URL", &db)])
        .map_err(|(_, e)| e)
        .expect("starts with a generated key");
    let path = dir.path().join("authbridge.secret");
    let key = std::fs::read_to_string(&path).unwrap();
    assert_eq!(key.chars().count(), 50, "{key:?}");
    assert!(!key.ends_with('\n'), "no trailing newline");
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(!served.stop_and_read_stderr().contains(&key));
    drop(served);

    // HS512 without a SIGNING_KEY: the generated key is long enough for PyJWT (64 bytes).
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_env(dir.path());
    let served = Served::start(
        dir.path(),
        &[("DATABASE_URL", &db), ("SIMPLE_JWT_ALGORITHM", "HS512")],
    )
    .map_err(|(_, e)| e)
    .expect("starts with a generated HS512 key");
    let key = std::fs::read_to_string(dir.path().join("authbridge.secret")).unwrap();
    assert_eq!(key.len(), 64);
    drop(served);
}

#[cfg(unix)]
#[test]
fn a_readable_secret_file_is_warned_about_at_start_and_fails_doctor() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_env(dir.path());
    let path = dir.path().join("shared.secret");
    std::fs::write(&path, SECRET).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let file = path.display().to_string();
    let env = [
        ("DATABASE_URL", db.as_str()),
        ("AUTHBRIDGE_SECRET_FILE", file.as_str()),
    ];
    let mut served = Served::start(dir.path(), &env)
        .map_err(|(_, e)| e)
        .expect("starts");
    let stderr = served.stop_and_read_stderr();
    assert!(stderr.contains("WARN"), "{stderr}");
    assert!(stderr.contains("mode 644"), "{stderr}");
    assert!(!stderr.contains(SECRET), "{stderr}");
    drop(served);

    let out = run(dir.path(), &env, &["doctor"], "");
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("FAIL secret file permissions:") && stdout.contains("mode 644"),
        "{stdout}"
    );
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = run(dir.path(), &env, &["doctor"], "");
    let (stdout, _) = text(&out);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("ok   secret file permissions:"), "{stdout}");
}

/// An unreachable database is named once by doctor: where and why, without a doubled prefix.
#[test]
fn doctor_names_an_unreachable_database_once() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        (
            "DATABASE_URL",
            "postgres://postgres:hunter2@127.0.0.1:1/app",
        ),
        ("DJANGO_SECRET_KEY", SECRET),
    ];
    let out = run(dir.path(), &env, &["doctor"], "");
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains("cannot connect to PostgreSQL at 127.0.0.1:1"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("cannot connect: cannot connect"),
        "{stdout}"
    );
    assert!(!stdout.contains("hunter2") && !stderr.contains("hunter2"));
}

/// Finding 10 as doctor sees it: a public bind with the local-only default hosts, and a proxy list
/// that trusts every address, are failures; a configured deployment passes.
#[test]
fn doctor_checks_hosts_public_url_and_proxies() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_env(dir.path());
    let base = [("DATABASE_URL", db.as_str()), ("DJANGO_SECRET_KEY", SECRET)];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut env: Vec<(&str, &str)> = base.to_vec();
        env.extend_from_slice(extra);
        let out = run(dir.path(), &env, &["doctor"], "");
        (out.status.code(), text(&out).0)
    };
    let (code, out) = with(&[("AUTHBRIDGE_BIND", "0.0.0.0:8080")]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("FAIL allowed hosts:"), "{out}");
    assert!(out.contains("warn public URL:"), "{out}");
    let (code, out) = with(&[("AUTHBRIDGE_TRUSTED_PROXIES", "0.0.0.0/0")]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("FAIL trusted proxies:"), "{out}");
    let (code, out) = with(&[
        ("AUTHBRIDGE_BIND", "0.0.0.0:8080"),
        ("AUTHBRIDGE_ALLOWED_HOSTS", "auth.example.com"),
        ("AUTHBRIDGE_PUBLIC_URL", "https://auth.example.com"),
        ("AUTHBRIDGE_TRUSTED_PROXIES", "10.0.0.0/8"),
    ]);
    assert!(
        out.contains("ok   allowed hosts: AUTHBRIDGE_ALLOWED_HOSTS = auth.example.com"),
        "{out}"
    );
    assert!(
        out.contains("ok   public URL: own origin https://auth.example.com"),
        "{out}"
    );
    assert!(out.contains("ok   trusted proxies:"), "{out}");
    // (The database is not migrated here, so doctor still fails on that line, and only there.)
    assert_eq!(out.matches("FAIL ").count(), 1, "{out}");
    assert!(out.contains("FAIL database:"), "{out}");
    assert_eq!(code, Some(1));
}

// ---------------------------------------------------------------------------------------------
// Finding 12: createuser and changepassword validate as Django does

const BAD_USERNAME: &str = "Enter a valid username. This value may contain only letters, \
                            numbers, and @/./+/-/_ characters.";

#[tokio::test]
async fn createuser_applies_djangos_username_and_password_validators() {
    for backend in backends() {
        let db = TestDb::new(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let env = [
            ("DATABASE_URL", db.url.as_str()),
            ("DJANGO_SECRET_KEY", SECRET),
            (
                "PASSWORD_HASHERS",
                "django.contrib.auth.hashers.MD5PasswordHasher",
            ),
        ];
        let createuser = |args: &[&str], password: &str| {
            let mut all = vec!["createuser"];
            all.extend_from_slice(args);
            all.push("--password-stdin");
            run(dir.path(), &env, &all, &format!("{password}\n"))
        };

        let out = createuser(&["bad user!<x>", "--superuser"], "a-fine-passphrase-42");
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{backend}: {stdout}{stderr}");
        assert!(stderr.contains(BAD_USERNAME), "{backend}: {stderr}");

        let out = createuser(&["admin", "--superuser"], "1");
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{backend}: {stdout}{stderr}");
        for message in [
            "This password is too short. It must contain at least 8 characters.",
            "This password is too common.",
            "This password is entirely numeric.",
            "--skip-validation",
        ] {
            assert!(stderr.contains(message), "{backend}: {stderr}");
        }

        let out = createuser(&["admin", "--email", "admin@example.com"], "admin@example");
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{backend}: {stderr}");
        assert!(
            stderr.contains("The password is too similar to the email address."),
            "{backend}: {stderr}"
        );

        // --skip-validation never lets an invalid username through.
        let out = createuser(&["bad user!<x>", "--skip-validation"], "1");
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{backend}: {stderr}");
        assert!(stderr.contains(BAD_USERNAME), "{backend}: {stderr}");
        let doctor = run(dir.path(), &env, &["doctor"], "");
        assert!(
            text(&doctor).0.contains("password hashes: no users yet"),
            "{backend}: nothing was created: {}",
            text(&doctor).0
        );

        // ... but accepts a weak password, saying so.
        let out = createuser(&["admin", "--superuser", "--skip-validation"], "1");
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "{backend}: {stdout}{stderr}");
        assert!(stderr.contains("This password is too common."), "{stderr}");
        assert!(stdout.contains("Created user \"admin\""), "{stdout}");

        let out = createuser(&["admin"], "another-fine-passphrase");
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1));
        assert!(
            stderr.contains("That username is already taken."),
            "{stderr}"
        );

        // changepassword: the same validators, with the stored user's attributes.
        let change = |args: &[&str], password: &str| {
            let mut all = vec!["changepassword", "admin", "--password-stdin"];
            all.extend_from_slice(args);
            run(dir.path(), &env, &all, &format!("{password}\n"))
        };
        let out = change(&[], "12345678");
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("This password is too common."), "{stderr}");
        assert!(
            stderr.contains("This password is entirely numeric."),
            "{stderr}"
        );
        let out = change(&[], "admin1234");
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("The password is too similar to the username."),
            "{stderr}"
        );
        let out = change(&[], "a-fine-passphrase-42");
        assert!(out.status.success(), "{}", text(&out).1);
        let out = change(&["--skip-validation"], "12345678");
        assert!(out.status.success(), "{}", text(&out).1);
    }
}

// ---------------------------------------------------------------------------------------------
// doctor

#[tokio::test]
async fn doctor_passes_a_good_setup_and_prints_the_settings_to_paste() {
    for backend in backends() {
        let db = TestDb::new(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let token = "svc-0123456789abcdefghijklmnopqrstuvwxyz";
        let auth = "q3Zp8yR1m0Xk2bV9tW4nC7sL5dF6gH8jK0aE1iO3uY4=";
        let env = [
            ("DATABASE_URL", db.url.as_str()),
            ("DJANGO_SECRET_KEY", SECRET),
            ("AUTH_SECRET", auth),
            ("AUTHBRIDGE_SERVICE_TOKEN", token),
            ("SIMPLE_JWT_ROTATE_REFRESH_TOKENS", "true"),
            ("SIMPLE_JWT_ACCESS_TOKEN_LIFETIME", "600"),
        ];
        let out = run(dir.path(), &env, &["migrate"], "");
        assert!(out.status.success(), "{}", text(&out).1);
        let out = run(
            dir.path(),
            &env,
            &["createuser", "alice", "--password-stdin"],
            "correct horse battery staple\n",
        );
        assert!(out.status.success(), "{}", text(&out).1);

        let out = run(dir.path(), &env, &["doctor"], "");
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "{backend}: {stdout}{stderr}");
        assert!(!stdout.contains('\x1b'), "no colours into a pipe");
        for secret in [SECRET, token, auth] {
            assert!(!stdout.contains(secret) && !stderr.contains(secret));
        }
        for line in [
            "ok   secret strength:",
            "ok   Django tables:",
            "ok   authbridge migrations: 5 applied",
            "ok   password hashes: 1 pbkdf2_sha256 hash(es), the preferred hasher",
            "ok   Auth.js secrets: 1 set",
            "ok   service token:",
            "ok   clock:",
            "    \"ROTATE_REFRESH_TOKENS\": True,",
            "    \"ACCESS_TOKEN_LIFETIME\": timedelta(seconds=600),",
            "    \"SIGNING_KEY\": SECRET_KEY,",
            "SECRET_KEY = os.environ[\"DJANGO_SECRET_KEY\"]",
            "AUTHBRIDGE_SERVICE_TOKEN=\n",
            "0 failed",
        ] {
            assert!(stdout.contains(line), "{backend}: {line:?} in\n{stdout}");
        }
        assert!(!stdout.contains("FAIL"), "{stdout}");
    }
}

#[tokio::test]
async fn doctor_fails_on_weak_secrets_missing_tables_and_hashes_without_a_hasher() {
    for backend in backends() {
        let db = TestDb::new(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let weak = "weak-but-secret-value";
        let env = [
            ("DATABASE_URL", db.url.as_str()),
            ("DJANGO_SECRET_KEY", weak),
        ];
        let out = run(dir.path(), &env, &["doctor"], "");
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{backend}: {stdout}{stderr}");
        assert!(
            stdout.contains("FAIL secret strength: DJANGO_SECRET_KEY: has 21 characters"),
            "{stdout}"
        );
        assert!(!stdout.contains(weak) && !stderr.contains(weak));
        if backend == "postgres" {
            assert!(
                stdout.contains("FAIL Django tables: missing auth_user"),
                "{stdout}"
            );
            assert!(
                stdout.contains("FAIL authbridge migrations: not applied"),
                "{stdout}"
            );
        } else {
            assert!(stdout.contains("FAIL database: SQLite file"), "{stdout}");
        }

        // MD5 hashes in the table, but PASSWORD_HASHERS is Django's default (no MD5).
        let md5_env = [
            ("DATABASE_URL", db.url.as_str()),
            ("DJANGO_SECRET_KEY", SECRET),
            (
                "PASSWORD_HASHERS",
                "django.contrib.auth.hashers.MD5PasswordHasher",
            ),
        ];
        let out = run(
            dir.path(),
            &md5_env,
            &["createuser", "olduser", "--password-stdin"],
            "correct horse battery staple\n",
        );
        assert!(out.status.success(), "{}", text(&out).1);
        let env = [
            ("DATABASE_URL", db.url.as_str()),
            ("DJANGO_SECRET_KEY", SECRET),
        ];
        let out = run(dir.path(), &env, &["doctor"], "");
        let (stdout, _) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{stdout}");
        assert!(
            stdout.contains(
                "FAIL password hashes: 1 md5 hash(es) but no configured hasher for them: those \
                 users cannot log in (add django.contrib.auth.hashers.MD5PasswordHasher to \
                 PASSWORD_HASHERS)"
            ),
            "{stdout}"
        );
        assert!(stdout.contains("1 failed"), "{stdout}");
    }
}

// ---------------------------------------------------------------------------------------------
// Issue 12: the first hour (version, help, what start-up says, error prefixes)

#[test]
fn version_names_the_commit_it_was_built_from() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &[], &["--version"], "");
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let expected = format!("authbridge {} (commit ", env!("CARGO_PKG_VERSION"));
    assert!(stdout.starts_with(&expected), "{stdout}");
    // In a git checkout (as here) it is a commit of this repository: the short hash of HEAD when
    // the binary was built (build.rs reruns when HEAD or its branch moves; a commit made between
    // that build and this test must not fail it, hence "a commit", not "HEAD").
    let in_git = std::process::Command::new("git")
        .args(["rev-parse", "--git-dir"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .is_ok_and(|o| o.status.success());
    if in_git {
        let hash = stdout
            .trim()
            .strip_prefix(&expected)
            .and_then(|rest| rest.strip_suffix(')'))
            .unwrap_or_default();
        assert!(
            hash.len() >= 7 && hash.chars().all(|c| c.is_ascii_hexdigit()),
            "{stdout}"
        );
        let known = std::process::Command::new("git")
            .args(["cat-file", "-e", &format!("{hash}^{{commit}}")])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .unwrap();
        assert!(known.success(), "{hash} is not a commit here");
    }
}

#[test]
fn serve_help_lists_the_main_settings_and_names_the_doc_with_all() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &[], &["serve", "--help"], "");
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    for name in [
        "AUTHBRIDGE_BIND",
        "127.0.0.1:8080",
        "DATABASE_URL",
        "DJANGO_SECRET_KEY",
        "AUTHBRIDGE_SECRET_FILE",
        "AUTH_SECRET",
        "AUTHBRIDGE_ALLOWED_HOSTS",
        "AUTHBRIDGE_OPS_BIND",
        "AUTHBRIDGE_OIDC_ENABLED",
        "AUTHBRIDGE_API_SCHEMA",
        "docs/configuration.md",
    ] {
        assert!(stdout.contains(name), "{name} in\n{stdout}");
    }
}

#[test]
fn start_up_says_what_it_opened_and_did_without_colours_into_a_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_env(dir.path());
    let start = |env: &[(&str, &str)]| {
        let mut served = Served::start(dir.path(), env)
            .map_err(|(_, e)| e)
            .expect("starts");
        served.stop_and_read_stderr()
    };

    // First start on an empty SQLite file with nothing configured.
    let log = start(&[("DATABASE_URL", &db)]);
    assert!(
        !log.contains('\x1b'),
        "no ANSI colour codes into a pipe:\n{log}"
    );
    let file = dir.path().join("db.sqlite3");
    for line in [
        format!("database: SQLite file {}", file.display()),
        "migrate: created Django's tables".into(),
        "features: Auth.js bridge off (set AUTH_SECRET); CORS off (set CORS_ALLOWED_ORIGINS); \
         cookie mode off (set JWT_AUTH_REFRESH_COOKIE); user sync off (set \
         AUTHBRIDGE_SERVICE_TOKEN); OpenID Connect provider off (set AUTHBRIDGE_OIDC_ENABLED); \
         API schema off (set AUTHBRIDGE_API_SCHEMA)"
            .into(),
        "signing key: generated now into the secret file authbridge.secret (HS256)".into(),
        "no operations listener".into(),
    ] {
        assert!(log.contains(&line), "{line:?} in\n{log}");
    }

    // Second start: Django's tables are there, the key is read back from its file.
    let log = start(&[("DATABASE_URL", &db)]);
    assert!(
        log.contains(
            "migrate: Django's tables were already there, left as they are; \
                      authbridge's own tables were up to date"
        ),
        "{log}"
    );
    assert!(
        log.contains("signing key: the secret file authbridge.secret"),
        "{log}"
    );

    // Everything on, the key from the environment.
    let log = start(&[
        ("DATABASE_URL", &db),
        ("DJANGO_SECRET_KEY", SECRET),
        (
            "AUTH_SECRET",
            "q3Zp8yR1m0Xk2bV9tW4nC7sL5dF6gH8jK0aE1iO3uY4=",
        ),
        ("CORS_ALLOWED_ORIGINS", "https://app.example.com"),
        ("JWT_AUTH_REFRESH_COOKIE", "refresh"),
        (
            "AUTHBRIDGE_SERVICE_TOKEN",
            "svc-0123456789abcdefghijklmnopqrstuvwxyz",
        ),
        ("AUTHBRIDGE_OPS_BIND", "127.0.0.1:0"),
    ]);
    assert!(
        log.contains(
            "features: Auth.js bridge on (1 secret(s)); CORS on; cookie mode on; user sync on"
        ),
        "{log}"
    );
    assert!(
        log.contains("signing key: DJANGO_SECRET_KEY (HS256)"),
        "{log}"
    );
    assert!(
        log.contains("operations listener (/healthz, /readyz, /metrics) on http://127.0.0.1:"),
        "{log}"
    );
    assert!(!log.contains(SECRET), "{log}");
}

#[tokio::test]
async fn start_up_names_a_postgres_database_without_its_password() {
    for backend in backends() {
        let db = TestDb::new(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let mut served = Served::start(
            dir.path(),
            &[("DATABASE_URL", &db.url), ("DJANGO_SECRET_KEY", SECRET)],
        )
        .map_err(|(_, e)| e)
        .expect("starts");
        let log = served.stop_and_read_stderr();
        let expected = if backend == "postgres" {
            "database: PostgreSQL postgres://"
        } else {
            "database: SQLite file "
        };
        assert!(log.contains(expected), "{backend}: {log}");
        assert!(
            log.contains("migrate: created Django's tables"),
            "{backend}: {log}"
        );
    }
}

/// `Error: Error: …`: main's `Error: ` prefix must be the only one on every command error.
#[tokio::test]
async fn command_errors_carry_the_error_prefix_once() {
    for backend in backends() {
        let db = TestDb::new(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let env = [
            ("DATABASE_URL", db.url.as_str()),
            ("DJANGO_SECRET_KEY", SECRET),
            (
                "PASSWORD_HASHERS",
                "django.contrib.auth.hashers.MD5PasswordHasher",
            ),
        ];
        let create = || {
            run(
                dir.path(),
                &env,
                &["createuser", "alice", "--password-stdin"],
                "a-fine-passphrase-42\n",
            )
        };
        assert!(create().status.success());
        let cases = [
            (create(), "Error: That username is already taken."),
            (
                run(dir.path(), &env, &["logout-user", "nobody"], ""),
                "Error: user 'nobody' does not exist",
            ),
            (
                run(
                    dir.path(),
                    &env,
                    &["changepassword", "nobody", "--password-stdin"],
                    "a-fine-passphrase-42\n",
                ),
                "Error: user 'nobody' does not exist",
            ),
        ];
        for (out, expected) in cases {
            let (_, stderr) = text(&out);
            assert_eq!(out.status.code(), Some(1), "{backend}: {stderr}");
            // (Log lines may come first: the tests run with RUST_LOG=info.)
            assert_eq!(stderr.trim().lines().last(), Some(expected), "{backend}");
            assert_eq!(stderr.matches("Error").count(), 1, "{backend}: {stderr}");
        }
    }
}
