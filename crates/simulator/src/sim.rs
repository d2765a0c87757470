//! The simulator handle: binding and serving, its settings, and the record of what happened
//! (sends, read receipts, webhook deliveries). HTTP handlers live in `graph` and `control`,
//! webhook posting in `delivery` and `statuses`.

use std::{
    collections::VecDeque,
    future::Future,
    io,
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::{Duration, Instant},
};

use rand::{SeedableRng, rngs::StdRng};
use serde_json::Value;
use tokio::{net::TcpListener, sync::broadcast};
use tokio_util::sync::CancellationToken;

use crate::{
    config::{Config, StatusPlan},
    delivery::Delivery,
    fault::{Fault, FaultBook},
    media::{self, MediaFile},
    record::{RecordedSend, Stats, max_in_window},
};

#[derive(Default)]
struct Log {
    rate_limit: Option<u32>,
    /// Accepted sends of the trailing second, for the rate limit.
    recent: VecDeque<Instant>,
    sends: Vec<RecordedSend>,
    read_receipts: Vec<String>,
    deliveries: Vec<Delivery>,
}

struct Inner {
    addr: SocketAddr,
    config: Mutex<Config>,
    faults: Mutex<FaultBook>,
    log: Mutex<Log>,
    rng: Mutex<StdRng>,
    http: reqwest::Client,
    cancel: CancellationToken,
    accepted: broadcast::Sender<RecordedSend>,
}

/// A running fake Cloud API. Cheap to clone; all clones drive the same server.
#[derive(Clone)]
pub struct Simulator {
    inner: Arc<Inner>,
}

/// Locks ignoring poisoning: every critical section leaves the data consistent.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Simulator {
    /// Binds `addr` (port 0 picks a free port) and serves in a spawned task until
    /// [`Simulator::shutdown`].
    pub async fn start(addr: SocketAddr, config: Config) -> io::Result<Simulator> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .user_agent("facebookexternalua")
            .build()
            .map_err(io::Error::other)?;
        let rng = match config.seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_os_rng(),
        };
        let sim = Simulator {
            inner: Arc::new(Inner {
                addr,
                config: Mutex::new(config),
                faults: Mutex::default(),
                log: Mutex::default(),
                rng: Mutex::new(rng),
                http,
                cancel: CancellationToken::new(),
                accepted: broadcast::channel(1024).0,
            }),
        };
        let app = crate::graph::router()
            .merge(crate::control::router())
            .with_state(sim.clone());
        let stop = sim.inner.cancel.clone().cancelled_owned();
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app)
                .with_graceful_shutdown(stop)
                .await
            {
                tracing::warn!(error = %e, "simulator server stopped");
            }
        });
        Ok(sim)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// `http://127.0.0.1:PORT`: the Graph base URL to give wadesk (`WHATSAPP_API_BASE_URL`).
    pub fn base_url(&self) -> String {
        let mut addr = self.inner.addr;
        match addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => addr.set_ip(Ipv4Addr::LOCALHOST.into()),
            IpAddr::V6(ip) if ip.is_unspecified() => addr.set_ip(Ipv6Addr::LOCALHOST.into()),
            _ => {}
        }
        format!("http://{addr}")
    }

    /// A snapshot of the current settings.
    pub fn config(&self) -> Config {
        lock(&self.inner.config).clone()
    }

    /// The business number's id.
    pub fn phone_number_id(&self) -> String {
        lock(&self.inner.config).phone_number_id.clone()
    }

    /// The business number as digits.
    pub fn display_phone_number(&self) -> String {
        lock(&self.inner.config).display_phone_number.clone()
    }

    /// The WhatsApp Business Account id.
    pub fn waba_id(&self) -> String {
        lock(&self.inner.config).waba_id.clone()
    }

    /// The webhook signing key.
    pub fn app_secret(&self) -> String {
        lock(&self.inner.config).app_secret.clone()
    }

    /// The bearer token Graph calls must currently carry.
    pub fn access_token(&self) -> String {
        lock(&self.inner.config).access_token.clone()
    }

    /// Where webhooks go from now on.
    pub fn set_webhook_url(&self, url: impl Into<String>) {
        lock(&self.inner.config).webhook_url = Some(url.into());
    }

    /// Replaces the accepted token; calls with the old one get 401 / code 190 (token rotation).
    pub fn set_access_token(&self, token: impl Into<String>) {
        lock(&self.inner.config).access_token = token.into();
    }

    /// How statuses of later sends are played.
    pub fn set_status_plan(&self, plan: StatusPlan) {
        lock(&self.inner.config).statuses = plan;
    }

    /// Queues a fault; faults apply in injection order, the first matching one wins.
    pub fn inject(&self, fault: Fault) {
        lock(&self.inner.faults).inject(fault);
    }

    /// Removes every queued fault.
    pub fn clear_faults(&self) {
        lock(&self.inner.faults).clear();
    }

    /// The faults still queued.
    pub fn faults(&self) -> Vec<Fault> {
        lock(&self.inner.faults).list()
    }

    /// Caps accepted sends at `per_second` in any trailing one-second window; sends beyond it
    /// get Graph error 130429. `None` lifts the cap.
    pub fn set_rate_limit(&self, per_second: Option<u32>) {
        lock(&self.inner.log).rate_limit = per_second;
    }

    /// Every send in arrival order.
    pub fn sends(&self) -> Vec<RecordedSend> {
        lock(&self.inner.log).sends.clone()
    }

    /// The sends Graph accepted, in arrival order.
    pub fn accepted_sends(&self) -> Vec<RecordedSend> {
        let log = lock(&self.inner.log);
        log.sends.iter().filter(|s| s.accepted()).cloned().collect()
    }

    /// Wamids marked read, in arrival order.
    pub fn read_receipts(&self) -> Vec<String> {
        lock(&self.inner.log).read_receipts.clone()
    }

    /// Every webhook POST made so far, retries included.
    pub fn deliveries(&self) -> Vec<Delivery> {
        lock(&self.inner.log).deliveries.clone()
    }

    /// The largest number of accepted sends whose times fall within any window of this length.
    pub fn max_accepted_in_window(&self, window: Duration) -> usize {
        max_in_window(&self.accepted_times().1, window)
    }

    /// How many sends there were, and when those Graph accepted arrived (without copying them).
    fn accepted_times(&self) -> (usize, Vec<Instant>) {
        let log = lock(&self.inner.log);
        let times = log.sends.iter().filter(|s| s.accepted()).map(|s| s.at);
        (log.sends.len(), times.collect())
    }

    /// Send counters.
    pub fn stats(&self) -> Stats {
        let (sends, times) = self.accepted_times();
        Stats {
            sends,
            accepted: times.len(),
            max_accepted_per_second: max_in_window(&times, Duration::from_secs(1)),
        }
    }

    /// Forgets recorded sends, read receipts and deliveries (settings and faults stay).
    pub fn reset(&self) {
        let mut log = lock(&self.inner.log);
        log.sends.clear();
        log.read_receipts.clear();
        log.deliveries.clear();
    }

    /// A feed of accepted sends as they happen (used by the demo customers).
    pub fn subscribe(&self) -> broadcast::Receiver<RecordedSend> {
        self.inner.accepted.subscribe()
    }

    /// Stores an attachment that `GET /{version}/{id}` and the download URL will serve.
    pub fn add_media(&self, bytes: Vec<u8>, mime_type: &str) -> MediaFile {
        media::add(Arc::from(bytes), mime_type)
    }

    /// Stops serving and stops every background task (pending status webhooks, retries).
    pub fn shutdown(&self) {
        self.inner.cancel.cancel();
    }

    /// Whether [`Simulator::shutdown`] was called.
    pub fn is_shut_down(&self) -> bool {
        self.inner.cancel.is_cancelled()
    }

    pub(crate) fn with_rng<T>(&self, f: impl FnOnce(&mut StdRng) -> T) -> T {
        f(&mut lock(&self.inner.rng))
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    pub(crate) fn cancel_token(&self) -> &CancellationToken {
        &self.inner.cancel
    }

    /// Runs `task` in the background until it ends or the simulator shuts down.
    pub(crate) fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        let cancel = self.inner.cancel.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = cancel.cancelled() => {}
                () = task => {}
            }
        });
    }

    /// Sleeps unless the simulator shuts down first; `false` when it did.
    pub(crate) async fn sleep(&self, d: Duration) -> bool {
        tokio::select! {
            () = self.inner.cancel.cancelled() => false,
            () = tokio::time::sleep(d) => true,
        }
    }

    pub(crate) fn take_fault(&self, to_digits: &str) -> Option<Fault> {
        let mut faults = lock(&self.inner.faults);
        self.with_rng(|rng| faults.take(to_digits, rng))
    }

    /// Records a refused send.
    pub(crate) fn record_refused(&self, to: String, body: Value, code: i64) {
        let mut log = lock(&self.inner.log);
        let callback_data = callback_data(&body);
        log.sends.push(RecordedSend {
            at: Instant::now(),
            to,
            body,
            callback_data,
            outcome: Err(code),
        });
    }

    /// Admits a valid send under the rate limit: records it as accepted with `wamid`, or as
    /// refused with 130429 when the trailing second is full.
    pub(crate) fn admit(&self, to: String, body: Value, wamid: String) -> RecordedSend {
        let mut log = lock(&self.inner.log);
        let now = Instant::now();
        while log
            .recent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
        {
            log.recent.pop_front();
        }
        let full = log
            .rate_limit
            .is_some_and(|cap| log.recent.len() >= cap as usize);
        let send = RecordedSend {
            at: now,
            to,
            callback_data: callback_data(&body),
            body,
            outcome: if full { Err(130429) } else { Ok(wamid) },
        };
        if !full {
            log.recent.push_back(now);
            // Nobody listening is fine: the feed is optional.
            let _ = self.inner.accepted.send(send.clone());
        }
        log.sends.push(send.clone());
        send
    }

    pub(crate) fn record_read(&self, wamid: String) {
        lock(&self.inner.log).read_receipts.push(wamid);
    }

    pub(crate) fn record_delivery(&self, delivery: Delivery) {
        lock(&self.inner.log).deliveries.push(delivery);
    }

    pub(crate) fn webhook_url(&self) -> Option<String> {
        lock(&self.inner.config).webhook_url.clone()
    }
}

fn callback_data(body: &Value) -> Option<String> {
    body.get("biz_opaque_callback_data")
        .and_then(Value::as_str)
        .map(str::to_owned)
}
