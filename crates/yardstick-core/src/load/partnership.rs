//! `[partnership.ID]`: partners, their KPIs and review cadence.

use super::*;

pub(super) fn read_partnership(cx: &mut Cx<'_>, tab: &Tab<'_>, id: Located<String>) -> Partnership {
    tab.known_keys(
        cx,
        &[
            "name",
            "description",
            "kind",
            "partners",
            "kpis",
            "review_every",
            "owner",
        ],
    );
    let kind = tab
        .choice(
            cx,
            "kind",
            &[
                ("joint_venture", PartnershipKind::JointVenture),
                ("technology", PartnershipKind::Technology),
                ("distribution", PartnershipKind::Distribution),
                ("other", PartnershipKind::Other),
            ],
        )
        .map_or(PartnershipKind::Other, |k| k.value);
    let partners: Vec<String> = tab
        .string_list(cx, "partners")
        .into_iter()
        .map(|p| p.value)
        .collect();
    if tab.has("partners") && partners.len() < 2 {
        let loc = tab.value_loc(cx, "partners");
        cx.error("bad-value", "a partnership names at least two partners", &loc);
    }
    Partnership {
        name: tab.text(cx, "name"),
        description: tab.text(cx, "description"),
        kind,
        partners,
        kpis: tab.string_list(cx, "kpis"),
        review_every: tab.grain(cx, "review_every").map(|g| g.value),
        id,
    }
}
