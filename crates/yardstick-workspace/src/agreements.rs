//! Agreements as every front end shows them: an agreement's terms and
//! fingerprint (`core::terms`) with the signatures the store holds, which
//! parties signed the terms now in force, and signing.
//!
//! Who may sign for whom is the front end's rule; here a signature must
//! name one of the agreement's parties and signs the current fingerprint.

use serde::Serialize;
use yardstick_core::model::Project;
use yardstick_core::terms::{Terms, terms};
use yardstick_store::{NewSignature, Signature, Store, StoreError};

/// An agreement's terms with their signatures.
#[derive(Debug, Clone, Serialize)]
pub struct Agreement {
    #[serde(flatten)]
    pub terms: Terms,
    /// Every signature recorded, oldest first (of this and earlier
    /// versions of the terms).
    pub signatures: Vec<Signature>,
    /// Parties who signed the terms now in force.
    pub signed: Vec<String>,
    /// Parties who have not.
    pub unsigned: Vec<String>,
    /// Whether every party signed the terms now in force.
    pub agreed: bool,
    /// The last fingerprint every party signed, when it is not the
    /// current one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_agreed: Option<String>,
}

/// Why a signature was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("no contract, incentive or partnership `{0}`")]
    Unknown(String),
    #[error("`{party}` is not a party to `{id}`; its parties: {parties}")]
    NotAParty {
        id: String,
        party: String,
        parties: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The agreement `id` with its signatures, or `None` when there is none.
pub async fn agreement(project: &Project, store: &Store, id: &str) -> Result<Option<Agreement>, StoreError> {
    let Some(t) = terms(project, id) else {
        return Ok(None);
    };
    let signatures = store.signatures(id).await?;
    Ok(Some(with_signatures(t, signatures)))
}

/// Terms with their signatures: who signed the current fingerprint, and
/// the last fingerprint every party signed.
pub fn with_signatures(t: Terms, signatures: Vec<Signature>) -> Agreement {
    let signed_by = |fp: &str| -> Vec<String> {
        t.parties
            .iter()
            .filter(|p| signatures.iter().any(|s| s.fingerprint == fp && &s.party == *p))
            .cloned()
            .collect()
    };
    let signed = signed_by(&t.fingerprint);
    let unsigned: Vec<String> = t
        .parties
        .iter()
        .filter(|p| !signed.contains(p))
        .cloned()
        .collect();
    let agreed = !t.parties.is_empty() && unsigned.is_empty();
    let last_agreed = if agreed {
        None
    } else {
        signatures
            .iter()
            .rev()
            .map(|s| s.fingerprint.as_str())
            .find(|fp| !t.parties.is_empty() && signed_by(fp).len() == t.parties.len())
            .map(str::to_string)
    };
    Agreement {
        terms: t,
        signatures,
        signed,
        unsigned,
        agreed,
        last_agreed,
    }
}

/// Records `party`'s signature of agreement `id`'s current terms.
pub async fn sign(
    project: &Project,
    store: &Store,
    id: &str,
    party: &str,
    actor: &str,
) -> Result<Agreement, SignError> {
    let t = terms(project, id).ok_or_else(|| SignError::Unknown(id.to_string()))?;
    if !t.parties.iter().any(|p| p == party) {
        return Err(SignError::NotAParty {
            id: id.to_string(),
            party: party.to_string(),
            parties: if t.parties.is_empty() {
                "none named".to_string()
            } else {
                t.parties.join(", ")
            },
        });
    }
    store
        .sign(&NewSignature {
            agreement: id,
            fingerprint: &t.fingerprint,
            party,
            actor,
        })
        .await?;
    let signatures = store.signatures(id).await?;
    Ok(with_signatures(t, signatures))
}
