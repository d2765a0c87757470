//! Coordination between instances sharing a PostgreSQL database (dialect: on SQLite there is
//! one instance, which always leads): one dispatcher per business number holds an advisory
//! lock, and commits with events wake the other instances through LISTEN/NOTIFY.

use sqlx::{Connection, PgConnection, PgPool, postgres::PgListener};

use super::{Pool, Result, Store};

/// The channel instances are woken on after events commit.
pub const EVENTS_CHANNEL: &str = "wadesk_events";

/// Leadership of a named job across instances. On PostgreSQL it is an advisory lock on a
/// connection of its own (outside the request pool): if the process dies, the server drops
/// the connection and the lock with it, and a standby takes over.
pub struct Leadership {
    key: i64,
    pool: Option<PgPool>,
    conn: Option<PgConnection>,
    held: bool,
}

/// The `application_name` of leadership connections, so `pg_stat_activity` tells them from
/// the request pool's.
pub const LEADERSHIP_APPLICATION: &str = "wadesk leadership";

/// A stable 64-bit key for an advisory lock (FNV-1a; stable across builds and platforms).
pub(super) fn lock_key(name: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    i64::from_ne_bytes(h.to_ne_bytes())
}

impl Store {
    /// A contender for leading `name` (no I/O until `acquire`).
    pub fn leadership(&self, name: &str) -> Leadership {
        let pool = match &self.write {
            Pool::Postgres(p) => Some(p.clone()),
            Pool::Sqlite(_) => None,
        };
        Leadership {
            key: lock_key(name),
            pool,
            conn: None,
            held: false,
        }
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
    /// Tries to take the lead; `true` if this instance leads now. On SQLite it always does.
    pub async fn acquire(&mut self) -> Result<bool> {
        let Some(pool) = &self.pool else {
            self.held = true;
            return Ok(true);
        };
        if self.conn.is_none() {
            let options = (*pool.connect_options())
                .clone()
                .application_name(LEADERSHIP_APPLICATION);
            self.conn = Some(PgConnection::connect_with(&options).await?);
        }
        let Some(conn) = self.conn.as_mut() else {
            return Ok(false);
        };
        match sqlx::query_scalar::<_, bool>("SELECT pg_try_advisory_lock($1)")
            .bind(self.key)
            .fetch_one(&mut *conn)
            .await
        {
            Ok(got) => {
                self.held = got;
                Ok(got)
            }
            Err(e) => {
                // The connection is broken: start afresh next time.
                self.conn = None;
                Err(e.into())
            }
        }
    }

    /// Whether leadership still holds (its connection still answers).
    pub async fn holds(&mut self) -> bool {
        if !self.held {
            return false;
        }
        let alive = match &mut self.conn {
            None => self.pool.is_none(),
            Some(conn) => conn.ping().await.is_ok(),
        };
        if !alive {
            self.held = false;
            self.conn = None;
        }
        alive
    }

    /// Gives leadership up now (the connection is kept for trying again).
    pub async fn release(&mut self) {
        if self.held
            && let Some(conn) = self.conn.as_mut()
            && sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(self.key)
                .execute(&mut *conn)
                .await
                .is_err()
        {
            self.conn = None;
        }
        self.held = false;
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
