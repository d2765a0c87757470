//! SIGKILL loses nothing: the real `wadesk` binary is killed in the middle of a webhook burst
//! and while its outbox is sending, then restarted on the same database. Acknowledged webhooks
//! must all be stored exactly once, and every queued send must go out.

use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use reqwest::StatusCode;
use serde_json::{Value, json};
use simulator::{Fault, Simulator, payload};
use tokio::{task::JoinSet, time::Instant};

use crate::{
    helpers::eventually,
    process::{Site, client},
};

async fn get(http: &reqwest::Client, url: &str, token: &str) -> (StatusCode, Value) {
    let r = http.get(url).bearer_auth(token).send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Every message of one customer, following `next_cursor` to the end.
async fn messages_of(site: &Site, http: &reqwest::Client, token: &str, phone: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = site.url(&format!("/api/v1/messages?phone={phone}&limit=200"));
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let (s, page) = get(http, &url, token).await;
        assert_eq!(s, StatusCode::OK, "{page}");
        all.extend(page["messages"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return all,
        }
    }
}

/// One signed inbound-text webhook, ready to post.
struct Webhook {
    customer: &'static str,
    wamid: String,
    body: Vec<u8>,
    signature: String,
}

const CUSTOMERS: [&str; 4] = [
    "5511900000001",
    "5511900000002",
    "5511900000003",
    "5511900000004",
];

fn webhooks(sim: &Simulator, n: usize) -> Vec<Webhook> {
    (0..n)
        .map(|i| {
            let customer = CUSTOMERS[i % CUSTOMERS.len()];
            let message = payload::text(customer, &format!("burst message {i}"));
            let wamid = message["id"].as_str().unwrap().to_owned();
            let notification = payload::envelope(
                &sim.phone_number_id(),
                &sim.display_phone_number(),
                &sim.waba_id(),
                &[(customer, "Burst Customer")],
                vec![message],
                vec![],
            );
            let body = simulator::to_meta_json(&notification).unwrap();
            let signature = whatsapp::signature::sign(sim.app_secret().as_bytes(), &body);
            Webhook {
                customer,
                wamid,
                body,
                signature,
            }
        })
        .collect()
}

/// Posts `TOTAL` signed webhooks from `TASKS` concurrent tasks, SIGKILLs the server once
/// `KILL_AFTER` are acknowledged, restarts it, and checks that every acknowledged message
/// becomes visible within `visible_within` and that none is stored twice. Returns how long
/// the last acknowledged message took to appear after the restart.
async fn burst_kill_restart(visible_within: Duration) -> Duration {
    const TOTAL: usize = 400;
    const TASKS: usize = 32;
    const KILL_AFTER: usize = 100;

    let site = Site::new(&[]).await;
    let token = site.admin_token().await;
    let server = site.serve(1).await;

    let hooks = Arc::new(webhooks(&site.sim, TOTAL));
    let next = Arc::new(AtomicUsize::new(0));
    let acked = Arc::new(Mutex::new(Vec::new()));
    let acked_count = Arc::new(AtomicUsize::new(0));
    let http = client();
    let url = site.url("/webhooks/whatsapp");
    let mut tasks = JoinSet::new();
    for _ in 0..TASKS {
        let (hooks, next, acked, acked_count) = (
            hooks.clone(),
            next.clone(),
            acked.clone(),
            acked_count.clone(),
        );
        let (http, url) = (http.clone(), url.clone());
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(hook) = hooks.get(i) else {
                    return;
                };
                let answer = http
                    .post(&url)
                    .header("content-type", "application/json")
                    .header(whatsapp::signature::HEADER, &hook.signature)
                    .body(hook.body.clone())
                    .send()
                    .await;
                if answer.is_ok_and(|r| r.status() == StatusCode::OK) {
                    acked.lock().unwrap().push(i);
                    acked_count.fetch_add(1, Ordering::SeqCst);
                }
            }
        });
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while acked_count.load(Ordering::SeqCst) < KILL_AFTER {
        assert!(
            Instant::now() < deadline,
            "only {} webhooks acknowledged",
            acked_count.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let at_kill = acked_count.load(Ordering::SeqCst);
    server.kill().await;
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let acked: Vec<usize> = acked.lock().unwrap().clone();
    let acked_wamids: HashSet<&str> = acked.iter().map(|&i| hooks[i].wamid.as_str()).collect();
    assert_eq!(acked_wamids.len(), acked.len(), "each webhook acked once");
    eprintln!(
        "webhook burst: {} acknowledged ({at_kill} when SIGKILL was sent) of {TOTAL}",
        acked.len()
    );

    let server = site.serve(2).await;
    let http = client();
    let started = Instant::now();
    let mut missing: Vec<&str> = acked_wamids.iter().copied().collect();
    while !missing.is_empty() && started.elapsed() < visible_within {
        let mut still = Vec::new();
        for wamid in missing {
            let url = site.url(&format!("/api/v1/messages/{wamid}"));
            if get(&http, &url, &token).await.0 != StatusCode::OK {
                still.push(wamid);
            }
        }
        missing = still;
        if !missing.is_empty() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let visible_after = started.elapsed();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged messages are not visible {visible_after:?} after the restart \
         (health: {}): {:?}",
        missing.len(),
        acked_wamids.len(),
        get(&http, &site.url("/api/v1/health"), &token).await.1,
        &missing[..missing.len().min(3)]
    );

    // Bodies committed but not acknowledged may be applied too: let the journal drain first.
    eventually(
        "the journal is drained",
        Duration::from_secs(120),
        || async {
            let (_, h) = get(&http, &site.url("/api/v1/health"), &token).await;
            (h["webhooks"]["pending"] == 0 && h["webhooks"]["failed"] == 0).then_some(())
        },
    )
    .await;
    let sent: HashMap<&str, &str> = hooks
        .iter()
        .map(|h| (h.wamid.as_str(), h.customer))
        .collect();
    let mut stored_total = 0;
    for customer in CUSTOMERS {
        let stored = messages_of(&site, &http, &token, customer).await;
        let wamids: Vec<&str> = stored
            .iter()
            .map(|m| m["wamid"].as_str().unwrap())
            .collect();
        let distinct: HashSet<&str> = wamids.iter().copied().collect();
        assert_eq!(
            wamids.len(),
            distinct.len(),
            "{customer}: a message is stored twice"
        );
        for wamid in &distinct {
            assert_eq!(sent.get(wamid), Some(&customer), "{wamid} is {customer}'s");
        }
        let acked_here: Vec<&str> = acked_wamids
            .iter()
            .copied()
            .filter(|w| sent[w] == customer)
            .collect();
        let lost: Vec<&str> = acked_here
            .iter()
            .copied()
            .filter(|w| !distinct.contains(w))
            .collect();
        assert!(
            lost.is_empty(),
            "{customer}: acknowledged but lost: {lost:?}"
        );
        stored_total += wamids.len();
    }
    eprintln!(
        "webhook burst: {} acknowledged, {stored_total} stored once each after the restart \
         ({} committed without an answer); the last acknowledged one visible {visible_after:?} \
         after the restart",
        acked.len(),
        stored_total - acked.len()
    );
    drop(server);
    visible_after
}

/// Every acknowledged webhook is stored exactly once after a SIGKILL, and applied within
/// seconds of the restart (a crash leaves no claim behind to wait out).
#[tokio::test]
async fn sigkill_during_a_webhook_burst_loses_no_acknowledged_message() {
    burst_kill_restart(Duration::from_secs(10)).await;
}

// Two workers: the kill must not wait for the simulator's handler to finish its answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_sends_survive_sigkill_and_are_all_sent_after_restart() {
    const MESSAGES: usize = 60;
    /// WADESK_SEND_CONCURRENCY's default: Graph calls in flight at once.
    const CONCURRENCY: usize = 32;

    /// Graph's answer time before the kill, so that several calls are in flight.
    const SLOW: Duration = Duration::from_millis(250);

    let site = Site::new(&[("WADESK_SEND_RATE", "20")]).await;
    site.sim.inject(Fault::slow(SLOW).always());
    let mut feed = site.sim.subscribe();
    let token = site.admin_token().await;
    let server = site.serve(1).await;
    let http = client();

    let mut ids = Vec::with_capacity(MESSAGES);
    for i in 0..MESSAGES {
        let body = json!({"to": format!("+1555000{i:04}"), "type": "template",
                          "template": {"name": "hello", "language": {"code": "en_US"}}});
        let r = http
            .post(site.url("/api/v1/messages"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let m: Value = r.json().await.unwrap();
        assert_eq!(status, StatusCode::ACCEPTED, "{m}");
        assert_eq!(m["status"], "queued", "{m}");
        ids.push(m["id"].as_str().unwrap().to_owned());
    }
    // Let it send for about a second at 20/s, then kill it the moment Graph accepts one: that
    // send, and the others Graph is still answering, are in flight.
    let mut accepted = 0;
    while accepted < 20 {
        let next = tokio::time::timeout(Duration::from_secs(60), feed.recv()).await;
        next.expect("sends keep being accepted").unwrap();
        accepted += 1;
    }
    server.kill().await;
    // Stay down until the simulator has given up posting statuses of the sends the server
    // never heard back about (about 0.8 s of retries): the worst case, where only a re-send
    // can tell. Slow calls Graph was still answering are dropped with their connections.
    tokio::time::sleep(Duration::from_secs(2)).await;
    site.sim.clear_faults();
    let sent_before: HashSet<String> = site
        .sim
        .accepted_sends()
        .into_iter()
        .filter_map(|s| s.callback_data)
        .collect();
    eprintln!(
        "outbox: {} of {MESSAGES} accepted by Graph before SIGKILL ({accepted} answered)",
        sent_before.len()
    );

    let server = site.serve(2).await;
    let http = client();
    eventually(
        "every message is sent after the restart",
        Duration::from_secs(120),
        || async {
            let accepted: HashSet<String> = site
                .sim
                .accepted_sends()
                .into_iter()
                .filter_map(|s| s.callback_data)
                .collect();
            for id in &ids {
                if !accepted.contains(id) {
                    return None;
                }
                let (s, m) = get(&http, &site.url(&format!("/api/v1/messages/{id}")), &token).await;
                if s != StatusCode::OK || m["status"] == "queued" {
                    return None;
                }
            }
            Some(())
        },
    )
    .await;

    let mut sends_per_message: HashMap<String, usize> = HashMap::new();
    for send in site.sim.accepted_sends() {
        let id = send.callback_data.unwrap_or_default();
        *sends_per_message.entry(id).or_default() += 1;
    }
    let known: HashSet<&String> = ids.iter().collect();
    assert!(
        sends_per_message.keys().all(|id| known.contains(id)),
        "only our messages were sent: {sends_per_message:?}"
    );
    let twice: Vec<&String> = sends_per_message
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(id, _)| id)
        .collect();
    eprintln!(
        "outbox: {} of {MESSAGES} messages sent more than once across the SIGKILL",
        twice.len()
    );
    assert!(
        twice.len() <= CONCURRENCY,
        "at most the sends in flight at the kill are repeated: {twice:?}"
    );
    for id in &twice {
        assert!(
            sent_before.contains(*id),
            "{id} was sent twice although it was first sent after the restart"
        );
    }
    let h = get(&http, &site.url("/api/v1/health"), &token).await.1;
    assert_eq!(h["outbox"]["queued"], 0, "{h}");
    assert_eq!(h["outbox"]["retrying"], 0, "{h}");
    drop(server);
}
