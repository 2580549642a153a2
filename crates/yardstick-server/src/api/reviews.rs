//! `GET /api/v1/reviews`: a period review (board pack) from the snapshot's
//! evaluation (`workspace::review`), as HTML, Markdown, PDF, XLSX or JSON.
//! A party's token gets its own pack: only what it may see.

use super::*;
use yardstick_core::model::review::PackFormat;
use yardstick_workspace::review::{Inputs, Scope, build, gather, period};

/// A review's format.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ReviewFormat {
    #[default]
    Html,
    Md,
    Pdf,
    Xlsx,
    Json,
}

/// What to review.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReviewQuery {
    /// The period: 2026-Q3, 2026-09, 2026-H2, 2026.
    pub period: String,
    /// project (the default), scorecard:ID, partnership:ID, contract:ID or owner:NAME.
    #[serde(default)]
    pub scope: Option<String>,
    /// html (the default), md, pdf, xlsx or json.
    #[serde(default)]
    #[param(inline)]
    pub format: ReviewFormat,
}

/// `GET /api/v1/reviews?period=P[&scope=S][&format=F]`.
#[utoipa::path(get, path = "/api/v1/reviews", security(("bearer" = [])), params(ReviewQuery),
    responses((status = 200, description = "The review document",
                content((String = "text/html"), (String = "text/markdown"), (String = "application/pdf"),
                        (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (Object = "application/json"))),
              (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub(crate) async fn review(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    ApiQuery(q): ApiQuery<ReviewQuery>,
) -> ApiResult<Response> {
    let snap = state.snapshot();
    let project = &*snap.project;
    let scope =
        Scope::parse(project, q.scope.as_deref().unwrap_or("project")).map_err(ApiError::BadRequest)?;
    // A party sees only its own: a scope outside it does not exist for it.
    let hidden = match &scope {
        Scope::Scorecard(id) => !p.can_see_scorecard(id),
        Scope::Partnership(id) => !p.can_see_partnership(id),
        Scope::Contract(id) => !p.can_see_contract(id),
        Scope::Project | Scope::Owner(_) => false,
    };
    if hidden {
        return Err(ApiError::NotFound(format!(
            "no {} you may see",
            q.scope.as_deref().unwrap_or("")
        )));
    }
    let period_of = period(&project.settings.calendar(), &q.period).map_err(ApiError::BadPeriod)?;
    let stale = yardstick_engine::freshness::stale_sources(project, &snap.catalog, snap.evaluated_at)
        .await
        .unwrap_or_default();
    let gathered = gather(
        project,
        &snap.catalog,
        &snap.evaluation,
        Some(state.store()),
        &scope,
        &period_of,
        p.visible.as_ref(),
    )
    .await?;
    let inputs = Inputs {
        project,
        evaluation: &snap.evaluation,
        sla: &snap.sla,
        scores: &snap.scores,
        stale: &stale,
        agreements: &gathered.agreements,
        actions: &gathered.actions,
        visible: p.visible.as_ref(),
        restated: &[],
        causes: &gathered.causes,
        reconciliations: &gathered.reconciliations,
        restated_since: None,
    };
    let r = build(&inputs, &scope, &period_of, &q.period);
    let generated = snap.evaluated_at.format("%Y-%m-%d %H:%M UTC").to_string();
    let format = match q.format {
        ReviewFormat::Json => return Ok(Json(json!(r)).into_response()),
        ReviewFormat::Xlsx => PackFormat::Xlsx,
        ReviewFormat::Pdf => PackFormat::Pdf,
        ReviewFormat::Md => PackFormat::Markdown,
        ReviewFormat::Html => PackFormat::Html,
    };
    let bytes = yardstick_docs::review::pack(&r, &generated, format);
    let bytes = bytes.map_err(|e| ApiError::Internal(e.to_string()))?;
    let name = format!(
        "review-{}.{}",
        q.period
            .replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', ""),
        format.name()
    );
    Ok(document(format, &name, bytes))
}

/// A document response: its media type and file name.
fn document(format: PackFormat, name: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, format.mime().to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// May `p` see issued pack `k`? A party sees the packs written for it; the
/// organisation's tokens see every pack.
fn may_see(p: &Principal, k: &yardstick_store::Pack) -> bool {
    match (&p.token.party, &k.party) {
        (None, _) => true,
        (Some(mine), Some(theirs)) => mine.trim().eq_ignore_ascii_case(theirs.trim()),
        (Some(_), None) => false,
    }
}

/// `GET /api/v1/reviews/issued`: the packs issued on a schedule, newest
/// first, with where to download each.
#[utoipa::path(get, path = "/api/v1/reviews/issued", security(("bearer" = [])),
    responses((status = 200, description = "Issued review packs", body = Object)))]
pub(crate) async fn issued(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
) -> ApiResult<Json<Value>> {
    let snap = state.snapshot();
    let mut packs = state.store().packs().await?;
    packs.retain(|k| may_see(&p, k));
    packs.reverse();
    let rows: Vec<Value> = packs
        .iter()
        .map(|k| {
            let name = snap.project.reviews.get(&k.review).and_then(|r| r.name.clone());
            json!({
                "id": k.id, "review": k.review, "name": name, "period": k.period, "party": k.party,
                "format": k.format, "bytes": k.bytes,
                "as_of": micros_rfc3339(k.as_of), "issued_at": micros_rfc3339(k.issued_at),
                "notified_at": k.notified_at.map(micros_rfc3339),
                "file": yardstick_workspace::schedule::file_name(&k.review, &k.period, k.party.as_deref(), &k.format),
                "url": format!("/api/v1/reviews/issued/{}", k.id),
            })
        })
        .collect();
    Ok(Json(json!({ "packs": rows })))
}

/// `GET /api/v1/reviews/issued/{id}`: an issued pack's document, exactly
/// as it was issued.
#[utoipa::path(get, path = "/api/v1/reviews/issued/{id}", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The pack's id")),
    responses((status = 200, description = "The document as issued",
                content((String = "text/html"), (String = "text/markdown"), (String = "application/pdf"),
                        (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
              (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub(crate) async fn issued_pack(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    let found = state.store().pack(id).await?;
    let Some((k, body)) = found.filter(|(k, _)| may_see(&p, k)) else {
        return Err(ApiError::NotFound(format!("no issued review pack {id}")));
    };
    let format = PackFormat::from_name(&k.format)
        .ok_or_else(|| ApiError::Internal(format!("pack {id} has an unknown format `{}`", k.format)))?;
    let name = yardstick_workspace::schedule::file_name(&k.review, &k.period, k.party.as_deref(), &k.format);
    Ok(document(format, &name, body))
}
