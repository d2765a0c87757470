//! API tokens, stored as SHA-256 hashes (the tokens are long random strings, so a fast hash
//! is enough; the plain token is shown once, at creation).

use super::{Result, Store, with_pool};
use crate::domain::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Agent,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Agent => "agent",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "admin" => Some(Self::Admin),
            "agent" => Some(Self::Agent),
            _ => None,
        }
    }
}

/// A live token, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TokenRecord {
    pub id: i64,
    pub name: String,
    pub role: Role,
}

impl Store {
    pub async fn create_token(
        &self,
        name: &str,
        token_hash: &str,
        role: Role,
        now: Timestamp,
    ) -> Result<i64> {
        let (id,): (i64,) = with_pool!(&self.write, |p| {
            sqlx::query_as(
            "INSERT INTO api_tokens (name, token_hash, role, created_at) VALUES ($1, $2, $3, $4) \
             RETURNING id"
        )
        .bind(name)
        .bind(token_hash)
        .bind(role.as_str())
        .bind(now.0)
        .fetch_one(p)
        .await
        })?;
        Ok(id)
    }

    /// The live (not revoked) token with this hash.
    pub async fn token_by_hash(&self, token_hash: &str) -> Result<Option<TokenRecord>> {
        let row: Option<(i64, String, String)> = with_pool!(&self.read, |p| sqlx::query_as(
            "SELECT id, name, role FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL"
        )
        .bind(token_hash)
        .fetch_optional(p)
        .await)?;
        Ok(row.and_then(|(id, name, role)| {
            Some(TokenRecord {
                id,
                name,
                role: Role::parse(&role)?,
            })
        }))
    }

    pub async fn revoke_token(&self, id: i64, now: Timestamp) -> Result<bool> {
        let done = with_pool!(&self.write, |p| sqlx::query(
            "UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL"
        )
        .bind(id)
        .bind(now.0)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }
}

/// A token as admins see it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TokenInfo {
    pub id: i64,
    pub name: String,
    pub role: String,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

impl Store {
    pub async fn tokens(&self) -> Result<Vec<TokenInfo>> {
        let rows: Vec<(i64, String, String, i64, Option<i64>)> =
            with_pool!(&self.read, |p| sqlx::query_as(
                "SELECT id, name, role, created_at, revoked_at FROM api_tokens ORDER BY id DESC"
            )
            .fetch_all(p)
            .await)?;
        Ok(rows
            .into_iter()
            .map(|(id, name, role, created_at, revoked_at)| TokenInfo {
                id,
                name,
                role,
                created_at: Timestamp(created_at),
                revoked_at: revoked_at.map(Timestamp),
            })
            .collect())
    }
}
