//! Signatures of agreements' terms: recorded once per party and
//! fingerprint, listed per agreement, each with an audit entry, on every
//! back-end.

use yardstick_store::NewSignature;

use super::stores;

#[tokio::test]
async fn a_party_signs_a_fingerprint_once_with_an_audit_entry() {
    for (store, _dir) in stores().await {
        let new = NewSignature {
            agreement: "hosting",
            fingerprint: "sha256:aa",
            terms: r#"{"rules":{"fee":1}}"#,
            party: "Acme Corp",
            actor: "token:acme",
        };
        let a = store.sign(&new).await.expect("signs");
        // Again: the first signature stands.
        let again = store
            .sign(&NewSignature {
                actor: "token:other",
                ..new.clone()
            })
            .await
            .expect("answers");
        assert_eq!(again, a);
        let b = store
            .sign(&NewSignature {
                party: "Provider Ltd",
                actor: "token:us",
                ..new.clone()
            })
            .await
            .expect("signs");
        let c = store
            .sign(&NewSignature {
                fingerprint: "sha256:bb",
                ..new.clone()
            })
            .await
            .expect("signs a new version");
        store
            .sign(&NewSignature {
                agreement: "other",
                ..new.clone()
            })
            .await
            .expect("signs another agreement");
        assert_eq!(
            store.signatures("hosting").await.expect("list"),
            [a.clone(), b, c],
            "{:?}",
            store.backend()
        );
        assert!(a.signed_at > 0 && a.signed_by == "token:acme");
        let audit = store.audit_log(10).await.expect("audit");
        let signed: Vec<&str> = audit
            .iter()
            .filter(|e| e.action == "agreement.sign")
            .map(|e| e.detail.as_str())
            .collect();
        assert_eq!(signed.len(), 4, "{signed:?}");
        assert!(
            signed.contains(&"`hosting` signed by Acme Corp (sha256:aa)"),
            "{signed:?}"
        );
        assert_eq!(
            store
                .signed_terms("hosting", "sha256:aa")
                .await
                .expect("terms")
                .as_deref(),
            Some(r#"{"rules":{"fee":1}}"#)
        );
        assert_eq!(
            store.signed_terms("hosting", "sha256:zz").await.expect("none"),
            None
        );
    }
}
