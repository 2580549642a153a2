//! `yardstick reconcile` against datacompy, the peer people use by hand:
//! the same two frames with the same tolerances give the same counts
//! (`scripts/datacompy_parity.py` writes each case and datacompy's
//! answer), and the demo's bridge adds up to every KPI difference.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use super::yardstick;

fn datacompy_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import datacompy, recordlinkage"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install datacompy and recordlinkage (see .ci/run)"
        );
        eprintln!(
            "\n!!! SKIPPED the datacompy comparisons: `pip install datacompy recordlinkage` to run them !!!\n"
        );
    }
    ok
}

/// Writes `case` with datacompy's counts, reconciles it, and compares.
fn same_counts_as_datacompy(case: &str) {
    if !datacompy_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/datacompy_parity.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(case)
        .arg(dir.path())
        .output()
        .expect("datacompy_parity.py runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("expected.json")).expect("expected.json"),
    )
    .expect("expected JSON");
    let out = yardstick(&["reconcile", "--format", "json", "--limit", "0"], dir.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let got: Value = serde_json::from_slice(&out.stdout).expect("reconcile JSON");
    let periods = got["reconciliations"].as_array().expect("periods");
    assert_eq!(periods.len(), 1, "sources without time: one period");
    let p = &periods[0];
    assert_eq!(p["period"], "all");
    for field in [
        "in_common",
        "only_left",
        "only_right",
        "unequal",
        "mismatched",
        "duplicate_keys",
    ] {
        assert_eq!(
            p[field], expected[field],
            "{case}: `{field}` differs from datacompy's"
        );
    }
    // Matched = in common and equal in every compared column.
    assert_eq!(
        p["matched"].as_u64().expect("matched"),
        expected["in_common"].as_u64().expect("in_common") - expected["unequal"].as_u64().expect("unequal")
    );
}

#[test]
fn datacompys_documented_acct_id_example() {
    same_counts_as_datacompy("acct_id");
}

#[test]
fn generated_frames_with_nulls_exact_bounds_and_duplicate_keys() {
    same_counts_as_datacompy("generated");
}

#[test]
fn text_compared_ignoring_case_and_spaces() {
    same_counts_as_datacompy("fold");
}

#[test]
fn febrl4_person_records_with_typos() {
    same_counts_as_datacompy("febrl4");
}

#[test]
fn the_demos_bridge_adds_up_and_the_exit_status_gates_on_tolerance() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = yardstick(&["demo", ".", "--no-serve", "--end", "2026-11-24"], dir.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = yardstick(
        &["reconcile", "--format", "json", "--as-of", "2026-11-24"],
        dir.path(),
    );
    let got: Value = serde_json::from_slice(&out.stdout).expect("reconcile JSON");
    let periods = got["reconciliations"].as_array().expect("periods");
    assert_eq!(periods.len(), 14, "14 months of partner sales");
    let mut outside = 0;
    let mut causes = std::collections::BTreeSet::new();
    for p in periods {
        assert_eq!(p["right"]["owner"], "CloudCo");
        let k = &p["kpis"][0];
        let d = k["difference"].as_f64().expect("difference");
        let sum: f64 = k["bridge"]
            .as_array()
            .expect("bridge")
            .iter()
            .map(|s| {
                causes.insert(s["cause"].as_str().expect("cause").to_string());
                s["amount"].as_f64().expect("amount")
            })
            .sum();
        assert!(
            (sum - d).abs() < 1e-6,
            "{}: bridge {sum} vs difference {d}",
            p["period"]
        );
        if k["within_tolerance"] == false {
            outside += 1;
        }
    }
    // Missing sales, rounded amounts and late bookings are all in the demo.
    for c in ["only_left", "value", "period"] {
        assert!(causes.contains(c), "{causes:?}");
    }
    assert!(outside > 0);
    assert_eq!(out.status.code(), Some(1), "a KPI outside tolerance exits 1");
    // A month within tolerance exits 0.
    let agreed = periods
        .iter()
        .find(|p| p["kpis"][0]["within_tolerance"] == true)
        .expect("a month within tolerance");
    let label = agreed["period"].as_str().expect("label");
    let out = yardstick(
        &[
            "reconcile",
            "cloudco_sales",
            "--period",
            label,
            "--as-of",
            "2026-11-24",
        ],
        dir.path(),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("within tolerance") && text.contains("CloudCo"),
        "{text}"
    );
    // CSV: one line per discrepant record and compared column.
    let out = yardstick(
        &["reconcile", "--format", "csv", "--as-of", "2026-11-24"],
        dir.path(),
    );
    let csv = String::from_utf8_lossy(&out.stdout);
    assert!(
        csv.starts_with("reconcile,period,kind,key,column,left,right"),
        "{csv}"
    );
    assert!(csv.lines().count() > 20);
    // A key the partner's report does not have: `check` says where.
    let toml = dir.path().join("yardstick.toml");
    let good = std::fs::read_to_string(&toml).expect("read");
    std::fs::write(
        &toml,
        good.replace("keys = { sale_id = \"ref\" }", "keys = { sale_id = \"reff\" }"),
    )
    .expect("write");
    let out = yardstick(&["check", "."], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("source `cloudco_report` has no column `reff`") && err.contains("did you mean `ref`"),
        "{err}"
    );
    std::fs::write(&toml, good).expect("write");
    // An unknown id says which exist.
    let out = yardstick(&["reconcile", "cloudco"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cloudco_sales"));
}
