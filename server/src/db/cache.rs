//! Rendered listing pages, kept in memory for the SQLite store.
//!
//! A news article is read far more often than it is flagged, and every reader's widget asks for
//! the same page. With SQLite all writes go through this process's writer task (the file is
//! locked to one server process), so the writer can drop the pages a commit changes before it
//! acknowledges the write: a reader never sees a page older than a write it was told about.
//! PostgreSQL has no such cache, because other processes write to it too.
//!
//! The race this guards against: a reader queries the database, a write commits, the reader
//! then stores what it read. So every insert carries the epoch the reader saw before its query,
//! and is dropped if any commit happened since.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::RenderedPage;

/// Everything but the target that selects a rendered page.
#[derive(Debug, Clone, Hash, PartialEq, Eq)]
pub struct PageKey {
    pub offset: u64,
    pub limit: u32,
    pub container: String,
    pub iris_only: bool,
}

/// What a commit changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Changed {
    /// Annotations on these targets were created (so their listings and the container's).
    Targets(Vec<String>),
    /// Anything (a replace may move an annotation between targets; deletes are rare).
    Everything,
}

pub struct PageCache {
    inner: Mutex<Inner>,
    budget_bytes: usize,
}

#[derive(Default)]
struct Inner {
    /// Bumped by every commit.
    epoch: u64,
    bytes: usize,
    /// The container listing (no target).
    all: HashMap<PageKey, Arc<RenderedPage>>,
    by_target: HashMap<String, HashMap<PageKey, Arc<RenderedPage>>>,
}

impl PageCache {
    pub fn new(budget_bytes: usize) -> PageCache {
        PageCache {
            inner: Mutex::new(Inner::default()),
            budget_bytes,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The cached page, or the epoch to hand to [`PageCache::insert`] after querying.
    pub fn get(&self, target: Option<&str>, key: &PageKey) -> Result<Arc<RenderedPage>, u64> {
        let inner = self.lock();
        let pages = match target {
            None => Some(&inner.all),
            Some(target) => inner.by_target.get(target),
        };
        pages.and_then(|p| p.get(key)).cloned().ok_or(inner.epoch)
    }

    /// Keeps a page read at `epoch`, unless a commit happened since or it does not fit.
    pub fn insert(&self, target: Option<&str>, key: PageKey, page: Arc<RenderedPage>, epoch: u64) {
        let size = page.items.len() + key.container.len() + target.map_or(0, str::len) + 128;
        if size > self.budget_bytes / 4 {
            return;
        }
        let mut inner = self.lock();
        if inner.epoch != epoch {
            return;
        }
        if inner.bytes + size > self.budget_bytes {
            // Simple and bounded: start over rather than track recency.
            inner.all.clear();
            inner.by_target.clear();
            inner.bytes = 0;
        }
        inner.bytes += size;
        let pages = match target {
            None => &mut inner.all,
            Some(target) => inner.by_target.entry(target.to_string()).or_default(),
        };
        pages.insert(key, page);
    }

    /// Called by the writer after a commit and before it answers.
    pub fn invalidate(&self, changed: &Changed) {
        let mut inner = self.lock();
        inner.epoch += 1;
        match changed {
            Changed::Everything => {
                inner.all.clear();
                inner.by_target.clear();
                inner.bytes = 0;
            }
            Changed::Targets(targets) => {
                let mut freed: usize = inner.all.drain().map(|(k, p)| entry_size(&k, &p, 0)).sum();
                for target in targets {
                    if let Some(pages) = inner.by_target.remove(target) {
                        freed += pages
                            .iter()
                            .map(|(k, p)| entry_size(k, p, target.len()))
                            .sum::<usize>();
                    }
                }
                inner.bytes = inner.bytes.saturating_sub(freed);
            }
        }
    }
}

fn entry_size(key: &PageKey, page: &RenderedPage, target_len: usize) -> usize {
    page.items.len() + key.container.len() + target_len + 128
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(offset: u64) -> PageKey {
        PageKey {
            offset,
            limit: 10,
            container: "http://h/annotations/".into(),
            iris_only: false,
        }
    }

    fn page(items: &str) -> Arc<RenderedPage> {
        Arc::new(RenderedPage {
            total: 1,
            items: items.into(),
        })
    }

    #[test]
    fn a_page_read_before_a_commit_is_not_kept() {
        let cache = PageCache::new(1 << 20);
        let epoch = cache.get(Some("a"), &key(0)).unwrap_err();
        cache.invalidate(&Changed::Targets(vec!["b".into()])); // any commit in between
        cache.insert(Some("a"), key(0), page("old"), epoch);
        assert!(cache.get(Some("a"), &key(0)).is_err());

        let epoch = cache.get(Some("a"), &key(0)).unwrap_err();
        cache.insert(Some("a"), key(0), page("fresh"), epoch);
        assert_eq!(cache.get(Some("a"), &key(0)).unwrap().items, "fresh");
    }

    #[test]
    fn a_commit_drops_its_targets_and_the_container_listing_only() {
        let cache = PageCache::new(1 << 20);
        let epoch = cache.get(None, &key(0)).unwrap_err();
        cache.insert(None, key(0), page("all"), epoch);
        cache.insert(Some("a"), key(0), page("a"), epoch);
        cache.insert(Some("b"), key(0), page("b"), epoch);
        cache.invalidate(&Changed::Targets(vec!["a".into()]));
        assert!(cache.get(None, &key(0)).is_err());
        assert!(cache.get(Some("a"), &key(0)).is_err());
        assert_eq!(cache.get(Some("b"), &key(0)).unwrap().items, "b");
        cache.invalidate(&Changed::Everything);
        assert!(cache.get(Some("b"), &key(0)).is_err());
    }

    #[test]
    fn the_budget_bounds_memory() {
        let cache = PageCache::new(4096);
        for n in 0..100 {
            let epoch = cache.get(Some("a"), &key(n)).unwrap_err();
            cache.insert(Some("a"), key(n), page(&"x".repeat(500)), epoch);
            assert!(cache.lock().bytes <= 4096);
        }
        // Too big for the cache at all: not kept.
        let epoch = cache.get(Some("big"), &key(0)).unwrap_err();
        cache.insert(Some("big"), key(0), page(&"x".repeat(2000)), epoch);
        assert!(cache.get(Some("big"), &key(0)).is_err());
    }
}
