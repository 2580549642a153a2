//! Renegotiation: a party proposes a new target for a contract's clause
//! (or a partnership's or incentive plan's KPI) from an effective period,
//! with a reason; another party accepts or rejects it with a comment. An
//! accepted proposal becomes an effective-dated `targets` entry written
//! into the definitions ([`amendment`]): periods before it keep the target
//! they were judged by, and the amended terms have a new fingerprint that
//! every party signs again.
//!
//! Who may act for whom is the front end's rule; here the proposing party
//! and the deciding party must be parties to the agreement, and not the
//! same one.

use std::path::PathBuf;

use chrono::NaiveDate;
use serde::Serialize;
use yardstick_core::calendar::parse_start_date;
use yardstick_core::model::{Cadence, DatedTarget, Threshold};
use yardstick_core::terms::{Subject, terms};
use yardstick_core::{Project, SourceMap};
use yardstick_store::{Decided, Decision, NewProposal, Proposal, Store, StoreError};

/// What a proposal amends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Amends {
    /// A contract's clause, by id.
    Clause(String),
    /// A KPI of a partnership or incentive plan.
    Kpi(String),
}

impl Amends {
    fn kind(&self) -> &'static str {
        match self {
            Amends::Clause(_) => "clause",
            Amends::Kpi(_) => "kpi",
        }
    }

    fn id(&self) -> &str {
        match self {
            Amends::Clause(x) | Amends::Kpi(x) => x,
        }
    }
}

/// A proposed new target.
#[derive(Debug, Clone)]
pub struct Proposed {
    pub amends: Amends,
    /// The threshold as written (`>= 99.9%`).
    pub target: String,
    /// A KPI's new warning threshold beside it (clauses have none).
    pub warning: Option<String>,
    /// The first period it applies to: `2026-07` or a day.
    pub effective: String,
    pub reason: String,
}

/// Why a proposal or decision was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum ProposalError {
    #[error("no contract, incentive or partnership `{0}`")]
    UnknownAgreement(String),
    #[error("`{party}` is not a party to `{id}`; its parties: {parties}")]
    NotAParty {
        id: String,
        party: String,
        parties: String,
    },
    #[error("{0}")]
    Subject(String),
    #[error("{why}")]
    BadTarget { text: String, why: String },
    #[error("{0}")]
    Effective(String),
    #[error("no proposal #{0}")]
    UnknownProposal(i64),
    #[error("proposal #{id} was proposed by {party}: another party accepts or rejects it")]
    OwnProposal { id: i64, party: String },
    #[error("proposal #{} was already {} by {}", .0.id, .0.status, .0.decided_party.as_deref().unwrap_or("?"))]
    AlreadyDecided(Box<Proposal>),
    #[error("a reason is required: why should the target change (a `why` finding, a persistent miss…)?")]
    NoReason,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The parties of `id`, or why it has none to act for.
fn party_of(project: &Project, id: &str, party: &str) -> Result<Subject, ProposalError> {
    let t = terms(project, id).ok_or_else(|| ProposalError::UnknownAgreement(id.to_string()))?;
    if !t.parties.iter().any(|p| p == party) {
        return Err(ProposalError::NotAParty {
            id: id.to_string(),
            party: party.to_string(),
            parties: crate::agreements::party_list(&t.parties),
        });
    }
    Ok(t.subject)
}

/// The KPI a proposal's subject is judged by, checked against the
/// agreement.
fn kpi_of<'p>(project: &'p Project, id: &str, amends: &Amends) -> Result<&'p str, ProposalError> {
    let missing = |what: String| ProposalError::Subject(what);
    match amends {
        Amends::Clause(cl) => {
            let Some(c) = project.contracts.get(id) else {
                return Err(missing(format!(
                    "`{id}` is not a contract: name the KPI whose target changes (--kpi), not a clause"
                )));
            };
            let clause = c.clauses.iter().find(|x| &x.id.value == cl).ok_or_else(|| {
                missing(format!(
                    "contract `{id}` has no clause `{cl}`; its clauses: {}",
                    c.clauses
                        .iter()
                        .map(|x| x.id.value.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
            clause
                .kpi
                .as_ref()
                .map(|k| k.value.as_str())
                .ok_or_else(|| missing(format!("clause `{cl}` judges no KPI")))
        }
        Amends::Kpi(k) => {
            let used: Vec<&str> = if let Some(i) = project.incentives.get(id) {
                i.kpi.iter().map(|k| k.value.as_str()).collect()
            } else if let Some(p) = project.partnerships.get(id) {
                p.kpis.iter().map(|k| k.value.as_str()).collect()
            } else {
                return Err(missing(
                    "a contract's targets are its clauses': name the clause (--clause) whose target changes"
                        .into(),
                ));
            };
            used.iter().copied().find(|u| u == k).ok_or_else(|| {
                missing(format!(
                    "`{id}` does not judge KPI `{k}`; it judges: {}",
                    used.join(", ")
                ))
            })
        }
    }
}

/// The effective day: the first day of one of the KPI's periods, not
/// before the period `today` falls in (an amendment never re-judges a
/// period already judged).
fn effective_day(
    project: &Project,
    kpi: &str,
    text: &str,
    today: NaiveDate,
) -> Result<NaiveDate, ProposalError> {
    let bad = |m: String| ProposalError::Effective(m);
    let day = parse_start_date(text).ok_or_else(|| {
        bad(format!(
            "`{text}` is not a period start: write a month such as 2026-07 or a day"
        ))
    })?;
    let Some(Cadence::Every(grain)) = project
        .kpis
        .get(kpi)
        .and_then(|k| k.cadence.as_ref())
        .map(|c| c.value)
    else {
        return Err(bad(format!("`{kpi}` has no calendar period to amend from")));
    };
    let cal = project.settings.calendar();
    let period = cal.period_of_day(grain, day);
    if period.first != day {
        return Err(bad(format!(
            "{day} is not the first day of a {}: `{kpi}` is judged per {}, so an amendment starts on {}",
            grain.name(),
            grain.name(),
            cal.period_of_day(grain, period.end).first
        )));
    }
    let current = cal.period_of_day(grain, today);
    if day < current.first {
        return Err(bad(format!(
            "{day} is in the past: periods already judged keep their target; the earliest an amendment can start is {}",
            current.first
        )));
    }
    Ok(day)
}

/// Records `party`'s proposal on agreement `id`, as of local day `today`.
pub async fn propose(
    project: &Project,
    store: &Store,
    id: &str,
    p: &Proposed,
    party: &str,
    actor: &str,
    today: NaiveDate,
) -> Result<Proposal, ProposalError> {
    party_of(project, id, party)?;
    let kpi = kpi_of(project, id, &p.amends)?;
    let threshold = Threshold::parse(&p.target).map_err(|why| ProposalError::BadTarget {
        text: p.target.clone(),
        why,
    })?;
    let warning = match &p.warning {
        Some(_) if matches!(p.amends, Amends::Clause(_)) => {
            return Err(ProposalError::Subject(
                "a clause judges by its target alone: a warning threshold belongs to a KPI (--kpi)".into(),
            ));
        }
        Some(w) => {
            Some(Threshold::parse(w).map_err(|why| ProposalError::BadTarget { text: w.clone(), why })?)
        }
        None => None,
    };
    let day = effective_day(project, kpi, &p.effective, today)?;
    if p.reason.trim().is_empty() {
        return Err(ProposalError::NoReason);
    }
    let t = terms(project, id).ok_or_else(|| ProposalError::UnknownAgreement(id.to_string()))?;
    Ok(store
        .propose(&NewProposal {
            agreement: id,
            fingerprint: &t.fingerprint,
            subject_kind: p.amends.kind(),
            subject: p.amends.id(),
            field: "target",
            value: &threshold.text,
            warning: warning.as_ref().map(|w| w.text.as_str()),
            effective: &day.to_string(),
            reason: p.reason.trim(),
            party,
            actor,
        })
        .await?)
}

/// Records `party`'s acceptance or rejection of proposal `n`.
pub async fn decide(
    project: &Project,
    store: &Store,
    n: i64,
    accept: bool,
    party: &str,
    actor: &str,
    comment: &str,
) -> Result<Proposal, ProposalError> {
    let p = store
        .proposal(n)
        .await?
        .ok_or(ProposalError::UnknownProposal(n))?;
    if p.status != "open" {
        return Err(ProposalError::AlreadyDecided(Box::new(p)));
    }
    party_of(project, &p.agreement, party)?;
    if p.party == party {
        return Err(ProposalError::OwnProposal {
            id: n,
            party: p.party,
        });
    }
    let d = Decision {
        accept,
        party,
        actor,
        comment,
    };
    match store.decide(n, &d).await? {
        Decided::Decided(p) => Ok(p),
        Decided::Unknown => Err(ProposalError::UnknownProposal(n)),
        Decided::AlreadyDecided(p) => Err(ProposalError::AlreadyDecided(Box::new(p))),
    }
}

/// An accepted proposal as a change of one definitions file.
#[derive(Debug, Clone, Serialize)]
pub struct Amendment {
    /// The file, as the project names it (relative to its folder).
    pub file: PathBuf,
    /// The whole file after the change.
    #[serde(skip)]
    pub after: String,
    /// A unified diff of the change, for review or `git apply`.
    pub patch: String,
}

/// Why an accepted proposal cannot be written into the definitions.
#[derive(Debug, thiserror::Error)]
pub enum AmendError {
    #[error("proposal #{0} is not accepted")]
    NotAccepted(i64),
    #[error("{0}")]
    Unwritable(String),
}

/// The first local day of KPI `kpi`'s earliest evaluated period: where a
/// plain target was already in force (a partnership or incentive plan has
/// no start date of its own).
pub fn earliest(evaluation: &yardstick_engine::eval::Evaluation, kpi: &str) -> Option<NaiveDate> {
    evaluation
        .evaluations
        .iter()
        .filter(|r| r.kpi == kpi)
        .map(|r| r.start.date_naive())
        .min()
}

/// The KPI a proposal's target judges by (a clause's KPI, or the KPI).
pub fn kpi_of_proposal(project: &Project, p: &Proposal) -> Option<String> {
    match p.subject_kind.as_str() {
        "clause" => project
            .contracts
            .get(&p.agreement)?
            .clauses
            .iter()
            .find(|x| x.id.value == p.subject)?
            .kpi
            .as_ref()
            .map(|k| k.value.clone()),
        _ => Some(p.subject.clone()),
    }
}

/// The definitions change an accepted proposal makes: the clause's (or
/// KPI's) target becomes an effective-dated `targets` list — the target in
/// force until now from the contract's start (or, without one, from
/// `since`: the first day of the KPI's earliest period, [`earliest`]), the
/// new one from the proposal's effective day, with a note naming the
/// proposal.
pub fn amendment(
    project: &Project,
    files: &SourceMap,
    p: &Proposal,
    since: Option<NaiveDate>,
) -> Result<Amendment, AmendError> {
    if p.status != "accepted" {
        return Err(AmendError::NotAccepted(p.id));
    }
    let un = |m: String| AmendError::Unwritable(m);
    let decided = p
        .decided_at
        .and_then(chrono::DateTime::from_timestamp_micros)
        .map(|d| d.date_naive().to_string())
        .unwrap_or_default();
    let note = format!(
        "proposal #{} by {}, accepted by {} on {decided}: {}",
        p.id,
        p.party,
        p.decided_party.as_deref().unwrap_or("?"),
        p.reason
    );
    let effective =
        parse_start_date(&p.effective).ok_or_else(|| un(format!("bad effective day {}", p.effective)))?;
    // Where the subject is defined, what it judges by now, and since when.
    let (loc, plain, dated, origin, path): (_, _, &[DatedTarget], _, Vec<String>) =
        match p.subject_kind.as_str() {
            "clause" => {
                let c = project
                    .contracts
                    .get(&p.agreement)
                    .ok_or_else(|| un(format!("no contract `{}`", p.agreement)))?;
                let cl = c
                    .clauses
                    .iter()
                    .find(|x| x.id.value == p.subject)
                    .ok_or_else(|| {
                        un(format!(
                            "contract `{}` has no clause `{}` any more",
                            p.agreement, p.subject
                        ))
                    })?;
                let (plain, dated) = if cl.has_target() {
                    (cl.target.as_ref().map(|t| t.value.text.clone()), &cl.targets[..])
                } else {
                    let k = cl.kpi.as_ref().and_then(|k| project.kpis.get(&k.value));
                    (
                        k.and_then(|k| k.target.as_ref()).map(|t| t.value.text.clone()),
                        k.map_or(&[][..], |k| &k.targets[..]),
                    )
                };
                (
                    cl.id.loc.clone(),
                    plain,
                    dated,
                    c.start,
                    vec!["contract".into(), p.agreement.clone()],
                )
            }
            _ => {
                let k = project
                    .kpis
                    .get(&p.subject)
                    .ok_or_else(|| un(format!("no KPI `{}` any more", p.subject)))?;
                let plain = k.target.as_ref().map(|t| t.value.text.clone());
                (
                    k.id.loc.clone(),
                    plain,
                    &k.targets[..],
                    None,
                    vec!["kpi".into(), p.subject.clone()],
                )
            }
        };
    let mut entries: Vec<(NaiveDate, String, Option<String>, Option<String>)> = Vec::new();
    if let Some(text) = plain {
        let from = origin.or(since).ok_or_else(|| {
            un(format!(
                "`{}` has a plain target and no data or start date to carry it from: write it as \
                 targets = [{{ from = \"…\", target = \"{text}\" }}] with the day it began, then accept again",
                p.subject
            ))
        })?;
        entries.push((from.min(effective), text, None, None));
    }
    for d in dated {
        entries.push((
            d.from.value,
            d.target.value.text.clone(),
            d.warning.as_ref().map(|w| w.value.text.clone()),
            d.note.clone(),
        ));
    }
    entries.retain(|e| e.0 != effective);
    entries.push((effective, p.value.clone(), p.warning.clone(), Some(note)));
    entries.sort_by_key(|e| e.0);

    let file = files.get(loc.file);
    let mut doc: toml_edit::DocumentMut = file
        .text
        .parse()
        .map_err(|e| un(format!("{} does not parse as TOML: {e}", file.path)))?;
    let mut list = toml_edit::Array::new();
    for (from, target, warning, note) in &entries {
        let mut e = toml_edit::InlineTable::new();
        e.insert("from", from.format("%Y-%m-%d").to_string().into());
        e.insert("target", target.as_str().into());
        if let Some(w) = warning {
            e.insert("warning", w.as_str().into());
        }
        if let Some(n) = note {
            e.insert("note", n.as_str().into());
        }
        let mut v = toml_edit::Value::InlineTable(e);
        v.decor_mut().set_prefix("\n    ");
        list.push_formatted(v);
    }
    list.set_trailing("\n");
    list.set_trailing_comma(true);
    let unwritable = || {
        un(format!(
            "`{}` is not written where it can be edited in {}",
            p.subject, file.path
        ))
    };
    match subject_table(&mut doc, &path, p).ok_or_else(unwritable)? {
        Found::Table(t) => {
            let rank = ranks(t.iter().map(|(k, _)| k.to_string()).collect());
            t.remove("target");
            t.insert("targets", toml_edit::value(list));
            t.sort_values_by(|a, _, b, _| rank(a.get()).cmp(&rank(b.get())));
        }
        Found::Inline(t) => {
            let rank = ranks(t.iter().map(|(k, _)| k.to_string()).collect());
            t.remove("target");
            t.insert("targets", toml_edit::Value::Array(list));
            t.sort_values_by(|a, _, b, _| rank(a.get()).cmp(&rank(b.get())));
        }
    }
    let after = doc.to_string();
    let patch = similar::TextDiff::from_lines(&file.text, &after)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{}", file.path), &format!("b/{}", file.path))
        .to_string();
    Ok(Amendment {
        file: PathBuf::from(&file.path),
        after,
        patch,
    })
}

/// Where a key goes when a table's keys are put back in order: where it
/// was, `targets` where `target` was, a new key last.
fn ranks(keys: Vec<String>) -> impl Fn(&str) -> usize {
    move |k: &str| {
        let k = if k == "targets" && !keys.iter().any(|x| x == "targets") {
            "target"
        } else {
            k
        };
        keys.iter().position(|x| x == k).unwrap_or(usize::MAX)
    }
}

/// The table of a clause or KPI in a definitions file.
enum Found<'d> {
    Table(&'d mut toml_edit::Table),
    Inline(&'d mut toml_edit::InlineTable),
}

/// The table of the clause or KPI a proposal amends, in one file.
fn subject_table<'d>(
    doc: &'d mut toml_edit::DocumentMut,
    path: &[String],
    p: &Proposal,
) -> Option<Found<'d>> {
    let mut item = doc.as_item_mut();
    for key in path {
        item = item.get_mut(key.as_str())?;
    }
    if p.subject_kind != "clause" {
        return match item {
            toml_edit::Item::Table(t) => Some(Found::Table(t)),
            toml_edit::Item::Value(toml_edit::Value::InlineTable(t)) => Some(Found::Inline(t)),
            _ => None,
        };
    }
    let clauses = item.get_mut("clause")?;
    let is_it =
        |t: &dyn toml_edit::TableLike| t.get("id").and_then(|v| v.as_str()) == Some(p.subject.as_str());
    if clauses.is_array_of_tables() {
        return clauses
            .as_array_of_tables_mut()?
            .iter_mut()
            .find(|t| is_it(*t))
            .map(Found::Table);
    }
    clauses
        .as_array_mut()?
        .iter_mut()
        .filter_map(|v| v.as_inline_table_mut())
        .find(|t| is_it(*t))
        .map(Found::Inline)
}

/// An agreement's proposals, open ones first, each with the amendment an
/// accepted one makes where it can be written.
#[derive(Debug, Clone, Serialize)]
pub struct Listed {
    #[serde(flatten)]
    pub proposal: Proposal,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amendment: Option<Amendment>,
    /// Whether the definitions already carry it (a `targets` entry from
    /// its effective day with its target).
    pub written: bool,
}

/// Proposals of `id` (every agreement when `None`), open ones first, then
/// newest first.
pub async fn listed(
    project: &Project,
    files: &SourceMap,
    evaluation: Option<&yardstick_engine::eval::Evaluation>,
    store: &Store,
    id: Option<&str>,
) -> Result<Vec<Listed>, StoreError> {
    let mut all = store.proposals(id).await?;
    all.sort_by_key(|p| (p.status != "open", -p.id));
    Ok(all
        .into_iter()
        .map(|p| {
            let written = is_written(project, &p);
            let amendment = (p.status == "accepted" && !written)
                .then(|| {
                    let since = evaluation
                        .zip(kpi_of_proposal(project, &p))
                        .and_then(|(e, k)| earliest(e, &k));
                    amendment(project, files, &p, since).ok()
                })
                .flatten();
            Listed {
                proposal: p,
                amendment,
                written,
            }
        })
        .collect())
}

/// Whether the definitions carry accepted proposal `p`.
pub fn is_written(project: &Project, p: &Proposal) -> bool {
    let Some(day) = parse_start_date(&p.effective) else {
        return false;
    };
    let dated: &[DatedTarget] = match p.subject_kind.as_str() {
        "clause" => project
            .contracts
            .get(&p.agreement)
            .and_then(|c| c.clauses.iter().find(|x| x.id.value == p.subject))
            .map_or(&[], |cl| &cl.targets[..]),
        _ => project.kpis.get(&p.subject).map_or(&[], |k| &k.targets[..]),
    };
    let want = Threshold::parse(&p.value).ok().map(|t| t.target);
    let warning = p
        .warning
        .as_deref()
        .and_then(|w| Threshold::parse(w).ok())
        .map(|t| t.target);
    dated.iter().any(|d| {
        d.from.value == day
            && Some(d.target.value.target) == want
            && (warning.is_none() || d.warning.as_ref().map(|w| w.value.target) == warning)
    })
}
