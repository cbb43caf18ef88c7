//! The encrypted vault (users-api.txt's "encrypted user data").
use super::accounts::{PasswordRequest, SuccessMessage};
use super::{success, ApiJson, Success};
use app::error::AppError;
use app::ssr::clock::rfc3339;
use app::ssr::services::identity::Caller;
use app::ssr::services::vault::{self, Item};
use app::ssr::AppState;
use axum::extract::{Path, State};
use axum::Json;
use serde::{Deserialize, Serialize};

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = DataStatus)]
pub struct Status {
    unlocked: bool,
    message: &'static str,
}

#[utoipa::path(
    operation_id = "vault_status",
    get,
    path = "/api/users/data-status",
    tag = "vault",
    responses((status = 200, description = "Whether this session's vault is open", body = Status)),
    security(("session" = []), ("cookie" = []), ("api_key" = [])),
)]
pub async fn status(caller: Caller) -> Json<Status> {
    let unlocked = vault::is_unlocked(&caller);
    let message = if unlocked {
        "Your encrypted data is unlocked."
    } else {
        "Your encrypted data is locked. Unlock it with your password."
    };
    Json(Status { unlocked, message })
}

#[utoipa::path(
    operation_id = "vault_unlock",
    post,
    path = "/api/users/unlock-data",
    tag = "vault",
    request_body = PasswordRequest,
    responses((status = 200, description = "The vault is open for this session", body = SuccessMessage), (status = 429, body = crate::openapi::ApiError)),
    security(("session" = []), ("cookie" = [])),
)]
pub async fn unlock(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<PasswordRequest>,
) -> Result<Json<SuccessMessage>, AppError> {
    vault::unlock_with_password(&state, &caller, req.password).await?;
    Ok(Json(SuccessMessage::new("Your encrypted data is unlocked for this session.")))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ItemBody {
    name: String,
    value: String,
    updated_at: String,
}

impl From<Item> for ItemBody {
    fn from(i: Item) -> Self {
        Self { updated_at: rfc3339(i.updated_at), name: i.name, value: i.value }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Items {
    items: Vec<ItemBody>,
}

#[utoipa::path(
    operation_id = "vault_list",
    get,
    path = "/api/users/vault",
    tag = "vault",
    responses((status = 200, description = "Every item, decrypted", body = Items), (status = 423, body = crate::openapi::ApiError)),
    security(("session" = []), ("cookie" = [])),
)]
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Items>, AppError> {
    Ok(Json(Items { items: vault::list(&state, &caller).await?.into_iter().map(ItemBody::from).collect() }))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ValueRequest {
    value: String,
}

#[utoipa::path(
    operation_id = "vault_put_item",
    put,
    path = "/api/users/vault/{name}",
    tag = "vault",
    request_body = ValueRequest,
    params(("name" = String, Path, description = "The item")),
    responses((status = 200, description = "Stored, encrypted", body = Success), (status = 423, body = crate::openapi::ApiError)),
    security(("session" = []), ("cookie" = [])),
)]
pub async fn put_item(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    ApiJson(req): ApiJson<ValueRequest>,
) -> Result<Json<Success>, AppError> {
    vault::put(&state, &caller, &name, &req.value).await?;
    Ok(success())
}

#[utoipa::path(
    operation_id = "vault_delete_item",
    delete,
    path = "/api/users/vault/{name}",
    tag = "vault",
    params(("name" = String, Path, description = "The item")),
    responses((status = 200, description = "Deleted", body = Success), (status = 404, body = crate::openapi::ApiError), (status = 423, body = crate::openapi::ApiError)),
    security(("session" = []), ("cookie" = [])),
)]
pub async fn delete_item(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<Success>, AppError> {
    vault::delete(&state, &caller, &name).await?;
    Ok(success())
}
