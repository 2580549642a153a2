//! `[scorecard.ID]`: weighted KPIs.

use super::*;

pub(super) fn read_scorecard(cx: &mut Cx<'_>, tab: &Tab<'_>, id: Located<String>) -> Scorecard {
    tab.known_keys(cx, &["name", "description", "owner", "weights"]);
    let mut weights = Vec::new();
    if let Some(w) = tab.table(cx, "weights") {
        for (k, _) in w.table.iter() {
            let key = k.get_ref().to_string();
            if let Some(n) = w.number(cx, &key) {
                if n.value <= 0.0 {
                    cx.error("bad-value", "weights must be positive", &n.loc);
                    continue;
                }
                weights.push((Located::new(key, cx.loc(k.span())), n.value));
            }
        }
    } else if !tab.has("weights") {
        cx.error(
            "missing-key",
            format!("scorecard `{}` needs `weights`", id.value),
            &id.loc,
        )
        .hint = Some("e.g. weights = { revenue = 3, churn = 2 }".into());
    }
    Scorecard {
        name: tab.text(cx, "name"),
        description: tab.text(cx, "description"),
        owner: tab.text(cx, "owner"),
        weights,
        id,
    }
}
