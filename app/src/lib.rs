//! Portcullis: pages, server functions, shared checked types and (feature `ssr`) the service layer.
pub mod api;
mod app;
pub mod audit;
pub mod browser;
pub mod components;
pub mod domain;
pub mod error;
pub mod lock;
pub mod pages;

pub use app::{shell, App};

#[cfg(feature = "ssr")]
pub mod ssr;
