//! Agents' accounts and their sessions (only a hash of each session token is stored).

use super::{Result, Role, Store, with_pool};
use crate::domain::Timestamp;

/// An account, without its password hash.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    username: String,
    role: String,
    disabled_at: Option<i64>,
    created_at: i64,
}

impl UserRow {
    fn into_domain(self) -> Option<User> {
        Some(User {
            id: self.id,
            username: self.username,
            role: Role::parse(&self.role)?,
            disabled: self.disabled_at.is_some(),
            created_at: Timestamp(self.created_at),
        })
    }
}

#[derive(sqlx::FromRow)]
struct LoginRow {
    #[sqlx(flatten)]
    user: UserRow,
    password_hash: String,
}

const USER_COLUMNS: &str = "u.id, u.username, u.role, u.disabled_at, u.created_at";

/// Changes to an account; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserChange {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    pub password_hash: Option<String>,
}

impl Store {
    /// Creates an account; `None` if the username is taken.
    pub async fn create_user(
        &self,
        username: &str,
        password_hash: &str,
        role: Role,
        now: Timestamp,
    ) -> Result<Option<i64>> {
        let row: Option<(i64,)> = with_pool!(&self.write, |p| sqlx::query_as(
            "INSERT INTO users (username, password_hash, role, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $4) ON CONFLICT (username) DO NOTHING RETURNING id"
        )
        .bind(username)
        .bind(password_hash)
        .bind(role.as_str())
        .bind(now.0)
        .fetch_optional(p)
        .await)?;
        Ok(row.map(|(id,)| id))
    }

    /// The account and its password hash, for a login attempt.
    pub async fn user_for_login(&self, username: &str) -> Result<Option<(User, String)>> {
        let row: Option<LoginRow> = with_pool!(&self.read, |p| sqlx::query_as(
            "SELECT id, username, role, disabled_at, created_at, password_hash FROM users \
                 WHERE username = $1"
        )
        .bind(username)
        .fetch_optional(p)
        .await)?;
        Ok(row.and_then(|r| {
            let hash = r.password_hash;
            Some((r.user.into_domain()?, hash))
        }))
    }

    pub async fn users(&self) -> Result<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.username");
        let rows: Vec<UserRow> = with_pool!(&self.read, |p| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .fetch_all(p)
        .await)?;
        Ok(rows.into_iter().filter_map(UserRow::into_domain).collect())
    }

    pub async fn user(&self, id: i64) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1");
        let row: Option<UserRow> = with_pool!(&self.read, |p| sqlx::query_as(
            sqlx::AssertSqlSafe(sql.as_str())
        )
        .bind(id)
        .fetch_optional(p)
        .await)?;
        Ok(row.and_then(UserRow::into_domain))
    }

    /// Applies `change`; disabling an account or changing its password ends its sessions.
    /// `false` if there is no such account.
    pub async fn update_user(&self, id: i64, change: &UserChange, now: Timestamp) -> Result<bool> {
        let disabled_at = change.disabled.map(|d| if d { Some(now.0) } else { None });
        let mut tx = self.begin().await?;
        let done = super::with_tx!(tx, |c| sqlx::query(
            "UPDATE users SET role = COALESCE($2, role), \
             disabled_at = CASE WHEN $3 THEN $4 ELSE disabled_at END, \
             password_hash = COALESCE($5, password_hash), updated_at = $6 WHERE id = $1"
        )
        .bind(id)
        .bind(change.role.map(Role::as_str))
        .bind(disabled_at.is_some())
        .bind(disabled_at.flatten())
        .bind(&change.password_hash)
        .bind(now.0)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        if change.disabled == Some(true) || change.password_hash.is_some() {
            super::with_tx!(tx, |c| sqlx::query(
                "DELETE FROM sessions WHERE user_id = $1"
            )
            .bind(id)
            .execute(c)
            .await
            .map(|_| ()))?;
        }
        tx.commit().await?;
        Ok(done == 1)
    }

    pub async fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<()> {
        with_pool!(&self.write, |p| {
            sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)"
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(now.0)
        .bind(expires_at.0)
        .execute(p)
        .await
        .map(|_| ())
        })?;
        Ok(())
    }

    /// The live account of a session that has not expired.
    pub async fn session_user(&self, token_hash: &str, now: Timestamp) -> Result<Option<User>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL"
        );
        let row: Option<UserRow> = with_pool!(&self.read, |p| sqlx::query_as(
            sqlx::AssertSqlSafe(sql.as_str())
        )
        .bind(token_hash)
        .bind(now.0)
        .fetch_optional(p)
        .await)?;
        Ok(row.and_then(UserRow::into_domain))
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<()> {
        with_pool!(&self.write, |p| sqlx::query(
            "DELETE FROM sessions WHERE token_hash = $1"
        )
        .bind(token_hash)
        .execute(p)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// Removes expired sessions and events older than `events_before`.
    pub async fn prune(&self, now: Timestamp, events_before: Timestamp) -> Result<()> {
        with_pool!(&self.write, |p| sqlx::query(
            "DELETE FROM sessions WHERE expires_at <= $1"
        )
        .bind(now.0)
        .execute(p)
        .await
        .map(|_| ()))?;
        with_pool!(&self.write, |p| sqlx::query(
            "DELETE FROM events WHERE created_at < $1"
        )
        .bind(events_before.0)
        .execute(p)
        .await
        .map(|_| ()))?;
        Ok(())
    }
}
