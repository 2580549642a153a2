//! `eval` and `explain`: the seed oracle, DuckDB on the benchmark set, CSV and tables.

use super::*;

#[test]
fn the_seed_example_evaluates_to_the_oracle() {
    let seed = seed_dir();
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(seed.join("expected/eval.json")).expect("expected/eval.json"),
    )
    .expect("expected JSON");
    let as_of = expected["as_of"].as_str().expect("as_of");
    let out = yardstick(&["eval", ".", "--format", "json", "--as-of", as_of], &seed);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let got: Value = serde_json::from_slice(&out.stdout).expect("eval JSON");
    assert_eq!(got["as_of"], expected["as_of"]);
    let got_rows = rows_by_key(&got);
    let want_rows = rows_by_key(&expected);
    assert_eq!(want_rows.len(), 64);
    for (key, want) in &want_rows {
        let have = got_rows.get(key).unwrap_or_else(|| panic!("missing row {key:?}"));
        assert_eq!(have["status"], want["status"], "{key:?}");
        match (have["value"].as_f64(), want["value"].as_f64()) {
            (None, None) => {}
            (Some(h), Some(w)) => assert!((h - w).abs() <= 1e-6 * w.abs().max(1e-12), "{key:?}: {h} vs {w}"),
            other => panic!("{key:?}: {other:?}"),
        }
        assert_eq!(have["complete"], true, "{key:?}");
    }
    // Every other row is a period still running at as_of.
    for (key, have) in &got_rows {
        if !want_rows.contains_key(key) {
            assert_eq!(have["complete"], false, "unexpected complete row {key:?}");
        }
    }
}

#[test]
fn eval_writes_csv_and_a_table() {
    let seed = seed_dir();
    let out = yardstick(
        &[
            "eval",
            ".",
            "--format",
            "csv",
            "--as-of",
            "2026-10-01T12:00:00Z",
            "--kpi",
            "uptime",
        ],
        &seed,
    );
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    assert!(
        lines
            .next()
            .unwrap_or_default()
            .starts_with("kpi,period,start,end,entity,value,target,status")
    );
    assert!(text.contains("uptime,2026-06,2026-06-01T00:00:00+02:00,2026-07-01T00:00:00+02:00,,0.9944289693593314,>= 99.5%,missed"));
    let out = yardstick(
        &[
            "eval",
            ".",
            "--as-of",
            "2026-10-01T12:00:00Z",
            "--kpi",
            "uptime",
            "--from",
            "2026-06-01",
        ],
        &seed,
    );
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("99.44%") && table.contains("✗ missed"), "{table}");
    // Without --from, a terminal shows the latest three periods and says so.
    let out = yardstick(
        &["eval", ".", "--as-of", "2026-10-01T12:00:00Z", "--kpi", "uptime"],
        &seed,
    );
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(!table.contains("2026-06") && table.contains("2026-10"), "{table}");
    assert!(
        table.contains("the last 3 periods of each KPI; 2 earlier rows"),
        "{table}"
    );
}

#[test]
fn eval_refuses_unparseable_times_and_unknown_kpis_clearly() {
    let dir = broken_seed("", "");
    let path = dir.path().join("data/orders.csv");
    let text = std::fs::read_to_string(&path).expect("orders");
    std::fs::write(&path, text.replacen("2026-06-01T07:11:01Z", "June 1st", 1)).expect("write");
    let out = yardstick(&["eval", ".", "--as-of", "2026-10-01T12:00:00Z"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("data/orders.csv:3 (row 2)") && err.contains("June 1st"),
        "{err}"
    );
    // A column of the wrong type: located at the measure, with what is accepted.
    let dir = broken_seed("measure = \"sum(amount)\"", "measure = \"sum(region)\"");
    let out = yardstick(&["eval", ".", "--as-of", "2026-10-01T12:00:00Z"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("yardstick.toml:52:11") && err.contains("sum(Utf8)") && err.contains("sum(Float64)"),
        "{err}"
    );
    let out = yardstick(&["eval", ".", "--kpi", "revenu"], &seed_dir());
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown KPI `revenu`"));
}

#[test]
fn the_benchmark_kpis_match_duckdb_at_100k_rows() {
    let python_ok = Command::new("python3")
        .args(["-c", "import numpy, pyarrow"])
        .status()
        .is_ok_and(|s| s.success());
    if !python_ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install numpy and pyarrow (see .ci/run)"
        );
        eprintln!(
            "SKIPPED the_benchmark_kpis_match_duckdb_at_100k_rows: `pip install numpy pyarrow` to run it"
        );
        return;
    }
    let bench = seed_dir().join("../../../bench");
    let tmp = tempfile::tempdir().expect("temp dir");
    let gen_out = Command::new("python3")
        .arg(bench.join("gen_data.py"))
        .args(["--rows", "100000", "--out"])
        .arg(tmp.path().join("data"))
        .output()
        .expect("gen_data.py runs");
    assert!(
        gen_out.status.success(),
        "{}",
        String::from_utf8_lossy(&gen_out.stderr)
    );
    std::fs::copy(bench.join("yardstick.toml"), tmp.path().join("yardstick.toml")).expect("copy");
    let out = yardstick(
        &["eval", ".", "--format", "json", "--as-of", "2025-01-01T00:00:00Z"],
        tmp.path(),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::write(tmp.path().join("eval.json"), &out.stdout).expect("write");
    let cmp = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/compare_bench.py"))
        .arg(tmp.path().join("eval.json"))
        .arg(bench.join("expected/100k"))
        .output()
        .expect("compare_bench.py runs");
    let report = String::from_utf8_lossy(&cmp.stdout);
    assert!(cmp.status.success(), "{report}");
    assert!(report.contains("9091 passed, 0 failed"), "{report}");
}

#[test]
fn explain_shows_the_query_rows_inputs_and_why() {
    let seed = seed_dir();
    let as_of = ["--as-of", "2026-10-01T12:00:00Z", "--format", "json"];
    let run = |args: &[&str]| -> Value {
        let mut all = vec!["explain"];
        all.extend_from_slice(args);
        all.extend_from_slice(&as_of);
        let out = yardstick(&all, &seed);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).expect("explain JSON")
    };
    let x = run(&["conversion_rate", "2026-07", "--entity", "salesperson=Ana"]);
    assert_eq!(x["value"], 0.5);
    assert_eq!(x["status"], "met");
    assert_eq!(x["rows_in_period"], 8);
    assert!(
        x["sql"]
            .as_str()
            .unwrap_or_default()
            .contains("\"salesperson\" = 'Ana'")
    );
    assert!(x["plan"].as_str().unwrap_or_default().contains("Aggregate"));
    assert_eq!(x["reason"], "50% meets the target >= 25%: met.");
    // Growth shows its input now and in the reference period.
    let x = run(&["revenue_growth", "2026-08"]);
    let inputs = x["inputs"].as_array().expect("inputs");
    assert_eq!(inputs.len(), 2);
    assert_eq!(
        (&inputs[0]["period"], &inputs[1]["period"]),
        (&Value::from("2026-08"), &Value::from("2026-07"))
    );
    // Availability accounts for its time: June 2026 is 720 h, 2 h excluded, 4 h down.
    let x = run(&["uptime", "2026-06"]);
    assert_eq!(x["availability"]["scheduled_hours"], 718.0);
    assert_eq!(x["availability"]["downtime_hours"], 4.0);
    assert_eq!(x["status"], "missed");
    // A for_each KPI needs its entity; a wrong period kind is refused.
    let out = yardstick(&["explain", "conversion_rate", "2026-07"], &seed);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--entity salesperson="));
    let out = yardstick(&["explain", "revenue", "2026-Q3"], &seed);
    assert_eq!(out.status.code(), Some(1));
}
