//! The dispatcher of one business number: claims due sends (oldest per recipient), paces them
//! on a schedule, calls Graph, and hands accepted / failed sends to the recorder; retries and
//! pauses it records itself.

use std::{
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, mpsc};
use tokio_util::sync::CancellationToken;
use whatsapp::{CallError, GraphClient, OutgoingContent, SendRequest, send::ReplyContext};

use super::{
    outcomes::{Ended, Outcome, Recorder},
    policy::{Decision, decide},
    rate::{Pacer, Start, Ticket, Window},
};
use crate::{
    clock::Clock,
    config::{OutboxConfig, Secret},
    domain::{MessageError, MessageKind, Timestamp},
    realtime::{Bus, Event},
    store::{ClaimedSend, Pause, Store, StoreError},
};

pub struct Dispatcher {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub bus: Bus,
    pub graph: GraphClient,
    pub token: Secret,
    pub phone_number_id: String,
    pub config: OutboxConfig,
    pub owner: String,
    pub wake: Arc<Notify>,
    /// Set while this instance leads dispatch for the number.
    pub leading: Arc<AtomicBool>,
    paused: AtomicBool,
}

/// How often a standby instance tries to take the lead, and the leader checks it still holds.
const LEAD_RETRY: Duration = Duration::from_secs(1);

/// Resolves when leadership is lost.
async fn lost(lead: &mut crate::store::Leadership) {
    loop {
        tokio::time::sleep(LEAD_RETRY).await;
        if !lead.holds().await {
            return;
        }
    }
}

/// Sends claimed at once: a quarter second of sends when paced (a claimed send waits at most
/// two sets, far within its lease), at most one per permit; four per permit when unpaced (a
/// claim is a round trip or two; the calls are what should be waiting).
fn claim_set(per_second: u32, concurrency: usize) -> usize {
    let concurrency = concurrency.max(1);
    if per_second == 0 {
        return 4 * concurrency;
    }
    usize::try_from(per_second / 4)
        .unwrap_or(usize::MAX)
        .clamp(1, concurrency)
}

/// The one-second window of a dispatch, shared with its calls, and the dispatch's clock
/// (milliseconds since it started, as the pacer and the window count time).
#[derive(Clone)]
struct SharedWindow {
    window: Arc<Mutex<Window>>,
    ended: Arc<Notify>,
    start: Instant,
}

impl SharedWindow {
    fn new(per_second: u32) -> Self {
        Self {
            window: Arc::new(Mutex::new(Window::new(per_second))),
            ended: Arc::new(Notify::new()),
            start: Instant::now(),
        }
    }

    fn now_ms(&self) -> f64 {
        self.start.elapsed().as_secs_f64() * 1000.0
    }

    /// How long until `at_ms`.
    fn until(&self, at_ms: f64) -> Duration {
        Duration::from_secs_f64((at_ms - self.now_ms()).max(0.0) / 1000.0)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Window> {
        self.window.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Until the window lets the next send start.
    async fn wait(&self) {
        loop {
            let ended = self.ended.notified();
            let start = self.lock().start(self.now_ms());
            match start {
                Start::Now => return,
                Start::At(at) => tokio::time::sleep(self.until(at)).await,
                Start::AfterAnEnd(latest) => {
                    tokio::select! {
                        _ = ended => {}
                        _ = tokio::time::sleep(self.until(latest)) => {}
                    }
                }
            }
        }
    }

    fn begin(&self) -> Started {
        Started {
            ticket: self.lock().begin(self.now_ms()),
            shared: self.clone(),
        }
    }
}

/// A call's place in the window; dropping it records the call's end.
struct Started {
    shared: SharedWindow,
    ticket: Ticket,
}

impl Drop for Started {
    fn drop(&mut self) {
        let now_ms = self.shared.now_ms();
        self.shared.lock().end(self.ticket, now_ms);
        self.shared.ended.notify_one();
    }
}

/// A Graph call in flight: its permit and its place in the window, both given back when the
/// call is over.
struct Call {
    _permit: OwnedSemaphorePermit,
    _started: Started,
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// The Graph request for a claimed send.
fn request_of(send: &ClaimedSend) -> Result<SendRequest, String> {
    let m = &send.message;
    let content = match m.kind {
        MessageKind::Text => OutgoingContent::Text {
            text: serde_json::from_value(m.content.clone()).map_err(|e| e.to_string())?,
        },
        MessageKind::Template => OutgoingContent::Template {
            template: serde_json::from_value(m.content.clone()).map_err(|e| e.to_string())?,
        },
        other => {
            return Err(format!(
                "sending {} messages is not supported",
                other.as_str()
            ));
        }
    };
    let mut req = SendRequest::new(send.recipient.clone(), content);
    req.context = m
        .reply_to
        .clone()
        .map(|message_id| ReplyContext { message_id });
    req.biz_opaque_callback_data = Some(m.id.clone());
    Ok(req)
}

/// The error shown on a message that failed at Graph.
fn error_of(e: &CallError) -> MessageError {
    match e {
        CallError::Graph { error, .. } => MessageError {
            code: error.code,
            title: error.title().to_owned(),
            detail: error.details().map(str::to_owned),
        },
        CallError::Http { status, body } => MessageError {
            code: i64::from(*status),
            title: format!("HTTP {status} from Graph"),
            detail: Some(body.clone()),
        },
        other => MessageError {
            code: -1,
            title: other.to_string(),
            detail: None,
        },
    }
}

impl Dispatcher {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        bus: Bus,
        graph: GraphClient,
        token: Secret,
        phone_number_id: String,
        config: OutboxConfig,
        owner: String,
        wake: Arc<Notify>,
        leading: Arc<AtomicBool>,
    ) -> Self {
        Self {
            store,
            clock,
            bus,
            graph,
            token,
            phone_number_id,
            config,
            owner,
            wake,
            leading,
            paused: AtomicBool::new(false),
        }
    }

    /// Dispatches while this instance leads its business number: one dispatcher per number
    /// across all instances, so the rate limit holds cluster-wide. Another instance takes over
    /// within about a second of the leader's death.
    pub async fn run(self: Arc<Self>, cancel: CancellationToken) {
        let mut lead = self
            .store
            .leadership(&format!("dispatch:{}", self.phone_number_id));
        while !cancel.is_cancelled() {
            match lead.acquire().await {
                Ok(true) => {
                    tracing::info!(phone_number_id = %self.phone_number_id, "dispatching");
                    self.leading.store(true, Ordering::SeqCst);
                    // The dispatch ends on a token of its own, so that it gives back the sends
                    // it claimed and has not started, whether the instance stops or loses the
                    // lock (the next leader would otherwise wait for their leases).
                    let stop = cancel.child_token();
                    let dispatch = self.clone().dispatch(stop.clone());
                    tokio::pin!(dispatch);
                    tokio::select! {
                        () = &mut dispatch => {}
                        () = lost(&mut lead) => {
                            tracing::warn!(phone_number_id = %self.phone_number_id, "lost the dispatch lock; standing by");
                            stop.cancel();
                            dispatch.await;
                        }
                    }
                    self.leading.store(false, Ordering::SeqCst);
                    lead.release().await;
                }
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "outbox: cannot take the dispatch lock"),
            }
            // Standing by: try again a second later (not on every local wake-up).
            tokio::select! {
                _ = cancel.cancelled() => {}
                _ = tokio::time::sleep(LEAD_RETRY) => {}
            }
        }
    }

    async fn dispatch(self: Arc<Self>, cancel: CancellationToken) {
        self.lift_pause_if_token_changed().await;
        let window = SharedWindow::new(self.config.rate_per_second);
        let mut pacer = Pacer::new(self.config.rate_per_second, window.now_ms());
        let in_flight = self.config.calls_in_flight();
        let permits = Arc::new(Semaphore::new(in_flight));
        let recorder = Recorder::spawn(self.store.clone(), self.bus.clone(), self.clock.clone());
        // Claims overlap pacing: a claimer keeps up to two sets of sends waiting, so a
        // claim's round trip never delays a send's slot.
        let set = claim_set(self.config.rate_per_second, in_flight);
        let (queue, mut claimed) = mpsc::channel(2 * set);
        let stop = cancel.child_token();
        let _stop_claimer = stop.clone().drop_guard();
        tokio::spawn(self.clone().claim(queue, set, stop));
        loop {
            let Ok(permit) = permits.clone().acquire_owned().await else {
                return;
            };
            // Nothing claimed yet: the wait for work that follows is not lateness to make up.
            let idle = claimed.is_empty();
            let send = tokio::select! {
                _ = cancel.cancelled() => None,
                send = claimed.recv() => send,
            };
            let Some(send) = send else {
                // Cancelled: give back what waits so a restart need not wait for leases.
                claimed.close();
                while let Some(send) = claimed.recv().await {
                    self.release(&send).await;
                }
                return;
            };
            if self.paused.load(Ordering::SeqCst) {
                self.release(&send).await;
                continue;
            }
            window.wait().await;
            if idle {
                pacer.resume(window.now_ms());
            }
            while let Err(wait) = pacer.try_take(window.now_ms()) {
                tokio::time::sleep(wait).await;
            }
            if cancel.is_cancelled() {
                // Stopped while pacing: another instance may lead by now.
                self.release(&send).await;
                continue;
            }
            let call = Call {
                _permit: permit,
                _started: window.begin(),
            };
            let (this, recorder) = (self.clone(), recorder.clone());
            tokio::spawn(async move { this.attempt(send, &recorder, call).await });
        }
    }

    /// Claims due sends into `queue` a set at a time while there is room for a whole set,
    /// until `stop`.
    async fn claim(
        self: Arc<Self>,
        queue: mpsc::Sender<ClaimedSend>,
        set: usize,
        stop: CancellationToken,
    ) {
        while !stop.is_cancelled() {
            let wait = match self.store.pause_of(&self.phone_number_id).await {
                Ok(Some(_)) => Some(Duration::from_secs(5)),
                Ok(None) => {
                    self.paused.store(false, Ordering::SeqCst);
                    None
                }
                Err(e) => {
                    tracing::error!(error = %e, "outbox: cannot read pause state");
                    Some(Duration::from_secs(1))
                }
            };
            if let Some(wait) = wait {
                self.idle(&stop, wait).await;
                continue;
            }
            let room = tokio::select! {
                _ = stop.cancelled() => return,
                room = queue.reserve_many(set) => room,
            };
            let Ok(room) = room else {
                return;
            };
            let now = self.clock.now();
            let lease_until = now.plus_millis(millis(self.config.lease()));
            let limit = i64::try_from(set).unwrap_or(1);
            let batch = match self
                .store
                .claim_sends(&self.phone_number_id, &self.owner, now, lease_until, limit)
                .await
            {
                Ok(b) => b,
                Err(e) => {
                    tracing::error!(error = %e, "outbox: claim failed");
                    self.idle(&stop, Duration::from_secs(1)).await;
                    continue;
                }
            };
            if batch.is_empty() {
                drop(room);
                let wait = match self.store.next_send_due(&self.phone_number_id).await {
                    Ok(Some(due)) => Duration::from_millis(
                        u64::try_from((due.0 - now.0).clamp(1, 1000)).unwrap_or(1000),
                    ),
                    _ => Duration::from_secs(1),
                };
                self.idle(&stop, wait).await;
                continue;
            }
            for (slot, send) in room.zip(batch) {
                slot.send(send);
            }
        }
    }

    async fn idle(&self, cancel: &CancellationToken, wait: Duration) {
        tokio::select! {
            _ = cancel.cancelled() => {}
            _ = self.wake.notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }

    /// A send restarted with a different token than the one that was rejected: try again.
    async fn lift_pause_if_token_changed(&self) {
        if let Ok(Some(pause)) = self.store.pause_of(&self.phone_number_id).await
            && pause.token_fingerprint.as_deref() != Some(self.token.fingerprint().as_str())
        {
            tracing::info!(phone_number_id = %self.phone_number_id, "token changed since the pause; resuming");
            if let Err(e) = self.store.resume_sending(&self.phone_number_id).await {
                tracing::error!(error = %e, "outbox: cannot lift pause");
            }
        }
    }

    /// Gives a claimed send back without counting an attempt.
    async fn release(&self, send: &ClaimedSend) {
        if let Err(e) = self
            .store
            .reschedule_send(send.outbox_id, self.clock.now(), None, false, false)
            .await
        {
            tracing::error!(error = %e, "outbox: release failed; the lease will expire");
        }
    }

    /// Makes the `call`; how it ended is recorded after the call is over (its permit given
    /// back), so a slow commit does not hold up sends.
    async fn attempt(&self, send: ClaimedSend, recorder: &Recorder, call: Call) {
        let result = match request_of(&send) {
            Ok(req) => {
                let result = self
                    .graph
                    .send_message(self.token.expose(), &self.phone_number_id, &req)
                    .await;
                drop(call);
                result
            }
            Err(reason) => {
                let error = MessageError {
                    code: -1,
                    title: reason,
                    detail: None,
                };
                let failed = Outcome::Failed(error);
                return self.log(self.end(recorder, send, failed).await);
            }
        };
        let outcome = match result {
            Ok(response) => match response.wamid() {
                Some(wamid) => {
                    let accepted = Outcome::Accepted {
                        wamid: wamid.to_owned(),
                    };
                    self.end(recorder, send, accepted).await
                }
                None => {
                    let e =
                        CallError::Ambiguous("Graph accepted the send without a message id".into());
                    self.failed_call(recorder, send, &e).await
                }
            },
            Err(e) => self.failed_call(recorder, send, &e).await,
        };
        self.log(outcome);
    }

    fn log(&self, outcome: Result<(), String>) {
        if let Err(e) = outcome {
            tracing::error!(error = %e, "outbox: could not record a send outcome; the lease will expire and it is retried");
        }
    }

    /// Records how a send ended (its message's state, its outbox row gone).
    async fn end(
        &self,
        recorder: &Recorder,
        send: ClaimedSend,
        outcome: Outcome,
    ) -> Result<(), String> {
        let ended = Ended {
            send,
            outcome,
            at: self.clock.now(),
        };
        recorder.record(ended).await.map_err(|e| e.to_string())
    }

    async fn failed_call(
        &self,
        recorder: &Recorder,
        send: ClaimedSend,
        e: &CallError,
    ) -> Result<(), String> {
        let decision = decide(
            e,
            send.attempts,
            send.pair_limited,
            &self.config,
            rand::random::<f64>(),
        );
        tracing::debug!(message_id = %send.message.id, error = %e, ?decision, "send failed");
        let now = self.clock.now();
        match decision {
            Decision::Retry {
                after,
                pair_limited,
            }
            | Decision::Reconcile {
                after,
                pair_limited,
            } => {
                let at = now.plus_millis(millis(after));
                self.store
                    .reschedule_send(send.outbox_id, at, Some(&e.to_string()), true, pair_limited)
                    .await
                    .map_err(|e| e.to_string())
            }
            Decision::Fail => self.end(recorder, send, Outcome::Failed(error_of(e))).await,
            Decision::Pause => self.pause(&send, e, now).await.map_err(|e| e.to_string()),
        }
    }

    /// Graph refused the token: sending stops (nothing counts as an attempt) until an admin
    /// resumes or the token changes.
    async fn pause(
        &self,
        send: &ClaimedSend,
        e: &CallError,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let reason = format!("Graph rejected the access token: {e}");
        let first = !self.paused.swap(true, Ordering::SeqCst);
        self.store
            .pause_sending(&Pause {
                phone_number_id: self.phone_number_id.clone(),
                code: e.code(),
                reason: reason.clone(),
                token_fingerprint: Some(self.token.fingerprint()),
                paused_at: now.0,
            })
            .await?;
        self.store
            .reschedule_send(send.outbox_id, now, Some(&e.to_string()), false, false)
            .await?;
        if first {
            tracing::error!(phone_number_id = %self.phone_number_id, %reason, "sending paused");
            let paused = [Event::OutboxPaused {
                phone_number_id: self.phone_number_id.clone(),
                reason,
            }];
            self.bus.publish(&self.store, &paused, now).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_paced_claim_holds_a_quarter_second_of_sends_at_most_one_per_permit() {
        assert_eq!(claim_set(80, 32), 20);
        assert_eq!(claim_set(1000, 32), 32);
        assert_eq!(
            claim_set(1, 32),
            1,
            "a slow rate never claims more than it sends soon"
        );
        assert_eq!(claim_set(0, 32), 128, "unpaced: four per permit");
        assert_eq!(claim_set(80, 0), 1);
    }
}
