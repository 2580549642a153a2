//! `[kpi.ID]` and `[metric.ID]`: the measure forms, targets and periods.

use super::*;

pub(super) const KPI_KEYS: [&str; 24] = [
    "name",
    "parties",
    "objective",
    "description",
    "unit",
    "tags",
    "owner",
    "level",
    "every",
    "window",
    "for_each",
    "dimensions",
    "target",
    "warning",
    "targets",
    "baseline",
    "benchmark",
    "fill",
    "source",
    "filter",
    // measure forms are appended at use
    "measure",
    "share",
    "percentile",
    "ratio",
];

pub(super) fn kpi_keys() -> Vec<&'static str> {
    let mut keys: Vec<&str> = KPI_KEYS.to_vec();
    for f in FORM_KEYS {
        if !keys.contains(&f) {
            keys.push(f);
        }
    }
    keys
}

pub(super) fn read_measure_def(
    cx: &mut Cx<'_>,
    tab: &Tab<'_>,
    id: Located<String>,
    kind: MeasureKind,
    cal: &Calendar,
) -> MeasureDef {
    let keys = kpi_keys();
    tab.known_keys(cx, &keys);
    if kind == MeasureKind::Metric {
        for key in ["target", "warning", "targets", "every", "window"] {
            if tab.has(key) {
                let loc = tab.key_loc(cx, key);
                cx.error(
                    "metric-has-target",
                    format!("a metric has no `{key}` of its own: it is evaluated at the period of the KPI that uses it"),
                    &loc,
                )
                .hint = Some(format!("make it a KPI: write [kpi.{}] instead of [metric.{}]", id.value, id.value));
            }
        }
    }
    let measure = read_measure(cx, tab, &id, kind);
    let every = tab.grain(cx, "every");
    let window = tab.parsed(
        cx,
        "window",
        "bad-window",
        "a number of days such as \"7d\", \"28d\" or \"4w\"",
        |s| {
            Duration::parse(s)
                .and_then(|d| d.whole_days())
                .ok_or_else(|| format!("`{s}` is not a whole number of days"))
        },
    );
    let cadence = match (every, window) {
        (Some(e), None) => Some(Located::new(Cadence::Every(e.value), e.loc)),
        (None, Some(w)) => Some(Located::new(Cadence::Window { days: w.value }, w.loc)),
        (Some(e), Some(w)) => {
            cx.diags.push(
                Diagnostic::error(
                    "every-and-window",
                    "a KPI has `every` (calendar periods) or `window` (rolling), not both",
                )
                .at(&w.loc)
                .related(&e.loc, "`every` set here")
                .hint("remove one of them"),
            );
            Some(Located::new(Cadence::Every(e.value), e.loc))
        }
        (None, None) => None,
    };
    let target_parser = Threshold::parse;
    let target = tab.parsed(cx, "target", "bad-target", Target::FORMS, target_parser);
    let warning = tab.parsed(cx, "warning", "bad-target", Target::FORMS, target_parser);
    let targets = dated_targets(cx, tab);
    let baseline = match tab.entry("baseline").map(|(_, v)| v.get_ref()) {
        None => None,
        Some(DeValue::Integer(_) | DeValue::Float(_)) => {
            tab.number(cx, "baseline").map(|n| Baseline::Value(n.value))
        }
        Some(DeValue::Table(_)) => tab.table(cx, "baseline").and_then(|b| {
            b.known_keys(cx, &["period"]);
            let label = b.string(cx, "period")?;
            if cal.parse_label(&label.value).is_none() {
                cx.error(
                    "bad-period",
                    format!("`{}` is not a period label", label.value),
                    &label.loc,
                )
                .hint = Some(
                    "write a label such as \"2025\", \"2025-H2\", \"2025-Q4\", \"2025-06\" or \"FY2026\""
                        .into(),
                );
                return None;
            }
            Some(Baseline::Period(label))
        }),
        Some(_) => {
            tab.wrong_type(cx, "baseline", "a number or { period = \"2025\" }", None);
            None
        }
    };
    let benchmark = match tab.entry("benchmark").map(|(_, v)| v.get_ref()) {
        None => None,
        Some(DeValue::Integer(_) | DeValue::Float(_)) => tab.number(cx, "benchmark").map(|n| Benchmark {
            value: n.value,
            source: None,
        }),
        Some(DeValue::Table(_)) => tab.table(cx, "benchmark").and_then(|b| {
            b.known_keys(cx, &["value", "source"]);
            let value = b.share(cx, "value");
            if !b.has("value") {
                cx.error("missing-key", "a benchmark needs a `value`", &b.loc);
            }
            Some(Benchmark {
                value: value?.value,
                source: b.text(cx, "source"),
            })
        }),
        Some(_) => {
            tab.wrong_type(cx, "benchmark", "a number or { value = …, source = \"…\" }", None);
            None
        }
    };
    let level = tab.choice(
        cx,
        "level",
        &[
            ("individual", Level::Individual),
            ("team", Level::Team),
            ("company", Level::Company),
            ("partnership", Level::Partnership),
        ],
    );
    MeasureDef {
        kind,
        name: tab.text(cx, "name"),
        objective: tab.text(cx, "objective"),
        description: tab.text(cx, "description"),
        unit: tab.text(cx, "unit"),
        tags: tab.string_list(cx, "tags").into_iter().map(|t| t.value).collect(),
        parties: tab
            .string_list(cx, "parties")
            .into_iter()
            .map(|t| t.value)
            .collect(),
        owner: tab.text(cx, "owner"),
        level: level.map(|l| l.value),
        measure,
        cadence,
        for_each_set: tab.has("for_each"),
        for_each: tab.string_list(cx, "for_each"),
        dimensions: tab.string_list(cx, "dimensions"),
        target,
        warning,
        targets,
        target_declared: tab.has("target") || tab.has("targets"),
        baseline,
        benchmark,
        fill: tab.number(cx, "fill").map(|n| n.value),
        id,
    }
}

pub(super) fn read_measure(
    cx: &mut Cx<'_>,
    tab: &Tab<'_>,
    id: &Located<String>,
    kind: MeasureKind,
) -> Option<Located<Measure>> {
    // In the order written, so the second form written is the one reported.
    let mut forms: Vec<&str> = FORM_KEYS.iter().copied().filter(|k| tab.has(k)).collect();
    forms.sort_by_key(|k| tab.entry(k).map_or(0, |(key, _)| key.span().start));
    let Some(&form) = forms.first() else {
        cx.error(
            "missing-measure",
            format!("{} `{}` has no measure", kind.table(), id.value),
            &id.loc,
        )
        .hint = Some(
            "add one of: measure = \"sum(amount)\" (with source), share, percentile, ratio, formula, growth, cumulative, availability"
                .into(),
        );
        return None;
    };
    if forms.len() > 1 {
        let first = tab.key_loc(cx, forms[0]);
        for other in &forms[1..] {
            let loc = tab.key_loc(cx, other);
            cx.diags.push(
                Diagnostic::error(
                    "multiple-measures",
                    format!(
                        "{} `{}` has two measure forms: `{}` and `{other}`",
                        kind.table(),
                        id.value,
                        forms[0]
                    ),
                )
                .at(&loc)
                .related(&first, "first measure form here")
                .hint(
                    "a KPI or metric has exactly one measure form; define the other as its own [metric.ID]",
                ),
            );
        }
        return None;
    }
    let form_loc = tab.key_loc(cx, form);
    let source = tab.id_ref(cx, "source");
    let filter = if tab.has("filter") {
        tab.sql(cx, "filter")
    } else {
        None
    };
    let source_based = matches!(form, "measure" | "share" | "percentile");
    if !source_based {
        for key in ["source", "filter"] {
            if tab.has(key) {
                let loc = tab.key_loc(cx, key);
                cx.error(
                    "unused-key",
                    format!("`{key}` is not used by a {form} measure"),
                    &loc,
                )
                .hint = Some(format!(
                    "{form} is computed from other KPIs, metrics or sources named inside it"
                ));
            }
        }
    } else if source.is_none() && !tab.has("source") {
        cx.error(
            "missing-key",
            format!("a `{form}` measure needs a `source`"),
            &form_loc,
        )
        .hint = Some("add: source = \"orders\"".into());
    }
    let measure = match form {
        "measure" => {
            let m = tab.sql(cx, "measure")?;
            Measure::Aggregate {
                source: source?,
                measure: m,
                filter,
            }
        }
        "share" => {
            let c = tab.sql(cx, "share")?;
            Measure::Share {
                source: source?,
                condition: c,
                filter,
            }
        }
        "percentile" => {
            let t = tab.table(cx, "percentile")?;
            t.known_keys(cx, &["of", "p"]);
            let p = t.number(cx, "p");
            if !t.has("p") || !t.has("of") {
                cx.error("missing-key", "a percentile needs `of` and `p`", &t.loc)
                    .hint = Some("e.g. percentile = { of = \"resolution_hours\", p = 90 }".into());
            }
            if let Some(p) = &p
                && !(0.0..=100.0).contains(&p.value)
            {
                cx.error("bad-value", format!("p = {} is outside 0–100", p.value), &p.loc)
                    .hint = Some("p is a percentage: p = 90 is the 90th percentile".into());
                return None;
            }
            let of = t.sql(cx, "of")?;
            Measure::Percentile {
                source: source?,
                of,
                p: p?.value,
                filter,
            }
        }
        "ratio" => {
            let t = tab.table(cx, "ratio")?;
            t.known_keys(cx, &["numerator", "denominator"]);
            if !t.has("numerator") || !t.has("denominator") {
                cx.error(
                    "missing-key",
                    "a ratio needs `numerator` and `denominator`",
                    &t.loc,
                )
                .hint =
                    Some("e.g. ratio = { numerator = \"won_deals\", denominator = \"all_deals\" }".into());
            }
            Measure::Ratio {
                numerator: t.id_ref(cx, "numerator")?,
                denominator: t.id_ref(cx, "denominator")?,
            }
        }
        "formula" => {
            let s = tab.string(cx, "formula")?;
            let raw = cx.raw(&s.loc).to_string();
            match Formula::parse(&s.value, &s.loc, &raw) {
                Ok(f) => Measure::Formula(f),
                Err(e) => {
                    cx.sql_error(e);
                    return None;
                }
            }
        }
        "growth" => {
            let t = tab.table(cx, "growth")?;
            t.known_keys(cx, &["of", "vs"]);
            let vs = if t.has("vs") {
                t.choice(
                    cx,
                    "vs",
                    &[
                        ("previous", GrowthRef::Previous),
                        ("year_ago", GrowthRef::YearAgo),
                    ],
                )?
                .value
            } else {
                GrowthRef::Previous
            };
            if !t.has("of") {
                cx.error(
                    "missing-key",
                    "growth needs `of`: the KPI or metric that grows",
                    &t.loc,
                );
            }
            Measure::Growth {
                of: t.id_ref(cx, "of")?,
                vs,
            }
        }
        "cumulative" => {
            let t = tab.table(cx, "cumulative")?;
            t.known_keys(cx, &["of", "reset"]);
            let reset = if t.has("reset") {
                t.choice(
                    cx,
                    "reset",
                    &[
                        ("quarter", Reset::Quarter),
                        ("year", Reset::Year),
                        ("fiscal_year", Reset::FiscalYear),
                        ("never", Reset::Never),
                    ],
                )?
                .value
            } else {
                Reset::Never
            };
            if !t.has("of") {
                cx.error(
                    "missing-key",
                    "cumulative needs `of`: the KPI or metric to add up",
                    &t.loc,
                );
            }
            Measure::Cumulative {
                of: t.id_ref(cx, "of")?,
                reset,
            }
        }
        "availability" => {
            let t = tab.table(cx, "availability")?;
            t.known_keys(cx, &["down", "exclude", "per", "units"]);
            if !t.has("down") {
                cx.error(
                    "missing-key",
                    "availability needs `down`: the interval source of downtime",
                    &t.loc,
                );
            }
            let per = t.string(cx, "per");
            let units = t.id_ref(cx, "units");
            if per.is_some() != units.is_some() {
                let loc = per
                    .as_ref()
                    .or(units.as_ref())
                    .map_or(t.loc.clone(), |l| l.loc.clone());
                cx.error("missing-key", "fleet availability needs both `per` (the unit column) and `units` (the source listing units)", &loc);
            }
            Measure::Availability {
                down: t.id_ref(cx, "down")?,
                exclude: t.id_ref(cx, "exclude"),
                per,
                units,
            }
        }
        _ => return None,
    };
    Some(Located::new(measure, form_loc))
}

/// An effective-dated `targets` list (of a KPI or a clause), with a located
/// error where `target` is written beside it.
pub(super) fn dated_targets(cx: &mut Cx<'_>, tab: &Tab<'_>) -> Vec<DatedTarget> {
    let target_parser = Threshold::parse;
    let mut targets = Vec::new();
    if tab.has("targets") {
        if tab.has("target") {
            let loc = tab.key_loc(cx, "targets");
            cx.error(
                "conflicting-keys",
                "use `target` or the effective-dated `targets`, not both",
                &loc,
            )
            .hint = Some("move the plain target into `targets` with the date it started".into());
        }
        for entry in tab.table_list(cx, "targets") {
            entry.known_keys(cx, &["from", "target", "warning", "note"]);
            let from = entry.date(cx, "from");
            let t = entry.parsed(cx, "target", "bad-target", Target::FORMS, target_parser);
            if !entry.has("target") {
                cx.error(
                    "missing-key",
                    "each entry of `targets` needs a `target`",
                    &entry.loc,
                );
            }
            if !entry.has("from") {
                cx.error(
                    "missing-key",
                    "each entry of `targets` needs `from` (the first period it applies to)",
                    &entry.loc,
                )
                .hint = Some("e.g. { from = \"2026-07\", target = \">= 99.9%\" }".into());
            }
            let w = entry.parsed(cx, "warning", "bad-target", Target::FORMS, target_parser);
            if let (Some(from), Some(t)) = (from, t) {
                targets.push(DatedTarget {
                    from,
                    target: t,
                    warning: w,
                    note: entry.text(cx, "note"),
                });
            }
        }
    }
    targets
}
