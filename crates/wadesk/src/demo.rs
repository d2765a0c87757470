//! `wadesk demo`: the server on a fresh SQLite file, the Cloud API simulator in place of Meta,
//! and a few simulated customers writing in and answering replies.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use clap::Args;
use tokio_util::sync::CancellationToken;

use crate::{
    app::Application,
    cli::{create_token, new_token},
    config::{Config, Secret},
    store::Role,
};

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Listen address of the inbox.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Where to keep the demo database (default: a new temporary directory).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Number of simulated customers.
    #[arg(long, default_value_t = 4)]
    pub customers: usize,
}

/// Runs the demo until Ctrl-C; returns the exit code.
pub async fn run(args: DemoArgs) -> Result<(), String> {
    let dir = args.data_dir.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("wadesk-demo-{}", uuid::Uuid::now_v7().simple()))
    });
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let app_secret = new_token();
    let access_token = new_token();
    let mut sim_config = simulator::Config::new(app_secret.clone(), access_token.clone());
    sim_config.statuses.delays = [
        Duration::from_millis(800),
        Duration::from_millis(2000),
        Duration::from_millis(4000),
    ];
    let sim = simulator::Simulator::start(SocketAddr::from(([127, 0, 0, 1], 0)), sim_config)
        .await
        .map_err(|e| format!("simulator: {e}"))?;

    let database = format!("sqlite://{}", dir.join("wadesk.db").display());
    let mut config = Config::local(database.clone(), args.bind);
    config.data_dir = dir.join("media");
    config.whatsapp.token = Some(Secret::new(access_token));
    config.whatsapp.phone_number_id = Some(sim.phone_number_id());
    config.whatsapp.app_secret = Some(Secret::new(app_secret));
    config.whatsapp.verify_token = Some(Secret::new(new_token()));
    config.whatsapp.api_base_url = sim.base_url();
    let app = Application::build(config)
        .await
        .map_err(|e| e.to_string())?;
    let addr = app.local_addr();
    sim.set_webhook_url(format!("http://{addr}/webhooks/whatsapp"));
    let store = app.state().store.clone();
    let token = create_token(&store, "demo", Role::Admin)
        .await
        .map_err(|e| e.to_string())?;
    let password = crate::auth::new_secret("")[..16].to_owned();
    crate::auth::create_user(
        &store,
        "admin",
        &password,
        Role::Admin,
        crate::clock::Clock::now(&crate::clock::SystemClock),
    )
    .await
    .map_err(|e| e.to_string())?;

    let cancel = CancellationToken::new();
    let running = tokio::spawn(app.run_until_stopped(cancel.clone()));
    // Every customer has written once before the instructions show: the inbox has
    // conversations, and replies to them are inside the 24-hour window.
    let numbers = match simulator::customers::first_words(&sim, args.customers).await {
        Ok(numbers) => numbers,
        Err(e) => {
            cancel.cancel();
            return Err(format!("simulated customers: {e}"));
        }
    };
    for _ in 0..200 {
        if matches!(store.journal_counts().await, Ok((0, _))) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    println!();
    println!(
        "  wadesk demo — WhatsApp inbox with a simulated Cloud API and {} customers",
        args.customers
    );
    println!();
    println!("  Inbox:      http://{addr}/");
    println!("  Sign in:    admin / {password}");
    println!("  API:        http://{addr}/api/v1/   (health: http://{addr}/api/v1/health)");
    println!("  Database:   {database}");
    println!("  Simulator:  {}", sim.base_url());
    println!();
    println!("  Try:");
    println!("    curl -s -H 'Authorization: Bearer {token}' http://{addr}/api/v1/conversations");
    println!(
        "    curl -s -H 'Authorization: Bearer {token}' -H 'Content-Type: application/json' \\"
    );
    let to = numbers
        .first()
        .map_or_else(|| "+447700900123".to_owned(), |wa_id| format!("+{wa_id}"));
    println!(
        "         -d '{{\"to\": \"{to}\", \"type\": \"text\", \"text\": {{\"body\": \"Hi!\"}}}}' \\"
    );
    println!("         http://{addr}/api/v1/messages");
    println!();
    println!("  Admin API token (shown once):");
    println!("{token}");
    println!();

    let crowd = simulator::customers::spawn_crowd(sim.clone(), args.customers, cancel.clone());
    let stop = cancel.clone();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        stop.cancel();
    });
    let result = running
        .await
        .unwrap_or_else(|e| Err(format!("the inbox stopped: {e}")));
    cancel.cancel();
    sim.shutdown();
    let _ = crowd.await;
    result
}
