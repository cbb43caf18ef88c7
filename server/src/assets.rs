//! The built front end under `/pkg` (the WASM, its JS loader and the CSS).
//!
//! cargo-leptos names these files by their content (`portcullis.<hash>.wasm`, listed in
//! `hash.txt` beside the binary) and, for `--release --precompress`, writes a brotli (`.br`) and
//! a gzip (`.gz`) copy of each. Here a browser gets the smallest copy its `Accept-Encoding`
//! allows, and a hashed file is cached for a year without asking again (`immutable`): a new
//! build has new names. Anything unhashed (a debug build, or a build without `hash.txt`) is
//! `no-cache`, so the browser asks each time and never runs stale code.
//!
//! Only these static files are compressed. Rendered pages and API answers are not: they can
//! hold secrets next to text an attacker chooses, which is what compression side channels
//! (BREACH) need, and they are small.
use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use leptos::prelude::LeptosOptions;
use std::path::Path;
use tower_http::services::ServeDir;

/// Whether the running binary was built by cargo-leptos with content-hashed file names.
pub fn hashed_build() -> bool {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("hash.txt")))
        .is_some_and(|p| p.is_file())
}

/// `/pkg`: precompressed copies when the browser takes them, and the cache policy above.
pub fn pkg(opts: &LeptosOptions) -> Router {
    let dir = Path::new(opts.site_root.as_ref()).join(opts.site_pkg_dir.as_ref());
    let hashed = opts.hash_files;
    Router::new()
        .fallback_service(ServeDir::new(dir).precompressed_br().precompressed_gzip())
        .layer(axum::middleware::from_fn(move |req: Request, next: Next| cache_policy(hashed, req, next)))
}

async fn cache_policy(hashed: bool, req: Request, next: Next) -> Response {
    let immutable = hashed && is_hashed_name(req.uri().path());
    let mut res = next.run(req).await;
    // A 304's headers replace the cached copy's: it keeps the year too.
    let fresh = res.status().is_success() || res.status() == axum::http::StatusCode::NOT_MODIFIED;
    let policy = if immutable && fresh { "public, max-age=31536000, immutable" } else { "no-cache" };
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    res
}

/// `portcullis.<hash>.<ext>`: three dot-separated parts, the middle one the hash.
fn is_hashed_name(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or("");
    let parts: Vec<&str> = name.split('.').collect();
    parts.len() == 3
        && parts[1].len() >= 8
        && parts[1].chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_content_hashed_names_are_immutable() {
        assert!(super::is_hashed_name("/portcullis.Xb3k9_2pQa-1.wasm"));
        assert!(!super::is_hashed_name("/portcullis.wasm"));
        assert!(!super::is_hashed_name("/snippets/x/inline0.js"));
    }
}
