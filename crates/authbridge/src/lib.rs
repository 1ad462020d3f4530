//! authbridge: Django's token API (simplejwt-compatible) on Django's own tables, plus an Auth.js
//! bridge. Layout, one hop per capability:
//! - `model`: the nouns (users, tokens, external accounts);
//! - `tokens`: simplejwt's token rules (pure);
//! - `flows`: the rules that span storage and tokens (issue a pair, rotate, log out, sync);
//! - `mail`: account emails rendered from templates, a durable outbox and its sender;
//! - `passwords`: Django's hashers on a bounded blocking pool;
//! - `storage`: Django's and authbridge's tables behind traits (SQLite, PostgreSQL);
//! - `http`: the router, one module per capability, one error type;
//! - `config`, `app` (wiring), `cli`.
#![deny(clippy::unwrap_used)]

pub mod account_tokens;
pub mod app;
pub mod audit;
pub mod cli;
pub mod clock;
pub mod config;
pub mod flows;
pub mod http;
pub mod limits;
pub mod mail;
pub mod model;
pub mod oidc;
pub mod passwords;
pub mod random;
pub mod server;
pub mod storage;
pub mod tokens;
pub mod validation;
