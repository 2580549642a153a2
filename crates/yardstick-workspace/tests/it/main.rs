//! The one way into a project: opened once, stored rows decoded once, the
//! same answers as the engine's own entry points.

mod compact;
mod layers;

use std::path::Path;

use yardstick_engine::eval::EvalOptions;
use yardstick_engine::ingest::BodyFormat;
use yardstick_workspace::{OpenError, Rows, Workspace};

pub(crate) const PROJECT: &str = r#"
[project]
name = "W"
timezone = "UTC"

[source.signups]
store = true
time = "at"
columns = { at = "timestamp", plan = "string" }
freshness = "2d"

[kpi.signups]
objective = "Grow"
owner = "growth"
measure = "count(*)"
source = "signups"
every = "month"
target = ">= 2"
"#;

pub(crate) fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("yardstick.toml"), PROJECT).expect("write");
    dir
}

pub(crate) fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().expect("runtime")
}

pub(crate) fn push(dir: &Path, body: &str, key: &str) {
    let ws = rt().block_on(Workspace::open(dir, None)).expect("opens");
    let rows = Rows {
        source: "signups",
        body: body.as_bytes(),
        format: BodyFormat::Csv,
        idempotency_key: Some(key),
        actor: "test",
    };
    let stored = rt().block_on(ws.push(&rows)).expect("store").expect("good rows");
    assert!(stored.rows > 0);
}

pub(crate) fn opts(as_of: &str) -> EvalOptions {
    EvalOptions {
        as_of: chrono::DateTime::parse_from_rfc3339(as_of)
            .expect("instant")
            .with_timezone(&chrono::Utc),
        from: None,
        to: None,
        kpis: Vec::new(),
        by: None,
        projections: false,
    }
}

#[test]
fn a_workspace_decodes_each_stored_batch_once() {
    let dir = project();
    push(
        dir.path(),
        "at,plan\n2026-10-03T10:00:00Z,pro\n2026-10-09T10:00:00Z,free\n",
        "a",
    );
    push(dir.path(), "at,plan\n2026-11-03T10:00:00Z,pro\n", "b");
    push(
        dir.path(),
        "at,plan\n2026-11-20T10:00:00Z,pro\n2026-11-21T10:00:00Z,pro\n",
        "c",
    );

    let rt = rt();
    let ws = rt.block_on(Workspace::open(dir.path(), None)).expect("opens");
    assert_eq!(ws.batches_decoded(), 3, "three batches, decoded on opening");
    // Evaluating, checking freshness and evaluating again read no batch again.
    let (ev, d) = rt
        .block_on(ws.evaluate(&opts("2026-12-01T00:00:00Z")))
        .expect("evaluates");
    assert!(!d.has_errors(), "{d:?}");
    let stale = rt
        .block_on(ws.stale(ws_instant("2026-12-01T00:00:00Z")))
        .expect("freshness");
    let (again, _) = rt
        .block_on(ws.evaluate(&opts("2026-11-15T00:00:00Z")))
        .expect("evaluates");
    assert_eq!(ws.batches_decoded(), 3, "nothing decoded twice");

    let value = |ev: &yardstick_engine::Evaluation, period: &str| {
        ev.evaluations
            .iter()
            .find(|r| r.period == period)
            .and_then(|r| r.value)
    };
    assert_eq!(
        (value(&ev, "2026-10"), value(&ev, "2026-11")),
        (Some(2.0), Some(3.0))
    );
    // As of the 15th of November, one November signup had arrived.
    assert_eq!(value(&again, "2026-11"), Some(1.0));
    // The newest row (21 November) is older than two days on 1 December.
    assert_eq!(
        stale.iter().map(|s| s.source.as_str()).collect::<Vec<_>>(),
        ["signups"]
    );

    // The engine's own entry point, given the same rows, agrees.
    let (direct, _) = rt
        .block_on(yardstick_engine::evaluate_dir_with(
            ws.project(),
            dir.path(),
            ws.stored(),
            &opts("2026-12-01T00:00:00Z"),
        ))
        .expect("evaluates");
    assert_eq!(
        serde_json::to_string(&direct).expect("json"),
        serde_json::to_string(&ev).expect("json")
    );
}

fn ws_instant(s: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(s)
        .expect("instant")
        .with_timezone(&chrono::Utc)
}

#[test]
fn a_folder_without_a_project_and_broken_definitions_are_told_apart() {
    let empty = tempfile::tempdir().expect("temp dir");
    let e = rt()
        .block_on(Workspace::open(empty.path(), None))
        .expect_err("no project");
    assert!(matches!(e, OpenError::NoProject(_)), "{e}");
    assert!(e.to_string().contains("yardstick init"), "{e}");

    let dir = project();
    std::fs::write(
        dir.path().join("yardstick.toml"),
        PROJECT.replace("every =", "evry ="),
    )
    .expect("write");
    match rt().block_on(Workspace::open(dir.path(), None)) {
        Err(OpenError::Definitions(loaded)) => {
            let codes: Vec<&str> = loaded.diagnostics.iter().map(|d| d.code).collect();
            assert_eq!(codes, ["unknown-key"]);
        }
        other => panic!("expected the definitions' errors, got {other:?}"),
    }
}

#[test]
fn bad_rows_are_listed_and_nothing_is_stored() {
    let dir = project();
    let ws = rt().block_on(Workspace::open(dir.path(), None)).expect("opens");
    let rows = Rows {
        source: "signups",
        body: b"at,plan\nyesterday,pro\n2026-11-03T10:00:00Z,pro\n",
        format: BodyFormat::Csv,
        idempotency_key: None,
        actor: "test",
    };
    let bad = rt()
        .block_on(ws.push(&rows))
        .expect("store")
        .expect_err("a bad row");
    assert_eq!(bad.len(), 1, "{bad:?}");
    let reopened = rt().block_on(Workspace::open(dir.path(), None)).expect("opens");
    assert!(reopened.stored().is_empty(), "{:?}", reopened.stored().keys());
}

/// The server's way: a workspace that lives on, refreshed as batches
/// arrive, decodes each new batch once and reads them all again only
/// for new definitions.
#[test]
fn a_refreshed_workspace_takes_in_new_batches_only() {
    let dir = project();
    push(dir.path(), "at,plan\n2026-10-03T10:00:00Z,pro\n", "a");
    let rt = rt();
    let url = yardstick_store::default_url(dir.path()).expect("url");
    let store = rt.block_on(yardstick_store::Store::open(&url)).expect("store");
    let loaded = Workspace::load(dir.path()).expect("loads");
    let (mut ws, read) = rt.block_on(Workspace::open_on(dir.path(), loaded, &store));
    read.expect("reads");
    assert_eq!((ws.batches_decoded(), ws.batch_seq()), (1, 1));

    push(
        dir.path(),
        "at,plan\n2026-10-04T10:00:00Z,pro\n2026-10-05T10:00:00Z,free\n",
        "b",
    );
    rt.block_on(ws.refresh(&store)).expect("refreshes");
    assert_eq!(
        (ws.batches_decoded(), ws.batch_seq()),
        (2, 2),
        "only the new batch"
    );
    let count = |ws: &Workspace| {
        let (ev, _) = rt
            .block_on(ws.evaluate(&opts("2026-11-01T00:00:00Z")))
            .expect("evaluates");
        ev.evaluations
            .iter()
            .find(|r| r.period == "2026-10")
            .and_then(|r| r.value)
    };
    assert_eq!(count(&ws), Some(3.0));
    // Nothing new: nothing decoded.
    rt.block_on(ws.refresh(&store)).expect("refreshes");
    assert_eq!(ws.batches_decoded(), 2);

    // New definitions: every batch is decoded again with their schemas.
    let loaded = Workspace::load(dir.path()).expect("loads");
    ws.set_definitions(loaded);
    rt.block_on(ws.refresh(&store)).expect("refreshes");
    assert_eq!((ws.batches_decoded(), ws.batch_seq()), (4, 2));
    assert_eq!(count(&ws), Some(3.0));
    rt.block_on(store.close());
}

/// Data the engine rejects comes back located at file, row and column (by
/// the data checks, run once and only because the evaluation failed).
#[test]
fn a_data_error_is_located_at_file_and_row() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("yardstick.toml"),
        r#"
[project]
name = "D"
timezone = "UTC"

[source.orders]
path = "orders.csv"
time = "at"
columns = { at = "timestamp", amount = "double" }

[kpi.revenue]
objective = "Grow"
owner = "sales"
measure = "sum(amount)"
source = "orders"
every = "month"
target = ">= 2"
"#,
    )
    .expect("write");
    std::fs::write(
        dir.path().join("orders.csv"),
        "at,amount\n2026-10-03T10:00:00Z,5\n2026-10-04T10:00:00Z,lots\n",
    )
    .expect("write");
    let rt = rt();
    let ws = rt.block_on(Workspace::open(dir.path(), None)).expect("opens");
    let (ev, d) = rt
        .block_on(ws.evaluate(&opts("2026-11-01T00:00:00Z")))
        .expect("a located error, not a bare message");
    assert!(ev.evaluations.is_empty());
    // The file and row in the message, the declaration it breaks located.
    let found: Vec<(String, usize)> = d
        .iter()
        .filter_map(|x| {
            Some((
                x.message.clone(),
                ws.loaded().files.position(x.loc.as_ref()?).line,
            ))
        })
        .collect();
    assert_eq!(found.len(), 1, "{d:?}");
    assert!(found[0].0.contains("orders.csv:3 (row 2)"), "{d:?}");
    assert!(found[0].0.contains("`lots` is not a number"), "{d:?}");
    assert_eq!(found[0].1, 9, "the `columns` line of [source.orders]");
}
