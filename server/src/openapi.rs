//! The REST contract as an OpenAPI 3.1 document, generated from the handlers' own descriptions
//! (`#[utoipa::path]` in `routes/`), served at `GET /api/openapi.json`, and a reader for it at
//! `GET /api/docs` (Swagger UI from npm's `swagger-ui-dist`, served by this server).
use crate::routes::{accounts, sign_in};
use app::ssr::AppState;
use axum::body::Bytes;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi as Document, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi, ToSchema};

/// Every error answer: a sentence for people, a stable code for programs, and the extras some
/// errors carry.
#[derive(serde::Serialize, ToSchema)]
#[allow(dead_code)] // a description only: errors are built by `app::error::AppError`
#[serde(rename_all = "camelCase")]
#[schema(as = Error)]
pub struct ApiError {
    /// What went wrong, for people.
    error: String,
    /// What went wrong, for programs (`invalid_request`, `rate_limited`…).
    code: String,
    /// On `429`: seconds until an attempt counts again.
    remaining_time: Option<u64>,
    /// On some `401`s: wrong tries left before the limit.
    remaining_attempts: Option<u32>,
    /// The input field the error is about.
    field: Option<String>,
}

/// `/api/auth/login`'s answer: signed in, or a second step owed.
#[derive(serde::Serialize, ToSchema)]
#[allow(dead_code)]
#[serde(untagged)]
pub enum AuthLoginAnswer {
    SignedIn(accounts::AuthSignedIn),
    SecondStep(sign_in::AuthMfaRequired),
}

/// `/api/users/login`'s answer: signed in, or a TOTP code owed.
#[derive(serde::Serialize, ToSchema)]
#[allow(dead_code)]
#[serde(untagged)]
pub enum UsersLoginAnswer {
    SignedIn(sign_in::UsersSignedIn),
    SecondStep(sign_in::UsersTotpRequired),
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Portcullis",
        description = "Accounts, sign-in, screen lock and terminal locks for self-hosted web terminals. \
            Errors answer `{error, code}` (plus `remainingTime` on 429, `remainingAttempts` on some 401s). \
            Requests that change state from a page of another site are refused with 403 `cross_site_request`.",
        license(name = "AGPL-3.0-or-later")
    ),
    components(schemas(ApiError)),
    modifiers(&SecuritySchemes),
)]
struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        let bearer = |format: &str, what: &str| {
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format(format)
                    .description(Some(what))
                    .build(),
            )
        };
        components.add_security_scheme(
            "session",
            bearer("JWT", "A session token from a sign-in (`token`), as `Authorization: Bearer`."),
        );
        components.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "jwt",
                "The session cookie a sign-in sets (browsers).",
            ))),
        );
        components.add_security_scheme(
            "api_key",
            bearer("pcs_…", "An API key (`pcs_` and 64 hex digits) an admin created; acts as its user."),
        );
        components.add_security_scheme(
            "gateway",
            bearer("secret", "The terminal gateway's `PORTCULLIS_GATEWAY_SECRET`."),
        );
    }
}

/// Errors every operation can answer, added to each: bad input (`400`), a database that does
/// not answer (`503`) or a fault (`500`); with a caller, no or a dead token (`401`); with a
/// caller or a change, a refusal (`403`: not allowed, a locked screen, another site's page).
fn add_common_errors(doc: &mut Document) {
    let error = |what: &str| {
        RefOr::T(
            ResponseBuilder::new()
                .description(what)
                .content(
                    "application/json",
                    utoipa::openapi::ContentBuilder::new()
                        .schema(Some(utoipa::openapi::Ref::from_schema_name("Error")))
                        .build(),
                )
                .build(),
        )
    };
    for item in doc.paths.paths.values_mut() {
        let ops = [
            (true, &mut item.get),
            (false, &mut item.put),
            (false, &mut item.post),
            (false, &mut item.delete),
            (false, &mut item.patch),
        ];
        for (safe, op) in ops.into_iter().filter_map(|(safe, op)| Some((safe, op.as_mut()?))) {
            let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
            let responses = &mut op.responses.responses;
            let mut add = |status: &str, what: &str| {
                responses.entry(status.to_owned()).or_insert_with(|| error(what));
            };
            add("400", "The input is wrong (`invalid_request` and the more precise codes)");
            if secured || !safe {
                add("403", "Refused: not allowed, the screen is locked, a feature is off, or another site's page sent it");
            }
            if secured {
                add("401", "No token, or one that no longer lets anyone in");
            }
            add("500", "A fault on the server (logged with the request id)");
            add("503", "The database does not answer; try again");
        }
    }
}

/// The document: the handlers' descriptions, the security schemes and the common errors.
pub fn document(paths: Document) -> Document {
    let mut doc = ApiDoc::openapi().merge_from(paths);
    add_common_errors(&mut doc);
    doc
}

/// `GET /api/openapi.json`, and the reader at `GET /api/docs`.
pub fn router(doc: &Document) -> Router<AppState> {
    let json = Bytes::from(doc.to_pretty_json().unwrap_or_else(|e| {
        tracing::error!(error = %e, "the OpenAPI document did not serialise");
        "{}".to_owned()
    }));
    Router::new()
        .route(
            "/api/openapi.json",
            get(move || {
                let json = json.clone();
                async move {
                    ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], json)
                        .into_response()
                }
            }),
        )
        .route("/api/docs", get(docs_page))
}

/// The Swagger UI page: its script and styles are files of this server (copied from npm's
/// `swagger-ui-dist` into the site at build time), its starter a file too, so the page's
/// policy allows scripts from this origin only.
async fn docs_page() -> Response {
    let mut res = axum::response::Html(DOCS_PAGE).into_response();
    res.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
             connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
        ),
    );
    res
}

const DOCS_PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Portcullis API</title>
<link rel="stylesheet" href="/api-docs/swagger-ui.css">
</head>
<body>
<div id="docs"><p>Loading the API reference… The machine-readable document is at <a href="/api/openapi.json">/api/openapi.json</a>.</p></div>
<script src="/api-docs/swagger-ui-bundle.js"></script>
<script src="/api-docs/start.js"></script>
</body>
</html>
"#;
