//! The command line: `serve`, `demo`, `simulator`, `token create`.

use clap::{Args, Parser, Subcommand};
use tokio_util::sync::CancellationToken;

use crate::{
    app::Application,
    auth::token_hash,
    clock::{Clock, SystemClock},
    config::Config,
    store::{Role, Store, StoreOptions},
};

#[derive(Debug, Parser)]
#[command(
    name = "wadesk",
    version,
    about = "Self-hosted WhatsApp Business support inbox"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve(Box<Config>),
    /// Try it out: the server, a simulated Cloud API and simulated customers, on a fresh SQLite file.
    Demo(crate::demo::DemoArgs),
    /// Run only the Cloud API simulator (for tests and benchmarks across processes).
    Simulator(SimulatorArgs),
    /// Measure throughput, latency, memory and start-up against the simulator (build with
    /// --release first); prints a table and writes target/bench/latest.json.
    Bench(crate::bench::BenchArgs),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage agents' accounts.
    #[command(subcommand)]
    User(UserCommand),
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add an account. The password is read from standard input when it is not a terminal,
    /// otherwise asked for twice.
    Add(AddUser),
}

#[derive(Debug, Args)]
pub struct AddUser {
    /// The login name.
    pub name: String,
    /// Make the account an admin (users, tokens, outbox, webhook journal).
    #[arg(long)]
    pub admin: bool,
    /// `sqlite://path` or `postgres://…`.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://wadesk.db")]
    pub database_url: String,
}

#[derive(Debug, Args)]
pub struct SimulatorArgs {
    /// Listen address.
    #[arg(long, default_value = "127.0.0.1:9090")]
    pub bind: std::net::SocketAddr,
    /// Where to post webhooks (wadesk's /webhooks/whatsapp).
    #[arg(long)]
    pub webhook_url: Option<String>,
    /// HMAC key for the webhooks' X-Hub-Signature-256.
    #[arg(long, env = "WHATSAPP_APP_SECRET")]
    pub app_secret: String,
    /// Bearer token Graph calls must carry.
    #[arg(long, env = "WHATSAPP_TOKEN")]
    pub access_token: String,
    /// Simulated customers writing in (0 for none).
    #[arg(long, default_value_t = 0)]
    pub customers: usize,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token; the token is printed on the last line.
    Create(CreateToken),
}

#[derive(Debug, Args)]
pub struct CreateToken {
    /// A name to recognise the token by (shown as the author of messages it sends).
    #[arg(long)]
    pub name: String,
    /// Allow admin actions (resume sending, webhook journal, delete).
    #[arg(long)]
    pub admin: bool,
    /// `sqlite://path` or `postgres://…`.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://wadesk.db")]
    pub database_url: String,
}

/// A new random API token: `wdk_` and 32 random bytes in hex.
pub fn new_token() -> String {
    crate::auth::new_secret("wdk_")
}

/// Creates a token in `store` and returns it (only its hash is kept).
pub async fn create_token(
    store: &Store,
    name: &str,
    role: Role,
) -> Result<String, crate::store::StoreError> {
    let token = new_token();
    store
        .create_token(name, &token_hash(&token), role, SystemClock.now())
        .await?;
    Ok(token)
}

/// Runs the command line; returns the process exit code.
pub async fn run() -> i32 {
    let _ = dotenvy::dotenv();
    init_tracing();
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(config) => serve(*config).await,
        Command::Demo(args) => match crate::demo::run(args).await {
            Ok(()) => 0,
            Err(e) => fail(&e),
        },
        Command::Simulator(args) => run_simulator(args).await,
        Command::Bench(args) => crate::bench::run(args).await,
        Command::User(UserCommand::Add(args)) => add_user(args).await,
        Command::Token(TokenCommand::Create(args)) => {
            let role = if args.admin { Role::Admin } else { Role::Agent };
            let store = match Store::connect(&args.database_url, &StoreOptions::default()).await {
                Ok(s) => s,
                Err(e) => return fail(&e.to_string()),
            };
            match create_token(&store, &args.name, role).await {
                Ok(token) => {
                    println!(
                        "Created {} token {:?}. It is shown only once:",
                        role.as_str(),
                        args.name
                    );
                    println!("{token}");
                    0
                }
                Err(e) => fail(&e.to_string()),
            }
        }
    }
}

fn read_password() -> Result<String, String> {
    use std::io::{BufRead, IsTerminal};
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ").map_err(|e| e.to_string())?;
        let again = rpassword::prompt_password("Again: ").map_err(|e| e.to_string())?;
        if first != again {
            return Err("the passwords differ".into());
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}

async fn add_user(args: AddUser) -> i32 {
    let password = match read_password() {
        Ok(p) => p,
        Err(e) => return fail(&format!("cannot read the password: {e}")),
    };
    let store = match Store::connect(&args.database_url, &StoreOptions::default()).await {
        Ok(s) => s,
        Err(e) => return fail(&e.to_string()),
    };
    let role = if args.admin { Role::Admin } else { Role::Agent };
    match crate::auth::create_user(&store, &args.name, &password, role, SystemClock.now()).await {
        Ok(_) => {
            println!("Added {} {:?}.", role.as_str(), args.name);
            0
        }
        Err(e) => fail(&e.to_string()),
    }
}

fn fail(message: &str) -> i32 {
    eprintln!("wadesk: {message}");
    1
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

async fn serve(config: Config) -> i32 {
    let app = match Application::build(config).await {
        Ok(app) => app,
        Err(e) => return fail(&e.to_string()),
    };
    tracing::info!(addr = %app.local_addr(), "wadesk listening");
    let cancel = CancellationToken::new();
    spawn_signal_handler(cancel.clone());
    match app.run_until_stopped(cancel).await {
        Ok(()) => 0,
        Err(e) => fail(&e),
    }
}

async fn run_simulator(args: SimulatorArgs) -> i32 {
    let mut config = simulator::Config::new(args.app_secret, args.access_token);
    config.webhook_url = args.webhook_url;
    let sim = match simulator::Simulator::start(args.bind, config).await {
        Ok(sim) => sim,
        Err(e) => return fail(&format!("simulator: {e}")),
    };
    println!(
        "Cloud API simulator on {} (phone number id {})",
        sim.base_url(),
        sim.phone_number_id()
    );
    let cancel = CancellationToken::new();
    let crowd = (args.customers > 0)
        .then(|| simulator::customers::spawn_crowd(sim.clone(), args.customers, cancel.clone()));
    let _ = tokio::signal::ctrl_c().await;
    cancel.cancel();
    sim.shutdown();
    if let Some(crowd) = crowd {
        let _ = crowd.await;
    }
    0
}

fn spawn_signal_handler(cancel: CancellationToken) {
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
        cancel.cancel();
    });
}
