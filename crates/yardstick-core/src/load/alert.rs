//! `[alert.ID]`: rules that notify when a KPI's status changes.

use super::*;

pub(super) fn read_alert(cx: &mut Cx<'_>, tab: &Tab<'_>, id: Located<String>) -> Option<Alert> {
    tab.known_keys(
        cx,
        &[
            "name",
            "when",
            "kpi",
            "source",
            "contract",
            "clause",
            "reconcile",
            "statuses",
            "webhook",
            "webhook_env",
            "payload",
            "owner",
        ],
    );
    let when = match tab.choice(cx, "when", &AlertWhen::NAMES) {
        Some(w) => w,
        None => {
            if !tab.has("when") {
                cx.error(
                    "missing-key",
                    format!("alert `{}` needs `when`", id.value),
                    &id.loc,
                )
                .hint = Some("one of status, projection, anomaly, stale, burn_rate, discrepancy".into());
            }
            return None;
        }
    };
    let kpi = tab.id_ref(cx, "kpi");
    let source = tab.id_ref(cx, "source");
    let contract = tab.id_ref(cx, "contract");
    let clause = tab.string(cx, "clause");
    let reconcile = tab.id_ref(cx, "reconcile");
    let subjects = [
        kpi.is_some(),
        source.is_some(),
        contract.is_some(),
        reconcile.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if subjects != 1 {
        cx.error(
            "alert-subject",
            format!(
                "alert `{}` watches {}: name exactly one of `kpi`, `source`, `contract` (with `clause`) or `reconcile`",
                id.value,
                if subjects == 0 {
                    "nothing"
                } else {
                    "more than one thing"
                }
            ),
            &id.loc,
        );
    }
    if contract.is_some() != clause.is_some() {
        cx.error(
            "alert-subject",
            "`contract` and `clause` go together: the clause names the KPI and target to watch",
            &id.loc,
        );
    }
    if source.is_some() && when.value != AlertWhen::Stale {
        let loc = tab.value_loc(cx, "when");
        cx.error(
            "alert-when",
            format!(
                "a source alert can only watch for `stale` data, not `{}`",
                when.value.name()
            ),
            &loc,
        )
        .hint = Some("watch a KPI for statuses, projections, anomalies and burn rates".into());
    }
    if reconcile.is_some() != (when.value == AlertWhen::Discrepancy) {
        let loc = tab.value_loc(cx, "when");
        cx.error(
            "alert-when",
            if reconcile.is_some() {
                format!(
                    "a reconciliation alert watches for a `discrepancy`, not `{}`",
                    when.value.name()
                )
            } else {
                "a `discrepancy` alert names the reconciliation it watches: reconcile = \"ID\"".to_string()
            },
            &loc,
        );
    }
    let statuses = tab.string_list(cx, "statuses");
    let allowed: &[&str] = match when.value {
        AlertWhen::Status => &["missed", "warning", "met", "no_data"],
        AlertWhen::Projection => &["at_risk", "off_track", "on_track"],
        _ => &[],
    };
    for s in &statuses {
        if allowed.is_empty() {
            cx.error(
                "bad-value",
                format!(
                    "`statuses` applies to `status` and `projection` alerts, not `{}`",
                    when.value.name()
                ),
                &s.loc,
            );
        } else if !allowed.contains(&s.value.as_str()) {
            let hint = did_you_mean(&s.value, allowed.iter().copied())
                .map(|x| format!("did you mean `{x}`?"))
                .unwrap_or_else(|| format!("one of {}", allowed.join(", ")));
            cx.error("bad-value", format!("unknown status `{}`", s.value), &s.loc)
                .hint = Some(hint);
        }
    }
    let webhook = read_webhook(cx, tab);
    let payload = tab
        .choice(
            cx,
            "payload",
            &[("json", AlertPayload::Json), ("slack", AlertPayload::Slack)],
        )
        .map_or(AlertPayload::Json, |p| p.value);
    Some(Alert {
        name: tab.text(cx, "name"),
        when,
        kpi,
        source,
        contract,
        clause,
        reconcile,
        statuses,
        webhook,
        payload,
        owner: tab.text(cx, "owner"),
        id,
    })
}

/// `webhook` (an http(s) URL) or `webhook_env` (the variable holding it),
/// not both: alerts and scheduled reviews are delivered the same way.
pub(super) fn read_webhook(cx: &mut Cx<'_>, tab: &Tab<'_>) -> Option<AlertTarget> {
    match (tab.string(cx, "webhook"), tab.string(cx, "webhook_env")) {
        (Some(_), Some(e)) => {
            cx.error("conflict", "write `webhook` or `webhook_env`, not both", &e.loc);
            None
        }
        (Some(u), None) => {
            if !(u.value.starts_with("http://") || u.value.starts_with("https://")) {
                cx.error(
                    "bad-value",
                    format!("webhook `{}` is not an http(s) URL", u.value),
                    &u.loc,
                );
            }
            Some(AlertTarget::Url(u))
        }
        (None, Some(e)) => Some(AlertTarget::Env(e)),
        (None, None) => None,
    }
}
