//! Corrective actions: what someone will do about a KPI's miss (and the
//! cause `why` found), by when, and in which periods its effect is judged.
//! Opening and closing each write an audit entry in the same transaction.

use super::*;

/// An action as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Action {
    pub id: i64,
    pub kpi: String,
    /// `col=value[,col=value]` of a `for_each` KPI.
    pub entity: Option<String>,
    /// The period the action answers.
    pub period: String,
    /// The cause's segment as a JSON object (`{"region": "EU"}`).
    pub cause: Option<String>,
    pub title: String,
    pub owner: String,
    /// `YYYY-MM-DD`.
    pub due: String,
    /// First and last period its effect is judged in.
    pub judge_from: String,
    pub judge_to: String,
    pub opened_by: String,
    /// µs since the epoch.
    pub opened_at: i64,
    pub closed_by: Option<String>,
    pub closed_at: Option<i64>,
    pub outcome: Option<String>,
}

/// An action to open.
#[derive(Debug, Clone)]
pub struct NewAction<'a> {
    pub kpi: &'a str,
    pub entity: Option<&'a str>,
    pub period: &'a str,
    pub cause: Option<&'a str>,
    pub title: &'a str,
    pub owner: &'a str,
    pub due: &'a str,
    pub judge_from: &'a str,
    pub judge_to: &'a str,
    pub actor: &'a str,
}

/// Why an action could not be closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Close {
    Closed(Action),
    Unknown,
    AlreadyClosed(Action),
}

macro_rules! columns {
    () => {
        "id, kpi, entity, period, cause, title, owner, due, judge_from, judge_to, \
         opened_by, opened_at, closed_by, closed_at, outcome"
    };
}

fn action(r: &sqlx::any::AnyRow) -> Result<Action, StoreError> {
    Ok(Action {
        id: r.try_get(0)?,
        kpi: r.try_get(1)?,
        entity: r.try_get(2)?,
        period: r.try_get(3)?,
        cause: r.try_get(4)?,
        title: r.try_get(5)?,
        owner: r.try_get(6)?,
        due: r.try_get(7)?,
        judge_from: r.try_get(8)?,
        judge_to: r.try_get(9)?,
        opened_by: r.try_get(10)?,
        opened_at: r.try_get(11)?,
        closed_by: r.try_get(12)?,
        closed_at: r.try_get(13)?,
        outcome: r.try_get(14)?,
    })
}

impl Store {
    /// Opens an action, with its audit entry, in one transaction.
    pub async fn add_action(&self, a: &NewAction<'_>) -> Result<Action, StoreError> {
        let now = now_micros();
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(concat!(
            "INSERT INTO actions (kpi, entity, period, cause, title, owner, due, judge_from, judge_to, opened_by, opened_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING ",
            columns!()
        ))
        .bind(a.kpi)
        .bind(a.entity)
        .bind(a.period)
        .bind(a.cause)
        .bind(a.title)
        .bind(a.owner)
        .bind(a.due)
        .bind(a.judge_from)
        .bind(a.judge_to)
        .bind(a.actor)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let stored = action(&row)?;
        sqlx::query("INSERT INTO audit (at, actor, action, detail) VALUES ($1, $2, $3, $4)")
            .bind(now)
            .bind(a.actor)
            .bind("action.open")
            .bind(format!(
                "#{} on `{}` {}{}: {} (owner {}, due {})",
                stored.id,
                a.kpi,
                a.period,
                a.cause.map(|c| format!(" cause {c}")).unwrap_or_default(),
                a.title,
                a.owner,
                a.due
            ))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Every action, oldest first.
    pub async fn actions(&self) -> Result<Vec<Action>, StoreError> {
        let rows = sqlx::query(concat!("SELECT ", columns!(), " FROM actions ORDER BY id"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(action).collect()
    }

    /// Closes action `id` with what came of it, with its audit entry.
    pub async fn close_action(&self, id: i64, actor: &str, outcome: &str) -> Result<Close, StoreError> {
        let now = now_micros();
        let mut tx = self.pool.begin().await?;
        let Some(row) = sqlx::query(concat!("SELECT ", columns!(), " FROM actions WHERE id = $1"))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Ok(Close::Unknown);
        };
        let found = action(&row)?;
        if found.closed_at.is_some() {
            return Ok(Close::AlreadyClosed(found));
        }
        let row = sqlx::query(concat!(
            "UPDATE actions SET closed_by = $1, closed_at = $2, outcome = $3 WHERE id = $4 AND closed_at IS NULL RETURNING ",
            columns!()
        ))
        .bind(actor)
        .bind(now)
        .bind(outcome)
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        let closed = action(&row)?;
        sqlx::query("INSERT INTO audit (at, actor, action, detail) VALUES ($1, $2, $3, $4)")
            .bind(now)
            .bind(actor)
            .bind("action.close")
            .bind(format!("#{id} on `{}` {}: {outcome}", closed.kpi, closed.period))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Close::Closed(closed))
    }
}
