//! The domain's nouns: plain data that storage reads and writes, flows decide on and HTTP renders.
//! No I/O, no clock, no randomness.

mod account;
mod email_address;
mod oidc;
mod token;
mod user;

pub use account::{ExternalAccount, SyncOutcome};
pub use email_address::{EmailAddress, SignupOutcome, VerifyOutcome};
pub use oidc::{
    Client, CodeHash, CodeRecord, Consent, KeyRecord, KeyRotation, LoginSession, RedeemedCode,
    SessionHash,
};
pub use token::{
    BlacklistOutcome, FamilyState, OutstandingToken, PasswordCheck, RotateOutcome, Rotation,
};
pub use user::{password_hash_claim, NewUser, User};
