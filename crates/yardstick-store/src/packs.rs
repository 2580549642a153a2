//! Review packs issued on a schedule: the documents themselves, the
//! instant their numbers are as of, and whether their webhook was told.
//! Issuing writes every format of one pack and its audit entry in one
//! transaction; a pack already issued (by this server before a restart, or
//! by another sharing the store) is never issued again.

use super::*;

/// An issued pack, without its document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pack {
    pub id: i64,
    pub review: String,
    /// The period's label (`2026-Q3`).
    pub period: String,
    /// The party it was written for; `None`: the organisation's own.
    pub party: Option<String>,
    /// `html`, `md`, `pdf` or `xlsx`.
    pub format: String,
    /// µs since the epoch.
    pub as_of: i64,
    pub issued_at: i64,
    /// The document's size in bytes.
    pub bytes: i64,
    pub notified_at: Option<i64>,
}

/// One format of a pack to issue.
#[derive(Debug, Clone)]
pub struct NewPack<'a> {
    pub format: &'a str,
    pub body: &'a [u8],
}

macro_rules! pack_columns {
    () => {
        "id, review, period, party, format, as_of, issued_at, CAST(LENGTH(body) AS BIGINT), notified_at"
    };
}

fn pack(r: &sqlx::any::AnyRow) -> Result<Pack, StoreError> {
    let party: String = r.try_get(3)?;
    Ok(Pack {
        id: r.try_get(0)?,
        review: r.try_get(1)?,
        period: r.try_get(2)?,
        party: (!party.is_empty()).then_some(party),
        format: r.try_get(4)?,
        as_of: r.try_get(5)?,
        issued_at: r.try_get(6)?,
        bytes: r.try_get(7)?,
        notified_at: r.try_get(8)?,
    })
}

impl Store {
    /// Issues review `review`'s pack for `period` (and `party`) in every
    /// format given, with one audit entry. Returns the packs stored now:
    /// empty when it had been issued already.
    pub async fn issue_pack(
        &self,
        review: &str,
        period: &str,
        party: Option<&str>,
        as_of: i64,
        formats: &[NewPack<'_>],
    ) -> Result<Vec<Pack>, StoreError> {
        let now = now_micros();
        let mut tx = self.pool.begin().await?;
        let mut out = Vec::new();
        for f in formats {
            let row = sqlx::query(concat!(
                "INSERT INTO review_packs (review, period, party, format, as_of, issued_at, body) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING ",
                pack_columns!()
            ))
            .bind(review)
            .bind(period)
            .bind(party.unwrap_or(""))
            .bind(f.format)
            .bind(as_of)
            .bind(now)
            .bind(f.body)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(row) = row {
                out.push(pack(&row)?);
            }
        }
        if !out.is_empty() {
            let formats: Vec<&str> = out.iter().map(|p| p.format.as_str()).collect();
            sqlx::query("INSERT INTO audit (at, actor, action, detail) VALUES ($1, $2, $3, $4)")
                .bind(now)
                .bind("schedule")
                .bind("review.issue")
                .bind(format!(
                    "review `{review}` for {period}{} ({})",
                    party.map(|p| format!(" for {p}")).unwrap_or_default(),
                    formats.join(", ")
                ))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Every issued pack, oldest first.
    pub async fn packs(&self) -> Result<Vec<Pack>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            pack_columns!(),
            " FROM review_packs ORDER BY id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(pack).collect()
    }

    /// Pack `id` with its document, if there is one.
    pub async fn pack(&self, id: i64) -> Result<Option<(Pack, Vec<u8>)>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            pack_columns!(),
            ", body FROM review_packs WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(r) => Ok(Some((pack(&r)?, r.try_get(9)?))),
            None => Ok(None),
        }
    }

    /// Remembers that the webhook took the notice of packs `ids`.
    pub async fn packs_notified(&self, ids: &[i64]) -> Result<(), StoreError> {
        let now = now_micros();
        let mut tx = self.pool.begin().await?;
        for id in ids {
            sqlx::query("UPDATE review_packs SET notified_at = $1 WHERE id = $2")
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
