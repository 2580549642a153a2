//! The top-level tables of a definitions file, dispatched to the reader of
//! each kind of definition; ids checked and duplicates reported.

use super::*;

/// Top-level tables and what they hold.
pub(super) const TOP_LEVEL: [&str; 12] = [
    "project",
    "connection",
    "source",
    "metric",
    "kpi",
    "contract",
    "incentive",
    "partnership",
    "scorecard",
    "alert",
    "reconcile",
    "review",
];

pub(super) fn read_definitions(
    cx: &mut Cx<'_>,
    root: &DeTable<'_>,
    is_root: bool,
    cal: &Calendar,
    p: &mut Project,
) {
    for (k, v) in root.iter() {
        let key = k.get_ref().as_ref();
        let key_loc = cx.loc(k.span());
        if key == "project" {
            if !is_root {
                cx.error(
                    "project-in-include",
                    "[project] belongs in the root yardstick.toml only",
                    &key_loc,
                );
            }
            continue;
        }
        if !TOP_LEVEL.contains(&key) {
            let plurals = [
                "kpis",
                "connections",
                "sources",
                "metrics",
                "contracts",
                "incentives",
                "partnerships",
                "scorecards",
                "alerts",
                "reconciles",
                "reviews",
            ];
            let hint = did_you_mean(key, TOP_LEVEL.iter().copied().chain(plurals))
                .map(|s| format!("did you mean `{}`?", s.trim_end_matches('s')))
                .unwrap_or_else(|| format!("accepted tables: {}", TOP_LEVEL.join(", ")));
            cx.error("unknown-table", format!("unknown table `{key}`"), &key_loc)
                .hint = Some(hint);
            continue;
        }
        let DeValue::Table(items) = v.get_ref() else {
            cx.error(
                "wrong-type",
                format!("`{key}` must be a table of definitions: [{key}.ID]"),
                &key_loc,
            );
            continue;
        };
        for (id_key, body) in items.iter() {
            let id = Located::new(id_key.get_ref().to_string(), cx.loc(id_key.span()));
            let DeValue::Table(t) = body.get_ref() else {
                cx.error(
                    "wrong-type",
                    format!("`{key}.{}` must be a table: write [{key}.{}]", id.value, id.value),
                    &id.loc,
                );
                continue;
            };
            let tab = Tab {
                table: t,
                name: format!("{key}.{}", id.value),
                loc: id.loc.clone(),
            };
            match key {
                "connection" if check_id(cx, &id, "connection") => {
                    if let Some(c) = read_connection(cx, &tab, id.clone()) {
                        insert(cx, &mut p.connections, id, c, |c| &c.id);
                    }
                }
                "source" if check_id(cx, &id, "source") => {
                    let s = read_source(cx, &tab, id.clone());
                    insert(cx, &mut p.sources, id, s, |s| &s.id);
                }
                "metric" | "kpi" if check_id(cx, &id, key) => {
                    let kind = if key == "kpi" {
                        MeasureKind::Kpi
                    } else {
                        MeasureKind::Metric
                    };
                    let m = read_measure_def(cx, &tab, id.clone(), kind, cal);
                    // KPIs and metrics share one namespace: formulas name both.
                    let other = if kind == MeasureKind::Kpi {
                        &p.metrics
                    } else {
                        &p.kpis
                    };
                    if let Some(first) = other.get(&id.value) {
                        cx.diags.push(
                            Diagnostic::error(
                                "duplicate-id",
                                format!("`{}` is defined both as a kpi and as a metric", id.value),
                            )
                            .at(&id.loc)
                            .related(&first.id.loc, "first defined here")
                            .hint("formulas name KPIs and metrics alike, so their ids must differ"),
                        );
                        continue;
                    }
                    let map = if kind == MeasureKind::Kpi {
                        &mut p.kpis
                    } else {
                        &mut p.metrics
                    };
                    insert(cx, map, id, m, |m| &m.id);
                }
                "contract" => {
                    let c = read_contract(cx, &tab, id.clone());
                    insert(cx, &mut p.contracts, id, c, |c| &c.id);
                }
                "incentive" => {
                    let i = read_incentive(cx, &tab, id.clone());
                    insert(cx, &mut p.incentives, id, i, |i| &i.id);
                }
                "reconcile" => {
                    let r = read_reconcile(cx, &tab, id.clone());
                    insert(cx, &mut p.reconciles, id, r, |r| &r.id);
                }
                "partnership" => {
                    let s = read_partnership(cx, &tab, id.clone());
                    insert(cx, &mut p.partnerships, id, s, |s| &s.id);
                }
                "scorecard" => {
                    let s = read_scorecard(cx, &tab, id.clone());
                    insert(cx, &mut p.scorecards, id, s, |s| &s.id);
                }
                "alert" if check_id(cx, &id, "alert") => {
                    if let Some(a) = read_alert(cx, &tab, id.clone()) {
                        insert(cx, &mut p.alerts, id, a, |a| &a.id);
                    }
                }
                "review" if check_id(cx, &id, "review") => {
                    if let Some(r) = read_review(cx, &tab, id.clone()) {
                        insert(cx, &mut p.reviews, id, r, |r| &r.id);
                    }
                }
                _ => {}
            }
        }
    }
}

pub(super) fn insert<T>(
    cx: &mut Cx<'_>,
    map: &mut IndexMap<String, T>,
    id: Located<String>,
    value: T,
    id_of: impl Fn(&T) -> &Located<String>,
) {
    if let Some(first) = map.get(&id.value) {
        let first_loc = id_of(first).loc.clone();
        let first_pos = cx.files.position(&first_loc);
        cx.diags.push(
            Diagnostic::error(
                "duplicate-id",
                format!("`{}` is defined twice (first at {first_pos})", id.value),
            )
            .at(&id.loc)
            .related(&first_loc, "first defined here")
            .hint("ids are unique across all files of a project: rename one of them"),
        );
        return;
    }
    map.insert(id.value.clone(), value);
}

/// Ids of sources, KPIs and metrics are SQL identifiers (views and formulas name them).
pub(super) fn check_id(cx: &mut Cx<'_>, id: &Located<String>, kind: &str) -> bool {
    let ok = id
        .value
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && id.value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ok {
        let fixed: String = id
            .value
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        cx.error("bad-id", format!("`{}` cannot be a {kind} id", id.value), &id.loc)
            .hint = Some(format!(
            "{kind} ids are used in SQL and formulas: use letters, digits and _, e.g. `{fixed}`"
        ));
    }
    ok
}
