//! Accounts and sign-in: argon2 password hashes (computed off the async runtime), sessions
//! whose tokens are stored hashed, and throttling of failed logins per account and per address.

mod password;
mod throttle;

use std::{net::IpAddr, time::Duration};

pub use password::{hash_password, verify_password};
use rand::RngCore;
pub use throttle::Throttle;

use crate::{
    domain::Timestamp,
    store::{Role, Store, StoreError, User},
};

/// How long a session lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(7 * 24 * 60 * 60);
/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "wadesk_session";
/// Shortest accepted password.
pub const MIN_PASSWORD_LEN: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("wrong username or password")]
    BadCredentials,
    #[error("too many failed logins; try again in {} s", .0.as_secs().max(1))]
    Throttled(Duration),
    #[error("password must have at least 8 characters")]
    WeakPassword,
    #[error("username must be 1 to 64 letters, digits, dots, dashes or underscores")]
    BadUsername,
    #[error("that username is taken")]
    UsernameTaken,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("password hashing failed: {0}")]
    Hash(String),
}

/// SHA-256 hex of a secret token (API token or session), as stored.
pub fn token_hash(token: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new random secret: `prefix` and 32 random bytes in hex.
pub fn new_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", hex::encode(bytes))
}

pub fn check_username(username: &str) -> Result<(), AuthError> {
    let ok = (1..=64).contains(&username.len())
        && username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if ok {
        Ok(())
    } else {
        Err(AuthError::BadUsername)
    }
}

/// Creates an account.
pub async fn create_user(
    store: &Store,
    username: &str,
    password: &str,
    role: Role,
    now: Timestamp,
) -> Result<i64, AuthError> {
    check_username(username)?;
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(AuthError::WeakPassword);
    }
    let hash = hash_password(password.to_owned()).await?;
    store
        .create_user(username, &hash, role, now)
        .await?
        .ok_or(AuthError::UsernameTaken)
}

/// Checks a login; on success starts a session and returns its (secret) token.
pub async fn login(
    store: &Store,
    throttle: &Throttle,
    username: &str,
    password: &str,
    from: Option<IpAddr>,
    now: Timestamp,
) -> Result<(User, String), AuthError> {
    let keys = throttle::keys(username, from);
    if let Some(wait) = throttle.wait(&keys) {
        return Err(AuthError::Throttled(wait));
    }
    let found = store.user_for_login(username).await?;
    // Hash even for unknown users, so timing does not tell which usernames exist.
    let (user, hash) = match found {
        Some((user, hash)) => (Some(user), hash),
        None => (None, password::DUMMY_HASH.to_owned()),
    };
    let valid = verify_password(hash, password.to_owned()).await;
    match user {
        Some(user) if valid && !user.disabled => {
            throttle.succeeded(&keys);
            let token = new_secret("wss_");
            let ttl = i64::try_from(SESSION_TTL.as_millis()).unwrap_or(i64::MAX);
            store
                .create_session(&token_hash(&token), user.id, now, now.plus_millis(ttl))
                .await?;
            Ok((user, token))
        }
        _ => {
            throttle.failed(&keys);
            Err(AuthError::BadCredentials)
        }
    }
}
