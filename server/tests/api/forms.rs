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
