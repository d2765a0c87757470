//! Coordination between instances sharing a PostgreSQL database (dialect: on SQLite there is
//! one instance, which always leads): one dispatcher per business number holds an advisory
//! lock, and commits with events wake the other instances through LISTEN/NOTIFY.

use sqlx::{Connection, PgConnection, postgres::PgListener};

use super::{Pool, Result, Store};

/// The channel instances are woken on after events commit.
pub const EVENTS_CHANNEL: &str = "wadesk_events";

/// Leadership of a named job, held as long as this value lives (and, on PostgreSQL, as long as
/// its connection does: if the process dies, the server releases the lock at once).
pub struct Leadership {
    conn: Option<PgConnection>,
}

/// A stable 64-bit key for an advisory lock (FNV-1a; stable across builds and platforms).
fn lock_key(name: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    i64::from_ne_bytes(h.to_ne_bytes())
}

impl Store {
    /// Tries to become the one instance running `name`; `None` if another instance is.
    pub async fn try_lead(&self, name: &str) -> Result<Option<Leadership>> {
        let Pool::Postgres(pool) = &self.write else {
            return Ok(Some(Leadership { conn: None }));
        };
        // A connection of its own, outside the pool: the lock lives and dies with it.
        let mut conn = pool.acquire().await?.detach();
        let (got,): (bool,) = sqlx::query_as("SELECT pg_try_advisory_lock($1)")
            .bind(lock_key(name))
            .fetch_one(&mut conn)
            .await?;
        Ok(got.then_some(Leadership { conn: Some(conn) }))
    }

    /// A listener for other instances' commits (`None` on SQLite).
    pub async fn listen_for_events(&self) -> Result<Option<PgListener>> {
        let Pool::Postgres(pool) = &self.write else {
            return Ok(None);
        };
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(EVENTS_CHANNEL).await?;
        Ok(Some(listener))
    }
}

impl Leadership {
    /// Whether leadership still holds (its connection still answers).
    pub async fn holds(&mut self) -> bool {
        match &mut self.conn {
            None => true,
            Some(conn) => conn.ping().await.is_ok(),
        }
    }

    /// Gives leadership up now.
    pub async fn release(self) {
        if let Some(conn) = self.conn {
            let _ = conn.close().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_keys_are_stable_and_distinct() {
        assert_eq!(
            lock_key("dispatch:106540352242922"),
            lock_key("dispatch:106540352242922")
        );
        assert_ne!(lock_key("dispatch:1"), lock_key("dispatch:2"));
        assert_eq!(
            lock_key(""),
            i64::from_ne_bytes(0xcbf2_9ce4_8422_2325u64.to_ne_bytes())
        );
    }
}
