//! The one support module of every black-box test.
//!
//! - [`db`]: the backends a test runs on and a fresh database for each (SQLite always,
//!   PostgreSQL when `TEST_DATABASE_URL` is set: set but unreachable is a failure, never a skip),
//!   plus raw SQL behind the server's back (what Django or an admin does);
//! - [`app`]: test settings, the real server on 127.0.0.1:0 with a `reqwest` client (`TestApp`),
//!   users with real Django hashes;
//! - [`in_process`]: the same router driven without a socket (`tower::ServiceExt::oneshot`),
//!   with a settable peer address and a `MockClock`, for tests that need neither a socket nor the
//!   wall clock;
//! - [`tokens`]: tokens minted with an independent HMAC (the server's encoder is not trusted to
//!   test its decoder), and their parts decoded;
//! - [`binary`]: the built `authbridge` binary, run as a command or served on port 0;
//! - [`bodies`]: simplejwt's exact error bodies;
//! - [`smtp`]: an SMTP server that records what it receives, can start late and can refuse;
//! - [`headers`]: reading responses' headers and cookies, whichever client produced them.

pub mod app;
pub mod binary;
pub mod bodies;
pub mod db;
pub mod headers;
pub mod in_process;
pub mod smtp;
pub mod tokens;

pub use app::*;
pub use db::*;
