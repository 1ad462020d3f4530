//! Private signing keys at rest: AES-256-GCM under a key derived from the server secret.
//!
//! The secret is `DJANGO_SECRET_KEY`, because it is the one secret every deployment has:
//! `app::ensure_secret_key` loads or generates it before anything is built, whereas
//! `SIMPLE_JWT.SIGNING_KEY` may be unset (HS* falls back to the Django key) or a PEM private key
//! (RS256/ES256/EdDSA), which is no secret to derive from across a change of algorithm. Every
//! instance sharing one database shares the Django key, so every instance can unseal the keys.
//! Changing `DJANGO_SECRET_KEY` makes the stored keys unreadable ([`SealError::Unreadable`]): the
//! caller then generates new ones, and relying parties fetch the new JWKS on the unknown `kid`.
//!
//! Layout of a sealed key: `0x01` (format version) ‖ 12-byte random nonce ‖ ciphertext ‖ tag. The
//! `kid` is the associated data, so a sealed key moved to another row does not open.

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::hkdf::{Salt, HKDF_SHA256};
use rand::CryptoRng;
use zeroize::Zeroizing;

const VERSION: u8 = 1;
/// HKDF's `info`: names what the derived key is for, so no other use of the Django secret (its
/// HMACs, Django's own signing) can ever produce the same key.
const INFO: &[u8] = b"authbridge OIDC signing keys at rest v1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// Wrong secret, another row's kid, or damaged bytes: AES-GCM cannot tell them apart.
    #[error("the stored signing key cannot be decrypted with the current DJANGO_SECRET_KEY")]
    Unreadable,
    #[error("the crypto backend failed to encrypt")]
    Backend,
}

/// Seals and unseals private keys with the derived key.
pub struct KeySealer {
    key: LessSafeKey,
}

impl std::fmt::Debug for KeySealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeySealer")
    }
}

impl KeySealer {
    /// `secret`: the `DJANGO_SECRET_KEY` bytes (see the module doc).
    pub fn new(secret: &[u8]) -> Result<Self, SealError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        Salt::new(HKDF_SHA256, &[])
            .extract(secret)
            .expand(&[INFO], &AES_256_GCM)
            .and_then(|okm| okm.fill(bytes.as_mut()))
            .map_err(|_| SealError::Backend)?;
        let key = UnboundKey::new(&AES_256_GCM, bytes.as_ref()).map_err(|_| SealError::Backend)?;
        Ok(Self {
            key: LessSafeKey::new(key),
        })
    }

    /// Encrypt `pkcs8` for the row named `kid`; the nonce comes from `rng`.
    pub fn seal<R: CryptoRng + ?Sized>(
        &self,
        kid: &str,
        pkcs8: &[u8],
        rng: &mut R,
    ) -> Result<Vec<u8>, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        let mut body = Zeroizing::new(pkcs8.to_vec());
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(kid.as_bytes()),
                &mut *body,
            )
            .map_err(|_| SealError::Backend)?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + body.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// The PKCS#8 document sealed for `kid`.
    pub fn open(&self, kid: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, SealError> {
        let Some((&VERSION, rest)) = sealed.split_first() else {
            return Err(SealError::Unreadable);
        };
        if rest.len() < NONCE_LEN {
            return Err(SealError::Unreadable);
        }
        let (nonce, body) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::Unreadable)?;
        let mut body = Zeroizing::new(body.to_vec());
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(kid.as_bytes()), &mut body)
            .map_err(|_| SealError::Unreadable)?;
        Ok(Zeroizing::new(plain.to_vec()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn round_trip_and_refusals() {
        let mut rng = StdRng::seed_from_u64(1);
        let sealer = KeySealer::new(b"the django secret key").unwrap();
        let sealed = sealer.seal("kid-1", b"private", &mut rng).unwrap();
        assert_eq!(sealed[0], VERSION);
        assert!(!sealed.windows(7).any(|w| w == b"private"));
        assert_eq!(
            sealer.open("kid-1", &sealed).unwrap().as_slice(),
            b"private"
        );

        // A fresh nonce each time: the same key sealed twice differs.
        assert_ne!(sealer.seal("kid-1", b"private", &mut rng).unwrap(), sealed);
        // Another row's kid, another secret, damaged bytes, another version: unreadable.
        assert_eq!(sealer.open("kid-2", &sealed), Err(SealError::Unreadable));
        let other = KeySealer::new(b"a rotated django secret key").unwrap();
        assert_eq!(other.open("kid-1", &sealed), Err(SealError::Unreadable));
        let mut damaged = sealed.clone();
        *damaged.last_mut().unwrap() ^= 1;
        assert_eq!(sealer.open("kid-1", &damaged), Err(SealError::Unreadable));
        let mut version = sealed.clone();
        version[0] = 2;
        assert_eq!(sealer.open("kid-1", &version), Err(SealError::Unreadable));
        assert_eq!(sealer.open("kid-1", &[]), Err(SealError::Unreadable));
        assert_eq!(sealer.open("kid-1", &[1, 2]), Err(SealError::Unreadable));
    }
}
