//! Signatures of agreements' terms: which party signed which fingerprint,
//! who recorded it and when. Each signature writes an audit entry in the
//! same transaction; signatures are never changed or removed.

use super::*;

/// A signature as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Signature {
    pub id: i64,
    /// The contract, incentive plan or partnership.
    pub agreement: String,
    /// The fingerprint of the terms signed (`sha256:…`).
    pub fingerprint: String,
    pub party: String,
    /// Who recorded it (a token's name, `cli`, …).
    pub signed_by: String,
    /// µs since the epoch.
    pub signed_at: i64,
}

/// A signature to record.
#[derive(Debug, Clone)]
pub struct NewSignature<'a> {
    pub agreement: &'a str,
    pub fingerprint: &'a str,
    /// The terms signed, as canonical JSON.
    pub terms: &'a str,
    pub party: &'a str,
    pub actor: &'a str,
}

fn signature(r: &sqlx::any::AnyRow) -> Result<Signature, StoreError> {
    Ok(Signature {
        id: r.try_get(0)?,
        agreement: r.try_get(1)?,
        fingerprint: r.try_get(2)?,
        party: r.try_get(3)?,
        signed_by: r.try_get(4)?,
        signed_at: r.try_get(5)?,
    })
}

impl Store {
    /// Records a signature with its audit entry, in one transaction. A
    /// party signing the same fingerprint again is recorded once: the
    /// first signature is returned.
    pub async fn sign(&self, s: &NewSignature<'_>) -> Result<Signature, StoreError> {
        let now = now_micros();
        let mut tx = self.pool.begin().await?;
        let before = sqlx::query(
            "SELECT id, agreement, fingerprint, party, signed_by, signed_at FROM signatures \
             WHERE agreement = $1 AND fingerprint = $2 AND party = $3 ORDER BY id LIMIT 1",
        )
        .bind(s.agreement)
        .bind(s.fingerprint)
        .bind(s.party)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(r) = before {
            tx.rollback().await?;
            return signature(&r);
        }
        let row = sqlx::query(
            "INSERT INTO signatures (agreement, fingerprint, party, signed_by, signed_at, terms) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, agreement, fingerprint, party, signed_by, signed_at",
        )
        .bind(s.agreement)
        .bind(s.fingerprint)
        .bind(s.party)
        .bind(s.actor)
        .bind(now)
        .bind(s.terms)
        .fetch_one(&mut *tx)
        .await?;
        let stored = signature(&row)?;
        sqlx::query("INSERT INTO audit (at, actor, action, detail) VALUES ($1, $2, $3, $4)")
            .bind(now)
            .bind(s.actor)
            .bind("agreement.sign")
            .bind(format!(
                "`{}` signed by {} ({})",
                s.agreement, s.party, s.fingerprint
            ))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Every signature of `agreement`, oldest first.
    pub async fn signatures(&self, agreement: &str) -> Result<Vec<Signature>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, agreement, fingerprint, party, signed_by, signed_at FROM signatures \
             WHERE agreement = $1 ORDER BY id",
        )
        .bind(agreement)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(signature).collect()
    }

    /// The terms (canonical JSON) signed under `fingerprint`, if any party
    /// signed them.
    pub async fn signed_terms(
        &self,
        agreement: &str,
        fingerprint: &str,
    ) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(
            "SELECT terms FROM signatures WHERE agreement = $1 AND fingerprint = $2 ORDER BY id LIMIT 1",
        )
        .bind(agreement)
        .bind(fingerprint)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| r.try_get(0)).transpose().map_err(Into::into)
    }
}
