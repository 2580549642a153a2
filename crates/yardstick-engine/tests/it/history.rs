//! Targets judged by their history (`check` with data): never met, or
//! always met by a wide margin, over the last 12 complete periods.

use super::*;

/// `n` monthly rows of `amount` from January 2026 (one order a month).
fn monthly(amounts: &[f64]) -> String {
    let mut csv = String::from("ordered_at,amount\n");
    for (i, a) in amounts.iter().enumerate() {
        csv += &format!("2026-{:02}-10T12:00:00Z,{a}\n", i + 1);
    }
    csv
}

fn warnings(target: &str, amounts: &[f64]) -> Vec<(&'static str, String)> {
    let body = format!(
        "[source.orders]\npath = \"data/orders.csv\"\ntime = \"ordered_at\"\n\n\
         [kpi.revenue]\nobjective = \"o\"\nowner = \"me\"\nsource = \"orders\"\nmeasure = \"sum(amount)\"\n\
         every = \"month\"\nunit = \"EUR\"\ntarget = \"{target}\"\n"
    );
    let dir = project("UTC", &body, &[("data/orders.csv", &monthly(amounts))]);
    let (p, ev) = evaluate(dir.path(), "2027-01-01T00:00:00Z");
    yardstick_engine::history::target_history(&p, &ev)
        .iter()
        .map(|d| (d.code, d.message.clone()))
        .collect()
}

#[test]
fn a_target_no_period_met_is_a_warning() {
    let w = warnings(
        ">= 1000",
        &[400.0, 520.0, 610.0, 480.0, 700.0, 650.0, 590.0, 530.0],
    );
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].0, "target-never-met");
    assert!(
        w[0].1.contains("last 8 months (values €400 to €700)"),
        "{}",
        w[0].1
    );
}

#[test]
fn a_target_every_period_beat_by_a_quarter_is_a_warning() {
    // 500 is 25% above 400: every month met with a wide margin.
    let w = warnings(">= 400", &[500.0, 520.0, 610.0, 580.0, 700.0, 650.0]);
    assert_eq!(w.iter().map(|x| x.0).collect::<Vec<_>>(), ["target-always-met"]);
    // One month with less to spare: a real target.
    assert!(warnings(">= 400", &[500.0, 520.0, 610.0, 480.0, 700.0, 650.0]).is_empty());
    // Below: "at most" targets too.
    let w = warnings("<= 1000", &[500.0, 520.0, 610.0, 580.0, 700.0, 650.0]);
    assert_eq!(w.iter().map(|x| x.0).collect::<Vec<_>>(), ["target-always-met"]);
}

#[test]
fn a_short_history_or_a_mixed_one_says_nothing() {
    assert!(warnings(">= 1000", &[400.0, 520.0, 610.0, 480.0, 700.0]).is_empty());
    assert!(warnings(">= 500", &[400.0, 520.0, 610.0, 480.0, 700.0, 650.0, 590.0]).is_empty());
}

#[test]
fn only_the_last_twelve_periods_count() {
    // Met long ago, missed in each of the last twelve months.
    let mut amounts = vec![2000.0, 2000.0];
    amounts.extend([400.0; 12]);
    let mut csv = String::from("ordered_at,amount\n");
    for (i, a) in amounts.iter().enumerate() {
        let (y, m) = (2025 + i / 12, i % 12 + 1);
        csv += &format!("{y}-{m:02}-10T12:00:00Z,{a}\n");
    }
    let body = "[source.orders]\npath = \"data/orders.csv\"\ntime = \"ordered_at\"\n\n\
         [kpi.revenue]\nobjective = \"o\"\nowner = \"me\"\nsource = \"orders\"\nmeasure = \"sum(amount)\"\n\
         every = \"month\"\ntarget = \">= 1000\"\n";
    let dir = project("UTC", body, &[("data/orders.csv", &csv)]);
    let (p, ev) = evaluate(dir.path(), "2026-03-01T00:00:00Z");
    let w = yardstick_engine::history::target_history(&p, &ev);
    assert_eq!(w.iter().map(|d| d.code).collect::<Vec<_>>(), ["target-never-met"]);
}
