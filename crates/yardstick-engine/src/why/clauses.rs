//! A breached contract clause names its top cause: the explanation of a
//! breached period ends with the root cause `why` finds for the clause's
//! KPI in that period against the one before, when the KPI splits (it
//! declares dimensions, or is a fleet's availability, split by unit).

use yardstick_core::format;
use yardstick_core::model::Project;
use yardstick_core::why::search::Roots;

use super::{Vs, WhyOptions, why};
use crate::consequences::{SlaReport, TopCause};
use crate::sources::Catalog;

/// The most breached periods named per report (the newest first): each
/// costs a query.
const MAX_NAMED: usize = 24;

/// Adds the top cause to the explanation of breached periods whose KPI
/// splits; others are left as they are.
pub async fn name_top_causes(
    project: &Project,
    catalog: &Catalog,
    report: &mut SlaReport,
    as_of: chrono::DateTime<chrono::Utc>,
) {
    let mut breached: Vec<usize> = (0..report.clauses.len())
        .filter(|i| report.clauses[*i].breached)
        .collect();
    breached.sort_by(|a, b| report.clauses[*b].period.cmp(&report.clauses[*a].period));
    for i in breached.into_iter().take(MAX_NAMED) {
        let row = &report.clauses[i];
        let Some(kpi) = project
            .contracts
            .get(&row.contract)
            .and_then(|c| c.clauses.iter().find(|x| x.id.value == row.clause))
            .and_then(|c| c.kpi.as_ref())
            .and_then(|k| project.kpis.get(&k.value))
        else {
            continue;
        };
        // A KPI that declares dimensions, or a fleet's availability.
        if super::default_dimensions(kpi).is_empty() {
            continue;
        }
        let o = WhyOptions {
            kpi: kpi.id.value.clone(),
            period: row.period.clone(),
            vs: Vs::Previous,
            entity: row
                .entity
                .iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.to_string()))
                .collect(),
            within: Vec::new(),
            dimensions: None,
            depth: 2,
            top: 1,
            roots: Roots::Explain,
            as_of,
        };
        let Ok(w) = why(project, catalog, &o).await else {
            continue;
        };
        let Some(c) = w.causes.iter().find(|c| c.root) else {
            continue;
        };
        let unit = kpi.display_unit();
        let currency = project.settings.currency.as_deref();
        let words: Vec<String> = c
            .elements
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_deref().unwrap_or("(empty)")))
            .collect();
        let row = &mut report.clauses[i];
        row.explanation.push_str(&format!(
            " Top cause against {}: {} ({} against {}).",
            w.reference_is,
            words.join(" ∧ "),
            format::value_or_dash(c.value, unit, currency),
            format::value_or_dash(c.reference, unit, currency)
        ));
        row.top_cause = Some(TopCause {
            elements: c.elements.clone(),
            value: c.value,
            reference: c.reference,
            contribution: c.contribution,
            against: w.reference_is.clone(),
        });
    }
}
