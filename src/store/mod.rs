//! Where annotations live. One trait, so the UI never knows which backend it talks to.

pub mod endpoint;
pub mod local;
pub mod memory;
pub mod outbox;

use std::fmt;
use std::rc::Rc;

use factmark_core::model::Annotation;

pub use endpoint::EndpointStore;
pub use local::LocalStore;
pub use memory::MemoryStore;
pub use outbox::{Connection, SyncAction, SyncView};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreError {
    /// The browser's storage quota is exhausted; nothing stored was changed.
    QuotaExceeded,
    /// Stored data could not be read nor moved aside, so it was not overwritten.
    WouldOverwrite(String),
    /// The storage cannot be used at all (disabled, sandboxed, private mode).
    Unavailable(String),
    Failed(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::QuotaExceeded => {
                f.write_str("storage quota exceeded; the annotation is kept in this page only")
            }
            StoreError::WouldOverwrite(why) => {
                write!(
                    f,
                    "stored data is unreadable and could not be set aside ({why}); it was left untouched"
                )
            }
            StoreError::Unavailable(why) => write!(f, "storage unavailable: {why}"),
            StoreError::Failed(why) => write!(f, "storage failed: {why}"),
        }
    }
}

/// Something the reader and the page should hear about, found while reading or writing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// Unreadable stored data was moved to `key`; the readable annotations were kept.
    Quarantined {
        key: String,
        entries: usize,
        whole_value: bool,
    },
    /// Unreadable stored data could not be moved aside; it was left where it was.
    Unreadable(String),
    Unavailable(String),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Quarantined {
                key,
                whole_value: true,
                ..
            } => {
                write!(
                    f,
                    "the stored annotations of this page were unreadable; the stored value was moved to \"{key}\""
                )
            }
            Problem::Quarantined { key, entries, .. } => {
                write!(f, "{entries} stored annotation(s) of this page were invalid and were moved to \"{key}\"; the others were loaded")
            }
            Problem::Unreadable(why) => {
                write!(
                    f,
                    "stored annotations are unreadable and could not be set aside: {why}"
                )
            }
            Problem::Unavailable(why) => write!(
                f,
                "storage unavailable, annotations are kept in memory only: {why}"
            ),
        }
    }
}

pub trait Store {
    /// The page's annotations as stored now.
    fn load(&mut self) -> Vec<Annotation>;
    /// Creates or replaces annotations by id, all or none.
    fn save(&mut self, annotations: &[Annotation]) -> Result<(), StoreError>;
    fn remove(&mut self, id: &str) -> Result<(), StoreError>;
    /// Problems met since the last call (unreadable data moved aside, ...).
    fn take_problems(&mut self) -> Vec<Problem>;
    /// `on_change` runs when the stored annotations changed from elsewhere (another tab, a
    /// server); the owner then calls [`Store::load`].
    fn watch(&mut self, on_change: Rc<dyn Fn()>);
    /// Stops watching; the store is about to be dropped.
    fn close(&mut self) {}
    /// The reader's answer to a sync problem of one annotation (stores that sync elsewhere);
    /// the owner then calls [`Store::load`].
    fn resolve(&mut self, _id: &str, _action: SyncAction) -> Result<(), StoreError> {
        Ok(())
    }
}

/// Creates or replaces each annotation of `new` in `list` by id, keeping the list's order.
pub fn upsert_all(list: &mut Vec<Annotation>, new: &[Annotation]) {
    for annotation in new {
        match list.iter_mut().find(|a| a.id == annotation.id) {
            Some(existing) => *existing = annotation.clone(),
            None => list.push(annotation.clone()),
        }
    }
}
