//! Signed terms: everything that decides the results of a contract, an
//! incentive plan or a partnership, in one canonical form, and its
//! fingerprint.
//!
//! The terms are built from the typed model, never from the TOML text, so
//! they do not move with formatting, key order, comments or how the
//! definitions are split over files. They hold what changes a result: the
//! calendar (zone, week start, fiscal year), the agreement's own rules
//! (fee, dates, parties, clauses with targets, breach rules, remedies and
//! credits; payout curves; the partnership's KPIs), every KPI and metric
//! it reads — through ratios, formulas, growth and cumulative values —
//! with its measure (SQL expressions printed by the parser, so spacing
//! and case of keywords do not count), period, entity, targets and fill,
//! and every source those read (origin, shape, pinned column types).
//! Names, objectives, descriptions, owners, units, tags and dimensions
//! do not decide a result and are left out.
//!
//! The fingerprint is `sha256:` and the SHA-256 of the terms' canonical
//! JSON (compact, object keys sorted, whatever order a build of
//! `serde_json` keeps), in hex.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::model::{
    Baseline, BreachRule, Cadence, Measure, MeasureDef, Origin, Project, Remedy, Shape, Target, Threshold,
};
use crate::sql::{ArithOp, FormulaExpr, SqlFragment};

/// What is agreed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    Contract,
    Incentive,
    Partnership,
}

impl Subject {
    pub fn name(self) -> &'static str {
        match self {
            Subject::Contract => "contract",
            Subject::Incentive => "incentive",
            Subject::Partnership => "partnership",
        }
    }
}

/// The terms of one agreement and their fingerprint.
#[derive(Debug, Clone, Serialize)]
pub struct Terms {
    pub id: String,
    pub subject: Subject,
    /// The parties that sign: a contract's provider and client, a
    /// partnership's partners, an incentive plan's owner.
    pub parties: Vec<String>,
    pub fingerprint: String,
    pub terms: Value,
}

/// The ids of every agreement, contracts first.
pub fn agreements(project: &Project) -> Vec<(Subject, String)> {
    project
        .contracts
        .keys()
        .map(|k| (Subject::Contract, k.clone()))
        .chain(project.incentives.keys().map(|k| (Subject::Incentive, k.clone())))
        .chain(
            project
                .partnerships
                .keys()
                .map(|k| (Subject::Partnership, k.clone())),
        )
        .collect()
}

/// The terms of the contract, incentive plan or partnership `id`.
pub fn terms(project: &Project, id: &str) -> Option<Terms> {
    let (subject, rules, parties, kpis): (Subject, Value, Vec<String>, Vec<String>) = if let Some(c) =
        project.contracts.get(id)
    {
        let mut clauses: Vec<&crate::model::Clause> = c.clauses.iter().collect();
        clauses.sort_by(|a, b| a.id.value.cmp(&b.id.value));
        let rules = json!({
            "fee": c.fee.as_ref().map(|f| json!({"amount": f.value.amount, "every": f.value.every.name()})),
            "start": c.start.map(|d| d.to_string()),
            "end": c.end.map(|d| d.to_string()),
            "clauses": clauses.iter().map(|x| with_dated(json!({
                "id": x.id.value,
                "kpi": x.kpi.as_ref().map(|k| &k.value),
                "target": x.target.as_ref().map(|t| threshold(&t.value)),
                "breach_when": breach(x.breach_when),
                "remedies": x.remedies.iter().map(|r| match r {
                    Remedy::Credit(c) => json!({"credit": c}),
                    Remedy::Action(a) => json!({"action": a}),
                }).collect::<Vec<_>>(),
                "credits": x.credits.iter().map(|t| json!({"below": t.below, "credit": t.credit})).collect::<Vec<_>>(),
                "credit_cap": x.credit_cap,
            }), &x.targets)).collect::<Vec<_>>(),
        });
        let parties = c.provider.iter().chain(&c.client).cloned().collect();
        let kpis = c
            .clauses
            .iter()
            .filter_map(|x| x.kpi.as_ref().map(|k| k.value.clone()))
            .collect();
        (Subject::Contract, rules, parties, kpis)
    } else if let Some(i) = project.incentives.get(id) {
        let rules = json!({
            "kpi": i.kpi.as_ref().map(|k| &k.value),
            "payout": i.payout.iter().map(|p| json!({"at": p.at, "pay": p.pay})).collect::<Vec<_>>(),
        });
        let kpis = i.kpi.iter().map(|k| k.value.clone()).collect();
        (Subject::Incentive, rules, i.owner.iter().cloned().collect(), kpis)
    } else if let Some(p) = project.partnerships.get(id) {
        let mut kpis: Vec<String> = p.kpis.iter().map(|k| k.value.clone()).collect();
        kpis.sort();
        let rules = json!({
            "kind": p.kind.name(),
            "partners": p.partners,
            "kpis": kpis,
            "review_every": p.review_every.map(|g| g.name()),
        });
        (Subject::Partnership, rules, p.partners.clone(), kpis)
    } else {
        return None;
    };
    let measures = reachable(project, &kpis);
    let sources = sources_of(project, &measures);
    let cal = &project.settings;
    let terms = json!({
        "subject": subject.name(),
        "id": id,
        "parties": parties,
        "calendar": {
            "timezone": cal.timezone.name(),
            "week_start": cal.week_start.to_string(),
            "fiscal_year_start": cal.fiscal_year_start,
        },
        "rules": rules,
        "measures": measures
            .iter()
            .filter_map(|m| project.measure(m).map(|d| (m.clone(), measure(d))))
            .collect::<serde_json::Map<String, Value>>(),
        "sources": sources
            .iter()
            .filter_map(|s| project.sources.get(s).map(|d| (s.clone(), source(d))))
            .collect::<serde_json::Map<String, Value>>(),
    });
    Some(Terms {
        id: id.to_string(),
        subject,
        parties,
        fingerprint: fingerprint(&terms),
        terms,
    })
}

/// `sha256:` and the hex SHA-256 of the value's canonical JSON.
pub fn fingerprint(terms: &Value) -> String {
    let text = canonical_json(terms);
    let digest = Sha256::digest(text.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// Compact JSON with every object's keys sorted: what the fingerprint
/// hashes, and what a signature keeps.
pub fn canonical_json(v: &Value) -> String {
    let mut out = String::new();
    canonical(v, &mut out);
    out
}

/// One difference between two versions of terms: where (a path such as
/// `rules.clauses[uptime].breach_when`) and the value before and after
/// (`None`: absent).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub path: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// What changed from `before` to `after`, leaf by leaf, in path order.
/// Lists of objects with an `id` are matched by id, others by position.
pub fn diff(before: &Value, after: &Value) -> Vec<Change> {
    let (mut a, mut b) = (
        std::collections::BTreeMap::new(),
        std::collections::BTreeMap::new(),
    );
    leaves(before, String::new(), &mut a);
    leaves(after, String::new(), &mut b);
    let paths: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    paths
        .into_iter()
        .filter(|p| a.get(*p) != b.get(*p))
        .map(|p| Change {
            path: p.clone(),
            before: a.get(p).cloned(),
            after: b.get(p).cloned(),
        })
        .collect()
}

fn leaves(v: &Value, path: String, out: &mut std::collections::BTreeMap<String, Value>) {
    let join = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                leaves(x, join(k), out);
            }
        }
        Value::Array(xs) if xs.iter().any(Value::is_object) => {
            for (i, x) in xs.iter().enumerate() {
                let key = x
                    .get("id")
                    .and_then(Value::as_str)
                    .map_or_else(|| i.to_string(), str::to_string);
                leaves(x, format!("{path}[{key}]"), out);
            }
        }
        Value::Null => {}
        other => {
            out.insert(path, other.clone());
        }
    }
}

/// Compact JSON with every object's keys sorted.
fn canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                canonical(&m[k], out);
            }
            out.push('}');
        }
        Value::Array(xs) => {
            out.push('[');
            for (i, x) in xs.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(x, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// Every KPI and metric the named ones read, themselves included, sorted.
pub(crate) fn reachable(project: &Project, roots: &[String]) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<String> = roots.to_vec();
    while let Some(id) = stack.pop() {
        if !seen.insert(id.clone()) {
            continue;
        }
        if let Some(m) = project.measure(&id).and_then(|m| m.measure.as_ref()) {
            stack.extend(m.value.inputs().into_iter().map(|i| i.value.clone()));
        }
    }
    seen
}

/// Every source the measures read, with the sources views read, sorted.
pub(crate) fn sources_of(project: &Project, measures: &BTreeSet<String>) -> BTreeSet<String> {
    let mut stack: Vec<String> = Vec::new();
    for m in measures {
        match project
            .measure(m)
            .and_then(|m| m.measure.as_ref())
            .map(|m| &m.value)
        {
            Some(
                Measure::Aggregate { source, .. }
                | Measure::Share { source, .. }
                | Measure::Percentile { source, .. },
            ) => stack.push(source.value.clone()),
            Some(Measure::Availability {
                down, exclude, units, ..
            }) => stack.extend(
                std::iter::once(down)
                    .chain(exclude)
                    .chain(units)
                    .map(|s| s.value.clone()),
            ),
            _ => {}
        }
    }
    let mut seen = BTreeSet::new();
    while let Some(id) = stack.pop() {
        if !seen.insert(id.clone()) {
            continue;
        }
        if let Some(Origin::View { reads, .. }) = project.sources.get(&id).and_then(|s| s.origin.as_ref()) {
            stack.extend(reads.iter().map(|r| r.value.clone()));
        }
    }
    seen
}

/// A breach rule as written: `any`, `2 consecutive`, `3 of last 6`.
fn breach(r: BreachRule) -> String {
    match r {
        BreachRule::Any => "any".to_string(),
        BreachRule::Consecutive(n) => format!("{n} consecutive"),
        BreachRule::OfLast { n, m } => format!("{n} of last {m}"),
    }
}

/// A clause's terms with its effective-dated `targets`, written only
/// where it has some (so terms signed before clauses could carry dated
/// targets keep their fingerprint).
fn with_dated(mut clause: Value, targets: &[crate::model::DatedTarget]) -> Value {
    if !targets.is_empty() {
        clause["targets"] = dated(targets);
    }
    clause
}

/// Effective-dated targets: from when, which target and warning.
fn dated(targets: &[crate::model::DatedTarget]) -> Value {
    targets
        .iter()
        .map(|t| {
            json!({
                "from": t.from.value.to_string(),
                "target": threshold(&t.target.value),
                "warning": t.warning.as_ref().map(|w| threshold(&w.value)),
            })
        })
        .collect()
}

/// A target in one spelling: `>= 0.995`, `between 10 and 20`.
fn target(t: &Target) -> Value {
    json!(match *t {
        Target::AtLeast(x) => format!(">= {x}"),
        Target::Above(x) => format!("> {x}"),
        Target::AtMost(x) => format!("<= {x}"),
        Target::Below(x) => format!("< {x}"),
        Target::Between(lo, hi) => format!("between {lo} and {hi}"),
    })
}

fn threshold(t: &Threshold) -> Value {
    target(&t.target)
}

/// An SQL expression as the parser prints it.
fn sql(f: &SqlFragment) -> String {
    f.expr.to_string()
}

fn formula(e: &FormulaExpr) -> String {
    match e {
        FormulaExpr::Number(n) => format!("{n}"),
        FormulaExpr::Ref(r) => r.value.clone(),
        FormulaExpr::Neg(x) => format!("(-{})", formula(x)),
        FormulaExpr::Binary(a, op, b) => {
            let op = match op {
                ArithOp::Add => "+",
                ArithOp::Sub => "-",
                ArithOp::Mul => "*",
                ArithOp::Div => "/",
            };
            format!("({} {op} {})", formula(a), formula(b))
        }
    }
}

fn measure(m: &MeasureDef) -> Value {
    let form = m.measure.as_ref().map(|x| match &x.value {
        Measure::Aggregate {
            source,
            measure,
            filter,
        } => json!({"form": "measure", "source": source.value, "measure": sql(measure), "filter": filter.as_ref().map(sql)}),
        Measure::Share {
            source,
            condition,
            filter,
        } => json!({"form": "share", "source": source.value, "condition": sql(condition), "filter": filter.as_ref().map(sql)}),
        Measure::Percentile { source, of, p, filter } => {
            json!({"form": "percentile", "source": source.value, "of": sql(of), "p": p, "filter": filter.as_ref().map(sql)})
        }
        Measure::Ratio {
            numerator,
            denominator,
        } => json!({"form": "ratio", "numerator": numerator.value, "denominator": denominator.value}),
        Measure::Formula(f) => json!({"form": "formula", "formula": formula(&f.expr)}),
        Measure::Growth { of, vs } => json!({"form": "growth", "of": of.value, "vs": format!("{vs:?}")}),
        Measure::Cumulative { of, reset } => {
            json!({"form": "cumulative", "of": of.value, "reset": format!("{reset:?}")})
        }
        Measure::Availability {
            down,
            exclude,
            per,
            units,
        } => json!({
            "form": "availability",
            "down": down.value,
            "exclude": exclude.as_ref().map(|x| &x.value),
            "per": per.as_ref().map(|x| &x.value),
            "units": units.as_ref().map(|x| &x.value),
        }),
    });
    json!({
        "kind": m.kind.table(),
        "measure": form,
        "every": m.cadence.as_ref().map(|c| match c.value {
            Cadence::Every(g) => g.name().to_string(),
            Cadence::Window { days } => format!("{days}d"),
        }),
        "for_each": m.for_each.iter().map(|c| &c.value).collect::<Vec<_>>(),
        "target": m.target.as_ref().map(|t| threshold(&t.value)),
        "warning": m.warning.as_ref().map(|t| threshold(&t.value)),
        "targets": dated(&m.targets),
        "fill": m.fill,
        "baseline": m.baseline.as_ref().map(|b| match b {
            Baseline::Value(v) => json!(v),
            Baseline::Period(p) => json!(p.value),
        }),
    })
}

fn source(s: &crate::model::Source) -> Value {
    let origin = match &s.origin {
        Some(Origin::Files { path, format }) => json!({"files": path.value, "format": format!("{format:?}")}),
        Some(Origin::Store) => json!("store"),
        Some(Origin::View { sql, .. }) => json!({"view": view_sql(&sql.value)}),
        Some(Origin::Database {
            connection,
            relation: crate::model::Relation::Table(t),
        }) => json!({"connection": connection.value, "table": t.value}),
        None => Value::Null,
    };
    let shape = match &s.shape {
        Shape::Event { time } => json!({"time": time.value}),
        Shape::Interval { start, end } => json!({"start": start.value, "end": end.value}),
        Shape::Reference => json!("reference"),
    };
    let mut columns: Vec<(String, String)> = s
        .columns
        .iter()
        .map(|(c, t)| (c.value.clone(), format!("{t:?}")))
        .collect();
    columns.sort();
    json!({"origin": origin, "shape": shape, "columns": columns})
}

/// A view's query as the parser prints it (whitespace, comments and the
/// case of keywords do not count), or its words when it does not parse.
fn view_sql(text: &str) -> String {
    use sqlparser::dialect::GenericDialect;
    match sqlparser::parser::Parser::parse_sql(&GenericDialect {}, text) {
        Ok(statements) => statements
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; "),
        Err(_) => text.split_whitespace().collect::<Vec<_>>().join(" "),
    }
}
