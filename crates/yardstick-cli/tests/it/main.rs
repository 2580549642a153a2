//! The `yardstick` binary on real files: the seed example, breakages, the
//! demo and templates, every command's output, serving and ingestion.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

mod agreements;
mod check;
mod cluster;
mod consequences;
mod database;
mod eval;
mod help;
mod reconcile;
mod review;
mod scaffold;
mod serve;
mod terms;
mod watch;
mod why;

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
