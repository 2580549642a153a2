//! The KPI appendix of an agreement, and the KPI catalogue of a project:
//! every KPI's objective, its exact definition in words (what is counted,
//! filters, how time is cut, the time zone, exclusions), its target and
//! warning (with amendments), each clause's consequences, the data's owner
//! and source — built from the typed definitions only, so the document and
//! the evaluation cannot disagree. Rendering (Markdown, HTML, PDF) is the
//! documents crate's; signatures are added by the workspace.

use serde::Serialize;

use crate::format;
use crate::model::{
    BreachRule, Cadence, GrowthRef, Level, Measure, MeasureDef, Origin, Project, Remedy, Reset, Shape,
    Threshold,
};
use crate::terms::{Subject, reachable, sources_of, terms};

/// An agreement's KPI appendix.
#[derive(Debug, Clone, Serialize)]
pub struct Appendix {
    pub id: String,
    /// `contract`, `incentive` or `partnership`.
    pub kind: &'static str,
    pub title: String,
    pub description: Option<String>,
    pub parties: Vec<String>,
    /// What else the agreement says: fee, term, payout curve, review cycle.
    pub facts: Vec<Fact>,
    /// How periods are cut: zone, week start, fiscal year.
    pub calendar: String,
    /// The clauses (contracts): their wording and consequences.
    pub clauses: Vec<ClauseText>,
    /// The KPIs it judges by, then the metrics those read.
    pub kpis: Vec<KpiText>,
    /// The sources those read, with their owners.
    pub sources: Vec<SourceText>,
    /// The fingerprint of the terms this appendix describes.
    pub fingerprint: String,
}

/// A labelled fact (`Fee`: `€12,000 per month`).
#[derive(Debug, Clone, Serialize)]
pub struct Fact {
    pub label: String,
    pub value: String,
}

/// A clause: the contract's wording and what decides it.
#[derive(Debug, Clone, Serialize)]
pub struct ClauseText {
    pub id: String,
    pub text: Option<String>,
    pub kpi: Option<String>,
    /// The target in words, with the date each amendment applies from.
    pub target: Vec<String>,
    /// When a miss is a breach that has consequences.
    pub breach: String,
    /// Credits and actions, in words.
    pub consequences: Vec<String>,
}

/// A KPI (or metric) of the appendix or catalogue.
#[derive(Debug, Clone, Serialize)]
pub struct KpiText {
    pub id: String,
    /// `kpi` or `metric`.
    pub kind: &'static str,
    pub name: String,
    pub objective: Option<String>,
    pub description: Option<String>,
    pub owner: Option<String>,
    pub level: Option<&'static str>,
    pub unit: Option<String>,
    /// The definition: what is counted and how.
    pub definition: String,
    /// How time is cut (and per what entity).
    pub period: String,
    /// Target and warning, and every effective-dated amendment.
    pub target: Vec<String>,
    pub sources: Vec<String>,
}

/// A source: where its rows come from and who owns them.
#[derive(Debug, Clone, Serialize)]
pub struct SourceText {
    pub id: String,
    pub description: Option<String>,
    pub owner: Option<String>,
    /// Where the rows come from and what time they carry.
    pub origin: String,
}

/// The appendix of agreement `id`, or `None` when there is none.
pub fn appendix(project: &Project, id: &str) -> Option<Appendix> {
    let t = terms(project, id)?;
    let currency = project.settings.currency.as_deref();
    let mut facts = Vec::new();
    let mut clauses = Vec::new();
    let (title, description, roots): (String, Option<String>, Vec<String>) = match t.subject {
        Subject::Contract => {
            let c = project.contracts.get(id)?;
            if let Some(f) = &c.fee {
                facts.push(fact(
                    "Fee",
                    format!(
                        "{} per {}",
                        money(f.value.amount, currency),
                        f.value.every.name().replace('_', " ")
                    ),
                ));
            }
            let term = match (c.start, c.end) {
                (Some(s), Some(e)) => Some(format!("from {s} until {e} (exclusive)")),
                (Some(s), None) => Some(format!("from {s}, open-ended")),
                (None, Some(e)) => Some(format!("until {e} (exclusive)")),
                (None, None) => None,
            };
            if let Some(term) = term {
                facts.push(fact("Term", term));
            }
            for cl in &c.clauses {
                let k = cl.kpi.as_ref().and_then(|k| project.kpis.get(&k.value));
                clauses.push(ClauseText {
                    id: cl.id.value.clone(),
                    text: cl.text.clone(),
                    kpi: cl.kpi.as_ref().map(|k| k.value.clone()),
                    target: clause_target(cl, k, currency),
                    breach: breach(cl.breach_when, k),
                    consequences: consequences(cl, c.fee.is_some()),
                });
            }
            let roots = c
                .clauses
                .iter()
                .filter_map(|x| x.kpi.as_ref().map(|k| k.value.clone()))
                .collect();
            (
                c.name.clone().unwrap_or_else(|| id.to_string()),
                c.description.clone(),
                roots,
            )
        }
        Subject::Incentive => {
            let i = project.incentives.get(id)?;
            if let Some(o) = &i.owner {
                facts.push(fact("Paid to", o.clone()));
            }
            let curve: Vec<String> = i
                .payout
                .iter()
                .map(|p| {
                    format!(
                        "{} at {} attainment",
                        money(p.pay, currency),
                        format::percent(p.at)
                    )
                })
                .collect();
            if !curve.is_empty() {
                facts.push(fact(
                    "Payout",
                    format!(
                        "{}; linear between points, nothing below the first, capped at the last",
                        curve.join(", ")
                    ),
                ));
            }
            (
                i.name.clone().unwrap_or_else(|| id.to_string()),
                i.description.clone(),
                i.kpi.iter().map(|k| k.value.clone()).collect(),
            )
        }
        Subject::Partnership => {
            let p = project.partnerships.get(id)?;
            facts.push(fact("Kind", p.kind.name().replace('_', " ")));
            if let Some(g) = p.review_every {
                facts.push(fact("Reviewed every", g.name().replace('_', " ")));
            }
            (
                p.name.clone().unwrap_or_else(|| id.to_string()),
                p.description.clone(),
                p.kpis.iter().map(|k| k.value.clone()).collect(),
            )
        }
    };
    let measures = reachable(project, &roots);
    let mut kpis: Vec<KpiText> = roots
        .iter()
        .filter_map(|r| project.kpis.get(r))
        .map(|k| kpi_text(project, k))
        .collect();
    kpis.dedup_by(|a, b| a.id == b.id);
    for m in &measures {
        if !roots.contains(m)
            && let Some(d) = project.measure(m)
        {
            kpis.push(kpi_text(project, d));
        }
    }
    let sources = sources_of(project, &measures)
        .iter()
        .filter_map(|s| project.sources.get(s))
        .map(source_text)
        .collect();
    Some(Appendix {
        id: id.to_string(),
        kind: t.subject.name(),
        title,
        description,
        parties: t.parties,
        facts,
        calendar: calendar_words(project),
        clauses,
        kpis,
        sources,
        fingerprint: t.fingerprint,
    })
}

/// The KPI catalogue: every KPI of the project, grouped by level (company,
/// team, individual, partnership, then none) and owner, then the metrics
/// they are built from (by id).
pub fn catalogue(project: &Project) -> Vec<KpiText> {
    let rank = |l: Option<&'static str>| match l {
        Some("company") => 0,
        Some("team") => 1,
        Some("individual") => 2,
        Some("partnership") => 3,
        _ => 4,
    };
    let mut all: Vec<KpiText> = project.kpis.values().map(|k| kpi_text(project, k)).collect();
    all.sort_by(|a, b| (rank(a.level), &a.owner, &a.id).cmp(&(rank(b.level), &b.owner, &b.id)));
    let mut metrics: Vec<KpiText> = project.metrics.values().map(|m| kpi_text(project, m)).collect();
    metrics.sort_by(|a, b| a.id.cmp(&b.id));
    all.extend(metrics);
    all
}

fn fact(label: &str, value: String) -> Fact {
    Fact {
        label: label.to_string(),
        value,
    }
}

fn money(v: f64, currency: Option<&str>) -> String {
    format::value(v, currency, currency)
}

/// How the project cuts time, in a sentence.
pub fn calendar_words(p: &Project) -> String {
    let s = &p.settings;
    let month = chrono::Month::try_from(u8::try_from(s.fiscal_year_start).unwrap_or(1))
        .map(|m| m.name().to_string())
        .unwrap_or_else(|_| s.fiscal_year_start.to_string());
    format!(
        "Periods are calendar periods in the {} time zone (daylight saving time included): a day runs from local midnight to midnight, weeks start on {}, and the fiscal year starts in {month}.",
        s.timezone.name(),
        weekday(s.week_start)
    )
}

fn weekday(d: chrono::Weekday) -> &'static str {
    use chrono::Weekday::*;
    match d {
        Mon => "Monday",
        Tue => "Tuesday",
        Wed => "Wednesday",
        Thu => "Thursday",
        Fri => "Friday",
        Sat => "Saturday",
        Sun => "Sunday",
    }
}

/// A threshold in words, written like the KPI's values: `at least 99.5%`.
pub fn threshold_words(t: &Threshold, unit: Option<&str>, currency: Option<&str>) -> String {
    use crate::model::Target;
    let f = |x: f64| format::value(x, unit, currency);
    match t.target {
        Target::AtLeast(x) => format!("at least {}", f(x)),
        Target::Above(x) => format!("more than {}", f(x)),
        Target::AtMost(x) => format!("at most {}", f(x)),
        Target::Below(x) => format!("less than {}", f(x)),
        Target::Between(lo, hi) => format!("between {} and {}", f(lo), f(hi)),
    }
}

fn targets(k: &MeasureDef, currency: Option<&str>) -> Vec<String> {
    let unit = k.display_unit();
    let w = |t: &Threshold| threshold_words(t, unit, currency);
    let mut out = Vec::new();
    if let Some(t) = &k.target {
        let warning = k
            .warning
            .as_ref()
            .map(|x| format!("; a value that misses it but is {} is a warning", w(&x.value)))
            .unwrap_or_default();
        out.push(format!("{}{warning}.", capitalised(&w(&t.value))));
    }
    for d in &k.targets {
        let warning = d
            .warning
            .as_ref()
            .or(k.warning.as_ref())
            .map(|x| format!(" (warning below {})", w(&x.value)))
            .unwrap_or_default();
        let note = d.note.as_ref().map(|n| format!(" — {n}")).unwrap_or_default();
        out.push(format!(
            "From {}: target {}{warning}{note}.",
            d.from.value,
            w(&d.target.value)
        ));
    }
    if out.is_empty() {
        out.push("No target: the KPI is reported, not judged.".into());
    }
    out
}

fn clause_target(cl: &crate::model::Clause, k: Option<&MeasureDef>, currency: Option<&str>) -> Vec<String> {
    let unit = k.and_then(|k| k.display_unit());
    let w = |t: &Threshold| threshold_words(t, unit, currency);
    if let Some(t) = &cl.target {
        return vec![format!("{} in every period.", capitalised(&w(&t.value)))];
    }
    if !cl.targets.is_empty() {
        return cl
            .targets
            .iter()
            .map(|d| {
                let note = d.note.as_ref().map(|n| format!(" — {n}")).unwrap_or_default();
                format!("From {}: {}{note}.", d.from.value, w(&d.target.value))
            })
            .collect();
    }
    match k {
        Some(k) => targets(k, currency)
            .into_iter()
            .map(|t| format!("The KPI's own: {t}"))
            .collect(),
        None => vec!["No target.".into()],
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

fn period_word(k: Option<&MeasureDef>) -> String {
    match k.and_then(|k| k.cadence.as_ref()).map(|c| c.value) {
        Some(Cadence::Every(g)) => g.name().replace('_', " "),
        Some(Cadence::Window { days }) => format!("{days}-day window"),
        None => "period".into(),
    }
}

fn breach(rule: BreachRule, k: Option<&MeasureDef>) -> String {
    let p = period_word(k);
    match rule {
        BreachRule::Any => format!("Any {p} that misses the target is a breach, and has consequences."),
        BreachRule::Consecutive(n) => format!(
            "A {p} that misses the target is a breach; consequences apply in a {p} that completes a run of {n} breached {p}s in a row, and in each further breached {p} of that run."
        ),
        BreachRule::OfLast { n, m } => format!(
            "A {p} that misses the target is a breach; consequences apply in a {p} when at least {n} of the last {m} {p}s (that one included) were breached."
        ),
    }
}

fn consequences(cl: &crate::model::Clause, has_fee: bool) -> Vec<String> {
    let of_fee = if has_fee {
        " of that period's fee"
    } else {
        " of the fee"
    };
    let mut out: Vec<String> = cl
        .remedies
        .iter()
        .map(|r| match r {
            Remedy::Credit(c) => format!("A service credit of {}{of_fee}.", format::percent(*c)),
            Remedy::Action(a) => format!(
                "The client may {}.",
                a.replace('_', " ")
                    .replace("contract review", "initiate a contract review")
            ),
        })
        .collect();
    for t in cl.credits.iter().rev() {
        out.push(format!(
            "A service credit of {}{of_fee} when the value is below {}.",
            format::percent(t.credit),
            format::percent(t.below)
        ));
    }
    if cl.credits.len() > 1 {
        out.push("Only the worst tier that applies is credited.".into());
    }
    if let Some(cap) = cl.credit_cap {
        out.push(format!("Credits are capped at {}{of_fee}.", format::percent(cap)));
    }
    if out.is_empty() {
        out.push("None stated: a breach is reported.".into());
    }
    out
}

fn level(l: Option<Level>) -> Option<&'static str> {
    l.map(|l| match l {
        Level::Individual => "individual",
        Level::Team => "team",
        Level::Company => "company",
        Level::Partnership => "partnership",
    })
}

fn kpi_text(p: &Project, k: &MeasureDef) -> KpiText {
    let currency = p.settings.currency.as_deref();
    let period = match k.cadence.as_ref().map(|c| c.value) {
        Some(Cadence::Every(g)) => format!(
            "Each calendar {} ({} time)",
            g.name().replace('_', " "),
            p.settings.timezone.name()
        ),
        Some(Cadence::Window { days }) => format!(
            "A rolling {days}-day window, evaluated at the end of each day ({} time)",
            p.settings.timezone.name()
        ),
        None => "At the period of the KPI that uses it".into(),
    };
    let per = if k.for_each.is_empty() {
        String::new()
    } else {
        format!(
            ", separately for each {}",
            k.for_each
                .iter()
                .map(|c| format!("`{}`", c.value))
                .collect::<Vec<_>>()
                .join(" and ")
        )
    };
    let empty = k
        .fill
        .map(|f| format!(" A period without data counts as {}.", format::number(f)))
        .unwrap_or_else(|| " A period without data has no value (it is neither met nor missed).".into());
    let mut sources: Vec<String> = k
        .measure
        .iter()
        .filter_map(|m| m.value.source().map(|s| s.value.clone()))
        .collect();
    if let Some(Measure::Availability {
        down, exclude, units, ..
    }) = k.measure.as_ref().map(|m| &m.value)
    {
        sources.extend(
            [Some(down), exclude.as_ref(), units.as_ref()]
                .into_iter()
                .flatten()
                .map(|s| s.value.clone()),
        );
    }
    KpiText {
        id: k.id.value.clone(),
        kind: k.kind.table(),
        name: k.display_name().to_string(),
        objective: k.objective.clone(),
        description: k.description.clone(),
        owner: k.owner.clone(),
        level: level(k.level),
        unit: k.unit.clone(),
        definition: k
            .measure
            .as_ref()
            .map_or_else(|| "Not defined.".to_string(), |m| definition(&m.value)),
        period: format!("{period}{per}.{empty}"),
        target: if k.kind.table() == "kpi" {
            targets(k, currency)
        } else {
            Vec::new()
        },
        sources,
    }
}

/// A measure in words: what is counted, from which rows, with which filter.
pub fn definition(m: &Measure) -> String {
    let filter = |f: &Option<crate::sql::SqlFragment>| {
        f.as_ref()
            .map(|f| format!(", counting only rows where {}", f.text))
            .unwrap_or_default()
    };
    match m {
        Measure::Aggregate {
            source,
            measure,
            filter: f,
        } => format!(
            "{} over the rows of `{}` whose time falls in the period{}.",
            measure.text,
            source.value,
            filter(f)
        ),
        Measure::Share {
            source,
            condition,
            filter: f,
        } => format!(
            "The share of the period's rows of `{}`{} for which {} holds (rows meeting it ÷ all rows).",
            source.value,
            filter(f),
            condition.text
        ),
        Measure::Percentile {
            source,
            of,
            p,
            filter: f,
        } => format!(
            "The {}th percentile of {} over the period's rows of `{}`{}.",
            format::trimmed(*p, 2),
            of.text,
            source.value,
            filter(f)
        ),
        Measure::Ratio {
            numerator,
            denominator,
        } => format!(
            "`{}` divided by `{}`, both over the same period (no value when `{}` is zero).",
            numerator.value, denominator.value, denominator.value
        ),
        Measure::Formula(f) => format!(
            "The formula {} over the same period's values of the KPIs and metrics it names.",
            f.text
        ),
        Measure::Growth { of, vs } => format!(
            "The growth of `{}` against {}: (this period − that one) ÷ that one.",
            of.value,
            match vs {
                GrowthRef::Previous => "the previous period",
                GrowthRef::YearAgo => "the same period a year earlier",
            }
        ),
        Measure::Cumulative { of, reset } => format!(
            "The running total of `{}` {}.",
            of.value,
            match reset {
                Reset::Quarter => "since the start of the quarter",
                Reset::Year => "since the start of the year",
                Reset::FiscalYear => "since the start of the fiscal year",
                Reset::Never => "since the first period",
            }
        ),
        Measure::Availability {
            down,
            exclude,
            per,
            units,
        } => {
            let mut s = format!(
                "The share of the period's time not covered by an interval of `{}` (downtime)",
                down.value
            );
            if let Some(x) = exclude {
                s += &format!(
                    "; time covered by an interval of `{}` (e.g. scheduled maintenance) is excluded: it counts neither as up nor as down",
                    x.value
                );
            }
            match (per, units) {
                (Some(p), Some(u)) => {
                    s += &format!(
                        "; per `{}`, over the units listed in `{}`, each unit's time counting alike (1 − total downtime ÷ total scheduled time)",
                        p.value, u.value
                    )
                }
                (Some(p), None) => s += &format!("; per `{}`, each unit's time counting alike", p.value),
                _ => {}
            }
            s + ". Overlapping downtime counts once."
        }
    }
}

fn source_text(s: &crate::model::Source) -> SourceText {
    let what = match &s.shape {
        Shape::Event { time } => format!("events timed by `{}`", time.value),
        Shape::Interval { start, end } => format!(
            "intervals from `{}` to `{}` (an empty end is still open)",
            start.value, end.value
        ),
        Shape::Reference => "a reference table without time".into(),
    };
    let from = match &s.origin {
        Some(Origin::Files { path, .. }) => format!("files `{}`", path.value),
        Some(Origin::Store) => match &s.submitted_by {
            Some(p) => format!("rows pushed by {p} into Yardstick's store"),
            None => "rows pushed into Yardstick's store".into(),
        },
        Some(Origin::View { reads, .. }) => format!(
            "a query over {}",
            reads
                .iter()
                .map(|r| format!("`{}`", r.value))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Some(Origin::Database {
            connection,
            relation: crate::model::Relation::Table(t),
        }) => format!("table `{}` of the database `{}`", t.value, connection.value),
        None => "not stated".into(),
    };
    SourceText {
        id: s.id.value.clone(),
        description: s.description.clone(),
        owner: s.owner.clone(),
        origin: format!("{} from {from}", capitalised(&what)),
    }
}
