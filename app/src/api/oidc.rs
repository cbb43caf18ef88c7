//! Server functions of the single sign-on (OIDC) settings.

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct OidcView {
    pub configured: bool,
    pub client_id: String,
    pub has_client_secret: bool,
    pub issuer_url: String,
    pub authorization_url: String,
    pub token_url: String,
    pub userinfo_url: String,
    pub identifier_path: String,
    pub name_path: String,
    pub scopes: String,
    pub allowed_users: String,
    pub redirect_uri: String,
}

#[server(prefix = "/rpc")]
pub async fn oidc_settings() -> Result<OidcView, AppError> {
    use crate::ssr::services::oidc;
    let (state, _admin) = super::edge::admin().await?;
    let redirect_uri = oidc::redirect_uri(&state, oidc::Flow::Users);
    Ok(match oidc::config(&state).await? {
        None => OidcView {
            identifier_path: "sub".into(),
            name_path: "name".into(),
            scopes: "openid email profile".into(),
            redirect_uri,
            ..OidcView::default()
        },
        Some(c) => OidcView {
            configured: true,
            client_id: c.client_id,
            has_client_secret: !c.client_secret.is_empty(),
            issuer_url: c.issuer_url,
            authorization_url: c.authorization_url,
            token_url: c.token_url,
            userinfo_url: c.userinfo_url.unwrap_or_default(),
            identifier_path: c.identifier_path,
            name_path: c.name_path,
            scopes: c.scopes,
            allowed_users: c.allowed_users,
            redirect_uri,
        },
    })
}

/// Saves the provider settings; with `remove` set, turns single sign-on off.
#[server(prefix = "/rpc")]
pub async fn save_oidc_settings(
    client_id: String,
    client_secret: String,
    issuer_url: String,
    authorization_url: String,
    token_url: String,
    userinfo_url: String,
    identifier_path: String,
    name_path: String,
    scopes: String,
    allowed_users: String,
    remove: Option<String>,
) -> Result<String, AppError> {
    use crate::ssr::services::oidc;
    let (state, admin) = super::edge::admin().await?;
    if remove.is_some() {
        oidc::delete_config(&admin, &state).await?;
        return Ok("Single sign-on is off.".into());
    }
    let input = oidc::ConfigInput {
        client_id: Some(client_id),
        client_secret: Some(client_secret),
        issuer_url: Some(issuer_url),
        authorization_url: Some(authorization_url),
        token_url: Some(token_url),
        userinfo_url: Some(userinfo_url),
        identifier_path: Some(identifier_path),
        name_path: Some(name_path),
        scopes: Some(scopes),
        allowed_users: Some(allowed_users),
    };
    oidc::save_config(&admin, &state, input).await?;
    Ok("Single sign-on settings saved.".into())
}
