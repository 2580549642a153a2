//! Agreements as every front end shows them: an agreement's terms and
//! fingerprint (`core::terms`) with the signatures the store holds, which
//! parties signed the terms now in force, and signing.
//!
//! Who may sign for whom is the front end's rule; here a signature must
//! name one of the agreement's parties and signs the current fingerprint.

use serde::Serialize;
use yardstick_core::model::Project;
use yardstick_core::terms::{Change, Terms, canonical_json, diff, terms};
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
    /// Whether results are being judged on terms not every party signed
    /// (the parties signed an earlier version, or nothing yet).
    pub unsigned_terms: bool,
    /// What changed since the last version every party signed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<Change>,
    /// The terms of `last_agreed`, as signed.
    #[serde(skip)]
    pub agreed_terms: Option<serde_json::Value>,
}

/// Whether results are judged on signed terms: what `sla` and a
/// contract's clause rows carry beside the results.
#[derive(Debug, Clone, Serialize)]
pub struct Standing {
    pub fingerprint: String,
    pub signed: Vec<String>,
    pub unsigned: Vec<String>,
    pub agreed: bool,
    pub unsigned_terms: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_agreed: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<Change>,
}

impl Agreement {
    pub fn standing(&self) -> Standing {
        Standing {
            fingerprint: self.terms.fingerprint.clone(),
            signed: self.signed.clone(),
            unsigned: self.unsigned.clone(),
            agreed: self.agreed,
            unsigned_terms: self.unsigned_terms,
            last_agreed: self.last_agreed.clone(),
            changes: self.changes.clone(),
        }
    }

    /// Whether clause `clause`'s period starting on local day `first` is
    /// judged on terms every party signed: always when they signed the
    /// terms in force; when they signed an earlier version and only targets
    /// changed since, when the target in force for that period is the one
    /// they signed (an amendment from a later period leaves earlier periods
    /// on signed terms); otherwise not.
    pub fn period_signed(&self, clause: &str, first: chrono::NaiveDate) -> bool {
        if self.agreed {
            return true;
        }
        let Some(before) = &self.agreed_terms else {
            return false;
        };
        let only_targets = self.changes.iter().all(|c| {
            c.path
                .split('.')
                .map(|seg| seg.split('[').next().unwrap_or(seg))
                .any(|seg| matches!(seg, "target" | "targets" | "warning"))
        });
        only_targets
            && target_in_force(before, clause, first) == target_in_force(&self.terms.terms, clause, first)
    }

    /// The standing in words: judged on signed terms, or what is missing.
    pub fn words(&self) -> String {
        let id = &self.terms.id;
        if self.terms.parties.is_empty() {
            return format!(
                "unsigned terms: `{id}` names no party to sign it (a contract's provider and client, a \
                 partnership's partners, an incentive plan's owner)"
            );
        }
        if self.agreed {
            return format!(
                "`{id}` is judged on terms every party signed ({})",
                self.terms.fingerprint
            );
        }
        let missing = if self.signed.is_empty() {
            "no party signed them".to_string()
        } else {
            format!("{} has not signed them", self.unsigned.join(" and "))
        };
        let changed = if self.changes.is_empty() {
            String::new()
        } else {
            format!(
                "; changed since every party signed: {}",
                self.changes
                    .iter()
                    .map(|c| c.path.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        format!("unsigned terms: `{id}` is judged on terms not every party signed ({missing}){changed}")
    }
}

/// Whether contract `contract`'s clause `clause` is judged on terms every
/// party signed in period `period` (a label): [`Agreement::period_signed`]
/// of that contract's agreement among `agreements`; `None` when it is not
/// among them or the label is not a period.
pub fn row_signed(
    project: &Project,
    agreements: &[Agreement],
    contract: &str,
    clause: &str,
    period: &str,
) -> Option<bool> {
    let a = agreements.iter().find(|a| a.terms.id == contract)?;
    let first = project.settings.calendar().parse_label(period)?.first;
    Some(a.period_signed(clause, first))
}

/// The target (and warning) clause `clause` judges a period starting on
/// `first` by, in terms' canonical JSON: the clause's own (plain, or the
/// dated entry in force), else its KPI's.
fn target_in_force(
    terms: &serde_json::Value,
    clause: &str,
    first: chrono::NaiveDate,
) -> Option<serde_json::Value> {
    let cl = terms["rules"]["clauses"]
        .as_array()?
        .iter()
        .find(|c| c["id"] == clause)?;
    let day = first.to_string();
    let of = |v: &serde_json::Value| -> Option<serde_json::Value> {
        if let Some(dated) = v["targets"].as_array().filter(|d| !d.is_empty()) {
            return dated
                .iter()
                .rev()
                .find(|d| d["from"].as_str().is_some_and(|f| f <= day.as_str()))
                .map(|d| serde_json::json!([d["target"], d["warning"]]));
        }
        (!v["target"].is_null()).then(|| serde_json::json!([v["target"], v["warning"]]))
    };
    of(cl).or_else(|| of(&terms["measures"][cl["kpi"].as_str()?]))
}

/// One version of an agreement's terms that some party signed.
#[derive(Debug, Clone, Serialize)]
pub struct Version {
    pub fingerprint: String,
    /// The parties who signed it, in the order they did.
    pub signed_by: Vec<String>,
    /// Whether these are the terms in force now.
    pub current: bool,
}

/// The versions signed, oldest first.
pub fn versions(a: &Agreement) -> Vec<Version> {
    let mut out: Vec<Version> = Vec::new();
    for s in &a.signatures {
        match out.iter_mut().find(|v| v.fingerprint == s.fingerprint) {
            Some(v) => v.signed_by.push(s.party.clone()),
            None => out.push(Version {
                fingerprint: s.fingerprint.clone(),
                signed_by: vec![s.party.clone()],
                current: s.fingerprint == a.terms.fingerprint,
            }),
        }
    }
    out
}

/// Agreements `ids`' terms with their signatures, read from the project's
/// store when it has one (`db`, `YARDSTICK_DB`, or `.yardstick/state.db`):
/// reading never creates a store, and without one nobody has signed.
pub async fn read(
    dir: &std::path::Path,
    db: Option<&str>,
    project: &Project,
    ids: &[String],
) -> Result<Vec<Agreement>, String> {
    let mut all: Vec<Terms> = Vec::new();
    for id in ids {
        if !all.iter().any(|t| &t.id == id)
            && let Some(t) = terms(project, id)
        {
            all.push(t);
        }
    }
    let Some(store) = crate::existing_store(dir, db).await? else {
        return Ok(all.into_iter().map(|t| with_signatures(t, Vec::new())).collect());
    };
    let mut out = Vec::new();
    for t in all {
        out.push(complete(t, &store).await.map_err(|e| e.to_string())?);
    }
    Ok(out)
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

/// The agreement `id` with its signatures and what changed since every
/// party last signed, or `None` when there is no such agreement.
pub async fn agreement(project: &Project, store: &Store, id: &str) -> Result<Option<Agreement>, StoreError> {
    let Some(t) = terms(project, id) else {
        return Ok(None);
    };
    complete(t, store).await.map(Some)
}

/// Terms with their signatures and changes, from the store.
pub async fn complete(t: Terms, store: &Store) -> Result<Agreement, StoreError> {
    let signatures = store.signatures(&t.id).await?;
    let mut a = with_signatures(t, signatures);
    if let Some(fp) = &a.last_agreed
        && let Some(text) = store.signed_terms(&a.terms.id, fp).await?
        && let Ok(before) = serde_json::from_str::<serde_json::Value>(&text)
    {
        a.changes = diff(&before, &a.terms.terms);
        a.agreed_terms = Some(before);
    }
    Ok(a)
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
        unsigned_terms: !agreed,
        agreed,
        last_agreed,
        changes: Vec::new(),
        agreed_terms: None,
    }
}

/// An agreement's parties in an error message.
pub(crate) fn party_list(parties: &[String]) -> String {
    if parties.is_empty() {
        "none named".to_string()
    } else {
        parties.join(", ")
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
            parties: party_list(&t.parties),
        });
    }
    let text = canonical_json(&t.terms);
    store
        .sign(&NewSignature {
            agreement: id,
            fingerprint: &t.fingerprint,
            terms: &text,
            party,
            actor,
        })
        .await?;
    Ok(complete(t, store).await?)
}
