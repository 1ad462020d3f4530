//! One integration-test binary (each file under tests/ would link its own slow binary).
//! Black-box tests start the real server on 127.0.0.1:0; storage tests run the shared conformance
//! suite; every backend test runs on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL.

#![allow(clippy::unwrap_used)]

mod accounts;
mod algorithms;
mod bad_input;
mod browser;
mod cancellation;
mod cli;
mod clock;
mod edge;
mod mail;
mod mixed_writes;
mod oidc;
mod oidc_cli;
mod pages;
mod schema;
mod sessions;
mod settings;
mod storage;
mod support;
mod throttle;
mod wire_probe;
