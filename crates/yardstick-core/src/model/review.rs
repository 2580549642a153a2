//! `[review.ID]`: a review (board pack) issued on a schedule — what it
//! covers, how often, in which formats, for which parties and where it is
//! delivered — and [`Scope`], what any review covers (`yardstick review
//! --scope` parses the same words).

use chrono::{DateTime, Utc};

use super::{AlertTarget, Duration, Project};
use crate::calendar::{Calendar, Grain, Period, PeriodKind};
use crate::diag::Located;

/// What a review covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Project,
    Scorecard(String),
    Partnership(String),
    Contract(String),
    Owner(String),
}

impl Scope {
    /// `project`, `scorecard:ID`, `partnership:ID`, `contract:ID` or
    /// `owner:NAME`, checked against the project.
    pub fn parse(project: &Project, s: &str) -> Result<Scope, String> {
        let (kind, id) = s.split_once(':').unwrap_or((s, ""));
        let known = |ids: Vec<&String>| ids.iter().map(|x| x.as_str()).collect::<Vec<_>>().join(", ");
        let scope = match (kind, id) {
            ("project", "") => return Ok(Scope::Project),
            ("scorecard", id) if project.scorecards.contains_key(id) => Scope::Scorecard(id.into()),
            ("scorecard", id) => {
                return Err(format!(
                    "no scorecard `{id}`; known: {}",
                    known(project.scorecards.keys().collect())
                ));
            }
            ("partnership", id) if project.partnerships.contains_key(id) => Scope::Partnership(id.into()),
            ("partnership", id) => {
                return Err(format!(
                    "no partnership `{id}`; known: {}",
                    known(project.partnerships.keys().collect())
                ));
            }
            ("contract", id) if project.contracts.contains_key(id) => Scope::Contract(id.into()),
            ("contract", id) => {
                return Err(format!(
                    "no contract `{id}`; known: {}",
                    known(project.contracts.keys().collect())
                ));
            }
            ("owner", name) if project.kpis.values().any(|k| k.owner.as_deref() == Some(name)) => {
                Scope::Owner(name.into())
            }
            ("owner", name) => {
                let mut owners: Vec<&str> =
                    project.kpis.values().filter_map(|k| k.owner.as_deref()).collect();
                owners.sort_unstable();
                owners.dedup();
                return Err(format!(
                    "no KPI is owned by `{name}`; owners: {}",
                    owners.join(", ")
                ));
            }
            _ => {
                return Err(format!(
                    "`{s}` is not a scope: write project, scorecard:ID, partnership:ID, contract:ID or owner:NAME"
                ));
            }
        };
        Ok(scope)
    }

    pub fn words(&self) -> String {
        match self {
            Scope::Project => "the whole project".into(),
            Scope::Scorecard(x) => format!("scorecard {x}"),
            Scope::Partnership(x) => format!("partnership {x}"),
            Scope::Contract(x) => format!("contract {x}"),
            Scope::Owner(x) => format!("the KPIs owned by {x}"),
        }
    }

    /// The KPIs it covers, in definition order.
    pub fn kpis(&self, p: &Project) -> Vec<String> {
        let wanted: Vec<String> = match self {
            Scope::Project => return p.kpis.keys().cloned().collect(),
            Scope::Scorecard(id) => p
                .scorecards
                .get(id)
                .map(|s| s.weights.iter().map(|(k, _)| k.value.clone()).collect())
                .unwrap_or_default(),
            Scope::Partnership(id) => p
                .partnerships
                .get(id)
                .map(|s| s.kpis.iter().map(|k| k.value.clone()).collect())
                .unwrap_or_default(),
            Scope::Contract(id) => p
                .contracts
                .get(id)
                .map(|c| {
                    c.clauses
                        .iter()
                        .filter_map(|c| c.kpi.as_ref().map(|k| k.value.clone()))
                        .collect()
                })
                .unwrap_or_default(),
            Scope::Owner(o) => {
                return p
                    .kpis
                    .values()
                    .filter(|k| k.owner.as_deref() == Some(o))
                    .map(|k| k.id.value.clone())
                    .collect();
            }
        };
        p.kpis.keys().filter(|k| wanted.contains(k)).cloned().collect()
    }

    pub fn contracts(&self, p: &Project) -> Vec<String> {
        match self {
            Scope::Project => p.contracts.keys().cloned().collect(),
            Scope::Contract(id) => vec![id.clone()],
            _ => Vec::new(),
        }
    }
}

/// A document format of a review pack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PackFormat {
    Html,
    Markdown,
    Pdf,
    Xlsx,
}

impl PackFormat {
    pub const NAMES: [(&'static str, PackFormat); 4] = [
        ("html", PackFormat::Html),
        ("md", PackFormat::Markdown),
        ("pdf", PackFormat::Pdf),
        ("xlsx", PackFormat::Xlsx),
    ];

    /// Its name, which is also the file extension.
    pub fn name(self) -> &'static str {
        match self {
            PackFormat::Html => "html",
            PackFormat::Markdown => "md",
            PackFormat::Pdf => "pdf",
            PackFormat::Xlsx => "xlsx",
        }
    }

    pub fn from_name(s: &str) -> Option<PackFormat> {
        Self::NAMES.iter().find(|(n, _)| *n == s).map(|(_, f)| *f)
    }

    /// Its media type.
    pub fn mime(self) -> &'static str {
        match self {
            PackFormat::Html => "text/html; charset=utf-8",
            PackFormat::Markdown => "text/markdown; charset=utf-8",
            PackFormat::Pdf => "application/pdf",
            PackFormat::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
}

/// The periods a review can be issued for.
pub const REVIEW_GRAINS: [Grain; 6] = [
    Grain::Week,
    Grain::Month,
    Grain::Quarter,
    Grain::Half,
    Grain::Year,
    Grain::FiscalQuarter,
];

/// `[review.ID]`.
#[derive(Debug, Clone)]
pub struct Review {
    pub id: Located<String>,
    pub name: Option<String>,
    /// `project`, `scorecard:ID`, …, as written (checked by `check`).
    pub scope: Option<Located<String>>,
    pub every: Located<Grain>,
    /// How long after its period closes a pack waits for late data.
    pub delay: Option<Located<Duration>>,
    /// Default: HTML and PDF.
    pub formats: Vec<PackFormat>,
    /// A folder (relative to the project) the documents are written into.
    pub folder: Option<Located<String>>,
    /// Told (JSON) when a pack is issued.
    pub webhook: Option<AlertTarget>,
    /// Partner-facing packs, one per party, holding only what it may see;
    /// empty: the organisation's own pack.
    pub parties: Vec<Located<String>>,
}

impl Review {
    /// What it covers (the project when `scope` is absent or, unchecked,
    /// not a scope).
    pub fn scope_of(&self, p: &Project) -> Scope {
        self.scope
            .as_ref()
            .and_then(|s| Scope::parse(p, &s.value).ok())
            .unwrap_or(Scope::Project)
    }

    /// The latest period whose pack is due at `now`: the last one that
    /// ended at least `delay` ago.
    pub fn due(&self, cal: &Calendar, now: DateTime<Utc>) -> Period {
        let delay = self
            .delay
            .as_ref()
            .map_or_else(chrono::Duration::zero, |d| d.value.to_chrono());
        let current = cal.period_containing(PeriodKind::Calendar(self.every.value), &(now - delay));
        cal.prev(&current)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc() -> crate::diag::Loc {
        crate::diag::Loc::new(0, 0..0)
    }

    fn review(every: Grain, delay: Option<&str>) -> Review {
        Review {
            id: Located::new("r".into(), loc()),
            name: None,
            scope: None,
            every: Located::new(every, loc()),
            delay: delay.map(|d| Located::new(Duration::parse(d).expect("duration"), loc())),
            formats: Vec::new(),
            folder: None,
            webhook: None,
            parties: Vec::new(),
        }
    }

    #[test]
    fn a_quarter_is_due_once_it_ended_and_its_delay_passed() {
        let cal = Calendar::new(chrono_tz::Europe::Berlin);
        let at = |s: &str| {
            DateTime::parse_from_rfc3339(s)
                .expect("instant")
                .with_timezone(&Utc)
        };
        let r = review(Grain::Quarter, Some("2h"));
        // Q3 ends at 2026-10-01 00:00 Berlin (22:00 UTC the day before).
        assert_eq!(cal.label(&r.due(&cal, at("2026-09-30T23:59:59Z"))), "2026-Q2");
        assert_eq!(cal.label(&r.due(&cal, at("2026-10-01T00:00:00Z"))), "2026-Q3");
        let now = review(Grain::Quarter, None);
        assert_eq!(cal.label(&now.due(&cal, at("2026-09-30T21:59:59Z"))), "2026-Q2");
        assert_eq!(cal.label(&now.due(&cal, at("2026-09-30T22:00:00Z"))), "2026-Q3");
        let month = review(Grain::Month, Some("3d"));
        assert_eq!(cal.label(&month.due(&cal, at("2026-03-03T22:59:59Z"))), "2026-01");
        assert_eq!(cal.label(&month.due(&cal, at("2026-03-03T23:00:00Z"))), "2026-02");
    }
}
