//! Test support: a real server on 127.0.0.1:0 over a real database, and factmark annotations
//! built with factmark-core.
#![allow(dead_code)] // each test binary uses a different part of this module

use std::path::PathBuf;
use std::time::Duration;

use factmark_core::model::{
    new_id, rfc3339_from_unix_ms, Annotation, Flag, NewFlag, Selectors, TextPositionSelector,
    TextQuoteSelector,
};
use factmark_server::{App, Config, DatabaseLocation};
use serde_json::Value;
use sqlx::Connection;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const ARTICLE: &str = "https://news.example/africa/mali-algeria-escalation";
pub const ANNO_TYPE: &str = r#"application/ld+json; profile="http://www.w3.org/ns/anno.jsonld""#;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Where the test's data lives; removed when the server stops.
enum Scratch {
    Dir(tempfile::TempDir),
    PgDatabase { admin_url: String, name: String },
}

pub struct TestServer {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// `http://127.0.0.1:PORT/annotations/`
    pub container: String,
    pub client: reqwest::Client,
    pub database: DatabaseLocation,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
    scratch: Option<Scratch>,
}

/// Starts a server with the defaults plus `adjust`. Returns None (after printing why) for
/// PostgreSQL when `FACTMARK_TEST_POSTGRES_URL` is not set.
pub async fn start(backend: Backend, adjust: impl FnOnce(&mut Config)) -> Option<TestServer> {
    let (database, scratch) = match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let file = dir.path().join("factmark.sqlite3");
            (DatabaseLocation::SqliteFile(file), Scratch::Dir(dir))
        }
        Backend::Postgres => {
            let Ok(admin_url) = std::env::var("FACTMARK_TEST_POSTGRES_URL") else {
                eprintln!(
                    "SKIPPED (PostgreSQL): FACTMARK_TEST_POSTGRES_URL is not set; set it to a \
                     server this test may create databases on, e.g. \
                     postgres://postgres@127.0.0.1:55432/postgres"
                );
                return None;
            };
            let name = format!("factmark_test_{}", uuid::Uuid::new_v4().simple());
            let mut admin = sqlx::PgConnection::connect(&admin_url)
                .await
                .expect("connect to FACTMARK_TEST_POSTGRES_URL");
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut admin)
                .await
                .expect("create a test database");
            let _ = admin.close().await;
            let url = with_database(&admin_url, &name);
            (
                DatabaseLocation::Postgres(url),
                Scratch::PgDatabase { admin_url, name },
            )
        }
    };
    let mut config = Config::new(database.clone());
    config.rate_limit = None;
    adjust(&mut config);
    Some(serve(config, database, Some(scratch)).await)
}

/// Serves `config` on an ephemeral port (for a second server on the same database).
pub async fn serve_config(config: Config) -> TestServer {
    let database = config.database.clone();
    serve(config, database, None).await
}

async fn serve(config: Config, database: DatabaseLocation, scratch: Option<Scratch>) -> TestServer {
    let container_path = config.container_path.clone();
    let app = App::build(config).await.expect("build the app");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(app.serve(listener, async move {
        let _ = rx.await;
    }));
    let base = format!("http://{addr}");
    TestServer {
        container: format!("{base}{container_path}"),
        base,
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap(),
        database,
        shutdown: Some(tx),
        task: Some(task),
        scratch,
    }
}

/// `postgres://u@h:p/olddb?x` → `postgres://u@h:p/NAME?x`
pub fn with_database(url: &str, name: &str) -> String {
    let (main, query) = match url.split_once('?') {
        Some((m, q)) => (m, Some(q)),
        None => (url, None),
    };
    let scheme_end = main.find("://").map_or(0, |i| i + 3);
    let host_end = main[scheme_end..]
        .find('/')
        .map_or(main.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &main[..host_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

impl TestServer {
    /// Stops serving (queued writes are committed), then removes the test's data.
    pub async fn stop(mut self) {
        self.halt().await;
        if let Some(Scratch::PgDatabase { admin_url, name }) = self.scratch.take() {
            if let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await;
            }
        }
    }

    /// Stops serving but keeps the data (e.g. to restart on it).
    pub async fn halt(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await
                .expect("server task")
                .expect("server ran cleanly");
        }
    }

    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.base)
    }

    pub async fn post(&self, annotation: &Value) -> reqwest::Response {
        self.client
            .post(&self.container)
            .header("content-type", ANNO_TYPE)
            .body(annotation.to_string())
            .send()
            .await
            .expect("POST")
    }

    /// POST that must create; returns (Location, ETag, body).
    pub async fn create(&self, annotation: &Value) -> (String, String, Value) {
        let response = self.post(annotation).await;
        assert_eq!(response.status(), 201, "create should answer 201");
        let location = header(&response, "location");
        let etag = header(&response, "etag");
        (location, etag, response.json().await.unwrap())
    }

    pub async fn get(&self, url: &str) -> reqwest::Response {
        self.client.get(url).send().await.expect("GET")
    }

    pub async fn get_json(&self, url: &str) -> Value {
        let response = self.get(url).await;
        assert_eq!(response.status(), 200, "GET {url}");
        response.json().await.unwrap()
    }

    pub fn scratch_dir(&self) -> Option<PathBuf> {
        match &self.scratch {
            Some(Scratch::Dir(dir)) => Some(dir.path().to_path_buf()),
            _ => None,
        }
    }
}

pub fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("missing {name} header"))
        .to_str()
        .unwrap()
        .to_string()
}

/// A factmark flag on `source`, made the way the widget makes it (factmark-core).
pub fn flag(source: &str, exact: &str, note: Option<&str>) -> Value {
    flag_with_id(source, exact, note, &client_id())
}

pub fn flag_with_id(source: &str, exact: &str, note: Option<&str>, id: &str) -> Value {
    let annotation = Annotation::new_flag(NewFlag {
        source,
        selectors: Selectors {
            quote: TextQuoteSelector {
                exact: exact.to_string(),
                prefix: Some("reported that ".into()),
                suffix: Some(" near the border".into()),
            },
            position: Some(TextPositionSelector {
                start: 120,
                end: 120 + exact.chars().count(),
            }),
        },
        flag: Flag::Unverified,
        note,
        evidence: vec!["https://evidence.example/report".into()],
        id: id.to_string(),
        now: rfc3339_from_unix_ms(1_735_787_045_678),
    })
    .expect("a valid flag");
    serde_json::to_value(&annotation).expect("an annotation serializes")
}

pub fn client_id() -> String {
    new_id(*uuid::Uuid::new_v4().as_bytes())
}

/// The error body every failure must have: `{"error": "<message>", "status": N}`.
pub async fn assert_error(response: reqwest::Response, status: u16) -> String {
    assert_eq!(response.status().as_u16(), status, "status");
    let content_type = header(&response, "content-type");
    assert!(
        content_type.starts_with("application/json"),
        "error content type {content_type}"
    );
    let body: Value = response.json().await.expect("error body is JSON");
    assert_eq!(body["status"], status, "status in body: {body}");
    let message = body["error"].as_str().expect("error message").to_string();
    assert!(message.len() > 10, "a clear message, got {message:?}");
    message
}

/// Runs the W3C MUST assertions (WPT annotation-model) over a JSON document.
pub fn assert_w3c_valid(document: &Value) {
    let shared = std::env::var_os("FACTMARK_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    let validator = shared.join("w3c-annotation-model/validate.py");
    assert!(
        validator.is_file(),
        "W3C validator not found at {} (set FACTMARK_SHARED_DIR to the shared test data)",
        validator.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("annotations.json");
    std::fs::write(&file, document.to_string()).unwrap();
    let output = std::process::Command::new("python3")
        .arg(&validator)
        .arg(&file)
        .output()
        .expect("run python3 (the W3C validator needs python3 with jsonschema)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let summary = stdout.lines().last().unwrap_or_default();
    assert!(
        output.status.success()
            && summary.ends_with(" 0 failed")
            && !summary.starts_with("0 passed"),
        "W3C validator failed:\n{stdout}\n{stderr}\ndocument: {document}"
    );
}
