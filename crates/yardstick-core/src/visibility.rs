//! What a party outside the organisation may see.
//!
//! A party (a partner, a client, a provider) sees:
//! - the contracts that name it as `provider` or `client`;
//! - the partnerships that list it among `partners`;
//! - the KPIs that list it in `parties`, and the KPIs of the clauses of its
//!   contracts and of its partnerships (sharing a contract shares what it is
//!   judged on);
//! - the scorecards whose every part (KPI or scorecard) it sees;
//! - the reconciliations that list it in `parties` or compare a source it
//!   submits (`submitted_by`), which are also the only sources it may push
//!   into.
//!
//! Party names are compared without regard to case or surrounding spaces.
//! Everything else is invisible: the API answers 404 for it, exactly as for
//! an id that does not exist.

use std::collections::BTreeSet;

use crate::model::Project;

/// The ids a party may see.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Visible {
    pub kpis: BTreeSet<String>,
    pub contracts: BTreeSet<String>,
    pub partnerships: BTreeSet<String>,
    pub scorecards: BTreeSet<String>,
    /// Reconciliations listing the party, or with a side it submits.
    pub reconciles: BTreeSet<String>,
    /// Stored sources the party submits (and may push into).
    pub sources: BTreeSet<String>,
}

fn same_party(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// What `party` may see of `project`.
pub fn visible_to(project: &Project, party: &str) -> Visible {
    let mut v = Visible::default();
    for k in project.kpis.values() {
        if k.parties.iter().any(|p| same_party(p, party)) {
            v.kpis.insert(k.id.value.clone());
        }
    }
    for c in project.contracts.values() {
        let named = [&c.provider, &c.client]
            .into_iter()
            .flatten()
            .any(|p| same_party(p, party));
        if named {
            v.contracts.insert(c.id.value.clone());
            for clause in &c.clauses {
                if let Some(k) = &clause.kpi
                    && project.kpis.contains_key(&k.value)
                {
                    v.kpis.insert(k.value.clone());
                }
            }
        }
    }
    for p in project.partnerships.values() {
        if p.partners.iter().any(|x| same_party(x, party)) {
            v.partnerships.insert(p.id.value.clone());
            for k in &p.kpis {
                if project.kpis.contains_key(&k.value) {
                    v.kpis.insert(k.value.clone());
                }
            }
        }
    }
    for s in project.sources.values() {
        if s.submitted_by.as_deref().is_some_and(|p| same_party(p, party)) {
            v.sources.insert(s.id.value.clone());
        }
    }
    for r in project.reconciles.values() {
        let listed = r.parties.iter().any(|p| same_party(p, party));
        let submits = [&r.left, &r.right]
            .into_iter()
            .flatten()
            .any(|s| v.sources.contains(&s.value));
        if listed || submits {
            v.reconciles.insert(r.id.value.clone());
        }
    }
    // Scorecards may weigh scorecards: grow the visible set to a fixpoint.
    loop {
        let before = v.scorecards.len();
        for s in project.scorecards.values() {
            if v.scorecards.contains(&s.id.value) || s.weights.is_empty() {
                continue;
            }
            let all = s
                .weights
                .iter()
                .all(|(id, _)| v.kpis.contains(&id.value) || v.scorecards.contains(&id.value));
            if all {
                v.scorecards.insert(s.id.value.clone());
            }
        }
        if v.scorecards.len() == before {
            break;
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MemoryFiles, ROOT_FILE, load};

    const PROJECT: &str = r#"
[project]
name = "p"
timezone = "UTC"

[source.s]
path = "s.csv"
time = "t"

[kpi.shared]
measure = "count(*)"
source = "s"
every = "month"
parties = ["CloudCo"]

[kpi.uptime]
measure = "count(*)"
source = "s"
every = "month"

[kpi.partner_revenue]
measure = "count(*)"
source = "s"
every = "month"

[kpi.internal]
measure = "count(*)"
source = "s"
every = "month"

[contract.hosting]
provider = "Provider Ltd"
client = "Acme Corp"

[[contract.hosting.clause]]
id = "uptime"
kpi = "uptime"
target = ">= 10"

[partnership.cloudco]
partners = ["Us", "CloudCo"]
kpis = ["partner_revenue"]

[scorecard.partner]
weights = { shared = 1, partner_revenue = 1 }

[scorecard.nested]
weights = { partner = 1 }

[scorecard.company]
weights = { shared = 1, internal = 1 }
"#;

    fn project() -> Project {
        let files = MemoryFiles::new([(ROOT_FILE, PROJECT)]);
        let loaded = load(ROOT_FILE, &files);
        assert!(!loaded.diagnostics.has_errors(), "{:?}", loaded.diagnostics);
        loaded.project
    }

    fn set(ids: &[&str]) -> BTreeSet<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_partner_sees_what_names_it_and_nothing_else() {
        let v = visible_to(&project(), " cloudco ");
        assert_eq!(v.kpis, set(&["partner_revenue", "shared"]));
        assert_eq!(v.partnerships, set(&["cloudco"]));
        assert!(v.contracts.is_empty());
        assert_eq!(v.scorecards, set(&["nested", "partner"]));
    }

    #[test]
    fn a_client_sees_its_contract_and_the_kpis_it_is_judged_on() {
        let v = visible_to(&project(), "Acme Corp");
        assert_eq!(v.contracts, set(&["hosting"]));
        assert_eq!(v.kpis, set(&["uptime"]));
        assert!(v.partnerships.is_empty() && v.scorecards.is_empty());
    }

    #[test]
    fn a_stranger_sees_nothing() {
        assert_eq!(visible_to(&project(), "Nobody"), Visible::default());
    }
}
