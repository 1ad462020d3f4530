//! The OpenID Connect provider at run time: its signing keys (loaded from storage, generated when
//! missing, reloaded every [`RELOAD_EVERY`] so that `authbridge keys rotate` on one host reaches
//! every instance) and its client lookup (the config file first, then the database). Built by
//! `build_state` when `OIDC.ENABLED`; handlers reach it as `state.oidc`.

use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::sync::{Arc, RwLock, Weak};

use crate::clock::DynClock;
use crate::config::OidcSettings;
use crate::oidc::client::Client;
use crate::oidc::keys::{
    self, KeyError, KeyRecord, KeySealer, KeySet, KeyState, LoadedKey, SealError, SigningAlg,
    SigningKey,
};
use crate::random::DynRandom;
use crate::storage::{DynStore, KeyRotation, StorageError};
use crate::tokens::TokenService;

/// How often every instance reloads the keys (and sweeps expired codes and login sessions).
pub const RELOAD_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// How long a rotated-in key is only published before it signs: two reload periods, so that every
/// instance's JWKS lists it before any instance's ID tokens name it (a relying party that fetches
/// the JWKS from a lagging instance must not miss the `kid`).
pub const PUBLISH_BEFORE_SIGNING: Duration = Duration::seconds(120);

#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("OIDC signing keys: {0}")]
    Seal(#[from] SealError),
    #[error("OIDC signing keys: {0}")]
    Key(#[from] KeyError),
    #[error("the OIDC provider needs DJANGO_SECRET_KEY (its signing keys are sealed under it)")]
    NoSecret,
    #[error("the OIDC provider needs an issuer: set OIDC.ISSUER or AUTHBRIDGE_PUBLIC_URL")]
    NoIssuer,
}

/// The provider's keys and clients, shared by every request (`AppState::oidc`).
pub struct OidcRuntime {
    issuer: String,
    settings: OidcSettings,
    store: DynStore,
    clock: DynClock,
    random: DynRandom,
    sealer: KeySealer,
    /// `[[oidc.clients]]`, by client_id: they take precedence over the database's.
    config_clients: HashMap<String, Client>,
    /// Swapped whole by a reload; readers clone the `Arc` and never wait for one.
    keys: RwLock<Arc<KeySet>>,
    /// The token API's keys with `[oidc]`'s lifetimes: built once here, not per grant (the keys
    /// hold the private signing key; a copy per request would also be a copy left in memory).
    client_tokens: TokenService,
    /// The reload task, stopped when the runtime is dropped (the server's state goes at shutdown).
    reloader: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for OidcRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcRuntime")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl Drop for OidcRuntime {
    fn drop(&mut self) {
        if let Some(task) = &self.reloader {
            task.abort();
        }
    }
}

impl OidcRuntime {
    /// Load (generating what is missing) the keys, and start the reload task. `secret` is
    /// `DJANGO_SECRET_KEY` (see `oidc::keys::sealing`); `public_url` is `AUTHBRIDGE_PUBLIC_URL`.
    pub async fn start(
        settings: &OidcSettings,
        public_url: Option<&str>,
        secret: &[u8],
        tokens: &TokenService,
        store: DynStore,
        clock: DynClock,
        random: DynRandom,
    ) -> Result<Arc<Self>, OidcError> {
        let issuer = settings
            .issuer(public_url)
            .ok_or(OidcError::NoIssuer)?
            .to_string();
        let sealer = KeySealer::new(secret)?;
        let now = clock.now();
        let set = load_keys(&store, &sealer, &random, &settings.signing_algorithms, now).await?;
        let config_clients = settings
            .clients
            .iter()
            .map(|c| (c.client_id.clone(), c.to_client()))
            .collect();
        Ok(Arc::new_cyclic(|weak: &Weak<Self>| Self {
            issuer,
            settings: settings.clone(),
            store,
            clock,
            random,
            sealer,
            config_clients,
            keys: RwLock::new(Arc::new(set)),
            client_tokens: crate::flows::oidc::client_tokens(tokens, settings),
            reloader: Some(tokio::spawn(reload_loop(weak.clone()))),
        }))
    }

    /// The token service for tokens issued to clients (`flows::oidc::client_tokens`).
    pub fn client_tokens(&self) -> &TokenService {
        &self.client_tokens
    }

    /// The issuer, byte for byte as in every token and in the discovery document.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The `[oidc]` settings (lifetimes, algorithms, …).
    pub fn settings(&self) -> &OidcSettings {
        &self.settings
    }

    /// The keys as last loaded: a snapshot, cheap to take (an `Arc` clone), valid for the whole
    /// request even if a reload swaps in a newer set meanwhile. Sign with
    /// `keys.signer(self.id_token_alg(client), now)`, publish `keys.jwks(now)`, verify an
    /// `id_token_hint` with `keys.verify(token, now)`.
    pub fn keys(&self) -> Arc<KeySet> {
        self.keys.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The algorithm of the client's ID tokens: its `id_token_signed_response_alg`, else
    /// `OIDC.ID_TOKEN_SIGNING_ALG` (RS256 unless changed).
    pub fn id_token_alg(&self, client: &Client) -> SigningAlg {
        client
            .id_token_alg
            .unwrap_or(self.settings.id_token_signing_alg)
    }

    /// The client by client_id: one declared in the config file wins over one in the database.
    /// `Ok(None)` for an unknown client (answer `invalid_client`); `Err` only when the database
    /// fails (answer 5xx/`server_error`, it is not the client's fault).
    pub async fn client(&self, client_id: &str) -> Result<Option<Client>, StorageError> {
        // No client_id holds a NUL (generated ids are base64url), and PostgreSQL refuses one in
        // a text parameter: an error there would be a 500 for a client's typo.
        if client_id.contains('\0') {
            return Ok(None);
        }
        if let Some(client) = self.config_clients.get(client_id) {
            return Ok(Some(client.clone()));
        }
        self.store.client(client_id).await
    }

    /// Read the keys from the database again (what the reload task does every
    /// [`RELOAD_EVERY`]); generates a key for an algorithm that lost its active one. Call it when
    /// a token names a `kid` this set does not know, to pick up a rotation before the next tick.
    pub async fn reload_keys(&self) -> Result<(), OidcError> {
        let set = load_keys(
            &self.store,
            &self.sealer,
            &self.random,
            &self.settings.signing_algorithms,
            self.clock.now(),
        )
        .await?;
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(set);
        Ok(())
    }

    /// One tick of the reload task: keys, then the sweep of expired codes and login sessions.
    async fn tick(&self) {
        if let Err(e) = self.reload_keys().await {
            tracing::warn!(error = %e, "reloading the OIDC signing keys failed; keeping the last set");
        }
        let now = self.clock.now();
        if let Err(e) = self.store.delete_expired_codes(now).await {
            tracing::warn!(error = %e, "deleting expired authorization codes failed");
        }
        if let Err(e) = self.store.delete_expired_login_sessions(now).await {
            tracing::warn!(error = %e, "deleting expired login sessions failed");
        }
    }
}

/// Holds only a weak reference, so the task never keeps the runtime (and its store) alive.
async fn reload_loop(runtime: Weak<OidcRuntime>) {
    let mut interval = tokio::time::interval(RELOAD_EVERY);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    interval.tick().await; // the first tick is immediate; the keys were just loaded
    loop {
        interval.tick().await;
        let Some(runtime) = runtime.upgrade() else {
            return;
        };
        runtime.tick().await;
    }
}

/// A stored key unsealed, or why not.
fn unseal(sealer: &KeySealer, record: &KeyRecord) -> Result<SigningKey, OidcError> {
    let pkcs8 = sealer.open(&record.kid, &record.sealed)?;
    Ok(SigningKey::from_pkcs8(record.alg, pkcs8)?)
}

/// A new key of `alg`, sealed for storage.
pub fn new_key_record(
    sealer: &KeySealer,
    random: &DynRandom,
    alg: SigningAlg,
    now: DateTime<Utc>,
) -> Result<(KeyRecord, SigningKey), OidcError> {
    let key = SigningKey::generate(alg)?;
    let sealed = sealer.seal(key.kid(), key.pkcs8(), &mut random.rng())?;
    let record = KeyRecord {
        kid: key.kid().to_string(),
        alg,
        sealed,
        created_at: now,
        retire_at: None,
    };
    Ok((record, key))
}

/// The published keys in storage, with a new active key for every algorithm of `wanted` that has
/// none. An active key this instance cannot unseal (DJANGO_SECRET_KEY changed) is retired at once
/// and replaced. Two instances generating the same algorithm at once store one key (the database
/// keeps one active key per algorithm): the loser reads the winner's.
pub async fn load_keys(
    store: &DynStore,
    sealer: &KeySealer,
    random: &DynRandom,
    wanted: &[SigningAlg],
    now: DateTime<Utc>,
) -> Result<KeySet, OidcError> {
    let mut generated = false;
    loop {
        let records = store.list_keys().await?;
        let (set, unreadable) = unseal_published(sealer, &records, now);
        let missing = set.missing(wanted, now);
        // Once is enough: what is still missing after a generation stays so (a key that cannot be
        // stored or read back), and the next reload tries again.
        if missing.is_empty() || generated {
            return Ok(set);
        }
        generated = true;
        let mut rotation = KeyRotation {
            retire: records
                .iter()
                .filter(|r| unreadable.contains(&r.kid) && missing.contains(&r.alg))
                .map(|r| (r.kid.clone(), now))
                .collect(),
            add: Vec::new(),
        };
        for alg in &missing {
            rotation
                .add
                .push(new_key_record(sealer, random, *alg, now)?.0);
        }
        match store.rotate_keys(&rotation).await {
            Ok(()) => {
                for alg in &missing {
                    tracing::info!(alg = alg.name(), "generated an OIDC signing key");
                }
            }
            // Another instance stored its key first: read it back.
            Err(StorageError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// The keys not yet retired that this instance can unseal, and the kids of the active ones it
/// cannot.
fn unseal_published(
    sealer: &KeySealer,
    records: &[KeyRecord],
    now: DateTime<Utc>,
) -> (KeySet, Vec<String>) {
    let mut loaded = Vec::new();
    let mut unreadable = Vec::new();
    for record in records.iter().filter(|r| r.state(now) != KeyState::Retired) {
        match unseal(sealer, record) {
            Ok(key) => loaded.push(LoadedKey {
                key,
                created_at: record.created_at,
                retire_at: record.retire_at,
            }),
            Err(e) => {
                tracing::warn!(kid = %record.kid, alg = record.alg.name(), error = %e,
                    "skipping an OIDC signing key this instance cannot read");
                if record.state(now) == KeyState::Active {
                    unreadable.push(record.kid.clone());
                }
            }
        }
    }
    publish_before_signing(&mut loaded, now);
    (KeySet::new(loaded), unreadable)
}

/// A key younger than [`PUBLISH_BEFORE_SIGNING`] that replaced a key still published (a
/// rotation) is published but does not sign yet: its predecessor signs until a reload after the
/// delay. A key with no predecessor (a first start, a changed secret) signs at once.
fn publish_before_signing(loaded: &mut [LoadedKey], now: DateTime<Utc>) {
    let fresh =
        |k: &LoadedKey| k.retire_at.is_none() && now < k.created_at + PUBLISH_BEFORE_SIGNING;
    for alg in SigningAlg::ALL {
        let has_fresh = loaded.iter().any(|k| k.key.alg() == alg && fresh(k));
        let predecessor = loaded
            .iter()
            .enumerate()
            .filter(|(_, k)| k.key.alg() == alg && k.retire_at.is_some_and(|at| at > now))
            .max_by_key(|(_, k)| (k.created_at, k.key.kid().to_string()))
            .map(|(i, _)| i);
        let (true, Some(predecessor)) = (has_fresh, predecessor) else {
            continue;
        };
        for key in loaded.iter_mut() {
            if key.key.alg() == alg && fresh(key) {
                key.retire_at = Some(DateTime::<Utc>::MAX_UTC);
            }
        }
        loaded[predecessor].retire_at = None;
    }
}

/// `authbridge keys rotate`: a new key for every algorithm of `wanted`, the active ones retire
/// after `overlap`, and keys already past retirement are deleted. Returns what was written.
pub async fn rotate_keys(
    store: &DynStore,
    sealer: &KeySealer,
    random: &DynRandom,
    wanted: &[SigningAlg],
    now: DateTime<Utc>,
    overlap: Duration,
) -> Result<KeyRotation, OidcError> {
    let records = store.list_keys().await?;
    let mut rotation = KeyRotation {
        retire: keys::retirements(&records, wanted, now, overlap),
        add: Vec::new(),
    };
    for alg in wanted {
        rotation
            .add
            .push(new_key_record(sealer, random, *alg, now)?.0);
    }
    store.rotate_keys(&rotation).await?;
    store.delete_retired_keys(now).await?;
    Ok(rotation)
}

#[cfg(test)]
#[path = "oidc_tests.rs"]
mod tests;
