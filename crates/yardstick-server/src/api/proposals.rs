//! Renegotiation over the API (`workspace::proposals`): a party proposes a
//! new target for an agreement's clause or KPI from an effective period;
//! another party accepts or rejects it. The answer to an acceptance
//! carries the amendment as a patch of the definitions for the project's
//! owner to commit (the server never writes definitions).
//!
//! Who acts for whom is the same rule as signing: a party's token only as
//! its own party, the organisation's admin token for a named party.

use super::agreements::{acting_party, can_see};
use super::*;
use yardstick_core::terms::terms;
use yardstick_workspace::proposals::{Amends, ProposalError, Proposed, amendment, decide, propose};

/// A proposed new target.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ProposeBody {
    /// A contract's clause whose target changes.
    #[serde(default)]
    pub clause: Option<String>,
    /// A partnership's or incentive plan's KPI whose target changes.
    #[serde(default)]
    pub kpi: Option<String>,
    /// The new target, e.g. ">= 99.9%".
    pub target: String,
    /// A KPI's new warning threshold beside it (not for a clause).
    #[serde(default)]
    pub warning: Option<String>,
    /// The first period it applies to: a month (2026-07) or a period's first day.
    pub from: String,
    /// Why: a `why` finding, a persistent miss…
    pub reason: String,
    /// The party proposing (a party's token: its own, the default).
    #[serde(default, rename = "as")]
    pub party: Option<String>,
}

/// An acceptance or rejection.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct DecideBody {
    /// Why (required to reject).
    #[serde(default)]
    pub comment: String,
    /// The party deciding (a party's token: its own, the default).
    #[serde(default, rename = "as")]
    pub party: Option<String>,
}

/// Whether `p` sees agreement `id` (a party: contracts and partnerships
/// shared with it).
fn sees(project: &Project, p: &Principal, id: &str) -> bool {
    terms(project, id).is_some_and(|t| can_see(p, t.subject, id))
}

/// A refusal through the one table: the caller's party where another
/// must act is forbidden, the rest are the request's faults.
fn refused(e: ProposalError, p: &Principal) -> ApiError {
    match e {
        ProposalError::Store(e) => e.into(),
        ProposalError::UnknownProposal(n) => ApiError::unknown(Thing::Proposal, &n.to_string()),
        ProposalError::UnknownAgreement(id) => ApiError::unknown(Thing::Agreement, &id),
        e @ (ProposalError::NotAParty { .. } | ProposalError::OwnProposal { .. })
            if p.token.party.is_some() =>
        {
            ApiError::Forbidden(e.to_string())
        }
        e @ ProposalError::AlreadyDecided(_) => ApiError::Conflict(e.to_string()),
        e => ApiError::BadRequest(e.to_string()),
    }
}

/// `POST /api/v1/agreements/{id}/proposals`: proposes a new target.
#[utoipa::path(post, path = "/api/v1/agreements/{id}/proposals", security(("bearer" = [])),
    params(("id" = String, Path, description = "contract, incentive or partnership id")),
    request_body = ProposeBody,
    responses((status = 201, description = "The open proposal, with warnings from the KPI's history", body = Object),
              (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody),
              (status = 415, description = "Not a JSON body", body = crate::error::ErrorBody)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ProposeBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let snap = state.snapshot();
    if !sees(&snap.project, &p, &id) {
        return Err(ApiError::unknown(Thing::Agreement, &id));
    }
    let party = acting_party(&p, body.party.clone(), "proposes")?;
    let amends = match (body.clause, body.kpi) {
        (Some(c), None) => Amends::Clause(c),
        (None, Some(k)) => Amends::Kpi(k),
        _ => {
            return Err(ApiError::BadRequest(
                "name either the clause (a contract's) or the KPI (a partnership's or incentive plan's) whose target changes"
                    .into(),
            ));
        }
    };
    let tz = snap.project.settings.timezone;
    let today = snap.evaluated_at.with_timezone(&tz).date_naive();
    let proposed = Proposed {
        amends,
        target: body.target,
        warning: body.warning,
        effective: body.from,
        reason: body.reason,
    };
    let made = propose(
        &snap.project,
        state.store(),
        &id,
        &proposed,
        &party,
        &p.actor(),
        today,
    )
    .await
    .map_err(|e| refused(e, &p))?;
    let kpi = yardstick_workspace::proposals::kpi_of_proposal(&snap.project, &made);
    let warnings: Vec<String> = match (kpi, yardstick_core::model::Threshold::parse(&made.value)) {
        (Some(k), Ok(t)) => yardstick_engine::history::review_target(&snap.project, &snap.evaluation, &k, &t)
            .into_iter()
            .collect(),
        _ => Vec::new(),
    };
    let mut v = json!(made);
    v["warnings"] = json!(warnings);
    Ok((StatusCode::CREATED, Json(v)))
}

/// Accepts or rejects proposal `n` as the caller's party.
async fn decided(
    state: AppState,
    p: Principal,
    n: i64,
    body: DecideBody,
    accept: bool,
) -> ApiResult<Json<Value>> {
    let snap = state.snapshot();
    let found = state.store().proposal(n).await?;
    let Some(found) = found.filter(|x| sees(&snap.project, &p, &x.agreement)) else {
        return Err(ApiError::unknown(Thing::Proposal, &n.to_string()));
    };
    let verb = if accept { "accepts" } else { "rejects" };
    let party = acting_party(&p, body.party, verb)?;
    if !accept && body.comment.trim().is_empty() {
        return Err(ApiError::BadRequest(
            "a rejection needs a comment: say why, so the proposer can answer it".into(),
        ));
    }
    let d = decide(
        &snap.project,
        state.store(),
        found.id,
        accept,
        &party,
        &p.actor(),
        body.comment.trim(),
    )
    .await
    .map_err(|e| refused(e, &p))?;
    let mut v = json!(d);
    if accept {
        let since = yardstick_workspace::proposals::kpi_of_proposal(&snap.project, &d)
            .and_then(|k| yardstick_workspace::proposals::earliest(&snap.evaluation, &k));
        match amendment(&snap.project, &snap.files, &d, since) {
            Ok(m) => v["amendment"] = json!(m),
            Err(e) => v["amendment_error"] = json!(e.to_string()),
        }
    }
    Ok(Json(v))
}

/// `POST /api/v1/proposals/{n}/accept`: accepts a proposal; the answer
/// carries the amendment as a patch of the definitions.
#[utoipa::path(post, path = "/api/v1/proposals/{n}/accept", security(("bearer" = [])),
    params(("n" = i64, Path, minimum = 1, description = "proposal number")),
    request_body = DecideBody,
    responses((status = 200, description = "The accepted proposal and its amendment", body = Object),
              (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
              (status = 415, description = "Not a JSON body", body = crate::error::ErrorBody)))]
pub(crate) async fn accept(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    ApiPath(n): ApiPath<i64>,
    ApiJson(body): ApiJson<DecideBody>,
) -> ApiResult<Json<Value>> {
    decided(state, p, n, body, true).await
}

/// `POST /api/v1/proposals/{n}/reject`: rejects a proposal with a comment.
#[utoipa::path(post, path = "/api/v1/proposals/{n}/reject", security(("bearer" = [])),
    params(("n" = i64, Path, minimum = 1, description = "proposal number")),
    request_body = DecideBody,
    responses((status = 200, description = "The rejected proposal", body = Object),
              (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
              (status = 415, description = "Not a JSON body", body = crate::error::ErrorBody)))]
pub(crate) async fn reject(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    ApiPath(n): ApiPath<i64>,
    ApiJson(body): ApiJson<DecideBody>,
) -> ApiResult<Json<Value>> {
    decided(state, p, n, body, false).await
}
