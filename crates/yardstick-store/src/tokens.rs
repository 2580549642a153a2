//! API tokens: a role, an optional party, a SHA-256 hash of the secret.

use super::*;

/// A token's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Editor,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "viewer" => Ok(Role::Viewer),
            "editor" => Ok(Role::Editor),
            "admin" => Ok(Role::Admin),
            other => Err(format!("`{other}` is not a role: admin, editor or viewer")),
        }
    }
}

/// A token as stored (without its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Token {
    pub id: String,
    pub role: Role,
    pub party: Option<String>,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

impl Store {
    /// Creates a token; returns it and its secret (shown once, never stored).
    pub async fn create_token(
        &self,
        role: Role,
        party: Option<&str>,
        actor: &str,
    ) -> Result<(Token, String), StoreError> {
        let id = random_hex(4)?;
        let secret = format!("ys_{}", random_hex(24)?);
        let now = now_micros();
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO tokens (id, hash, role, party, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(&id)
            .bind(sha256_hex(secret.as_bytes()))
            .bind(role.as_str())
            .bind(party)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let party_note = party.map(|p| format!(" for party {p}")).unwrap_or_default();
        sqlx::query("INSERT INTO audit (at, actor, action, detail) VALUES ($1, $2, $3, $4)")
            .bind(now)
            .bind(actor)
            .bind("token.create")
            .bind(format!("token {id} ({}){party_note}", role.as_str()))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        let token = Token {
            id,
            role,
            party: party.map(str::to_string),
            created_at: now,
            revoked_at: None,
        };
        Ok((token, secret))
    }

    /// The live token whose secret is `secret`.
    pub async fn authenticate(&self, secret: &str) -> Result<Option<Token>, StoreError> {
        let row = sqlx::query(
            "SELECT id, role, party, created_at, revoked_at FROM tokens WHERE hash = $1 AND revoked_at IS NULL",
        )
        .bind(sha256_hex(secret.as_bytes()))
        .fetch_optional(&self.pool)
        .await?;
        row.map(token_of).transpose()
    }

    /// Whether token `id` exists and is not revoked.
    pub async fn token_is_live(&self, id: &str) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT 1 FROM tokens WHERE id = $1 AND revoked_at IS NULL")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    /// Every token, newest first.
    pub async fn tokens(&self) -> Result<Vec<Token>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, role, party, created_at, revoked_at FROM tokens ORDER BY created_at DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(token_of).collect()
    }

    /// Revokes token `id`.
    pub async fn revoke_token(&self, id: &str, actor: &str) -> Result<(), StoreError> {
        let now = now_micros();
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NoToken(id.to_string()));
        }
        sqlx::query("INSERT INTO audit (at, actor, action, detail) VALUES ($1, $2, $3, $4)")
            .bind(now)
            .bind(actor)
            .bind("token.revoke")
            .bind(format!("token {id}"))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

fn token_of(r: sqlx::any::AnyRow) -> Result<Token, StoreError> {
    let role: String = r.try_get(1)?;
    Ok(Token {
        id: r.try_get(0)?,
        role: role
            .parse()
            .map_err(|e: String| StoreError::Db(sqlx::Error::Protocol(e)))?,
        party: r.try_get(2)?,
        created_at: r.try_get(3)?,
        revoked_at: r.try_get(4)?,
    })
}
