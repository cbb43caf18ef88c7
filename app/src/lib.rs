//! Portcullis: pages, server functions, shared checked types and (feature `ssr`) the service layer.
pub mod domain;
pub mod error;

#[cfg(feature = "ssr")]
pub mod ssr;
