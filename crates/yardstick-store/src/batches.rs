//! Pushed rows: one Arrow IPC batch per push, opaque here, stored once
//! per idempotency key.

use super::*;

/// A new batch of pushed rows.
#[derive(Debug, Clone)]
pub struct NewBatch<'a> {
    pub source: &'a str,
    pub idempotency_key: Option<&'a str>,
    pub rows: i64,
    /// Who pushed it (a token id, or `cli`).
    pub actor: &'a str,
    pub body: &'a [u8],
}

/// The outcome of storing a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Stored {
    /// The batch's sequence number (increasing).
    pub seq: i64,
    pub rows: i64,
    /// True when the idempotency key had been seen: nothing new was stored.
    pub replayed: bool,
}

impl Store {
    /// Stores a batch, all or nothing, with an audit entry in the same
    /// transaction. A batch whose idempotency key was seen for this source is
    /// not stored again: the first outcome is returned with `replayed`.
    pub async fn insert_batch(&self, b: &NewBatch<'_>) -> Result<Stored, StoreError> {
        let hash = sha256_hex(b.body);
        for _attempt in 0..2 {
            if let Some(key) = b.idempotency_key
                && let Some(done) = self.find_batch(b.source, key, &hash).await?
            {
                return Ok(done);
            }
            let now = now_micros();
            let mut tx = self.pool.begin().await?;
            if self.backend == Backend::Postgres {
                // Batches commit in sequence order (SQLite has one writer at a
                // time anyway), so a reader that has seen batch N has seen
                // every batch before it: `batches_after` misses nothing.
                sqlx::query("SELECT pg_advisory_xact_lock(7531)")
                    .execute(&mut *tx)
                    .await?;
            }
            let inserted = sqlx::query(
                "INSERT INTO batches (source, idempotency_key, body_hash, row_count, received_at, actor, body) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING seq",
            )
            .bind(b.source)
            .bind(b.idempotency_key)
            .bind(&hash)
            .bind(b.rows)
            .bind(now)
            .bind(b.actor)
            .bind(b.body)
            .fetch_one(&mut *tx)
            .await;
            let seq: i64 = match inserted {
                Ok(row) => row.try_get(0)?,
                // Another request with the same key won the race: answer as it did.
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() && b.idempotency_key.is_some() => {
                    drop(tx);
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            sqlx::query("INSERT INTO audit (at, actor, action, detail) VALUES ($1, $2, $3, $4)")
                .bind(now)
                .bind(b.actor)
                .bind("push")
                .bind(format!("{} rows into `{}` (batch {seq})", b.rows, b.source))
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            return Ok(Stored {
                seq,
                rows: b.rows,
                replayed: false,
            });
        }
        Err(StoreError::Db(sqlx::Error::Protocol(
            "idempotent insert did not settle".into(),
        )))
    }

    /// Every stored batch, in push order: (source, body).
    pub async fn batches(&self) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let rows = sqlx::query("SELECT source, body FROM batches ORDER BY seq")
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    /// Batches with a sequence number above `seq`, in push order:
    /// (seq, source, body).
    pub async fn batches_after(&self, seq: i64) -> Result<Vec<(i64, String, Vec<u8>)>, StoreError> {
        let rows = sqlx::query("SELECT seq, source, body FROM batches WHERE seq > $1 ORDER BY seq")
            .bind(seq)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect()
    }

    /// A digest (SHA-256) of the body of batch `seq`, if the store has it:
    /// a cache built from this store's batches checks it is still this store.
    pub async fn batch_digest(&self, seq: i64) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT body FROM batches WHERE seq = $1")
            .bind(seq)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok(crate::sha256_hex(&r.try_get::<Vec<u8>, _>(0)?)))
            .transpose()
    }

    /// The newest batch's sequence number (0 when there is none): a cheap
    /// way to notice pushes made by another process.
    pub async fn latest_seq(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COALESCE(MAX(seq), 0) FROM batches")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<i64, _>(0)?)
    }

    /// Rows stored per source.
    pub async fn row_counts(&self) -> Result<HashMap<String, i64>, StoreError> {
        let rows = sqlx::query("SELECT source, CAST(SUM(row_count) AS BIGINT) FROM batches GROUP BY source")
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }
}
