//! What a review reads besides the evaluation: the agreements and
//! actions from the store, the top causes of each miss (`why`), and the
//! partnerships' reconciliations — gathered once for the CLI, the API and
//! the schedule.

use std::collections::BTreeMap;

use yardstick_core::Period;
use yardstick_core::format;
use yardstick_core::model::Project;
use yardstick_engine::eval::{Evaluation, Row};

use super::{Scope, reviewed_period, shown_kpis};
use crate::agreements::Agreement;

/// What a review reads besides the evaluation: the agreements in its scope
/// with their signatures, and the corrective actions with their effect.
#[derive(Debug, Default)]
pub struct Gathered {
    pub agreements: Vec<Agreement>,
    pub actions: Vec<crate::actions::Listed>,
    /// Per missed KPI, its top causes in words.
    pub causes: BTreeMap<String, Vec<String>>,
    /// The reconciliations of the partnerships in scope (`reconciled`).
    pub reconciliations: Vec<yardstick_engine::reconcile::Reconciliation>,
}

/// The partnerships a review of `scope` shows (a party's pack: those it
/// is a partner of).
pub(super) fn partnerships_of(
    project: &Project,
    scope: &Scope,
    visible: Option<&yardstick_core::visibility::Visible>,
) -> Vec<String> {
    let ids: Vec<String> = match scope {
        Scope::Project => project.partnerships.keys().cloned().collect(),
        Scope::Partnership(id) => vec![id.clone()],
        _ => Vec::new(),
    };
    ids.into_iter()
        .filter(|id| visible.is_none_or(|v| v.partnerships.contains(id)))
        .collect()
}

/// Whether reconciliation `rc` compares the records of partnership `id`:
/// one of its parties is a partner.
pub(super) fn reconciles_partnership(project: &Project, rc: &str, id: &str) -> bool {
    let (Some(r), Some(p)) = (project.reconciles.get(rc), project.partnerships.get(id)) else {
        return false;
    };
    r.parties
        .iter()
        .any(|x| p.partners.iter().any(|y| x.trim().eq_ignore_ascii_case(y.trim())))
}

/// Reads what the review of `scope` in `p` needs besides the evaluation:
/// from `store` the agreements and actions (without a store, nobody signed
/// and no action was recorded), and the top causes of each miss. A
/// party's pack reads only the agreements it may see.
pub async fn gather(
    project: &Project,
    catalog: &yardstick_engine::Catalog,
    evaluation: &Evaluation,
    store: Option<&yardstick_store::Store>,
    scope: &Scope,
    p: &Period,
    visible: Option<&yardstick_core::visibility::Visible>,
) -> Result<Gathered, yardstick_store::StoreError> {
    let as_of = evaluation.as_of.utc();
    let ids: Vec<String> = match scope {
        Scope::Contract(id) | Scope::Partnership(id) => vec![id.clone()],
        Scope::Project => yardstick_core::terms::agreements(project)
            .into_iter()
            .map(|(_, id)| id)
            .collect(),
        _ => Vec::new(),
    };
    let ids = ids
        .into_iter()
        .filter(|id| visible.is_none_or(|v| v.contracts.contains(id) || v.partnerships.contains(id)));
    let mut out = Gathered::default();
    for id in ids {
        let Some(t) = yardstick_core::terms::terms(project, &id) else {
            continue;
        };
        out.agreements.push(match store {
            Some(store) => crate::agreements::complete(t, store).await?,
            None => crate::agreements::with_signatures(t, Vec::new()),
        });
    }
    if let Some(store) = store {
        let stored = store.actions().await?;
        out.actions = crate::actions::judged(project, catalog, stored, as_of).await;
    }
    let kpis = shown_kpis(project, scope, visible);
    out.causes = miss_causes(project, catalog, evaluation, &kpis, p, visible.is_some()).await;
    let partnerships = partnerships_of(project, scope, visible);
    for rc in project.reconciles.keys() {
        let related = partnerships
            .iter()
            .any(|id| reconciles_partnership(project, rc, id));
        if !related || visible.is_some_and(|v| !v.reconciles.contains(rc)) {
            continue;
        }
        let opts = yardstick_engine::reconcile::ReconcileOptions {
            as_of,
            period: None,
            limit: Some(0),
        };
        match yardstick_engine::reconcile::reconcile(project, catalog, rc, &opts).await {
            Ok(r) => out.reconciliations.push(r),
            Err(e) => {
                tracing::warn!(reconcile = %rc, error = %e, "the review shows no reconciliation status")
            }
        }
    }
    Ok(out)
}

/// The top causes of each missed (or warning) KPI of the review, from
/// `why` against the period before: KPIs that split (declared dimensions,
/// `for_each`, a fleet's units — for a party's pack its declared
/// dimensions only, as over the API), the KPI's total in the period the
/// review shows: its first three roots (as `yardstick why` ranks them)
/// that moved the way the KPI did, in words.
async fn miss_causes(
    project: &Project,
    catalog: &yardstick_engine::Catalog,
    evaluation: &Evaluation,
    kpis: &[String],
    p: &Period,
    party: bool,
) -> BTreeMap<String, Vec<String>> {
    use yardstick_engine::why::{Vs, WhyOptions, default_dimensions, why};
    let currency = project.settings.currency.as_deref();
    let mut out = BTreeMap::new();
    for id in kpis {
        let Some(k) = project.kpis.get(id) else { continue };
        let dimensions: Vec<String> = if party {
            k.dimensions.iter().map(|d| d.value.clone()).collect()
        } else {
            default_dimensions(k)
        };
        if dimensions.is_empty() {
            continue;
        }
        let rows: Vec<&Row> = evaluation
            .evaluations
            .iter()
            .filter(|r| &r.kpi == id && r.entity.is_none())
            .collect();
        let Some(period) = reviewed_period(&rows, p).map(|r| r.period.clone()) else {
            continue;
        };
        let missed = rows.iter().any(|r| {
            r.period == period
                && matches!(
                    r.status,
                    Some(yardstick_core::status::Status::Missed | yardstick_core::status::Status::Warning)
                )
        });
        if !missed {
            continue;
        }
        let o = WhyOptions {
            kpi: id.clone(),
            period,
            vs: Vs::Previous,
            entity: Vec::new(),
            within: Vec::new(),
            dimensions: Some(dimensions),
            // As `yardstick why` by default, so the pack and `why` agree.
            depth: 3,
            top: 10,
            roots: yardstick_core::why::search::Roots::Explain,
            as_of: evaluation.as_of.utc(),
        };
        let Ok(w) = why(project, catalog, &o).await else {
            continue;
        };
        let unit = k.display_unit();
        let words: Vec<String> = w
            .causes
            .iter()
            // Roots that moved with the miss (a segment that moved the
            // other way explains no part of it).
            .filter(|c| c.root && c.share.is_some_and(|s| s > 0.0))
            .take(3)
            .map(|c| {
                let seg: Vec<String> = c
                    .elements
                    .iter()
                    .map(|(k, v)| format!("`{k}={}`", v.as_deref().unwrap_or("(empty)")))
                    .collect();
                let share = c
                    .share
                    .map(|s| format!(", {} of the change", format::percent(s.abs())))
                    .unwrap_or_default();
                format!(
                    "{}: {} against {} in {}{share}",
                    seg.join(" ∧ "),
                    format::value_or_dash(c.value, unit, currency),
                    format::value_or_dash(c.reference, unit, currency),
                    w.reference_is
                )
            })
            .collect();
        if !words.is_empty() {
            out.insert(id.clone(), words);
        }
    }
    out
}
