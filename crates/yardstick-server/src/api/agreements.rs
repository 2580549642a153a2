//! `/api/v1/agreements`: each contract's, incentive plan's and
//! partnership's terms with their fingerprint and signatures, and signing
//! (`workspace::agreements`).
//!
//! Who signs for whom: a party's token signs only as its own party (an
//! editor token of a party to the agreement); an organisation admin token
//! records a signature for a party named in the body (one given elsewhere,
//! e.g. on paper), and the audit log says which token recorded it.

use super::*;
use yardstick_core::terms::{Subject, agreements, terms};
use yardstick_workspace::agreements::{SignError, complete, versions};
use yardstick_workspace::proposals::listed;

/// Who signs.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SignBody {
    /// The party signing (a party's token: its own party, the default).
    #[serde(default, rename = "as")]
    pub party: Option<String>,
}

/// Whether `p` sees agreement `id` of kind `subject`: a party sees the
/// contracts and partnerships shared with it, never an incentive plan.
pub(super) fn can_see(p: &Principal, subject: Subject, id: &str) -> bool {
    match subject {
        Subject::Contract => p.can_see_contract(id),
        Subject::Partnership => p.can_see_partnership(id),
        Subject::Incentive => p.visible.is_none(),
    }
}

/// The terms of `id` if the caller sees them.
fn visible_terms(project: &Project, p: &Principal, id: &str) -> ApiResult<yardstick_core::terms::Terms> {
    terms(project, id)
        .filter(|t| can_see(p, t.subject, id))
        .ok_or_else(|| ApiError::unknown(Thing::Agreement, id))
}

/// The party `p` acts for: a party's token its own party only (an editor
/// at least); the organisation's admin token the party named in the body
/// (recording what that party did elsewhere). `verb` says what it does.
pub(super) fn acting_party(p: &Principal, named: Option<String>, verb: &str) -> ApiResult<String> {
    let party = match (&p.token.party, named) {
        (Some(own), None) => own.clone(),
        (Some(own), Some(other)) if &other == own => other,
        (Some(own), Some(other)) => {
            return Err(ApiError::Forbidden(format!(
                "a party's token {verb} only as its party ({own}), not as {other}"
            )));
        }
        (None, Some(party)) => {
            p.require(Role::Admin)?;
            party
        }
        (None, None) => {
            return Err(ApiError::BadRequest(format!(
                "name the party that {verb}: {{\"as\": \"…\"}} (an organisation admin records what a party did)"
            )));
        }
    };
    p.require(Role::Editor)?;
    Ok(party)
}

/// `GET /api/v1/agreements`: every agreement the caller sees, with its
/// fingerprint and who signed the terms in force.
#[utoipa::path(get, path = "/api/v1/agreements", security(("bearer" = [])),
    responses((status = 200, description = "Agreements with their terms and signatures", body = Object)))]
pub(crate) async fn agreements_list(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
) -> ApiResult<Json<Value>> {
    let snap = state.snapshot();
    let mut out = Vec::new();
    for (subject, id) in agreements(&snap.project) {
        if !can_see(&p, subject, &id) {
            continue;
        }
        if let Some(t) = terms(&snap.project, &id) {
            out.push(complete(t, state.store()).await?);
        }
    }
    Ok(Json(json!({"agreements": out})))
}

/// `GET /api/v1/agreements/{id}`: an agreement's terms, fingerprint and
/// signatures, the versions signed, and its proposals (open ones first,
/// an accepted one not yet in the definitions with its amendment).
#[utoipa::path(get, path = "/api/v1/agreements/{id}", security(("bearer" = [])),
    params(("id" = String, Path, description = "contract, incentive or partnership id")),
    responses((status = 200, description = "The terms, fingerprint and signatures", body = Object),
              (status = 404, body = crate::error::ErrorBody)))]
pub(crate) async fn agreement(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    let snap = state.snapshot();
    let t = visible_terms(&snap.project, &p, &id)?;
    let a = complete(t, state.store()).await?;
    let proposals = listed(
        &snap.project,
        &snap.files,
        Some(&snap.evaluation),
        state.store(),
        Some(&id),
    )
    .await?;
    let mut v = json!(a);
    v["versions"] = json!(versions(&a));
    v["proposals"] = json!(proposals);
    Ok(Json(v))
}

/// `POST /api/v1/agreements/{id}/sign`: signs the terms in force.
#[utoipa::path(post, path = "/api/v1/agreements/{id}/sign", security(("bearer" = [])),
    params(("id" = String, Path, description = "contract, incentive or partnership id")),
    request_body = SignBody,
    responses((status = 200, description = "The agreement with the signature", body = Object),
              (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody),
              (status = 415, description = "Not a JSON body", body = crate::error::ErrorBody)))]
pub(crate) async fn sign(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<SignBody>,
) -> ApiResult<Json<Value>> {
    let snap = state.snapshot();
    visible_terms(&snap.project, &p, &id)?;
    let party = acting_party(&p, body.party, "signs")?;
    match yardstick_workspace::agreements::sign(&snap.project, state.store(), &id, &party, &p.actor()).await {
        Ok(a) => Ok(Json(json!(a))),
        // A party's own token for an agreement it sees but is not party to.
        Err(e @ SignError::NotAParty { .. }) if p.token.party.is_some() => {
            Err(ApiError::Forbidden(e.to_string()))
        }
        Err(e @ SignError::NotAParty { .. }) => Err(ApiError::BadRequest(e.to_string())),
        Err(SignError::Unknown(_)) => Err(ApiError::unknown(Thing::Agreement, &id)),
        Err(SignError::Store(e)) => Err(e.into()),
    }
}

/// A document's format.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum DocFormat {
    /// Markdown.
    Md,
    /// A self-contained HTML page.
    #[default]
    Html,
    /// A4 PDF.
    Pdf,
}

/// The format of `GET /api/v1/agreements/{id}/appendix`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct AppendixQuery {
    /// `md`, `html` (the default) or `pdf`.
    #[serde(default)]
    #[param(inline)]
    pub format: DocFormat,
}

/// `GET /api/v1/agreements/{id}/appendix`: the KPI appendix both sides
/// read and sign, from the definitions this snapshot evaluates.
#[utoipa::path(get, path = "/api/v1/agreements/{id}/appendix", security(("bearer" = [])),
    params(("id" = String, Path, description = "contract, incentive or partnership id"), AppendixQuery),
    responses((status = 200, description = "The appendix document",
                content((String = "text/html"), (String = "text/markdown"), (String = "application/pdf"))),
              (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub(crate) async fn appendix(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<AppendixQuery>,
) -> ApiResult<Response> {
    use yardstick_workspace::documents::{Format, render_appendix};
    let snap = state.snapshot();
    let t = visible_terms(&snap.project, &p, &id)?;
    let a = complete(t, state.store()).await?;
    let (format, mime, ext) = match q.format {
        DocFormat::Md => (Format::Markdown, "text/markdown; charset=utf-8", "md"),
        DocFormat::Html => (Format::Html, "text/html; charset=utf-8", "html"),
        DocFormat::Pdf => (Format::Pdf, "application/pdf", "pdf"),
    };
    let bytes = render_appendix(&snap.project, &a, format, snap.evaluated_at)
        .ok_or_else(|| ApiError::unknown(Thing::Agreement, &id))?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let disposition = format!("inline; filename=\"{id}-appendix.{ext}\"");
    Ok((
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}
