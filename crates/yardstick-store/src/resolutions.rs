//! Resolutions of reconciliation discrepancies: a party accepts a period
//! (saying which side is right) or disputes it, with a comment. Each one is
//! kept, with an audit entry written in the same transaction.

use super::*;

/// A resolution as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resolution {
    pub seq: i64,
    pub reconcile: String,
    pub period: String,
    /// `accepted` or `disputed`.
    pub state: String,
    /// For `accepted`: `left` or `right`, the side whose numbers stand.
    pub side: Option<String>,
    pub comment: String,
    pub actor: String,
    /// µs since the epoch.
    pub at: i64,
}

/// A resolution to store.
#[derive(Debug, Clone)]
pub struct NewResolution<'a> {
    pub reconcile: &'a str,
    pub period: &'a str,
    pub state: &'a str,
    pub side: Option<&'a str>,
    pub comment: &'a str,
    pub actor: &'a str,
}

impl Store {
    /// Stores a resolution and its audit entry in one transaction.
    pub async fn resolve(&self, r: &NewResolution<'_>) -> Result<Resolution, StoreError> {
        let now = now_micros();
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "INSERT INTO resolutions (reconcile, period, state, side, comment, actor, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING seq",
        )
        .bind(r.reconcile)
        .bind(r.period)
        .bind(r.state)
        .bind(r.side)
        .bind(r.comment)
        .bind(r.actor)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let seq: i64 = row.try_get(0)?;
        let side = r.side.map(|s| format!(" ({s} side right)")).unwrap_or_default();
        sqlx::query("INSERT INTO audit (at, actor, action, detail) VALUES ($1, $2, $3, $4)")
            .bind(now)
            .bind(r.actor)
            .bind("resolve")
            .bind(format!(
                "{} `{}` {}{side}: {}",
                r.state, r.reconcile, r.period, r.comment
            ))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Resolution {
            seq,
            reconcile: r.reconcile.to_string(),
            period: r.period.to_string(),
            state: r.state.to_string(),
            side: r.side.map(String::from),
            comment: r.comment.to_string(),
            actor: r.actor.to_string(),
            at: now,
        })
    }

    /// Every resolution, oldest first (the last of a period is in force).
    pub async fn resolutions(&self) -> Result<Vec<Resolution>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, reconcile, period, state, side, comment, actor, at FROM resolutions ORDER BY seq",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(Resolution {
                    seq: r.try_get(0)?,
                    reconcile: r.try_get(1)?,
                    period: r.try_get(2)?,
                    state: r.try_get(3)?,
                    side: r.try_get(4)?,
                    comment: r.try_get(5)?,
                    actor: r.try_get(6)?,
                    at: r.try_get(7)?,
                })
            })
            .collect()
    }
}
