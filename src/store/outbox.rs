//! The outbox in `localStorage` (`factmark:v1:outbox`, one for every page of the origin), and
//! the sync state the reader sees. The queue's rules live in `factmark_core::outbox`; this
//! file only reads and writes it.
//!
//! Every change is a fresh read, the change, and a write, so another tab's items survive.
//! Unreadable data is never overwritten: it is first appended to
//! `factmark:v1:quarantine:outbox`; if that fails, nothing is written.

use factmark_core::json::Value;
use factmark_core::model::rfc3339_from_unix_ms;
use factmark_core::order::SortedMap;
use factmark_core::outbox::{Outbox, ServerVersion, SyncState, OUTBOX_KEY, OUTBOX_QUARANTINE_KEY};
use web_sys::Storage;

use super::local::{append_quarantine, describe, set_item};
use super::{Problem, StoreError};

/// Where the outbox lives: `localStorage`, or this page's memory when storage is unusable.
pub struct OutboxStorage {
    storage: Option<Storage>,
    /// The stored text, when there is no `storage`: kept as text like `localStorage` keeps it,
    /// so both are read and written the same way.
    memory: Option<String>,
    problems: Vec<Problem>,
}

impl OutboxStorage {
    pub fn new(storage: Option<Storage>) -> OutboxStorage {
        OutboxStorage {
            storage,
            memory: None,
            problems: Vec::new(),
        }
    }

    pub fn storage(&self) -> Option<&Storage> {
        self.storage.as_ref()
    }

    pub fn take_problems(&mut self) -> Vec<Problem> {
        std::mem::take(&mut self.problems)
    }

    /// The outbox as stored now. Unreadable parts are moved to quarantine first; if they cannot
    /// be, the readable parts are returned but writing is refused (`Err` from [`Self::update`]).
    pub fn read(&mut self) -> Outbox {
        self.snapshot()
            .map(|(outbox, _)| outbox)
            .unwrap_or_else(|e| {
                self.problems.push(Problem::Unavailable(e.to_string()));
                Outbox::new()
            })
    }

    /// Reads, applies `change`, writes back if it changed anything (other tabs react to
    /// writes).
    pub fn update<R>(&mut self, change: impl FnOnce(&mut Outbox) -> R) -> Result<R, StoreError> {
        let (mut outbox, writable) = self.snapshot()?;
        if !writable {
            return Err(StoreError::WouldOverwrite(OUTBOX_KEY.into()));
        }
        // Compared as the stored text, which is what a write would change: a deep comparison
        // of outboxes would cost more wasm code.
        let before = outbox.to_json();
        let result = change(&mut outbox);
        let after = outbox.to_json();
        if after != before {
            self.write(&after)?;
        }
        Ok(result)
    }

    fn snapshot(&mut self) -> Result<(Outbox, bool), StoreError> {
        let raw = match &self.storage {
            Some(storage) => storage
                .get_item(OUTBOX_KEY)
                .map_err(|e| StoreError::Unavailable(describe(&e)))?,
            None => self.memory.clone(),
        };
        let Some(raw) = raw else {
            return Ok((Outbox::new(), true));
        };
        let loaded = Outbox::from_json(&raw);
        if loaded.quarantined.is_empty() {
            return Ok((loaded.outbox, true));
        }
        let records = loaded.quarantine_records(&rfc3339_from_unix_ms(js_sys::Date::now() as i64));
        let entries = records.len();
        if let Err(e) = self.append_quarantine(records) {
            self.problems
                .push(Problem::Unreadable(format!("{OUTBOX_KEY}: {e}")));
            return Ok((loaded.outbox, false));
        }
        self.problems.push(Problem::Quarantined {
            key: OUTBOX_QUARANTINE_KEY.into(),
            entries,
            whole_value: loaded.corrupt,
        });
        // The unreadable part is safe; keep what loads. A failed write leaves the old value,
        // which is quarantined again (a duplicate record, never a loss) next time.
        let _ = self.write(&loaded.outbox.to_json());
        Ok((loaded.outbox, true))
    }

    fn append_quarantine(&self, records: Vec<Value>) -> Result<(), StoreError> {
        match &self.storage {
            Some(storage) => append_quarantine(storage, OUTBOX_QUARANTINE_KEY, records),
            None => Ok(()),
        }
    }

    /// Stores an outbox's text ([`Outbox::to_json`]).
    fn write(&mut self, json: &str) -> Result<(), StoreError> {
        match &self.storage {
            None => {
                self.memory = Some(json.to_string());
                Ok(())
            }
            Some(storage) => set_item(storage, OUTBOX_KEY, json),
        }
    }
}

/// How the widget reaches its annotation server.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Connection {
    /// Not known yet (the first request is under way).
    #[default]
    Connecting,
    Online,
    /// The browser says it is offline.
    Offline,
    /// The browser is online but the server cannot be reached.
    Unreachable,
}

impl Connection {
    pub fn as_str(self) -> &'static str {
        match self {
            Connection::Connecting => "connecting",
            Connection::Online => "online",
            Connection::Offline => "offline",
            Connection::Unreachable => "unreachable",
        }
    }
}

/// What the panel shows about syncing with the endpoint.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SyncView {
    /// The endpoint (container IRI); `None` when annotations stay in this browser only.
    pub endpoint: Option<String>,
    pub connection: Connection,
    /// Per annotation; annotations not listed are saved locally only.
    pub states: SortedMap<String, SyncState>,
    /// Changes of this page not on the server yet.
    pub unsent: usize,
    /// Why the last attempt to reach the server failed, while it does.
    pub last_error: Option<String>,
    /// What the server holds for annotations in conflict.
    pub conflicts: SortedMap<String, ServerSide>,
}

/// The server's side of a conflict, for the reader to choose.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerSide {
    Deleted,
    Changed { note: Option<String> },
}

impl ServerSide {
    pub fn of(version: &ServerVersion) -> ServerSide {
        match version {
            ServerVersion::Deleted => ServerSide::Deleted,
            ServerVersion::Current { annotation, .. } => ServerSide::Changed {
                note: annotation.note().map(str::to_string),
            },
        }
    }
}

impl SyncView {
    pub fn enabled(&self) -> bool {
        self.endpoint.is_some()
    }

    pub fn state(&self, id: &str) -> SyncState {
        self.states
            .get(id)
            .cloned()
            .unwrap_or(SyncState::SavedLocally)
    }
}

/// The reader's answer to a sync problem of one annotation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncAction {
    /// Send a refused change again.
    Retry,
    /// Conflict: overwrite the server's version with the reader's.
    KeepMine,
    /// Conflict: drop the reader's change and take the server's version.
    TakeServer,
}
