//! Pushed rows compacted into Parquet: a server's workspace keeps few rows
//! in memory, and answers exactly as a workspace that read every batch.

use yardstick_workspace::Workspace;

use super::{opts, project, push, rt};

/// The evaluation as JSON, as the CLI's way (every batch read) gives it.
fn reference(dir: &std::path::Path, as_of: &str) -> String {
    let rt = rt();
    let ws = rt.block_on(Workspace::open(dir, None)).expect("opens");
    let (ev, _) = rt.block_on(ws.evaluate(&opts(as_of))).expect("evaluates");
    serde_json::to_string(&ev).expect("json")
}

fn evaluated(ws: &Workspace, as_of: &str) -> String {
    let (ev, _) = rt().block_on(ws.evaluate(&opts(as_of))).expect("evaluates");
    serde_json::to_string(&ev).expect("json")
}

fn rows(day: u32, n: usize) -> String {
    let mut body = "at,plan\n".to_string();
    for i in 0..n {
        body += &format!(
            "2026-10-{day:02}T{:02}:00:00Z,{}\n",
            i % 24,
            if i % 3 == 0 { "pro" } else { "free" }
        );
    }
    body
}

#[test]
fn compacted_rows_answer_as_every_batch_would_and_survive_a_restart() {
    let dir = project();
    let rt = rt();
    let url = yardstick_store::default_url(dir.path()).expect("url");
    let store = rt.block_on(yardstick_store::Store::open(&url)).expect("store");
    push(dir.path(), &rows(1, 3), "a");
    let loaded = Workspace::load(dir.path()).expect("loads");
    let (mut ws, read) = rt.block_on(Workspace::open_on(dir.path(), loaded, &store));
    read.expect("reads");
    ws.set_compaction_rows(5);
    let folder = dir.path().join(".yardstick").join("compacted");
    // Batches of varied sizes; compaction whenever 5 rows are held.
    for (i, n) in [4usize, 1, 7, 2, 2, 9, 1].into_iter().enumerate() {
        push(dir.path(), &rows(2 + i as u32, n), &format!("k{i}"));
        rt.block_on(ws.refresh(&store)).expect("refreshes");
        assert_eq!(
            evaluated(&ws, "2026-11-01T00:00:00Z"),
            reference(dir.path(), "2026-11-01T00:00:00Z"),
            "after batch {i}"
        );
    }
    let parquet: Vec<_> = walk(&folder)
        .into_iter()
        .filter(|p| p.ends_with(".parquet"))
        .collect();
    assert!(parquet.len() >= 3, "compacted several times: {parquet:?}");

    // A restart reads the files, and from the store only what came after.
    let decoded_before = ws.batches_decoded();
    assert_eq!(decoded_before, 8);
    push(dir.path(), &rows(20, 2), "after");
    let loaded = Workspace::load(dir.path()).expect("loads");
    let (again, read) = rt.block_on(Workspace::open_on(dir.path(), loaded, &store));
    read.expect("reads");
    assert!(
        again.batches_decoded() < 8,
        "only batches after the last compaction: {}",
        again.batches_decoded()
    );
    assert_eq!(
        evaluated(&again, "2026-11-01T00:00:00Z"),
        reference(dir.path(), "2026-11-01T00:00:00Z")
    );
    rt.block_on(store.close());

    // The same files beside another store's batches are not read.
    let other = project();
    push(other.path(), &rows(5, 2), "x");
    copy_dir(&folder, &other.path().join(".yardstick").join("compacted"));
    let url = yardstick_store::default_url(other.path()).expect("url");
    let store = rt.block_on(yardstick_store::Store::open(&url)).expect("store");
    let loaded = Workspace::load(other.path()).expect("loads");
    let (elsewhere, read) = rt.block_on(Workspace::open_on(other.path(), loaded, &store));
    read.expect("reads");
    assert_eq!(elsewhere.batches_decoded(), 1, "its own batch, from the start");
    assert_eq!(
        evaluated(&elsewhere, "2026-11-01T00:00:00Z"),
        reference(other.path(), "2026-11-01T00:00:00Z")
    );
    rt.block_on(store.close());
}

/// The server's refresher evaluates incrementally: after each push the
/// evaluation equals one that read every batch; a push is merged, a
/// compaction (rows moved into a file) reads the source whole once.
#[test]
fn pushed_rows_are_evaluated_incrementally_as_every_batch_would_be() {
    let dir = project();
    // A distinct count too: it does not merge, its periods are recomputed.
    let defs = std::fs::read_to_string(dir.path().join("yardstick.toml")).expect("read");
    let defs = defs
        + r#"
[kpi.plans]
objective = "Sell every plan"
owner = "growth"
measure = "count(DISTINCT plan)"
source = "signups"
every = "week"
target = ">= 2"
"#;
    std::fs::write(dir.path().join("yardstick.toml"), defs).expect("write");
    let rt = rt();
    let url = yardstick_store::default_url(dir.path()).expect("url");
    let store = rt.block_on(yardstick_store::Store::open(&url)).expect("store");
    push(dir.path(), &rows(1, 3), "a");
    let loaded = Workspace::load(dir.path()).expect("loads");
    let (mut ws, read) = rt.block_on(Workspace::open_on(dir.path(), loaded, &store));
    read.expect("reads");
    ws.set_compaction_rows(8);
    let incremental = |ws: &mut Workspace, as_of: &str| {
        let (ev, _) = rt
            .block_on(ws.evaluate_incremental(&opts(as_of)))
            .expect("evaluates");
        serde_json::to_string(&ev).expect("json")
    };
    let as_of = "2026-11-01T00:00:00Z";
    assert_eq!(incremental(&mut ws, as_of), reference(dir.path(), as_of));
    assert_eq!(ws.incremental_outcome().full, 2, "{:?}", ws.incremental_outcome());
    let mut merged = 0;
    let mut read_whole = 0;
    // Days 2..: some land in weeks that had rows, some in new weeks.
    for (i, n) in [2usize, 1, 3, 2, 1, 4].into_iter().enumerate() {
        push(dir.path(), &rows(2 + 2 * i as u32, n), &format!("k{i}"));
        rt.block_on(ws.refresh(&store)).expect("refreshes");
        assert_eq!(
            incremental(&mut ws, as_of),
            reference(dir.path(), as_of),
            "after batch {i}"
        );
        let o = ws.incremental_outcome();
        assert_eq!(o.merged + o.full, 2, "{o:?}");
        merged += o.merged;
        read_whole += o.full;
    }
    assert!(merged >= 6, "most pushes are merged: {merged}");
    assert!(
        read_whole >= 2,
        "a compaction reads the source whole once: {read_whole}"
    );
    // Nothing new: nothing is read again.
    rt.block_on(ws.refresh(&store)).expect("refreshes");
    assert_eq!(incremental(&mut ws, as_of), reference(dir.path(), as_of));
    assert_eq!(
        ws.incremental_outcome().reused,
        2,
        "{:?}",
        ws.incremental_outcome()
    );
    rt.block_on(store.close());
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p.to_string_lossy().into_owned());
        }
    }
    out
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read").flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).expect("copy");
        }
    }
}
