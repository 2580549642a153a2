//! Reconciliation: counts and the bridge on data with known injected
//! discrepancies, each cause and its amount stated by hand.

use std::fmt::Write as _;
use std::path::Path;

use yardstick_core::diag::Diagnostics;
use yardstick_engine::reconcile::{Kind, ReconcileOptions, Reconciliation, reconcile};

use super::{eval, project, utc};

fn run(dir: &Path, id: &str, as_of: &str, limit: Option<usize>) -> Reconciliation {
    let loaded = yardstick_engine::load_dir(dir);
    assert!(!loaded.diagnostics.has_errors(), "{:#?}", loaded.diagnostics);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let data = rt.block_on(yardstick_engine::check_data(&loaded.project, dir));
    assert!(!data.has_errors(), "{data:#?}");
    let mut d = Diagnostics::default();
    let catalog = rt.block_on(yardstick_engine::register_sources(&loaded.project, dir, &mut d));
    let opts = ReconcileOptions {
        as_of: utc(as_of),
        period: None,
        limit,
    };
    rt.block_on(reconcile(&loaded.project, &catalog, id, &opts))
        .expect("reconciliation")
}

const DEFS: &str = r#"
[source.orders]
path = "data/orders.csv"
time = "booked_at"
owner = "Sales operations"

[source.partner]
path = "data/partner.csv"
time = "sold_at"
owner = "Northwind Distribution"

[kpi.revenue]
source = "orders"
measure = "sum(amount)"
every = "month"
target = ">= 0"

[kpi.orders]
source = "orders"
measure = "count(*)"
every = "month"
target = ">= 0"

[kpi.average_order]
source = "orders"
measure = "avg(amount)"
every = "month"
target = ">= 0"

[reconcile.northwind]
left = "orders"
right = "partner"
keys = { order_id = "ref" }
compare = { amount = { right = "total", abs = 0.1 }, booked_at = { right = "sold_at", window = "1h" } }
kpis = ["revenue", "orders", "average_order"]
tolerance = "0.5%"
"#;

fn amount(id: u32) -> f64 {
    100.0 + 1.25 * f64::from(id)
}

/// Orders 1–30 in October 2026, 31–60 in November (Europe/Berlin), and the
/// partner's report of them with these injected discrepancies:
/// - orders 3, 7 and 11 (October) are missing from the report;
/// - refs 901 and 902 (November, 50.5 and 70.25) are only in the report;
/// - orders 20 and 21 are reported 0.25 lower (out of the 0.1 tolerance),
///   order 22 0.0625 higher (within it);
/// - order 30, booked 2026-10-31 23:30, is reported at 2026-11-01 00:10
///   (within the 1h window, but in November);
/// - order 45 is reported twice.
fn data() -> (String, String) {
    let mut left = String::from("order_id,booked_at,amount\n");
    let mut right = String::from("ref,sold_at,total\n");
    for id in 1..=60u32 {
        let month = if id <= 30 { 10 } else { 11 };
        let day = (id - 1) % 28 + 1;
        let time = if id == 30 {
            "2026-10-31 23:30:00".to_string()
        } else {
            format!("2026-{month:02}-{day:02} 12:00:00")
        };
        writeln!(left, "{id},{time},{}", amount(id)).expect("write");
        if [3, 7, 11].contains(&id) {
            continue;
        }
        let total = match id {
            20 | 21 => amount(id) - 0.25,
            22 => amount(id) + 0.0625,
            _ => amount(id),
        };
        let sold = if id == 30 {
            "2026-11-01 00:10:00".to_string()
        } else {
            time
        };
        writeln!(right, "{id},{sold},{total}").expect("write");
        if id == 45 {
            writeln!(right, "{id},{sold},{total}").expect("write");
        }
    }
    right.push_str("901,2026-11-05 09:00:00,50.5\n902,2026-11-06 09:00:00,70.25\n");
    (left, right)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

fn step(k: &yardstick_engine::reconcile::KpiReconciliation, cause: &str) -> (u64, f64) {
    k.bridge
        .iter()
        .filter(|s| s.cause.as_str() == cause)
        .fold((0, 0.0), |(n, a), s| (n + s.records, a + s.amount))
}

#[test]
fn counts_and_bridge_match_the_injected_discrepancies() {
    let (left, right) = data();
    let dir = project(
        "Europe/Berlin",
        DEFS,
        &[("data/orders.csv", &left), ("data/partner.csv", &right)],
    );
    let r = run(dir.path(), "northwind", "2026-11-30T22:00:00Z", Some(10));
    assert_eq!(r.left.owner.as_deref(), Some("Sales operations"));
    assert_eq!(r.right.owner.as_deref(), Some("Northwind Distribution"));
    let labels: Vec<&str> = r.periods.iter().map(|p| p.period.as_str()).collect();
    assert_eq!(labels, ["2026-10", "2026-11"]);
    let (oct, nov) = (&r.periods[0], &r.periods[1]);

    // Records: October by our booking time.
    assert_eq!((oct.only_left, oct.only_right), (3, 0));
    assert_eq!(oct.in_common, 27);
    assert_eq!(oct.matched, 25);
    assert_eq!(oct.mismatched["amount"], 2);
    assert_eq!(oct.mismatched["booked_at"], 0);
    assert_eq!((oct.duplicate_keys.left, oct.duplicate_keys.right), (0, 0));
    assert_eq!((nov.only_left, nov.only_right), (0, 2));
    assert_eq!((nov.duplicate_keys.left, nov.duplicate_keys.right), (1, 2));
    assert_eq!((nov.in_common, nov.matched), (29, 29));

    // Revenue: left and right by hand.
    let oct_left: f64 = (1..=30).map(amount).sum();
    let only_left = amount(3) + amount(7) + amount(11);
    let values = 0.25 + 0.25 - 0.0625;
    let moved = amount(30);
    let oct_right = oct_left - only_left - values - moved;
    let rev = |p: &yardstick_engine::reconcile::PeriodReconciliation| {
        p.kpis
            .iter()
            .find(|k| k.kpi == "revenue")
            .cloned()
            .expect("revenue")
    };
    let k = rev(oct);
    assert!(close(k.left.unwrap(), oct_left), "{k:?}");
    assert!(close(k.right.unwrap(), oct_right), "{k:?}");
    assert_eq!(step(&k, "only_left"), (3, only_left));
    let (n, a) = step(&k, "value");
    assert_eq!(n, 3);
    assert!(close(a, values), "{a}");
    let (n, a) = step(&k, "period");
    assert_eq!(n, 1);
    assert!(close(a, moved));
    let sum: f64 = k.bridge.iter().map(|s| s.amount).sum();
    assert!(
        close(sum, k.difference.unwrap()),
        "bridge {sum} vs {:?}",
        k.difference
    );
    assert!(!k.within_tolerance, "{k:?}");

    let nov_left: f64 = (31..=60).map(amount).sum();
    let extra = 50.5 + 70.25;
    let k = rev(nov);
    assert!(close(k.left.unwrap(), nov_left));
    assert!(close(k.right.unwrap(), nov_left + moved + extra + amount(45)));
    let (n, a) = step(&k, "duplicate_keys");
    assert_eq!(n, 3);
    assert!(close(a, amount(45) - 2.0 * amount(45)));
    assert_eq!(step(&k, "only_right"), (2, -extra));
    let (n, a) = step(&k, "period");
    assert_eq!(n, 1);
    assert!(close(a, -moved));
    let sum: f64 = k.bridge.iter().map(|s| s.amount).sum();
    assert!(close(sum, k.difference.unwrap()));

    // Counts: a record is one.
    let c = oct.kpis.iter().find(|k| k.kpi == "orders").expect("orders");
    assert_eq!((c.left, c.right), (Some(30.0), Some(26.0)));
    assert_eq!(step(c, "only_left"), (3, 3.0));
    assert_eq!(step(c, "period"), (1, 1.0));
    assert_eq!(step(c, "value"), (0, 0.0));

    // An average: the steps still add up to the difference.
    for p in [oct, nov] {
        let avg = p.kpis.iter().find(|k| k.kpi == "average_order").expect("avg");
        let sum: f64 = avg.bridge.iter().map(|s| s.amount).sum();
        assert!(close(sum, avg.difference.unwrap()), "{avg:?}");
    }

    // The left values are `eval`'s.
    let rows = eval(dir.path(), "2026-11-30T22:00:00Z");
    for p in [oct, nov] {
        for k in &p.kpis {
            let row = rows
                .iter()
                .find(|r| r.kpi == k.kpi && r.period == p.period)
                .expect("eval row");
            assert!(
                close(row.value.unwrap(), k.left.unwrap()),
                "{} {}",
                k.kpi,
                p.period
            );
        }
    }

    // Examples: the missing orders first, with both owners' sides.
    let kinds: Vec<Kind> = oct.examples.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            Kind::OnlyLeft,
            Kind::OnlyLeft,
            Kind::OnlyLeft,
            Kind::Matched,
            Kind::Matched,
            Kind::Matched
        ]
    );
    // Order 30 is within the window, but booked in November on the right:
    // listed (in October, its left period) with its time marked.
    let moved = oct
        .examples
        .iter()
        .find(|e| e.right_period.as_deref() == Some("2026-11"))
        .expect("order 30");
    assert!(moved.columns.iter().any(|c| c.column == "booked_at" && c.differs));
    assert!(nov.examples.iter().all(|e| e.kind != Kind::Matched));
}

#[test]
fn a_limit_keeps_the_first_records_of_each_period() {
    let (left, right) = data();
    let dir = project(
        "Europe/Berlin",
        DEFS,
        &[("data/orders.csv", &left), ("data/partner.csv", &right)],
    );
    let r = run(dir.path(), "northwind", "2026-11-30T22:00:00Z", Some(2));
    assert_eq!(r.periods[0].examples.len(), 2);
    let all = run(dir.path(), "northwind", "2026-11-30T22:00:00Z", None);
    assert_eq!(all.periods[0].examples.len(), 6);
    assert_eq!(all.periods[1].examples.len(), 5, "{:#?}", all.periods[1].examples);
}

#[test]
fn a_discrepancy_alert_fires_on_the_latest_complete_period_outside_tolerance() {
    let (left, right) = data();
    let defs = format!("{DEFS}\n[alert.northwind_gap]\nwhen = \"discrepancy\"\nreconcile = \"northwind\"\n");
    let dir = project(
        "Europe/Berlin",
        &defs,
        &[("data/orders.csv", &left), ("data/partner.csv", &right)],
    );
    let loaded = yardstick_engine::load_dir(dir.path());
    assert!(!loaded.diagnostics.has_errors(), "{:#?}", loaded.diagnostics);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut d = Diagnostics::default();
    let catalog = rt.block_on(yardstick_engine::register_sources(
        &loaded.project,
        dir.path(),
        &mut d,
    ));
    let firing_at = |as_of: &str| {
        let opts = yardstick_engine::eval::EvalOptions {
            as_of: utc(as_of),
            from: None,
            to: None,
            kpis: Vec::new(),
            by: None,
            projections: false,
        };
        let ev = rt
            .block_on(yardstick_engine::evaluate(&loaded.project, &catalog, &opts))
            .expect("evaluation");
        rt.block_on(yardstick_engine::alerts::evaluate_firing(
            &loaded.project,
            &catalog,
            &ev,
            utc(as_of),
        ))
        .expect("alerts")
    };
    // November in progress: October, outside tolerance, fires.
    let f = firing_at("2026-11-30T22:00:00Z");
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(
        (f[0].instance.as_str(), f[0].subject.as_str()),
        ("2026-10", "reconcile northwind")
    );
    assert!(f[0].summary.contains("revenue differs by"), "{}", f[0].summary);
    assert_eq!(f[0].owner.as_deref(), Some("Northwind Distribution"));
    // Before October ends nothing has completed: nothing fires.
    assert!(firing_at("2026-10-20T00:00:00Z").is_empty());
}

/// A key twice on one side only never meets the other side, so the one
/// join over unique keys cannot show it in its row counts: the one-sided
/// keys are checked too. Keys with a missing part never pair and are never
/// duplicates. One key column and two, with the same records.
#[test]
fn keys_found_twice_on_one_side_only_are_duplicates_and_missing_keys_are_not() {
    let left = "region,id,amount\nDE,1,10\nDE,2,20\nDE,2,21\nDE,3,30\nDE,,40\nDE,,41\n";
    let right = "region,id,amount\nDE,1,10\nDE,3,31\nDE,4,50\nDE,4,51\nDE,4,52\nDE,5,60\n";
    for keys in [r#"["id"]"#, r#"["region", "id"]"#] {
        let defs = format!(
            "[source.ours]\npath = \"data/ours.csv\"\n\n[source.theirs]\npath = \"data/theirs.csv\"\n\n\
             [reconcile.r]\nleft = \"ours\"\nright = \"theirs\"\nkeys = {keys}\ncompare = {{ amount = \"exact\" }}\n"
        );
        let dir = project(
            "UTC",
            &defs,
            &[("data/ours.csv", left), ("data/theirs.csv", right)],
        );
        let r = run(dir.path(), "r", "2026-11-30T00:00:00Z", None);
        let [p] = r.periods.as_slice() else {
            panic!("one period: {:?}", r.periods)
        };
        assert_eq!(
            (p.duplicate_keys.left, p.duplicate_keys.right),
            (2, 3),
            "keys {keys}"
        );
        assert_eq!(
            (p.in_common, p.matched, p.mismatched["amount"]),
            (2, 1, 1),
            "keys {keys}"
        );
        assert_eq!((p.only_left, p.only_right), (2, 1), "keys {keys}");
        let dups: Vec<Kind> = p
            .examples
            .iter()
            .map(|e| e.kind)
            .filter(|k| matches!(k, Kind::DuplicateLeft | Kind::DuplicateRight))
            .collect();
        assert_eq!(dups.len(), 5, "keys {keys}: {:?}", p.examples);
    }
}

/// The records listed with a limit are found by the keys collected while
/// counting; they must be exactly the first of the full listing, period by
/// period — with records only on one side, values out of tolerance, moved
/// times, duplicate keys on one side and on both, and missing keys.
#[test]
fn listed_records_are_the_first_of_the_full_listing() {
    let mut left = String::from("id,booked_at,amount\n");
    let mut right = String::from("ref,sold_at,total\n");
    for id in 1..=240u32 {
        let month = 9 + id % 3;
        let day = id % 27 + 1;
        let time = format!("2026-{month:02}-{day:02} 10:00:00");
        writeln!(left, "{id},{time},{id}.5").expect("write");
        if id % 7 == 0 {
            writeln!(left, "{id},{time},{id}.5").expect("write");
        }
        match id % 11 {
            0 => continue,
            1 => writeln!(right, "{id},{time},{}.5", id + 1).expect("write"),
            2 if day == 28 => {
                writeln!(right, "{id},2026-{:02}-01 01:00:00,{id}.5", month + 1).expect("write")
            }
            3 => {
                writeln!(right, "{id},{time},{id}.5").expect("write");
                writeln!(right, "{id},{time},{id}.5").expect("write");
            }
            _ => writeln!(right, "{id},{time},{id}.5").expect("write"),
        }
    }
    for extra in 500..530u32 {
        writeln!(right, "{extra},2026-10-{:02} 08:00:00,1", extra % 27 + 1).expect("write");
    }
    left.push_str(",2026-10-03 10:00:00,7\n,2026-10-04 10:00:00,8\n");
    right.push_str(",2026-11-03 10:00:00,9\n");
    let defs = "[source.ours]\npath = \"data/ours.csv\"\ntime = \"booked_at\"\n\n\
                [source.theirs]\npath = \"data/theirs.csv\"\ntime = \"sold_at\"\n\n\
                [reconcile.r]\nleft = \"ours\"\nright = \"theirs\"\nkeys = { id = \"ref\" }\n\
                compare = { amount = { right = \"total\", abs = 0.5 } }\nevery = \"month\"\n";
    let dir = project(
        "UTC",
        defs,
        &[("data/ours.csv", &left), ("data/theirs.csv", &right)],
    );
    let all = run(dir.path(), "r", "2026-12-01T00:00:00Z", None);
    for n in [1, 3, 10] {
        let some = run(dir.path(), "r", "2026-12-01T00:00:00Z", Some(n));
        assert_eq!(all.periods.len(), some.periods.len());
        for (a, s) in all.periods.iter().zip(&some.periods) {
            let first = serde_json::to_value(&a.examples[..n.min(a.examples.len())]).expect("json");
            assert_eq!(
                first,
                serde_json::to_value(&s.examples).expect("json"),
                "{} limit {n}",
                a.period
            );
            assert_eq!(a.only_left, s.only_left);
            assert_eq!(a.duplicate_keys.left, s.duplicate_keys.left);
        }
    }
    let cut = all.periods.iter().filter(|p| p.examples.len() > 10).count();
    assert_eq!(cut, 3, "September to November have more records than listed");
    let kinds: std::collections::BTreeSet<Kind> = all
        .periods
        .iter()
        .flat_map(|p| p.examples.iter().map(|e| e.kind))
        .collect();
    assert_eq!(kinds.len(), 5, "every kind listed: {kinds:?}");
}
