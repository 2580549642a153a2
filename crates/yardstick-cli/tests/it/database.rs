//! Database sources against a real PostgreSQL (`YARDSTICK_TEST_POSTGRES`):
//! the seed example loaded from its CSVs into tables evaluates exactly as
//! from the files; the monthly sum runs in the database as an aggregate;
//! connection mistakes are located and never show the secret.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

use super::{seed_dir, the_error, yardstick};

/// Each seed table with its columns as PostgreSQL types them.
const TABLES: [(&str, &str); 5] = [
    (
        "orders",
        "order_id bigint, ordered_at timestamptz, customer_id text, is_first_order boolean, salesperson text, region text, amount double precision, cost double precision",
    ),
    (
        "deals",
        "deal_id bigint, closed_at timestamptz, salesperson text, stage text",
    ),
    (
        "tickets",
        "ticket_id bigint, created_at timestamptz, first_response_at timestamptz, resolved_at timestamptz, team text",
    ),
    (
        "incidents",
        "incident_id bigint, started_at timestamptz, ended_at timestamptz",
    ),
    (
        "maintenance",
        "window_id bigint, starts_at timestamptz, ends_at timestamptz, reason text",
    ),
];

const AS_OF: &str = "2026-10-01T00:00:00Z";

fn pg_url() -> Option<String> {
    let url = std::env::var("YARDSTICK_TEST_POSTGRES")
        .ok()
        .filter(|u| !u.is_empty());
    if url.is_none() {
        eprintln!(
            "SKIPPED: set YARDSTICK_TEST_POSTGRES (scripts/start_postgres.sh) to test database sources"
        );
    }
    url
}

/// Loads the seed CSVs into a fresh schema and returns its name.
fn load_seed(url: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let schema = format!("seed_{}_{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst));
    let mut sql = format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema};\n");
    for (table, columns) in TABLES {
        sql += &format!("CREATE TABLE {schema}.{table} ({columns});\n");
        let text =
            std::fs::read_to_string(seed_dir().join("data").join(format!("{table}.csv"))).expect("seed CSV");
        let mut rows = Vec::new();
        for line in text.lines().skip(1).filter(|l| !l.trim().is_empty()) {
            let values: Vec<String> = line
                .split(',')
                .map(|v| {
                    if v.is_empty() {
                        "NULL".to_string()
                    } else {
                        format!("'{}'", v.replace('\'', "''"))
                    }
                })
                .collect();
            rows.push(format!("({})", values.join(", ")));
        }
        sql += &format!("INSERT INTO {schema}.{table} VALUES {};\n", rows.join(",\n"));
    }
    // The same orders with wall-clock times (`timestamp`, no zone) in the
    // project's zone, as many databases keep them.
    sql += &format!(
        "CREATE TABLE {schema}.orders_local AS SELECT order_id, (ordered_at AT TIME ZONE 'Europe/Berlin') AS ordered_at, \
         customer_id, is_first_order, salesperson, region, amount, cost FROM {schema}.orders;\n"
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .expect("connect to the test PostgreSQL");
        let task = tokio::spawn(conn);
        client.batch_execute(&sql).await.expect("load the seed");
        drop(client);
        let _ = task.await;
    });
    schema
}

/// The seed's definitions reading every source from `schema` through the
/// connection `main`, whose URL is in `YARDSTICK_TEST_POSTGRES`; no data
/// files beside them.
fn seed_from(schema: &str, edit: (&str, &str)) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut text = std::fs::read_to_string(seed_dir().join("yardstick.toml")).expect("seed definitions");
    for (table, _) in TABLES {
        let file = format!("path = \"data/{table}.csv\"");
        assert!(text.contains(&file), "the seed no longer reads {file}");
        text = text.replace(
            &file,
            &format!("connection = \"main\"\ntable = \"{schema}.{table}\""),
        );
    }
    text = text.replacen(
        "[source.orders]",
        "[connection.main]\nurl_env = \"YARDSTICK_TEST_POSTGRES\"\n\n[source.orders]",
        1,
    );
    assert!(text.contains(edit.0), "no {:?} to edit", edit.0);
    std::fs::write(
        tmp.path().join("yardstick.toml"),
        text.replacen(edit.0, edit.1, 1),
    )
    .expect("write");
    tmp
}

pub(crate) fn json_of(args: &[&str], dir: &Path) -> Value {
    let out = yardstick(args, dir);
    assert!(
        out.status.success(),
        "{args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// Equal JSON, numbers within 1e-9 of each other (a database or a
/// cluster sums in its own order).
pub(crate) fn assert_same(a: &Value, b: &Value, path: &str) {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap_or(f64::NAN), y.as_f64().unwrap_or(f64::NAN));
            assert!(
                (x - y).abs() <= 1e-9 * x.abs().max(1.0),
                "{path}: {x} ≠ {y} (here first, then the files read locally)"
            );
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{path}: lengths differ");
            for (i, (x, y)) in x.iter().zip(y).enumerate() {
                assert_same(x, y, &format!("{path}[{i}]"));
            }
        }
        (Value::Object(x), Value::Object(y)) => {
            let keys = |o: &serde_json::Map<String, Value>| o.keys().cloned().collect::<Vec<_>>();
            assert_eq!(keys(x), keys(y), "{path}: keys differ");
            for (k, v) in x {
                // The terms name where the data comes from, so their
                // fingerprint differs by design.
                if k == "fingerprint" {
                    continue;
                }
                assert_same(v, &y[k], &format!("{path}.{k}"));
            }
        }
        _ => assert_eq!(a, b, "{path}"),
    }
}

#[test]
fn the_seed_from_postgresql_equals_the_files_row_for_row() {
    let Some(url) = pg_url() else { return };
    let schema = load_seed(&url);
    let db = seed_from(&schema, ("", ""));
    let files = seed_dir();
    for cmd in [["eval", "--format", "json"], ["sla", "--format", "json"]] {
        let mut args: Vec<&str> = cmd.to_vec();
        args.extend(["--as-of", AS_OF]);
        args.push(".");
        let from_db = json_of(&args, db.path());
        let from_files = json_of(&args, &files);
        let rows = from_files["evaluations"].as_array().map_or(0, Vec::len);
        if cmd[0] == "eval" {
            assert!(rows > 50, "the seed evaluates to many rows: {rows}");
        }
        assert_same(&from_db, &from_files, cmd[0]);
    }
}

#[test]
fn the_monthly_sum_runs_in_the_database_as_an_aggregate() {
    let Some(url) = pg_url() else { return };
    let schema = load_seed(&url);
    let db = seed_from(&schema, ("", ""));
    let x = json_of(
        &[
            "explain", "revenue", "2026-08", "--as-of", AS_OF, "--format", "json", "-C", ".",
        ],
        db.path(),
    );
    let sql = x["database_sql"]
        .as_str()
        .unwrap_or_else(|| panic!("no database_sql: {x:#}"));
    let upper = sql.to_ascii_uppercase();
    assert!(
        upper.contains("SUM(\"__Q\".\"AMOUNT\")"),
        "the sum is computed there: {sql}"
    );
    assert!(upper.contains("GROUP BY"), "grouped by period there: {sql}");
    assert!(
        sql.contains(&format!("\"{schema}\".\"orders\"")),
        "reads the table: {sql}"
    );
    // The period bounds are the project's (Berlin) months, in UTC.
    assert!(
        sql.contains("2026-07-31T22:00:00"),
        "August starts at 22:00 UTC: {sql}"
    );
    // And its value is the files' value.
    let from_files = json_of(
        &[
            "explain", "revenue", "2026-08", "--as-of", AS_OF, "--format", "json", "-C", ".",
        ],
        &seed_dir(),
    );
    assert_same(&x["value"], &from_files["value"], "value");
    assert!(from_files["database_sql"].is_null(), "files have no database SQL");
}

#[test]
fn a_bad_connection_or_a_missing_table_is_located_without_the_secret() {
    let Some(url) = pg_url() else { return };
    let schema = load_seed(&url);
    // A table the database does not have: located at `table`.
    let missing = seed_from(&schema, (&format!("{schema}.deals"), &format!("{schema}.dealz")));
    let out = yardstick(&["check", ".", "--format", "json"], missing.path());
    assert_eq!(out.status.code(), Some(1));
    let json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let e = &json["diagnostics"][0];
    assert_eq!(e["code"], "missing-table", "{json:#}");
    assert!(
        e["message"]
            .as_str()
            .is_some_and(|m| m.contains("dealz") && m.contains("`main`")),
        "{e:#}"
    );
    let text = std::fs::read_to_string(missing.path().join("yardstick.toml")).expect("read");
    let line = text.lines().position(|l| l.contains("dealz")).expect("line") + 1;
    assert_eq!(e["line"], line, "{e:#}");

    // A server that does not answer, with a password in the URL.
    let db = seed_from(&schema, ("", ""));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_yardstick"))
        .args(["check", ".", "--format", "json"])
        .current_dir(db.path())
        .env("NO_COLOR", "1")
        .env(
            "YARDSTICK_TEST_POSTGRES",
            "postgres://alice:S3cret-pw@127.0.0.1:1/sales",
        )
        .output()
        .expect("runs");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(!all.contains("S3cret-pw"), "the password is never shown: {all}");
    let json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    // One error for the connection, where the source names it.
    let (code, at, _) = the_error(&json);
    assert_eq!(code, "unreachable-database");
    let text = std::fs::read_to_string(db.path().join("yardstick.toml")).expect("read");
    let line = text
        .lines()
        .position(|l| l.starts_with("connection = \"main\""))
        .expect("line")
        + 1;
    assert!(at.starts_with(&format!("yardstick.toml:{line}:")), "{at}");
    let m = json["diagnostics"][0]["message"].as_str().unwrap_or_default();
    assert!(
        m.contains("`main`") && m.contains("YARDSTICK_TEST_POSTGRES"),
        "{m}"
    );
}

#[test]
fn wall_clock_times_in_the_database_are_read_in_the_project_zone() {
    let Some(url) = pg_url() else { return };
    let schema = load_seed(&url);
    let db = seed_from(
        &schema,
        (&format!("{schema}.orders\""), &format!("{schema}.orders_local\"")),
    );
    let args = ["eval", "--format", "json", "--as-of", AS_OF, "."];
    assert_same(&json_of(&args, db.path()), &json_of(&args, &seed_dir()), "eval");
    let x = json_of(
        &[
            "explain", "revenue", "2026-08", "--as-of", AS_OF, "--format", "json", "-C", ".",
        ],
        db.path(),
    );
    // Bounds in Berlin's wall clock: August starts at midnight.
    let sql = x["database_sql"].as_str().unwrap_or_default();
    assert!(sql.contains("'2026-08-01 00:00:00' AS TIMESTAMP"), "{sql}");
}
