//! Caps on the work an encoded password may ask for.
//!
//! Django trusts the cost parameters stored in the database: a row holding
//! `pbkdf2_sha256$1099511627776$...` would keep a Django worker busy for days. This crate
//! refuses such hashes instead: a hash whose parameters exceed a cap gets `valid: false`
//! (after the same dummy hash an unknown algorithm gets, so it is not faster to reject).
//! Every cap sits well above Django 5.2's defaults and above what current Django versions
//! produce, so genuine hashes are never affected.
//!
//! | hasher | Django 5.2 default | cap here |
//! |---|---|---|
//! | any | `auth_user.password` is `varchar(128)` | encoded string ≤ [`MAX_ENCODED_LEN`] bytes |
//! | `pbkdf2_*` | 1,000,000 iterations (6.1: 1,500,000) | ≤ [`PBKDF2_MAX_ITERATIONS`] (or the configured iteration count if that is higher) |
//! | `argon2` | m = 102,400 KiB, t = 2, p = 8 | m ≤ [`ARGON2_MAX_MEMORY_KIB`], t ≤ [`ARGON2_MAX_TIME_COST`], m·t ≤ [`ARGON2_MAX_WORK_KIB`], p ≤ [`ARGON2_MAX_PARALLELISM`] |
//! | `bcrypt`, `bcrypt_sha256` | cost 12 | cost ≤ [`BCRYPT_MAX_COST`] (bcrypt itself allows 4..=31) |
//! | `scrypt` | N = 2¹⁴, r = 8, p = 5 | memory ≤ [`SCRYPT_MAX_MEMORY_BYTES`] (this one is Django's own limit, see below) and N·r·p ≤ [`SCRYPT_MAX_WORK`] |
//!
//! The scrypt memory limit is not an invention of this crate: Django calls
//! `hashlib.scrypt(..., maxmem=0)`, and OpenSSL then applies its default `maxmem` of
//! 32 MiB to `128·r·p + 128·r·(N+2)` bytes, raising `ValueError` above it. Such hashes can
//! never verify under Django either.

/// Longest encoded password accepted, in bytes (Django's column holds 128 characters).
pub const MAX_ENCODED_LEN: usize = 4096;

/// Most PBKDF2 iterations accepted in a stored hash (10× Django 5.2's 1,000,000; about
/// 3–5 s of CPU). Raised automatically to the configured count if that is higher.
pub const PBKDF2_MAX_ITERATIONS: u32 = 10_000_000;

/// Most Argon2 memory accepted, in KiB (512 MiB; Django uses 100 MiB).
pub const ARGON2_MAX_MEMORY_KIB: u32 = 512 * 1024;

/// Most Argon2 passes accepted (Django uses 2).
pub const ARGON2_MAX_TIME_COST: u32 = 32;

/// Most Argon2 work accepted, as memory (KiB) × passes: 10.24× Django's 102,400 × 2.
pub const ARGON2_MAX_WORK_KIB: u64 = 2_097_152;

/// Most Argon2 lanes accepted (Django uses 8; libargon2 allows up to 2²⁴−1).
pub const ARGON2_MAX_PARALLELISM: u32 = 1024;

/// Highest bcrypt cost accepted (16× the work of Django's cost 12).
pub const BCRYPT_MAX_COST: u32 = 16;

/// OpenSSL's default scrypt `maxmem` (32 MiB), which Django's `maxmem=0` selects.
pub const SCRYPT_MAX_MEMORY_BYTES: u64 = 32 * 1024 * 1024;

/// Most scrypt work accepted, as N·r·p (2²³; Django's 2¹⁴·8·5 = 655,360 is 12.8× less).
pub const SCRYPT_MAX_WORK: u64 = 1 << 23;
