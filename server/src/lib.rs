//! The axum server: configuration, startup, REST routes and page gating.
pub mod assets;
pub mod config;
pub mod defences;
pub mod health;
pub mod metrics;
pub mod openapi;
pub mod pages;
pub mod routes;
pub mod startup;
