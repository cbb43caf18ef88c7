//! Boots the real router on port 0 with a fresh SQLite file per test and speaks HTTP to it.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod accounts_admin;
mod api_keys;
mod auth_routes;
mod defences;
mod directory;
mod helpers;
mod ldap;
mod oidc;
mod password_reset;
mod rate_limits;
mod reauthentication;
mod screen_lock;
mod sessions_routes;
mod settings_routes;
mod terminals;
mod tokens;
mod totp;
mod vault;
