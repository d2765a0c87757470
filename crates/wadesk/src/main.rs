#[tokio::main]
async fn main() {
    std::process::exit(wadesk::cli::run().await);
}
