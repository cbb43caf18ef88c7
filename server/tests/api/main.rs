//! Boots the real router on port 0 with a fresh database per test and speaks HTTP to it: an
//! SQLite file, or with `PORTCULLIS_TEST_BACKEND=postgres` a database on a real PostgreSQL
//! server the run starts (see `support/postgres.rs`).
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod accounts_admin;
mod api_keys;
mod audit;
mod auth_routes;
mod backend;
mod defences;
mod directory;
mod forms;
mod forward_auth;
mod health;
mod helpers;
mod ldap;
mod log_audit;
mod oidc;
mod openapi;
mod paging;
mod passkeys;
mod password_reset;
#[allow(dead_code)] // shared with the other test binaries
#[path = "../support/postgres.rs"]
mod postgres;
mod proxies;
mod rate_limits;
mod reauthentication;
mod screen_lock;
mod sessions_routes;
mod settings_routes;
mod terminals;
mod tokens;
mod totp;
mod vault;
