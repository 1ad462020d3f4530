//! Wiring: settings → storage, keys, hashers → router → listener. `Application::build` is the one
//! seam shared by `main` and the black-box tests (which bind 127.0.0.1:0).

use rand::Rng;
use secrecy::{ExposeSecret, SecretString};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

use crate::clock::{DynClock, SystemClock};
use crate::config::Settings;
use crate::http::{self, AppState, Inner};
use crate::passwords::PasswordService;
use crate::random::{DynRandom, OsRandom, Random};
use crate::server;
use crate::storage::{self, DynStore, UserTable};
use crate::tokens::{KeyError, Keys, TokenRules, TokenService};

mod accounts;
pub mod oidc;
mod summary;
pub use oidc::{OidcError, OidcRuntime};
pub use summary::SecretSource;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Storage(#[from] storage::StorageError),
    #[error(transparent)]
    Keys(#[from] KeyError),
    #[error(transparent)]
    Oidc(#[from] OidcError),
    #[error(transparent)]
    Mail(#[from] crate::mail::MailError),
    #[error("PASSWORD_HASHERS: {0}")]
    Hashers(String),
    #[error("secret file {path}: {source}")]
    SecretFile {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    WeakSecrets(#[from] crate::config::secrets::WeakSecrets),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// Django's `get_random_secret_key()`: 50 characters from its alphabet, or more when the key
/// signs HS384/HS512 tokens (PyJWT wants as many bytes as the digest: 48/64).
fn generate_secret_key(len: usize, random: &dyn Random) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*(-_=+)";
    let mut rng = random.rng();
    (0..len.max(50))
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// Warn (once, at start) about a secret file others can read; `doctor` fails on it.
pub fn secret_file_permission_problem(path: &std::path::Path) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).ok()?.permissions().mode();
        crate::config::secrets::loose_permissions(mode)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// Use `DJANGO_SECRET_KEY` when set; otherwise load the generated key, generating and storing it
/// once. Announces a generated key once, with what Django needs to be told. Returns where the
/// key came from, for the start-up summary.
pub fn ensure_secret_key(settings: &mut Settings) -> Result<SecretSource, StartupError> {
    if settings.secret_key.is_some() {
        return Ok(SecretSource::Configured);
    }
    let path = settings.secret_file.clone();
    let file_err = |source| StartupError::SecretFile {
        path: path.display().to_string(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => {
            if let Some(problem) = secret_file_permission_problem(&path) {
                tracing::warn!(
                    "secret file {} {problem}: anyone who can read it can mint tokens for any user",
                    path.display()
                );
            }
            settings.secret_key = Some(SecretString::from(text.trim().to_string()));
            return Ok(SecretSource::File(path));
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(file_err(e)),
    }
    let hmac_len = match settings.simple_jwt.signing_key {
        None => crate::config::secrets::hmac_min_bytes(settings.simple_jwt.algorithm),
        Some(_) => None,
    };
    let key = generate_secret_key(hmac_len.unwrap_or(0), &OsRandom);
    write_private(&path, &key).map_err(file_err)?;
    tracing::warn!(
        "No DJANGO_SECRET_KEY configured: generated one and stored it in {}. Django must sign and \
         verify with the same key: set SIMPLE_JWT = {{\"SIGNING_KEY\": <the contents of that file>}} \
         in settings.py (or set DJANGO_SECRET_KEY here to Django's SECRET_KEY).",
        path.display()
    );
    settings.secret_key = Some(SecretString::from(key));
    Ok(SecretSource::Generated(path))
}

fn write_private(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    // No trailing newline: Django reads the file as the key (`open(...).read()`), byte for byte.
    file.write_all(contents.as_bytes())
}

pub fn user_table(settings: &Settings) -> UserTable {
    UserTable {
        table: settings.user_table.clone(),
        username_field: settings.username_field.clone(),
    }
}

pub fn password_service(settings: &Settings) -> Result<PasswordService, StartupError> {
    let hashers = if settings.password_hashers.is_empty() {
        django_hashers::Hashers::django_default()
    } else {
        let list = settings
            .password_hashers
            .iter()
            .map(|name| django_hashers::Algorithm::from_setting(name))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| StartupError::Hashers(e.to_string()))?;
        django_hashers::Hashers::new(list).map_err(|e| StartupError::Hashers(e.to_string()))?
    };
    Ok(PasswordService::bounded(
        hashers,
        settings.password_workers,
        settings.login.password_queue,
    ))
}

/// Open and migrate the database named by the settings.
pub async fn open_store(settings: &Settings) -> Result<DynStore, StartupError> {
    Ok(open_and_migrate(settings).await?.0)
}

/// `open_store`, keeping what migrate did (for the start-up summary).
async fn open_and_migrate(
    settings: &Settings,
) -> Result<(DynStore, storage::MigrationReport), StartupError> {
    let store = storage::connect(&settings.database_url, user_table(settings)).await?;
    let report = store.migrate().await?;
    if settings.accounts.enabled {
        store.migrate_email_addresses().await?;
    }
    Ok((store, report))
}

/// Build the state from settings that already hold a secret key (see `ensure_secret_key`), with
/// the operating system's randomness.
pub async fn build_state(
    settings: Settings,
    store: DynStore,
    clock: DynClock,
) -> Result<AppState, StartupError> {
    build_state_with(settings, store, clock, Arc::new(OsRandom)).await
}

/// `build_state` with the randomness given (tests seed it).
pub async fn build_state_with(
    settings: Settings,
    store: DynStore,
    clock: DynClock,
    random: DynRandom,
) -> Result<AppState, StartupError> {
    let jwt = &settings.simple_jwt;
    let fallback = SecretString::from(String::new());
    let signing_key = jwt
        .signing_key
        .as_ref()
        .or(settings.secret_key.as_ref())
        .unwrap_or(&fallback);
    let keys = Keys::new(
        jwt.algorithm,
        signing_key,
        jwt.verifying_key.as_deref(),
        jwt.signing_key_id.clone(),
    )?;
    let tokens = TokenService {
        keys,
        rules: TokenRules::from(jwt),
    };
    let passwords = password_service(&settings)?.with_random(random.clone());
    let authjs = if settings.authjs_secrets.is_empty() {
        None
    } else {
        let secrets: Vec<&[u8]> = settings
            .authjs_secrets
            .iter()
            .map(|s| s.expose_secret().as_bytes())
            .collect();
        Some(authjs_jwe::SessionDecoder::new(&secrets))
    };
    let limiter = crate::limits::LoginLimiter::from_settings(&settings, &store).await?;
    let oidc = if settings.oidc.enabled {
        let secret = settings.secret_key.as_ref().ok_or(OidcError::NoSecret)?;
        Some(
            OidcRuntime::start(
                &settings.oidc,
                settings.edge.public_origin.as_deref(),
                secret.expose_secret().as_bytes(),
                &tokens,
                store.clone(),
                clock.clone(),
                random.clone(),
            )
            .await?,
        )
    } else {
        None
    };
    let mail = Arc::new(build_mail(&settings, &store, clock.clone())?);
    let accounts = accounts::account_services(
        &settings,
        &store,
        &clock,
        &limiter,
        Some(mail.clone() as Arc<dyn crate::flows::account::AccountMailer>),
    );
    Ok(AppState::new(Inner {
        accounts,
        mail,
        limiter,
        settings,
        store,
        tokens,
        passwords,
        clock,
        random,
        authjs,
        oidc,
    }))
}

/// The mail service: templates loaded and checked now (a broken override stops the start),
/// `DEFAULT_FROM_EMAIL`, the outbox in the store.
pub fn build_mail(
    settings: &Settings,
    store: &DynStore,
    clock: DynClock,
) -> Result<crate::mail::Mail, StartupError> {
    let email = &settings.email;
    let templates =
        crate::mail::Templates::load(email.templates_dir.as_deref(), email.subject_prefix.clone())?;
    Ok(crate::mail::Mail::new(
        templates,
        email.from.clone(),
        store.clone(),
        clock,
    )?)
}

/// The outbox worker for this state, with the transport `EMAIL_BACKEND` names.
pub fn outbox_worker(state: &AppState) -> Result<crate::mail::outbox::OutboxWorker, StartupError> {
    let mailer = crate::mail::transport::from_settings(&state.settings.email)?;
    Ok(crate::mail::outbox::OutboxWorker::new(
        state.store.clone(),
        mailer,
        state.clock.clone(),
        state.random.clone(),
        crate::mail::outbox::OutboxPolicy::from(&state.settings.email),
        state.mail.wake_handle(),
    ))
}

pub struct Application {
    listener: TcpListener,
    ops_listener: Option<TcpListener>,
    state: AppState,
    outbox: crate::mail::outbox::OutboxWorker,
}

impl Application {
    pub async fn build(mut settings: Settings) -> Result<Self, StartupError> {
        let secret = ensure_secret_key(&mut settings)?;
        crate::config::secrets::enforce(&settings)?;
        let (store, migrated) = open_and_migrate(&settings).await?;
        summary::log(&settings, &migrated, &secret);
        let addr = settings.bind;
        let ops_addr = settings.edge.ops_bind;
        warn_about_edge_settings(&settings);
        // Security events are counted from the start, whether or not anyone scrapes them.
        http::ops::install_recorder();
        let state = build_state(settings, store, Arc::new(SystemClock)).await?;
        let outbox = outbox_worker(&state)?;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| StartupError::Bind { addr, source })?;
        let ops_listener = match ops_addr {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .map_err(|source| StartupError::Bind { addr, source })?,
            ),
            None => None,
        };
        Ok(Self {
            listener,
            ops_listener,
            state,
            outbox,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The operations listener's address (`AUTHBRIDGE_OPS_BIND`), when configured.
    pub fn ops_addr(&self) -> Option<SocketAddr> {
        self.ops_listener.as_ref().and_then(|l| l.local_addr().ok())
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serve until `shutdown` resolves, then let open connections finish (see `crate::server`).
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        // The outbox worker runs beside the listeners and stops after them (between two emails).
        let (stop_outbox, outbox) = crate::mail::outbox::spawn(self.outbox);
        let served = Self::serve(self.listener, self.ops_listener, self.state, shutdown).await;
        let _ = stop_outbox.send(true);
        let _ = outbox.await;
        served
    }

    async fn serve(
        listener: TcpListener,
        ops_listener: Option<TcpListener>,
        state: AppState,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let limits = server::Limits::from(&state.settings.edge);
        let public = http::router(state.clone());
        let Some(ops_listener) = ops_listener else {
            return server::serve(listener, public, limits, shutdown).await;
        };
        let ops = http::ops_router(state);
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|stop| *stop).await;
        };
        let signal = tokio::spawn(async move {
            shutdown.await;
            let _ = stop_tx.send(true);
        });
        let result = tokio::try_join!(
            server::serve(listener, public, limits, stopped(stop_rx.clone())),
            server::serve(ops_listener, ops, limits, stopped(stop_rx)),
        );
        signal.abort();
        result.map(|_| ())
    }
}

/// Settings that are safe but probably not what a deployment wants, said once at startup.
fn warn_about_edge_settings(settings: &Settings) {
    let edge = &settings.edge;
    if !settings.bind.ip().is_loopback() && edge.allowed_hosts_are_default() {
        tracing::warn!(
            bind = %settings.bind,
            "AUTHBRIDGE_ALLOWED_HOSTS is not set: only localhost, 127.0.0.1 and [::1] are \
             answered, every other Host gets 400. Set it to the host names clients use"
        );
    }
    if edge.allowed_hosts.iter().any(|h| h == "*") {
        tracing::warn!("AUTHBRIDGE_ALLOWED_HOSTS contains \"*\": the Host header is not checked");
    }
    if edge.public_origin.is_none() && settings.cookies.cookie_mode() {
        tracing::warn!(
            "cookie mode without AUTHBRIDGE_PUBLIC_URL: the CSRF check takes authbridge's own \
             origin from the request's Host; set AUTHBRIDGE_PUBLIC_URL to the URL browsers use"
        );
    }
}
