//! `yardstick review` on the demo's Q3: every format renders; the PDF read
//! back with pdftotext names every KPI with its value; every number of the
//! JSON is the one `eval` prints for the same instant; a partnership's
//! review holds its KPIs only.

use super::*;

fn demo() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = yardstick(&["demo", "demo", "--end", "2026-11-24", "--no-serve"], tmp.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    tmp
}

const AS_OF: &str = "2026-11-24T00:00:00Z";

fn review(dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["review", "-C", "demo", "--period", "2026-Q3", "--as-of", AS_OF];
    args.extend(extra);
    yardstick(&args, dir)
}

#[test]
fn the_q3_review_shows_every_kpi_with_the_numbers_eval_prints() {
    let tmp = demo();
    let d = tmp.path();
    // An open corrective action shows in its KPI's section.
    let out = yardstick(
        &[
            "action",
            "add",
            "revenue",
            "2026-08",
            "--title",
            "Win back the lapsed EU accounts",
            "--owner",
            "ana",
            "--due",
            "2026-10-15",
            "-C",
            "demo",
        ],
        d,
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = review(d, &["--format", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r: Value = serde_json::from_slice(&out.stdout).expect("json");
    let out = yardstick(&["eval", "demo", "--as-of", AS_OF, "--format", "json"], d);
    let ev: Value = serde_json::from_slice(&out.stdout).expect("eval json");
    let rows = ev["evaluations"].as_array().expect("rows");
    let kpis = r["kpis"].as_array().expect("kpis");
    let (_, check) = check_json(&d.join("demo"));
    assert_eq!(
        kpis.len() as u64,
        check["counts"]["kpis"].as_u64().expect("count")
    );
    let mut compared = 0;
    for k in kpis {
        let Some(raw) = k["raw"].as_f64() else { continue };
        let row = rows
            .iter()
            .find(|x| x["kpi"] == k["id"] && x["period"] == k["period"] && x["entity"].is_null())
            .unwrap_or_else(|| panic!("eval has {} {}", k["id"], k["period"]));
        assert_eq!(row["value"].as_f64(), Some(raw), "{}", k["id"]);
        assert_eq!(
            row["status"].as_str().unwrap_or("none"),
            k["status"].as_str().expect("status"),
            "{}",
            k["id"]
        );
        // The period reviewed holds the KPI's period.
        let p = k["period"].as_str().expect("period");
        assert!(p.starts_with("2026-0") || p.starts_with("2026-Q3"), "{p}");
        compared += 1;
    }
    assert!(compared >= 10, "only {compared} values compared");
    let revenue = kpis.iter().find(|k| k["id"] == "revenue").expect("revenue");
    // With its measured effect: the month it answers and the one judged
    // after, the values eval gives for them.
    assert_eq!(
        revenue["actions"],
        serde_json::json!([
            "#1 Win back the lapsed EU accounts — open, owner ana, due 2026-10-15; answers 2026-08. \
             Effect: €98,212.33 in 2026-08, then 2026-09 €82,563.52 — recovered"
        ])
    );
    for (period, cents) in [("2026-08", 9_821_233.0), ("2026-09", 8_256_352.0)] {
        let v = rows
            .iter()
            .find(|x| x["kpi"] == "revenue" && x["period"] == period)
            .and_then(|x| x["value"].as_f64())
            .expect("revenue");
        assert_eq!((v * 100.0).round(), cents, "{period}");
    }
    let s = &r["summary"];
    let counted: u64 = ["met", "warning", "missed", "no_data"]
        .iter()
        .map(|x| s[x].as_u64().expect("count"))
        .sum();
    assert!(counted <= kpis.len() as u64);

    // The PDF names every KPI with its value.
    let pdf = d.join("q3.pdf");
    let out = review(d, &["--format", "pdf", "-o", pdf.to_str().expect("path")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let html = String::from_utf8(review(d, &[]).stdout).expect("utf-8");
    assert!(
        html.starts_with("<!doctype html>") && html.matches("<svg class=\"chart\"").count() >= 5,
        "charts"
    );
    let md = String::from_utf8(review(d, &["--format", "md"]).stdout).expect("utf-8");
    let Some(text) = super::agreements::pdftotext(&pdf) else {
        return;
    };
    let flat = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let text = flat(&text);
    for k in kpis {
        let (name, value) = (
            k["name"].as_str().expect("name"),
            k["value"].as_str().expect("value"),
        );
        assert!(text.contains(name), "the PDF lacks {name}");
        assert!(
            text.contains(&format!("{}: {value}", k["period"].as_str().expect("period"))),
            "the PDF lacks {name}'s {value}"
        );
        assert!(
            md.contains(name) && html.contains(&value.replace('\'', "&#x27;")),
            "{name} in every format"
        );
    }
}

/// The ids of a review's KPIs (its JSON).
fn kpi_ids(r: &Value) -> Vec<&str> {
    r["kpis"]
        .as_array()
        .expect("kpis")
        .iter()
        .filter_map(|k| k["id"].as_str())
        .collect()
}

#[test]
fn a_partnership_review_holds_its_kpis_only() {
    let tmp = demo();
    let out = review(
        tmp.path(),
        &["--scope", "partnership:cloudco", "--format", "json"],
    );
    let r: Value = serde_json::from_slice(&out.stdout).expect("json");
    let ids = kpi_ids(&r);
    let def = std::fs::read_to_string(tmp.path().join("demo/yardstick.toml")).expect("definitions");
    let listed = def.split("[partnership.cloudco]").nth(1).expect("cloudco");
    let kpis_line = listed.lines().find(|l| l.starts_with("kpis")).expect("kpis line");
    assert!(!ids.is_empty());
    for id in &ids {
        assert!(
            kpis_line.contains(&format!("\"{id}\"")),
            "{id} is not cloudco's: {kpis_line}"
        );
    }
    // The partner's own pack of the whole project: its KPIs, none other.
    let out = review(tmp.path(), &["--party", "CloudCo", "--format", "json"]);
    let party: Value = serde_json::from_slice(&out.stdout).expect("json");
    let theirs = kpi_ids(&party);
    assert!(!theirs.is_empty());
    for id in &theirs {
        assert!(kpis_line.contains(&format!("\"{id}\"")), "{id} is not CloudCo's");
    }
    assert_eq!(party["contracts"], serde_json::json!([]));
    let md = String::from_utf8(review(tmp.path(), &["--party", "CloudCo", "--format", "md"]).stdout)
        .expect("utf-8");
    assert!(
        !md.contains("Monthly revenue") && !md.contains("Platform uptime"),
        "{md}"
    );
    let out = review(tmp.path(), &["--scope", "partnership:nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no partnership `nope`"));
    let out = review(tmp.path(), &["--period", "Q9"]);
    assert_eq!(out.status.code(), Some(2));
}

/// The workbook, read back by openpyxl (Python): every KPI's value as a
/// real number equal to the JSON's, shares formatted as percentages, money
/// in the project's currency, frozen headers, a native chart per KPI with
/// a history.
#[test]
fn the_q3_workbook_reads_back_every_value_format_and_chart() {
    let tmp = demo();
    let d = tmp.path();
    let r: Value = serde_json::from_slice(&review(d, &["--format", "json"]).stdout).expect("json");
    let xlsx = d.join("q3.xlsx");
    let out = review(d, &["--format", "xlsx", "-o", xlsx.to_str().expect("path")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let script = r#"
import json, sys, zipfile
try:
    import openpyxl
except ImportError:
    print("SKIP"); sys.exit(0)
wb = openpyxl.load_workbook(sys.argv[1])
ws = wb["KPIs"]
rows = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
formats = [r[3].number_format for r in ws.iter_rows(min_row=2)]
charts = len([n for n in zipfile.ZipFile(sys.argv[1]).namelist() if n.startswith("xl/charts/chart")])
ps = [[c.value for c in r] + [r[3].number_format] for r in wb["Partnerships"].iter_rows(min_row=2)]
print(json.dumps({"sheets": wb.sheetnames, "rows": rows, "formats": formats, "charts": charts, "frozen": ws.freeze_panes, "partnerships": ps}))
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&xlsx)
        .output()
        .expect("python3 runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    if text.trim() == "SKIP" {
        eprintln!("\n!!! SKIPPED: reading the workbook back needs openpyxl (pip install openpyxl) !!!\n");
        return;
    }
    let x: Value = serde_json::from_str(&text).expect("python's json");
    assert_eq!(
        x["sheets"],
        serde_json::json!(["Summary", "KPIs", "History", "Contracts", "Partnerships"])
    );
    // The partnership's score for the quarter, a real percentage.
    let score = &r["partnerships"][0]["scores"][0];
    let first = &x["partnerships"][0];
    assert_eq!(
        (&first[2], &first[3], &first[5]),
        (&score[0], &score[2], &serde_json::json!("0.00%"))
    );
    assert_eq!(x["frozen"], "A2");
    let kpis = r["kpis"].as_array().expect("kpis");
    let rows = x["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), kpis.len());
    let mut with_history = 0;
    for (k, (row, format)) in kpis
        .iter()
        .zip(rows.iter().zip(x["formats"].as_array().expect("formats")))
    {
        assert_eq!(row[1], k["id"]);
        if let Some(raw) = k["raw"].as_f64() {
            assert_eq!(row[3].as_f64(), Some(raw), "{}", k["id"]);
            let want = match k["unit"].as_str() {
                Some("%") => "0.00%",
                Some("EUR") => "\"€\"#,##0.00",
                _ => "#,##0.##",
            };
            assert_eq!(format, want, "{}", k["id"]);
        }
        if k["history"]
            .as_array()
            .is_some_and(|h| h.iter().filter(|p| !p[1].is_null()).count() >= 2)
        {
            with_history += 1;
        }
    }
    assert_eq!(x["charts"].as_u64(), Some(with_history));
}

/// A missed (or warning) KPI's section names its top causes: the first
/// three roots `yardstick why` finds against the period before that moved
/// the way the KPI did — the demo's January, when revenue fell short.
#[test]
fn a_missed_kpi_names_the_causes_why_finds() {
    let tmp = demo();
    let out = yardstick(
        &[
            "review", "-C", "demo", "--period", "2026-01", "--as-of", AS_OF, "--format", "json",
        ],
        tmp.path(),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r: Value = serde_json::from_slice(&out.stdout).expect("json");
    let revenue = r["kpis"]
        .as_array()
        .expect("kpis")
        .iter()
        .find(|k| k["id"] == "revenue")
        .expect("revenue");
    assert_eq!(revenue["status"], "warning");
    let out = yardstick(
        &[
            "why", "revenue", "2026-01", "-C", "demo", "--as-of", AS_OF, "--format", "json",
        ],
        tmp.path(),
    );
    let w: Value = serde_json::from_slice(&out.stdout).expect("why json");
    let expected: Vec<String> = w["causes"]
        .as_array()
        .expect("causes")
        .iter()
        .filter(|c| c["root"] == true && c["share"].as_f64().is_some_and(|s| s > 0.0))
        .take(3)
        .map(|c| {
            let parts: Vec<String> = c["elements"]
                .as_object()
                .expect("elements")
                .iter()
                .map(|(k, v)| format!("`{k}={}`", v.as_str().unwrap_or("(empty)")))
                .collect();
            parts.join(" ∧ ")
        })
        .collect();
    assert!(!expected.is_empty());
    let causes: Vec<&str> = revenue["causes"]
        .as_array()
        .expect("causes")
        .iter()
        .filter_map(|c| c.as_str())
        .collect();
    assert_eq!(causes.len(), expected.len(), "{causes:?}");
    for (c, e) in causes.iter().zip(&expected) {
        assert!(c.starts_with(&format!("{e}: ")), "{c} is not {e}");
        assert!(c.contains(" in 2025-12, "), "{c}");
    }
    // A KPI that met its target lists no causes.
    let met = r["kpis"]
        .as_array()
        .expect("kpis")
        .iter()
        .filter(|k| k["status"] == "met")
        .all(|k| k["causes"].as_array().is_some_and(|c| c.is_empty()));
    assert!(met);
}

/// A partnership's section: the score `yardstick partnership` gives for
/// the quarter, and each month's reconciliation as `yardstick reconcile`
/// counts it.
#[test]
fn a_partnership_section_shows_its_score_and_reconciliation() {
    let tmp = demo();
    // (`reconcile` exits 1 when the records disagree.)
    let json_of = |args: &[&str]| -> Value {
        let out = yardstick(args, tmp.path());
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)))
    };
    let r = json_of(&[
        "review",
        "-C",
        "demo",
        "--period",
        "2026-Q3",
        "--as-of",
        AS_OF,
        "--scope",
        "partnership:cloudco",
        "--format",
        "json",
    ]);
    let section = &r["partnerships"][0];
    assert_eq!(section["partners"], "Northwind Cloud and CloudCo");
    let p = json_of(&[
        "partnership",
        "cloudco",
        "-C",
        "demo",
        "--as-of",
        AS_OF,
        "--format",
        "json",
    ]);
    let q3 = p["scores"]
        .as_array()
        .expect("scores")
        .iter()
        .find(|s| s["period"] == "2026-Q3")
        .expect("Q3 score");
    assert_eq!(
        section["scores"],
        serde_json::json!([["2026-Q3", "116.78%", q3["score"]]])
    );
    let rc = json_of(&[
        "reconcile",
        "cloudco_sales",
        "-C",
        "demo",
        "--as-of",
        AS_OF,
        "--format",
        "json",
    ]);
    let expected: Vec<String> = rc["reconciliations"]
        .as_array()
        .expect("rows")
        .iter()
        .filter(|x| ["2026-07", "2026-08", "2026-09"].contains(&x["period"].as_str().unwrap_or("")))
        .map(|x| {
            let agreed = x["kpis"]
                .as_array()
                .expect("kpis")
                .iter()
                .all(|k| k["within_tolerance"] == true);
            format!(
                "CloudCo's sales report against our records {}: {} — {} records agree, {} only in `partner_sales`, {} only in `cloudco_report`, {} differ; ",
                x["period"].as_str().unwrap_or(""),
                if agreed { "agreed" } else { "disputed" },
                x["matched"],
                x["only_left"],
                x["only_right"],
                x["unequal"]
            )
        })
        .collect();
    let got: Vec<&str> = section["reconciliation"]
        .as_array()
        .expect("reconciliation")
        .iter()
        .filter_map(|x| x.as_str())
        .collect();
    assert_eq!(got.len(), 3, "{got:?}");
    for (g, e) in got.iter().zip(&expected) {
        assert!(g.starts_with(e.as_str()), "{g}\n{e}");
    }
}

/// The Markdown review of `period`: revenue's section, and its chart
/// comment between `<!-- chart ` and ` -->`.
fn revenue_chart(dir: &Path, period: &str) -> (String, String) {
    let md = yardstick(
        &[
            "review", "-C", "demo", "--period", period, "--as-of", AS_OF, "--format", "md",
        ],
        dir,
    );
    let md = String::from_utf8(md.stdout).expect("utf-8");
    let section = md
        .split("### Monthly revenue")
        .nth(1)
        .and_then(|s| s.split("\n### ").next())
        .expect("revenue")
        .to_string();
    let spec = section
        .lines()
        .find_map(|l| l.strip_prefix("<!-- chart "))
        .and_then(|l| l.strip_suffix(" -->"))
        .expect("a chart")
        .to_string();
    (section, spec)
}

/// A chart carries the warning band and, for the month in progress, where
/// it is heading with its range: the same projection `eval` gives.
#[test]
fn a_chart_shows_where_the_period_in_progress_is_heading() {
    let tmp = demo();
    let (_, spec) = revenue_chart(tmp.path(), "2026-11");
    let parts: Vec<&str> = spec.split(" | ").collect();
    // Target >= 60000, warning >= 50000 (the demo's revenue).
    assert_eq!((parts[1], parts[2]), ("60000", "50000"), "{spec}");
    let ahead: Vec<f64> = parts[3].split(',').map(|v| v.parse().expect("number")).collect();
    let out = yardstick(
        &[
            "eval", "demo", "--kpi", "revenue", "--as-of", AS_OF, "--format", "json",
        ],
        tmp.path(),
    );
    let ev: Value = serde_json::from_slice(&out.stdout).expect("json");
    let row = ev["evaluations"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["period"] == "2026-11")
        .expect("November");
    let p = &row["projection"];
    let want = [p["value"].as_f64(), p["low"].as_f64(), p["high"].as_f64()];
    // The same projection, to the last bits DataFusion may round
    // differently when it adds the rows in another order.
    assert_eq!(ahead.len(), want.len(), "{spec}");
    for (a, w) in ahead.iter().zip(want) {
        let w = w.expect("projection");
        assert!((a - w).abs() <= 1e-9 * w.abs().max(1.0), "{ahead:?} vs {want:?}");
    }
    // A closed quarter draws no projection.
    let q3 = String::from_utf8(review(tmp.path(), &["--format", "md"]).stdout).expect("utf-8");
    let q3_spec = q3
        .split("### Monthly revenue")
        .nth(1)
        .and_then(|s| s.lines().find(|l| l.starts_with("<!-- chart ")))
        .expect("a chart");
    assert!(q3_spec.ends_with("| 60000 | 50000 |  |  -->"), "{q3_spec}");
}

/// The review of the last complete month looks ahead: the next three
/// months forecast on its chart, exactly what `yardstick forecast` gives.
#[test]
fn the_last_complete_period_shows_the_forecast_ahead() {
    let tmp = demo();
    let (section, spec) = revenue_chart(tmp.path(), "2026-10");
    let ahead: Vec<Vec<f64>> = spec
        .split(" | ")
        .nth(4)
        .expect("forecast part")
        .split(';')
        .map(|p| p.split(',').map(|v| v.parse().expect("number")).collect())
        .collect();
    let out = yardstick(
        &[
            "forecast",
            "revenue",
            "-C",
            "demo",
            "--horizon",
            "3",
            "--as-of",
            AS_OF,
            "--format",
            "json",
        ],
        tmp.path(),
    );
    let f: Value = serde_json::from_slice(&out.stdout).expect("forecast json");
    let points = f["forecasts"][0]["points"].as_array().expect("points");
    let want: Vec<Vec<f64>> = points
        .iter()
        .map(|p| {
            ["value", "low80", "high80"]
                .iter()
                .map(|k| p[k].as_f64().expect("number"))
                .collect()
        })
        .collect();
    // The same forecast, over sums DataFusion may add in another order:
    // equal to the last few bits.
    assert_eq!(ahead.len(), want.len());
    for (a, w) in ahead.iter().flatten().zip(want.iter().flatten()) {
        assert!((a - w).abs() <= 1e-9 * w.abs().max(1.0), "{ahead:?} vs {want:?}");
    }
    assert_eq!(points[0]["period"], "2026-11");
    assert!(section.contains("- **Forecast:** 2026-11 "), "{section}");
    // A month that is not the last complete one has none.
    let sept = yardstick(
        &[
            "review", "-C", "demo", "--period", "2026-09", "--as-of", AS_OF, "--format", "md",
        ],
        tmp.path(),
    );
    let sept = String::from_utf8(sept.stdout).expect("utf-8");
    let revenue = sept
        .split("### Monthly revenue")
        .nth(1)
        .and_then(|s| s.split("### ").next())
        .expect("revenue");
    assert!(!revenue.contains("**Forecast:**"), "{revenue}");
}
