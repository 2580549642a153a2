//! The evaluation history: what each evaluation reported, and values of
//! ended periods that changed after they were reported.

use super::*;

/// One reported value: what an evaluation said about a KPI period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reported {
    pub kpi: String,
    pub period: String,
    /// The entity as canonical JSON (`""` for a KPI without entities).
    pub entity: String,
    pub value: Option<f64>,
    pub status: Option<String>,
    pub complete: bool,
    pub evaluated_at: i64,
}

/// A value of an ended period that changed after it was first reported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Restatement {
    pub kpi: String,
    pub period: String,
    pub entity: String,
    pub before: Option<f64>,
    pub before_status: Option<String>,
    pub after: Option<f64>,
    pub after_status: Option<String>,
    pub reported_at: i64,
    pub restated_at: i64,
}

impl Store {
    /// The latest reported row of every (kpi, period, entity).
    pub async fn latest_reported(&self) -> Result<Vec<Reported>, StoreError> {
        self.reported_as_of(i64::MAX).await
    }

    /// What was reported at `at` (µs): per (kpi, period, entity), the latest
    /// row evaluated at or before it.
    pub async fn reported_as_of(&self, at: i64) -> Result<Vec<Reported>, StoreError> {
        let rows = sqlx::query(
            "SELECT r.kpi, r.period, r.entity, r.value, r.status, r.complete, r.evaluated_at \
             FROM reported r JOIN ( \
               SELECT kpi, period, entity, MAX(evaluated_at) AS at FROM reported \
               WHERE evaluated_at <= $1 GROUP BY kpi, period, entity) m \
             ON r.kpi = m.kpi AND r.period = m.period AND r.entity = m.entity AND r.evaluated_at = m.at \
             ORDER BY r.kpi, r.period, r.entity",
        )
        .bind(at)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(reported_of).collect()
    }

    /// Records reported rows (the caller passes only those that changed).
    pub async fn record(&self, rows: &[Reported]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        for r in rows {
            sqlx::query(
                // sqlx's Any driver sends a NULL float in a form PostgreSQL
                // rejects: bind a number and a flag instead.
                "INSERT INTO reported (kpi, period, entity, value, status, complete, evaluated_at) \
                 VALUES ($1, $2, $3, CASE WHEN $8 = 1 THEN $4 ELSE NULL END, $5, $6, $7) ON CONFLICT DO NOTHING",
            )
            .bind(&r.kpi)
            .bind(&r.period)
            .bind(&r.entity)
            .bind(r.value.unwrap_or(0.0))
            .bind(r.status.as_deref())
            .bind(i64::from(r.complete))
            .bind(r.evaluated_at)
            .bind(i64::from(r.value.is_some()))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Changes to the value or status of ended periods after they were
    /// first reported as ended, oldest first.
    pub async fn restatements(&self) -> Result<Vec<Restatement>, StoreError> {
        let rows = sqlx::query(
            "SELECT kpi, period, entity, value, status, complete, evaluated_at FROM reported \
             WHERE complete = 1 ORDER BY kpi, period, entity, evaluated_at",
        )
        .fetch_all(&self.pool)
        .await?;
        let rows: Vec<Reported> = rows.into_iter().map(reported_of).collect::<Result<_, _>>()?;
        let mut out = Vec::new();
        for w in rows.windows(2) {
            let (a, b) = (&w[0], &w[1]);
            if (&a.kpi, &a.period, &a.entity) == (&b.kpi, &b.period, &b.entity)
                && (a.value != b.value || a.status != b.status)
            {
                out.push(Restatement {
                    kpi: b.kpi.clone(),
                    period: b.period.clone(),
                    entity: b.entity.clone(),
                    before: a.value,
                    before_status: a.status.clone(),
                    after: b.value,
                    after_status: b.status.clone(),
                    reported_at: a.evaluated_at,
                    restated_at: b.evaluated_at,
                });
            }
        }
        out.sort_by_key(|r| r.restated_at);
        Ok(out)
    }
}

fn reported_of(r: sqlx::any::AnyRow) -> Result<Reported, StoreError> {
    Ok(Reported {
        kpi: r.try_get(0)?,
        period: r.try_get(1)?,
        entity: r.try_get(2)?,
        value: r.try_get(3)?,
        status: r.try_get(4)?,
        complete: r.try_get::<i64, _>(5)? != 0,
        evaluated_at: r.try_get(6)?,
    })
}
