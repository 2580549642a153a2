//! Proposed amendments: recorded open, decided once (a second decision is
//! refused with the first one shown), listed per agreement, each step with
//! an audit entry, on every back-end.

use yardstick_store::{Decided, Decision, NewProposal};

use super::stores;

#[tokio::test]
async fn a_proposal_is_decided_once_with_audit_entries() {
    for (store, _dir) in stores().await {
        let new = NewProposal {
            agreement: "hosting",
            fingerprint: "sha256:aa",
            subject_kind: "clause",
            subject: "uptime",
            field: "target",
            value: ">= 99.9%",
            warning: None,
            effective: "2026-04-01",
            reason: "persistent misses",
            party: "Provider Ltd",
            actor: "cli",
        };
        let p = store.propose(&new).await.expect("proposes");
        assert_eq!((p.status.as_str(), p.decided_at), ("open", None));
        let other = store
            .propose(&NewProposal {
                agreement: "other",
                ..new.clone()
            })
            .await
            .expect("proposes");
        assert_eq!(
            store.proposals(Some("hosting")).await.expect("lists"),
            vec![p.clone()]
        );
        assert_eq!(store.proposals(None).await.expect("lists").len(), 2);

        let accept = Decision {
            accept: true,
            party: "Acme Corp",
            actor: "token:acme",
            comment: "agreed",
        };
        let Decided::Decided(d) = store.decide(p.id, &accept).await.expect("decides") else {
            panic!("an open proposal is decided")
        };
        assert_eq!(d.status, "accepted");
        assert_eq!(d.decided_party.as_deref(), Some("Acme Corp"));
        assert_eq!(d.comment.as_deref(), Some("agreed"));
        // A second decision, even the opposite one, does not change it.
        let reject = Decision {
            accept: false,
            ..accept.clone()
        };
        assert_eq!(
            store.decide(p.id, &reject).await.expect("answers"),
            Decided::AlreadyDecided(d.clone())
        );
        assert_eq!(
            store.decide(9_999, &reject).await.expect("answers"),
            Decided::Unknown
        );
        let Decided::Decided(r) = store.decide(other.id, &reject).await.expect("decides") else {
            panic!("an open proposal is decided")
        };
        assert_eq!(r.status, "rejected");
        assert_eq!(store.proposal(p.id).await.expect("reads"), Some(d));

        let audit: Vec<String> = store
            .audit_log(100)
            .await
            .expect("audit")
            .into_iter()
            .map(|e| e.action)
            .collect();
        for want in ["agreement.propose", "agreement.accept", "agreement.reject"] {
            assert!(audit.iter().any(|a| a == want), "{want} in {audit:?}");
        }
    }
}
