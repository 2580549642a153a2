//! The `yardstick` binary on real files: the acceptance list of the
//! foundation issue (seed example, breakages, demo, templates).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn yardstick(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_yardstick"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .output()
        .expect("the yardstick binary runs")
}

/// The seed example shipped beside the repository in `../shared`.
fn seed_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/spec/examples/seed-kpis");
    assert!(
        dir.join("yardstick.toml").is_file(),
        "the shared spec must sit beside the repository: {} is missing",
        dir.display()
    );
    dir
}

/// A writable copy of the seed example with one edit applied (none when
/// `from` is empty).
fn broken_seed(from: &str, to: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("temp dir");
    let seed = seed_dir();
    std::fs::create_dir_all(tmp.path().join("data")).expect("data dir");
    for entry in std::fs::read_dir(seed.join("data")).expect("seed data") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), tmp.path().join("data").join(entry.file_name())).expect("copy");
    }
    let text = std::fs::read_to_string(seed.join("yardstick.toml")).expect("seed definitions");
    assert!(text.contains(from), "the seed no longer contains {from:?}");
    std::fs::write(tmp.path().join("yardstick.toml"), text.replacen(from, to, 1)).expect("write");
    tmp
}

fn check_json(dir: &Path) -> (i32, Value) {
    let out = yardstick(&["check", ".", "--format", "json"], dir);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "check printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    (out.status.code().unwrap_or(-1), json)
}

/// The single error of a broken project: (code, "file:line:col", hint).
fn the_error(json: &Value) -> (String, String, String) {
    let errors: Vec<&Value> = json["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["severity"] == "error")
        .collect();
    assert_eq!(errors.len(), 1, "expected one error: {json:#}");
    let e = errors[0];
    (
        e["code"].as_str().unwrap_or_default().to_string(),
        format!(
            "{}:{}:{}",
            e["file"].as_str().unwrap_or_default(),
            e["line"],
            e["column"]
        ),
        e["hint"].as_str().unwrap_or_default().to_string(),
    )
}

#[test]
fn the_seed_example_checks_clean() {
    let (code, json) = check_json(&seed_dir());
    assert_eq!(code, 0, "{json:#}");
    assert_eq!(json["errors"], 0);
    assert_eq!(json["warnings"], 0, "{json:#}");
    assert_eq!(json["counts"]["kpis"], 11);
    assert_eq!(json["data_checked"], "yes");
}

/// Each breakage of the seed: the edit, the error code, where, and a hint.
const BREAKAGES: [(&str, &str, &str, &str, &str); 7] = [
    (
        "unknown key",
        "target = \">= 25000\"",
        "traget = \">= 25000\"",
        "unknown-key",
        "yardstick.toml:55:1",
    ),
    (
        "bad target",
        "target = \">= 15\"",
        "target = \">== 15\"",
        "bad-target",
        "yardstick.toml:67:10",
    ),
    (
        "unknown source",
        "source = \"deals\"",
        "source = \"deal\"",
        "unknown-reference",
        "yardstick.toml:119:10",
    ),
    (
        "formula cycle",
        "formula = \"revenue / order_count\"",
        "formula = \"revenue / average_order_value\"",
        "formula-cycle",
        "yardstick.toml:77:22",
    ),
    (
        "missing column",
        "measure = \"sum(amount - cost)\"",
        "measure = \"sum(amount - costs)\"",
        "unknown-column",
        "yardstick.toml:43:25",
    ),
    (
        "bad time zone",
        "timezone = \"Europe/Berlin\"",
        "timezone = \"Europe/Berln\"",
        "bad-timezone",
        "yardstick.toml:4:12",
    ),
    (
        "two measure forms",
        "share = \"stage = 'won'\"",
        "share = \"stage = 'won'\"\nmeasure = \"count(*)\"",
        "multiple-measures",
        "yardstick.toml:121:1",
    ),
];

#[test]
fn each_breakage_of_the_seed_is_one_located_error_with_a_hint() {
    for (what, from, to, code, at) in BREAKAGES {
        let dir = broken_seed(from, to);
        let (exit, json) = check_json(dir.path());
        assert_eq!(exit, 1, "{what}: {json:#}");
        let (got_code, got_at, hint) = the_error(&json);
        assert_eq!((got_code.as_str(), got_at.as_str()), (code, at), "{what}");
        assert!(!hint.is_empty(), "{what}: no hint");
    }
}

#[test]
fn hints_say_what_to_write() {
    let hint = |from, to| the_error(&check_json(broken_seed(from, to).path()).1).2;
    assert_eq!(
        hint("target = \">= 25000\"", "traget = \">= 25000\""),
        "did you mean `target`?"
    );
    assert!(hint("target = \">= 15\"", "target = \">== 15\"").contains("\"between 10 and 20\""));
    assert_eq!(
        hint(
            "measure = \"sum(amount - cost)\"",
            "measure = \"sum(amount - costs)\""
        ),
        "did you mean `cost`?"
    );
    assert_eq!(
        hint("timezone = \"Europe/Berlin\"", "timezone = \"Europe/Berln\""),
        "did you mean `Europe/Berlin`?"
    );
}

#[test]
fn text_output_quotes_the_line_with_a_caret() {
    let dir = broken_seed("target = \">= 15\"", "target = \">== 15\"");
    let out = yardstick(&["check", "."], dir.path());
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stdout));
}

#[test]
fn a_time_that_does_not_parse_names_file_and_row() {
    let dir = broken_seed("", "");
    let path = dir.path().join("data/deals.csv");
    let text = std::fs::read_to_string(&path).expect("deals");
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    assert!(lines[2].contains("2026-06-13T08:43:25Z"), "{}", lines[2]);
    lines[2] = lines[2].replacen("2026-06-13T08:43:25Z", "13/06/2026 08:43", 1);
    std::fs::write(&path, lines.join("\n") + "\n").expect("write");
    let (exit, json) = check_json(dir.path());
    assert_eq!(exit, 1);
    let (code, at, _) = the_error(&json);
    assert_eq!((code.as_str(), at.as_str()), ("bad-time", "yardstick.toml:16:8"));
    let message = json["diagnostics"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("data/deals.csv:3 (row 2)"), "{message}");
    assert!(message.contains("13/06/2026 08:43"), "{message}");
}

#[test]
fn a_missing_data_file_is_an_error_at_its_path() {
    let dir = broken_seed("path = \"data/tickets.csv\"", "path = \"data/ticket.csv\"");
    let (exit, json) = check_json(dir.path());
    assert_eq!(exit, 1);
    let (code, at, _) = the_error(&json);
    assert_eq!(
        (code.as_str(), at.as_str()),
        ("missing-data", "yardstick.toml:20:8")
    );
}

#[test]
fn the_demo_checks_clean() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = yardstick(&["demo", "demo", "--end", "2026-11-24", "--no-serve"], tmp.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (code, json) = check_json(&tmp.path().join("demo"));
    assert_eq!(
        (code, &json["errors"], &json["warnings"]),
        (0, &Value::from(0), &Value::from(0)),
        "{json:#}"
    );
    assert_eq!(json["counts"]["kpis"], 17);
    // Trial signups were pushed into the store as the website would: the
    // KPI has values from the first month on.
    let out = yardstick(
        &[
            "eval",
            "demo",
            "--kpi",
            "trial_signups",
            "--as-of",
            "2026-11-24",
            "--format",
            "json",
        ],
        tmp.path(),
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let rows = v["evaluations"].as_array().expect("rows");
    assert!(rows.len() >= 13, "{v}");
    assert!(
        rows.iter()
            .filter(|r| r["complete"] == true)
            .all(|r| r["value"].as_f64().unwrap_or(0.0) > 5.0),
        "{v}"
    );
    let out = yardstick(
        &["alerts", "demo", "--as-of", "2026-11-24", "--format", "json"],
        tmp.path(),
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(v["alerts"].as_array().is_some_and(|a| a.len() >= 2), "{v}");
    assert!(tmp.path().join("demo/.gitignore").exists());
    // Never overwrites.
    let again = yardstick(&["demo", "demo", "--no-serve"], tmp.path());
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));
}

const TEMPLATES: [&str; 5] = [
    "saas",
    "sla",
    "partnership-distribution",
    "partnership-jv",
    "partnership-technology",
];

#[test]
fn every_init_template_checks_clean() {
    for t in TEMPLATES {
        let tmp = tempfile::tempdir().expect("temp dir");
        let out = yardstick(&["init", "p", "--template", t], tmp.path());
        assert!(
            out.status.success(),
            "{t}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let (code, json) = check_json(&tmp.path().join("p"));
        assert_eq!(
            (code, &json["errors"], &json["warnings"]),
            (0, &Value::from(0), &Value::from(0)),
            "{t}: {json:#}"
        );
        assert!(json["counts"]["kpis"].as_u64().unwrap_or(0) >= 3, "{t}");
        assert!(tmp.path().join("p/.gitignore").exists(), "{t}");
    }
}

/// A new project shows a year of values ending yesterday, with statuses
/// that are not all the same, on the day it is made.
#[test]
fn a_new_project_has_a_year_of_data_ending_yesterday() {
    for t in TEMPLATES {
        let tmp = tempfile::tempdir().expect("temp dir");
        let out = yardstick(&["init", "p", "--template", t, "--end", "2027-03-10"], tmp.path());
        assert!(
            out.status.success(),
            "{t}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = yardstick(
            &["eval", "p", "--as-of", "2027-03-10T00:00:00Z", "--format", "json"],
            tmp.path(),
        );
        assert!(
            out.status.success(),
            "{t}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).expect("json");
        let rows = v["evaluations"].as_array().expect("rows");
        let complete: Vec<&Value> = rows.iter().filter(|r| r["complete"] == true).collect();
        let statuses: std::collections::BTreeSet<&str> =
            complete.iter().filter_map(|r| r["status"].as_str()).collect();
        assert!(
            statuses.contains("met") && statuses.len() >= 2,
            "{t}: {statuses:?}"
        );
        let no_data = complete.iter().filter(|r| r["status"] == "no_data").count();
        assert!(
            no_data * 10 <= complete.len(),
            "{t}: {no_data} of {} without data",
            complete.len()
        );
        // Every KPI has a value in its latest complete period.
        let mut latest: std::collections::BTreeMap<&str, &Value> = std::collections::BTreeMap::new();
        for r in &complete {
            latest.insert(r["kpi"].as_str().expect("kpi"), r);
        }
        for (kpi, r) in latest {
            assert!(
                r["value"].is_number(),
                "{t}: {kpi} has no value in {}",
                r["period"]
            );
        }
        let first = rows
            .iter()
            .filter_map(|r| r["start"].as_str())
            .min()
            .unwrap_or_default();
        assert!(first < "2026-04", "{t}: data starts {first}");
    }
}

#[test]
fn checking_a_folder_without_a_project_says_how_to_make_one() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = yardstick(&["check", "."], tmp.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("yardstick init"));
}

#[test]
fn every_command_has_examples_in_its_help() {
    for cmd in [
        "check",
        "eval",
        "explain",
        "sla",
        "slo",
        "payouts",
        "score",
        "partnership",
        "init",
        "demo",
        "serve",
        "push",
        "token",
    ] {
        let out = yardstick(&[cmd, "--help"], Path::new("."));
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(help.contains("Examples:"), "{cmd}: {help}");
        assert!(
            !help.contains("LANGUAGE.md"),
            "{cmd}: say what the output is: {help}"
        );
    }
}

/// Every `[DIR]`, `--project` and `--as-of` says what it is.
#[test]
fn every_argument_is_explained_in_help() {
    for cmd in [
        "check",
        "eval",
        "explain",
        "forecast",
        "watch",
        "alerts",
        "sla",
        "payouts",
        "score",
        "slo",
        "partnership",
        "serve",
        "push",
    ] {
        let out = yardstick(&[cmd, "--help"], Path::new("."));
        let help = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<&str> = help.lines().map(str::trim_start).collect();
        for (i, t) in lines.iter().enumerate() {
            if t.starts_with("[DIR]")
                || t.starts_with("-C, --project <DIR>")
                || t.starts_with("--as-of <AS_OF>")
            {
                let same_line = t.split_once('>').map_or(&t[5..], |(_, rest)| rest).trim();
                // Long help puts the text on the next line.
                let doc = if same_line.is_empty() {
                    lines.get(i + 1).copied().unwrap_or("")
                } else {
                    same_line
                };
                assert!(
                    !doc.is_empty() && !doc.starts_with('['),
                    "{cmd}: `{t}` is not explained"
                );
            }
        }
        if !matches!(cmd, "serve" | "push") {
            assert!(help.contains("--as-of"), "{cmd}");
        }
    }
    let out = yardstick(&["--help"], Path::new("."));
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(!help.contains("glue"), "{help}");
}

#[test]
fn completions_are_written_for_each_shell() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef yardstick"),
        ("fish", "complete -c yardstick"),
    ] {
        let out = yardstick(&["completions", shell], Path::new("."));
        assert!(out.status.success(), "{shell}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains(marker) && text.contains("forecast"),
            "{shell}: {text}"
        );
    }
}

/// `(kpi, period, entity)` → row of an `eval --format json` output.
fn rows_by_key(json: &Value) -> std::collections::HashMap<(String, String, String), Value> {
    json["evaluations"]
        .as_array()
        .expect("evaluations")
        .iter()
        .map(|r| {
            let key = (
                r["kpi"].as_str().unwrap_or_default().to_string(),
                r["period"].as_str().unwrap_or_default().to_string(),
                r["entity"].to_string(),
            );
            (key, r.clone())
        })
        .collect()
}

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

/// Compares rows of `list` keyed by `key` fields; numbers within 1e-6 relative.
fn assert_matches_oracle(got: &Value, want: &Value, list: &str, key: &[&str], fields: &[&str]) {
    let k = |r: &Value| {
        key.iter()
            .map(|f| r[*f].to_string())
            .collect::<Vec<_>>()
            .join("|")
    };
    let got_rows: std::collections::HashMap<String, &Value> = got[list]
        .as_array()
        .expect("list")
        .iter()
        .map(|r| (k(r), r))
        .collect();
    let want_rows = want[list].as_array().expect("expected list");
    assert!(!want_rows.is_empty());
    for w in want_rows {
        let g = got_rows.get(&k(w)).unwrap_or_else(|| panic!("missing {}", k(w)));
        for f in fields {
            match (g[*f].as_f64(), w[*f].as_f64()) {
                (Some(a), Some(b)) => assert!(
                    (a - b).abs() <= 1e-6 * b.abs().max(1e-9),
                    "{} {f}: {a} vs {b}",
                    k(w)
                ),
                _ => assert_eq!(g[*f], w[*f], "{} {f}", k(w)),
            }
        }
    }
    assert_eq!(got_rows.len(), want_rows.len(), "only ended periods are judged");
}

#[test]
fn the_seed_contract_and_bonus_plan_match_their_oracles() {
    let seed = seed_dir();
    let load = |name: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(seed.join("expected").join(name)).expect("oracle"))
            .expect("JSON")
    };
    let (sla, pay) = (load("sla.json"), load("incentives.json"));
    let as_of = sla["as_of"].as_str().expect("as_of");
    let run = |cmd: &str| -> Value {
        let out = yardstick(&[cmd, ".", "--format", "json", "--as-of", as_of], &seed);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).expect("JSON")
    };
    let got = run("sla");
    assert_matches_oracle(
        &got,
        &sla,
        "clauses",
        &["contract", "clause", "period"],
        &[
            "value",
            "breached",
            "triggered",
            "credit_share",
            "credit_amount",
            "actions",
        ],
    );
    let july = got["clauses"]
        .as_array()
        .and_then(|c| {
            c.iter()
                .find(|r| r["clause"] == "uptime" && r["period"] == "2026-07")
        })
        .expect("uptime 2026-07");
    assert_eq!(
        july["explanation"],
        "Platform uptime was 99.48% in 2026-07 (target >= 99.5%), the second month in a row below target: 10% service credit (€1,200) and the right to a contract review."
    );
    assert_matches_oracle(
        &run("payouts"),
        &pay,
        "payouts",
        &["incentive", "period", "entity"],
        &["attainment", "payout"],
    );
}

#[test]
fn scores_and_partnerships_are_reported() {
    let tmp = tempfile::tempdir().expect("temp dir");
    assert!(
        yardstick(&["demo", "d", "--end", "2026-11-24", "--no-serve"], tmp.path())
            .status
            .success()
    );
    let dir = tmp.path().join("d");
    let out = yardstick(&["score", ".", "--format", "json", "--as-of", "2026-11-24"], &dir);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let company = json["scores"]
        .as_array()
        .and_then(|s| {
            s.iter()
                .find(|r| r["scorecard"] == "company" && r["period"] == "2026-09")
        })
        .expect("company score");
    // The company scorecard weighs two team scorecards and two KPIs.
    let parts: Vec<&str> = company["parts"]
        .as_array()
        .expect("parts")
        .iter()
        .filter_map(|p| p["id"].as_str())
        .collect();
    assert_eq!(parts, ["sales", "support", "gross_margin", "uptime"]);
    let weighted: f64 = company["parts"]
        .as_array()
        .expect("parts")
        .iter()
        .map(|p| p["weight"].as_f64().unwrap_or(0.0) * p["score"].as_f64().unwrap_or(0.0))
        .sum();
    assert!((company["score"].as_f64().unwrap_or(0.0) - weighted / 7.0).abs() < 1e-12);
    let out = yardstick(
        &[
            "partnership",
            "cloudco",
            "--format",
            "json",
            "--as-of",
            "2026-11-24",
        ],
        &dir,
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(
        json["partners"],
        serde_json::json!(["Northwind Cloud", "CloudCo"])
    );
    assert!(json["scores"].as_array().is_some_and(|s| {
        s.iter()
            .all(|r| r["period"].as_str().unwrap_or("").contains("-Q"))
    }));
    let out = yardstick(&["partnership", "nope"], &dir);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn slo_budgets_are_counted_in_minutes_and_events() {
    let seed = seed_dir();
    let out = yardstick(
        &["slo", ".", "--format", "json", "--as-of", "2026-10-01T12:00:00Z"],
        &seed,
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let find = |kpi: &str, period: &str| -> Value {
        json["slos"]
            .as_array()
            .and_then(|s| {
                s.iter()
                    .find(|r| r["kpi"] == kpi && r["period"] == period)
                    .cloned()
            })
            .unwrap_or_else(|| panic!("no {kpi} {period}"))
    };
    let close = |v: &Value, want: f64| {
        let got = v.as_f64().unwrap_or(f64::NAN);
        assert!((got - want).abs() < 1e-9 * want.abs().max(1.0), "{got} vs {want}");
    };
    // June 2026: 718 scheduled hours (2 h maintenance), 4 h down, target 99.5%.
    let june = find("uptime", "2026-06");
    assert_eq!(june["unit"], "minutes");
    close(&june["budget"], 0.005 * 718.0 * 60.0);
    close(&june["consumed"], 240.0);
    close(&june["remaining"], 0.005 * 718.0 * 60.0 - 240.0);
    close(&june["burn_rate"], (4.0 / 718.0) / 0.005);
    // Shares count events: the budget is 10% of the month's tickets.
    let tickets = find("first_response_24h", "2026-06");
    assert_eq!(tickets["unit"], "events");
    let value = tickets["value"].as_f64().unwrap_or(f64::NAN);
    let events = tickets["budget"].as_f64().unwrap_or(f64::NAN) / 0.1;
    assert!((events - events.round()).abs() < 1e-9 && events > 0.0, "{events}");
    close(&tickets["consumed"], events * (1.0 - value));
}

// ------------------------------------------------------------------ server

const STORED: &str = r#"
[project]
name = "Crash"
timezone = "UTC"

[source.events]
store = true
time = "at"
columns = { at = "timestamp", id = "int" }

[kpi.events]
objective = "Count events"
owner = "ops"
measure = "count(*)"
source = "events"
every = "day"
target = ">= 0"
"#;

fn stored_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("yardstick.toml"), STORED).expect("write");
    dir
}

/// A running `yardstick serve` on an ephemeral port.
struct Served {
    child: std::process::Child,
    addr: String,
}

impl Served {
    fn start(dir: &Path) -> Served {
        use std::io::BufRead;
        let mut child = Command::new(env!("CARGO_BIN_EXE_yardstick"))
            .args(["serve", ".", "--addr", "127.0.0.1:0"])
            .current_dir(dir)
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("serve starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut reader = std::io::BufReader::new(stdout);
        let mut line = String::new();
        reader.read_line(&mut line).expect("address line");
        let mut dashboard = String::new();
        reader.read_line(&mut dashboard).expect("dashboard line");
        assert!(dashboard.starts_with("dashboard http://"), "{dashboard:?}");
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_string();
        Served { child, addr }
    }

    fn kill9(mut self) {
        let _ = self.child.kill(); // SIGKILL on Unix
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request over a fresh connection: the status, or an I/O
/// error when the server is gone.
fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> std::io::Result<(u16, String)> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr)?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(20)))?;
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes())?;
    s.write_all(body.as_bytes())?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no status in {out:?}")))?;
    let body = out
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

fn token(dir: &Path, role: &str) -> String {
    let out = yardstick(&["token", "create", "--role", role, "--format", "json"], dir);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    v["token"].as_str().expect("secret").to_string()
}

/// Every id stored in the project's state store, with multiplicity.
fn stored_ids(dir: &Path) -> std::collections::BTreeMap<i64, usize> {
    use datafusion::arrow::array::Int64Array;
    let loaded = yardstick_engine::load_dir(dir);
    let src = &loaded.project.sources["events"];
    let schema = yardstick_engine::ingest::stored_schema(src);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let url = yardstick_store::default_url(dir).expect("url");
    let batches = rt.block_on(async {
        let store = yardstick_store::Store::open(&url).await.expect("store");
        store.batches().await.expect("batches")
    });
    let mut ids = std::collections::BTreeMap::new();
    for (_, body) in batches {
        for b in yardstick_engine::ingest::decode(&body, &schema).expect("decodes") {
            let col = b.column(1).as_any().downcast_ref::<Int64Array>().expect("ids");
            for i in 0..col.len() {
                *ids.entry(col.value(i)).or_insert(0) += 1;
            }
        }
    }
    ids
}

#[test]
fn acknowledged_rows_survive_sigkill_exactly_once() {
    const ROWS: i64 = 200;
    let dir = stored_project();
    let editor = token(dir.path(), "editor");
    let body = |batch: i64| {
        let mut csv = String::from("at,id\n");
        for i in 0..ROWS {
            csv.push_str(&format!(
                "2026-11-{:02}T10:00:00Z,{}\n",
                1 + (batch % 20),
                batch * ROWS + i
            ));
        }
        csv
    };
    let mut acked = Vec::new();
    let mut seed: u64 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(7, |d| d.as_nanos() as u64);
    let mut next_batch = 0i64;
    let mut pending: Option<i64> = None;
    let mut kills = 0;
    for _round in 0..6 {
        let server = Served::start(dir.path());
        let addr = server.addr.clone();
        // Kill it after a random 100–600 ms while a client pushes.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let life = std::time::Duration::from_millis(100 + seed % 500);
        let auth = format!("Bearer {editor}");
        let client = std::thread::spawn({
            let addr = addr.clone();
            let mut pending = pending;
            let mut next_batch = next_batch;
            move || {
                let mut acked = Vec::new();
                loop {
                    let b = pending.unwrap_or_else(|| {
                        next_batch += 1;
                        next_batch
                    });
                    pending = Some(b);
                    let key = format!("batch-{b}");
                    let headers = [
                        ("Authorization", auth.as_str()),
                        ("Content-Type", "text/csv"),
                        ("Idempotency-Key", key.as_str()),
                    ];
                    match http(&addr, "POST", "/api/v1/sources/events/rows", &headers, &body(b)) {
                        Ok((200 | 201, _)) => {
                            acked.push(b);
                            pending = None;
                        }
                        Ok((status, text)) => panic!("batch {b}: {status} {text}"),
                        // The server is gone: retry this batch after the restart.
                        Err(_) => return (acked, pending, next_batch),
                    }
                }
            }
        });
        std::thread::sleep(life);
        server.kill9();
        kills += 1;
        let (a, p, n) = client.join().expect("client");
        acked.extend(a);
        pending = p;
        next_batch = n;
    }
    // A last life: the retried batch goes in, then a clean check.
    let server = Served::start(dir.path());
    if let Some(b) = pending {
        let key = format!("batch-{b}");
        let auth = format!("Bearer {editor}");
        let headers = [
            ("Authorization", auth.as_str()),
            ("Content-Type", "text/csv"),
            ("Idempotency-Key", key.as_str()),
        ];
        let (status, text) = http(
            &server.addr,
            "POST",
            "/api/v1/sources/events/rows",
            &headers,
            &body(b),
        )
        .expect("push");
        assert!(status == 200 || status == 201, "{status} {text}");
        acked.push(b);
    }
    server.kill9();
    eprintln!(
        "{kills} SIGKILLs, {} batches of {ROWS} rows acknowledged",
        acked.len()
    );
    assert!(
        kills >= 6 && acked.len() > 6,
        "too little happened: {} batches acknowledged",
        acked.len()
    );
    let ids = stored_ids(dir.path());
    let dupes: Vec<_> = ids.iter().filter(|(_, n)| **n > 1).collect();
    assert!(dupes.is_empty(), "rows stored twice: {dupes:?}");
    for b in &acked {
        for i in 0..ROWS {
            assert_eq!(
                ids.get(&(b * ROWS + i)),
                Some(&1),
                "acknowledged batch {b} lost row {i}"
            );
        }
    }
    // Nothing but acknowledged batches (each retried until acknowledged).
    assert_eq!(ids.len() as i64, acked.len() as i64 * ROWS);
}

#[test]
fn serve_push_and_tokens_from_the_command_line() {
    let dir = stored_project();
    // push: bad rows are listed, nothing is stored; good rows are committed once per key.
    std::fs::write(
        dir.path().join("bad.csv"),
        "at,id\n2026-11-01T00:00:00Z,1\nnever,x\n",
    )
    .expect("write");
    let out = yardstick(&["push", "events", "bad.csv", "--format", "json"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["code"], "invalid_rows");
    assert_eq!(v["errors"].as_array().map(Vec::len), Some(2), "{v}");
    std::fs::write(
        dir.path().join("good.csv"),
        "at,id\n2026-11-01T00:00:00Z,1\n2026-11-02T00:00:00Z,2\n",
    )
    .expect("write");
    for replayed in [false, true] {
        let out = yardstick(
            &[
                "push",
                "events",
                "good.csv",
                "--idempotency-key",
                "k",
                "--format",
                "json",
            ],
            dir.path(),
        );
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let v: Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(
            (v["rows"].as_i64(), v["replayed"].as_bool()),
            (Some(2), Some(replayed))
        );
    }
    assert_eq!(stored_ids(dir.path()).len(), 2);
    // eval reads stored rows.
    let out = yardstick(&["eval", "--as-of", "2026-11-03", "--format", "json"], dir.path());
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let day = |p: &str| {
        v["evaluations"]
            .as_array()
            .expect("rows")
            .iter()
            .find(|r| r["period"] == p)
            .and_then(|r| r["value"].as_f64())
    };
    assert_eq!((day("2026-11-01"), day("2026-11-02")), (Some(1.0), Some(1.0)));

    // Tokens: created (secret once), listed without secrets, revoked.
    let viewer = token(dir.path(), "viewer");
    let out = yardstick(&["token", "list", "--format", "json"], dir.path());
    let list: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(!list.to_string().contains(&viewer));
    let served = Served::start(dir.path());
    let auth = format!("Bearer {viewer}");
    let (status, body) = http(
        &served.addr,
        "GET",
        "/api/v1/evaluations?kpi=events&from=2026-11-01&to=2026-11-01",
        &[("Authorization", &auth)],
        "",
    )
    .expect("get");
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["evaluations"][0]["value"].as_f64(), Some(1.0), "{v}");
    let id = list["tokens"]
        .as_array()
        .expect("tokens")
        .iter()
        .find(|t| t["role"] == "viewer")
        .and_then(|t| t["id"].as_str())
        .expect("viewer id")
        .to_string();
    assert!(yardstick(&["token", "revoke", &id], dir.path()).status.success());
    let (status, _) = http(
        &served.addr,
        "GET",
        "/api/v1/kpis",
        &[("Authorization", &auth)],
        "",
    )
    .expect("get");
    assert_eq!(status, 401);
    // SIGTERM: a graceful stop, exit status 0.
    let pid = served.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill")
            .success()
    );
    let mut child = served.child;
    let status = child.wait().expect("wait");
    assert!(status.success(), "{status:?}");
}

#[test]
fn eval_reports_stale_sources_naming_their_owner() {
    let seed = seed_dir();
    // At the oracle's instant every source is fresh: the output is §7's object only.
    let out = yardstick(
        &["eval", "--as-of", "2026-10-01T12:00:00Z", "--format", "json"],
        &seed,
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(v.get("stale").is_none(), "{:?}", v.get("stale"));
    // Four days later the orders (freshness 1d, newest row 2026-09-30T21:40Z) are stale.
    let out = yardstick(&["eval", "--as-of", "2026-10-05", "--format", "json"], &seed);
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let stale = v["stale"].as_array().expect("stale list");
    assert_eq!(stale.len(), 1, "{stale:?}");
    assert_eq!(
        (&stale[0]["source"], &stale[0]["owner"], &stale[0]["newest"]),
        (
            &Value::from("orders"),
            &Value::from("sales-ops"),
            &Value::from("2026-09-30T21:40:00Z")
        )
    );
    // People reading a table get a warning on standard error.
    let out = yardstick(&["eval", "--as-of", "2026-10-05", "--kpi", "revenue"], &seed);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning: source `orders` is stale") && err.contains("owner: sales-ops"),
        "{err}"
    );
}

#[test]
fn check_lists_stale_data_apart_from_diagnostics() {
    let seed = seed_dir();
    let out = yardstick(
        &["check", ".", "--as-of", "2026-10-05", "--format", "json"],
        &seed,
    );
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["warnings"], 0, "stale data is not a definition warning");
    let stale = v["stale"].as_array().expect("stale list");
    assert_eq!(stale.len(), 1, "{stale:?}");
    assert_eq!(
        (&stale[0]["source"], &stale[0]["owner"]),
        (&Value::from("orders"), &Value::from("sales-ops"))
    );
    let out = yardstick(
        &[
            "check",
            ".",
            "--as-of",
            "2026-10-01T12:00:00Z",
            "--format",
            "json",
        ],
        &seed,
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(v.get("stale").is_none(), "{v}");
    let out = yardstick(&["check", ".", "--as-of", "2026-10-05"], &seed);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("stale data: source `orders` is stale"), "{text}");
}

#[test]
fn forecast_gives_every_entity_its_next_periods() {
    let seed = seed_dir();
    let out = yardstick(
        &[
            "forecast",
            "conversion_rate",
            "--horizon",
            "2",
            "--as-of",
            "2026-10-01",
            "--format",
            "json",
        ],
        &seed,
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let fc = v["forecasts"].as_array().expect("forecasts");
    assert!(fc.len() >= 2, "one per salesperson: {v}");
    for f in fc {
        assert!(f["entity"]["salesperson"].is_string(), "{f}");
        assert!(f["model"].is_string());
        let points = f["points"].as_array().expect("points");
        let periods: Vec<&str> = points.iter().filter_map(|p| p["period"].as_str()).collect();
        // The last complete month before 2026-10-01 is September.
        assert_eq!(periods, ["2026-10", "2026-11"], "{f}");
        for p in points {
            assert!(p["value"].is_number(), "{p}");
        }
    }
    // One entity only.
    let name = fc[0]["entity"]["salesperson"].as_str().expect("name").to_string();
    let out = yardstick(
        &[
            "forecast",
            "conversion_rate",
            "--entity",
            &format!("salesperson={name}"),
            "--as-of",
            "2026-10-01",
            "--format",
            "json",
        ],
        &seed,
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["forecasts"].as_array().map(Vec::len), Some(1));
    // Mistakes are said before any data is read.
    let out = yardstick(&["forecast", "revenu"], &seed);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no KPI `revenu`") && err.contains("did you mean `revenue`"),
        "{err}"
    );
    let out = yardstick(&["forecast", "revenue", "--entity", "region=north"], &seed);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not evaluated per `region`"));
}

#[test]
fn alerts_lists_rules_firing_and_ok() {
    let tmp = tempfile::tempdir().expect("temp dir");
    for entry in std::fs::read_dir(seed_dir()).expect("seed") {
        let entry = entry.expect("entry");
        let to = tmp.path().join(entry.file_name());
        if entry.path().is_dir() {
            std::fs::create_dir_all(&to).expect("mkdir");
            for f in std::fs::read_dir(entry.path()).expect("dir") {
                let f = f.expect("file");
                std::fs::copy(f.path(), to.join(f.file_name())).expect("copy");
            }
        } else {
            std::fs::copy(entry.path(), &to).expect("copy");
        }
    }
    let mut toml = std::fs::read_to_string(tmp.path().join("yardstick.toml")).expect("read");
    toml.push_str(
        r#"
[alert.orders_stale]
source = "orders"
when = "stale"

[alert.revenue_missed]
kpi = "revenue"
when = "status"
statuses = ["missed", "warning"]
"#,
    );
    std::fs::write(tmp.path().join("yardstick.toml"), toml).expect("write");
    let out = yardstick(
        &["alerts", ".", "--as-of", "2026-10-05", "--format", "json"],
        tmp.path(),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let alerts = v["alerts"].as_array().expect("alerts");
    let stale = alerts
        .iter()
        .find(|a| a["alert"] == "orders_stale")
        .expect("stale rule");
    assert_eq!(stale["state"], "firing", "{v}");
    assert!(stale["summary"].as_str().is_some_and(|s| s.contains("sales-ops")));
    assert!(alerts.iter().any(|a| a["alert"] == "revenue_missed"), "{v}");
    // Fresh at the oracle's instant.
    let out = yardstick(
        &[
            "alerts",
            ".",
            "--as-of",
            "2026-10-01T12:00:00Z",
            "--format",
            "json",
        ],
        tmp.path(),
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let stale = v["alerts"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["alert"] == "orders_stale").cloned());
    assert_eq!(stale.map(|s| s["state"].clone()), Some(Value::from("ok")));
    // A misspelt rule is a located error.
    let toml = std::fs::read_to_string(tmp.path().join("yardstick.toml")).expect("read");
    std::fs::write(
        tmp.path().join("yardstick.toml"),
        toml.replace("when = \"stale\"", "when = \"stael\""),
    )
    .expect("write");
    let (code, json) = check_json(tmp.path());
    assert_eq!(code, 1);
    assert!(json.to_string().contains("stael"), "{json}");
}
