//! The directory (LDAP): the connection test of auth-api.txt and the admin settings extension.
use super::{success, ApiJson, Success};
use app::error::AppError;
use app::ssr::services::identity::AdminUser;
use app::ssr::services::ldap::{self, ConfigInput, TestPassword};
use app::ssr::AppState;
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = LdapTestRequest)]
pub struct TestRequest {
    url: String,
    bind_dn: String,
    bind_password: String,
    search_base: String,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = LdapTestResult)]
pub struct TestResult {
    success: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// Needs `settings.manage`. A directory that refuses or does not answer is `200 {success:false}`.
#[utoipa::path(
    operation_id = "ldap_test",
    post,
    path = "/api/auth/ldap/test",
    tag = "directory",
    request_body = TestRequest,
    responses((status = 200, description = "What the directory said", body = TestResult)),
    security(("session" = []), ("cookie" = []), ("api_key" = [])),
)]
pub async fn test(
    State(state): State<AppState>,
    admin: AdminUser,
    ApiJson(req): ApiJson<TestRequest>,
) -> Result<Json<TestResult>, AppError> {
    let password = TestPassword::Given(&req.bind_password);
    let outcome =
        ldap::test_connection(&admin, &state, &req.url, &req.bind_dn, password, &req.search_base).await?;
    Ok(Json(TestResult { success: outcome.is_ok(), error: outcome.err() }))
}

/// The settings without the bind password (only whether one is stored).
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = LdapConfig)]
pub struct ConfigBody {
    enabled: bool,
    configured: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bind_dn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    has_bind_password: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    search_base: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_attribute: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    display_name_attribute: Option<String>,
}

#[utoipa::path(
    operation_id = "ldap_config",
    get,
    path = "/api/auth/ldap/config",
    tag = "directory",
    responses((status = 200, description = "The directory settings, without the bind password", body = ConfigBody)),
    security(("session" = []), ("cookie" = []), ("api_key" = [])),
)]
pub async fn config(State(state): State<AppState>, _admin: AdminUser) -> Result<Json<ConfigBody>, AppError> {
    Ok(Json(match ldap::config(&state).await? {
        None => ConfigBody {
            enabled: false,
            configured: false,
            url: None,
            bind_dn: None,
            has_bind_password: None,
            search_base: None,
            user_attribute: None,
            display_name_attribute: None,
        },
        Some(c) => ConfigBody {
            enabled: c.enabled,
            configured: true,
            has_bind_password: Some(!c.bind_password.is_empty()),
            url: Some(c.url),
            bind_dn: Some(c.bind_dn),
            search_base: Some(c.search_base),
            user_attribute: Some(c.user_attribute),
            display_name_attribute: Some(c.display_name_attribute),
        },
    }))
}

#[utoipa::path(
    operation_id = "ldap_save_config",
    put,
    path = "/api/auth/ldap/config",
    tag = "directory",
    request_body = app::ssr::services::ldap::ConfigInput,
    responses((status = 200, description = "Saved", body = Success)),
    security(("session" = []), ("cookie" = [])),
)]
pub async fn save_config(
    State(state): State<AppState>,
    admin: AdminUser,
    ApiJson(input): ApiJson<ConfigInput>,
) -> Result<Json<Success>, AppError> {
    ldap::save_config(&admin, &state, input).await?;
    Ok(success())
}

#[utoipa::path(
    operation_id = "ldap_delete_config",
    delete,
    path = "/api/auth/ldap/config",
    tag = "directory",
    responses((status = 200, description = "Directory sign-in is off", body = Success)),
    security(("session" = []), ("cookie" = []), ("api_key" = [])),
)]
pub async fn delete_config(
    State(state): State<AppState>,
    admin: AdminUser,
) -> Result<Json<Success>, AppError> {
    ldap::delete_config(&admin, &state).await?;
    Ok(success())
}
