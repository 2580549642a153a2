//! Corrective actions: opened and closed with audit entries, on every
//! back-end.

use yardstick_store::{Close, NewAction};

use super::stores;

#[tokio::test]
async fn actions_open_and_close_once_with_their_audit_entries() {
    for (store, _dir) in stores().await {
        let new = NewAction {
            kpi: "revenue",
            entity: None,
            period: "2026-05",
            cause: Some(r#"{"partner":"CloudCo","region":"EU"}"#),
            title: "Call CloudCo's EU desk",
            owner: "partner-manager",
            due: "2026-06-15",
            judge_from: "2026-06",
            judge_to: "2026-07",
            actor: "token:abc",
        };
        let a = store.add_action(&new).await.expect("opens");
        let b = store
            .add_action(&NewAction {
                kpi: "uptime",
                cause: None,
                title: "Add a second database replica",
                ..new.clone()
            })
            .await
            .expect("opens");
        assert!(b.id > a.id);
        assert_eq!(a.cause.as_deref(), Some(r#"{"partner":"CloudCo","region":"EU"}"#));
        assert!(a.closed_at.is_none() && a.opened_at > 0);
        assert_eq!(
            store.actions().await.expect("list"),
            [a.clone(), b.clone()],
            "{:?}",
            store.backend()
        );

        let Close::Closed(closed) = store
            .close_action(a.id, "token:def", "orders back in June")
            .await
            .expect("closes")
        else {
            panic!("not closed");
        };
        assert_eq!(closed.outcome.as_deref(), Some("orders back in June"));
        assert_eq!(closed.closed_by.as_deref(), Some("token:def"));
        // Closing twice changes nothing; an unknown id is said so.
        assert!(matches!(
            store.close_action(a.id, "token:x", "again").await.expect("answers"),
            Close::AlreadyClosed(x) if x.outcome.as_deref() == Some("orders back in June")
        ));
        assert_eq!(
            store.close_action(9999, "token:x", "?").await.expect("answers"),
            Close::Unknown
        );

        let log = store.audit_log(10).await.expect("audit");
        assert_eq!(log[0].action, "action.close");
        assert_eq!(
            log[0].detail,
            format!("#{} on `revenue` 2026-05: orders back in June", a.id)
        );
        assert_eq!(log[1].action, "action.open");
        assert!(
            log[2]
                .detail
                .contains(r#"cause {"partner":"CloudCo","region":"EU"}"#),
            "{}",
            log[2].detail
        );
        assert_eq!(log.len(), 3);
    }
}
