//! Everything that only runs on the server: state, clock, keys, services and SQL.
pub mod clock;
pub mod db;
pub mod hashing;
pub mod http;
pub mod keys;
pub mod metrics;
pub mod paging;
pub mod services;
pub mod state;

pub use state::AppState;
