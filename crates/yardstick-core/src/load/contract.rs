//! `[contract.ID]`: clauses, credits and remedies.

use super::*;

pub(super) fn read_contract(cx: &mut Cx<'_>, tab: &Tab<'_>, id: Located<String>) -> Contract {
    tab.known_keys(
        cx,
        &[
            "name",
            "description",
            "provider",
            "client",
            "fee",
            "start",
            "end",
            "clause",
            "owner",
        ],
    );
    let fee = tab.table(cx, "fee").and_then(|f| {
        f.known_keys(cx, &["amount", "every"]);
        if !f.has("amount") || !f.has("every") {
            cx.error("missing-key", "a fee needs `amount` and `every`", &f.loc)
                .hint = Some("e.g. fee = { amount = 12000, every = \"month\" }".into());
        }
        let amount = f.number(cx, "amount")?;
        if amount.value < 0.0 {
            cx.error("bad-value", "a fee cannot be negative", &amount.loc);
        }
        let every = f.grain(cx, "every")?;
        Some(Located::new(
            Fee {
                amount: amount.value,
                every: every.value,
            },
            f.loc.clone(),
        ))
    });
    let start = tab.date(cx, "start");
    let end = tab.date(cx, "end");
    if let (Some(s), Some(e)) = (&start, &end)
        && e.value <= s.value
    {
        cx.error("bad-value", "the contract ends before it starts", &e.loc);
    }
    let mut clauses: Vec<Clause> = Vec::new();
    for c in tab.table_list(cx, "clause") {
        c.known_keys(
            cx,
            &[
                "id",
                "text",
                "kpi",
                "target",
                "targets",
                "breach_when",
                "remedies",
                "credits",
                "credit_cap",
                "name",
            ],
        );
        let Some(cid) = c.string(cx, "id") else {
            if !c.has("id") {
                cx.error("missing-key", "a clause needs an `id`", &c.loc).hint =
                    Some("e.g. id = \"uptime\"".into());
            }
            continue;
        };
        if let Some(first) = clauses.iter().find(|x| x.id.value == cid.value) {
            cx.diags.push(
                Diagnostic::error(
                    "duplicate-id",
                    format!("clause `{}` appears twice in this contract", cid.value),
                )
                .at(&cid.loc)
                .related(&first.id.loc, "first defined here"),
            );
            continue;
        }
        let breach_when = c
            .parsed(
                cx,
                "breach_when",
                "bad-breach-rule",
                BreachRule::FORMS,
                BreachRule::parse,
            )
            .map_or(BreachRule::Any, |b| b.value);
        let mut remedies = Vec::new();
        for r in c.table_list(cx, "remedies") {
            r.known_keys(cx, &["credit", "action"]);
            match (r.has("credit"), r.has("action")) {
                (true, false) => {
                    if let Some(v) = r.share(cx, "credit") {
                        if !(0.0..=1.0).contains(&v.value) {
                            cx.error(
                                "bad-value",
                                "a credit is a share of the fee between 0% and 100%",
                                &v.loc,
                            );
                        }
                        remedies.push(Remedy::Credit(v.value));
                    }
                }
                (false, true) => {
                    if let Some(a) = r.text(cx, "action") {
                        remedies.push(Remedy::Action(a));
                    }
                }
                _ => {
                    cx.error(
                        "bad-remedy",
                        "a remedy is either { credit = \"10%\" } or { action = \"contract_review\" }",
                        &r.loc,
                    );
                }
            }
        }
        let mut credits = Vec::new();
        for t in c.table_list(cx, "credits") {
            t.known_keys(cx, &["below", "credit"]);
            if !t.has("below") || !t.has("credit") {
                cx.error("missing-key", "a credit tier needs `below` and `credit`", &t.loc)
                    .hint = Some("e.g. { below = \"99.5%\", credit = \"10%\" }".into());
            }
            if let (Some(below), Some(credit)) = (t.share(cx, "below"), t.share(cx, "credit")) {
                if let Some(dup) = credits.iter().find(|x: &&CreditTier| x.below == below.value) {
                    cx.error(
                        "duplicate-tier",
                        format!("two credit tiers start below {}", dup.below),
                        &below.loc,
                    );
                    continue;
                }
                credits.push(CreditTier {
                    below: below.value,
                    credit: credit.value,
                });
            }
        }
        credits.sort_by(|a, b| a.below.total_cmp(&b.below));
        if !credits.is_empty() && remedies.iter().any(|r| matches!(r, Remedy::Credit(_))) {
            let loc = c.key_loc(cx, "credits");
            cx.error(
                "conflicting-keys",
                "a clause has a flat credit in `remedies` or tiered `credits`, not both",
                &loc,
            );
        }
        let target = c.parsed(cx, "target", "bad-target", Target::FORMS, Threshold::parse);
        let targets = super::kpi::dated_targets(cx, &c);
        clauses.push(Clause {
            text: c.text(cx, "text"),
            kpi: c.id_ref(cx, "kpi"),
            target,
            targets,
            breach_when,
            remedies,
            credits,
            credit_cap: c.share(cx, "credit_cap").map(|v| v.value),
            id: cid,
        });
    }
    Contract {
        name: tab.text(cx, "name"),
        description: tab.text(cx, "description"),
        provider: tab.text(cx, "provider"),
        client: tab.text(cx, "client"),
        fee,
        start: start.map(|s| s.value),
        end: end.map(|e| e.value),
        clauses,
        id,
    }
}
