//! Corrective actions as every front end shows them: each stored action
//! with its cause as dimension values and its effect (the KPI and the
//! cause's segment before and after, and whether they recovered), judged
//! on a project's catalog at an instant.

use std::collections::BTreeMap;

use serde::Serialize;
use yardstick_core::model::Project;
use yardstick_engine::Catalog;
use yardstick_engine::eval::EvalError;
use yardstick_engine::why::effect::{ActionScope, Effect};
use yardstick_store::Action;

/// An action with its effect, as listed.
#[derive(Debug, Clone, Serialize)]
pub struct Listed {
    pub id: i64,
    pub kpi: String,
    /// `col=value[,col=value]` of a `for_each` KPI.
    pub entity: Option<String>,
    pub period: String,
    /// The cause's segment: dimension → value.
    pub cause: Option<BTreeMap<String, Option<String>>>,
    pub title: String,
    pub owner: String,
    pub due: String,
    pub judge_from: String,
    pub judge_to: String,
    pub opened_by: String,
    /// µs since the epoch.
    pub opened_at: i64,
    pub closed_by: Option<String>,
    pub closed_at: Option<i64>,
    pub outcome: Option<String>,
    pub effect: Option<Effect>,
    /// Why the effect cannot be judged (the definitions changed since).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// The cause as stored (a JSON object of dimension values), as pairs.
pub fn cause_pairs(cause: Option<&str>) -> Vec<(String, Option<String>)> {
    cause
        .and_then(|c| serde_json::from_str::<BTreeMap<String, Option<String>>>(c).ok())
        .map(|m| m.into_iter().collect())
        .unwrap_or_default()
}

/// Pairs as the store keeps a cause.
pub fn cause_text(cause: &[(String, Option<String>)]) -> Option<String> {
    (!cause.is_empty()).then(|| {
        serde_json::to_string(&cause.iter().cloned().collect::<BTreeMap<_, _>>()).unwrap_or_default()
    })
}

/// `col=value,…` as pairs.
pub fn entity_pairs(entity: Option<&str>) -> Vec<(String, String)> {
    entity
        .unwrap_or("")
        .split(',')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Pairs as the store keeps an entity: `col=value,…` (none when empty) —
/// what [`entity_pairs`] reads back.
pub fn entity_text(entity: &[(String, String)]) -> Option<String> {
    (!entity.is_empty()).then(|| {
        entity
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",")
    })
}

/// The period after `label`, where an action's effect is judged unless
/// told otherwise (`None`: not a period label).
pub fn next_period(project: &Project, label: &str) -> Option<String> {
    let cal = project.settings.calendar();
    cal.parse_label(label).map(|p| cal.label(&cal.next(&p)))
}

/// What an action would be judged on, checked before it is stored: the
/// KPI, periods and cause must exist.
pub async fn judge(
    project: &Project,
    catalog: &Catalog,
    scope: &ActionScope<'_>,
    as_of: chrono::DateTime<chrono::Utc>,
) -> Result<Effect, EvalError> {
    yardstick_engine::why::effect::effect(project, catalog, scope, as_of).await
}

/// Every action with its effect judged at `as_of`.
pub async fn judged(
    project: &Project,
    catalog: &Catalog,
    actions: Vec<Action>,
    as_of: chrono::DateTime<chrono::Utc>,
) -> Vec<Listed> {
    let mut out = Vec::new();
    for a in actions {
        let cause = cause_pairs(a.cause.as_deref());
        let entity = entity_pairs(a.entity.as_deref());
        let scope = ActionScope {
            kpi: &a.kpi,
            entity: &entity,
            period: &a.period,
            cause: &cause,
            judge_from: &a.judge_from,
            judge_to: &a.judge_to,
        };
        let (effect, problem) = match judge(project, catalog, &scope, as_of).await {
            Ok(e) => (Some(e), None),
            Err(e) => (None, Some(e.to_string())),
        };
        out.push(Listed {
            id: a.id,
            kpi: a.kpi,
            entity: a.entity,
            period: a.period,
            cause: (!cause.is_empty()).then(|| cause.into_iter().collect()),
            title: a.title,
            owner: a.owner,
            due: a.due,
            judge_from: a.judge_from,
            judge_to: a.judge_to,
            opened_by: a.opened_by,
            opened_at: a.opened_at,
            closed_by: a.closed_by,
            closed_at: a.closed_at,
            outcome: a.outcome,
            effect,
            problem,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entity_and_a_cause_read_back_as_they_were_written() {
        let entity = vec![
            ("region".to_string(), "EU".to_string()),
            ("salesperson".to_string(), "Ana".to_string()),
        ];
        let text = entity_text(&entity);
        assert_eq!(text.as_deref(), Some("region=EU,salesperson=Ana"));
        assert_eq!(entity_pairs(text.as_deref()), entity);
        assert_eq!(entity_text(&[]), None);
        let cause = vec![
            ("partner".to_string(), Some("CloudCo".to_string())),
            ("region".to_string(), None),
        ];
        assert_eq!(cause_pairs(cause_text(&cause).as_deref()), cause);
        assert_eq!(cause_text(&[]), None);
    }
}
