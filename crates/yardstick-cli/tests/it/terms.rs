//! `yardstick terms`: an agreement's terms and fingerprint, on the seed
//! example — the same as the core computes, unmoved by a renamed clause,
//! moved by a changed target.

use super::*;

fn terms_json(dir: &Path, id: &str) -> Value {
    let out = yardstick(&["terms", id, "--format", "json"], dir);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("json")
}

#[test]
fn terms_name_the_parties_and_the_fingerprint_moves_with_results_only() {
    let seed = seed_dir();
    let t = terms_json(&seed, "hosting");
    assert_eq!(t["subject"], "contract");
    assert_eq!(t["parties"], serde_json::json!(["Provider Ltd", "Acme Corp"]));
    let fp = t["fingerprint"].as_str().expect("fingerprint");
    assert!(fp.starts_with("sha256:") && fp.len() == 71, "{fp}");
    assert_eq!(t["terms"]["rules"]["clauses"][1]["breach_when"], "2 consecutive");
    assert_eq!(t["terms"]["measures"]["uptime"]["target"], ">= 0.995");

    // A clause's wording is not a term; its target is.
    let renamed = broken_seed(
        "id = \"uptime\"\ntext = \"The Provider",
        "id = \"uptime\"\ntext = \"Provider",
    );
    assert_eq!(terms_json(renamed.path(), "hosting")["fingerprint"], fp);
    let moved = broken_seed(
        "breach_when = \"2 consecutive\"",
        "breach_when = \"3 consecutive\"",
    );
    assert_ne!(terms_json(moved.path(), "hosting")["fingerprint"], fp);

    // Every agreement, as a table and as JSON.
    let out = yardstick(&["terms"], &seed);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("hosting") && text.contains("sales_bonus") && text.contains(fp),
        "{text}"
    );
    // A bonus plan without an owner names nobody to sign it: payouts say so.
    let out = yardstick(&["payouts", "--format", "json"], &seed);
    let payouts: Value = serde_json::from_slice(&out.stdout).expect("payouts json");
    assert_eq!(
        payouts["agreements"]["sales_bonus"]["unsigned_terms"],
        Value::Bool(true)
    );
    let out = yardstick(&["payouts"], &seed);
    assert!(String::from_utf8_lossy(&out.stdout).contains("`sales_bonus` names no party to sign it"));
    let out = yardstick(&["terms", "nope"], &seed);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no contract, incentive or partnership `nope`; known: hosting, sales_bonus"),
        "{err}"
    );
}

#[test]
fn both_parties_sign_and_changed_terms_need_new_signatures() {
    let dir = broken_seed("", "");
    let fp = terms_json(dir.path(), "hosting")["fingerprint"].clone();
    for party in ["Acme Corp", "Provider Ltd"] {
        let out = yardstick(
            &["sign", "hosting", "--as", party, "--format", "json"],
            dir.path(),
        );
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let t = terms_json(dir.path(), "hosting");
    assert_eq!(
        (t["agreed"].clone(), t["fingerprint"].clone()),
        (Value::Bool(true), fp.clone())
    );
    let out = yardstick(&["sla", "--format", "json"], dir.path());
    let sla: Value = serde_json::from_slice(&out.stdout).expect("sla json");
    assert_eq!(sla["agreements"]["hosting"]["unsigned_terms"], Value::Bool(false));
    assert_eq!(t["signatures"].as_array().map(Vec::len), Some(2));
    assert_eq!(t["signatures"][0]["signed_by"], "cli");

    // Only the agreement's parties sign; nothing is recorded otherwise.
    let out = yardstick(&["sign", "hosting", "--as", "Mallory"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("`Mallory` is not a party to `hosting`; its parties: Provider Ltd, Acme Corp")
    );

    // The uptime target changed without signatures: not agreed, and the
    // last terms both signed are named.
    let text = std::fs::read_to_string(dir.path().join("yardstick.toml")).expect("read");
    std::fs::write(
        dir.path().join("yardstick.toml"),
        text.replacen(
            "target = \">= 99.5%\"\n\n# ----",
            "target = \">= 99%\"\n\n# ----",
            1,
        ),
    )
    .expect("write");
    let t = terms_json(dir.path(), "hosting");
    assert_ne!(t["fingerprint"], fp);
    assert_eq!(
        t["changes"],
        serde_json::json!([{"path": "measures.uptime.target", "before": ">= 0.995", "after": ">= 0.99"}])
    );
    // `sla` still judges, and says on which terms.
    let out = yardstick(&["sla", "--format", "json"], dir.path());
    let sla: Value = serde_json::from_slice(&out.stdout).expect("sla json");
    assert_eq!(
        sla["agreements"]["hosting"]["unsigned_terms"],
        Value::Bool(true),
        "{}",
        sla["agreements"]
    );
    assert_eq!(
        sla["agreements"]["hosting"]["changes"][0]["path"],
        "measures.uptime.target"
    );
    assert!(sla["clauses"].as_array().is_some_and(|c| !c.is_empty()));
    let out = yardstick(&["sla"], dir.path());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("unsigned terms: `hosting` is judged on terms not every party signed (no party signed them); changed since every party signed: measures.uptime.target"),
        "{text}"
    );
    assert_eq!(t["agreed"], Value::Bool(false));
    assert_eq!(t["unsigned"], serde_json::json!(["Provider Ltd", "Acme Corp"]));
    assert_eq!(t["last_agreed"], fp);
}

#[test]
fn signing_warns_of_a_target_its_history_says_is_no_goal() {
    // Uptime has been above 99% every month: a 50% target is met without effort.
    let dir = broken_seed("target = \">= 99.5%\"\n\n# ----", "target = \">= 50%\"\n\n# ----");
    let out = yardstick(
        &["sign", "hosting", "--as", "Acme Corp", "--format", "json"],
        dir.path(),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["warnings"][0]["code"], "target-always-met", "{}", v["warnings"]);
    assert!(
        v["warnings"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("`uptime` met this target by more than 25%"))
    );
    assert_eq!(v["signed"], serde_json::json!(["Acme Corp"]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning[target-always-met]") && err.contains("realistic and agreed upon"),
        "{err}"
    );
}
