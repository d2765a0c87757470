//! Several `wadesk` processes on one PostgreSQL database, as behind a load balancer: webhooks
//! spread over the instances are stored exactly once, sends go out once at the cluster-wide
//! rate from the one instance leading dispatch (another takes over when it dies), and events
//! cross instances.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
    time::Duration,
};

use reqwest::StatusCode;
use serde_json::{Value, json};
use simulator::payload;
use sqlx::{PgPool, Row};
use tokio::{task::JoinSet, time::Instant};

use crate::{
    db::{Db, TestDb, postgres_available},
    process::{Server, Site, client, free_port},
};

struct Cluster {
    site: Site,
    db: TestDb,
    ports: Vec<u16>,
    servers: Vec<Option<Server>>,
    token: String,
}

impl Cluster {
    /// `n` instances on a fresh PostgreSQL database, or `None` where PostgreSQL is absent.
    async fn start(n: usize, env: &[(&'static str, &str)]) -> Option<Self> {
        if !postgres_available().await {
            return None;
        }
        let mut site = Site::new(env).await;
        let db = TestDb::create(Db::Postgres, site.dir.path()).await;
        site.database_url = db.url.clone();
        let token = site.admin_token().await;
        let mut ports = vec![site.port];
        ports.extend((1..n).map(|_| free_port()));
        let mut servers = Vec::new();
        for (i, port) in ports.iter().enumerate() {
            servers.push(Some(site.serve_at(*port, i as u32 + 1).await));
        }
        Some(Self {
            site,
            db,
            ports,
            servers,
            token,
        })
    }

    fn url(&self, i: usize, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.ports[i])
    }

    async fn pool(&self) -> PgPool {
        PgPool::connect(&self.db.url).await.unwrap()
    }

    /// The instance that leads dispatch, by its health report.
    async fn leader(&self) -> usize {
        let http = client();
        crate::helpers::eventually(
            "one instance leads dispatch",
            Duration::from_secs(20),
            || async {
                let mut leaders = Vec::new();
                for (i, s) in self.servers.iter().enumerate() {
                    if s.is_none() {
                        continue;
                    }
                    let h: Value = http
                        .get(self.url(i, "/api/v1/health"))
                        .send()
                        .await
                        .ok()?
                        .json()
                        .await
                        .ok()?;
                    if h["instance"]["dispatching"] == true {
                        leaders.push(i);
                    }
                }
                (leaders.len() == 1).then(|| leaders[0])
            },
        )
        .await
    }

    /// Queues `n` template sends to distinct numbers, round-robin over the live instances.
    async fn queue_templates(&self, n: usize) -> Vec<String> {
        let http = client();
        let live: Vec<usize> = (0..self.ports.len())
            .filter(|i| self.servers[*i].is_some())
            .collect();
        let mut ids = Vec::new();
        for k in 0..n {
            let i = live[k % live.len()];
            let body = json!({"to": format!("+1555{k:07}"), "type": "template",
                "template": {"name": "order_update", "language": {"code": "en_US"}}});
            let r = http
                .post(self.url(i, "/api/v1/messages"))
                .bearer_auth(&self.token)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::ACCEPTED);
            let m: Value = r.json().await.unwrap();
            ids.push(m["id"].as_str().unwrap().to_owned());
        }
        ids
    }

    /// Accepted sends per message id, as the simulator saw them.
    fn accepted(&self) -> HashMap<String, usize> {
        let mut by_id = HashMap::new();
        for s in self.site.sim.accepted_sends() {
            if let Some(id) = s.callback_data {
                *by_id.entry(id).or_insert(0) += 1;
            }
        }
        by_id
    }

    async fn wait_all_sent(&self, ids: &[String], timeout: Duration) {
        crate::helpers::eventually("every message is sent", timeout, || async {
            let accepted = self.accepted();
            ids.iter().all(|id| accepted.contains_key(id)).then_some(())
        })
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_spread_over_three_instances_are_stored_exactly_once() {
    let Some(cluster) = Cluster::start(3, &[]).await else {
        return;
    };
    const TOTAL: usize = 2000;
    let sim = &cluster.site.sim;
    let bodies: Vec<Vec<u8>> = (0..TOTAL)
        .map(|i| {
            let from = format!("4930{:07}", i % 100);
            let msg = payload::text(&from, &format!("message {i}"));
            let n = payload::envelope(
                &sim.phone_number_id(),
                &sim.display_phone_number(),
                &sim.waba_id(),
                &[(&from, "Kunde")],
                vec![msg],
                vec![],
            );
            simulator::to_meta_json(&n).unwrap()
        })
        .collect();
    let bodies = Arc::new(bodies);
    let secret = sim.app_secret();
    let urls: Arc<Vec<String>> = Arc::new(
        (0..3)
            .map(|i| cluster.url(i, "/webhooks/whatsapp"))
            .collect(),
    );
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for worker in 0..32 {
        let (bodies, urls, secret) = (bodies.clone(), urls.clone(), secret.clone());
        tasks.spawn(async move {
            let http = client();
            let mut k = worker;
            while k < TOTAL + TOTAL / 10 {
                // The last tenth are duplicates delivered to another instance, as Meta does.
                let (body, target) = if k < TOTAL {
                    (&bodies[k], k % 3)
                } else {
                    (&bodies[k - TOTAL], (k + 1) % 3)
                };
                let sig = whatsapp::signature::sign(secret.as_bytes(), body);
                let r = http
                    .post(&urls[target])
                    .header("x-hub-signature-256", sig)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), StatusCode::OK);
                k += 32;
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
    let acked = started.elapsed();
    let pool = cluster.pool().await;
    let (count, distinct) =
        crate::helpers::eventually("all are applied", Duration::from_secs(120), || async {
            // Nothing pending first: a body is marked done in the transaction that stores its
            // message, so counts read afterwards are final.
            let pending: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM webhook_events WHERE state <> 'done'")
                    .fetch_one(&pool)
                    .await
                    .ok()?;
            if pending > 0 {
                return None;
            }
            let row = sqlx::query("SELECT COUNT(*) AS n, COUNT(DISTINCT wamid) AS d FROM messages")
                .fetch_one(&pool)
                .await
                .ok()?;
            Some((row.get::<i64, _>("n"), row.get::<i64, _>("d")))
        })
        .await;
    let applied = started.elapsed();
    eprintln!(
        "cluster ingest: {} webhooks (+{} duplicates) over 3 instances acknowledged in {acked:?}, all applied after {applied:?}",
        TOTAL,
        TOTAL / 10
    );
    assert_eq!(
        (count, distinct),
        (TOTAL as i64, TOTAL as i64),
        "every message stored exactly once"
    );
    let by_instance: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhook_events")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        by_instance,
        (TOTAL + TOTAL / 10) as i64,
        "every delivery journaled"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_through_three_instances_go_out_once_within_the_cluster_rate() {
    let Some(cluster) = Cluster::start(3, &[("WADESK_SEND_RATE", "100")]).await else {
        return;
    };
    cluster
        .site
        .sim
        .set_status_plan(simulator::StatusPlan::disabled());
    let leader = cluster.leader().await;
    let started = Instant::now();
    let ids = cluster.queue_templates(1000).await;
    let queued = started.elapsed();
    cluster.wait_all_sent(&ids, Duration::from_secs(60)).await;
    let took = started.elapsed();
    eprintln!("queued in {queued:?}");
    let accepted = cluster.accepted();
    let max = cluster
        .site
        .sim
        .max_accepted_in_window(Duration::from_secs(1));
    eprintln!(
        "cluster send: 1000 messages via 3 instances (instance {leader} dispatching) in {took:?}; at most {max} in any one-second window at 100/s"
    );
    assert!(
        ids.iter().all(|id| accepted.get(id) == Some(&1)),
        "each sent exactly once"
    );
    assert!(max <= 100, "{max} sends in one second");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_dispatching_instance_dies_another_takes_over() {
    let Some(mut cluster) = Cluster::start(3, &[("WADESK_SEND_RATE", "100")]).await else {
        return;
    };
    cluster
        .site
        .sim
        .set_status_plan(simulator::StatusPlan::disabled());
    let leader = cluster.leader().await;
    let ids = cluster.queue_templates(600).await;
    crate::helpers::eventually("a third is sent", Duration::from_secs(30), || async {
        (cluster.accepted().len() >= 200).then_some(())
    })
    .await;
    let before: HashSet<String> = cluster.accepted().into_keys().collect();
    let killed_at = Instant::now();
    cluster.servers[leader].take().unwrap().kill().await;
    let mut feed = cluster.site.sim.subscribe();
    let next = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let s = feed.recv().await.unwrap();
            if s.accepted()
                && s.callback_data
                    .as_ref()
                    .is_some_and(|id| !before.contains(id))
            {
                return;
            }
        }
    })
    .await;
    assert!(next.is_ok(), "nobody took over");
    let takeover = killed_at.elapsed();
    let new_leader = cluster.leader().await;
    assert_ne!(new_leader, leader);
    cluster.wait_all_sent(&ids, Duration::from_secs(60)).await;
    let twice = cluster.accepted().values().filter(|n| **n > 1).count();
    eprintln!(
        "takeover: instance {new_leader} sent again {takeover:?} after instance {leader} was killed; {twice} message(s) sent twice (in flight at the kill)"
    );
    assert!(
        twice <= 32,
        "at most the sends in flight at the kill are repeated ({twice})"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_that_loses_its_lock_gives_back_the_sends_it_had_claimed() {
    let env = [("WADESK_SEND_RATE", "50"), ("WADESK_SEND_LEASE_SECS", "60")];
    let Some(cluster) = Cluster::start(2, &env).await else {
        return;
    };
    cluster
        .site
        .sim
        .set_status_plan(simulator::StatusPlan::disabled());
    cluster.leader().await;
    let ids = cluster.queue_templates(600).await;
    let sent = cluster.accepted().len();
    assert!(sent < 500, "most sends still wait ({sent} sent)");
    // The leader lives on but its lock's connection is cut, as a network blip or a PostgreSQL
    // restart would cut it. What it had claimed is leased for a minute, the default. (Other
    // advisory locks come and go: a transaction that records wamids holds one per wamid.)
    let pool = cluster.pool().await;
    let cut: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(l.pid) FROM pg_locks l \
         JOIN pg_stat_activity a ON a.pid = l.pid AND a.application_name = $1 \
         WHERE l.locktype = 'advisory' AND l.granted \
         AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .bind(wadesk::store::LEADERSHIP_APPLICATION)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(cut, vec![true], "one instance held the dispatch lock");
    let cut_at = Instant::now();
    cluster.wait_all_sent(&ids, Duration::from_secs(25)).await;
    let twice = cluster.accepted().values().filter(|n| **n > 1).count();
    eprintln!(
        "{} sends left when the lock was cut; all sent {:?} later; {twice} sent twice",
        600 - sent,
        cut_at.elapsed()
    );
    assert!(
        twice <= 32,
        "at most the calls in flight (32 at 50/s) are repeated ({twice})"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sse_client_on_one_instance_sees_a_webhook_that_hit_another() {
    let Some(cluster) = Cluster::start(2, &[]).await else {
        return;
    };
    let http = client();
    let r = http
        .get(cluster.url(1, "/api/v1/events"))
        .bearer_auth(&cluster.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let mut body = r.bytes_stream();
    let sim = &cluster.site.sim;
    let msg = payload::text("4930123456", "hello instance A");
    let n = payload::envelope(
        &sim.phone_number_id(),
        &sim.display_phone_number(),
        &sim.waba_id(),
        &[("4930123456", "Kunde")],
        vec![msg],
        vec![],
    );
    let bytes = simulator::to_meta_json(&n).unwrap();
    let sig = whatsapp::signature::sign(sim.app_secret().as_bytes(), &bytes);
    let posted = Instant::now();
    let r = http
        .post(cluster.url(0, "/webhooks/whatsapp"))
        .header("x-hub-signature-256", sig)
        .header("content-type", "application/json")
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let mut text = String::new();
    let seen = tokio::time::timeout(Duration::from_secs(10), async {
        use futures_util::StreamExt;
        while let Some(Ok(chunk)) = body.next().await {
            text.push_str(&String::from_utf8_lossy(&chunk));
            if text.contains("event: message.created") {
                return;
            }
        }
    })
    .await;
    assert!(seen.is_ok(), "instance B never heard of it: {text}");
    eprintln!(
        "cross-instance SSE: webhook on A → event on B after {:?}",
        posted.elapsed()
    );
}
