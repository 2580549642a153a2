//! Pushed rows: validation (every bad row named) and evaluation of stored
//! sources together with file sources.

use yardstick_engine::eval::EvalOptions;
use yardstick_engine::ingest::{
    BodyFormat, PushError, decode, encode, parse_batch, stored_schema, stored_source,
};

use crate::{project, row, utc};

const DEFS: &str = r#"
[source.deals]
store = true
time = "closed_at"
columns = { closed_at = "timestamp", amount = "double", rep = "string", won = "bool", units = "int" }

[source.targets]
path = "data/reps.csv"

[source.deals_by_team]
sql = "SELECT d.*, t.team FROM deals d JOIN targets t USING (rep)"
time = "closed_at"

[kpi.revenue]
measure = "sum(amount)"
source = "deals"
filter = "won"
every = "month"
target = ">= 100"

[kpi.team_units]
measure = "sum(units)"
source = "deals_by_team"
for_each = "team"
every = "month"
"#;

fn dir() -> tempfile::TempDir {
    project(
        "Europe/Berlin",
        DEFS,
        &[("data/reps.csv", "rep,team\nann,north\nbob,south\n")],
    )
}

#[test]
fn json_ndjson_and_csv_batches_read_alike() {
    let d = dir();
    let loaded = yardstick_engine::load_dir(d.path());
    assert!(!loaded.diagnostics.has_errors(), "{:#?}", loaded.diagnostics);
    let p = &loaded.project;
    let s = stored_source(p, "deals").expect("stored");
    let json = br#"[{"closed_at": "2026-03-31 23:30", "amount": 60, "rep": "ann", "won": true, "units": 2},
                   {"closed_at": "2026-04-01T00:30:00+02:00", "amount": 50.5, "rep": "bob", "won": false, "units": null}]"#;
    let ndjson = b"{\"closed_at\": \"2026-03-31 23:30\", \"amount\": 60, \"rep\": \"ann\", \"won\": true, \"units\": 2}\n\n{\"closed_at\": \"2026-04-01T00:30:00+02:00\", \"amount\": 50.5, \"rep\": \"bob\", \"won\": false}\n";
    let csv = b"closed_at,amount,rep,won,units\n2026-03-31 23:30,60,ann,true,2\n2026-04-01T00:30:00+02:00,50.5,bob,false,\n";
    let a = parse_batch(p, s, json, BodyFormat::Json).expect("json");
    let b = parse_batch(p, s, ndjson, BodyFormat::Ndjson).expect("ndjson");
    let c = parse_batch(p, s, csv, BodyFormat::Csv).expect("csv");
    assert_eq!(a, b);
    assert_eq!(a, c);
    assert_eq!(a.num_rows(), 2);
    // Naive times are read in the project zone: 23:30 in Berlin (CEST) is 21:30 UTC.
    let times = a
        .column(0)
        .as_any()
        .downcast_ref::<datafusion::arrow::array::TimestampMicrosecondArray>()
        .expect("instants");
    assert_eq!(times.value(0), utc("2026-03-31T21:30:00Z").timestamp_micros());
    assert_eq!(times.value(1), utc("2026-03-31T22:30:00Z").timestamp_micros());
    // Round trip through the store's encoding.
    let back = decode(&encode(&a).expect("encode"), &stored_schema(s)).expect("decode");
    assert_eq!(back, vec![a]);
}

#[test]
fn a_bad_batch_names_every_bad_row_and_column() {
    let d = dir();
    let loaded = yardstick_engine::load_dir(d.path());
    let p = &loaded.project;
    let s = stored_source(p, "deals").expect("stored");
    let body = br#"[{"closed_at": "2026-03-01", "amount": 1},
                    {"closed_at": "yesterday", "amount": "lots", "amout": 3},
                    {"amount": 2},
                    {"closed_at": "2026-03-02", "units": 1.5, "won": "maybe"},
                    7]"#;
    let Err(PushError::BadRows(errors)) = parse_batch(p, s, body, BodyFormat::Json) else {
        panic!("accepted a bad batch");
    };
    let got: Vec<(usize, Option<&str>)> = errors.iter().map(|e| (e.row, e.column.as_deref())).collect();
    assert_eq!(
        got,
        [
            (2, Some("closed_at")),
            (2, Some("amount")),
            (2, Some("amout")),
            (3, Some("closed_at")),
            (4, Some("won")),
            (4, Some("units")),
            (5, None),
        ]
    );
    assert!(
        errors[2].reason.contains("amount"),
        "did-you-mean: {}",
        errors[2].reason
    );
    assert!(errors[0].reason.contains("`yesterday` is not a time"));
    assert!(errors[3].reason.contains("required"));
    // Whole-body problems.
    for (body, fmt, says) in [
        (&b"{not json"[..], BodyFormat::Json, "not valid JSON"),
        (b"[]", BodyFormat::Json, "no rows"),
        (
            b"closed_at,amount\n2026-03-01,1,extra\n",
            BodyFormat::Csv,
            "bad CSV",
        ),
    ] {
        let Err(PushError::BadRows(e)) = parse_batch(p, s, body, fmt) else {
            panic!("accepted {body:?}");
        };
        assert!(e[0].reason.contains(says), "{e:?}");
    }
    assert!(matches!(
        stored_source(p, "targets"),
        Err(PushError::NotStored(_))
    ));
    assert!(matches!(
        stored_source(p, "nope"),
        Err(PushError::UnknownSource(_))
    ));
}

#[test]
fn stored_rows_evaluate_with_files_and_views() {
    let d = dir();
    let loaded = yardstick_engine::load_dir(d.path());
    let p = &loaded.project;
    let s = stored_source(p, "deals").expect("stored");
    let csv = b"closed_at,amount,rep,won,units\n\
        2026-03-31 23:30,60,ann,true,2\n\
        2026-04-01 00:30,50.5,bob,true,3\n\
        2026-04-02 10:00,70,ann,false,4\n\
        2026-04-03 10:00,49.5,bob,true,\n";
    let batch = parse_batch(p, s, csv, BodyFormat::Csv).expect("valid");
    let mut stored = yardstick_engine::StoredRows::new();
    stored.insert("deals".into(), vec![batch]);
    let opts = EvalOptions {
        as_of: utc("2026-05-01T12:00:00Z"),
        from: None,
        to: None,
        kpis: Vec::new(),
        by: None,
        projections: true,
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (ev, diags) = rt
        .block_on(yardstick_engine::evaluate_dir_with(p, d.path(), &stored, &opts))
        .expect("evaluates");
    assert!(!diags.has_errors(), "{diags:#?}");
    let rows = ev.evaluations;
    // March: 60 (won). April (Berlin): 50.5 + 49.5 won; 70 lost.
    assert_eq!(row(&rows, "revenue", "2026-03", None).value, Some(60.0));
    assert_eq!(row(&rows, "revenue", "2026-04", None).value, Some(100.0));
    assert_eq!(
        row(&rows, "revenue", "2026-04", None).status.map(|s| s.as_str()),
        Some("met")
    );
    assert_eq!(row(&rows, "revenue", "2026-05", None).value, None);
    assert_eq!(
        row(&rows, "team_units", "2026-04", Some("north")).value,
        Some(4.0)
    );
    assert_eq!(
        row(&rows, "team_units", "2026-04", Some("south")).value,
        Some(3.0)
    );
    // Without stored rows the KPIs have no data (and no error).
    let (ev, diags) = rt
        .block_on(yardstick_engine::evaluate_dir(p, d.path(), &opts))
        .expect("evaluates");
    assert!(!diags.has_errors(), "{diags:#?}");
    assert!(
        ev.evaluations
            .iter()
            .all(|r| r.value.is_none() || r.value == Some(0.0))
    );
}

#[test]
fn stored_sources_must_declare_their_columns() {
    let body = r#"
[source.a]
store = true
time = "at"

[source.b]
store = true
path = "data/x.csv"
time = "at"
columns = { at = "timestamp" }

[source.c]
store = true
time = "at"
columns = { at = "string", v = "int" }
"#;
    let d = project("UTC", body, &[]);
    let loaded = yardstick_engine::load_dir(d.path());
    let codes: Vec<&str> = loaded.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(
        codes,
        ["missing-key", "conflicting-keys", "bad-value"],
        "{:#?}",
        loaded.diagnostics
    );
}
