//! Server functions of the directory (LDAP) settings.

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct LdapView {
    pub enabled: bool,
    pub url: String,
    pub bind_dn: String,
    pub has_bind_password: bool,
    pub search_base: String,
    pub user_attribute: String,
    pub display_name_attribute: String,
}

#[server(prefix = "/rpc")]
pub async fn ldap_settings() -> Result<LdapView, AppError> {
    use crate::ssr::services::ldap;
    let (state, _admin) = super::edge::admin().await?;
    Ok(match ldap::config(&state).await? {
        None => LdapView {
            user_attribute: "uid".into(),
            display_name_attribute: "cn".into(),
            ..LdapView::default()
        },
        Some(c) => LdapView {
            enabled: c.enabled,
            url: c.url,
            bind_dn: c.bind_dn,
            has_bind_password: !c.bind_password.is_empty(),
            search_base: c.search_base,
            user_attribute: c.user_attribute,
            display_name_attribute: c.display_name_attribute,
        },
    })
}

/// Saves the directory settings, or with `test` set only tries them. Answers what to tell the admin.
#[server(prefix = "/rpc")]
pub async fn save_ldap_settings(
    enabled: Option<String>,
    url: String,
    bind_dn: String,
    bind_password: String,
    search_base: String,
    user_attribute: String,
    display_name_attribute: String,
    test: Option<String>,
) -> Result<String, AppError> {
    use crate::ssr::services::ldap;
    let (state, admin) = super::edge::admin().await?;
    if test.is_some() {
        let password = ldap::TestPassword::GivenOrStored(&bind_password);
        return match ldap::test_connection(&admin, &state, &url, &bind_dn, password, &search_base).await? {
            Ok(()) => {
                Ok("The directory answered: the service account can bind and read the search base.".into())
            }
            Err(why) => Err(AppError::invalid(crate::error::ErrorKind::LdapTestFailed, None, why)),
        };
    }
    let input = ldap::ConfigInput {
        enabled: enabled.is_some(),
        url,
        bind_dn,
        bind_password: Some(bind_password).filter(|p| !p.is_empty()),
        search_base,
        user_attribute: Some(user_attribute),
        display_name_attribute: Some(display_name_attribute),
    };
    ldap::save_config(&admin, &state, input).await?;
    Ok("Directory settings saved.".into())
}
