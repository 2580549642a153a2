//! `[reconcile.ID]`: what the loader reads, and every mistake located.

use yardstick_core::reconcile::{Cause, KpiTolerance, Rule};

use super::load::{errors, root};

const PARTNER: &str = "[source.partner]\npath = \"data/partner.csv\"\ntime = \"sold_at\"\n\n";
const KPI: &str = "[kpi.revenue]\nobjective = \"o\"\nowner = \"me\"\nsource = \"orders\"\nmeasure = \"sum(amount)\"\nfilter = \"status <> 'void'\"\nevery = \"month\"\ntarget = \">= 1\"\n\n";

#[test]
fn a_reconciliation_reads_keys_rules_tolerance_and_owners() {
    let l = root(&format!(
        "{PARTNER}{KPI}[reconcile.northwind]\nleft = \"orders\"\nright = \"partner\"\nkeys = {{ order_id = \"ref\" }}\n\
         compare = {{ amount = {{ right = \"total\", abs = 0.01, rel = \"0.1%\" }}, status = \"fold\", ordered_at = {{ right = \"sold_at\", window = \"1d\" }} }}\n\
         kpis = [\"revenue\"]\ntolerance = \"0.5%\"\nowner = {{ left = \"Sales ops\", right = \"Northwind\" }}\nparties = [\"Northwind\"]\n"
    ));
    assert!(errors(&l).is_empty(), "{:#?}", l.diagnostics);
    let r = &l.project.reconciles["northwind"];
    assert_eq!(r.keys[0].left.value, "order_id");
    assert_eq!(r.keys[0].right.value, "ref");
    assert_eq!(r.right_name("amount"), Some("total"));
    assert_eq!(
        r.compare[0].rule,
        Rule::Numeric {
            abs: 0.01,
            rel: 0.001
        }
    );
    assert_eq!(r.compare[1].rule, Rule::Fold);
    assert!(matches!(r.compare[2].rule, Rule::Window(d) if d.whole_days() == Some(1)));
    assert_eq!(
        r.tolerance.as_ref().map(|t| t.value),
        Some(KpiTolerance { abs: 0.0, rel: 0.005 })
    );
    assert_eq!(r.owner_right.as_deref(), Some("Northwind"));
    assert_eq!(r.parties, ["Northwind"]);
    assert_eq!(Cause::OnlyLeft.as_str(), "only_left");
}

#[test]
fn datacompys_rule_bounds_are_inclusive() {
    let rule = Rule::Numeric { abs: 0.5, rel: 0.1 };
    // |a − b| ≤ abs + rel·|b|: with b = 10 the bound is 0.5 + 1.0 = 1.5, hit exactly.
    assert!(rule.numbers_agree(Some(11.5), Some(10.0)));
    assert!(!rule.numbers_agree(Some(11.5000001), Some(10.0)));
    assert!(rule.numbers_agree(None, None));
    assert!(!rule.numbers_agree(Some(1.0), None));
}

#[test]
fn mistakes_are_located() {
    let l = root(&format!(
        "{PARTNER}{KPI}[reconcile.bad]\nleft = \"orderz\"\nright = \"partner\"\nkeys = [\"order_id\"]\n\
         compare = {{ amount = {{ abs = -1 }}, note = \"sloppy\" }}\ntolerance = \"half\"\n"
    ));
    let e = errors(&l);
    let codes: Vec<&str> = e.iter().map(|(c, _)| *c).collect();
    assert!(codes.contains(&"unknown-reference"), "{e:?}");
    assert!(codes.contains(&"bad-number"), "{e:?}");
    assert_eq!(codes.iter().filter(|c| **c == "bad-value").count(), 2, "{e:?}");
    // The unknown source is pointed at where it is written.
    let at = e
        .iter()
        .find(|(c, _)| *c == "unknown-reference")
        .map(|(_, a)| a.clone());
    assert_eq!(at.as_deref(), Some("yardstick.toml:24:8"));
}

#[test]
fn a_kpi_reading_an_uncompared_column_cannot_be_explained() {
    let l = root(&format!(
        "{PARTNER}{KPI}[reconcile.r]\nleft = \"orders\"\nright = \"partner\"\nkeys = [\"order_id\"]\ncompare = [\"amount\"]\nkpis = [\"revenue\"]\n"
    ));
    let e = errors(&l);
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].0, "reconcile-uncompared");
}

#[test]
fn missing_sides_and_keys_are_errors() {
    let l = root("[reconcile.r]\nname = \"x\"\n");
    let codes: Vec<&str> = errors(&l).iter().map(|(c, _)| *c).collect();
    assert_eq!(codes, ["missing-key", "missing-key", "missing-key"]);
}

#[test]
fn a_periods_standing_is_what_the_parties_said_last_else_the_numbers() {
    use yardstick_core::reconcile::{Said, Standing, standing};
    assert_eq!(standing(true, 0, None), Standing::Agreed);
    assert_eq!(standing(true, 3, None), Standing::WithinTolerance);
    assert_eq!(standing(false, 3, None), Standing::Disputed);
    assert_eq!(standing(false, 3, Some(Said::Accepted)), Standing::Agreed);
    assert_eq!(standing(true, 0, Some(Said::Disputed)), Standing::Disputed);
}

#[test]
fn a_discrepancy_alert_names_a_reconciliation_that_exists() {
    let base = format!(
        "{PARTNER}{KPI}[reconcile.r]\nleft = \"orders\"\nright = \"partner\"\nkeys = [\"order_id\"]\ncompare = [\"amount\", \"status\"]\nkpis = [\"revenue\"]\n"
    );
    let l = root(&format!(
        "{base}[alert.a]\nwhen = \"discrepancy\"\nreconcile = \"r\"\n"
    ));
    assert!(errors(&l).is_empty(), "{:#?}", l.diagnostics);
    let l = root(&format!(
        "{base}[alert.a]\nwhen = \"discrepancy\"\nreconcile = \"rr\"\n"
    ));
    assert_eq!(
        errors(&l).iter().map(|e| e.0).collect::<Vec<_>>(),
        ["unknown-reference"]
    );
    let l = root(&format!(
        "{base}[alert.a]\nwhen = \"discrepancy\"\nkpi = \"revenue\"\n"
    ));
    assert_eq!(errors(&l).iter().map(|e| e.0).collect::<Vec<_>>(), ["alert-when"]);
    let l = root(&format!(
        "{base}[alert.a]\nwhen = \"status\"\nreconcile = \"r\"\n"
    ));
    assert_eq!(errors(&l).iter().map(|e| e.0).collect::<Vec<_>>(), ["alert-when"]);
}

#[test]
fn kpi_tolerance_absorbs_rounding_only() {
    let none = KpiTolerance { abs: 0.0, rel: 0.0 };
    assert!(
        none.agrees(Some(0.1 + 0.2), Some(0.3)),
        "the same sum in another order"
    );
    assert!(!none.agrees(Some(100.0), Some(100.01)));
    let half = KpiTolerance { abs: 0.0, rel: 0.005 };
    assert!(half.agrees(Some(1005.0), Some(1000.0)));
    assert!(!half.agrees(Some(1005.1), Some(1000.0)));
    assert!(!half.agrees(None, Some(1.0)));
    assert_eq!(Rule::Numeric { abs: 0.01, rel: 0.0 }.describe(), "within 0.01");
}
