//! Forward-auth behind real proxies: Debian's nginx (`auth_request`) and Caddy (`forward_auth`),
//! started here on loopback in front of Portcullis and of a tiny app that answers with the
//! `Remote-*` headers it was given. Everything a browser does goes through the proxy.
use crate::helpers::*;
use app::ssr::clock::ManualClock;
use leptos::server_fn::ServerFn;
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The app behind the proxy: answers every request with its path and the `Remote-*` headers.
async fn echo_app() -> u16 {
    async fn echo(req: axum::extract::Request) -> axum::Json<Value> {
        let h = |n: &str| req.headers().get(n).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        axum::Json(json!({
            "path": req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/"),
            "user": h("remote-user"), "groups": h("remote-groups"),
            "name": h("remote-name"), "email": h("remote-email"), "cookie": h("cookie"),
        }))
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, axum::Router::new().fallback(echo)).await.unwrap() });
    port
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Nginx,
    Caddy,
}

/// A proxy process, stopped when dropped.
struct Proxy {
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn nginx_conf(dir: &std::path::Path, port: u16, app: u16, echo: u16) -> String {
    let d = dir.display();
    format!(
        r#"daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {d}/body;
  proxy_temp_path {d}/proxy;
  fastcgi_temp_path {d}/fastcgi;
  uwsgi_temp_path {d}/uwsgi;
  scgi_temp_path {d}/scgi;
  # The session cookie stays out of the app's hands (twice: with PORTCULLIS_COOKIE_DOMAIN a
  # browser may hold one for the domain and one for the host).
  map $http_cookie $pc_cookie_1 {{
    default $http_cookie;
    "~^(?<pc_a>.*?)(?:^|; *)jwt=[^;]*(?<pc_b>.*)$" "$pc_a$pc_b";
  }}
  map $pc_cookie_1 $pc_cookie {{
    default $pc_cookie_1;
    "~^(?<pc_c>.*?)(?:^|; *)jwt=[^;]*(?<pc_d>.*)$" "$pc_c$pc_d";
  }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://127.0.0.1:{app};
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Forwarded-Proto $scheme;
    }}
    location /terminal/ {{
      auth_request /internal/authz;
      auth_request_set $user $upstream_http_remote_user;
      auth_request_set $groups $upstream_http_remote_groups;
      auth_request_set $name $upstream_http_remote_name;
      auth_request_set $email $upstream_http_remote_email;
      auth_request_set $sign_in $upstream_http_location;
      proxy_set_header Remote-User $user;
      proxy_set_header Remote-Groups $groups;
      proxy_set_header Remote-Name $name;
      proxy_set_header Remote-Email $email;
      proxy_set_header Cookie $pc_cookie;
      error_page 401 = @sign_in;
      proxy_pass http://127.0.0.1:{echo};
    }}
    location @sign_in {{
      if ($sign_in = "") {{ return 401; }}
      return 302 $sign_in;
    }}
    location = /internal/authz {{
      internal;
      proxy_pass http://127.0.0.1:{app}/api/authz/auth-request;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-URL $scheme://$http_host$request_uri;
      proxy_set_header X-Original-Method $request_method;
      proxy_set_header X-Forwarded-For $remote_addr;
    }}
  }}
}}
"#
    )
}

fn caddyfile(port: u16, app: u16, echo: u16) -> String {
    format!(
        r#"{{
  admin off
  auto_https off
}}
http://127.0.0.1:{port} {{
  handle /terminal/* {{
    # `route` keeps the written order: the client's own Remote-* go first, then forward_auth
    # sets ours (Caddy's default order would run request_header after forward_auth).
    route {{
      request_header -Remote-*
      forward_auth 127.0.0.1:{app} {{
        uri /api/authz/forward-auth
        copy_headers Remote-User Remote-Groups Remote-Name Remote-Email
      }}
      # The session cookie stays out of the app's hands.
      reverse_proxy 127.0.0.1:{echo} {{
        header_up Cookie "(^|; *)jwt=[^;]*(; *|$)" "$1"
      }}
    }}
  }}
  handle {{
    reverse_proxy 127.0.0.1:{app}
  }}
}}
"#
    )
}

impl Proxy {
    fn start(kind: Kind, port: u16, app: u16, echo: u16) -> Proxy {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = match kind {
            Kind::Nginx => {
                let conf = dir.path().join("nginx.conf");
                std::fs::write(&conf, nginx_conf(dir.path(), port, app, echo)).unwrap();
                let mut c = Command::new("nginx");
                c.arg("-p").arg(dir.path()).arg("-c").arg(&conf).arg("-e").arg(dir.path().join("error.log"));
                c
            }
            Kind::Caddy => {
                let conf = dir.path().join("Caddyfile");
                std::fs::write(&conf, caddyfile(port, app, echo)).unwrap();
                let mut c = Command::new("caddy");
                c.args(["run", "--adapter", "caddyfile", "--config"]).arg(&conf);
                c.env("HOME", dir.path())
                    .env("XDG_DATA_HOME", dir.path().join("data"))
                    .env("XDG_CONFIG_HOME", dir.path().join("config"));
                c
            }
        };
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{kind:?} must be installed (Debian's nginx-light / caddy): {e}"));
        let proxy = Proxy { child, _dir: dir };
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return proxy;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("{kind:?} did not start on port {port}");
    }
}

const BROWSER: &str = "text/html,application/xhtml+xml,*/*;q=0.8";
const PASSCODE: &str = "480913";

fn location(r: &reqwest::Response) -> String {
    r.headers().get("location").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

fn jwt(r: &reqwest::Response) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next()?.strip_prefix("jwt=").map(str::to_owned))
        .find(|v| !v.is_empty())
}

/// One proxy in front of one instance, and a browser-like client that goes through it.
struct Site {
    app: TestApp,
    base: String,
    _proxy: Proxy,
}

impl Site {
    async fn start(kind: Kind) -> Site {
        let port = free_port();
        let echo = echo_app().await;
        let dir = Arc::new(tempfile::tempdir().unwrap());
        let app = spawn_app_with(dir, ManualClock::new(START), |s| {
            s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
            s.public_url = format!("http://127.0.0.1:{port}");
        })
        .await;
        let app_port: u16 = app.base.rsplit(':').next().unwrap().parse().unwrap();
        let proxy = Proxy::start(kind, port, app_port, echo);
        Site { app, base: format!("http://127.0.0.1:{port}"), _proxy: proxy }
    }

    /// A GET through the proxy, as a browser (`accept` text/html) or a script.
    async fn get(
        &self,
        path: &str,
        cookie: Option<&str>,
        accept: &str,
        extra: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut req = self.app.client.get(format!("{}{path}", self.base)).header("accept", accept);
        if let Some(c) = cookie {
            req = req.header("cookie", format!("jwt={c}"));
        }
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        req.send().await.unwrap()
    }

    /// A form posted through the proxy to a server function, from the page `referer`.
    async fn form(&self, path: &str, body: String, cookie: Option<&str>, referer: &str) -> reqwest::Response {
        let mut req = self
            .app
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", BROWSER)
            .header("origin", &self.base)
            .header("referer", format!("{}{referer}", self.base))
            .body(body);
        if let Some(c) = cookie {
            req = req.header("cookie", format!("jwt={c}"));
        }
        req.send().await.unwrap()
    }
}

fn enc(s: &str) -> String {
    app::api::encode_query(s)
}

/// What the tests below walk through, the same for each proxy.
async fn walk(kind: Kind) {
    let site = Site::start(kind).await;
    let admin = site.app.setup_admin().await;
    site.app.user("alice").await;
    let terminal = format!("{}/terminal/7?cols=80", site.base);
    let to_sign_in = format!("{}/login?rd={}", site.base, enc(&terminal));

    // Nobody signed in: a browser is sent to sign in with the way back; a script hears 401.
    let r = site.get("/terminal/7?cols=80", None, BROWSER, &[]).await;
    assert_eq!((r.status().as_u16(), location(&r)), (302, to_sign_in.clone()), "{kind:?}");
    let r = site
        .get("/terminal/7?cols=80", None, "application/json", &[("x-requested-with", "XMLHttpRequest")])
        .await;
    assert_eq!(r.status(), 401, "{kind:?}: an XHR is told, not redirected");
    // A client's own forwarded headers change nothing: the proxy says where the request went.
    let spoofed = [
        ("x-forwarded-host", "evil.example"),
        ("x-original-url", "https://evil.example/x"),
        ("x-forwarded-proto", "https"),
    ];
    let r = site.get("/terminal/7?cols=80", None, BROWSER, &spoofed).await;
    assert_eq!(location(&r), to_sign_in, "{kind:?}: spoofed headers ignored");

    // Signing in on the sign-in page (through the proxy) goes back to the terminal.
    let sign_in = |rd: String| {
        let body = format!("username=alice&password={USER_PASSWORD}&rd={}", enc(&rd));
        let referer = format!("/login?rd={}", enc(&rd));
        let site = &site;
        async move { site.form(app::api::SignIn::PATH, body, None, &referer).await }
    };
    let r = sign_in(terminal.clone()).await;
    assert!(r.status().is_redirection(), "{kind:?}: {}", r.status());
    assert_eq!(location(&r), terminal, "{kind:?}: back to the original URL");
    let cookie = jwt(&r).expect("signed in");
    // A way back to another site is refused: home instead.
    let r = sign_in("https://evil.example/terminal/7".into()).await;
    assert_eq!(location(&r), "/", "{kind:?}: no open redirect");

    // The app sees who it is, whatever the client claimed.
    let r = site
        .get(
            "/terminal/7?cols=80",
            Some(&cookie),
            BROWSER,
            &[("remote-user", "admin"), ("remote-groups", "admins")],
        )
        .await;
    assert_eq!(r.status(), 200, "{kind:?}");
    let seen: Value = r.json().await.unwrap();
    assert_eq!(seen["path"], "/terminal/7?cols=80");
    assert_eq!(
        (seen["user"].as_str(), seen["groups"].as_str()),
        (Some("alice"), Some("users")),
        "{kind:?}: {seen}"
    );

    // Locked: sent to the lock screen with the way back; unlocking there returns to it.
    let r = site.app.post("/api/security/passcode", Some(&cookie), json!({"new_passcode": PASSCODE})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(site.app.post("/api/security/lock", Some(&cookie), json!({})).await.status, 200);
    let to_unlock = format!("{}/unlock?rd={}", site.base, enc(&terminal));
    let r = site.get("/terminal/7?cols=80", Some(&cookie), BROWSER, &[]).await;
    assert_eq!((r.status().as_u16(), location(&r)), (302, to_unlock.clone()), "{kind:?}");
    let unlock_page = format!("/unlock?rd={}", enc(&terminal));
    let r = site.get(&unlock_page, Some(&cookie), BROWSER, &[]).await;
    assert_eq!(r.status(), 200, "{kind:?}: the lock screen");
    assert!(r.text().await.unwrap().contains("lock-passcode"), "{kind:?}: the passcode field is on the page");
    let r = site
        .form(app::api::UnlockScreen::PATH, format!("passcode={PASSCODE}"), Some(&cookie), &unlock_page)
        .await;
    assert!(r.status().is_redirection(), "{kind:?}: {}", r.status());
    let unlocked = jwt(&r).expect("a new token after unlocking");
    let back = location(&r);
    let r = site.get(back.strip_prefix(&site.base).unwrap_or(&back), Some(&unlocked), BROWSER, &[]).await;
    assert_eq!(location(&r), terminal, "{kind:?}: the lock screen sends the browser back once unlocked");
    assert_eq!(site.get("/terminal/7?cols=80", Some(&unlocked), BROWSER, &[]).await.status(), 200);
    let r = site.get("/terminal/7?cols=80", Some(&cookie), BROWSER, &[]).await;
    assert_eq!(location(&r), to_sign_in, "{kind:?}: the token from before the lock is gone, not just locked");
    // The lock screen, the sign-in page and the second step never send a browser to another site.
    let evil = enc("https://evil.example/terminal/7");
    let r = site.get(&format!("/unlock?rd={evil}"), Some(&unlocked), BROWSER, &[]).await;
    assert_eq!(location(&r), "/", "{kind:?}");
    // A locked visitor sent to sign in goes to the lock screen, the way back kept.
    assert_eq!(site.app.post("/api/security/lock", Some(&unlocked), json!({})).await.status, 200);
    let r = site.get(&format!("/login?rd={}", enc(&terminal)), Some(&unlocked), BROWSER, &[]).await;
    assert_eq!(location(&r), unlock_page, "{kind:?}");
    let r = site
        .form(app::api::UnlockScreen::PATH, format!("passcode={PASSCODE}"), Some(&unlocked), &unlock_page)
        .await;
    let unlocked = jwt(&r).expect("a new token after unlocking");

    // Signed out: refused at the very next request.
    assert_eq!(site.app.post("/api/auth/logout", Some(&unlocked), json!({})).await.status, 200);
    let r = site.get("/terminal/7?cols=80", Some(&unlocked), BROWSER, &[]).await;
    assert_eq!((r.status().as_u16(), location(&r)), (302, to_sign_in.clone()), "{kind:?}");

    // With two-factor on, the second step keeps the way back too, and only a safe one.
    let (admin_secret, _) = site.app.enable_totp(&admin).await;
    let body = format!("username=admin&password={ADMIN_PASSWORD}&rd={evil}");
    let r = site.form(app::api::SignIn::PATH, body, None, "/login").await;
    assert_eq!(location(&r), "/login/mfa", "{kind:?}: another site's rd is not carried on");
    let body = format!("username=admin&password={ADMIN_PASSWORD}&rd={}", enc(&terminal));
    let r = site.form(app::api::SignIn::PATH, body, None, &format!("/login?rd={}", enc(&terminal))).await;
    let mfa_page = format!("/login/mfa?rd={}", enc(&terminal));
    assert_eq!(location(&r), mfa_page, "{kind:?}");
    let pending = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_owned))
        .find(|kv| kv.starts_with("pc_mfa="))
        .expect("the second step's cookie");
    let code = site.app.code(&admin_secret);
    let r = site
        .app
        .client
        .post(format!("{}{}", site.base, app::api::VerifySecondFactor::PATH))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", BROWSER)
        .header("origin", &site.base)
        .header("referer", format!("{}{mfa_page}", site.base))
        .header("cookie", &pending)
        .body(format!("code={code}&rd={}", enc(&terminal)))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), terminal, "{kind:?}: back after the second step");
    let cookie = jwt(&r).unwrap();
    let r = site.get("/terminal/7?cols=80", Some(&cookie), BROWSER, &[]).await;
    let seen: Value = r.json().await.unwrap();
    assert_eq!(
        (seen["user"].as_str(), seen["groups"].as_str()),
        (Some("admin"), Some("admins,users")),
        "{kind:?}"
    );
}

/// Access rules behind the proxy: a `bypass` path, and a `step_up` terminal opened with a code
/// on the step-up page for 15 minutes, for that terminal only. The app never sees the session
/// cookie.
async fn step_up_walk(kind: Kind) {
    use leptos::server_fn::ServerFn;
    let site = Site::start(kind).await;
    let admin = site.app.setup_admin().await;
    let (alice, _) = site.app.user("alice").await;
    let rules = json!({"rules": [
        {"path": "/terminal/public/*", "policy": "bypass"},
        {"path": "/terminal/{id}/*", "policy": "step_up"},
    ]});
    let r = site.app.send(reqwest::Method::PUT, "/api/authz/rules", Some(&admin), Some(rules)).await;
    assert_eq!(r.status, 200, "{}", r.body);

    // Open to anyone, naming nobody.
    let r = site.get("/terminal/public/app.css", None, BROWSER, &[]).await;
    assert_eq!(r.status(), 200, "{kind:?}");
    let seen: Value = r.json().await.unwrap();
    assert_eq!(
        seen["user"].as_str().unwrap_or(""),
        "",
        "{kind:?}: nobody named (nginx sends no empty header)"
    );

    // A Host header nginx routes by its name but a URL parser would read as another path (or
    // host) changes nothing: refused, never the bypass.
    let port = site.base.rsplit(':').next().unwrap().to_owned();
    for host in [format!("127.0.0.1:{port}\\terminal\\public\\x?"), "127.0.0.1:@other.example".to_owned()] {
        let r = site.get("/terminal/7/ws", None, BROWSER, &[("host", host.as_str())]).await;
        assert_ne!(r.status(), 200, "{kind:?}: Host {host}");
    }

    // A terminal: the step-up page first, the way back kept; a script is told.
    let t7 = format!("{}/terminal/7/ws", site.base);
    let page = format!("/step-up?terminal=7&rd={}", enc(&t7));
    let r = site.get("/terminal/7/ws", Some(&alice), BROWSER, &[]).await;
    assert_eq!((r.status().as_u16(), location(&r)), (302, format!("{}{page}", site.base)), "{kind:?}");
    let r = site
        .get("/terminal/7/ws", Some(&alice), "application/json", &[("x-requested-with", "XMLHttpRequest")])
        .await;
    assert_eq!(r.status(), 403, "{kind:?}");
    if kind == Kind::Caddy {
        // Caddy passes our answer on; nginx answers a refused auth_request with its own page.
        assert_eq!(r.json::<Value>().await.unwrap()["code"], "step_up_required", "{kind:?}");
    }

    // Two-factor on; the page (through the proxy) asks for the code and sends the browser back.
    let (secret, _) = site.app.enable_totp(&alice).await;
    let r = site.get(&page, Some(&alice), BROWSER, &[]).await;
    assert_eq!(r.status(), 200, "{kind:?}");
    let html = r.text().await.unwrap();
    assert!(html.contains("Open terminal 7") && html.contains(r#"name="code""#), "{kind:?}");
    site.app.clock.advance(30);
    let body = format!("code={}&terminal=7&rd={}", site.app.code(&secret), enc(&t7));
    let r = site.form(app::api::ConfirmStepUp::PATH, body, Some(&alice), &page).await;
    assert_eq!(location(&r), t7, "{kind:?}: back to the terminal");

    // In, named; the session cookie is not passed on, the app's own cookies are.
    let cookies = format!("theme=dark; jwt={alice}; lang=en");
    let r = site.get("/terminal/7/ws", None, BROWSER, &[("cookie", &cookies)]).await;
    assert_eq!(r.status(), 200, "{kind:?}");
    let seen: Value = r.json().await.unwrap();
    assert_eq!(
        (seen["user"].as_str(), seen["cookie"].as_str()),
        (Some("alice"), Some("theme=dark; lang=en")),
        "{kind:?}"
    );
    let r = site.get("/terminal/7", None, BROWSER, &[("cookie", &format!("jwt={alice}"))]).await;
    assert_eq!(r.status(), 200, "{kind:?}");
    assert!(!r.text().await.unwrap().contains(&alice), "{kind:?}: no token reaches the app");

    // Only that terminal, and for 15 minutes.
    let r = site.get("/terminal/8", Some(&alice), BROWSER, &[]).await;
    assert!(location(&r).contains("/step-up?terminal=8&rd="), "{kind:?}: {}", location(&r));
    site.app.clock.advance(15 * 60);
    let r = site.get("/terminal/7/ws", Some(&alice), BROWSER, &[]).await;
    assert_eq!(location(&r), format!("{}{page}", site.base), "{kind:?}: the grant is over");
}

#[tokio::test]
async fn nginx_enforces_access_rules_and_step_up() {
    if crate::postgres::selected() {
        return;
    }
    step_up_walk(Kind::Nginx).await;
}

#[tokio::test]
async fn caddy_enforces_access_rules_and_step_up() {
    if crate::postgres::selected() {
        return;
    }
    step_up_walk(Kind::Caddy).await;
}

#[tokio::test]
async fn nginx_auth_request_protects_an_app_end_to_end() {
    if crate::postgres::selected() {
        return; // the proxies are the point here, not the database
    }
    walk(Kind::Nginx).await;
}

#[tokio::test]
async fn caddy_forward_auth_protects_an_app_end_to_end() {
    if crate::postgres::selected() {
        return;
    }
    walk(Kind::Caddy).await;
}
