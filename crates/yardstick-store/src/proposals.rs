//! Proposed amendments of agreements' terms: who proposed which new
//! target from when and why, and who accepted or rejected it. Proposing
//! and deciding each write an audit entry in the same transaction; a
//! decided proposal is never changed again.

use super::*;

/// A proposal as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Proposal {
    pub id: i64,
    pub agreement: String,
    /// The fingerprint of the terms it amends.
    pub fingerprint: String,
    /// `clause` or `kpi`.
    pub subject_kind: String,
    pub subject: String,
    /// `target` or `warning`.
    pub field: String,
    /// The threshold as written (`>= 99.9%`).
    pub value: String,
    /// A KPI's new warning threshold, if proposed with it.
    pub warning: Option<String>,
    /// First day it applies, `YYYY-MM-DD`.
    pub effective: String,
    pub reason: String,
    /// The party proposing.
    pub party: String,
    pub proposed_by: String,
    /// µs since the epoch.
    pub proposed_at: i64,
    /// `open`, `accepted` or `rejected`.
    pub status: String,
    pub decided_party: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    pub comment: Option<String>,
}

/// A proposal to record.
#[derive(Debug, Clone)]
pub struct NewProposal<'a> {
    pub agreement: &'a str,
    pub fingerprint: &'a str,
    pub subject_kind: &'a str,
    pub subject: &'a str,
    pub field: &'a str,
    pub value: &'a str,
    pub warning: Option<&'a str>,
    pub effective: &'a str,
    pub reason: &'a str,
    pub party: &'a str,
    pub actor: &'a str,
}

/// A decision on an open proposal.
#[derive(Debug, Clone)]
pub struct Decision<'a> {
    pub accept: bool,
    pub party: &'a str,
    pub actor: &'a str,
    pub comment: &'a str,
}

/// What came of deciding a proposal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decided {
    Decided(Proposal),
    Unknown,
    AlreadyDecided(Proposal),
}

macro_rules! columns {
    () => {
        "id, agreement, fingerprint, subject_kind, subject, field, value, effective, reason, party, \
         proposed_by, proposed_at, status, decided_party, decided_by, decided_at, comment, warning"
    };
}

fn proposal(r: &sqlx::any::AnyRow) -> Result<Proposal, StoreError> {
    Ok(Proposal {
        id: r.try_get(0)?,
        agreement: r.try_get(1)?,
        fingerprint: r.try_get(2)?,
        subject_kind: r.try_get(3)?,
        subject: r.try_get(4)?,
        field: r.try_get(5)?,
        value: r.try_get(6)?,
        effective: r.try_get(7)?,
        reason: r.try_get(8)?,
        party: r.try_get(9)?,
        proposed_by: r.try_get(10)?,
        proposed_at: r.try_get(11)?,
        status: r.try_get(12)?,
        decided_party: r.try_get(13)?,
        decided_by: r.try_get(14)?,
        decided_at: r.try_get(15)?,
        comment: r.try_get(16)?,
        warning: r.try_get(17)?,
    })
}

impl Store {
    /// Records an open proposal with its audit entry, in one transaction.
    pub async fn propose(&self, p: &NewProposal<'_>) -> Result<Proposal, StoreError> {
        let now = now_micros();
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(concat!(
            "INSERT INTO proposals (agreement, fingerprint, subject_kind, subject, field, value, effective, reason, \
             party, proposed_by, proposed_at, status, warning) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'open', $12) RETURNING ",
            columns!()
        ))
        .bind(p.agreement)
        .bind(p.fingerprint)
        .bind(p.subject_kind)
        .bind(p.subject)
        .bind(p.field)
        .bind(p.value)
        .bind(p.effective)
        .bind(p.reason)
        .bind(p.party)
        .bind(p.actor)
        .bind(now)
        .bind(p.warning)
        .fetch_one(&mut *tx)
        .await?;
        let stored = proposal(&row)?;
        sqlx::query("INSERT INTO audit (at, actor, action, detail) VALUES ($1, $2, $3, $4)")
            .bind(now)
            .bind(p.actor)
            .bind("agreement.propose")
            .bind(format!(
                "#{} on `{}`: {} proposes {} `{}` {} {} from {} ({})",
                stored.id,
                p.agreement,
                p.party,
                p.subject_kind,
                p.subject,
                p.field,
                p.value,
                p.effective,
                p.reason
            ))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Proposals of `agreement` (every agreement when `None`), oldest first.
    pub async fn proposals(&self, agreement: Option<&str>) -> Result<Vec<Proposal>, StoreError> {
        let rows = match agreement {
            Some(a) => {
                sqlx::query(concat!(
                    "SELECT ",
                    columns!(),
                    " FROM proposals WHERE agreement = $1 ORDER BY id"
                ))
                .bind(a)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query(concat!("SELECT ", columns!(), " FROM proposals ORDER BY id"))
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.iter().map(proposal).collect()
    }

    /// Proposal `id`, if there is one.
    pub async fn proposal(&self, id: i64) -> Result<Option<Proposal>, StoreError> {
        let row = sqlx::query(concat!("SELECT ", columns!(), " FROM proposals WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(proposal).transpose()
    }

    /// Accepts or rejects open proposal `id`, with its audit entry.
    pub async fn decide(&self, id: i64, d: &Decision<'_>) -> Result<Decided, StoreError> {
        let now = now_micros();
        let mut tx = self.pool.begin().await?;
        let Some(row) = sqlx::query(concat!("SELECT ", columns!(), " FROM proposals WHERE id = $1"))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Ok(Decided::Unknown);
        };
        let found = proposal(&row)?;
        if found.status != "open" {
            return Ok(Decided::AlreadyDecided(found));
        }
        let status = if d.accept { "accepted" } else { "rejected" };
        let row = sqlx::query(concat!(
            "UPDATE proposals SET status = $1, decided_party = $2, decided_by = $3, decided_at = $4, comment = $5 \
             WHERE id = $6 AND status = 'open' RETURNING ",
            columns!()
        ))
        .bind(status)
        .bind(d.party)
        .bind(d.actor)
        .bind(now)
        .bind(d.comment)
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        let decided = proposal(&row)?;
        sqlx::query("INSERT INTO audit (at, actor, action, detail) VALUES ($1, $2, $3, $4)")
            .bind(now)
            .bind(d.actor)
            .bind(if d.accept {
                "agreement.accept"
            } else {
                "agreement.reject"
            })
            .bind(format!(
                "#{id} on `{}` {status} by {}: {}",
                decided.agreement, d.party, d.comment
            ))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Decided::Decided(decided))
    }
}
