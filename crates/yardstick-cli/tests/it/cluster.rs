//! Evaluation on an Apache DataFusion Ballista cluster of separate
//! processes (a scheduler and two executors started here, on loopback)
//! equals local evaluation row for row.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::database::{assert_same, json_of};
use super::{seed_dir, yardstick};

/// Processes killed when the test ends, however it ends.
struct Cluster {
    children: Vec<Child>,
    engine: String,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A port that is free now, whose next port is free too (an executor
/// listens on both).
fn free_pair() -> u16 {
    for _ in 0..100 {
        let Ok(a) = TcpListener::bind("127.0.0.1:0") else {
            continue;
        };
        let Ok(addr) = a.local_addr() else { continue };
        let port = addr.port();
        if port < u16::MAX && TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
    panic!("no two free ports in a row on loopback");
}

fn spawn(args: &[&str], dir: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_yardstick"))
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the yardstick binary starts")
}

fn start(dir: &Path) -> Cluster {
    let scheduler = format!("127.0.0.1:{}", free_pair());
    let mut cluster = Cluster {
        children: vec![spawn(&["cluster", "scheduler", "--addr", &scheduler], dir)],
        engine: format!("ballista://{scheduler}"),
    };
    let up = Instant::now();
    while std::net::TcpStream::connect(&scheduler).is_err() {
        assert!(
            up.elapsed() < Duration::from_secs(30),
            "the scheduler did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    for i in 0..2 {
        let addr = format!("127.0.0.1:{}", free_pair());
        let work = dir.join(format!("executor-{i}"));
        std::fs::create_dir_all(&work).expect("work dir");
        let work = work.to_str().expect("utf-8 path").to_string();
        let child = spawn(
            &[
                "cluster",
                "executor",
                "--scheduler",
                &scheduler,
                "--addr",
                &addr,
                "--concurrency",
                "2",
                "--work-dir",
                &work,
            ],
            dir,
        );
        cluster.children.push(child);
        while std::net::TcpStream::connect(&addr).is_err() {
            assert!(
                up.elapsed() < Duration::from_secs(60),
                "an executor did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    cluster
}

fn files_in(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| {
            let p = e.path();
            if p.is_dir() { files_in(&p) } else { 1 }
        })
        .sum()
}

#[test]
fn the_seed_evaluated_on_a_ballista_cluster_equals_local_evaluation() {
    let seed = seed_dir();
    let dir = tempfile::tempdir().expect("temp dir");
    let cluster = start(dir.path());
    let seed_arg = seed.to_str().expect("utf-8 path");
    let as_of = "2026-10-01T00:00:00Z";
    let local = json_of(
        &["eval", seed_arg, "--format", "json", "--as-of", as_of],
        dir.path(),
    );
    let remote = json_of(
        &[
            "eval",
            seed_arg,
            "--format",
            "json",
            "--as-of",
            as_of,
            "--engine",
            &cluster.engine,
        ],
        dir.path(),
    );
    assert_eq!(
        remote["evaluations"].as_array().map(Vec::len),
        local["evaluations"].as_array().map(Vec::len)
    );
    assert_same(&remote, &local, "eval");
    // The executors ran the stages: their shuffle files are on disk.
    let shuffled: usize = (0..2)
        .map(|i| files_in(&dir.path().join(format!("executor-{i}"))))
        .sum();
    assert!(shuffled > 0, "no executor wrote a stage's output");
    // The contract's clauses read the same evaluation.
    let local = json_of(
        &["sla", seed_arg, "--format", "json", "--as-of", as_of],
        dir.path(),
    );
    let out = Command::new(env!("CARGO_BIN_EXE_yardstick"))
        .args(["sla", seed_arg, "--format", "json", "--as-of", as_of])
        .env("YARDSTICK_ENGINE", &cluster.engine)
        .current_dir(dir.path())
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let remote: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_same(&remote, &local, "sla");
}

#[test]
fn a_cluster_that_cannot_be_used_is_said_once_and_where() {
    let seed = seed_dir();
    let dir = tempfile::tempdir().expect("temp dir");
    let seed_arg = seed.to_str().expect("utf-8 path");
    let port = free_pair();
    let engine = format!("ballista://127.0.0.1:{port}");
    let out = yardstick(&["eval", seed_arg, "--engine", &engine], dir.path());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("unreachable-cluster") && err.contains(&format!("127.0.0.1:{port}")),
        "{err}"
    );
    assert_eq!(err.matches("error[").count(), 1, "said once: {err}");
    let out = yardstick(&["eval", seed_arg, "--engine", "http://x:1"], dir.path());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad-engine") && err.contains("ballista://HOST:PORT"),
        "{err}"
    );
    // Stored rows stay in this process: located, before any query.
    let project = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        project.path().join("yardstick.toml"),
        "[project]\nname = \"p\"\ntimezone = \"UTC\"\n\n[source.signups]\nstore = true\ntime = \"at\"\ncolumns = { at = \"timestamp\" }\n\n\
         [kpi.signups]\nobjective = \"Grow\"\nowner = \"growth\"\nsource = \"signups\"\nmeasure = \"count(*)\"\nevery = \"month\"\ntarget = \">= 1\"\n",
    )
    .expect("write");
    let cluster = start(dir.path());
    let out = yardstick(&["eval", "--engine", &cluster.engine], project.path());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("not-on-cluster") && err.contains("yardstick.toml:5:"),
        "{err}"
    );
}
