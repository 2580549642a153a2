//! Contracts on evaluated KPIs: proration when a contract starts inside a
//! period, and clauses on `for_each` KPIs.

use yardstick_engine::consequences::{payouts, sla};

use crate::{evaluate, project};

const TICKETS: &str = "id,created,ok,team\n\
    1,2026-02-10T00:00:00Z,false,a\n\
    2,2026-03-10T00:00:00Z,false,a\n\
    3,2026-03-11T00:00:00Z,true,b\n\
    4,2026-03-12T00:00:00Z,false,b\n\
    5,2026-04-10T00:00:00Z,true,a\n";

fn body(kpi_extra: &str, contract_start: &str) -> String {
    format!(
        "[source.tickets]\npath = \"data/tickets.csv\"\ntime = \"created\"\n\
         [kpi.ok]\nobjective = \"o\"\nowner = \"me\"\nsource = \"tickets\"\nshare = \"ok\"\nevery = \"month\"\ntarget = \">= 90%\"\n{kpi_extra}\
         [contract.c]\nfee = {{ amount = 3100, every = \"month\" }}\nstart = {contract_start}\n\
         [[contract.c.clause]]\nid = \"ok\"\nkpi = \"ok\"\nremedies = [{{ credit = \"10%\" }}]\n\
         [incentive.bonus]\nkpi = \"ok\"\npayout = [{{ at = \"0%\", pay = 0 }}, {{ at = \"100%\", pay = 1000 }}]\n"
    )
}

#[test]
fn a_contract_starting_mid_month_prorates_that_month_and_skips_earlier_ones() {
    let dir = project("UTC", &body("", "2026-03-16"), &[("data/tickets.csv", TICKETS)]);
    let (p, ev) = evaluate(dir.path(), "2026-05-01T00:00:00Z");
    let r = sla(&p, &ev);
    let periods: Vec<&str> = r.clauses.iter().map(|c| c.period.as_str()).collect();
    // February is before the contract; April met; May has not ended.
    assert_eq!(periods, ["2026-03", "2026-04"]);
    let march = &r.clauses[0];
    assert!(march.breached && march.triggered);
    // 16 of March's 31 days are covered: fee 3100 × 16/31 = 1600, credit 10%.
    assert!(
        (march.credit_amount - 160.0).abs() < 1e-9,
        "{}",
        march.credit_amount
    );
    assert!(!r.clauses[1].breached);
}

#[test]
fn a_clause_on_a_for_each_kpi_judges_each_entity_and_splits_the_fee() {
    let dir = project(
        "UTC",
        &body("for_each = \"team\"\n", "2026-01-01"),
        &[("data/tickets.csv", TICKETS)],
    );
    let (p, ev) = evaluate(dir.path(), "2026-04-01T00:00:00Z");
    let r = sla(&p, &ev);
    let march: Vec<_> = r.clauses.iter().filter(|c| c.period == "2026-03").collect();
    assert_eq!(march.len(), 2, "teams a and b");
    // Both teams miss 90%; the March fee (3100) is split between them.
    for c in &march {
        assert!(c.triggered);
        assert!((c.credit_amount - 155.0).abs() < 1e-9, "{}", c.credit_amount);
    }
    // Team b has no ticket in February: no data, no breach.
    let feb_b = r
        .clauses
        .iter()
        .find(|c| {
            c.period == "2026-02"
                && c.entity
                    .as_ref()
                    .is_some_and(|e| e.values().any(|v| v.to_string() == "b"))
        })
        .expect("team b in February");
    assert!(!feb_b.breached && feb_b.explanation.contains("no data is not a breach"));
    // Payouts are per entity: team b in March is at 50% of 90% → 5/9 of 1000.
    let pay = payouts(&p, &ev);
    let b = pay
        .payouts
        .iter()
        .find(|x| {
            x.period == "2026-03"
                && x.entity
                    .as_ref()
                    .is_some_and(|e| e.values().any(|v| v.to_string() == "b"))
        })
        .expect("b");
    assert!((b.payout - 1000.0 * 0.5 / 0.9).abs() < 1e-9, "{}", b.payout);
}
