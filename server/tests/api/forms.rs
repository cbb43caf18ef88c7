//! The pages' forms (server functions, posted as a browser does): an error names the field it
//! is about, so the page marks that input, and a form with several wrong fields hears about
//! all of them at once.
use crate::helpers::*;
use leptos::server_fn::ServerFn;
use serde_json::{json, Value};

/// The inputs an answer marks invalid: its field, then any others it names.
fn fields(body: &Value) -> Vec<String> {
    let mut all: Vec<String> = body["field"].as_str().map(str::to_owned).into_iter().collect();
    for extra in body["also"].as_array().into_iter().flatten() {
        all.push(extra[0].as_str().unwrap_or_default().to_owned());
    }
    all
}

#[tokio::test]
async fn an_empty_set_up_form_marks_every_required_field_at_once() {
    let app = spawn_app().await;
    let (status, body) =
        app.form(app::api::SetUpInstance::PATH, None, "username=&display_name=&password=").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(fields(&body), ["username", "password"], "{body}");
    let (status, body) =
        app.form(app::api::SetUpInstance::PATH, None, "username=ok-name&display_name=&password=short").await;
    assert_eq!((status, fields(&body)), (400, vec!["password".to_owned()]), "{body}");
}

#[tokio::test]
async fn wrong_secrets_are_tied_to_the_input_they_were_typed_in() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let cookie = format!("jwt={admin}");
    let c = Some(cookie.as_str());

    let wrong_current =
        format!("old_password=not-it&new_password={USER_PASSWORD}&confirm_password={USER_PASSWORD}");
    let (status, body) = app.form(app::api::ChangeMyPassword::PATH, c, &wrong_current).await;
    assert_eq!((status, fields(&body)), (401, vec!["old_password".to_owned()]), "{body}");

    let (status, body) = app.form(app::api::DeleteMyAccount::PATH, c, "password=not-it").await;
    assert_eq!((status, fields(&body)), (401, vec!["password".to_owned()]), "{body}");

    let (status, body) = app.form(app::api::UnlockVault::PATH, c, "password=not-it").await;
    assert_eq!((status, fields(&body)), (401, vec!["password".to_owned()]), "{body}");

    let r = app.post("/api/security/passcode", Some(&admin), json!({"new_passcode": "480927"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (status, body) = app
        .form(
            app::api::SetScreenPasscode::PATH,
            c,
            "new_passcode=719358&current_passcode=111111&lock_after_minutes=15",
        )
        .await;
    assert_eq!((status, fields(&body)), (401, vec!["current_passcode".to_owned()]), "{body}");

    app.form(app::api::StartTwoFactor::PATH, c, "").await;
    let (status, body) = app.form(app::api::ConfirmTwoFactor::PATH, c, "totp_code=000000").await;
    assert_eq!(fields(&body), ["totp_code"], "{status}: {body}");
}

#[tokio::test]
async fn a_wrong_second_step_code_is_tied_to_the_code_input() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    app.enable_totp(&admin).await;
    let login = app
        .client
        .post(format!("{}{}", app.base, app::api::SignIn::PATH))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .body(format!("username=admin&password={ADMIN_PASSWORD}"))
        .send()
        .await
        .unwrap();
    let mfa = login
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|c| c.to_str().ok()?.split(';').next().map(str::to_owned))
        .find(|c| c.starts_with(app::ssr::http::MFA_COOKIE))
        .expect("the second step's cookie");
    let (status, body) = app.form(app::api::VerifySecondFactor::PATH, Some(&mfa), "code=000000").await;
    assert_eq!((status, fields(&body)), (401, vec!["code".to_owned()]), "{body}");
}

#[tokio::test]
async fn the_vault_page_reveals_one_value_of_ones_own_when_asked() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (other, _) = app.user("otto").await;
    let (mine, theirs) = (format!("jwt={admin}"), format!("jwt={other}"));
    for (cookie, password) in [(&mine, ADMIN_PASSWORD), (&theirs, USER_PASSWORD)] {
        let (status, body) =
            app.form(app::api::UnlockVault::PATH, Some(cookie), &format!("password={password}")).await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, body) =
        app.form(app::api::SaveVaultItem::PATH, Some(&mine), "name=db-root&value=correct-horse").await;
    assert_eq!(status, 200, "{body}");
    let (status, listed) = app.form(app::api::VaultItems::PATH, Some(&mine), "").await;
    assert_eq!(status, 200);
    assert_eq!(listed[0]["name"], "db-root");
    assert!(!listed.to_string().contains("correct-horse"), "the list holds names only: {listed}");
    let (status, value) = app.form(app::api::RevealVaultItem::PATH, Some(&mine), "name=db-root").await;
    assert_eq!((status, value), (200, json!("correct-horse")));
    let (status, body) = app.form(app::api::RevealVaultItem::PATH, Some(&theirs), "name=db-root").await;
    assert_eq!((status, body["kind"].as_str()), (404, Some("ItemNotFound")), "{body}");
}

/// The `<input …>` tag of the field with `id` in a page's HTML.
fn input_tag<'a>(html: &'a str, id: &str) -> &'a str {
    let at = html.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no #{id} in the page"));
    let start = html[..at].rfind("<input").expect("an input tag");
    let end = at + html[at..].find('>').expect("the tag ends");
    &html[start..=end]
}

#[tokio::test]
async fn after_registering_the_sign_in_page_has_the_new_name_filled_in() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let r = app
        .form_reply(
            app::api::RegisterAccount::PATH,
            None,
            &format!("username=+new-person+&password={USER_PASSWORD}"),
        )
        .await;
    assert_eq!(r.headers["location"], "/login?registered=1&username=new-person", "{}", r.body);

    let page = app.get("/login?registered=1&username=new-person", None).await;
    let html = page.body.as_str().unwrap();
    assert!(html.contains("Account created. Sign in with it now."));
    let name = input_tag(html, "f-username");
    assert!(name.contains(r#"value="new-person""#), "{name}");
    assert!(!name.contains("autofocus"), "the password is what is left to type: {name}");
    assert!(input_tag(html, "f-password").contains("autofocus"));
    // A plain visit starts on the name.
    let html = app.get("/login", None).await.body.as_str().unwrap().to_owned();
    assert!(input_tag(&html, "f-username").contains("autofocus"));
    // Nobody else's link fills the name in: not without a registration, not a name that
    // could not be one.
    for query in ["username=new-person", "registered=1&username=%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E"] {
        let html = app.get(&format!("/login?{query}"), None).await.body.as_str().unwrap().to_owned();
        let name = input_tag(&html, "f-username");
        assert!(!name.contains("new-person") && !name.contains("script"), "{query}: {name}");
        assert!(!html.contains("<script>alert(1)"), "{query}");
        assert!(name.contains("autofocus"), "{query}: {name}");
    }
}

#[tokio::test]
async fn signing_out_says_so_on_the_sign_in_page() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let r = app.form_reply(app::api::SignOut::PATH, Some(&format!("jwt={admin}")), "").await;
    assert_eq!(r.headers["location"], "/login?signed_out=1");
    assert_eq!(app.get("/api/auth/me", Some(&admin)).await.status, 401);
    let html = app.get("/login?signed_out=1", None).await.body.as_str().unwrap().to_owned();
    assert!(html.contains("You have signed out."));
}

#[tokio::test]
async fn the_account_page_knows_when_its_owner_is_the_last_administrator() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let blocked = |token: String| {
        let app = &app;
        async move {
            let (status, body) =
                app.form(app::api::DeletionBlockedAsLastAdmin::PATH, Some(&format!("jwt={token}")), "").await;
            assert_eq!(status, 200, "{body}");
            body
        }
    };
    assert_eq!(blocked(admin.clone()).await, json!(true));
    let (user, user_id) = app.user("second").await;
    assert_eq!(blocked(user).await, json!(false), "a user is never the last administrator");
    let r = app.post("/api/users/make-admin", Some(&admin), json!({"userId": user_id})).await;
    assert!(r.status.is_success(), "{}", r.body);
    assert_eq!(blocked(admin).await, json!(false), "with a second administrator the first may go");
}
