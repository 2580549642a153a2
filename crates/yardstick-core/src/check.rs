//! Semantic checks that need no data: references, cycles, agreement of
//! entities, ordering of dated targets, and the SMART lint.
//!
//! Checks that need the data (files exist, columns exist, times parse) live
//! in the engine, which knows schemas.

use std::collections::{HashMap, HashSet};

use crate::calendar::Calendar;
use crate::diag::{Diagnostic, Diagnostics, Loc, Located, suggestion};
use crate::model::*;

/// Runs every static check on a loaded project.
pub fn check_project(p: &Project, _cal: &Calendar, d: &mut Diagnostics) {
    check_sources(p, d);
    for m in p.measures() {
        check_measure_refs(p, m, d);
        check_entities(p, m, d);
        check_targets(m, d);
        crate::domain::check_target_domains(m, d);
    }
    check_measure_cycles(p, d);
    check_contracts(p, d);
    check_incentives(p, d);
    check_partnerships(p, d);
    check_scorecards(p, d);
    check_alerts(p, d);
    check_reviews(p, d);
    crate::reconcile::check_reconciles(p, d);
    smart_lint(p, d);
}

fn unknown(
    d: &mut Diagnostics,
    what: &str,
    r: &Located<String>,
    candidates: Vec<&str>,
    extra: Option<String>,
) {
    let hint = suggestion(&r.value, candidates.iter().copied())
        .or(extra)
        .or_else(|| {
            if candidates.is_empty() {
                None
            } else {
                let mut list: Vec<&str> = candidates;
                list.truncate(12);
                Some(format!("known: {}", list.join(", ")))
            }
        });
    d.push(
        Diagnostic::error("unknown-reference", format!("unknown {what} `{}`", r.value))
            .at(&r.loc)
            .maybe_hint(hint),
    );
}

fn source_ids(p: &Project) -> Vec<&str> {
    p.sources.keys().map(String::as_str).collect()
}

fn measure_ids(p: &Project) -> Vec<&str> {
    p.kpis
        .keys()
        .chain(p.metrics.keys())
        .map(String::as_str)
        .collect()
}

fn check_sources(p: &Project, d: &mut Diagnostics) {
    for s in p.sources.values() {
        if let Some(Origin::Database { connection, .. }) = &s.origin
            && !p.connections.contains_key(&connection.value)
        {
            let ids: Vec<&str> = p.connections.keys().map(String::as_str).collect();
            unknown(d, "connection", connection, ids, None);
        }
        if let Some(Origin::View { reads, .. }) = &s.origin {
            for r in reads {
                if !p.sources.contains_key(&r.value) {
                    unknown(d, "source", r, source_ids(p), None);
                }
            }
        }
    }
    // Views reading each other in a circle.
    let edges: HashMap<&str, Vec<&Located<String>>> = p
        .sources
        .values()
        .map(|s| {
            let reads = match &s.origin {
                Some(Origin::View { reads, .. }) => reads.iter().collect(),
                _ => Vec::new(),
            };
            (s.id.as_str(), reads)
        })
        .collect();
    report_cycles(
        &p.sources.keys().map(String::as_str).collect::<Vec<_>>(),
        &edges,
        "view",
        d,
    );
}

fn check_measure_refs(p: &Project, m: &MeasureDef, d: &mut Diagnostics) {
    let Some(measure) = &m.measure else { return };
    if let Some(src) = measure.value.source() {
        match p.sources.get(&src.value) {
            None => unknown(d, "source", src, source_ids(p), None),
            Some(s) if matches!(s.shape, Shape::Reference) => d.push(
                Diagnostic::error(
                    "source-without-time",
                    format!("source `{}` has no time column, so its rows cannot be put into periods", src.value),
                )
                .at(&src.loc)
                .related(&s.id.loc, "defined here")
                .hint("give the source `time = \"column\"`, or read it through a view that joins it to an event source"),
            ),
            Some(_) => {}
        }
    }
    for input in measure.value.inputs() {
        if p.measure(&input.value).is_none() {
            let extra = p.sources.contains_key(&input.value).then(|| {
                format!(
                    "`{}` is a source; define a metric over it, e.g. [metric.{}_count] source = \"{}\", measure = \"count(*)\"",
                    input.value, input.value, input.value
                )
            });
            unknown(d, "KPI or metric", input, measure_ids(p), extra);
        } else if input.value == m.id.value {
            d.push(
                Diagnostic::error(
                    "formula-cycle",
                    format!("`{}` is computed from itself", m.id.value),
                )
                .at(&input.loc)
                    .hint("a value cannot depend on itself: compute it from a source or from other KPIs and metrics"),
            );
        }
    }
    if let Measure::Availability {
        down, exclude, units, ..
    } = &measure.value
    {
        for (role, r) in [("down", Some(down)), ("exclude", exclude.as_ref())] {
            let Some(r) = r else { continue };
            match p.sources.get(&r.value) {
                None => unknown(d, "source", r, source_ids(p), None),
                Some(s) if !matches!(s.shape, Shape::Interval { .. }) => d.push(
                    Diagnostic::error(
                        "not-an-interval-source",
                        format!(
                            "`{role}` needs an interval source; `{}` has no `start` and `end`",
                            r.value
                        ),
                    )
                    .at(&r.loc)
                    .related(&s.id.loc, "defined here")
                    .hint("define it with start = \"started_at\" and end = \"ended_at\""),
                ),
                Some(_) => {}
            }
        }
        if let Some(u) = units
            && !p.sources.contains_key(&u.value)
        {
            unknown(d, "source", u, source_ids(p), None);
        }
    }
}

/// Ratio, formula, growth and cumulative parts are evaluated at the same
/// entity as the KPI, so KPIs they read must be split the same way.
fn check_entities(p: &Project, m: &MeasureDef, d: &mut Diagnostics) {
    let Some(measure) = &m.measure else { return };
    let mine: Vec<&str> = m.for_each.iter().map(|c| c.as_str()).collect();
    for input in measure.value.inputs() {
        let Some(part) = p.measure(&input.value) else {
            continue;
        };
        if part.kind == MeasureKind::Metric && !part.for_each_set {
            continue; // a metric is evaluated at the entity of its user
        }
        let theirs: Vec<&str> = part.for_each.iter().map(|c| c.as_str()).collect();
        if theirs != mine {
            let show = |cols: &[&str]| {
                if cols.is_empty() {
                    "as a whole (no for_each)".to_string()
                } else {
                    format!("per {}", cols.join(", "))
                }
            };
            let hint = if mine.is_empty() {
                format!("add for_each = {:?} to `{}`", theirs.join(","), m.id.value)
            } else {
                format!(
                    "evaluate `{}` per {} as well, or use a metric",
                    part.id.value,
                    mine.join(", ")
                )
            };
            d.push(
                Diagnostic::error(
                    "entity-mismatch",
                    format!(
                        "`{}` is evaluated {}, but its part `{}` is evaluated {}",
                        m.id.value,
                        show(&mine),
                        part.id.value,
                        show(&theirs)
                    ),
                )
                .at(&input.loc)
                .related(&part.id.loc, "defined here")
                .hint(hint),
            );
        }
    }
}

fn check_targets(m: &MeasureDef, d: &mut Diagnostics) {
    if let (Some(w), false) = (&m.warning, m.target_declared) {
        d.push(
            Diagnostic::error("warning-without-target", "a `warning` threshold needs a `target`")
                .at(&w.loc)
                .hint("add target = \"…\"; the warning band lies between the warning and the target"),
        );
    }
    check_dated_order(&m.targets, d);
}

/// Effective-dated targets start on distinct days, earliest first.
fn check_dated_order(targets: &[crate::model::DatedTarget], d: &mut Diagnostics) {
    for pair in targets.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        if b.from.value == a.from.value {
            d.push(
                Diagnostic::error(
                    "duplicate-target-date",
                    format!("two targets start on {}", b.from.value),
                )
                .at(&b.from.loc)
                .related(&a.from.loc, "the other one"),
            );
        } else if b.from.value < a.from.value {
            d.push(
                Diagnostic::error(
                    "unordered-targets",
                    "`targets` must be ordered by `from`, earliest first",
                )
                .at(&b.from.loc)
                .related(&a.from.loc, "this one starts later")
                .hint("move this entry above the ones that start after it"),
            );
        }
    }
}

fn check_measure_cycles(p: &Project, d: &mut Diagnostics) {
    let edges: HashMap<&str, Vec<&Located<String>>> = p
        .measures()
        .map(|m| {
            let inputs = m
                .measure
                .as_ref()
                .map(|x| x.value.inputs())
                .unwrap_or_default()
                .into_iter()
                .filter(|r| r.value != m.id.value)
                .collect();
            (m.id.as_str(), inputs)
        })
        .collect();
    let order: Vec<&str> = p.measures().map(|m| m.id.as_str()).collect();
    report_cycles(&order, &edges, "formula", d);
}

/// Reports each cycle of a reference graph once, at the reference that
/// closes it, naming every member.
fn report_cycles(
    order: &[&str],
    edges: &HashMap<&str, Vec<&Located<String>>>,
    what: &str,
    d: &mut Diagnostics,
) {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Active,
        Done,
    }
    fn visit<'a>(
        node: &'a str,
        edges: &HashMap<&'a str, Vec<&'a Located<String>>>,
        marks: &mut HashMap<&'a str, Mark>,
        stack: &mut Vec<&'a str>,
        found: &mut Vec<(Vec<&'a str>, Loc)>,
    ) {
        marks.insert(node, Mark::Active);
        stack.push(node);
        for r in edges.get(node).into_iter().flatten() {
            let next = r.value.as_str();
            let Some((key, _)) = edges.get_key_value(next) else {
                continue;
            };
            match marks.get(next) {
                Some(Mark::Active) => {
                    let pos = stack.iter().position(|n| *n == next).unwrap_or(0);
                    let mut cycle: Vec<&str> = stack[pos..].to_vec();
                    cycle.push(next);
                    found.push((cycle, r.loc.clone()));
                }
                Some(Mark::Done) => {}
                None => visit(key, edges, marks, stack, found),
            }
        }
        stack.pop();
        marks.insert(node, Mark::Done);
    }
    let mut marks = HashMap::new();
    let mut found = Vec::new();
    for node in order {
        if !marks.contains_key(node) {
            visit(node, edges, &mut marks, &mut Vec::new(), &mut found);
        }
    }
    let mut seen: HashSet<Vec<&str>> = HashSet::new();
    for (cycle, loc) in found {
        let mut members: Vec<&str> = cycle[..cycle.len() - 1].to_vec();
        members.sort_unstable();
        if !seen.insert(members) {
            continue;
        }
        d.push(
            Diagnostic::error(
                if what == "formula" {
                    "formula-cycle"
                } else {
                    "view-cycle"
                },
                format!("{what} cycle: {}", cycle.join(" → ")),
            )
            .at(&loc)
            .label("this reference closes the cycle")
            .hint(
                "a value cannot depend on itself: break the cycle by computing one of them from its source",
            ),
        );
    }
}

fn check_contracts(p: &Project, d: &mut Diagnostics) {
    let kpi_ids: Vec<&str> = p.kpis.keys().map(String::as_str).collect();
    for c in p.contracts.values() {
        for clause in &c.clauses {
            let Some(k) = &clause.kpi else {
                d.push(
                    Diagnostic::error(
                        "missing-key",
                        format!("clause `{}` needs a `kpi`", clause.id.value),
                    )
                    .at(&clause.id.loc),
                );
                continue;
            };
            match p.kpis.get(&k.value) {
                None => {
                    let extra = p.metrics.contains_key(&k.value).then(|| {
                        format!(
                            "`{}` is a metric; clauses judge KPIs: make it [kpi.{}]",
                            k.value, k.value
                        )
                    });
                    unknown(d, "KPI", k, kpi_ids.clone(), extra);
                }
                Some(kpi) => {
                    if let Some(t) = &clause.target {
                        crate::domain::check_threshold(kpi, t, "clause target", d);
                    }
                    for t in &clause.targets {
                        crate::domain::check_threshold(kpi, &t.target, "clause target", d);
                    }
                    check_dated_order(&clause.targets, d);
                    if !clause.has_target() && !kpi.target_declared {
                        d.push(
                            Diagnostic::error(
                                "clause-without-target",
                                format!(
                                    "clause `{}` has no target, and KPI `{}` has none either",
                                    clause.id.value, k.value
                                ),
                            )
                            .at(&clause.id.loc)
                            .hint("add target = \">= 99.5%\" to the clause"),
                        );
                    }
                    if kpi.cadence.is_none() {
                        d.push(
                            Diagnostic::error(
                                "clause-without-period",
                                format!(
                                    "KPI `{}` has no `every`, so clause `{}` has no periods to judge",
                                    k.value, clause.id.value
                                ),
                            )
                            .at(&k.loc)
                            .related(&kpi.id.loc, "KPI defined here")
                            .hint("add every = \"month\" to the KPI"),
                        );
                    }
                }
            }
            let credits =
                !clause.credits.is_empty() || clause.remedies.iter().any(|r| matches!(r, Remedy::Credit(_)));
            if credits && c.fee.is_none() {
                d.push(
                    Diagnostic::error(
                        "missing-fee",
                        format!(
                            "clause `{}` grants credits, but contract `{}` has no fee to take them from",
                            clause.id.value, c.id.value
                        ),
                    )
                    .at(&clause.id.loc)
                    .related(&c.id.loc, "contract defined here")
                    .hint("add fee = { amount = 12000, every = \"month\" } to the contract"),
                );
            }
        }
        if c.fee.is_some() && p.settings.currency.is_none() {
            d.push(
                Diagnostic::warning(
                    "no-currency",
                    format!(
                        "contract `{}` has a fee, but [project] sets no currency",
                        c.id.value
                    ),
                )
                .at(&c.id.loc)
                .hint("add currency = \"EUR\" (or another ISO 4217 code) to [project]"),
            );
        }
    }
}

fn check_incentives(p: &Project, d: &mut Diagnostics) {
    let kpi_ids: Vec<&str> = p.kpis.keys().map(String::as_str).collect();
    for i in p.incentives.values() {
        let Some(k) = &i.kpi else { continue };
        match p.kpis.get(&k.value) {
            None => unknown(d, "KPI", k, kpi_ids.clone(), None),
            Some(kpi) if !kpi.target_declared => d.push(
                Diagnostic::error(
                    "incentive-without-target",
                    format!(
                        "incentive `{}` pays by attainment, but KPI `{}` has no target",
                        i.id.value, k.value
                    ),
                )
                .at(&k.loc)
                .related(&kpi.id.loc, "KPI defined here"),
            ),
            Some(_) => {}
        }
    }
}

fn check_partnerships(p: &Project, d: &mut Diagnostics) {
    let kpi_ids: Vec<&str> = p.kpis.keys().map(String::as_str).collect();
    for s in p.partnerships.values() {
        for k in &s.kpis {
            if !p.kpis.contains_key(&k.value) {
                unknown(d, "KPI", k, kpi_ids.clone(), None);
            }
        }
    }
}

fn check_alerts(p: &Project, d: &mut Diagnostics) {
    let kpi_ids: Vec<&str> = p.kpis.keys().map(String::as_str).collect();
    let source_ids: Vec<&str> = p.sources.keys().map(String::as_str).collect();
    let contract_ids: Vec<&str> = p.contracts.keys().map(String::as_str).collect();
    let reconcile_ids: Vec<&str> = p.reconciles.keys().map(String::as_str).collect();
    for a in p.alerts.values() {
        if let Some(r) = &a.reconcile
            && !p.reconciles.contains_key(&r.value)
        {
            unknown(d, "reconciliation", r, reconcile_ids.clone(), None);
        }
        if let Some(k) = &a.kpi
            && !p.kpis.contains_key(&k.value)
        {
            unknown(d, "KPI", k, kpi_ids.clone(), None);
        }
        if let Some(s) = &a.source {
            match p.sources.get(&s.value) {
                None => unknown(d, "source", s, source_ids.clone(), None),
                Some(src) if src.freshness.is_none() => d.push(
                    Diagnostic::error(
                        "alert-without-freshness",
                        format!("source `{}` has no `freshness`, so it is never stale", s.value),
                    )
                    .at(&s.loc)
                    .related(&src.id.loc, "source defined here")
                    .hint("add freshness = \"1d\" (or the age rows may reach) to the source"),
                ),
                Some(_) => {}
            }
        }
        if let (Some(c), Some(cl)) = (&a.contract, &a.clause) {
            match p.contracts.get(&c.value) {
                None => unknown(d, "contract", c, contract_ids.clone(), None),
                Some(contract) if !contract.clauses.iter().any(|x| x.id.value == cl.value) => {
                    let ids: Vec<&str> = contract.clauses.iter().map(|x| x.id.value.as_str()).collect();
                    unknown(d, "clause", cl, ids, None);
                }
                Some(_) => {}
            }
        }
        if a.when.value == AlertWhen::BurnRate
            && let Some(k) = a.kpi.as_ref().and_then(|k| p.kpis.get(&k.value))
            && !matches!(
                k.measure.as_ref().map(|m| &m.value),
                Some(Measure::Availability { .. } | Measure::Share { .. })
            )
        {
            d.push(
                Diagnostic::error(
                    "alert-when",
                    format!(
                        "burn rates need an availability or share KPI; `{}` is not one",
                        k.id.value
                    ),
                )
                .at(&a.when.loc),
            );
        }
    }
}

/// A scheduled review covers a scope that exists, for parties that are
/// shared something (a pack for a party that may see nothing would be
/// empty).
fn check_reviews(p: &Project, d: &mut Diagnostics) {
    for r in p.reviews.values() {
        if let Some(s) = &r.scope
            && let Err(e) = review::Scope::parse(p, &s.value)
        {
            d.push(Diagnostic::error("unknown-reference", e).at(&s.loc));
        }
        for party in &r.parties {
            if crate::visibility::visible_to(p, &party.value).kpis.is_empty() {
                d.push(
                    Diagnostic::error(
                        "unknown-reference",
                        format!("party `{}` is shared no KPI, so its pack would be empty", party.value),
                    )
                    .at(&party.loc)
                    .hint("a party sees the contracts naming it as provider or client, the partnerships listing it and the KPIs listing it in `parties`"),
                );
            }
        }
    }
}

fn check_scorecards(p: &Project, d: &mut Diagnostics) {
    let mut candidates: Vec<&str> = p.kpis.keys().map(String::as_str).collect();
    candidates.extend(p.scorecards.keys().map(String::as_str));
    for s in p.scorecards.values() {
        for (k, _) in &s.weights {
            if let Some(kpi) = p.kpis.get(&k.value) {
                if !kpi.target_declared {
                    d.push(
                        Diagnostic::warning(
                            "weight-without-target",
                            format!("KPI `{}` has no target, so it never adds to the score", k.value),
                        )
                        .at(&k.loc),
                    );
                }
            } else if !p.scorecards.contains_key(&k.value) {
                unknown(d, "KPI or scorecard", k, candidates.clone(), None);
            }
        }
    }
    let edges: HashMap<&str, Vec<&Located<String>>> = p
        .scorecards
        .values()
        .map(|s| {
            let refs = s
                .weights
                .iter()
                .map(|(k, _)| k)
                .filter(|k| p.scorecards.contains_key(&k.value))
                .collect();
            (s.id.as_str(), refs)
        })
        .collect();
    let order: Vec<&str> = p.scorecards.keys().map(String::as_str).collect();
    report_cycles(&order, &edges, "scorecard", d);
}

/// Specific, Measurable, Achievable (a target), Relevant, Time-bound: a KPI
/// should say why it exists, who owns it, what it aims at and over what time.
fn smart_lint(p: &Project, d: &mut Diagnostics) {
    for k in p.kpis.values() {
        let mut missing = Vec::new();
        if k.objective.is_none() {
            missing.push(("objective", "objective = \"why this KPI exists\""));
        }
        if !k.target_declared {
            missing.push(("target", "target = \">= 15\""));
        }
        if k.cadence.is_none() {
            missing.push(("period", "every = \"month\" or window = \"28d\""));
        }
        if k.owner.is_none() {
            missing.push(("owner", "owner = \"team or person\""));
        }
        if missing.is_empty() {
            continue;
        }
        let names: Vec<&str> = missing.iter().map(|(n, _)| *n).collect();
        let adds: Vec<&str> = missing.iter().map(|(_, a)| *a).collect();
        d.push(
            Diagnostic::warning(
                "not-smart",
                format!("KPI `{}` is not SMART: no {}", k.id.value, names.join(", no ")),
            )
            .at(&k.id.loc)
            .hint(format!("add {}", adds.join("; "))),
        );
    }
}
