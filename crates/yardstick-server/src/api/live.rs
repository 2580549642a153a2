//! What the dashboard follows live: `/api/v1/events` (server-sent events),
//! `/api/v1/meta` (filter values) and `/api/v1/alerts` (rules firing now).

use super::*;

/// `GET /api/v1/events`: a `snapshot` event whenever new values are in
/// place (after a push, a definition change or the minute clock).
#[utoipa::path(get, path = "/api/v1/events", security(("bearer" = [])),
    responses((status = 200, description = "Server-sent events: `snapshot` with {n, evaluated_at, batch}", content_type = "text/event-stream", body = SnapshotEvent)))]
pub(crate) async fn events(State(state): State<AppState>) -> impl IntoResponse {
    let stream = WatchStream::new(state.subscribe()).map(move |n| {
        let snap = state.snapshot();
        let data = json!({"n": n, "evaluated_at": snap.evaluated_at.to_rfc3339(), "batch": snap.batch_seq});
        Ok::<_, Infallible>(Event::default().event("snapshot").data(data.to_string()))
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

/// One server-sent event of `GET /api/v1/events`.
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)] // Only its schema is used: the stream writes the event itself.
pub(crate) struct SnapshotEvent {
    /// Always `snapshot`: a new evaluation is ready.
    #[schema(pattern = "^snapshot$")]
    event: String,
    /// JSON `{"n", "evaluated_at", "batch"}`: the snapshot's number, its
    /// instant and the newest stored batch.
    data: String,
}

/// Dimension values and labels for the dashboard's filters.
#[utoipa::path(get, path = "/api/v1/meta", security(("bearer" = [])),
    responses((status = 200, description = "Project name, currency, zone, the caller's role and party, KPI → partnerships, every target text → its bounds {op, lower, upper}", body = Object)))]
pub(crate) async fn meta(State(state): State<AppState>, Extension(p): Extension<Principal>) -> Json<Value> {
    let snap = state.snapshot();
    let project = &snap.project;
    let mut partnership_of: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for x in project
        .partnerships
        .values()
        .filter(|x| p.can_see_partnership(&x.id.value))
    {
        for k in &x.kpis {
            partnership_of
                .entry(k.value.as_str())
                .or_default()
                .push(x.id.value.as_str());
        }
    }
    Json(json!({
        "project": project.settings.name,
        "currency": project.settings.currency,
        "timezone": project.settings.timezone.name(),
        "role": p.token.role,
        "party": p.token.party,
        "evaluated_at": snap.evaluated_at.to_rfc3339(),
        "last_evaluation": super::last_evaluation(&snap),
        "partnership_of": partnership_of,
        "targets": target_bounds(project, &p),
        "definition_errors": snap.definition_errors,
    }))
}

/// Every target text the caller can meet (KPIs' targets, dated targets
/// and warnings; clauses' targets) with its bounds as the engine reads
/// them: `{"op": ">=", "lower": 0.995, "upper": null}`. The dashboard
/// draws target lines and judges "better" from these, never by parsing.
fn target_bounds(project: &Project, p: &Principal) -> BTreeMap<String, Value> {
    use yardstick_core::model::{Target, Threshold};
    let mut texts: Vec<&Threshold> = Vec::new();
    for k in project.kpis.values().filter(|k| p.can_see_kpi(&k.id.value)) {
        texts.extend(k.target.iter().chain(&k.warning).map(|t| &t.value));
        for d in &k.targets {
            texts.extend(std::iter::once(&d.target).chain(&d.warning).map(|t| &t.value));
        }
    }
    for c in project
        .contracts
        .values()
        .filter(|c| p.can_see_contract(&c.id.value))
    {
        texts.extend(
            c.clauses
                .iter()
                .flat_map(|cl| cl.target.iter().chain(cl.targets.iter().map(|t| &t.target)))
                .map(|t| &t.value),
        );
    }
    texts
        .into_iter()
        .map(|t| {
            let (op, lower, upper) = match t.target {
                Target::AtLeast(x) => (">=", Some(x), None),
                Target::Above(x) => (">", Some(x), None),
                Target::AtMost(x) => ("<=", None, Some(x)),
                Target::Below(x) => ("<", None, Some(x)),
                Target::Between(lo, hi) => ("between", Some(lo), Some(hi)),
            };
            (t.text.clone(), json!({"op": op, "lower": lower, "upper": upper}))
        })
        .collect()
}

/// `GET /api/v1/alerts`: alert rules and the instances firing now (as
/// delivered; organisation tokens see every rule, party tokens the rules
/// on KPIs shared with them).
#[utoipa::path(get, path = "/api/v1/alerts", security(("bearer" = [])),
    responses((status = 200, description = "Rules with `firing` instances (`instance`, `summary`, `since`)", body = Object)))]
pub(crate) async fn alerts(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
) -> Result<Json<Value>, ApiError> {
    let snap = state.snapshot();
    let firing = state
        .store()
        .alerts_firing()
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let project = &snap.project;
    let mut rules = Vec::new();
    for a in project.alerts.values() {
        let (kpi, subject) = yardstick_engine::alerts::subject_of(project, a);
        let visible = p.visible.is_none() || kpi.as_deref().is_some_and(|k| p.can_see_kpi(k));
        if !visible {
            continue;
        }
        let mine: Vec<&yardstick_store::AlertFiring> =
            firing.iter().filter(|f| f.alert == a.id.value).collect();
        rules.push(json!({
            "alert": a.id.value,
            "name": a.name,
            "when": a.when.value.name(),
            "subject": subject,
            "kpi": kpi,
            "firing": mine,
        }));
    }
    Ok(Json(json!({"alerts": rules})))
}
