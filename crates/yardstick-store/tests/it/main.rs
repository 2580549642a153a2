//! The state store against SQLite and, when `YARDSTICK_TEST_POSTGRES` is
//! set, a real PostgreSQL server.

mod actions;
mod packs;
mod proposals;
mod signatures;

use yardstick_store::{NewBatch, Reported, Role, Store, StoreError, testing};

async fn stores() -> Vec<(Store, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = yardstick_store::default_url(dir.path()).expect("url");
    let mut out = vec![(Store::open(&url).await.expect("sqlite opens"), Some(dir))];
    if let Some(admin) = testing::postgres_url() {
        let url = testing::fresh_postgres(&admin).await.expect("fresh database");
        out.push((Store::open(&url).await.expect("postgres opens"), None));
    }
    out
}

fn batch<'a>(source: &'a str, key: Option<&'a str>, body: &'a [u8]) -> NewBatch<'a> {
    NewBatch {
        source,
        idempotency_key: key,
        rows: 2,
        actor: "test",
        body,
    }
}

#[tokio::test]
async fn batches_are_stored_once_per_idempotency_key() {
    for (store, _dir) in stores().await {
        let first = store
            .insert_batch(&batch("s", Some("k1"), b"one"))
            .await
            .expect("insert");
        assert!(!first.replayed);
        let again = store
            .insert_batch(&batch("s", Some("k1"), b"one"))
            .await
            .expect("replay");
        assert_eq!((again.seq, again.replayed), (first.seq, true));
        // The same key on another source is another batch.
        let other = store
            .insert_batch(&batch("t", Some("k1"), b"one"))
            .await
            .expect("insert");
        assert!(other.seq > first.seq && !other.replayed);
        // A key reused for a different body is refused, not silently replayed.
        let reused = store.insert_batch(&batch("s", Some("k1"), b"two")).await;
        assert!(
            matches!(reused, Err(StoreError::KeyReused(k)) if k == "k1"),
            "{:?}",
            store.backend()
        );
        // Without a key every push is stored.
        store
            .insert_batch(&batch("s", None, b"one"))
            .await
            .expect("insert");
        store
            .insert_batch(&batch("s", None, b"one"))
            .await
            .expect("insert");
        let all = store.batches().await.expect("batches");
        let sources: Vec<&str> = all.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(sources, ["s", "t", "s", "s"]);
        assert_eq!(store.row_counts().await.expect("counts")["s"], 6);
        assert_eq!(store.latest_seq().await.expect("seq"), store_max(&store).await);
        // Every push is in the audit log.
        let log = store.audit_log(10).await.expect("audit");
        assert_eq!(log.iter().filter(|e| e.action == "push").count(), 4);
    }
}

async fn store_max(store: &Store) -> i64 {
    let mut max = 0;
    for _ in store.batches().await.expect("batches") {
        max += 1;
    }
    // Sequence numbers start at 1 and grow by one per stored batch here.
    max
}

#[tokio::test]
async fn tokens_authenticate_by_secret_until_revoked() {
    for (store, _dir) in stores().await {
        let (t, secret) = store
            .create_token(Role::Viewer, Some("CloudCo"), "cli")
            .await
            .expect("create");
        assert!(secret.starts_with("ys_") && secret.len() > 40);
        let found = store.authenticate(&secret).await.expect("auth").expect("known");
        assert_eq!(found, t);
        assert_eq!(found.party.as_deref(), Some("CloudCo"));
        assert!(store.authenticate("ys_wrong").await.expect("auth").is_none());
        store.revoke_token(&t.id, "cli").await.expect("revoke");
        assert!(store.authenticate(&secret).await.expect("auth").is_none());
        assert!(matches!(
            store.revoke_token(&t.id, "cli").await,
            Err(StoreError::NoToken(_))
        ));
        let actions: Vec<String> = store
            .audit_log(10)
            .await
            .expect("log")
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert_eq!(actions, ["token.revoke", "token.create"]);
    }
}

fn rep(period: &str, value: f64, complete: bool, at: i64) -> Reported {
    Reported {
        kpi: "k".into(),
        period: period.into(),
        entity: String::new(),
        value: Some(value),
        status: Some("met".into()),
        complete,
        evaluated_at: at,
    }
}

#[tokio::test]
async fn history_answers_what_was_reported_and_lists_restatements() {
    for (store, _dir) in stores().await {
        let empty = Reported {
            value: None,
            status: None,
            ..rep("2026-08", 0.0, true, 50)
        };
        store.record(&[empty]).await.expect("record a row without value");
        store
            .record(&[rep("2026-10", 5.0, false, 100), rep("2026-09", 9.0, true, 100)])
            .await
            .expect("record");
        store
            .record(&[rep("2026-10", 7.0, true, 200)])
            .await
            .expect("record");
        store
            .record(&[rep("2026-10", 8.0, true, 300)])
            .await
            .expect("record");
        let at = |t| {
            let s = store.clone();
            async move {
                s.reported_as_of(t)
                    .await
                    .expect("as of")
                    .into_iter()
                    .map(|r| (r.period, r.value))
                    .collect::<Vec<_>>()
            }
        };
        assert!(at(49).await.is_empty());
        assert_eq!(at(99).await, [("2026-08".into(), None)]);
        assert_eq!(
            at(150).await,
            [
                ("2026-08".into(), None),
                ("2026-09".into(), Some(9.0)),
                ("2026-10".into(), Some(5.0))
            ]
        );
        assert_eq!(
            at(250).await,
            [
                ("2026-08".into(), None),
                ("2026-09".into(), Some(9.0)),
                ("2026-10".into(), Some(7.0))
            ]
        );
        assert_eq!(store.latest_reported().await.expect("latest")[2].value, Some(8.0));
        // 5 → 7 closed the period (not a restatement); 7 → 8 changed an ended period.
        let r = store.restatements().await.expect("restatements");
        assert_eq!(r.len(), 1);
        assert_eq!(
            (r[0].before, r[0].after, r[0].reported_at, r[0].restated_at),
            (Some(7.0), Some(8.0), 200, 300)
        );
    }
}

#[tokio::test]
async fn a_sqlite_url_naming_a_new_file_creates_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("new-folder").join("new.db");
    let url = format!("sqlite://{}", path.display());
    let store = Store::open(&url).await.expect("a new file is created");
    store
        .insert_batch(&batch("s", None, b"rows"))
        .await
        .expect("and written");
    assert!(path.exists());
    // A second open finds it and its rows.
    drop(store);
    Store::open(&url).await.expect("opens again");
}

#[tokio::test]
async fn resolutions_are_kept_in_order_with_their_audit_entries() {
    use yardstick_store::NewResolution;
    for (store, _dir) in stores().await {
        let first = store
            .resolve(&NewResolution {
                reconcile: "cloudco_sales",
                period: "2026-10",
                state: "disputed",
                side: None,
                comment: "order 342 was invoiced at 2,273.30",
                actor: "token:abc party:CloudCo",
            })
            .await
            .expect("resolve");
        let second = store
            .resolve(&NewResolution {
                reconcile: "cloudco_sales",
                period: "2026-10",
                state: "accepted",
                side: Some("left"),
                comment: "agreed on the call",
                actor: "token:def",
            })
            .await
            .expect("resolve");
        assert!(second.seq > first.seq);
        let all = store.resolutions().await.expect("resolutions");
        assert_eq!(all, [first, second.clone()], "{:?}", store.backend());
        assert_eq!(all[1].side.as_deref(), Some("left"));
        let log = store.audit_log(10).await.expect("audit");
        assert_eq!(log[0].action, "resolve");
        assert_eq!(
            log[0].detail,
            "accepted `cloudco_sales` 2026-10 (left side right): agreed on the call"
        );
        assert_eq!(log[1].actor, "token:abc party:CloudCo");
    }
}
