//! `authbridge client …` and `authbridge keys …`: the OpenID Connect provider's clients and signing
//! keys. A client's secret is printed once and stored only as its SHA-256 (`oidc::client`); keys
//! are sealed under DJANGO_SECRET_KEY (`oidc::keys::sealing`) and reach running instances within
//! `app::oidc::RELOAD_EVERY`.

use clap::Subcommand;
use secrecy::ExposeSecret;
use std::sync::Arc;

use super::CliError;
use crate::app;
use crate::config::Settings;
use crate::oidc::client::{self, Client, ClientAuth, RedirectUri};
use crate::oidc::keys::{KeySealer, KeyState};
use crate::random::{DynRandom, OsRandom};
use crate::storage::StorageError;

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register a client; prints its client_id and (unless --public) its secret, once.
    Add {
        /// The name the consent screen shows.
        name: String,
        /// Where codes may be sent (repeat for several); matched byte for byte. https, or plain
        /// http on 127.0.0.1, [::1] or localhost.
        #[arg(long = "redirect-uri", required = true)]
        redirect_uris: Vec<String>,
        /// A public client (single-page or native app): no secret, PKCE required.
        #[arg(long)]
        public: bool,
        /// The site's own app: no consent screen.
        #[arg(long)]
        first_party: bool,
        /// Where end_session may send the browser afterwards (repeat for several).
        #[arg(long = "post-logout-uri")]
        post_logout_uris: Vec<String>,
        /// Print `{"client_id": …, "client_secret": …}` only.
        #[arg(long)]
        json: bool,
    },
    /// List the clients (those of the config file and those added here); never a secret.
    List {
        /// One JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Remove a client added with `client add` (its tokens stop refreshing at once).
    Remove { client_id: String },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// A new signing key per algorithm of OIDC.SIGNING_ALGORITHMS; the current ones stay
    /// published for OIDC.KEY_OVERLAP, then retire; keys already retired are deleted.
    Rotate,
    /// The stored keys: kid, algorithm, state (active, retiring until …, retired).
    List,
}

pub async fn client(settings: Settings, command: ClientCommand) -> Result<(), CliError> {
    match command {
        ClientCommand::Add {
            name,
            redirect_uris,
            public,
            first_party,
            post_logout_uris,
            json,
        } => {
            let new = NewClient {
                name,
                redirect_uris,
                public,
                first_party,
                post_logout_uris,
            };
            add_client(&settings, new, json, Arc::new(OsRandom)).await
        }
        ClientCommand::List { json } => list_clients(&settings, json).await,
        ClientCommand::Remove { client_id } => remove_client(&settings, &client_id).await,
    }
}

struct NewClient {
    name: String,
    redirect_uris: Vec<String>,
    public: bool,
    first_party: bool,
    post_logout_uris: Vec<String>,
}

fn parse_uris(flag: &str, texts: &[String]) -> Result<Vec<RedirectUri>, CliError> {
    texts
        .iter()
        .map(|t| RedirectUri::parse(t).map_err(|e| CliError::Usage(format!("{flag}: {e}"))))
        .collect()
}

async fn add_client(
    settings: &Settings,
    new: NewClient,
    json: bool,
    random: DynRandom,
) -> Result<(), CliError> {
    let name = new.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 255 || name.chars().any(char::is_control) {
        return Err(CliError::Usage(
            "NAME must be 1 to 255 characters, no control characters".into(),
        ));
    }
    let redirect_uris = parse_uris("--redirect-uri", &new.redirect_uris)?;
    let post_logout_redirect_uris = parse_uris("--post-logout-uri", &new.post_logout_uris)?;
    let store = app::open_store(settings).await?;
    let mut rng = random.rng();
    let client_id = client::generate_client_id(&mut rng);
    let (secret, auth) = if new.public {
        (None, ClientAuth::Public)
    } else {
        let (secret, hash) = client::generate_secret(&mut rng);
        (
            Some(zeroize::Zeroizing::new(secret)),
            ClientAuth::Secret(hash),
        )
    };
    let registered = Client {
        client_id: client_id.clone(),
        name,
        auth,
        redirect_uris,
        post_logout_redirect_uris,
        first_party: new.first_party,
        id_token_alg: None,
    };
    store.insert_client(&registered, chrono::Utc::now()).await?;
    if json {
        let mut out = serde_json::json!({ "client_id": client_id });
        if let Some(secret) = &secret {
            out["client_secret"] = serde_json::Value::from(secret.as_str());
        }
        println!("{out}");
    } else {
        println!("Added client {:?}.", registered.name);
        println!("client_id:     {client_id}");
        match &secret {
            Some(secret) => {
                println!("client_secret: {}", secret.as_str());
                println!("The secret is shown this once; only its hash is stored.");
            }
            None => println!("A public client: no secret; it must use PKCE (S256)."),
        }
    }
    Ok(())
}

fn uri_list(list: &[RedirectUri]) -> Vec<&str> {
    list.iter().map(RedirectUri::as_str).collect()
}

/// A listed client; `source` says where it is declared.
fn client_json(client: &Client, source: &str) -> serde_json::Value {
    let uris = uri_list;
    serde_json::json!({
        "client_id": client.client_id,
        "client_name": client.name,
        "public": client.is_public(),
        "first_party": client.first_party,
        "redirect_uris": uris(&client.redirect_uris),
        "post_logout_redirect_uris": uris(&client.post_logout_redirect_uris),
        "source": source,
    })
}

async fn list_clients(settings: &Settings, json: bool) -> Result<(), CliError> {
    let store = app::open_store(settings).await?;
    let mut all: Vec<(Client, &str)> = settings
        .oidc
        .clients
        .iter()
        .map(|c| (c.to_client(), "config"))
        .collect();
    for stored in store.list_clients().await? {
        // A config client of the same id wins at the endpoints; list what they use.
        if !all.iter().any(|(c, _)| c.client_id == stored.client_id) {
            all.push((stored, "database"));
        }
    }
    if json {
        let list: Vec<_> = all.iter().map(|(c, s)| client_json(c, s)).collect();
        println!("{}", serde_json::Value::from(list));
        return Ok(());
    }
    if all.is_empty() {
        println!("No clients. Add one with `authbridge client add NAME --redirect-uri URI`.");
    }
    for (c, source) in &all {
        let kind = if c.is_public() {
            "public"
        } else {
            "confidential"
        };
        let party = if c.first_party { ", first-party" } else { "" };
        println!("{}  {:?} ({kind}{party}, {source})", c.client_id, c.name);
        for uri in &c.redirect_uris {
            println!("    redirect_uri     {}", uri.as_str());
        }
        for uri in &c.post_logout_redirect_uris {
            println!("    post_logout_uri  {}", uri.as_str());
        }
    }
    Ok(())
}

async fn remove_client(settings: &Settings, client_id: &str) -> Result<(), CliError> {
    if settings
        .oidc
        .clients
        .iter()
        .any(|c| c.client_id == client_id)
    {
        return Err(CliError::Usage(format!(
            "client {client_id:?} is declared in the configuration ([[oidc.clients]]): remove it \
             there"
        )));
    }
    let store = app::open_store(settings).await?;
    if !store.delete_client(client_id).await? {
        return Err(CliError::Usage(format!("no client {client_id:?}")));
    }
    println!("Removed client {client_id:?}.");
    Ok(())
}

pub async fn keys(mut settings: Settings, command: KeysCommand) -> Result<(), CliError> {
    match command {
        KeysCommand::Rotate => {
            app::ensure_secret_key(&mut settings)?;
            let store = app::open_store(&settings).await?;
            let secret = settings
                .secret_key
                .as_ref()
                .ok_or(app::OidcError::NoSecret)?;
            let sealer =
                KeySealer::new(secret.expose_secret().as_bytes()).map_err(app::OidcError::from)?;
            let now = chrono::Utc::now();
            let overlap = chrono::Duration::seconds(settings.oidc.key_overlap);
            let random: DynRandom = Arc::new(OsRandom);
            let rotation = match app::oidc::rotate_keys(
                &store,
                &sealer,
                &random,
                &settings.oidc.signing_algorithms,
                now,
                overlap,
            )
            .await
            {
                Err(app::OidcError::Storage(StorageError::Conflict(_))) => {
                    return Err(CliError::Usage(
                        "another rotation ran at the same time; run `keys list` and try again"
                            .into(),
                    ))
                }
                other => other?,
            };
            for key in &rotation.add {
                println!("{}  {}  active (new)", key.kid, key.alg.name());
            }
            for (kid, until) in &rotation.retire {
                println!(
                    "{kid}  retiring until {}",
                    until.format("%Y-%m-%d %H:%M:%S UTC")
                );
            }
            println!(
                "Running instances sign with the new keys within {} s; the previous ones stay \
                 published for OIDC.KEY_OVERLAP.",
                app::oidc::RELOAD_EVERY.as_secs()
            );
            Ok(())
        }
        KeysCommand::List => {
            let store = app::open_store(&settings).await?;
            let now = chrono::Utc::now();
            let keys = store.list_keys().await?;
            if keys.is_empty() {
                println!("No keys yet: the server generates them at its first start with OIDC.");
            }
            for key in keys {
                let state = match key.state(now) {
                    KeyState::Active => "active".to_string(),
                    KeyState::Retiring => format!(
                        "retiring until {}",
                        key.retire_at.unwrap_or(now).format("%Y-%m-%d %H:%M:%S UTC")
                    ),
                    KeyState::Retired => "retired".to_string(),
                };
                println!("{}  {}  {state}", key.kid, key.alg.name());
            }
            Ok(())
        }
    }
}

/// `authbridge doctor`'s check of the stored signing keys: can this DJANGO_SECRET_KEY open the
/// published ones? (A server started with another secret would replace them.) Reads only.
pub(super) async fn check_keys(
    settings: &Settings,
    store: &crate::storage::DynStore,
) -> Result<String, String> {
    let Some(secret) = settings.secret_key.as_ref() else {
        return Err("no DJANGO_SECRET_KEY to open them with".into());
    };
    let sealer = KeySealer::new(secret.expose_secret().as_bytes()).map_err(|e| e.to_string())?;
    let now = chrono::Utc::now();
    let keys = store.list_keys().await.map_err(|e| e.to_string())?;
    let published: Vec<_> = keys
        .iter()
        .filter(|k| k.state(now) != KeyState::Retired)
        .collect();
    if published.is_empty() {
        return Ok("none yet: the server generates them at its first start".into());
    }
    let unreadable: Vec<&str> = published
        .iter()
        .filter(|k| sealer.open(&k.kid, &k.sealed).is_err())
        .map(|k| k.kid.as_str())
        .collect();
    if !unreadable.is_empty() {
        return Err(format!(
            "{} of {} published keys cannot be decrypted with this DJANGO_SECRET_KEY ({}): a \
             server started with it replaces them; every instance must share Django's secret key",
            unreadable.len(),
            published.len(),
            unreadable.join(", ")
        ));
    }
    let mut active: Vec<&str> = published
        .iter()
        .filter(|k| k.state(now) == KeyState::Active)
        .map(|k| k.alg.name())
        .collect();
    active.sort_unstable();
    Ok(format!(
        "{} published, readable; active: {}",
        published.len(),
        active.join(", ")
    ))
}
