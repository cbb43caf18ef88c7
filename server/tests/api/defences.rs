use crate::helpers::*;
use app::ssr::clock::ManualClock;
use leptos::server_fn::ServerFn;
use serde_json::json;
use std::sync::Arc;

async fn revoke_all(app: &TestApp, token: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut req = app
        .client
        .post(format!("{}/api/users/sessions/revoke-all", app.base))
        .header("cookie", format!("jwt={token}"))
        .json(&json!({}));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn a_cross_site_rest_post_with_the_cookie_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let t = app.setup_admin().await;
    for headers in [
        vec![("origin", "https://evil.example")],
        vec![("sec-fetch-site", "cross-site")],
        vec![("sec-fetch-site", "same-site"), ("origin", "https://sibling.example")],
    ] {
        let r = revoke_all(&app, &t, &headers).await;
        assert_eq!(r.status(), 403, "{headers:?}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["code"], "cross_site_request");
    }
    assert_eq!(app.get("/api/auth/me", Some(&t)).await.status, 200, "the session was not revoked");

    let r = revoke_all(&app, &t, &[("sec-fetch-site", "same-origin"), ("origin", app.base.as_str())]).await;
    assert_eq!(r.status(), 200, "the same request from this instance's own page works");
}

#[tokio::test]
async fn a_cross_site_form_post_to_the_sign_in_function_sets_no_cookie() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let send = |site: &'static str| {
        app.client
            .post(format!("{}{}", app.base, app::api::SignIn::PATH))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("sec-fetch-site", site)
            .body(format!("username=admin&password={ADMIN_PASSWORD}"))
            .send()
    };
    let r = send("cross-site").await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.headers().get("set-cookie").is_none(), "login CSRF: no session planted");
    let r = send("same-origin").await.unwrap();
    assert!(r.status().is_redirection() || r.status().is_success(), "{}", r.status());
    assert!(r.headers().get_all("set-cookie").iter().any(|c| c.to_str().unwrap().starts_with("jwt=")));
}

#[tokio::test]
async fn bearer_clients_without_browser_headers_are_unaffected_and_api_answers_are_not_cached() {
    let app = spawn_app().await;
    let t = app.setup_admin().await;
    let r = app.post("/api/users/sessions/revoke-all", Some(&t), json!({"exceptCurrent": true})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.headers["cache-control"], "no-store");
    let page = app.get("/login", None).await;
    let csp = page.headers["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
}

/// The page's `<script nonce=…>` values and the nonce its CSP header allows.
async fn page_nonces(app: &TestApp, path: &str) -> (Vec<String>, String) {
    let r = app.client.get(format!("{}{path}", app.base)).send().await.unwrap();
    let csp = r.headers()["content-security-policy"].to_str().unwrap().to_owned();
    let html = r.text().await.unwrap();
    let scripts = html
        .split("<script")
        .skip(1)
        .map(|tag| {
            let tag = tag.split('>').next().unwrap();
            tag.split("nonce=\"").nth(1).map(|v| v.split('"').next().unwrap().to_owned()).unwrap_or_default()
        })
        .collect();
    (scripts, csp)
}

#[tokio::test]
async fn pages_run_only_their_own_scripts() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let (scripts, csp) = page_nonces(&app, "/login").await;
    assert!(!scripts.is_empty(), "the page hydrates with inline scripts");
    let allowed = csp
        .split(';')
        .map(str::trim)
        .find_map(|d| d.strip_prefix("script-src "))
        .unwrap_or_else(|| panic!("a script-src directive: {csp}"));
    assert!(!allowed.contains("'unsafe-inline'") && !allowed.contains("'unsafe-eval'"), "{csp}");
    for nonce in &scripts {
        assert!(nonce.len() >= 16, "every inline script carries a nonce");
        assert!(allowed.split_whitespace().any(|s| s == format!("'nonce-{nonce}'")), "{nonce} in {csp}");
    }
    for directive in ["frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'", "default-src 'self'"]
    {
        assert!(csp.contains(directive), "{directive} in {csp}");
    }
    // A nonce is used once: the next answer has another.
    let (again, _) = page_nonces(&app, "/login").await;
    assert_ne!(again[0], scripts[0]);
    // Pages are rendered for one person (the vault and two-factor set-up show secrets): no
    // cache keeps them, while the static files they load stay cacheable.
    let t = app.login("admin", ADMIN_PASSWORD).await.0;
    for path in ["/vault", "/security", "/"] {
        let r = app
            .client
            .get(format!("{}{path}", app.base))
            .header("cookie", format!("jwt={t}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.headers().get("cache-control").map(|v| v.to_str().unwrap()), Some("no-store"), "{path}");
    }
    // Pages that are not found run under the same policy.
    let (scripts, csp) = page_nonces(&app, "/no-such-page").await;
    assert!(scripts.iter().all(|n| csp.contains(&format!("'nonce-{n}'"))), "{csp}");
}

/// Anything under `/api` that is not a route is a JSON `404` with the security headers, never
/// the HTML not-found page; a route with the wrong method is `405`.
#[tokio::test]
async fn unknown_api_paths_are_json_404s_with_the_security_headers() {
    let app = spawn_app().await;
    for path in ["/api", "/api/", "/api/nope", "/api/users/nope/deeper", "/api/auth/me/extra"] {
        let r = app.get(path, None).await;
        assert_eq!((r.status.as_u16(), r.code()), (404, "not_found"), "{path}");
        assert_eq!(r.headers["cache-control"], "no-store", "{path}");
        assert_eq!(r.headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(r.headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(r.headers["referrer-policy"], "same-origin", "{path}");
        assert!(r.headers.contains_key("content-security-policy"), "{path}");
    }
    let r = app.send(reqwest::Method::DELETE, "/api/auth/status", None, None).await;
    assert_eq!(r.status.as_u16(), 405);
}

/// Every answer names its request. An id a trusted proxy set is kept when it looks like one;
/// from anyone else, or malformed, it is replaced.
#[tokio::test]
async fn every_answer_carries_a_request_id() {
    let app = spawn_app().await;
    let a = app.get("/api/auth/status", None).await.headers["x-request-id"].to_str().unwrap().to_owned();
    let b = app.get("/api/auth/status", None).await.headers["x-request-id"].to_str().unwrap().to_owned();
    assert!(!a.is_empty() && a != b, "{a} {b}");
    let behind = spawn_app_with(Arc::new(tempfile::tempdir().unwrap()), ManualClock::new(START), |s| {
        s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]
    })
    .await;
    let client = reqwest::Client::new();
    let long = "x".repeat(65);
    for (given, kept_directly, kept_behind) in [
        ("nginx-4f1c2a9e", false, true),
        ("has space", false, false),
        ("<script>", false, false),
        (long.as_str(), false, false),
    ] {
        for (app, kept) in [(&app, kept_directly), (&behind, kept_behind)] {
            let r = client
                .get(format!("{}/api/auth/status", app.base))
                .header("x-request-id", given)
                .send()
                .await
                .unwrap();
            let answered = r.headers()["x-request-id"].to_str().unwrap();
            assert_eq!(answered == given, kept, "{given:?} answered {answered:?}");
        }
    }
}

/// Every page answer ends, also while another instance starts in the same process (an
/// embedding, or this test binary): starting one must not leave another's page waiting forever
/// for data it never loads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_finish_while_another_instance_starts() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let t = app.login("admin", ADMIN_PASSWORD).await.0;
    let starting = tokio::spawn(async {
        for _ in 0..80 {
            let _other = spawn_app().await;
        }
    });
    let mut answered = 0;
    while !starting.is_finished() || answered < 24 {
        for path in ["/", "/security", "/sessions", "/vault"] {
            let page =
                app.client.get(format!("{}{path}", app.base)).header("cookie", format!("jwt={t}")).send();
            let body = tokio::time::timeout(std::time::Duration::from_secs(20), async {
                page.await.unwrap().text().await.unwrap()
            })
            .await
            .unwrap_or_else(|_| panic!("{path} never finished while another instance started"));
            assert!(
                body.contains("</html>"),
                "{path} is a whole page: {}",
                &body[body.len().saturating_sub(300)..]
            );
            answered += 1;
        }
    }
    starting.await.unwrap();
}
