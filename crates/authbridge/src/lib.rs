//! authbridge: Django's token API (simplejwt-compatible) on Django's own tables, plus an Auth.js
//! bridge. Layout, one hop per capability:
//! - `tokens`: simplejwt's token rules (pure);
//! - `passwords`: Django's hashers on a bounded blocking pool;
//! - `storage`: Django's and authbridge's tables behind traits (SQLite, PostgreSQL);
//! - `http`: the router, one module per capability, one error type;
//! - `config`, `app` (wiring), `cli`.
#![deny(clippy::unwrap_used)]

pub mod accounts;
pub mod app;
pub mod audit;
pub mod cli;
pub mod clock;
pub mod config;
pub mod http;
pub mod limits;
pub mod oidc;
pub mod passwords;
pub mod server;
pub mod storage;
pub mod tokens;
pub mod validation;
