//! Randomness is injected, as time is (`crate::clock`): production draws from the operating
//! system's generator, tests from a seeded one, so what a flow mints (jtis, salts, unusable
//! passwords) can be replayed. Code outside tests draws through this module, not `rand::rng()`.

use rand::rngs::StdRng;
use rand::{CryptoRng, RngCore, SeedableRng};
use std::sync::{Arc, Mutex, PoisonError};

/// A source of cryptographically strong random bytes.
pub trait Random: Send + Sync {
    fn fill_bytes(&self, dest: &mut [u8]);
}

pub type DynRandom = Arc<dyn Random>;

impl dyn Random + '_ {
    /// A `rand` generator over this source, for APIs that take `R: Rng` or `R: CryptoRng`. It is
    /// `Send`, so it may be held across an `.await`.
    pub fn rng(&self) -> RandomRng<'_> {
        RandomRng(self)
    }
}

/// The operating system's generator (`rand`'s thread-local CSPRNG, seeded from the OS).
#[derive(Debug, Default, Clone, Copy)]
pub struct OsRandom;

impl Random for OsRandom {
    fn fill_bytes(&self, dest: &mut [u8]) {
        rand::rng().fill_bytes(dest);
    }
}

/// A deterministic generator for tests: the same seed draws the same bytes.
#[derive(Debug)]
pub struct SeededRandom(Mutex<StdRng>);

impl SeededRandom {
    pub fn new(seed: u64) -> Self {
        Self(Mutex::new(StdRng::seed_from_u64(seed)))
    }
}

impl Random for SeededRandom {
    fn fill_bytes(&self, dest: &mut [u8]) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .fill_bytes(dest);
    }
}

/// `RngCore` over a [`Random`] (see `<dyn Random>::rng`).
pub struct RandomRng<'a>(&'a dyn Random);

impl RngCore for RandomRng<'_> {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0; 4];
        self.0.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }

    fn next_u64(&mut self) -> u64 {
        let mut b = [0; 8];
        self.0.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.0.fill_bytes(dest);
    }
}

// Both sources are CSPRNGs (the OS-seeded thread generator, ChaCha12 for `StdRng`).
impl CryptoRng for RandomRng<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn a_seed_replays_its_draws() {
        let (a, b): (DynRandom, DynRandom) = (
            Arc::new(SeededRandom::new(7)),
            Arc::new(SeededRandom::new(7)),
        );
        let draw = |r: &DynRandom| r.rng().random::<[u8; 16]>();
        assert_eq!(draw(&a), draw(&b));
        let other: DynRandom = Arc::new(SeededRandom::new(8));
        assert_ne!(draw(&a), draw(&other));
        let os: DynRandom = Arc::new(OsRandom);
        assert_ne!(draw(&os), draw(&os));
    }
}
