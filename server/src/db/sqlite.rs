//! SQLite: one file in WAL mode, `synchronous=FULL`, one writer task with group commit.
//!
//! Durability: a response is sent only after the COMMIT that contains the write has returned,
//! and with `synchronous=FULL` that COMMIT has fsync'ed the WAL. So a 201 survives `kill -9`
//! (which only needs the write() to have reached the kernel) and also a power cut.
//!
//! Throughput: an fsync costs milliseconds, so one transaction per request would cap creates at
//! a few hundred per second. All writes go through one task instead: it takes every request
//! queued while the previous commit was syncing and commits them together in one transaction
//! (group commit). Under load batches grow, so one fsync acknowledges many annotations; with
//! a single client each write still commits alone and at once (no timer, no added latency).
//! Reads use a small pool of separate connections; WAL lets them run beside the writer.
//!
//! One server process owns the file (an exclusive lock on `<file>.lock`; several processes
//! share PostgreSQL instead). That is what lets listing pages be cached in memory: the writer
//! drops the changed pages after each commit, before answering (see `cache.rs`).

use std::path::Path;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use anyhow::Context;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{Connection, Executor, Row as _};
use tokio::sync::{mpsc, oneshot, Mutex};
use tokio::task::JoinHandle;

use super::cache::{self, PageCache, PageKey};
use super::{
    now_ms, row_from_columns, Changed, Created, IfMatch, NewAnnotation, Render, RenderedPage,
    Replacement, Row, StoreError, StoreResult,
};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

/// Listing statements: [all, all IRIs only, one target, one target IRIs only].
/// ?1 target, ?2 limit, ?3 offset, ?4 container IRI.
static PAGE_SQL: LazyLock<[String; 4]> = LazyLock::new(|| {
    // `doc` up to `id_at` bytes, the IRI as a JSON string, then `doc` after the `""`.
    let full = "CAST(substr(CAST(doc AS BLOB), 1, id_at) AS TEXT) || json_quote(?4 || slug) \
                || CAST(substr(CAST(doc AS BLOB), id_at + 3) AS TEXT)";
    let iri = "json_quote(?4 || slug)";
    let statement = |filter: &str, item: &str| {
        format!(
            "WITH page AS (SELECT seq, slug, doc, id_at FROM annotations {filter} \
                           ORDER BY seq LIMIT ?2 OFFSET ?3) \
             SELECT (SELECT count(*) FROM annotations {filter}) AS total, \
                    (SELECT group_concat({item}, ',' ORDER BY seq) FROM page) AS items"
        )
    };
    // ?1 must appear in every statement for the binds to line up.
    let all = "WHERE ?1 = ?1";
    let one = "WHERE target = ?1";
    [
        statement(all, full),
        statement(all, iri),
        statement(one, full),
        statement(one, iri),
    ]
});

/// Upper bound on one group commit, so a burst cannot build one huge transaction.
const MAX_BATCH: usize = 512;

type Reply<T> = oneshot::Sender<StoreResult<T>>;

enum WriteOp {
    Create(NewAnnotation, Reply<Created>),
    Replace(String, IfMatch, Replacement, Reply<Changed<Row>>),
    Delete(String, IfMatch, Reply<Changed<()>>),
    Close(oneshot::Sender<()>),
}

enum Outcome {
    Created(Created),
    Replaced(Changed<Row>),
    Deleted(Changed<()>),
}

#[derive(Clone)]
pub struct SqliteStore {
    readers: SqlitePool,
    writes: mpsc::Sender<WriteOp>,
    writer: Arc<Mutex<Option<JoinHandle<()>>>>,
    pages: Arc<PageCache>,
    /// Held open (and locked) while the store is open.
    owner_lock: Arc<Mutex<Option<std::fs::File>>>,
}

impl SqliteStore {
    pub async fn open(path: &Path, page_cache_bytes: usize) -> anyhow::Result<SqliteStore> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            anyhow::ensure!(
                dir.is_dir(),
                "the directory {} for the SQLite file does not exist",
                dir.display()
            );
        }
        let owner_lock = lock_for_this_process(path)?;
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(5));

        let mut writer = SqliteConnection::connect_with(&options)
            .await
            .with_context(|| format!("opening SQLite database {}", path.display()))?;
        MIGRATOR
            .run(&mut writer)
            .await
            .with_context(|| format!("migrating SQLite database {}", path.display()))?;

        let reader_count = std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .clamp(2, 8);
        let readers = SqlitePoolOptions::new()
            .max_connections(reader_count as u32)
            .min_connections(1)
            // A ping per acquire would double the round trips of a read; a broken local file
            // connection shows up as an error on the query itself.
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options.pragma("query_only", "ON"))
            .await
            .with_context(|| format!("opening SQLite readers on {}", path.display()))?;

        let pages = Arc::new(PageCache::new(page_cache_bytes));
        let (writes, queue) = mpsc::channel(4 * MAX_BATCH);
        let task = tokio::spawn(run_writer(writer, queue, pages.clone()));
        Ok(SqliteStore {
            readers,
            writes,
            writer: Arc::new(Mutex::new(Some(task))),
            pages,
            owner_lock: Arc::new(Mutex::new(Some(owner_lock))),
        })
    }

    async fn submit<T>(&self, make: impl FnOnce(Reply<T>) -> WriteOp) -> StoreResult<T> {
        let (reply, answer) = oneshot::channel();
        self.writes
            .send(make(reply))
            .await
            .map_err(|_| shutting_down())?;
        answer.await.map_err(|_| shutting_down())?
    }

    pub async fn create(&self, new: NewAnnotation) -> StoreResult<Created> {
        self.submit(|reply| WriteOp::Create(new, reply)).await
    }

    pub async fn replace(
        &self,
        slug: &str,
        precondition: IfMatch,
        replacement: Replacement,
    ) -> StoreResult<Changed<Row>> {
        let slug = slug.to_string();
        self.submit(|reply| WriteOp::Replace(slug, precondition, replacement, reply))
            .await
    }

    pub async fn delete(&self, slug: &str, precondition: IfMatch) -> StoreResult<Changed<()>> {
        let slug = slug.to_string();
        self.submit(|reply| WriteOp::Delete(slug, precondition, reply))
            .await
    }

    pub async fn get(&self, slug: &str) -> StoreResult<Option<Row>> {
        let mut conn = self.readers.acquire().await?;
        select_by(&mut conn, "slug", slug).await
    }

    /// One statement, so one snapshot and one round trip to SQLite's thread: the total and
    /// the page's items, rendered by SQLite into a single string (the same splice as
    /// `StoredDoc::render`, on bytes). Fetching rows one by one costs a thread wake-up each.
    pub async fn page(
        &self,
        target: Option<&str>,
        offset: u64,
        limit: u32,
        render: Render<'_>,
    ) -> StoreResult<RenderedPage> {
        let key = PageKey {
            offset,
            limit,
            container: render.container.to_string(),
            iris_only: render.iris_only,
        };
        let epoch = match self.pages.get(target, &key) {
            Ok(page) => return Ok(RenderedPage::clone(&page)),
            Err(epoch) => epoch,
        };
        let sql = &PAGE_SQL[usize::from(target.is_some()) * 2 + usize::from(render.iris_only)];
        let mut conn = self.readers.acquire().await?;
        let (total, items): (i64, Option<String>) = sqlx::query_as(sql)
            .bind(target.unwrap_or_default())
            .bind(i64::from(limit))
            .bind(i64::try_from(offset).unwrap_or(i64::MAX))
            .bind(render.container)
            .fetch_one(&mut *conn)
            .await?;
        let page = RenderedPage {
            total: total.max(0) as u64,
            items: items.unwrap_or_default(),
        };
        self.pages
            .insert(target, key, Arc::new(page.clone()), epoch);
        Ok(page)
    }

    pub async fn ping(&self) -> StoreResult<()> {
        let mut conn = self.readers.acquire().await?;
        conn.execute("SELECT 1").await?;
        if self.writes.is_closed() {
            return Err(shutting_down());
        }
        Ok(())
    }

    pub async fn close(&self) {
        let (done, closed) = oneshot::channel();
        if self.writes.send(WriteOp::Close(done)).await.is_ok() {
            let _ = closed.await;
        }
        if let Some(task) = self.writer.lock().await.take() {
            let _ = task.await;
        }
        self.readers.close().await;
        self.owner_lock.lock().await.take();
    }
}

/// One server process per SQLite file: an exclusive, non-blocking flock on `<file>.lock`
/// (released by the kernel when the process dies, also on kill -9).
fn lock_for_this_process(path: &Path) -> anyhow::Result<std::fs::File> {
    let mut lock_path = path.as_os_str().to_owned();
    lock_path.push(".lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("creating the lock file {}", Path::new(&lock_path).display()))?;
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: flock on a descriptor this function owns; no memory is involved.
        let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
        anyhow::ensure!(
            locked,
            "{} is in use by another factmark-server process; a SQLite file serves one process \
             (run several servers on one PostgreSQL database instead)",
            path.display()
        );
    }
    Ok(file)
}

fn shutting_down() -> StoreError {
    StoreError::Unavailable("the server is shutting down".into())
}

fn decode(row: &sqlx::sqlite::SqliteRow) -> StoreResult<Row> {
    row_from_columns(
        row.try_get("slug")?,
        row.try_get("via")?,
        row.try_get("doc")?,
        row.try_get("id_at")?,
        row.try_get("etag")?,
    )
}

async fn select_by(
    conn: &mut SqliteConnection,
    column: &str,
    value: &str,
) -> StoreResult<Option<Row>> {
    // `column` is one of two literals chosen in this file, never input.
    let sql = match column {
        "via" => "SELECT slug, via, doc, id_at, etag FROM annotations WHERE via = ?1",
        _ => "SELECT slug, via, doc, id_at, etag FROM annotations WHERE slug = ?1",
    };
    let row = sqlx::query(sql)
        .bind(value)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(decode).transpose()
}

async fn run_writer(
    mut conn: SqliteConnection,
    mut queue: mpsc::Receiver<WriteOp>,
    pages: Arc<PageCache>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut closing = None;
    while closing.is_none() {
        let Some(first) = queue.recv().await else {
            break;
        };
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        if let Some(at) = batch.iter().position(|op| matches!(op, WriteOp::Close(_))) {
            // Writes queued before the close are still done; later ones are refused.
            let rest = batch.split_off(at);
            closing = rest.into_iter().find_map(|op| match op {
                WriteOp::Close(done) => Some(done),
                _ => None,
            });
            queue.close();
        }
        commit_batch(&mut conn, &mut batch, &pages).await;
    }
    // Refuse whatever raced the close, so no caller waits forever.
    while let Ok(op) = queue.try_recv() {
        fail(op, shutting_down());
    }
    if let Err(err) = conn.close().await {
        tracing::warn!("closing the SQLite writer: {err}");
    }
    if let Some(done) = closing {
        let _ = done.send(());
    }
}

/// Apply a batch in one transaction; answer only after COMMIT. If anything in the batch fails,
/// roll back and apply each operation in its own transaction, so one bad write cannot fail the
/// others.
async fn commit_batch(conn: &mut SqliteConnection, batch: &mut Vec<WriteOp>, pages: &PageCache) {
    if batch.is_empty() {
        return;
    }
    match apply_in_transaction(conn, batch).await {
        Ok(outcomes) => {
            // After the commit, before any answer: nobody told of a write can read around it.
            pages.invalidate(&changes_of(batch));
            for (op, outcome) in batch.drain(..).zip(outcomes) {
                reply_outcome(op, Ok(outcome));
            }
        }
        Err(err) if batch.len() == 1 => {
            fail(batch.pop().expect("one op"), err);
        }
        Err(err) => {
            tracing::warn!(
                "group commit of {} writes failed ({err}); retrying one by one",
                batch.len()
            );
            for op in batch.drain(..) {
                let single = std::slice::from_ref(&op);
                let result = apply_in_transaction(conn, single).await;
                pages.invalidate(&changes_of(single));
                match result {
                    Ok(mut outcomes) => reply_outcome(op, Ok(outcomes.remove(0))),
                    Err(err) => fail(op, err),
                }
            }
        }
    }
}

fn changes_of(ops: &[WriteOp]) -> cache::Changed {
    let mut targets = Vec::new();
    for op in ops {
        match op {
            WriteOp::Create(new, _) => targets.push(new.target.clone()),
            WriteOp::Replace(..) | WriteOp::Delete(..) => return cache::Changed::Everything,
            WriteOp::Close(_) => {}
        }
    }
    cache::Changed::Targets(targets)
}

async fn apply_in_transaction(
    conn: &mut SqliteConnection,
    ops: &[WriteOp],
) -> StoreResult<Vec<Outcome>> {
    // IMMEDIATE takes the write lock up front, so another process using the same file makes us
    // wait (busy_timeout) instead of failing half-way.
    conn.execute("BEGIN IMMEDIATE").await?;
    let mut outcomes = Vec::with_capacity(ops.len());
    for op in ops {
        match apply(conn, op).await {
            Ok(outcome) => outcomes.push(outcome),
            Err(err) => {
                let _ = conn.execute("ROLLBACK").await;
                return Err(err);
            }
        }
    }
    if let Err(err) = conn.execute("COMMIT").await {
        let _ = conn.execute("ROLLBACK").await;
        return Err(err.into());
    }
    Ok(outcomes)
}

async fn apply(conn: &mut SqliteConnection, op: &WriteOp) -> StoreResult<Outcome> {
    let now = now_ms();
    match op {
        WriteOp::Create(new, _) => {
            let etag = new.doc.etag();
            let inserted = sqlx::query(
                "INSERT INTO annotations (slug, via, target, doc, id_at, etag, created_ms, updated_ms) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) ON CONFLICT (via) DO NOTHING",
            )
            .bind(&new.slug)
            .bind(&new.via)
            .bind(&new.target)
            .bind(&new.doc.text)
            .bind(new.doc.id_at as i64)
            .bind(&etag)
            .bind(now)
            .execute(&mut *conn)
            .await?
            .rows_affected();
            if inserted == 0 {
                // Only a repeated `via` conflicts (this writer holds the lock, so it still exists).
                let via = new.via.as_deref().unwrap_or_default();
                let existing = select_by(conn, "via", via).await?.ok_or_else(|| {
                    StoreError::Internal("insert conflicted but no annotation has that via".into())
                })?;
                return Ok(Outcome::Created(Created::Existing(existing)));
            }
            Ok(Outcome::Created(Created::New(Row {
                slug: new.slug.clone(),
                via: new.via.clone(),
                doc: new.doc.clone(),
                etag,
            })))
        }
        WriteOp::Replace(slug, precondition, replacement, _) => {
            let Some(current) = select_by(conn, "slug", slug).await? else {
                return Ok(Outcome::Replaced(Changed::NotFound));
            };
            if !precondition.matches(&current.etag) {
                return Ok(Outcome::Replaced(Changed::Stale(current.etag)));
            }
            let etag = replacement.doc.etag();
            sqlx::query(
                "UPDATE annotations SET target = ?2, doc = ?3, id_at = ?4, etag = ?5, updated_ms = ?6 \
                 WHERE slug = ?1",
            )
            .bind(slug)
            .bind(&replacement.target)
            .bind(&replacement.doc.text)
            .bind(replacement.doc.id_at as i64)
            .bind(&etag)
            .bind(now)
            .execute(&mut *conn)
            .await?;
            Ok(Outcome::Replaced(Changed::Done(Row {
                slug: slug.clone(),
                via: current.via,
                doc: replacement.doc.clone(),
                etag,
            })))
        }
        WriteOp::Delete(slug, precondition, _) => {
            let Some(current) = select_by(conn, "slug", slug).await? else {
                return Ok(Outcome::Deleted(Changed::NotFound));
            };
            if !precondition.matches(&current.etag) {
                return Ok(Outcome::Deleted(Changed::Stale(current.etag)));
            }
            sqlx::query("DELETE FROM annotations WHERE slug = ?1")
                .bind(slug)
                .execute(&mut *conn)
                .await?;
            Ok(Outcome::Deleted(Changed::Done(())))
        }
        WriteOp::Close(_) => unreachable!("close is taken out of the batch before applying"),
    }
}

fn reply_outcome(op: WriteOp, outcome: StoreResult<Outcome>) {
    // A send fails only when the request was dropped (client gone); the write still stands.
    match (op, outcome) {
        (WriteOp::Create(_, tx), Ok(Outcome::Created(c))) => drop(tx.send(Ok(c))),
        (WriteOp::Replace(.., tx), Ok(Outcome::Replaced(c))) => drop(tx.send(Ok(c))),
        (WriteOp::Delete(_, _, tx), Ok(Outcome::Deleted(c))) => drop(tx.send(Ok(c))),
        (op, Err(err)) => fail(op, err),
        (op, Ok(_)) => fail(op, StoreError::Internal("mismatched write outcome".into())),
    }
}

fn fail(op: WriteOp, err: StoreError) {
    match op {
        WriteOp::Create(_, tx) => drop(tx.send(Err(err))),
        WriteOp::Replace(.., tx) => drop(tx.send(Err(err))),
        WriteOp::Delete(_, _, tx) => drop(tx.send(Err(err))),
        WriteOp::Close(done) => drop(done.send(())),
    }
}
