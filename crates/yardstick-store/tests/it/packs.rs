//! Review packs: issued once per review, period, party and format.

use super::*;
use yardstick_store::NewPack;

#[tokio::test]
async fn a_pack_is_issued_once_and_read_back_whole() {
    for (store, _dir) in stores().await {
        let pdf = [0u8, 1, 2, 255, 0, 7];
        let formats = [
            NewPack {
                format: "pdf",
                body: &pdf,
            },
            NewPack {
                format: "md",
                body: b"# Review",
            },
        ];
        let first = store
            .issue_pack("board", "2026-Q3", None, 1_000, &formats)
            .await
            .expect("issue");
        assert_eq!(first.len(), 2);
        assert_eq!((first[0].format.as_str(), first[0].bytes), ("pdf", 6));
        assert_eq!(first[0].party, None);
        // Issued again (a restart, or a second server): nothing new.
        let again = store
            .issue_pack("board", "2026-Q3", None, 2_000, &formats)
            .await
            .expect("issue again");
        assert!(again.is_empty());
        // A party's pack of the same period is another pack.
        let party = store
            .issue_pack("board", "2026-Q3", Some("DistriCo"), 1_000, &formats[1..])
            .await
            .expect("party pack");
        assert_eq!(party[0].party.as_deref(), Some("DistriCo"));
        let all = store.packs().await.expect("list");
        assert_eq!(all.len(), 3);
        assert!(all.iter().all(|p| p.as_of == 1_000 && p.notified_at.is_none()));
        let (p, body) = store.pack(first[0].id).await.expect("read").expect("exists");
        assert_eq!((p.format.as_str(), body.as_slice()), ("pdf", &pdf[..]));
        assert!(store.pack(9_999).await.expect("read").is_none());
        store.packs_notified(&[first[0].id]).await.expect("notified");
        let all = store.packs().await.expect("list");
        assert!(all[0].notified_at.is_some() && all[1].notified_at.is_none());
        let audit = store.audit_log(10).await.expect("audit");
        let issued: Vec<&str> = audit
            .iter()
            .filter(|a| a.action == "review.issue")
            .map(|a| a.detail.as_str())
            .collect();
        assert_eq!(
            issued,
            [
                "review `board` for 2026-Q3 for DistriCo (md)",
                "review `board` for 2026-Q3 (pdf, md)"
            ]
        );
    }
}
