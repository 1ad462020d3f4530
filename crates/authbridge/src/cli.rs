//! The command line: `serve`, `migrate`, `createuser`, `changepassword`, `logout-user`, `doctor`,
//! the OpenID Connect provider's `client` and `keys`, and the email `outbox`.

mod doctor;
mod oidc;
mod outbox;
pub use doctor::doctor;
pub use oidc::{client, keys, ClientCommand, KeysCommand};
pub use outbox::{outbox, OutboxCommand};

use clap::{Parser, Subcommand};
use std::io::{BufRead, IsTerminal};
use std::net::SocketAddr;
use std::path::PathBuf;
use zeroize::Zeroizing;

use crate::app;
use crate::config::Settings;
use crate::storage::{NewUser, StorageError, User};
use crate::validation::{validate_username, UserAttribute};

/// The package version and the commit it was built from (see `build.rs`).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("AUTHBRIDGE_COMMIT"),
    ")"
);

/// `serve --help`: the settings a first start needs, so nobody has to guess their names.
const SERVE_ENV: &str = "\
Environment (each is also a key of the --config TOML file; all of them in docs/configuration.md):
  AUTHBRIDGE_BIND           listen address [default: 127.0.0.1:8080]
  DATABASE_URL              sqlite:///relative.db, sqlite:////abs.db or postgres://user:pass@host/db
                            [default: sqlite:///authbridge.sqlite3]
  DJANGO_SECRET_KEY         Django's SECRET_KEY, the signing key [default: generated once into
                            AUTHBRIDGE_SECRET_FILE, default authbridge.secret]
  SIMPLE_JWT_<KEY>          simplejwt's settings, e.g. SIMPLE_JWT_ROTATE_REFRESH_TOKENS=true
  AUTH_SECRET               the Auth.js secret: turns on the Auth.js endpoints
  AUTHBRIDGE_SERVICE_TOKEN  bearer token for POST /api/users/sync (OAuth sign-in sync)
  AUTHBRIDGE_ALLOWED_HOSTS  host names clients use [default: localhost, 127.0.0.1, [::1]]
  AUTHBRIDGE_PUBLIC_URL     authbridge's own origin, for the CSRF check
  AUTHBRIDGE_TRUSTED_PROXIES  proxies whose X-Forwarded-For is believed
  CORS_ALLOWED_ORIGINS      browser origins allowed to read answers (django-cors-headers)
  JWT_AUTH_REFRESH_COOKIE   turns on cookie mode (dj-rest-auth)
  AUTHBRIDGE_OPS_BIND       a second listener for /healthz, /readyz and /metrics
  AUTHBRIDGE_OIDC_ENABLED   the OpenID Connect provider and its login pages (docs/oidc.md)
  AUTHBRIDGE_API_SCHEMA     serve the OpenAPI document at /api/schema/
  EMAIL_HOST, EMAIL_PORT    Django's SMTP settings (also EMAIL_HOST_USER, EMAIL_HOST_PASSWORD,
                            EMAIL_USE_TLS, EMAIL_USE_SSL, DEFAULT_FROM_EMAIL; docs/email.md)
  EMAIL_BACKEND             django.core.mail.backends.console.EmailBackend prints emails instead
  RUST_LOG                  log filter [default: info,sqlx=warn]";

#[derive(Debug, Parser)]
#[command(
    name = "authbridge",
    version = VERSION,
    about = "Django's token API and an Auth.js bridge in one server"
)]
pub struct Cli {
    /// TOML configuration file (keys as documented in docs/configuration.md).
    #[arg(long, global = true, env = "AUTHBRIDGE_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (migrates the database first).
    #[command(after_help = SERVE_ENV)]
    Serve {
        /// Address to listen on (default 127.0.0.1:8080; env AUTHBRIDGE_BIND).
        #[arg(long)]
        bind: Option<SocketAddr>,
    },
    /// Create Django's tables if absent, then authbridge's own (idempotent).
    Migrate,
    /// Create a user, hashing the password as Django does. The username must pass Django's
    /// username validator and the password AUTH_PASSWORD_VALIDATORS (as `createsuperuser`).
    Createuser {
        username: String,
        #[arg(long)]
        email: Option<String>,
        /// Also staff and superuser (like `createsuperuser`).
        #[arg(long)]
        superuser: bool,
        /// Read the password from standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
        /// Accept a password that fails AUTH_PASSWORD_VALIDATORS (createsuperuser's "Bypass
        /// password validation" answer). The username is always validated.
        #[arg(long)]
        skip_validation: bool,
    },
    /// Set a user's password (validated by AUTH_PASSWORD_VALIDATORS, as Django's `changepassword`).
    Changepassword {
        username: String,
        #[arg(long)]
        password_stdin: bool,
        /// Accept a password that fails AUTH_PASSWORD_VALIDATORS.
        #[arg(long)]
        skip_validation: bool,
    },
    /// Log a user out everywhere: blacklist every refresh token (every login) of the user.
    LogoutUser { username: String },
    /// Audit the configuration and the database (secrets, file permissions, Django's tables, hash
    /// algorithms, clock) and print the Django and Auth.js settings to paste. Changes nothing;
    /// exits non-zero when a check fails.
    Doctor,
    /// The OpenID Connect provider's clients: add, list, remove.
    Client {
        #[command(subcommand)]
        command: ClientCommand,
    },
    /// The OpenID Connect provider's signing keys: rotate, list.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// The email outbox: the emails waiting to be sent (pending, with their attempts and last
    /// error) and those given up (dead); `outbox retry ID` sends a dead one again.
    Outbox {
        /// Also the sent emails still kept (AUTHBRIDGE_OUTBOX_RETENTION).
        #[arg(long)]
        all: bool,
        #[command(subcommand)]
        command: Option<OutboxCommand>,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Startup(#[from] app::StartupError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Oidc(#[from] app::OidcError),
    #[error("{0}")]
    Usage(String),
    #[error("reading the password: {0}")]
    Io(#[from] std::io::Error),
    /// Django's validation messages, one per line.
    #[error("{}", .0.join("\n"))]
    Invalid(Vec<String>),
    #[error("doctor: {0} check(s) failed")]
    DoctorFailed(usize),
}

/// Read a password from stdin (one line) or prompt twice without echo.
fn read_password(from_stdin: bool) -> Result<Zeroizing<String>, CliError> {
    let password = if from_stdin || !std::io::stdin().is_terminal() {
        let mut line = Zeroizing::new(String::new());
        std::io::stdin().lock().read_line(&mut line)?;
        Zeroizing::new(line.trim_end_matches(['\r', '\n']).to_string())
    } else {
        let first = Zeroizing::new(rpassword::prompt_password("Password: ")?);
        let second = Zeroizing::new(rpassword::prompt_password("Password (again): ")?);
        if first != second {
            return Err(CliError::Usage("Your passwords didn't match.".into()));
        }
        first
    };
    if password.trim().is_empty() {
        return Err(CliError::Usage("Blank passwords aren't allowed.".into()));
    }
    Ok(password)
}

/// Django's `validate_password(password, user)` against `AUTH_PASSWORD_VALIDATORS`. Refusals are
/// Django's messages (then a hint); with `skip` they are printed as a warning and the password is
/// accepted, as answering "y" to createsuperuser's "Bypass password validation" prompt does.
fn check_password(
    settings: &Settings,
    password: &str,
    user: &[UserAttribute<'_>],
    skip: bool,
) -> Result<(), CliError> {
    let messages = settings.password_validators.validate(password, Some(user));
    if messages.is_empty() {
        return Ok(());
    }
    if skip {
        eprintln!(
            "Warning: password validation bypassed (--skip-validation):\n{}",
            messages.join("\n")
        );
        return Ok(());
    }
    let mut lines = messages;
    lines.push(
        "(The password fails AUTH_PASSWORD_VALIDATORS; --skip-validation accepts it anyway.)"
            .into(),
    );
    Err(CliError::Invalid(lines))
}

/// The username rule of Django's `auth_user.username`; a custom user model's USERNAME_FIELD has
/// validators authbridge cannot know, so only blankness is checked there.
fn check_username(settings: &Settings, username: &str) -> Result<(), CliError> {
    let errors = if settings.username_field == "username" {
        validate_username(username)
    } else if username.is_empty() {
        vec![format!(
            "{} cannot be blank.",
            capfirst(&settings.username_field)
        )]
    } else {
        Vec::new()
    };
    if errors.is_empty() {
        Ok(())
    } else {
        Err(CliError::Invalid(vec![errors.join("; ")]))
    }
}

fn capfirst(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// `user`'s attributes for UserAttributeSimilarityValidator.
fn attributes<'a>(username_field: &'a str, user: &'a User) -> Vec<UserAttribute<'a>> {
    let mut v = vec![UserAttribute::new(username_field, &user.username)];
    for (name, value) in [
        ("first_name", &user.first_name),
        ("last_name", &user.last_name),
        ("email", &user.email),
    ] {
        if name != username_field {
            if let Some(value) = value {
                v.push(UserAttribute::new(name, value));
            }
        }
    }
    v
}

#[derive(Debug, Clone, Default)]
pub struct CreateUser {
    pub username: String,
    pub email: Option<String>,
    pub superuser: bool,
    pub password_stdin: bool,
    pub skip_validation: bool,
}

pub async fn createuser(mut settings: Settings, args: CreateUser) -> Result<(), CliError> {
    let CreateUser {
        username,
        email,
        superuser,
        password_stdin,
        skip_validation,
    } = args;
    // Django's order: the username (never bypassable), then whether it is taken, then the
    // password.
    check_username(&settings, &username)?;
    app::ensure_secret_key(&mut settings)?;
    let store = app::open_store(&settings).await?;
    if store.user_by_username(&username).await?.is_some() {
        return Err(taken(&settings));
    }
    let email = email.unwrap_or_else(|| {
        if settings.username_field == "email" {
            username.clone()
        } else {
            String::new()
        }
    });
    let password = read_password(password_stdin)?;
    let mut user = vec![UserAttribute::new(&settings.username_field, &username)];
    if settings.username_field != "email" {
        user.push(UserAttribute::new("email", &email));
    }
    check_password(&settings, &password, &user, skip_validation)?;
    let passwords = app::password_service(&settings)?;
    let encoded = passwords
        .make(password)
        .await
        .map_err(|e| CliError::Usage(e.to_string()))?;
    let new = NewUser {
        username: username.clone(),
        password: encoded,
        email,
        is_active: true,
        is_staff: superuser,
        is_superuser: superuser,
        ..NewUser::default()
    };
    match store.create_user(&new, chrono::Utc::now()).await {
        Ok(user) => {
            println!("Created user {:?} (id {}).", user.username, user.id);
            Ok(())
        }
        Err(StorageError::Conflict(_)) => Err(taken(&settings)),
        Err(e) => Err(e.into()),
    }
}

fn taken(settings: &Settings) -> CliError {
    CliError::Usage(format!(
        "That {} is already taken.",
        settings.username_field
    ))
}

pub async fn changepassword(
    settings: Settings,
    username: String,
    password_stdin: bool,
    skip_validation: bool,
) -> Result<(), CliError> {
    let store = app::open_store(&settings).await?;
    let user = store
        .user_by_username(&username)
        .await?
        .ok_or_else(|| CliError::Usage(format!("user '{username}' does not exist")))?;
    let password = read_password(password_stdin)?;
    check_password(
        &settings,
        &password,
        &attributes(&settings.username_field, &user),
        skip_validation,
    )?;
    let passwords = app::password_service(&settings)?;
    let encoded = passwords
        .make(password)
        .await
        .map_err(|e| CliError::Usage(e.to_string()))?;
    store.set_password(user.id, &encoded).await?;
    // A password change ends every login at once (authbridge would notice at the next refresh).
    store.revoke_user(user.id, chrono::Utc::now()).await?;
    crate::audit::record(
        crate::audit::Event::PasswordChanged,
        crate::audit::Subject {
            username: Some(&user.username),
            user_id: Some(user.id),
            reason: Some("cli"),
            ..crate::audit::Subject::default()
        },
    );
    println!("Password changed successfully for user '{username}'");
    Ok(())
}

/// `authbridge logout-user USERNAME`: the storage's `revoke_user`, as `/api/token/logout-all/`.
pub async fn logout_user(settings: Settings, username: String) -> Result<(), CliError> {
    let store = app::open_store(&settings).await?;
    let user = store
        .user_by_username(&username)
        .await?
        .ok_or_else(|| CliError::Usage(format!("user '{username}' does not exist")))?;
    let revoked = store.revoke_user(user.id, chrono::Utc::now()).await?;
    crate::audit::record(
        crate::audit::Event::LogoutEverywhere,
        crate::audit::Subject {
            username: Some(&user.username),
            user_id: Some(user.id),
            reason: Some("cli"),
            ..crate::audit::Subject::default()
        },
    );
    println!("Logged out user '{username}' everywhere ({revoked} refresh tokens blacklisted).");
    Ok(())
}
