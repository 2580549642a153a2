//! `sla`, `payouts`, `score`, `slo` and `partnership` against their oracles.

use super::*;

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
