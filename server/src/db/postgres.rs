//! PostgreSQL: the store for more than one server process.
//!
//! Nothing here depends on state in this process: ordering comes from an identity column,
//! idempotent creation from the UNIQUE `via` column (`ON CONFLICT DO NOTHING`), and
//! If-Match checks run under a row lock (`SELECT … FOR UPDATE`) in the same transaction as the
//! change. Migrations take sqlx's advisory lock, so processes may start together.
//! PostgreSQL's commit is durable by default (`synchronous_commit = on`), and concurrent commits
//! share WAL flushes on their own, so no batching is needed here.

use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use sqlx::{Executor, Row as _};

use super::{
    now_ms, row_from_columns, Changed, Created, IfMatch, NewAnnotation, Render, RenderedPage,
    Replacement, Row, StoreError, StoreResult,
};
use crate::stored::push_item;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

const COLUMNS: &str = "slug, via, doc, id_at, etag";

#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    pub async fn connect(url: &str) -> anyhow::Result<PgStore> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await
            .context("connecting to PostgreSQL")?;
        MIGRATOR
            .run(&pool)
            .await
            .context("migrating the PostgreSQL schema")?;
        Ok(PgStore { pool })
    }

    pub async fn create(&self, new: NewAnnotation) -> StoreResult<Created> {
        let etag = new.doc.etag();
        // A concurrent DELETE can remove the conflicting row between the two statements; then
        // the insert is simply tried again.
        for _ in 0..3 {
            let inserted = sqlx::query(
                "INSERT INTO annotations (slug, via, target, doc, id_at, etag, created_ms, updated_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (via) DO NOTHING",
            )
            .bind(&new.slug)
            .bind(&new.via)
            .bind(&new.target)
            .bind(&new.doc.text)
            .bind(new.doc.id_at as i64)
            .bind(&etag)
            .bind(now_ms())
            .execute(&self.pool)
            .await?
            .rows_affected();
            if inserted == 1 {
                return Ok(Created::New(Row {
                    slug: new.slug,
                    via: new.via,
                    doc: new.doc,
                    etag,
                }));
            }
            let via = new.via.as_deref().unwrap_or_default();
            let existing =
                sqlx::query(&format!("SELECT {COLUMNS} FROM annotations WHERE via = $1"))
                    .bind(via)
                    .fetch_optional(&self.pool)
                    .await?;
            if let Some(row) = existing {
                return Ok(Created::Existing(decode(&row)?));
            }
        }
        Err(StoreError::Unavailable(
            "the annotation kept changing concurrently".into(),
        ))
    }

    pub async fn get(&self, slug: &str) -> StoreResult<Option<Row>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM annotations WHERE slug = $1"
        ))
        .bind(slug)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(decode).transpose()
    }

    pub async fn replace(
        &self,
        slug: &str,
        precondition: IfMatch,
        replacement: Replacement,
    ) -> StoreResult<Changed<Row>> {
        let mut tx = self.pool.begin().await?;
        let current = sqlx::query("SELECT via, etag FROM annotations WHERE slug = $1 FOR UPDATE")
            .bind(slug)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(current) = current else {
            return Ok(Changed::NotFound);
        };
        let current_etag: String = current.try_get("etag")?;
        if !precondition.matches(&current_etag) {
            return Ok(Changed::Stale(current_etag));
        }
        let etag = replacement.doc.etag();
        sqlx::query(
            "UPDATE annotations SET target = $2, doc = $3, id_at = $4, etag = $5, updated_ms = $6 \
             WHERE slug = $1",
        )
        .bind(slug)
        .bind(&replacement.target)
        .bind(&replacement.doc.text)
        .bind(replacement.doc.id_at as i64)
        .bind(&etag)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Changed::Done(Row {
            slug: slug.to_string(),
            via: current.try_get("via")?,
            doc: replacement.doc,
            etag,
        }))
    }

    pub async fn delete(&self, slug: &str, precondition: IfMatch) -> StoreResult<Changed<()>> {
        let mut tx = self.pool.begin().await?;
        let current = sqlx::query_scalar::<_, String>(
            "SELECT etag FROM annotations WHERE slug = $1 FOR UPDATE",
        )
        .bind(slug)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(current_etag) = current else {
            return Ok(Changed::NotFound);
        };
        if !precondition.matches(&current_etag) {
            return Ok(Changed::Stale(current_etag));
        }
        sqlx::query("DELETE FROM annotations WHERE slug = $1")
            .bind(slug)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Changed::Done(()))
    }

    pub async fn page(
        &self,
        target: Option<&str>,
        offset: u64,
        limit: u32,
        render: Render<'_>,
    ) -> StoreResult<RenderedPage> {
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        // One statement: the total and the page come from the same snapshot.
        let filter = if target.is_some() {
            "WHERE target = $1"
        } else {
            "WHERE $1::text IS NULL"
        };
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS}, (SELECT count(*) FROM annotations {filter}) AS total \
             FROM annotations {filter} ORDER BY seq LIMIT $2 OFFSET $3"
        ))
        .bind(target)
        .bind(i64::from(limit))
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        let total = match rows.first() {
            Some(row) => row.try_get::<i64, _>("total")?,
            None => {
                sqlx::query_scalar::<_, i64>(&format!("SELECT count(*) FROM annotations {filter}"))
                    .bind(target)
                    .fetch_one(&self.pool)
                    .await?
            }
        };
        let mut items = String::new();
        for (n, row) in rows.iter().enumerate() {
            let row = decode(row)?;
            if n > 0 {
                items.push(',');
            }
            push_item(
                &mut items,
                render.container,
                &row.slug,
                &row.doc,
                render.iris_only,
            );
        }
        Ok(RenderedPage {
            total: total.max(0) as u64,
            items,
        })
    }

    pub async fn ping(&self) -> StoreResult<()> {
        self.pool.execute("SELECT 1").await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn decode(row: &PgRow) -> StoreResult<Row> {
    row_from_columns(
        row.try_get("slug")?,
        row.try_get("via")?,
        row.try_get("doc")?,
        row.try_get("id_at")?,
        row.try_get("etag")?,
    )
}
