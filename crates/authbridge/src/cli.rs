//! The command line: `serve`, `migrate`, `createuser`, `changepassword`, `logout-user`.

use clap::{Parser, Subcommand};
use std::io::{BufRead, IsTerminal};
use std::net::SocketAddr;
use std::path::PathBuf;
use zeroize::Zeroizing;

use crate::app;
use crate::config::Settings;
use crate::storage::{NewUser, StorageError};

#[derive(Debug, Parser)]
#[command(
    name = "authbridge",
    version,
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
    Serve {
        /// Address to listen on (default 127.0.0.1:8080; env AUTHBRIDGE_BIND).
        #[arg(long)]
        bind: Option<SocketAddr>,
    },
    /// Create Django's tables if absent, then authbridge's own (idempotent).
    Migrate,
    /// Create a user, hashing the password as Django does.
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
    },
    /// Set a user's password.
    Changepassword {
        username: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Log a user out everywhere: blacklist every refresh token (every login) of the user.
    LogoutUser { username: String },
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Startup(#[from] app::StartupError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("{0}")]
    Usage(String),
    #[error("reading the password: {0}")]
    Io(#[from] std::io::Error),
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
            return Err(CliError::Usage(
                "Error: Your passwords didn't match.".into(),
            ));
        }
        first
    };
    if password.is_empty() {
        return Err(CliError::Usage(
            "Error: Blank passwords aren't allowed.".into(),
        ));
    }
    Ok(password)
}

pub async fn createuser(
    mut settings: Settings,
    username: String,
    email: Option<String>,
    superuser: bool,
    password_stdin: bool,
) -> Result<(), CliError> {
    let password = read_password(password_stdin)?;
    app::ensure_secret_key(&mut settings)?;
    let store = app::open_store(&settings).await?;
    let passwords = app::password_service(&settings)?;
    let encoded = passwords
        .make(password)
        .await
        .map_err(|e| CliError::Usage(e.to_string()))?;
    let email = email.unwrap_or_else(|| {
        if settings.username_field == "email" {
            username.clone()
        } else {
            String::new()
        }
    });
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
        Err(StorageError::Conflict(_)) => Err(CliError::Usage(format!(
            "Error: That {} is already taken.",
            settings.username_field
        ))),
        Err(e) => Err(e.into()),
    }
}

pub async fn changepassword(
    settings: Settings,
    username: String,
    password_stdin: bool,
) -> Result<(), CliError> {
    let store = app::open_store(&settings).await?;
    let user = store
        .user_by_username(&username)
        .await?
        .ok_or_else(|| CliError::Usage(format!("Error: user '{username}' does not exist")))?;
    let password = read_password(password_stdin)?;
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
        .ok_or_else(|| CliError::Usage(format!("Error: user '{username}' does not exist")))?;
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
