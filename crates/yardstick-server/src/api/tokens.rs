//! `/api/v1/tokens` and `/api/v1/audit`: organisation admins only.

use super::*;

pub(super) fn require_org_admin(p: &Principal) -> ApiResult<()> {
    p.require(Role::Admin)?;
    if p.token.party.is_some() {
        return Err(ApiError::Forbidden("party tokens cannot manage tokens".into()));
    }
    Ok(())
}

/// A token's role, as the API writes it.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RoleName {
    Admin,
    Editor,
    Viewer,
}

impl From<RoleName> for Role {
    fn from(r: RoleName) -> Self {
        match r {
            RoleName::Admin => Role::Admin,
            RoleName::Editor => Role::Editor,
            RoleName::Viewer => Role::Viewer,
        }
    }
}

/// `POST /api/v1/tokens`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewToken {
    /// What the token may do.
    pub role: RoleName,
    /// Limit the token to what is shared with this party.
    pub party: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/tokens", security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 403, description = "Not an organisation admin token", body = ErrorBody)))]
pub(super) async fn tokens(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
) -> ApiResult<Json<Value>> {
    require_org_admin(&p)?;
    let list = state.store().tokens().await?;
    Ok(Json(json!({ "tokens": list })))
}

#[utoipa::path(post, path = "/api/v1/tokens", security(("bearer" = [])), request_body = NewToken,
    responses((status = 201, description = "The secret is shown once", body = Object), (status = 403, description = "Not an organisation admin token", body = ErrorBody),
              (status = 415, description = "Not a JSON body", body = ErrorBody)))]
pub(super) async fn create_token(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    ApiJson(t): ApiJson<NewToken>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    require_org_admin(&p)?;
    let role = Role::from(t.role);
    let (token, secret) = state
        .store()
        .create_token(role, t.party.as_deref(), &format!("token:{}", p.token.id))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"token": secret, "id": token.id, "role": token.role, "party": token.party})),
    ))
}

#[utoipa::path(delete, path = "/api/v1/tokens/{id}", security(("bearer" = [])),
    params(("id" = String, Path, description = "token id")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 403, description = "Not an organisation admin token", body = ErrorBody)))]
pub(super) async fn revoke_token(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    require_org_admin(&p)?;
    state
        .store()
        .revoke_token(&id, &format!("token:{}", p.token.id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/audit", security(("bearer" = [])),
    responses((status = 200, description = "The newest 1000 writes: who, what, when", body = Object), (status = 403, description = "Not an organisation admin token", body = ErrorBody)))]
pub(super) async fn audit(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
) -> ApiResult<Json<Value>> {
    require_org_admin(&p)?;
    let entries: Vec<Value> = state
        .store()
        .audit_log(1000)
        .await?
        .into_iter()
        .map(
            |e| json!({"at": micros_rfc3339(e.at), "actor": e.actor, "action": e.action, "detail": e.detail}),
        )
        .collect();
    Ok(Json(json!({ "audit": entries })))
}
