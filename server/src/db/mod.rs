//! Storage: SQLite (default, one file) or PostgreSQL (shared by several server processes).
//!
//! Both keep one table. `seq` is assigned by the database (SQLite AUTOINCREMENT, a PostgreSQL
//! identity column), never by a counter in this process, and is the one order of every listing.
//! `via` (the client's own id) is UNIQUE, which is what makes a retried POST safe even when two
//! processes receive the retries.

mod cache;
mod postgres;
mod sqlite;

use crate::stored::StoredDoc;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// One stored annotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The last path segment of the annotation's IRI.
    pub slug: String,
    /// The id the client sent when it created the annotation, if any.
    pub via: Option<String>,
    pub doc: StoredDoc,
    pub etag: String,
}

/// What POST stores: a validated annotation.
#[derive(Debug, Clone)]
pub struct NewAnnotation {
    pub slug: String,
    pub via: Option<String>,
    pub target: String,
    pub doc: StoredDoc,
}

#[derive(Debug, Clone)]
pub struct Replacement {
    pub target: String,
    pub doc: StoredDoc,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Created {
    New(Row),
    /// An annotation with the same client id already existed; nothing was written.
    Existing(Row),
}

#[derive(Debug, PartialEq, Eq)]
pub enum Changed<T> {
    Done(T),
    NotFound,
    /// The precondition did not match; holds the current ETag.
    Stale(String),
}

/// `If-Match`, already parsed. Strong comparison, as RFC 9110 requires for If-Match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    Any,
    Tags(Vec<String>),
}

impl IfMatch {
    pub fn parse(header: &str) -> IfMatch {
        let header = header.trim();
        if header == "*" {
            return IfMatch::Any;
        }
        let tags = header
            .split(',')
            .map(str::trim)
            .filter(|tag| !tag.is_empty() && !tag.starts_with("W/"))
            .map(str::to_string)
            .collect();
        IfMatch::Tags(tags)
    }

    pub fn matches(&self, etag: &str) -> bool {
        match self {
            IfMatch::Any => true,
            IfMatch::Tags(tags) => tags.iter().any(|tag| tag == etag),
        }
    }
}

/// One page of a listing, already rendered, plus how many annotations the listing has in all.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RenderedPage {
    pub total: u64,
    /// The page's annotations (or their IRIs) as JSON values separated by commas.
    pub items: String,
}

/// How listed annotations are written out.
#[derive(Debug, Clone, Copy)]
pub struct Render<'a> {
    /// The container IRI; an annotation's IRI is this plus its slug.
    pub container: &'a str,
    /// List IRIs only (PreferContainedIRIs) instead of full annotations.
    pub iris_only: bool,
}

#[derive(Debug)]
pub enum StoreError {
    /// Busy, locked, timed out or unreachable: the client should retry.
    Unavailable(String),
    Internal(String),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Unavailable(why) => write!(f, "storage unavailable: {why}"),
            StoreError::Internal(why) => write!(f, "storage error: {why}"),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        use sqlx::Error as E;
        match &err {
            E::PoolTimedOut | E::PoolClosed | E::Io(_) | E::WorkerCrashed => {
                StoreError::Unavailable(err.to_string())
            }
            E::Database(db) => {
                // SQLite BUSY (5) / LOCKED (6); PostgreSQL serialization, deadlock, shutdown,
                // too many connections.
                let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
                let retry = matches!(code.as_str(), "5" | "6" | "517" | "262")
                    || code.starts_with("40")
                    || code.starts_with("57P")
                    || code == "53300";
                if retry {
                    StoreError::Unavailable(err.to_string())
                } else {
                    StoreError::Internal(err.to_string())
                }
            }
            _ => StoreError::Internal(err.to_string()),
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Clone)]
pub enum Store {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

/// Where the data lives, from `--database`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseLocation {
    SqliteFile(std::path::PathBuf),
    Postgres(String),
}

impl DatabaseLocation {
    /// `postgres://…` / `postgresql://…`, `sqlite://PATH`, `sqlite:PATH`, or a plain file path.
    pub fn parse(spec: &str) -> Result<DatabaseLocation, String> {
        let spec = spec.trim();
        if spec.starts_with("postgres://") || spec.starts_with("postgresql://") {
            return Ok(DatabaseLocation::Postgres(spec.to_string()));
        }
        let path = spec
            .strip_prefix("sqlite://")
            .or_else(|| spec.strip_prefix("sqlite:"))
            .unwrap_or(spec);
        let path = path.split('?').next().unwrap_or_default();
        if path.is_empty() {
            return Err("--database: no SQLite file path given".into());
        }
        if path == ":memory:" || path.contains("mode=memory") {
            return Err(
                "--database: an in-memory SQLite database cannot be used: the server \
                        needs a file so that acknowledged annotations survive a restart"
                    .into(),
            );
        }
        if spec.contains("://") && !spec.starts_with("sqlite://") {
            return Err(format!(
                "--database: unsupported scheme in {spec:?}; use a SQLite file path or postgres://"
            ));
        }
        Ok(DatabaseLocation::SqliteFile(path.into()))
    }

    /// For logs: never prints a password.
    pub fn describe(&self) -> String {
        match self {
            DatabaseLocation::SqliteFile(path) => format!("SQLite file {}", path.display()),
            DatabaseLocation::Postgres(url) => {
                let after_scheme = url.split_once("://").map(|(_, rest)| rest).unwrap_or(url);
                let host_part = after_scheme
                    .rsplit_once('@')
                    .map(|(_, h)| h)
                    .unwrap_or(after_scheme);
                format!(
                    "PostgreSQL {}",
                    host_part.split('?').next().unwrap_or(host_part)
                )
            }
        }
    }
}

impl Store {
    /// `page_cache_bytes`: memory for cached listing pages (SQLite only; 0 disables).
    pub async fn open(
        location: &DatabaseLocation,
        page_cache_bytes: usize,
    ) -> anyhow::Result<Store> {
        Ok(match location {
            DatabaseLocation::SqliteFile(path) => {
                Store::Sqlite(SqliteStore::open(path, page_cache_bytes).await?)
            }
            DatabaseLocation::Postgres(url) => Store::Postgres(PgStore::connect(url).await?),
        })
    }

    pub async fn create(&self, new: NewAnnotation) -> StoreResult<Created> {
        match self {
            Store::Sqlite(s) => s.create(new).await,
            Store::Postgres(p) => p.create(new).await,
        }
    }

    pub async fn get(&self, slug: &str) -> StoreResult<Option<Row>> {
        match self {
            Store::Sqlite(s) => s.get(slug).await,
            Store::Postgres(p) => p.get(slug).await,
        }
    }

    pub async fn replace(
        &self,
        slug: &str,
        precondition: IfMatch,
        replacement: Replacement,
    ) -> StoreResult<Changed<Row>> {
        match self {
            Store::Sqlite(s) => s.replace(slug, precondition, replacement).await,
            Store::Postgres(p) => p.replace(slug, precondition, replacement).await,
        }
    }

    pub async fn delete(&self, slug: &str, precondition: IfMatch) -> StoreResult<Changed<()>> {
        match self {
            Store::Sqlite(s) => s.delete(slug, precondition).await,
            Store::Postgres(p) => p.delete(slug, precondition).await,
        }
    }

    /// Annotations in `seq` order, optionally only those on one target source, and their
    /// total, read as one snapshot.
    pub async fn page(
        &self,
        target: Option<&str>,
        offset: u64,
        limit: u32,
        render: Render<'_>,
    ) -> StoreResult<RenderedPage> {
        match self {
            Store::Sqlite(s) => s.page(target, offset, limit, render).await,
            Store::Postgres(p) => p.page(target, offset, limit, render).await,
        }
    }

    pub async fn ping(&self) -> StoreResult<()> {
        match self {
            Store::Sqlite(s) => s.ping().await,
            Store::Postgres(p) => p.ping().await,
        }
    }

    /// Finish queued writes and close connections.
    pub async fn close(&self) {
        match self {
            Store::Sqlite(s) => s.close().await,
            Store::Postgres(p) => p.close().await,
        }
    }
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Assemble a row from the five columns every query selects: slug, via, doc, id_at, etag.
pub(crate) fn row_from_columns(
    slug: String,
    via: Option<String>,
    text: String,
    id_at: i64,
    etag: String,
) -> StoreResult<Row> {
    let doc = StoredDoc::from_parts(text, id_at).ok_or_else(|| {
        StoreError::Internal(format!("stored annotation {slug} has a corrupt id offset"))
    })?;
    Ok(Row {
        slug,
        via,
        doc,
        etag,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_locations() {
        assert_eq!(
            DatabaseLocation::parse("factmark.sqlite3"),
            Ok(DatabaseLocation::SqliteFile("factmark.sqlite3".into()))
        );
        assert_eq!(
            DatabaseLocation::parse("sqlite:///var/lib/f.db"),
            Ok(DatabaseLocation::SqliteFile("/var/lib/f.db".into()))
        );
        assert_eq!(
            DatabaseLocation::parse("sqlite:data/f.db?mode=rwc"),
            Ok(DatabaseLocation::SqliteFile("data/f.db".into()))
        );
        assert!(matches!(
            DatabaseLocation::parse("postgres://u:p@localhost/db"),
            Ok(DatabaseLocation::Postgres(_))
        ));
        assert!(DatabaseLocation::parse("sqlite::memory:").is_err());
        assert!(DatabaseLocation::parse("mysql://x/y").is_err());
        assert!(DatabaseLocation::parse("").is_err());
    }

    #[test]
    fn describe_hides_the_password() {
        let pg = DatabaseLocation::Postgres(
            "postgres://user:secret@db.local:5432/fm?sslmode=require".into(),
        );
        assert_eq!(pg.describe(), "PostgreSQL db.local:5432/fm");
    }

    #[test]
    fn if_match_lists_and_star() {
        assert!(IfMatch::parse("*").matches("\"a\""));
        let tags = IfMatch::parse("\"a\", \"b\"");
        assert!(tags.matches("\"b\""));
        assert!(!tags.matches("\"c\""));
        // Weak tags never match under strong comparison.
        assert!(!IfMatch::parse("W/\"a\"").matches("\"a\""));
    }
}
