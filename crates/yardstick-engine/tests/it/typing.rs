//! `check` rejects whatever data `eval` would reject, at file, row and
//! column; columns are typed from the whole file, declared types are the
//! reader's schema.

use std::path::Path;

use proptest::prelude::*;
use yardstick_core::Diagnostics;
use yardstick_engine::eval::EvalOptions;

use super::{assert_close, project, utc, value};

fn check(dir: &Path) -> Diagnostics {
    let loaded = yardstick_engine::load_dir(dir);
    assert!(!loaded.diagnostics.has_errors(), "{:#?}", loaded.diagnostics);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(yardstick_engine::check_data(&loaded.project, dir))
}

/// Evaluates without checking first: `Err` with the message when it fails.
fn eval_unchecked(dir: &Path, as_of: &str) -> Result<yardstick_engine::Evaluation, String> {
    let loaded = yardstick_engine::load_dir(dir);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let opts = EvalOptions {
        as_of: utc(as_of),
        from: None,
        to: None,
        kpis: Vec::new(),
        by: None,
        projections: true,
    };
    match rt.block_on(yardstick_engine::evaluate_dir(&loaded.project, dir, &opts)) {
        Ok((ev, d)) if !d.has_errors() => Ok(ev),
        Ok((_, d)) => Err(format!(
            "{:?}",
            d.iter().map(|x| x.message.clone()).collect::<Vec<_>>()
        )),
        Err(e) => Err(e.to_string()),
    }
}

fn errors(d: &Diagnostics) -> Vec<String> {
    d.iter()
        .filter(|x| x.severity == yardstick_core::Severity::Error)
        .map(|x| x.message.clone())
        .collect()
}

const TICKETS: &str = r#"
[source.tickets]
path = "data/tickets.csv"
time = "created_at"

[kpi.first_response]
source = "tickets"
share = "first_response_at - created_at <= interval '24 hours'"
every = "month"
target = ">= 90%"
"#;

#[test]
fn a_non_time_in_a_time_column_that_a_fragment_reads_is_found_by_check() {
    let csv = "created_at,first_response_at\n\
               2026-06-01T10:00:00Z,2026-06-01T12:00:00Z\n\
               2026-06-02T10:00:00Z,n/a\n\
               2026-06-03T10:00:00Z,2026-06-05T12:00:00Z\n\
               2026-06-04T10:00:00Z,\n";
    let dir = project("UTC", TICKETS, &[("data/tickets.csv", csv)]);
    let e = errors(&check(dir.path()));
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].contains("data/tickets.csv:3") && e[0].contains("first_response_at") && e[0].contains("`n/a`"),
        "{e:?}"
    );
    // eval fails too, naming the value and the column (never a coercion error).
    let err = eval_unchecked(dir.path(), "2026-07-01T00:00:00Z").expect_err("eval rejects it");
    assert!(err.contains("n/a") && err.contains("first_response_at"), "{err}");

    // Fixed (blank for no value): both pass, and the share is right:
    // 1 of 3 answered rows within a day (the blank one is not answered).
    let fixed = csv.replace("n/a", "2026-06-02T11:00:00Z");
    let dir = project("UTC", TICKETS, &[("data/tickets.csv", &fixed)]);
    assert!(errors(&check(dir.path())).is_empty());
    let rows = eval_unchecked(dir.path(), "2026-07-01T00:00:00Z")
        .expect("eval")
        .evaluations;
    assert_close(value(&rows, "first_response", "2026-06", None), 2.0 / 4.0);
}

#[test]
fn a_declared_timestamp_is_checked_row_by_row() {
    let body = TICKETS.replace(
        "time = \"created_at\"\n",
        "time = \"created_at\"\ncolumns = { first_response_at = \"timestamp\" }\n",
    );
    let csv = "created_at,first_response_at\n2026-06-01T10:00:00Z,TBD\n";
    let dir = project("UTC", &body, &[("data/tickets.csv", csv)]);
    let e = errors(&check(dir.path()));
    assert!(
        e.iter()
            .any(|m| m.contains("data/tickets.csv:2") && m.contains("`TBD`")),
        "{e:?}"
    );
}

const ORDERS: &str = r#"
[source.orders]
path = "data/orders.csv"
time = "at"

[kpi.revenue]
source = "orders"
measure = "sum(value)"
every = "month"
target = ">= 0"

[kpi.big_orders]
source = "orders"
measure = "count(*)"
filter = "value > 100"
every = "month"
target = ">= 0"
"#;

fn orders_csv(n: usize, last: &str) -> String {
    let mut csv = String::from("at,value\n");
    for i in 0..n {
        csv.push_str(&format!("2026-06-{:02}T10:00:00Z,{}\n", i % 28 + 1, 20 + i % 7));
    }
    csv.push_str(&format!("2026-06-28T10:00:00Z,{last}\n"));
    csv
}

#[test]
fn types_come_from_the_whole_file_not_a_sample() {
    // Whole numbers for 3,000 rows, then 513.5: a number column, summed exactly.
    let csv = orders_csv(3000, "513.5");
    let dir = project("UTC", ORDERS, &[("data/orders.csv", &csv)]);
    assert!(errors(&check(dir.path())).is_empty());
    let rows = eval_unchecked(dir.path(), "2026-07-01T00:00:00Z")
        .expect("eval")
        .evaluations;
    let want: f64 = (0..3000).map(|i| (20 + i % 7) as f64).sum::<f64>() + 513.5;
    assert_close(value(&rows, "revenue", "2026-06", None), want);
    assert_close(value(&rows, "big_orders", "2026-06", None), 1.0);
}

#[test]
fn declared_types_are_the_readers_schema() {
    let body = ORDERS.replace(
        "time = \"at\"\n",
        "time = \"at\"\ncolumns = { value = \"double\" }\n",
    );
    let csv = orders_csv(3000, "513.5");
    let dir = project("UTC", &body, &[("data/orders.csv", &csv)]);
    assert!(errors(&check(dir.path())).is_empty());
    let rows = eval_unchecked(dir.path(), "2026-07-01T00:00:00Z")
        .expect("eval")
        .evaluations;
    assert_close(value(&rows, "big_orders", "2026-06", None), 1.0);
    // Declared whole numbers: 513.5 is an error at its row.
    let body = ORDERS.replace(
        "time = \"at\"\n",
        "time = \"at\"\ncolumns = { value = \"int\" }\n",
    );
    let dir = project("UTC", &body, &[("data/orders.csv", &csv)]);
    let e = errors(&check(dir.path()));
    assert!(
        e.iter()
            .any(|m| m.contains("data/orders.csv:3002") && m.contains("513.5")),
        "{e:?}"
    );
}

#[test]
fn text_in_a_number_column_is_an_error_not_a_string_comparison() {
    // `TBD` would make `value` text and `value > 100` compare strings ("25" > "100").
    let csv = orders_csv(20, "TBD");
    let dir = project("UTC", ORDERS, &[("data/orders.csv", &csv)]);
    let e = errors(&check(dir.path()));
    assert!(
        e.iter()
            .any(|m| m.contains("data/orders.csv:22") && m.contains("`TBD`") && m.contains("value")),
        "{e:?}"
    );
    assert!(eval_unchecked(dir.path(), "2026-07-01T00:00:00Z").is_err());
}

#[test]
fn an_empty_file_says_so_once() {
    let dir = project("UTC", ORDERS, &[("data/orders.csv", "")]);
    let d = check(dir.path());
    let e = errors(&d);
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].contains("is empty"), "{e:?}");
    // A header alone is a source without rows: no data, no error.
    let dir = project("UTC", ORDERS, &[("data/orders.csv", "at,value\n")]);
    assert!(errors(&check(dir.path())).is_empty());
    eval_unchecked(dir.path(), "2026-07-01T00:00:00Z").expect("no rows evaluate");
}

// ------------------------------------------------------------ property

/// The seed example, copied so its files can be corrupted.
fn seed_copy() -> Option<tempfile::TempDir> {
    let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/spec/examples/seed-kpis");
    if !seed.join("yardstick.toml").exists() {
        return None;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(dir.path().join("data")).expect("data dir");
    std::fs::copy(seed.join("yardstick.toml"), dir.path().join("yardstick.toml")).expect("copy");
    for f in std::fs::read_dir(seed.join("data")).expect("seed data") {
        let f = f.expect("entry");
        std::fs::copy(f.path(), dir.path().join("data").join(f.file_name())).expect("copy");
    }
    Some(dir)
}

#[derive(Debug, Clone)]
enum Corruption {
    /// Replace one cell (row ≥ 1, column) with this text.
    Cell(usize, usize, &'static str),
    Empty,
    HeaderOnly,
    DropColumn(usize),
}

fn corruption() -> impl Strategy<Value = Corruption> {
    prop_oneof![
        4 => (1usize..40, 0usize..8, prop::sample::select(vec!["n/a", "", "TBD", " ", "12x", "2026-13-45", "true", "-5", "1e3"]))
            .prop_map(|(r, c, v)| Corruption::Cell(r, c, v)),
        1 => Just(Corruption::Empty),
        1 => Just(Corruption::HeaderOnly),
        1 => (0usize..8).prop_map(Corruption::DropColumn),
    ]
}

fn corrupt(text: &str, c: &Corruption) -> String {
    let mut lines: Vec<Vec<String>> = text
        .lines()
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    match c {
        Corruption::Empty => return String::new(),
        Corruption::HeaderOnly => lines.truncate(1),
        Corruption::Cell(r, col, v) => {
            let r = r % lines.len().max(2).saturating_sub(1) + 1;
            if let Some(line) = lines.get_mut(r) {
                let col = col % line.len().max(1);
                line[col] = v.to_string();
            }
        }
        Corruption::DropColumn(col) => {
            let col = col % lines[0].len().max(1);
            for l in &mut lines {
                if col < l.len() {
                    l.remove(col);
                }
            }
        }
    }
    let mut out: Vec<String> = lines.into_iter().map(|l| l.join(",")).collect();
    out.push(String::new());
    out.join("\n")
}

const SEED_FILES: [&str; 5] = [
    "orders.csv",
    "deals.csv",
    "tickets.csv",
    "incidents.csv",
    "maintenance.csv",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    /// Whenever `check` passes, `eval`, `sla` and `payouts` succeed;
    /// whenever `eval` fails, `check` has named file, row and column.
    #[test]
    fn check_passing_means_eval_succeeds(file in 0usize..5, c in corruption()) {
        let Some(dir) = seed_copy() else {
            eprintln!("SKIPPED: ../shared/spec/examples/seed-kpis is not beside the repository");
            return Ok(());
        };
        let path = dir.path().join("data").join(SEED_FILES[file]);
        let text = std::fs::read_to_string(&path).expect("read");
        std::fs::write(&path, corrupt(&text, &c)).expect("write");
        let loaded = yardstick_engine::load_dir(dir.path());
        prop_assert!(!loaded.diagnostics.has_errors());
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        let checked = rt.block_on(yardstick_engine::check_data(&loaded.project, dir.path()));
        let evaluated = eval_unchecked(dir.path(), "2026-10-01T12:00:00Z");
        if !checked.has_errors() {
            let ev = evaluated.map_err(|e| TestCaseError::fail(format!("check passed, eval failed: {e}")))?;
            let _ = yardstick_engine::consequences::sla(&loaded.project, &ev);
            let _ = yardstick_engine::consequences::payouts(&loaded.project, &ev);
        } else if evaluated.is_err() {
            // Every error is located; a bad value names the file and its
            // row (`file:line`) and column.
            let shown = || format!("{:#?}", checked.iter().map(|d| &d.message).collect::<Vec<_>>());
            prop_assert!(checked.iter().all(|d| d.loc.is_some()), "{}", shown());
            for d in checked.iter().filter(|d| d.code == "bad-time" || d.code == "bad-value") {
                let place = format!("data/{}:", SEED_FILES[file]);
                prop_assert!(d.message.contains(&place) && d.message.contains("(row "), "{}", shown());
            }
        }
    }
}
