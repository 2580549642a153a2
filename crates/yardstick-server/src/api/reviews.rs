//! `GET /api/v1/reviews`: a period review (board pack) from the snapshot's
//! evaluation (`workspace::review`), as HTML, Markdown, PDF, XLSX or JSON.
//! A party's token gets its own pack: only what it may see.

use super::*;
use yardstick_workspace::review::{Inputs, Scope, build, period};

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
    let ids: Vec<String> = yardstick_core::terms::agreements(project)
        .into_iter()
        .filter(|(subject, id)| {
            super::agreements::can_see(&p, *subject, id)
                && match &scope {
                    Scope::Contract(c) | Scope::Partnership(c) => c == id,
                    Scope::Project => true,
                    _ => false,
                }
        })
        .map(|(_, id)| id)
        .collect();
    let mut agreements = Vec::new();
    for id in &ids {
        if let Some(t) = yardstick_core::terms::terms(project, id) {
            agreements.push(yardstick_workspace::agreements::complete(t, state.store()).await?);
        }
    }
    let stored = state.store().actions().await?;
    let actions =
        yardstick_workspace::actions::judged(project, &snap.catalog, stored, snap.evaluated_at).await;
    let inputs = Inputs {
        project,
        evaluation: &snap.evaluation,
        sla: &snap.sla,
        scores: &snap.scores,
        stale: &stale,
        agreements: &agreements,
        actions: &actions,
        visible: p.visible.as_ref(),
    };
    let r = build(&inputs, &scope, &period_of, &q.period);
    let generated = snap.evaluated_at.format("%Y-%m-%d %H:%M UTC").to_string();
    let (bytes, mime, ext) = match q.format {
        ReviewFormat::Json => return Ok(Json(json!(r)).into_response()),
        ReviewFormat::Xlsx => (
            yardstick_docs::xlsx::review_xlsx(&r),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
        ReviewFormat::Pdf => (
            yardstick_docs::review::review(&r, &generated, yardstick_docs::Format::Pdf),
            "application/pdf",
            "pdf",
        ),
        ReviewFormat::Md => (
            yardstick_docs::review::review(&r, &generated, yardstick_docs::Format::Markdown),
            "text/markdown; charset=utf-8",
            "md",
        ),
        ReviewFormat::Html => (
            yardstick_docs::review::review(&r, &generated, yardstick_docs::Format::Html),
            "text/html; charset=utf-8",
            "html",
        ),
    };
    let bytes = bytes.map_err(|e| ApiError::Internal(e.to_string()))?;
    let disposition = format!(
        "inline; filename=\"review-{}.{ext}\"",
        q.period
            .replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "")
    );
    Ok((
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}
