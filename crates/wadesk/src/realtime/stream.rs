//! The Server-Sent Events stream of one subscriber.

use std::{
    collections::VecDeque,
    convert::Infallible,
    time::{Duration, Instant},
};

use axum::response::sse;
use futures_util::{Stream, stream};
use tokio::sync::watch;

use crate::store::{Store, StoredEvent};

/// How long an id seen missing is looked for again: on PostgreSQL a transaction that took an
/// id may commit after one that took a later id.
const LATE_COMMIT: Duration = Duration::from_secs(5);
/// Without a wake-up, look anyway this often (a lost NOTIFY, a late commit).
const POLL: Duration = Duration::from_secs(2);
const PAGE: i64 = 500;
/// How often an open stream checks that its caller may still listen.
const RECHECK: Duration = Duration::from_secs(10);

struct Reader {
    store: Store,
    commits: watch::Receiver<u64>,
    last: i64,
    missing: Vec<(i64, Instant)>,
    ready: VecDeque<StoredEvent>,
}

impl Reader {
    async fn fill(&mut self) {
        let now = Instant::now();
        self.missing
            .retain(|(_, seen)| now.duration_since(*seen) < LATE_COMMIT);
        let also: Vec<i64> = self.missing.iter().map(|(id, _)| *id).collect();
        let rows = match self.store.events_after(self.last, &also, PAGE).await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "event stream: cannot read events");
                return;
            }
        };
        for row in rows {
            if row.id > self.last {
                // Ids skipped over may belong to transactions still committing.
                let gap = (self.last + 1..row.id).take(1000).map(|id| (id, now));
                self.missing.extend(gap);
                self.last = row.id;
            }
            self.missing.retain(|(id, _)| *id != row.id);
            self.ready.push_back(row);
        }
    }

    async fn next(&mut self) -> sse::Event {
        loop {
            if let Some(e) = self.ready.pop_front() {
                return sse::Event::default()
                    .id(e.id.to_string())
                    .event(e.kind)
                    .data(e.data);
            }
            self.commits.borrow_and_update();
            self.fill().await;
            if self.ready.is_empty() {
                let _ = tokio::time::timeout(POLL, self.commits.changed()).await;
            }
        }
    }
}

/// Events after `after` (the client's `Last-Event-ID`), then live ones, for as long as the
/// client listens.
///
/// `allowed` is asked again every `RECHECK`; the stream ends (and the browser must sign in
/// again) once it says no — a revoked token or an ended session stops receiving events.
pub fn stream<F, Fut>(
    store: Store,
    commits: watch::Receiver<u64>,
    after: i64,
    allowed: F,
) -> impl Stream<Item = Result<sse::Event, Infallible>>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let reader = Reader {
        store,
        commits,
        last: after,
        missing: Vec::new(),
        ready: VecDeque::new(),
    };
    let checked = Instant::now();
    stream::unfold(
        (reader, allowed, checked),
        |(mut r, allowed, mut checked)| async move {
            let event = tokio::time::timeout(RECHECK, r.next()).await;
            if checked.elapsed() >= RECHECK {
                if !allowed().await {
                    return None;
                }
                checked = Instant::now();
            }
            // A timeout only means nothing happened; send a comment so the check runs again soon.
            let event = event.unwrap_or_else(|_| sse::Event::default().comment("still here"));
            Some((Ok(event), (r, allowed, checked)))
        },
    )
}
