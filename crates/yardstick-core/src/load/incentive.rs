//! `[incentive.ID]`: payout curves tied to a KPI.

use super::*;

pub(super) fn read_incentive(cx: &mut Cx<'_>, tab: &Tab<'_>, id: Located<String>) -> Incentive {
    tab.known_keys(cx, &["name", "description", "owner", "kpi", "payout"]);
    let mut payout: Vec<PayoutPoint> = Vec::new();
    for p in tab.table_list(cx, "payout") {
        p.known_keys(cx, &["at", "pay"]);
        if !p.has("at") || !p.has("pay") {
            cx.error(
                "missing-key",
                "a payout point needs `at` (attainment) and `pay`",
                &p.loc,
            )
            .hint = Some("e.g. { at = \"100%\", pay = 5000 }".into());
        }
        if let (Some(at), Some(pay)) = (p.share(cx, "at"), p.number(cx, "pay")) {
            if payout.last().is_some_and(|last| last.at >= at.value) {
                cx.error(
                    "unordered-payout",
                    "payout points must be in increasing order of `at`",
                    &at.loc,
                );
            }
            payout.push(PayoutPoint {
                at: at.value,
                pay: pay.value,
            });
        }
    }
    if !tab.has("payout") {
        cx.error(
            "missing-key",
            format!("incentive `{}` needs a `payout` curve", id.value),
            &id.loc,
        )
        .hint = Some("e.g. payout = [{ at = \"80%\", pay = 0 }, { at = \"100%\", pay = 5000 }]".into());
    }
    if !tab.has("kpi") {
        cx.error(
            "missing-key",
            format!("incentive `{}` needs a `kpi`", id.value),
            &id.loc,
        );
    }
    Incentive {
        name: tab.text(cx, "name"),
        description: tab.text(cx, "description"),
        owner: tab.text(cx, "owner"),
        kpi: tab.id_ref(cx, "kpi"),
        payout,
        id,
    }
}
