//! Renegotiation on the seed example's hosting contract, on SQLite and
//! PostgreSQL: signed by both sides, a proposal accepted by the client
//! becomes an effective-dated target from its month only — earlier
//! periods keep their judgement — and the amended terms need both
//! signatures again. Only another party decides; a rejection needs a
//! reason; an amendment never starts in a period already judged.

use super::*;

/// The stores to run on: the project's SQLite file, and a fresh
/// PostgreSQL database when a server is given.
fn store_urls() -> Vec<Option<String>> {
    let mut out = vec![None];
    if let Some(admin) = yardstick_store::testing::postgres_url() {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        out.push(Some(
            rt.block_on(yardstick_store::testing::fresh_postgres(&admin))
                .expect("a fresh PostgreSQL database"),
        ));
    }
    out
}

/// `yardstick ARGS` in `dir` on store `db` (`YARDSTICK_DB`, which every
/// command reading or writing the store follows).
fn run(dir: &Path, db: &Option<String>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_yardstick"));
    cmd.args(args).current_dir(dir).env("NO_COLOR", "1");
    match db {
        Some(url) => cmd.env("YARDSTICK_DB", url),
        None => cmd.env_remove("YARDSTICK_DB"),
    };
    cmd.output().expect("the yardstick binary runs")
}

fn json_of(out: &Output) -> Value {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("json")
}

/// The uptime clause's rows of `sla`: period → (value, target, breached,
/// triggered, credit).
fn uptime_rows(dir: &Path, db: &Option<String>) -> Vec<(String, Value)> {
    let sla = json_of(&run(dir, db, &["sla", "--format", "json"]));
    sla["clauses"]
        .as_array()
        .expect("clauses")
        .iter()
        .filter(|r| r["clause"] == "uptime")
        .map(|r| {
            (
                r["period"].as_str().expect("period").to_string(),
                serde_json::json!([
                    r["value"],
                    r["target"],
                    r["breached"],
                    r["triggered"],
                    r["credit_amount"]
                ]),
            )
        })
        .collect()
}

#[test]
fn an_accepted_amendment_applies_from_its_month_and_needs_new_signatures() {
    for db in store_urls() {
        let dir = broken_seed("", "");
        let d = dir.path();
        for party in ["Provider Ltd", "Acme Corp"] {
            json_of(&run(
                d,
                &db,
                &["sign", "hosting", "--as", party, "--format", "json"],
            ));
        }
        let before = uptime_rows(d, &db);
        assert!(before.iter().any(|(p, _)| p == "2026-08"), "{before:?}");

        // Only a month not yet judged: August, as of mid-August.
        let propose = |from: &str| {
            run(
                d,
                &db,
                &[
                    "propose",
                    "hosting",
                    "--clause",
                    "uptime",
                    "--target",
                    ">= 99.0%",
                    "--from",
                    from,
                    "--reason",
                    "three misses in a row",
                    "--as",
                    "Provider Ltd",
                    "--as-of",
                    "2026-08-15",
                    "--format",
                    "json",
                ],
            )
        };
        let past = propose("2026-07");
        assert_eq!(past.status.code(), Some(2));
        assert!(
            String::from_utf8_lossy(&past.stderr).contains("2026-07-01 is in the past"),
            "{}",
            String::from_utf8_lossy(&past.stderr)
        );
        let p = json_of(&propose("2026-08"));
        assert_eq!(
            (p["status"].as_str(), p["effective"].as_str()),
            (Some("open"), Some("2026-08-01"))
        );
        let n = p["id"].to_string();

        // The proposer cannot accept its own proposal, nor can a stranger.
        for party in ["Provider Ltd", "Mallory"] {
            let out = run(d, &db, &["accept", &n, "--as", party]);
            assert_eq!(out.status.code(), Some(2), "{party}");
        }
        let a = json_of(&run(
            d,
            &db,
            &[
                "accept",
                &n,
                "--as",
                "Acme Corp",
                "--comment",
                "agreed at the review",
                "--write",
                "--format",
                "json",
            ],
        ));
        assert_eq!(
            (a["status"].as_str(), a["written"].as_bool()),
            (Some("accepted"), Some(true))
        );
        assert!(
            a["amendment"]["patch"]
                .as_str()
                .is_some_and(|p| p.contains("+targets = ["))
        );
        let again = run(
            d,
            &db,
            &["reject", &n, "--as", "Acme Corp", "--comment", "changed my mind"],
        );
        assert_eq!(again.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&again.stderr).contains("already accepted by Acme Corp"));

        // Periods before August keep their judgement; from August the new target judges.
        let after = uptime_rows(d, &db);
        assert_eq!(after.len(), before.len());
        for ((period, was), (_, now)) in before.iter().zip(&after) {
            if period.as_str() < "2026-08" {
                assert_eq!(was, now, "{period} kept its judgement");
            } else {
                assert_eq!(now[1], ">= 99.0%", "{period}");
            }
        }
        let aug = &after.iter().find(|(p, _)| p == "2026-08").expect("August").1;
        assert_eq!(
            (aug[2].clone(), was_breached(&before, "2026-08")),
            (Value::Bool(false), true)
        );

        // The amended terms are not the signed ones until both sign again.
        let sla = json_of(&run(d, &db, &["sla", "--format", "json"]));
        let standing = &sla["agreements"]["hosting"];
        assert_eq!(standing["unsigned_terms"], Value::Bool(true));
        assert!(
            standing["changes"].as_array().is_some_and(|c| c
                .iter()
                .any(|x| x["path"] == "rules.clauses[uptime].targets[1].target")),
            "{standing}"
        );
        // Period by period: those before the amendment keep the signed terms.
        for r in sla["clauses"].as_array().expect("rows") {
            let amended = r["clause"] == "uptime" && r["period"].as_str() >= Some("2026-08");
            assert_eq!(r["signed_terms"], Value::Bool(!amended), "{r}");
        }
        let listed = json_of(&run(d, &db, &["agreements", "hosting", "--format", "json"]));
        assert_eq!(listed["proposals"][0]["written"], Value::Bool(true));
        assert_eq!(listed["versions"].as_array().map(Vec::len), Some(1));
        for party in ["Provider Ltd", "Acme Corp"] {
            json_of(&run(
                d,
                &db,
                &["sign", "hosting", "--as", party, "--format", "json"],
            ));
        }
        let listed = json_of(&run(d, &db, &["agreements", "hosting", "--format", "json"]));
        assert_eq!(listed["standing"]["agreed"], Value::Bool(true));
        assert_eq!(listed["versions"].as_array().map(Vec::len), Some(2));

        // A rejection needs a comment, and changes nothing.
        let p = json_of(&propose("2026-09"));
        let n = p["id"].to_string();
        let out = run(d, &db, &["reject", &n, "--as", "Acme Corp"]);
        assert_eq!(out.status.code(), Some(2));
        let r = json_of(&run(
            d,
            &db,
            &[
                "reject",
                &n,
                "--as",
                "Acme Corp",
                "--comment",
                "the misses were yours",
                "--format",
                "json",
            ],
        ));
        assert_eq!(r["status"], "rejected");
        assert_eq!(uptime_rows(d, &db), after);
    }
}

fn was_breached(rows: &[(String, Value)], period: &str) -> bool {
    rows.iter()
        .find(|(p, _)| p == period)
        .is_some_and(|(_, r)| r[2] == Value::Bool(true))
}

#[test]
fn a_proposed_target_is_judged_by_its_history() {
    let dir = broken_seed("", "");
    let out = yardstick(
        &[
            "propose",
            "hosting",
            "--clause",
            "uptime",
            "--target",
            ">= 50%",
            "--from",
            "2026-12",
            "--reason",
            "make it easy",
            "--as",
            "Provider Ltd",
            "--as-of",
            "2026-12-02",
            "--format",
            "json",
        ],
        dir.path(),
    );
    let v = json_of(&out);
    assert!(
        v["warnings"][0].as_str().is_some_and(
            |w| w.contains("`uptime` would have met `>= 50%` by more than 25% in every one of its last")
        ),
        "{v}"
    );
    let unknown = yardstick(
        &[
            "propose",
            "hosting",
            "--clause",
            "uptim",
            "--target",
            ">= 99%",
            "--from",
            "2026-12",
            "--reason",
            "x",
            "--as",
            "Provider Ltd",
        ],
        dir.path(),
    );
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&unknown.stderr)
            .contains("contract `hosting` has no clause `uptim`; its clauses: "),
        "{}",
        String::from_utf8_lossy(&unknown.stderr)
    );
}

#[test]
fn a_clause_s_dated_targets_are_checked_like_a_kpi_s() {
    let clause = "kpi = \"uptime\"\ntarget = \">= 99.5%\"";
    let cases = [
        (
            "kpi = \"uptime\"\ntarget = \">= 99.5%\"\ntargets = [{ from = \"2026-01\", target = \">= 99%\" }]",
            "conflicting-keys",
        ),
        (
            "kpi = \"uptime\"\ntargets = [{ from = \"2026-06\", target = \">= 99%\" }, { from = \"2026-01\", target = \">= 98%\" }]",
            "unordered-targets",
        ),
    ];
    for (to, want) in cases {
        let (exit, json) = check_json(broken_seed(clause, to).path());
        let (code, at, _) = the_error(&json);
        assert_eq!((exit, code.as_str()), (1, want), "{to}: {json:#}");
        assert!(at.starts_with("yardstick.toml:18"), "{to}: {at}");
    }
    // Written correctly, the dated targets check and judge.
    let ok = broken_seed(
        clause,
        "kpi = \"uptime\"\ntargets = [{ from = \"2026-01\", target = \">= 99.5%\" }, { from = \"2026-08\", target = \">= 99%\" }]",
    );
    assert_eq!(check_json(ok.path()).0, 0);
}

/// `pdftotext`'s reading of a PDF, or `None` (after a loud SKIPPED) when
/// poppler-utils is not installed (`.ci/run` installs it).
pub(crate) fn pdftotext(pdf: &Path) -> Option<String> {
    match Command::new("pdftotext")
        .args(["-layout"])
        .arg(pdf)
        .arg("-")
        .output()
    {
        Ok(out) if out.status.success() => Some(String::from_utf8_lossy(&out.stdout).to_string()),
        Ok(out) => panic!(
            "pdftotext cannot read the PDF: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(_) => {
            eprintln!(
                "\n!!! SKIPPED: reading the PDF back needs pdftotext (apt-get install poppler-utils) !!!\n"
            );
            None
        }
    }
}

#[test]
fn the_appendix_pdf_reads_back_every_clause_s_target_and_credit() {
    let dir = broken_seed("", "");
    let d = dir.path();
    for party in ["Provider Ltd", "Acme Corp"] {
        json_of(&run(
            d,
            &None,
            &["sign", "hosting", "--as", party, "--format", "json"],
        ));
    }
    let pdf = d.join("hosting.pdf");
    let out = run(
        d,
        &None,
        &[
            "appendix",
            "hosting",
            "--format",
            "pdf",
            "-o",
            pdf.to_str().expect("path"),
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let bytes = std::fs::read(&pdf).expect("the PDF");
    assert!(bytes.starts_with(b"%PDF-"), "a PDF");
    // The JSON content says what every format must show.
    let content = json_of(&run(d, &None, &["appendix", "hosting", "--format", "json"]));
    assert_eq!(
        content["appendix"]["fingerprint"],
        json_of(&yardstick(&["terms", "hosting", "--format", "json"], d))["fingerprint"]
    );
    let md = String::from_utf8(run(d, &None, &["appendix", "hosting"]).stdout).expect("utf-8");
    let html =
        String::from_utf8(run(d, &None, &["appendix", "hosting", "--format", "html"]).stdout).expect("utf-8");
    let Some(text) = pdftotext(&pdf) else { return };
    // pdftotext breaks long lines: compare word sequences.
    let flat = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let (text, md) = (flat(&text), flat(&md));
    for want in [
        "Clause uptime: KPI uptime",
        "Target: At least 99.5% in every period.",
        "consequences apply in a month that completes a run of 2 breached months in a row",
        "A service credit of 10% of that period's fee.",
        "The client may initiate a contract review.",
        "Clause first_response: KPI first_response_24h",
        "Target: At least 90% in every period.",
        "A service credit of 5% of that period's fee when the value is below 90%.",
        "A service credit of 15% of that period's fee when the value is below 80%.",
        "excluding scheduled maintenance",
        "time covered by an interval of maintenance (e.g. scheduled maintenance) is excluded",
        "Europe/Berlin",
        "Fee: €12,000 per month",
        "Provider Ltd signed these terms on",
        "Acme Corp signed these terms on",
    ] {
        assert!(text.contains(want), "the PDF lacks {want:?}:\n{text}");
        assert!(
            md.replace(['`', '*'], "").contains(want),
            "the Markdown lacks {want:?}:\n{md}"
        );
    }
    assert!(text.contains(content["appendix"]["fingerprint"].as_str().expect("fingerprint")));
    assert!(
        html.contains("<h3>Clause <code>uptime</code>: KPI <code>uptime</code></h3>"),
        "{html}"
    );
    // Every clause's consequences appear in every format.
    for c in content["appendix"]["clauses"].as_array().expect("clauses") {
        for line in c["consequences"].as_array().expect("consequences") {
            let line = line.as_str().expect("text").replace('\'', "&#x27;");
            assert!(html.contains(&line), "{line} in the HTML");
        }
    }
}

#[test]
fn the_catalogue_groups_kpis_by_level_and_owner() {
    let out = yardstick(&["catalog", "--format", "json"], &seed_dir());
    let v = json_of(&out);
    let all = v["kpis"].as_array().expect("kpis");
    let kpis: Vec<&Value> = all.iter().filter(|k| k["kind"] == "kpi").collect();
    let (_, json) = check_json(&seed_dir());
    assert_eq!(kpis.len() as u64, json["counts"]["kpis"].as_u64().expect("count"));
    assert_eq!(
        (all.len() - kpis.len()) as u64,
        json["counts"]["metrics"].as_u64().expect("count")
    );
    // KPIs first, then the metrics they are built from.
    assert!(all.iter().skip(kpis.len()).all(|k| k["kind"] == "metric"));
    let levels: Vec<&str> = kpis.iter().map(|k| k["level"].as_str().unwrap_or("-")).collect();
    let rank = |l: &str| {
        ["company", "team", "individual", "partnership", "-"]
            .iter()
            .position(|x| *x == l)
    };
    assert!(levels.windows(2).all(|w| rank(w[0]) <= rank(w[1])), "{levels:?}");
    let md = String::from_utf8(yardstick(&["catalog"], &seed_dir()).stdout).expect("utf-8");
    assert!(md.starts_with("# KPI catalogue: "), "{md}");
    assert!(md.contains("## Company KPIs, owned by "), "{md}");
    let out = yardstick(&["appendix", "nope"], &seed_dir());
    assert_eq!(out.status.code(), Some(2));
}

/// A partnership's KPI: a new target and warning from next quarter, the
/// plain target carried from the KPI's first period, earlier quarters
/// judged as before; a clause takes no warning.
#[test]
fn a_partnership_kpi_amendment_carries_its_warning() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = yardstick(
        &[
            "init",
            "p",
            "--template",
            "partnership-distribution",
            "--end",
            "2027-03-10",
        ],
        tmp.path(),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let d = tmp.path().join("p");
    let statuses = |d: &Path| -> Vec<(String, Value)> {
        let out = yardstick(
            &[
                "eval",
                ".",
                "--kpi",
                "customer_acquisition_cost",
                "--as-of",
                "2027-03-10T00:00:00Z",
                "--format",
                "json",
            ],
            d,
        );
        json_of(&out)["evaluations"]
            .as_array()
            .expect("rows")
            .iter()
            .map(|r| {
                (
                    r["period"].as_str().expect("period").to_string(),
                    r["status"].clone(),
                )
            })
            .collect()
    };
    let before = statuses(&d);
    let p = json_of(&run(
        &d,
        &None,
        &[
            "propose",
            "reseller",
            "--kpi",
            "customer_acquisition_cost",
            "--target",
            "<= 750",
            "--warning",
            "<= 950",
            "--from",
            "2027-04",
            "--reason",
            "the channel has matured",
            "--as",
            "Partner Co",
            "--as-of",
            "2027-03-10",
            "--format",
            "json",
        ],
    ));
    assert_eq!(p["warning"], "<= 950");
    let n = p["id"].to_string();
    let a = json_of(&run(
        &d,
        &None,
        &["accept", &n, "--as", "Our Company", "--write", "--format", "json"],
    ));
    assert_eq!(a["written"], Value::Bool(true), "{a}");
    let text = std::fs::read_to_string(d.join("yardstick.toml")).expect("definitions");
    let first = before.first().expect("a period").0.clone();
    assert!(
        text.contains(&format!("{{ from = \"{}-{:02}-01\", target = \"<= 800\" }}", &first[..4], (first[6..7].parse::<u32>().expect("quarter") - 1) * 3 + 1))
            && text.contains("{ from = \"2027-04-01\", target = \"<= 750\", warning = \"<= 950\", note = \"proposal #1 by Partner Co"),
        "{text}"
    );
    assert_eq!(check_json(&d).0, 0);
    assert_eq!(
        statuses(&d),
        before,
        "every quarter before the amendment is judged as before"
    );
    let listed = json_of(&run(&d, &None, &["agreements", "reseller", "--format", "json"]));
    assert_eq!(listed["proposals"][0]["written"], Value::Bool(true));
    // A clause has no warning band.
    let dir = broken_seed("", "");
    let out = yardstick(
        &[
            "propose",
            "hosting",
            "--clause",
            "uptime",
            "--target",
            ">= 99%",
            "--warning",
            ">= 98%",
            "--from",
            "2026-12",
            "--reason",
            "x",
            "--as",
            "Acme Corp",
            "--as-of",
            "2026-12-02",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("a warning threshold belongs to a KPI"));
}
