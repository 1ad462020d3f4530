//! The key set and its rotation rules, given `now`.
//!
//! A key is *active* until a rotation gives it a `retire_at`; then it is *retiring* (published, no
//! longer signing) until `retire_at`, and *retired* (neither; its row may be deleted) after.
//! `authbridge keys rotate` adds a new key per algorithm, which signs at once, and sets the old
//! ones' `retire_at` to `now + overlap`: tokens they signed stay verifiable by relying parties that
//! fetch the JWKS during the overlap, which must therefore outlast the ID token lifetime.

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use super::{SigningAlg, SigningKey};

/// A stored key as the storage layer keeps it (private half sealed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    pub kid: String,
    pub alg: SigningAlg,
    /// `KeySealer::seal` output.
    pub sealed: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub retire_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    Active,
    Retiring,
    Retired,
}

fn state_of(retire_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> KeyState {
    match retire_at {
        None => KeyState::Active,
        Some(at) if at > now => KeyState::Retiring,
        Some(_) => KeyState::Retired,
    }
}

impl KeyRecord {
    pub fn state(&self, now: DateTime<Utc>) -> KeyState {
        state_of(self.retire_at, now)
    }
}

/// A stored key, unsealed.
#[derive(Debug)]
pub struct LoadedKey {
    pub key: SigningKey,
    pub created_at: DateTime<Utc>,
    pub retire_at: Option<DateTime<Utc>>,
}

impl LoadedKey {
    fn state(&self, now: DateTime<Utc>) -> KeyState {
        state_of(self.retire_at, now)
    }
}

/// Every usable key. Built from storage at start (and again after a rotation).
#[derive(Debug, Default)]
pub struct KeySet {
    keys: Vec<LoadedKey>,
}

impl KeySet {
    pub fn new(keys: Vec<LoadedKey>) -> Self {
        Self { keys }
    }

    /// The key that signs `alg` tokens: the newest active one (ties broken by kid, so every
    /// instance picks the same).
    pub fn signer(&self, alg: SigningAlg, now: DateTime<Utc>) -> Option<&SigningKey> {
        self.keys
            .iter()
            .filter(|k| k.key.alg() == alg && k.state(now) == KeyState::Active)
            .max_by(|a, b| (a.created_at, a.key.kid()).cmp(&(b.created_at, b.key.kid())))
            .map(|k| &k.key)
    }

    /// Keys a relying party may still meet: active and retiring.
    pub fn published(&self, now: DateTime<Utc>) -> impl Iterator<Item = &SigningKey> {
        self.keys
            .iter()
            .filter(move |k| k.state(now) != KeyState::Retired)
            .map(|k| &k.key)
    }

    /// The JWKS document: `{"keys": [...]}` of the published keys, newest first.
    pub fn jwks(&self, now: DateTime<Utc>) -> Value {
        let mut keys: Vec<&LoadedKey> = self
            .keys
            .iter()
            .filter(|k| k.state(now) != KeyState::Retired)
            .collect();
        keys.sort_by(|a, b| (b.created_at, b.key.kid()).cmp(&(a.created_at, a.key.kid())));
        let keys: Vec<Value> = keys.iter().map(|k| k.key.public_jwk()).collect();
        serde_json::json!({ "keys": keys })
    }

    /// A published key by kid (to verify an `id_token_hint` or introspect).
    pub fn by_kid(&self, kid: &str, now: DateTime<Utc>) -> Option<&SigningKey> {
        self.published(now).find(|k| k.kid() == kid)
    }

    /// The claims of a token signed by one of the published keys (chosen by the header's `kid`),
    /// signature checked; time and audience are the caller's (`claims::check_id_token`).
    pub fn verify(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Option<serde_json::Map<String, Value>> {
        let kid = jsonwebtoken::decode_header(token).ok()?.kid?;
        self.by_kid(&kid, now)?.verify(token)
    }

    /// Algorithms of `wanted` without an active key: generate one for each (first start, or a
    /// newly configured algorithm).
    pub fn missing(&self, wanted: &[SigningAlg], now: DateTime<Utc>) -> Vec<SigningAlg> {
        wanted
            .iter()
            .copied()
            .filter(|alg| self.signer(*alg, now).is_none())
            .collect()
    }
}

/// What a rotation writes: for each record active now with an algorithm in `rotated`, its new
/// `retire_at` (`now + overlap`). The caller stores these with the new keys in one transaction.
pub fn retirements(
    records: &[KeyRecord],
    rotated: &[SigningAlg],
    now: DateTime<Utc>,
    overlap: Duration,
) -> Vec<(String, DateTime<Utc>)> {
    records
        .iter()
        .filter(|r| rotated.contains(&r.alg) && r.state(now) == KeyState::Active)
        .map(|r| (r.kid.clone(), now + overlap))
        .collect()
}

/// Records past their retirement: no longer published, safe to delete.
pub fn retired(records: &[KeyRecord], now: DateTime<Utc>) -> Vec<String> {
    records
        .iter()
        .filter(|r| r.state(now) == KeyState::Retired)
        .map(|r| r.kid.clone())
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000 + secs, 0).unwrap()
    }

    fn loaded(alg: SigningAlg, created: i64, retire: Option<i64>) -> LoadedKey {
        LoadedKey {
            key: SigningKey::generate(alg).unwrap(),
            created_at: at(created),
            retire_at: retire.map(at),
        }
    }

    #[test]
    fn newest_active_key_signs_and_retiring_keys_stay_published() {
        let set = KeySet::new(vec![
            loaded(SigningAlg::EdDSA, 0, Some(100)),
            loaded(SigningAlg::EdDSA, 10, None),
            loaded(SigningAlg::EdDSA, 5, None),
            loaded(SigningAlg::ES256, 0, Some(50)),
        ]);
        let newest = set.keys[1].key.kid().to_string();
        assert_eq!(set.signer(SigningAlg::EdDSA, at(20)).unwrap().kid(), newest);
        assert!(
            set.signer(SigningAlg::ES256, at(20)).is_none(),
            "retiring keys never sign"
        );
        assert!(set.signer(SigningAlg::RS256, at(20)).is_none());
        assert_eq!(
            set.missing(
                &[SigningAlg::EdDSA, SigningAlg::ES256, SigningAlg::RS256],
                at(20)
            ),
            [SigningAlg::ES256, SigningAlg::RS256]
        );

        assert_eq!(set.published(at(20)).count(), 4);
        assert_eq!(set.published(at(50)).count(), 3, "ES256 retired at 50");
        assert_eq!(set.published(at(100)).count(), 2);
        let retiring = set.keys[0].key.kid().to_string();
        assert!(set.by_kid(&retiring, at(99)).is_some());
        assert!(set.by_kid(&retiring, at(100)).is_none());

        let claims = serde_json::json!({"sub": "1"}).as_object().unwrap().clone();
        let token = set.keys[0].key.sign(&claims).unwrap();
        assert_eq!(set.verify(&token, at(99)), Some(claims));
        assert_eq!(
            set.verify(&token, at(100)),
            None,
            "retired keys verify nothing"
        );
        assert_eq!(set.verify("x.y.z", at(0)), None);

        let jwks = set.jwks(at(60));
        let kids: Vec<&str> = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap())
            .collect();
        assert_eq!(kids, [newest.as_str(), set.keys[2].key.kid(), &retiring]);
    }

    #[test]
    fn rotation_retires_only_the_active_keys_of_the_rotated_algorithms() {
        let record = |kid: &str, alg, retire: Option<i64>| KeyRecord {
            kid: kid.into(),
            alg,
            sealed: vec![],
            created_at: at(0),
            retire_at: retire.map(at),
        };
        let records = [
            record("a", SigningAlg::RS256, None),
            record("b", SigningAlg::RS256, Some(500)),
            record("c", SigningAlg::EdDSA, None),
            record("d", SigningAlg::RS256, Some(5)),
        ];
        assert_eq!(
            retirements(&records, &[SigningAlg::RS256], at(10), Duration::days(7)),
            [("a".to_string(), at(10) + Duration::days(7))]
        );
        assert_eq!(retired(&records, at(10)), ["d"]);
        assert_eq!(records[1].state(at(10)), KeyState::Retiring);
        assert_eq!(records[1].state(at(500)), KeyState::Retired);
    }
}
