//! The OpenAPI document at `/api/openapi.json` and the router describe the same routes, with
//! the wire's field names, every error answer and the ways to authenticate.
use crate::helpers::*;
use serde_json::Value;

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

async fn document(app: &TestApp) -> Value {
    let r = app.get("/api/openapi.json", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["content-type"], "application/json");
    r.body
}

/// Every documented operation is a route (the router answers it, not the `/api` catch-all and
/// not "method not allowed"); the router registers no `/api` route outside the document except
/// the catch-alls and the document's own two.
#[tokio::test]
async fn every_route_is_in_the_document_and_every_operation_is_a_route() {
    let app = spawn_app_with_gateway().await;
    let doc = document(&app).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
    let paths = doc["paths"].as_object().unwrap();
    let mut operations = 0;
    for (path, item) in paths {
        let concrete = concrete(path);
        for method in METHODS.iter().filter(|m| item.get(**m).is_some()) {
            operations += 1;
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let r = app.send(m, &concrete, None, None).await;
            assert_ne!(
                r.status.as_u16(),
                405,
                "{method} {path} is documented but the router has no such method"
            );
            assert!(
                !(r.status == 404 && r.code() == "not_found" && !path.ends_with("/redeem")),
                "{method} {path} is documented but the router does not know it: {}",
                r.body
            );
        }
    }
    assert!(operations >= 85, "{operations} operations");
    let mut ids: Vec<&str> = paths
        .values()
        .flat_map(|item| METHODS.iter().filter_map(move |m| item.get(*m)))
        .map(|o| o["operationId"].as_str().expect("every operation has an id"))
        .collect();
    ids.sort_unstable();
    let before = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), before, "operation ids are unique (client generators name methods by them)");
    // Routes enter the router through their description (`routes!`); the only `/api` routes
    // added with a bare `.route(` are the catch-alls and the document's own.
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
    let mut bare = Vec::new();
    for entry in std::fs::read_dir(src).unwrap().chain(std::fs::read_dir(format!("{src}/routes")).unwrap()) {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            for piece in text.split(".route(").skip(1) {
                let Some(literal) = piece.trim_start().strip_prefix('"') else { continue };
                let route = literal.split('"').next().unwrap().to_owned();
                if route.starts_with("/api") {
                    bare.push(route);
                }
            }
        }
    }
    bare.sort();
    assert_eq!(bare, ["/api", "/api/", "/api/docs", "/api/openapi.json", "/api/{*rest}"]);
}

/// What a client generator needs: the wire's own field names (camelCase in auth-api and the
/// users-api's mix, snake_case in security-api), one error shape on every error answer, and
/// which operations need which credentials.
#[tokio::test]
async fn the_document_has_the_wire_names_errors_and_credentials() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let schema = |name: &str| doc["components"]["schemas"][name].clone();
    let props = |name: &str| -> Vec<String> {
        let s = schema(name);
        assert!(s.is_object(), "no schema {name}");
        let mut p: Vec<String> = s["properties"].as_object().unwrap().keys().cloned().collect();
        p.sort();
        p
    };
    assert_eq!(props("Error"), ["code", "error", "field", "remainingAttempts", "remainingTime"]);
    assert_eq!(props("UsersSignedIn"), ["is_admin", "success", "token", "userId", "username"]);
    assert_eq!(props("UsersTotpRequired"), ["requires_totp", "success", "temp_token"]);
    assert_eq!(props("AuthMfaRequired"), ["mfaMethod", "mfaRequired", "mfaToken"]);
    assert_eq!(props("PasscodeRequest"), ["current_passcode", "lock_after_minutes", "new_passcode"]);
    assert_eq!(props("ChangePasswordRequest"), ["newPassword", "oldPassword"]);
    let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
    for s in ["session", "cookie", "api_key", "gateway"] {
        assert!(schemes.contains_key(s), "security scheme {s}");
    }
    assert_eq!(schemes["cookie"]["name"], "jwt");
    assert_eq!(schemes["cookie"]["in"], "cookie");

    let op = |path: &str, method: &str| doc["paths"][path][method].clone();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS.iter().filter(|m| item.get(**m).is_some()) {
            let o = &item[*method];
            let responses = o["responses"].as_object().unwrap();
            assert!(
                responses.keys().any(|s| s.starts_with('2') || s.starts_with('3')),
                "{method} {path}: no success"
            );
            for (status, r) in responses.iter().filter(|(s, _)| s.starts_with('4') || s.starts_with('5')) {
                assert_eq!(
                    r["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/Error",
                    "{method} {path} {status}"
                );
            }
            for status in ["400", "500", "503"] {
                assert!(responses.contains_key(status), "{method} {path}: {status}");
            }
            let secured = o["security"].as_array().is_some_and(|s| !s.is_empty());
            if secured {
                assert!(responses.contains_key("401"), "{method} {path}: 401");
            }
        }
    }
    // Public, user, admin, key-less and gateway operations say so.
    assert!(op("/api/auth/login", "post")["security"].is_null());
    assert!(op("/api/auth/login", "post")["responses"]["429"].is_object());
    let names = |o: Value| -> Vec<String> {
        o["security"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s.as_object().unwrap().keys().cloned())
            .collect()
    };
    assert_eq!(names(op("/api/auth/me", "get")), ["session", "cookie", "api_key"]);
    assert_eq!(names(op("/api/users/vault", "get")), ["session", "cookie"]);
    assert_eq!(names(op("/api/auth/ws-ticket/redeem", "post")), ["gateway"]);
    assert!(op("/api/users/sessions/{session_id}", "delete")["parameters"][0]["name"] == "session_id");
    assert_eq!(
        op("/api/users/api-keys", "post")["responses"]["201"]["content"]["application/json"]["schema"]
            ["$ref"],
        "#/components/schemas/ApiKeyCreated"
    );
}

/// The reader is served by this server, under a policy that allows only its own files.
#[tokio::test]
async fn the_docs_page_loads_only_files_of_this_server() {
    let app = spawn_app().await;
    let r = app.client.get(format!("{}/api/docs", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-eval"), "{csp}");
    let html = r.text().await.unwrap();
    for src in html.split("src=\"").skip(1).chain(html.split("href=\"").skip(1)) {
        let url = src.split('"').next().unwrap();
        assert!(url.starts_with('/') && !url.starts_with("//"), "{url} is not a file of this server");
    }
}

/// The credentials each operation declares are the ones it takes: every operation that lists
/// `api_key` acts for a key (it never answers "needs a session"), and no operation that
/// declares credentials without `api_key` does anything for one.
#[tokio::test]
async fn operations_take_an_api_key_exactly_where_the_document_says() {
    let app = spawn_app_with_gateway().await;
    let admin = app.setup_admin().await;
    let me = app.get("/api/users/me", Some(&admin)).await.body["userId"].as_str().unwrap().to_owned();
    let r =
        app.post("/api/users/api-keys", Some(&admin), serde_json::json!({"name": "doc", "userId": me})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let key = r.body["token"].as_str().unwrap().to_owned();
    let doc = document(&app).await;
    let (mut with_key, mut without_key) = (0, 0);
    for (path, item) in doc["paths"].as_object().unwrap() {
        let concrete = concrete(path);
        for method in METHODS.iter().filter(|m| item.get(**m).is_some()) {
            let schemes: Vec<String> = item[*method]["security"]
                .as_array()
                .map(|s| s.iter().flat_map(|s| s.as_object().unwrap().keys().cloned()).collect())
                .unwrap_or_default();
            if schemes.is_empty() || schemes == ["gateway"] {
                continue;
            }
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let body = (*method != "get").then(|| serde_json::json!({}));
            let r = app.send(m, &concrete, Some(&key), body).await;
            if schemes.iter().any(|s| s == "api_key") {
                with_key += 1;
                assert!(
                    r.status != 401 && r.code() != "session_required",
                    "{method} {path} declares api_key but refused the key: {} {}",
                    r.status,
                    r.body
                );
            } else {
                without_key += 1;
                assert!(
                    !r.status.is_success(),
                    "{method} {path} does not declare api_key but acted for a key: {} {}",
                    r.status,
                    r.body
                );
            }
        }
    }
    assert!(with_key >= 30 && without_key >= 20, "{with_key} with a key, {without_key} without");
}

/// A documented path with its parameters filled in.
fn concrete(path: &str) -> String {
    path.replace("{session_id}", "s-1")
        .replace("{key_id}", "k-1")
        .replace("{name}", "n-1")
        .replace("{container_id}", "c-1")
}
