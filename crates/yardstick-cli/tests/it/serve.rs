//! `serve`, `push` and `token`: durability under SIGKILL and the command-line ingestion.

use super::*;

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
