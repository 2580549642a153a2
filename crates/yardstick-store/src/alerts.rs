//! Alert instances whose firing notice was delivered.

use super::*;

/// An alert instance whose firing notice was delivered and whose resolved
/// notice was not (yet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertFiring {
    pub alert: String,
    pub instance: String,
    pub subject: String,
    pub summary: String,
    /// RFC 3339.
    pub since: String,
}

impl Store {
    /// Alert instances firing, by alert and instance.
    pub async fn alerts_firing(&self) -> Result<Vec<AlertFiring>, StoreError> {
        let rows = sqlx::query(
            "SELECT alert, instance, subject, summary, since FROM alert_firing ORDER BY alert, instance",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(AlertFiring {
                    alert: r.try_get(0)?,
                    instance: r.try_get(1)?,
                    subject: r.try_get(2)?,
                    summary: r.try_get(3)?,
                    since: r.try_get(4)?,
                })
            })
            .collect()
    }

    /// Remembers that an alert instance's firing notice went out.
    pub async fn alert_fired(&self, a: &AlertFiring) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO alert_firing (alert, instance, subject, summary, since) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (alert, instance) DO UPDATE SET summary = excluded.summary",
        )
        .bind(&a.alert)
        .bind(&a.instance)
        .bind(&a.subject)
        .bind(&a.summary)
        .bind(&a.since)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Forgets an alert instance once its resolved notice went out.
    pub async fn alert_resolved(&self, alert: &str, instance: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM alert_firing WHERE alert = $1 AND instance = $2")
            .bind(alert)
            .bind(instance)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
