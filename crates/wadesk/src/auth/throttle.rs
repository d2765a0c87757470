//! Slowing down password guessing: after a few failures an account (or an address) must wait,
//! twice as long after each further failure, up to 15 minutes. Kept in memory per instance.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::Mutex,
    time::{Duration, Instant},
};

/// Failures allowed before waits begin, per account and per address.
const FREE_PER_ACCOUNT: u32 = 5;
const FREE_PER_ADDRESS: u32 = 20;
/// Longest wait, and how long failures are remembered.
const MAX_WAIT: Duration = Duration::from_secs(15 * 60);
const MAX_ENTRIES: usize = 100_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    Account(String),
    Address(IpAddr),
}

pub fn keys(username: &str, from: Option<IpAddr>) -> Vec<Key> {
    let mut keys = vec![Key::Account(username.to_lowercase())];
    keys.extend(from.map(Key::Address));
    keys
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

#[derive(Debug, Default)]
pub struct Throttle {
    failures: Mutex<HashMap<Key, Failures>>,
}

fn free(key: &Key) -> u32 {
    match key {
        Key::Account(_) => FREE_PER_ACCOUNT,
        Key::Address(_) => FREE_PER_ADDRESS,
    }
}

fn wait_after(key: &Key, f: &Failures) -> Duration {
    let over = f.count.saturating_sub(free(key));
    if over == 0 {
        return Duration::ZERO;
    }
    Duration::from_secs(1u64 << (over - 1).min(20)).min(MAX_WAIT)
}

impl Throttle {
    /// How long these keys must still wait, if at all.
    pub fn wait(&self, keys: &[Key]) -> Option<Duration> {
        self.wait_at(keys, Instant::now())
    }

    fn wait_at(&self, keys: &[Key], now: Instant) -> Option<Duration> {
        let map = self.failures.lock().ok()?;
        keys.iter()
            .filter_map(|k| {
                let f = map.get(k)?;
                let until = f.last + wait_after(k, f);
                (until > now).then(|| until - now)
            })
            .max()
    }

    pub fn failed(&self, keys: &[Key]) {
        self.failed_at(keys, Instant::now());
    }

    fn failed_at(&self, keys: &[Key], now: Instant) {
        let Ok(mut map) = self.failures.lock() else {
            return;
        };
        if map.len() >= MAX_ENTRIES {
            map.retain(|_, f| now.duration_since(f.last) < MAX_WAIT);
        }
        for k in keys {
            let entry = map.entry(k.clone()).or_insert(Failures {
                count: 0,
                last: now,
            });
            if now.duration_since(entry.last) >= MAX_WAIT {
                entry.count = 0;
            }
            entry.count += 1;
            entry.last = now;
        }
    }

    /// A successful login clears its account's failures (not its address's: one valid
    /// account must not reset an attacker's count).
    pub fn succeeded(&self, keys: &[Key]) {
        if let Ok(mut map) = self.failures.lock() {
            for k in keys.iter().filter(|k| matches!(k, Key::Account(_))) {
                map.remove(k);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_after_the_free_failures_and_success_clears_the_account() {
        let t = Throttle::default();
        let start = Instant::now();
        let keys = keys("Ana", None);
        for _ in 0..5 {
            t.failed_at(&keys, start);
        }
        assert_eq!(t.wait_at(&keys, start), None, "five failures are free");
        t.failed_at(&keys, start);
        assert_eq!(t.wait_at(&keys, start), Some(Duration::from_secs(1)));
        t.failed_at(&keys, start);
        assert_eq!(t.wait_at(&keys, start), Some(Duration::from_secs(2)));
        assert_eq!(t.wait_at(&keys, start + Duration::from_secs(2)), None);
        assert_eq!(
            t.wait_at(&self::keys("ana", None), start),
            Some(Duration::from_secs(2)),
            "case-insensitive"
        );
        t.succeeded(&keys);
        assert_eq!(t.wait_at(&keys, start), None);
    }

    #[test]
    fn an_address_is_throttled_across_accounts() {
        let t = Throttle::default();
        let now = Instant::now();
        let ip: IpAddr = [10, 0, 0, 7].into();
        for i in 0..21 {
            t.failed_at(&keys(&format!("user{i}"), Some(ip)), now);
        }
        assert!(t.wait_at(&keys("someone-else", Some(ip)), now).is_some());
        assert!(t.wait_at(&keys("someone-else", None), now).is_none());
    }
}
