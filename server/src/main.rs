//! The command line of factmark-server.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use axum::http::HeaderName;
use clap::Parser;
use factmark_server::{AllowedOrigins, App, Config, DatabaseLocation, RateLimit};

/// W3C Web Annotation Protocol endpoint for factmark: stores the flags readers put on news
/// articles, in SQLite (default) or PostgreSQL.
#[derive(Debug, Parser)]
#[command(name = "factmark-server", version, about, long_about = None)]
struct Args {
    /// Address and port to listen on. Port 0 picks a free port (the chosen address is printed).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR:PORT")]
    listen: SocketAddr,

    /// Where annotations are stored: a SQLite file path (created on first run; also
    /// sqlite://PATH) or a PostgreSQL URL (postgres://user:pass@host/db). Several servers may
    /// share one PostgreSQL database.
    #[arg(long, default_value = "factmark.sqlite3", value_name = "PATH|URL")]
    database: String,

    /// Path of the annotation container (the endpoint the widget's data-endpoint points at).
    #[arg(long, default_value = "/annotations/", value_name = "PATH")]
    container_path: String,

    /// Public base URL of this server, used for annotation IRIs and Location headers, e.g.
    /// https://annotations.news.example when behind a reverse proxy. Without it IRIs are
    /// http://<Host header>/...
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,

    /// Origin allowed to use the endpoint from a browser (CORS), e.g. https://news.example.
    /// Repeat for several origins; "*" allows any origin.
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    allow_origins: Vec<String>,

    /// Directory served at / (the built widget and the demo page; index.html for directories).
    #[arg(long = "static", value_name = "DIR")]
    static_dir: Option<PathBuf>,

    /// Largest request body accepted, in bytes; larger ones get 413.
    #[arg(long, default_value_t = 64 * 1024, value_name = "BYTES")]
    max_body_bytes: usize,

    /// Requests per second allowed per client IP address on the annotation endpoint, on
    /// average (token bucket). Over it, requests get 429 with Retry-After. 0 disables the limit.
    #[arg(long, default_value_t = 20.0, value_name = "PER_SECOND")]
    rate_limit: f64,

    /// Requests a client may make at once before the per-second limit applies.
    #[arg(long, default_value_t = 100, value_name = "REQUESTS")]
    rate_burst: u32,

    /// Take the client address for rate limiting from this header (last address in it), for
    /// use behind a reverse proxy that sets it, e.g. X-Forwarded-For or X-Real-IP. Only set
    /// this when a proxy you control always sets the header.
    #[arg(long, value_name = "HEADER")]
    client_ip_header: Option<String>,

    /// Annotations per page when the client does not ask for a size (?limit=).
    #[arg(long, default_value_t = 100, value_name = "N")]
    page_size: u32,

    /// Largest page size a client may ask for.
    #[arg(long, default_value_t = 1000, value_name = "N")]
    max_page_size: u32,

    /// Memory for listing pages cached in this process, in MiB (SQLite only: its writes all go
    /// through this process, which drops changed pages before acknowledging a write). 0
    /// disables the cache.
    #[arg(long, default_value_t = 64, value_name = "MIB")]
    page_cache_mb: usize,
}

impl Args {
    fn into_config(self) -> anyhow::Result<Config> {
        let database = DatabaseLocation::parse(&self.database).map_err(anyhow::Error::msg)?;
        let allow_origins =
            AllowedOrigins::parse(&self.allow_origins).map_err(anyhow::Error::msg)?;
        let rate_limit = (self.rate_limit != 0.0).then_some(RateLimit {
            per_second: self.rate_limit,
            burst: self.rate_burst,
        });
        let client_ip_header = self
            .client_ip_header
            .map(|name| HeaderName::try_from(name.as_str()))
            .transpose()
            .context("--client-ip-header: not a valid header name")?;
        Ok(Config {
            database,
            public_url: self.public_url,
            container_path: self.container_path,
            allow_origins,
            static_dir: self.static_dir,
            max_body_bytes: self.max_body_bytes,
            rate_limit,
            client_ip_header,
            page_size: self.page_size,
            max_page_size: self.max_page_size,
            page_cache_bytes: self.page_cache_mb.saturating_mul(1024 * 1024),
        })
    }
}

#[tokio::main]
async fn main() {
    if let Err(err) = run().await {
        eprintln!("factmark-server: error: {err:#}");
        std::process::exit(1);
    }
}

async fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "factmark_server=info,warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();

    let args = Args::parse();
    let listen = args.listen;
    let config = args.into_config()?;
    let database = config.database.describe();
    let container = config.container_path.clone();
    let origins = config.allow_origins.clone();

    let app = App::build(config).await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let address = listener.local_addr()?;
    // Tests and the benchmark read this line to find the port.
    say(&format!(
        "factmark-server listening on http://{address} (container {container}, {database})"
    ));
    if origins.is_empty() {
        say("factmark-server: no --allow-origin given; browsers on other origins cannot use the endpoint");
    }
    app.serve(listener, shutdown_signal()).await?;
    say("factmark-server stopped");
    Ok(())
}

/// A status line on stdout. Unlike println!, a closed stdout (the reader went away) is not a
/// reason to panic mid-shutdown.
fn say(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
