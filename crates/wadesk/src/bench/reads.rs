//! Reading a big inbox: a database bulk-loaded with many conversations and messages (before
//! the server starts), then the agent's three hot reads over HTTP, one request at a time —
//! the conversation list's first page, one conversation's latest messages, and a full-text
//! search for a word many messages contain.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use serde_json::Value;

use super::{corpus, params::Params};
use crate::{
    clock::{Clock, SystemClock},
    store::{BulkSpec, BulkSummary, Store},
};

/// Requests per endpoint before timing starts.
const WARM_UP: usize = 5;
/// Page size of every read.
const PAGE: usize = 50;

/// The bulk load.
#[derive(Debug, Clone)]
pub struct BulkResult {
    pub summary: BulkSummary,
    pub load_time: Duration,
    /// Messages the search word finds.
    pub matches: i64,
}

/// Fills the empty database of `store` with `params.bulk_messages` messages in
/// `params.bulk_conversations` conversations with the business number `phone_number_id`.
pub async fn load(
    store: &Store,
    params: &Params,
    phone_number_id: &str,
) -> Result<BulkResult, String> {
    let now = SystemClock.now();
    let span_ms = 90 * 24 * 3_600_000;
    let end = now.plus_millis(-60_000);
    let spec = BulkSpec {
        conversations: params.bulk_conversations,
        messages: params.bulk_messages,
        phone_number_id: phone_number_id.to_owned(),
        end,
        span_ms,
        unread_after: end.plus_millis(-span_ms / 200),
        words: corpus::WORDS.iter().map(|w| (*w).to_owned()).collect(),
        first_names: corpus::FIRST_NAMES
            .iter()
            .map(|w| (*w).to_owned())
            .collect(),
        last_names: corpus::LAST_NAMES.iter().map(|w| (*w).to_owned()).collect(),
        first_wa_id: 5_511_900_000_000,
        rows_per_statement: 10_000,
        statements_per_transaction: 10,
    };
    let started = Instant::now();
    let summary = store
        .bulk_load(&spec)
        .await
        .map_err(|e| format!("bulk load: {e}"))?;
    let load_time = started.elapsed();
    let matches = store
        .count_text_matches(corpus::SEARCH_WORD)
        .await
        .map_err(|e| format!("counting matches: {e}"))?;
    Ok(BulkResult {
        summary,
        load_time,
        matches,
    })
}

/// Latencies of each read.
#[derive(Debug, Clone, Default)]
pub struct ReadResult {
    pub list: Vec<Duration>,
    pub messages: Vec<Duration>,
    pub search: Vec<Duration>,
}

/// `n` timed requests of each read (after a few untimed ones), JSON bodies read in full.
pub async fn run(
    addr: SocketAddr,
    token: &str,
    bulk: &BulkSummary,
    n: usize,
) -> Result<ReadResult, String> {
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())?;
    let base = format!("http://{addr}/api/v1");
    let list = format!("{base}/conversations?limit={PAGE}");
    let search = format!("{base}/search?q={}&limit={PAGE}", corpus::SEARCH_WORD);
    let conversation = |k: usize| {
        let id = bulk.first_conversation_id + (k as i64 * 7_919) % bulk.conversations;
        format!("{base}/conversations/{id}/messages?limit={PAGE}")
    };
    // Each read answers what it should before it is timed.
    let first = get_json(&http, &list, token).await?;
    expect_items(
        &first,
        "conversations",
        PAGE.min(bulk.conversations as usize),
    )?;
    let found = get_json(&http, &search, token).await?;
    expect_items(&found, "messages", 1)?;
    let mut result = ReadResult::default();
    for k in 0..WARM_UP + n {
        let timed = k >= WARM_UP;
        let d = time_get(&http, &list, token).await?;
        if timed {
            result.list.push(d);
        }
        let d = time_get(&http, &conversation(k), token).await?;
        if timed {
            result.messages.push(d);
        }
        let d = time_get(&http, &search, token).await?;
        if timed {
            result.search.push(d);
        }
    }
    Ok(result)
}

async fn time_get(http: &reqwest::Client, url: &str, token: &str) -> Result<Duration, String> {
    let start = Instant::now();
    let r = http
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    let status = r.status();
    let body = r.bytes().await.map_err(|e| format!("GET {url}: {e}"))?;
    let elapsed = start.elapsed();
    if status != reqwest::StatusCode::OK || body.is_empty() {
        return Err(format!("GET {url} answered {status}"));
    }
    Ok(elapsed)
}

pub(super) async fn get_json(
    http: &reqwest::Client,
    url: &str,
    token: &str,
) -> Result<Value, String> {
    let r = http
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    if r.status() != reqwest::StatusCode::OK {
        return Err(format!("GET {url} answered {}", r.status()));
    }
    r.json().await.map_err(|e| format!("GET {url}: {e}"))
}

fn expect_items(v: &Value, key: &str, at_least: usize) -> Result<(), String> {
    let n = v[key].as_array().map_or(0, Vec::len);
    if n >= at_least {
        Ok(())
    } else {
        Err(format!("expected {at_least} {key} or more, got {n}"))
    }
}
