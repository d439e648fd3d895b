//! `localStorage`, one key per page: `factmark:v1:<source>` holds a JSON array of W3C annotations.
//!
//! Unreadable data is never overwritten: before any write the key is read again, and a corrupt
//! value or invalid entries are first appended to `factmark:v1:quarantine:<source>`. If that
//! fails, nothing is written. A failed write (quota) changes nothing stored.

use std::rc::Rc;

use factmark_core::import::parse_stored;
use factmark_core::json::{self, Value};
use factmark_core::model::{json_object, rfc3339_from_unix_ms, Annotation};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Storage, StorageEvent};

use super::{upsert_all, Problem, Store, StoreError};
use crate::config::{quarantine_key, storage_key};
use crate::listen::Listener;

pub struct LocalStore {
    storage: Storage,
    key: String,
    quarantine_key: String,
    problems: Vec<Problem>,
    listener: Option<Listener>,
}

/// What the key holds, once unreadable parts are dealt with.
struct Snapshot {
    annotations: Vec<Annotation>,
    /// False when unreadable data is still in the key (it could not be moved aside).
    writable: bool,
}

impl LocalStore {
    /// The page's store in `window.localStorage`, if the browser lets the page use it.
    pub fn open(source: &str) -> Result<LocalStore, StoreError> {
        let window =
            web_sys::window().ok_or_else(|| StoreError::Unavailable("no window".into()))?;
        let storage = window
            .local_storage()
            .map_err(|e| StoreError::Unavailable(describe(&e)))?
            .ok_or_else(|| StoreError::Unavailable("localStorage is disabled".into()))?;
        Ok(LocalStore::with_storage(storage, source))
    }

    pub fn with_storage(storage: Storage, source: &str) -> LocalStore {
        LocalStore {
            storage,
            key: storage_key(source),
            quarantine_key: quarantine_key(source),
            problems: Vec::new(),
            listener: None,
        }
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    fn snapshot(&mut self) -> Result<Snapshot, StoreError> {
        // Read as a JS string and converted in one go: the value can be a megabyte.
        let raw = self
            .storage
            .unchecked_ref::<crate::dom::js::JsStorage>()
            .get_item(&self.key)
            .map_err(|e| StoreError::Unavailable(describe(&e)))?
            .map(|s| crate::dom::js::to_string(&s));
        let Some(raw) = raw else {
            return Ok(Snapshot {
                annotations: Vec::new(),
                writable: true,
            });
        };
        let mut outcome = parse_stored(&raw);
        if outcome.corrupt.is_none() && outcome.invalid.is_empty() {
            // The usual case: nothing to quarantine, so no timestamp or records to build.
            return Ok(Snapshot {
                annotations: outcome.valid,
                writable: true,
            });
        }
        let now = rfc3339_from_unix_ms(js_sys::Date::now() as i64);
        let (records, whole_value) = match &outcome.corrupt {
            Some(error) => (
                vec![json_object(vec![
                    ("quarantinedAt", now.into()),
                    ("reason", error.as_str().into()),
                    ("raw", raw.into()),
                ])],
                true,
            ),
            None => {
                let records = std::mem::take(&mut outcome.invalid)
                    .into_iter()
                    .map(|value| {
                        let reason = match Annotation::from_value(value.clone()) {
                            Err(e) => e.to_string(),
                            Ok(_) => "not an annotation of this page".to_string(),
                        };
                        json_object(vec![
                            ("quarantinedAt", now.as_str().into()),
                            ("reason", reason.into()),
                            ("value", value),
                        ])
                    })
                    .collect();
                (records, false)
            }
        };
        let entries = records.len();
        if let Err(e) = self.append_quarantine(records) {
            self.problems.push(Problem::Unreadable(e.to_string()));
            return Ok(Snapshot {
                annotations: outcome.valid,
                writable: false,
            });
        }
        self.problems.push(Problem::Quarantined {
            key: self.quarantine_key.clone(),
            entries,
            whole_value,
        });
        // The unreadable part is safe in quarantine; keep only what loads. If this write fails
        // the key keeps its old value, which is also still readable next time.
        let _ = self.write(&outcome.valid);
        Ok(Snapshot {
            annotations: outcome.valid,
            writable: true,
        })
    }

    fn append_quarantine(&self, records: Vec<Value>) -> Result<(), StoreError> {
        append_quarantine(&self.storage, &self.quarantine_key, records)
    }

    fn write(&self, annotations: &[Annotation]) -> Result<(), StoreError> {
        if annotations.is_empty() {
            return self
                .storage
                .remove_item(&self.key)
                .map_err(|e| StoreError::Failed(describe(&e)));
        }
        let text = factmark_core::model::json_of(annotations);
        set_item(&self.storage, &self.key, &text)
    }

    /// Re-reads, applies `change`, writes back: another tab's writes since our last read survive.
    fn update(&mut self, change: impl FnOnce(&mut Vec<Annotation>)) -> Result<(), StoreError> {
        let mut snapshot = self.snapshot()?;
        if !snapshot.writable {
            return Err(StoreError::WouldOverwrite(self.key.clone()));
        }
        change(&mut snapshot.annotations);
        self.write(&snapshot.annotations)
    }
}

impl Store for LocalStore {
    fn load(&mut self) -> Vec<Annotation> {
        match self.snapshot() {
            Ok(snapshot) => snapshot.annotations,
            Err(e) => {
                self.problems.push(Problem::Unavailable(e.to_string()));
                Vec::new()
            }
        }
    }

    fn save(&mut self, annotations: &[Annotation]) -> Result<(), StoreError> {
        self.update(|list| upsert_all(list, annotations))
    }

    fn remove(&mut self, id: &str) -> Result<(), StoreError> {
        self.update(|list| list.retain(|a| a.id != id))
    }

    fn take_problems(&mut self) -> Vec<Problem> {
        std::mem::take(&mut self.problems)
    }

    /// Another tab changed this page's key (or cleared storage).
    fn watch(&mut self, on_change: Rc<dyn Fn()>) {
        let Some(window) = web_sys::window() else {
            return;
        };
        let key = self.key.clone();
        let storage = self.storage.clone();
        self.listener = Some(Listener::new(&window, "storage", move |event| {
            let Some(event) = event.dyn_ref::<StorageEvent>() else {
                return;
            };
            let ours = event
                .storage_area()
                .is_some_and(|area| JsValue::from(area) == JsValue::from(storage.clone()));
            let key_matches = event.key().is_none_or(|k| k == key);
            if ours && key_matches {
                on_change();
            }
        }));
    }

    fn close(&mut self) {
        self.listener = None;
    }
}

pub fn is_quota_error(error: &JsValue) -> bool {
    error.dyn_ref::<web_sys::DomException>().is_some_and(|e| {
        // Chrome/Safari: QuotaExceededError (code 22); old Firefox: NS_ERROR_DOM_QUOTA_REACHED.
        e.name() == "QuotaExceededError"
            || e.code() == 22
            || e.name() == "NS_ERROR_DOM_QUOTA_REACHED"
    })
}

/// Adds records to a quarantine key, keeping whatever it already holds, even unreadable.
pub(super) fn append_quarantine(
    storage: &Storage,
    key: &str,
    records: Vec<Value>,
) -> Result<(), StoreError> {
    let existing = storage
        .get_item(key)
        .map_err(|e| StoreError::Unavailable(describe(&e)))?;
    let mut all = match existing.as_deref().map(json::from_str) {
        None => Vec::new(),
        Some(Ok(Value::Array(items))) => items,
        // Never lose what was there, even if it is not ours or not readable.
        Some(_) => vec![json_object(vec![
            ("reason", "earlier quarantine value, kept as it was".into()),
            ("raw", existing.unwrap_or_default().into()),
        ])],
    };
    all.extend(records);
    let text = json::to_string(&Value::Array(all));
    set_item(storage, key, &text)
}

/// `setItem`, with a full quota told apart from other failures.
pub(super) fn set_item(storage: &Storage, key: &str, value: &str) -> Result<(), StoreError> {
    storage.set_item(key, value).map_err(|e| {
        if is_quota_error(&e) {
            StoreError::QuotaExceeded
        } else {
            StoreError::Failed(describe(&e))
        }
    })
}

pub(super) fn describe(error: &JsValue) -> String {
    if let Some(e) = error.dyn_ref::<web_sys::DomException>() {
        return format!("{}: {}", e.name(), e.message());
    }
    if let Some(e) = error.dyn_ref::<js_sys::Error>() {
        return String::from(e.message());
    }
    error.as_string().unwrap_or_else(|| "unknown error".into())
}
