//! factmark-server: a W3C Web Annotation Protocol endpoint for factmark.
//!
//! [`App::build`] opens the store and builds the router; [`App::serve`] runs it on a listener
//! until a shutdown signal, then finishes queued writes and closes the database. Tests start it
//! on `127.0.0.1:0` in-process; `main.rs` is only the command line around it.

pub mod annotation;
pub mod cors;
pub mod db;
pub mod error;
pub mod protocol;
pub mod ratelimit;
pub mod routes;
pub mod stored;

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use axum::http::HeaderName;
use axum::routing::{any, get};
use axum::Router;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

pub use cors::AllowedOrigins;
pub use db::{DatabaseLocation, Store};
pub use ratelimit::RateLimit;

/// Everything the server can be told; `main.rs` fills it from the command line.
#[derive(Debug, Clone)]
pub struct Config {
    pub database: DatabaseLocation,
    /// Public base URL (scheme, host, optional path prefix) used to build annotation IRIs.
    /// Without it, IRIs use `http://` and the request's Host.
    pub public_url: Option<String>,
    /// Path of the annotation container; starts and ends with `/`.
    pub container_path: String,
    pub allow_origins: AllowedOrigins,
    pub static_dir: Option<PathBuf>,
    pub max_body_bytes: usize,
    /// None disables rate limiting.
    pub rate_limit: Option<RateLimit>,
    pub client_ip_header: Option<HeaderName>,
    pub page_size: u32,
    pub max_page_size: u32,
    /// Memory for cached listing pages with SQLite; 0 disables the cache.
    pub page_cache_bytes: usize,
}

impl Config {
    /// The defaults of the command line, for the given database.
    pub fn new(database: DatabaseLocation) -> Config {
        Config {
            database,
            public_url: None,
            container_path: "/annotations/".into(),
            allow_origins: AllowedOrigins::default(),
            static_dir: None,
            max_body_bytes: 64 * 1024,
            rate_limit: Some(RateLimit {
                per_second: 20.0,
                burst: 100,
            }),
            client_ip_header: None,
            page_size: 100,
            max_page_size: 1000,
            page_cache_bytes: 64 * 1024 * 1024,
        }
    }

    fn check(&self) -> anyhow::Result<()> {
        let path = &self.container_path;
        anyhow::ensure!(
            path.len() > 2 && path.starts_with('/') && path.ends_with('/'),
            "--container-path {path:?}: must start and end with '/' and not be '/' itself"
        );
        anyhow::ensure!(
            !path.contains(['{', '}', '*', '?', '#', ' ', '%']),
            "--container-path {path:?}: use plain path segments"
        );
        if let Some(url) = &self.public_url {
            anyhow::ensure!(
                (url.starts_with("http://") || url.starts_with("https://"))
                    && !url.contains(['?', '#', ' ']),
                "--public-url {url:?}: expected an http(s) URL without query or fragment"
            );
        }
        if let Some(dir) = &self.static_dir {
            anyhow::ensure!(dir.is_dir(), "--static {}: not a directory", dir.display());
        }
        anyhow::ensure!(
            self.max_body_bytes >= 1024,
            "--max-body-bytes must be at least 1024"
        );
        anyhow::ensure!(
            self.page_size >= 1 && self.page_size <= self.max_page_size,
            "--page-size must be between 1 and {}",
            self.max_page_size
        );
        if let Some(limit) = self.rate_limit {
            anyhow::ensure!(
                limit.per_second > 0.0 && limit.per_second.is_finite() && limit.burst >= 1,
                "--rate-limit and --rate-burst must be positive (use --rate-limit 0 to disable)"
            );
        }
        Ok(())
    }
}

/// How long a stopping server waits for open requests.
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

pub struct App {
    router: Router,
    store: Store,
}

impl App {
    /// Opens (creating and migrating) the database and builds the router.
    pub async fn build(config: Config) -> anyhow::Result<App> {
        config.check()?;
        let store = Store::open(&config.database, config.page_cache_bytes)
            .await
            .with_context(|| format!("opening {}", config.database.describe()))?;
        let router = router(&config, store.clone());
        Ok(App { router, store })
    }

    pub fn router(&self) -> Router {
        self.router.clone()
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Serves until `shutdown` resolves, lets requests in flight finish (at most
    /// [`SHUTDOWN_GRACE`]), then closes the store; queued writes are committed first.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stopping, mut stop_seen) = tokio::sync::watch::channel(false);
        let signal = async move {
            shutdown.await;
            let _ = stopping.send(true);
        };
        let service = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        let serving = axum::serve(listener, service)
            .with_graceful_shutdown(signal)
            .into_future();
        // A client that keeps a request open must not keep the server from stopping.
        let grace = async move {
            let _ = stop_seen.wait_for(|stopping| *stopping).await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        };
        let served = tokio::select! {
            served = serving => served,
            () = grace => {
                tracing::warn!("requests still open after {SHUTDOWN_GRACE:?}; stopping anyway");
                Ok(())
            }
        };
        self.store.close().await;
        served.context("serving HTTP")
    }
}

fn router(config: &Config, store: Store) -> Router {
    let state = Arc::new(routes::AppState {
        store,
        container_path: config.container_path.clone(),
        public_base: config
            .public_url
            .as_ref()
            .map(|u| u.trim_end_matches('/').to_string()),
        max_body_bytes: config.max_body_bytes,
        page_size: config.page_size,
        max_page_size: config.max_page_size,
    });

    let container = config.container_path.as_str();
    let mut api = Router::new()
        .route(container, any(routes::container))
        .route(&format!("{container}{{slug}}"), any(routes::item));
    if let Some(limit) = config.rate_limit {
        let limits = Arc::new(ratelimit::ClientLimiter {
            limiter: ratelimit::RateLimiter::new(limit),
            ip_header: config.client_ip_header.clone(),
        });
        api = api.route_layer(axum::middleware::from_fn_with_state(
            limits,
            ratelimit::limit,
        ));
    }

    let mut app = api
        .route(
            container.trim_end_matches('/'),
            any(routes::container_redirect),
        )
        .route("/healthz", get(routes::health));
    app = match &config.static_dir {
        Some(dir) => {
            let not_found =
                axum::handler::HandlerWithoutStateExt::into_service(routes::not_found_fallback);
            app.fallback_service(
                ServeDir::new(dir)
                    .append_index_html_on_directories(true)
                    .not_found_service(not_found),
            )
        }
        None => app
            .route("/", get(routes::index))
            .fallback(routes::not_found_fallback),
    };
    app = app.method_not_allowed_fallback(routes::method_not_allowed_fallback);

    let (nosniff_name, nosniff_value) = routes::NOSNIFF;
    // Outermost last: CORS must also decorate 429s and errors (so the widget can read them),
    // and nosniff every response, preflight refusals included.
    app.with_state(state)
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(config.allow_origins.clone()),
            cors::cors,
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            nosniff_name,
            nosniff_value,
        ))
}
