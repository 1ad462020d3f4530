//! The binary edge: parse the command line, load settings, report errors with `anyhow`.

use anyhow::Context;
use authbridge::app::Application;
use authbridge::cli::{self, Cli, Command};
use authbridge::config::Settings;
use clap::Parser;
use std::io::Write;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        // Colour codes only on a terminal: logs collected from a pipe or file stay greppable.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    let mut settings =
        Settings::load(cli.config.as_deref(), std::env::vars()).context("configuration")?;
    match cli.command {
        Command::Serve { bind } => {
            if let Some(bind) = bind {
                settings.bind = bind;
            }
            let app = Application::build(settings)
                .await
                .context("starting the server")?;
            let addr = app.local_addr()?;
            tracing::info!(%addr, version = cli::VERSION, "authbridge ready");
            match app.ops_addr() {
                Some(ops) => tracing::info!(
                    "operations listener (/healthz, /readyz, /metrics) on http://{ops}"
                ),
                None => tracing::info!(
                    "no operations listener: /metrics is off (set AUTHBRIDGE_OPS_BIND to open one)"
                ),
            }
            // One line on stdout for scripts and tests that started us on port 0.
            println!("authbridge listening on http://{addr}");
            std::io::stdout().flush()?;
            app.run_until_stopped(shutdown_signal()).await?;
        }
        Command::Migrate => {
            let store = authbridge::storage::connect(
                &settings.database_url,
                authbridge::app::user_table(&settings),
            )
            .await
            .context("opening the database")?;
            let report = store.migrate().await.context("migrating")?;
            if report.created_django_tables {
                println!("Created Django's tables (auth, contenttypes, token_blacklist).");
            }
            for name in &report.applied {
                println!("Applied {name}");
            }
            let allauth = settings.accounts.enabled
                && store
                    .migrate_email_addresses()
                    .await
                    .context("creating allauth's tables")?;
            if allauth {
                println!(
                    "Created allauth's tables (account_emailaddress, account_emailconfirmation)."
                );
            }
            if !report.created_django_tables && report.applied.is_empty() && !allauth {
                println!("No migrations to apply.");
            }
        }
        Command::Createuser {
            username,
            email,
            superuser,
            password_stdin,
            skip_validation,
        } => {
            let args = cli::CreateUser {
                username,
                email,
                superuser,
                password_stdin,
                skip_validation,
            };
            cli::createuser(settings, args).await?;
        }
        Command::Changepassword {
            username,
            password_stdin,
            skip_validation,
        } => {
            cli::changepassword(settings, username, password_stdin, skip_validation).await?;
        }
        Command::Doctor => {
            cli::doctor(settings).await?;
        }
        Command::LogoutUser { username } => cli::logout_user(settings, username).await?,
        Command::Client { command } => cli::client(settings, command).await?,
        Command::Keys { command } => cli::keys(settings, command).await?,
        Command::Outbox { all, command } => cli::outbox(settings, all, command).await?,
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
}
