//! Building and running the application: the store, the HTTP listener, and the background
//! tasks (journal writer, webhook processor, outbox dispatcher), all stopped by one
//! cancellation token.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use tokio::{net::TcpListener, sync::Notify, task::JoinSet};
use tokio_util::sync::CancellationToken;
use whatsapp::GraphClient;

use crate::{
    clock::{Clock, SystemClock},
    config::Config,
    http,
    ingest::{JournalWriter, Processor},
    outbox::{Dispatcher, Outbox},
    realtime::Bus,
    state::AppState,
    store::{Store, StoreOptions},
};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Config(String),
    #[error("database: {0}")]
    Store(#[from] crate::store::StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("HTTP client: {0}")]
    Client(String),
}

/// A built application, listening but not yet serving.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    ingest_wake: Arc<Notify>,
    outbox_wake: Arc<Notify>,
    instance: String,
}

impl Application {
    pub async fn build(config: Config) -> Result<Self, StartError> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    pub async fn build_with_clock(
        config: Config,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StartError> {
        config.check().map_err(StartError::Config)?;
        let options = StoreOptions {
            max_connections: config.db_pool_size,
            statement_timeout: Duration::from_secs(config.db_statement_timeout_secs.max(1)),
            ..StoreOptions::default()
        };
        let store = Store::connect(&config.database_url, &options).await?;
        let listener = TcpListener::bind(config.bind)
            .await
            .map_err(|source| StartError::Bind {
                addr: config.bind,
                source,
            })?;
        let graph = GraphClient::new(
            &config.whatsapp.api_base_url,
            &config.whatsapp.api_version,
            Duration::from_secs(config.whatsapp.graph_timeout_secs.max(1)),
        )
        .map_err(|e| StartError::Client(e.to_string()))?;
        let bus = Bus::new();
        let ingest_wake = Arc::new(Notify::new());
        let outbox_wake = Arc::new(Notify::new());
        let journal = JournalWriter::spawn(store.clone(), ingest_wake.clone());
        let outbox = Outbox {
            store: store.clone(),
            clock: clock.clone(),
            bus: bus.clone(),
            wake: outbox_wake.clone(),
            phone_number_id: config.whatsapp.phone_number_id.clone(),
        };
        let state = AppState {
            store,
            config: Arc::new(config),
            clock,
            bus,
            journal,
            outbox,
            graph,
            throttle: Arc::new(crate::auth::Throttle::default()),
            dispatching: Arc::default(),
        };
        let instance = format!("{}-{}", std::process::id(), uuid::Uuid::now_v7().simple());
        Ok(Self {
            listener,
            state,
            ingest_wake,
            outbox_wake,
            instance,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| self.state.config.bind)
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `cancel` fires or a part stops; says which part stopped.
    pub async fn run_until_stopped(self, cancel: CancellationToken) -> Result<(), String> {
        let Self {
            listener,
            state,
            ingest_wake,
            outbox_wake,
            instance,
        } = self;
        let mut tasks: JoinSet<&'static str> = JoinSet::new();
        let processor = Processor {
            store: state.store.clone(),
            journal: state.journal.clone(),
            bus: state.bus.clone(),
            clock: state.clock.clone(),
            wake: ingest_wake,
            max_attempts: state.config.ingest_max_attempts,
            contended_until: Default::default(),
        };
        let c = cancel.clone();
        tasks.spawn(async move {
            processor.run(c).await;
            "webhook processor"
        });
        match (
            &state.config.whatsapp.token,
            &state.config.whatsapp.phone_number_id,
        ) {
            (Some(token), Some(pnid)) => {
                let dispatcher = Arc::new(Dispatcher::new(
                    state.store.clone(),
                    state.clock.clone(),
                    state.bus.clone(),
                    state.graph.clone(),
                    token.clone(),
                    pnid.clone(),
                    state.config.outbox.clone(),
                    instance.clone(),
                    outbox_wake,
                    state.dispatching.clone(),
                ));
                let c = cancel.clone();
                tasks.spawn(async move {
                    dispatcher.run(c).await;
                    "outbox dispatcher"
                });
            }
            _ => tracing::warn!(
                "WHATSAPP_TOKEN or WHATSAPP_PHONE_NUMBER_ID not set: messages queue but are not sent"
            ),
        }
        match state.store.listen_for_events().await {
            Ok(Some(mut listener)) => {
                let (bus, c) = (state.bus.clone(), cancel.clone());
                tasks.spawn(async move {
                    loop {
                        tokio::select! {
                            _ = c.cancelled() => break,
                            received = listener.recv() => match received {
                                Ok(_) => bus.committed(),
                                Err(e) => {
                                    tracing::warn!(error = %e, "event listener: reconnecting");
                                    tokio::time::sleep(Duration::from_secs(1)).await;
                                }
                            },
                        }
                    }
                    "event listener"
                });
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for other instances' events; relying on polling")
            }
        }
        let router = http::router(state.clone());
        let c = cancel.clone();
        tasks.spawn(async move {
            let service = router.into_make_service_with_connect_info::<SocketAddr>();
            let serve = axum::serve(listener, service)
                .with_graceful_shutdown(async move { c.cancelled().await });
            if let Err(e) = serve.await {
                tracing::error!(error = %e, "HTTP server failed");
            }
            "HTTP server"
        });
        let first = tasks.join_next().await;
        let requested = cancel.is_cancelled();
        cancel.cancel();
        while tasks.join_next().await.is_some() {}
        state.store.close().await;
        match first {
            Some(Ok(_)) | None if requested => Ok(()),
            Some(Ok(name)) => Err(format!("the {name} stopped unexpectedly")),
            Some(Err(e)) => Err(format!("a task failed: {e}")),
            None => Ok(()),
        }
    }
}
