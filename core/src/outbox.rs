//! The outbox of an endpoint-backed widget: changes waiting to reach a W3C Web Annotation
//! Protocol server, as plain data the browser persists (in `localStorage`, key [`OUTBOX_KEY`])
//! and a state machine that decides what to send next and what each HTTP outcome means.
//!
//! Nothing here does I/O or reads a clock: the browser shell passes `now_ms` (Unix time in
//! milliseconds) and a random number for jitter, sends the [`Request`]s, and hands back the
//! [`Outcome`]s. So every rule is tested natively.
//!
//! Identity: an annotation keeps the id it was created with (its *local id*, a `urn:uuid:`)
//! for its whole life in the browser. The server assigns its own IRI and keeps the local id in
//! `via`; a [`Link`] remembers the server IRI and the last ETag seen for each local id.
//!
//! Rules:
//! - Changes to one annotation are sent in the order they were made; a failed or conflicting
//!   change holds back the later changes of that annotation only.
//! - A change not sent yet is coalesced with the next one: create + edit → one create with the
//!   latest body; create + delete → nothing is sent.
//! - 2xx → done. Network errors, 408, 425, 429 and 5xx → retried with exponential backoff with
//!   jitter, never sooner than `Retry-After`. 412 → the current version is fetched: if it already
//!   is what we sent, done; if it is the version the change started from, resend with its ETag;
//!   otherwise the change is marked [`ItemState::Conflict`] for the reader. Other 4xx →
//!   [`ItemState::Failed`] with the server's message; the item is kept.
//! - Items are never dropped because they could not be read back: see [`Outbox::from_json`].

use crate::order::{insert_sorted, SortedMap};

use crate::json::{self, Map, Value};
use serde::{Deserialize, Serialize};

use crate::model::{days_from_civil, days_in_month, json_object, json_text, quoted, Annotation};

/// `localStorage` key of the outbox, shared by every page of the origin.
pub const OUTBOX_KEY: &str = "factmark:v1:outbox";
/// Where unreadable outbox data is moved aside (appended, never overwritten).
pub const OUTBOX_QUARANTINE_KEY: &str = "factmark:v1:quarantine:outbox";
/// The W3C Web Annotation Protocol media type, for `Content-Type` and `Accept`.
pub const ANNO_MEDIA_TYPE: &str =
    r#"application/ld+json; profile="http://www.w3.org/ns/anno.jsonld""#;
/// Version of the persisted shape.
pub const FORMAT_VERSION: u64 = 1;

/// First retry delay; doubled per attempt.
pub const BACKOFF_BASE_MS: i64 = 1_000;
/// Longest wait between two attempts.
pub const BACKOFF_CAP_MS: i64 = 5 * 60 * 1_000;
/// Longest `Retry-After` honoured; a server asking for more is asked again after this.
pub const RETRY_AFTER_CAP_MS: i64 = 60 * 60 * 1_000;
/// An item marked sending for longer than this was abandoned (its page was closed mid-request).
pub const SENDING_STALE_MS: i64 = 60_000;
/// Longest server message kept with a failed item.
const MAX_MESSAGE_CHARS: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    Create,
    Update,
    Delete,
}

/// The server's copy of an annotation, as found when a change conflicted with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ServerVersion {
    /// Someone else deleted it.
    Deleted,
    /// Someone else changed it: this is their version (in local form) and its ETag.
    Current {
        #[serde(with = "annotation_json")]
        annotation: Box<Annotation>,
        etag: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum ItemState {
    /// Waiting to be sent (first time or again after a retryable failure).
    Pending,
    /// A request for it is under way, sent by the page identified by `by`.
    #[serde(rename_all = "camelCase")]
    Sending { since_ms: i64, by: String },
    /// Refused by the server (4xx); kept until the reader retries or deletes the annotation.
    Failed { status: u16, message: String },
    /// The server's copy changed since this change was made; the reader chooses.
    #[serde(rename_all = "camelCase")]
    Conflict { server_version: ServerVersion },
}

/// One change waiting for the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Item {
    /// Position in the outbox; requests and completions name items by it.
    pub seq: u64,
    pub op: Op,
    /// The annotation's local id.
    pub id: String,
    /// The page the annotation is on (`target.source`).
    pub source: String,
    /// Container IRI of the endpoint the change goes to.
    pub endpoint: String,
    /// The annotation to create or store (`None` for a delete).
    #[serde(default, with = "option_annotation_json")]
    pub body: Option<Annotation>,
    /// `If-Match` for update and delete; `None` = look the current one up first.
    #[serde(default)]
    pub etag: Option<String>,
    /// [`fingerprint`] of the version this change was made from, when the server's ETag of that
    /// version is not known: lets a fetched copy tell "unchanged since" from "changed by others".
    #[serde(default)]
    pub base: Option<String>,
    #[serde(default)]
    pub attempts: u32,
    #[serde(default)]
    pub next_attempt_at_ms: i64,
    /// Set from `Retry-After`: not before this, even when the network comes back.
    #[serde(default)]
    pub not_before_ms: i64,
    #[serde(default)]
    pub queued_at_ms: i64,
    /// Why the last attempt did not succeed (shown while it waits to retry).
    #[serde(default)]
    pub last_error: Option<String>,
    pub state: ItemState,
}

/// What the browser knows about the server's copy of an annotation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Link {
    /// The annotation's IRI on the server.
    pub server_id: String,
    /// ETag of the last version exchanged with the server, if known.
    #[serde(default)]
    pub etag: Option<String>,
    pub source: String,
    pub endpoint: String,
}

/// The persisted outbox: items in order, and links by local id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outbox {
    items: Vec<Item>,
    links: SortedMap<String, Link>,
    next_seq: u64,
}

/// One HTTP request to make, and what it is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub seq: u64,
    pub kind: RequestKind,
    /// The annotation's local id.
    pub id: String,
    pub source: String,
    pub endpoint: String,
    pub method: &'static str,
    pub url: String,
    /// Request headers besides the defaults (`Accept` is always [`ANNO_MEDIA_TYPE`]).
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    Create,
    Update,
    Delete,
    /// `GET` of the annotation, to learn its current version and ETag before changing it.
    FetchCurrent,
}

/// What came back for a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Response(Response),
    /// No HTTP response at all: offline, refused connection, DNS, CORS, timeout.
    NetworkError(String),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub etag: Option<String>,
    pub location: Option<String>,
    pub retry_after: Option<String>,
    pub body: String,
}

/// What a completion means for the page's local copy.
#[derive(Debug, Clone, PartialEq)]
pub enum LocalChange {
    /// Leave the local copy as it is.
    Keep,
    /// Store this version (the server's, in local form) under the annotation's id.
    Replace(Box<Annotation>),
    /// The annotation is gone.
    Remove,
}

/// The result of [`Outbox::complete`].
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    pub id: String,
    pub source: String,
    /// The server answered (the network works), whatever it said.
    pub reached_server: bool,
    pub local: LocalChange,
    pub result: Settled,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Settled {
    /// The change is on the server; the item is gone.
    Done,
    /// The same item goes out again (an ETag was learned, or a retry) at `at_ms`.
    Again {
        at_ms: i64,
    },
    Failed {
        status: u16,
        message: String,
    },
    Conflict,
    /// The item was no longer in the outbox (another tab finished or the reader removed it).
    Gone,
}

/// Per-annotation state for the reader.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "camelCase")]
pub enum SyncState {
    /// Kept in this browser; not (yet) on the server.
    SavedLocally,
    Sending,
    /// On the server, as shown.
    Saved,
    Failed {
        message: String,
    },
    Conflict,
}

impl SyncState {
    pub fn as_str(&self) -> &'static str {
        match self {
            SyncState::SavedLocally => "local",
            SyncState::Sending => "sending",
            SyncState::Saved => "saved",
            SyncState::Failed { .. } => "failed",
            SyncState::Conflict => "conflict",
        }
    }
}

/// A server item that could not be taken in, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    pub value: Value,
    pub reason: String,
}

/// The result of [`Outbox::merge`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Merged {
    /// What the page shows and the local copy stores, in local form.
    pub annotations: Vec<Annotation>,
    pub rejected: Vec<Rejected>,
    /// Local annotations the server does not have and never had: queued for creation.
    pub queued: Vec<String>,
    /// Local annotations the server had and no longer has (deleted elsewhere).
    pub removed: Vec<String>,
}

/// The outbox as read from storage, plus what could not be read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Loaded {
    pub outbox: Outbox,
    /// Unreadable parts, as records for the quarantine key (without a timestamp).
    pub quarantined: Vec<Value>,
    /// True when the whole stored value was unusable.
    pub corrupt: bool,
}

impl Loaded {
    /// Quarantine records stamped with `now` (an RFC 3339 time).
    pub fn quarantine_records(&self, now: &str) -> Vec<Value> {
        self.quarantined
            .iter()
            .map(|record| {
                let mut record = record.clone();
                if let Value::Object(map) = &mut record {
                    map.insert("quarantinedAt".into(), Value::String(now.to_string()));
                }
                record
            })
            .collect()
    }
}

/// A stable digest of an annotation's content, to compare versions without keeping them.
pub fn fingerprint(annotation: &Annotation) -> String {
    let text = annotation.to_json();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// Delay before attempt number `attempts + 1`, after `attempts` failures (at least one):
/// `BASE · 2^(attempts-1)`, capped, with "equal jitter" (half fixed, half random) so clients
/// that failed together do not come back together. `random` is in `[0, 1)`.
pub fn backoff_ms(attempts: u32, random: f64) -> i64 {
    let exponent = attempts.saturating_sub(1).min(30);
    let full = BACKOFF_BASE_MS
        .saturating_mul(1_i64 << exponent)
        .min(BACKOFF_CAP_MS);
    let random = if random.is_finite() {
        random.clamp(0.0, 1.0)
    } else {
        0.5
    };
    full / 2 + ((full / 2) as f64 * random) as i64
}

/// The wait a `Retry-After` header asks for, in milliseconds from `now_ms`: delay-seconds or
/// an HTTP date (IMF-fixdate, RFC 850 or asctime). `None` when it is neither; a date in the
/// past is 0; capped at [`RETRY_AFTER_CAP_MS`].
pub fn parse_retry_after(value: &str, now_ms: i64) -> Option<i64> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        let seconds: i64 = value.parse().unwrap_or(i64::MAX);
        return Some(seconds.saturating_mul(1000).min(RETRY_AFTER_CAP_MS));
    }
    let at_ms = parse_http_date(value)?.checked_mul(1000)?;
    Some((at_ms - now_ms).clamp(0, RETRY_AFTER_CAP_MS))
}

/// Seconds since the Unix epoch of an HTTP date (RFC 9110 §5.6.7).
pub fn parse_http_date(s: &str) -> Option<i64> {
    let words: Vec<&str> = s.split_whitespace().collect();
    let (day, month, year, clock) = match words.as_slice() {
        // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
        [weekday, day, month, year, clock, "GMT"] if weekday.ends_with(',') && year.len() == 4 => {
            (day.parse().ok()?, *month, year.parse().ok()?, *clock)
        }
        // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
        [weekday, date, clock, "GMT"] if weekday.ends_with(',') => {
            let mut parts = date.split('-');
            let (day, month, year) = (parts.next()?, parts.next()?, parts.next()?);
            if parts.next().is_some() || year.len() != 2 {
                return None;
            }
            let yy: i32 = year.parse().ok()?;
            // Two-digit years: RFC 9110 says to read a year more than 50 years ahead as past.
            let year = if yy < 70 { 2000 + yy } else { 1900 + yy };
            (day.parse().ok()?, month, year, *clock)
        }
        // asctime: Sun Nov  6 08:49:37 1994
        [_weekday, month, day, clock, year] if year.len() == 4 => {
            (day.parse().ok()?, *month, year.parse().ok()?, *clock)
        }
        _ => return None,
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| *m == month)? as u32 + 1;
    let mut hms = clock.split(':');
    let mut field = |max: u8| -> Option<u8> {
        let part = hms.next()?;
        (part.len() == 2).then_some(())?;
        part.parse::<u8>().ok().filter(|v| *v <= max)
    };
    let (hour, minute, second) = (field(23)?, field(59)?, field(60)?);
    if hms.next().is_some() {
        return None;
    }
    let year: i32 = year;
    let day: u32 = day;
    if !(-9999..=9999).contains(&year) || day == 0 || day > days_in_month(i64::from(year), month) {
        return None;
    }
    // A leap second names the same instant as the next second's start, near enough.
    let clock = i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second.min(59));
    Some(days_from_civil(i64::from(year), month, day) * 86_400 + clock)
}

/// The reader-facing message of an error response: the server's `{"error": "..."}`, else the
/// start of its text, else the status.
pub fn error_message(status: u16, body: &str) -> String {
    let from_json = json::from_str(body)
        .ok()
        .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_string));
    let text = from_json.unwrap_or_else(|| {
        let trimmed = body.trim();
        let looks_like_text = !trimmed.is_empty() && !trimmed.starts_with('<');
        if looks_like_text {
            trimmed.to_string()
        } else {
            String::new()
        }
    });
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let text = if text.chars().count() > MAX_MESSAGE_CHARS {
        let mut cut: String = text.chars().take(MAX_MESSAGE_CHARS - 1).collect();
        cut.push('…');
        cut
    } else {
        text
    };
    if text.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}: {text}")
    }
}

fn retryable(status: u16) -> bool {
    matches!(status, 408 | 425 | 429) || status >= 500
}

/// An annotation as the server returned it, in local form: the local id in `id` (the first
/// `urn:uuid:` in `via`, else the server IRI) and that id taken out of `via`. Returns the
/// annotation and its server IRI.
pub fn to_local(
    server: Value,
    links: &SortedMap<String, Link>,
) -> Result<(Annotation, String), String> {
    to_local_as(server, links, None)
}

/// [`to_local`], when the caller knows which local id the annotation has (a response to its
/// own request).
fn to_local_as(
    server: Value,
    links: &SortedMap<String, Link>,
    known: Option<&str>,
) -> Result<(Annotation, String), String> {
    let Value::Object(mut object) = server else {
        return Err("not a JSON object".into());
    };
    let server_id = match object.get("id") {
        Some(Value::String(id)) if !id.is_empty() => id.clone(),
        _ => return Err("id: missing (the server must give every annotation its IRI)".into()),
    };
    fn local_via(via: &Value) -> Option<&str> {
        via.as_str().filter(|v| v.starts_with("urn:uuid:"))
    }
    let linked = links
        .iter()
        .find(|(_, link)| link.server_id == server_id)
        .map(|(id, _)| id.as_str());
    let local_id = known
        .or(linked)
        .or_else(|| match object.get("via") {
            Some(Value::Array(list)) => list.iter().find_map(local_via),
            Some(via) => local_via(via),
            None => None,
        })
        .unwrap_or(&server_id)
        .to_string();
    if local_id != server_id {
        strip_via(&mut object, &local_id);
    }
    object.insert("id".into(), Value::String(local_id));
    let annotation = Annotation::from_value(Value::Object(object)).map_err(|e| e.to_string())?;
    Ok((annotation, server_id))
}

fn strip_via(object: &mut Map, local_id: &str) {
    let remove = match object.get_mut("via") {
        Some(Value::String(v)) => v == local_id,
        Some(Value::Array(list)) => {
            list.retain(|v| v.as_str() != Some(local_id));
            if list.len() == 1 {
                let only = list.remove(0);
                object.insert("via".into(), only);
                false
            } else {
                list.is_empty()
            }
        }
        _ => false,
    };
    if remove {
        object.shift_remove("via");
    }
}

impl Outbox {
    pub fn new() -> Outbox {
        Outbox::default()
    }

    pub fn items(&self) -> &[Item] {
        &self.items
    }

    pub fn links(&self) -> &SortedMap<String, Link> {
        &self.links
    }

    pub fn link(&self, id: &str) -> Option<&Link> {
        self.links.get(id)
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    fn items_for<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a Item> + 'a {
        self.items.iter().filter(move |item| item.id == id)
    }

    fn position(&self, seq: u64) -> Option<usize> {
        self.items.iter().position(|item| item.seq == seq)
    }

    fn push(&mut self, item: Item) {
        self.items.push(item);
    }

    fn new_item(&mut self, op: Op, id: &str, source: &str, endpoint: &str, now_ms: i64) -> Item {
        let seq = self.next_seq;
        self.next_seq += 1;
        Item {
            seq,
            op,
            id: id.to_string(),
            source: source.to_string(),
            endpoint: endpoint.to_string(),
            body: None,
            etag: None,
            base: None,
            attempts: 0,
            next_attempt_at_ms: now_ms,
            not_before_ms: 0,
            queued_at_ms: now_ms,
            last_error: None,
            state: ItemState::Pending,
        }
    }

    /// Is the server's copy of `id` known, at this endpoint?
    /// Ids of `source`'s annotations the server has at `endpoint`, as far as this outbox knows.
    pub fn linked_ids(&self, source: &str, endpoint: &str) -> Vec<String> {
        self.links
            .iter()
            .filter(|(_, link)| link.source == source && link.endpoint == endpoint)
            .map(|(id, _)| id.clone())
            .collect()
    }

    fn linked_at(&self, id: &str, endpoint: &str) -> Option<&Link> {
        self.links.get(id).filter(|link| link.endpoint == endpoint)
    }

    /// Records a created or edited annotation. `previous` is the version it replaces as the
    /// page had it (for an edit), used to detect changes made elsewhere meanwhile.
    pub fn save(
        &mut self,
        endpoint: &str,
        annotation: Annotation,
        previous: Option<&Annotation>,
        now_ms: i64,
    ) {
        let id = annotation.id.clone();
        let source = annotation.source().unwrap_or_default().to_string();
        // The last unsent create or update of this annotation takes the new body instead.
        let last = self.items.iter_mut().rev().find(|item| item.id == id);
        if let Some(item) = last {
            let unsent = matches!(item.state, ItemState::Pending | ItemState::Failed { .. });
            if unsent && item.op != Op::Delete && item.endpoint == endpoint {
                item.body = Some(annotation);
                item.state = ItemState::Pending;
                item.attempts = 0;
                item.next_attempt_at_ms = now_ms.max(item.not_before_ms);
                item.last_error = None;
                return;
            }
            if unsent && item.op == Op::Delete {
                // Saved again before the delete went out (undo, re-import): forget the delete.
                let seq = item.seq;
                self.items.retain(|i| i.seq != seq);
                return self.save(endpoint, annotation, previous, now_ms);
            }
        }
        let after_unfinished = self
            .items_for(&id)
            .any(|item| item.endpoint == endpoint && item.op != Op::Delete);
        let known = self.linked_at(&id, endpoint).cloned();
        let op = if known.is_some() || after_unfinished {
            Op::Update
        } else {
            Op::Create
        };
        let mut item = self.new_item(op, &id, &source, endpoint, now_ms);
        if op == Op::Update {
            // Behind a change still under way, the ETag to use is the one that change yields.
            item.etag = if after_unfinished {
                None
            } else {
                known.as_ref().and_then(|l| l.etag.clone())
            };
            item.base = previous.map(fingerprint);
        }
        item.body = Some(annotation);
        self.push(item);
    }

    /// Records a deletion. Unsent changes of the annotation are dropped; if the server never
    /// heard of it, nothing is sent at all.
    pub fn delete(
        &mut self,
        endpoint: &str,
        id: &str,
        source: &str,
        previous: Option<&Annotation>,
        now_ms: i64,
    ) {
        // A request under way cannot be called back; everything else for this id is moot.
        let in_flight = self
            .items_for(id)
            .any(|item| matches!(item.state, ItemState::Sending { .. }));
        self.items
            .retain(|item| item.id != id || matches!(item.state, ItemState::Sending { .. }));
        let known = self.linked_at(id, endpoint).cloned();
        if known.is_none() && !in_flight {
            return;
        }
        let mut item = self.new_item(Op::Delete, id, source, endpoint, now_ms);
        item.etag = if in_flight {
            None
        } else {
            known.and_then(|l| l.etag)
        };
        item.base = previous.map(fingerprint);
        self.push(item);
    }

    /// Marks items this page (`by`) was sending when it was last closed as pending again.
    pub fn recover(&mut self, by: &str) {
        for item in &mut self.items {
            if matches!(&item.state, ItemState::Sending { by: who, .. } if who == by) {
                item.state = ItemState::Pending;
            }
        }
    }

    /// The network is back: items waiting after failures go now (`Retry-After` still holds).
    pub fn wake(&mut self, now_ms: i64) {
        for item in &mut self.items {
            if item.state == ItemState::Pending {
                item.next_attempt_at_ms =
                    item.next_attempt_at_ms.min(now_ms.max(item.not_before_ms));
            }
        }
    }

    /// The first item that may go now to `endpoint`, marked as sent by `by`; `None` when
    /// nothing is due. Only the oldest item of each annotation is considered.
    pub fn take_next(&mut self, endpoint: &str, now_ms: i64, by: &str) -> Option<Request> {
        let mut seen = Vec::new();
        let mut chosen = None;
        for (index, item) in self.items.iter().enumerate() {
            if !insert_sorted(&mut seen, item.id.as_str()) || item.endpoint != endpoint {
                continue;
            }
            let due = match &item.state {
                ItemState::Pending => item.next_attempt_at_ms <= now_ms,
                ItemState::Sending { since_ms, .. } => now_ms - since_ms >= SENDING_STALE_MS,
                ItemState::Failed { .. } | ItemState::Conflict { .. } => false,
            };
            if due {
                chosen = Some(index);
                break;
            }
        }
        let index = chosen?;
        let link = self
            .links
            .get(&self.items[index].id)
            .filter(|l| l.endpoint == endpoint)
            .cloned();
        let item = &mut self.items[index];
        // A change to an annotation the server does not know (it was deleted there, or the
        // link was lost) creates it; a delete of one is already done.
        if item.op != Op::Create && link.is_none() {
            match item.op {
                Op::Delete => {
                    let seq = item.seq;
                    self.items.retain(|i| i.seq != seq);
                    return self.take_next(endpoint, now_ms, by);
                }
                _ => {
                    item.op = Op::Create;
                    item.etag = None;
                }
            }
        }
        if item.etag.is_none() {
            item.etag = link.as_ref().and_then(|l| l.etag.clone());
        }
        item.state = ItemState::Sending {
            since_ms: now_ms,
            by: by.to_string(),
        };
        Some(request_for(item, link.as_ref()))
    }

    /// Earliest time an item for `endpoint` becomes due, if any is waiting.
    pub fn next_wakeup(&self, endpoint: &str) -> Option<i64> {
        let mut seen = Vec::new();
        self.items
            .iter()
            .filter(|item| insert_sorted(&mut seen, item.id.as_str()) && item.endpoint == endpoint)
            .filter_map(|item| match &item.state {
                ItemState::Pending => Some(item.next_attempt_at_ms),
                ItemState::Sending { since_ms, .. } => Some(since_ms + SENDING_STALE_MS),
                _ => None,
            })
            .min()
    }

    /// Applies what came back for `request`. `random` in `[0, 1)` jitters retry delays.
    pub fn complete(
        &mut self,
        request: &Request,
        outcome: Outcome,
        now_ms: i64,
        random: f64,
    ) -> Completion {
        let mut done = Completion {
            id: request.id.clone(),
            source: request.source.clone(),
            reached_server: matches!(outcome, Outcome::Response(_)),
            local: LocalChange::Keep,
            result: Settled::Gone,
        };
        let response = match outcome {
            Outcome::NetworkError(why) => {
                done.result = self.retry_later(request.seq, None, &why, now_ms, random);
                return done;
            }
            Outcome::Response(response) => response,
        };
        let status = response.status;
        let ok = (200..300).contains(&status);

        // What the server now holds is recorded even if the item is gone meanwhile.
        match request.kind {
            RequestKind::Create | RequestKind::Update if ok => {
                let stored = json::from_str(&response.body)
                    .ok()
                    .and_then(|v| to_local_as(v, &self.links, Some(&request.id)).ok());
                let server_id = response
                    .location
                    .clone()
                    .or_else(|| stored.as_ref().map(|(_, iri)| iri.clone()))
                    .or_else(|| self.links.get(&request.id).map(|l| l.server_id.clone()));
                let Some(server_id) = server_id else {
                    let message = "the server stored the annotation but did not say where (no Location, no id)";
                    done.result = self.fail(request.seq, status, message.to_string());
                    return done;
                };
                self.links.insert(
                    request.id.clone(),
                    Link {
                        server_id,
                        etag: response.etag.clone(),
                        source: request.source.clone(),
                        endpoint: request.endpoint.clone(),
                    },
                );
                // 200 to a create: the server had this client id already (an earlier attempt
                // arrived). If the reader edited since, the body sent now is not what it has.
                if request.kind == RequestKind::Create && status != 201 {
                    if let (Some(index), Some((stored, _))) =
                        (self.position(request.seq), stored.as_ref())
                    {
                        let item = &mut self.items[index];
                        let mut stored = stored.clone();
                        stored.id = request.id.clone();
                        if item
                            .body
                            .as_ref()
                            .is_some_and(|body| fingerprint(body) != fingerprint(&stored))
                        {
                            item.op = Op::Update;
                            item.etag = response.etag.clone();
                            item.base = Some(fingerprint(&stored));
                            item.state = ItemState::Pending;
                            item.next_attempt_at_ms = now_ms;
                            done.result = Settled::Again { at_ms: now_ms };
                            return done;
                        }
                    }
                }
                self.finish(request.seq);
                done.result = Settled::Done;
                if !self.items_for(&request.id).any(|_| true) {
                    if let Some((mut annotation, _)) = stored {
                        // The server's copy is the reference now, under our id.
                        annotation.id = request.id.clone();
                        done.local = LocalChange::Replace(Box::new(annotation));
                    }
                }
                return done;
            }
            RequestKind::Delete if ok || status == 404 || status == 410 => {
                self.links.remove(&request.id);
                self.finish(request.seq);
                done.result = Settled::Done;
                return done;
            }
            RequestKind::FetchCurrent if ok || status == 404 || status == 410 => {
                done.result = self.verify(request, &response, now_ms);
                return done;
            }
            _ => {}
        }

        if retryable(status) {
            let wait = response
                .retry_after
                .as_deref()
                .and_then(|v| parse_retry_after(v, now_ms));
            let message = error_message(status, &response.body);
            done.result = self.retry_later(request.seq, wait, &message, now_ms, random);
            return done;
        }
        match (request.kind, status) {
            // Someone else changed it: look at their version before bothering the reader.
            (RequestKind::Update | RequestKind::Delete, 412) => {
                if let Some(link) = self.links.get_mut(&request.id) {
                    link.etag = None;
                }
                done.result = match self.position(request.seq) {
                    Some(index) => {
                        let item = &mut self.items[index];
                        item.etag = None;
                        item.state = ItemState::Pending;
                        item.next_attempt_at_ms = now_ms;
                        item.last_error = Some(error_message(status, &response.body));
                        Settled::Again { at_ms: now_ms }
                    }
                    None => Settled::Gone,
                };
            }
            (RequestKind::Update, 404 | 410) => {
                self.links.remove(&request.id);
                done.result = self.conflict(request.seq, ServerVersion::Deleted);
            }
            _ => {
                done.result = self.fail(request.seq, status, error_message(status, &response.body))
            }
        }
        done
    }

    /// After a `GET` of the annotation: decide whether the pending change still applies.
    fn verify(&mut self, request: &Request, response: &Response, now_ms: i64) -> Settled {
        let Some(index) = self.position(request.seq) else {
            return Settled::Gone;
        };
        if response.status == 404 || response.status == 410 {
            self.links.remove(&request.id);
            let item = &mut self.items[index];
            return match item.op {
                // Gone already: what we wanted.
                Op::Delete => {
                    self.finish(request.seq);
                    Settled::Done
                }
                _ => self.conflict(request.seq, ServerVersion::Deleted),
            };
        }
        let current = json::from_str(&response.body)
            .map_err(|e| e.to_string())
            .and_then(|v| to_local_as(v, &self.links, Some(&request.id)));
        let (mut current, server_id) = match current {
            Ok(found) => found,
            Err(why) => {
                let message = format!("the server's copy could not be read: {why}");
                return self.fail(request.seq, response.status, message);
            }
        };
        current.id = request.id.clone();
        let link = Link {
            server_id,
            etag: response.etag.clone(),
            source: request.source.clone(),
            endpoint: request.endpoint.clone(),
        };
        let item = &mut self.items[index];
        let current_print = fingerprint(&current);
        let already_applied = item
            .body
            .as_ref()
            .is_some_and(|body| fingerprint(body) == current_print);
        let unchanged_since = item.base.as_deref() == Some(current_print.as_str());
        if already_applied && item.op != Op::Delete {
            self.links.insert(request.id.clone(), link);
            self.finish(request.seq);
            return Settled::Done;
        }
        if unchanged_since && response.etag.is_some() {
            item.etag = response.etag.clone();
            item.state = ItemState::Pending;
            item.next_attempt_at_ms = now_ms;
            self.links.insert(request.id.clone(), link);
            return Settled::Again { at_ms: now_ms };
        }
        let etag = response.etag.clone();
        self.links.insert(request.id.clone(), link);
        self.conflict(
            request.seq,
            ServerVersion::Current {
                annotation: Box::new(current),
                etag,
            },
        )
    }

    fn finish(&mut self, seq: u64) {
        self.items.retain(|item| item.seq != seq);
    }

    fn retry_later(
        &mut self,
        seq: u64,
        retry_after: Option<i64>,
        why: &str,
        now_ms: i64,
        random: f64,
    ) -> Settled {
        let Some(index) = self.position(seq) else {
            return Settled::Gone;
        };
        let item = &mut self.items[index];
        item.attempts = item.attempts.saturating_add(1);
        let backoff = backoff_ms(item.attempts, random);
        let at_ms = now_ms + backoff.max(retry_after.unwrap_or(0));
        item.not_before_ms = retry_after.map_or(0, |wait| now_ms + wait);
        item.next_attempt_at_ms = at_ms;
        item.state = ItemState::Pending;
        item.last_error = Some(why.to_string());
        Settled::Again { at_ms }
    }

    fn fail(&mut self, seq: u64, status: u16, message: String) -> Settled {
        let Some(index) = self.position(seq) else {
            return Settled::Gone;
        };
        let (op, id) = (self.items[index].op, self.items[index].id.clone());
        let deleted_after = self.items[index + 1..]
            .iter()
            .any(|i| i.id == id && i.op == Op::Delete);
        if op == Op::Create && deleted_after && !self.links.contains_key(&id) {
            // Refused, and deleted by the reader meanwhile: the server never had it.
            self.items.retain(|i| i.id != id);
            return Settled::Done;
        }
        let item = &mut self.items[index];
        item.attempts = item.attempts.saturating_add(1);
        item.state = ItemState::Failed {
            status,
            message: message.clone(),
        };
        Settled::Failed { status, message }
    }

    fn conflict(&mut self, seq: u64, server_version: ServerVersion) -> Settled {
        let Some(index) = self.position(seq) else {
            return Settled::Gone;
        };
        let item = &mut self.items[index];
        item.state = ItemState::Conflict { server_version };
        Settled::Conflict
    }

    /// The reader asks to send a failed change again.
    pub fn retry(&mut self, id: &str, now_ms: i64) -> bool {
        let mut changed = false;
        for item in self.items.iter_mut().filter(|item| item.id == id) {
            if matches!(item.state, ItemState::Failed { .. }) {
                item.state = ItemState::Pending;
                item.attempts = 0;
                item.next_attempt_at_ms = now_ms.max(item.not_before_ms);
                changed = true;
            }
        }
        changed
    }

    /// The reader resolves a conflict by keeping their version: it overwrites the server's
    /// (or re-creates the annotation if the server's was deleted; or deletes it anyway).
    pub fn keep_local(&mut self, id: &str, now_ms: i64) -> bool {
        let Some(index) = self
            .items
            .iter()
            .position(|item| item.id == id && matches!(item.state, ItemState::Conflict { .. }))
        else {
            return false;
        };
        let item = &mut self.items[index];
        let ItemState::Conflict { server_version } =
            std::mem::replace(&mut item.state, ItemState::Pending)
        else {
            return false;
        };
        item.attempts = 0;
        item.next_attempt_at_ms = now_ms;
        item.last_error = None;
        match server_version {
            ServerVersion::Current { annotation, etag } => {
                // Overwrite exactly the version the reader was shown.
                item.etag = etag;
                item.base = Some(fingerprint(&annotation));
            }
            ServerVersion::Deleted if item.op == Op::Delete => {
                let seq = item.seq;
                self.finish(seq);
            }
            ServerVersion::Deleted => {
                item.op = Op::Create;
                item.etag = None;
                item.base = None;
                self.links.remove(id);
            }
        }
        true
    }

    /// The reader resolves a conflict by taking the server's version: their unsent changes of
    /// this annotation are dropped. Returns what the local copy must become.
    pub fn take_server(&mut self, id: &str) -> Option<LocalChange> {
        let server_version = self.items.iter().find_map(|item| match &item.state {
            ItemState::Conflict { server_version } if item.id == id => Some(server_version.clone()),
            _ => None,
        })?;
        self.items
            .retain(|item| item.id != id || matches!(item.state, ItemState::Sending { .. }));
        Some(match server_version {
            ServerVersion::Deleted => {
                self.links.remove(id);
                LocalChange::Remove
            }
            ServerVersion::Current { annotation, etag } => {
                if let Some(link) = self.links.get_mut(id) {
                    link.etag = etag;
                }
                LocalChange::Replace(annotation)
            }
        })
    }

    /// The conflicting server version of `id`, for the reader to compare.
    pub fn conflict_of(&self, id: &str) -> Option<&ServerVersion> {
        self.items.iter().find_map(|item| match &item.state {
            ItemState::Conflict { server_version } if item.id == id => Some(server_version),
            _ => None,
        })
    }

    /// The state the reader sees for one annotation.
    pub fn sync_state(&self, id: &str, endpoint: &str) -> SyncState {
        let mut state: Option<SyncState> = None;
        let rank = |s: &SyncState| match s {
            SyncState::Conflict => 4,
            SyncState::Failed { .. } => 3,
            SyncState::Sending => 2,
            _ => 1,
        };
        for item in self.items_for(id).filter(|item| item.endpoint == endpoint) {
            let this = match &item.state {
                ItemState::Pending => SyncState::SavedLocally,
                ItemState::Sending { .. } => SyncState::Sending,
                ItemState::Failed { message, .. } => SyncState::Failed {
                    message: message.clone(),
                },
                ItemState::Conflict { .. } => SyncState::Conflict,
            };
            if state.as_ref().is_none_or(|s| rank(&this) > rank(s)) {
                state = Some(this);
            }
        }
        state.unwrap_or_else(|| {
            if self.linked_at(id, endpoint).is_some() {
                SyncState::Saved
            } else {
                SyncState::SavedLocally
            }
        })
    }

    /// Sync states of every annotation of `source` the outbox knows about.
    pub fn sync_states(&self, source: &str, endpoint: &str) -> SortedMap<String, SyncState> {
        let ids = self
            .items
            .iter()
            .filter(|item| item.source == source && item.endpoint == endpoint)
            .map(|item| item.id.as_str())
            .chain(
                self.links
                    .iter()
                    .filter(|(_, link)| link.source == source && link.endpoint == endpoint)
                    .map(|(id, _)| id.as_str()),
            );
        let mut states = SortedMap::new();
        for id in ids {
            states.insert(id.to_string(), self.sync_state(id, endpoint));
        }
        states
    }

    /// Items of `source` not on the server yet (pending, sending, failed or in conflict).
    pub fn unsent(&self, source: &str) -> usize {
        self.items
            .iter()
            .filter(|item| item.source == source)
            .count()
    }

    /// What the page should show for `source` given its local copy and the outbox: the local
    /// copy, plus unsent bodies it lacks, minus unsent deletes.
    pub fn overlay(&self, source: &str, mut local: Vec<Annotation>) -> Vec<Annotation> {
        let mut last: SortedMap<&str, &Item> = SortedMap::new();
        for item in self.items.iter().filter(|item| item.source == source) {
            last.insert(item.id.as_str(), item);
        }
        for (id, item) in last {
            match (&item.op, &item.body) {
                (Op::Delete, _) => local.retain(|a| a.id != id),
                (_, Some(body)) if !local.iter().any(|a| a.id == id) => local.push(body.clone()),
                _ => {}
            }
        }
        local
    }

    /// Merges the server's annotations of `source` (all pages of the listing, as JSON) with the
    /// local copy: by id; the server wins unless the outbox holds changes of that annotation.
    /// Local annotations the server never had are queued for creation; ones it had and no
    /// longer has were deleted elsewhere and go.
    ///
    /// `newer_here`: annotations whose change (create, edit or delete) the server acknowledged
    /// after this listing was requested. For those the local copy is newer than the listing,
    /// so a create missing from it is not "deleted elsewhere" and a delete still listed is not
    /// brought back.
    pub fn merge(
        &mut self,
        source: &str,
        endpoint: &str,
        local: Vec<Annotation>,
        server: Vec<Value>,
        now_ms: i64,
        newer_here: &[String],
    ) -> Merged {
        let mut merged = Merged::default();
        let mut from_server: Vec<(Annotation, String)> = Vec::new();
        for value in server {
            match to_local(value.clone(), &self.links) {
                Ok((annotation, server_id)) if annotation.source() == Some(source) => {
                    if from_server.iter().any(|(a, _)| a.id == annotation.id) {
                        merged.rejected.push(Rejected {
                            value,
                            reason: "listed twice".into(),
                        });
                    } else {
                        from_server.push((annotation, server_id));
                    }
                }
                Ok((annotation, _)) => merged.rejected.push(Rejected {
                    value,
                    reason: format!(
                        "target.source is {}, not this page",
                        quoted(annotation.source().unwrap_or("missing"))
                    ),
                }),
                Err(reason) => merged.rejected.push(Rejected { value, reason }),
            }
        }
        from_server.retain(|(a, _)| !newer_here.contains(&a.id));
        let local = self.overlay(source, local);
        // Plain lists: the outbox holds few items, and sets would cost wasm code for nothing.
        let pending: Vec<String> = self
            .items
            .iter()
            .filter(|i| i.endpoint == endpoint)
            .map(|i| i.id.clone())
            .chain(newer_here.iter().cloned())
            .collect();

        for (annotation, server_id) in &from_server {
            let link = self
                .links
                .get_or_insert_with(annotation.id.clone(), || Link {
                    server_id: server_id.clone(),
                    etag: None,
                    source: source.to_string(),
                    endpoint: endpoint.to_string(),
                });
            if link.server_id != *server_id || link.endpoint != endpoint {
                *link = Link {
                    server_id: server_id.clone(),
                    etag: None,
                    source: source.to_string(),
                    endpoint: endpoint.to_string(),
                };
            }
        }

        for annotation in local {
            let id = annotation.id.clone();
            if pending.contains(&id) {
                merged.annotations.push(annotation);
            } else if let Some((server_copy, _)) = from_server.iter().find(|(a, _)| a.id == id) {
                if *server_copy != annotation {
                    // Changed elsewhere: the ETag we had belongs to the version we had.
                    if let Some(link) = self.links.get_mut(&id) {
                        link.etag = None;
                    }
                }
                merged.annotations.push(server_copy.clone());
            } else if self.linked_at(&id, endpoint).is_some() {
                self.links.remove(&id);
                merged.removed.push(id);
            } else {
                self.save(endpoint, annotation.clone(), None, now_ms);
                merged.queued.push(id);
                merged.annotations.push(annotation);
            }
        }
        let unsent_deletes: Vec<String> = self
            .items
            .iter()
            .filter(|i| i.op == Op::Delete && i.endpoint == endpoint)
            .map(|i| i.id.clone())
            .collect();
        debug_assert!(from_server
            .iter()
            .all(|(a, _)| self.links.contains_key(&a.id)));
        for (annotation, _) in from_server {
            let shown = merged.annotations.iter().any(|a| a.id == annotation.id);
            if !shown
                && !unsent_deletes.contains(&annotation.id)
                && !merged.removed.contains(&annotation.id)
            {
                merged.annotations.push(annotation);
            }
        }
        merged
    }

    // ----- persistence ------------------------------------------------------------------------

    pub fn to_json(&self) -> String {
        let items: Vec<Value> = self.items.iter().map(persist::item_to_value).collect();
        let links: Map = self
            .links
            .iter()
            .map(|(id, link)| (id.clone(), persist::link_to_value(link)))
            .collect();
        json_text(&json_object(vec![
            ("version", FORMAT_VERSION.into()),
            ("nextSeq", self.next_seq.into()),
            ("items", Value::Array(items)),
            ("links", Value::Object(links)),
        ]))
    }

    /// Reads a persisted outbox. Nothing is lost: a value that cannot be read at all, and
    /// items or links that cannot, come back in [`Loaded::quarantined`] with the reason, for
    /// the caller to set aside before it writes the outbox again.
    pub fn from_json(raw: &str) -> Loaded {
        let whole = |reason: String| Loaded {
            outbox: Outbox::default(),
            quarantined: vec![json_object(vec![
                ("reason", reason.into()),
                ("raw", raw.into()),
            ])],
            corrupt: true,
        };
        let value: Value = match json::from_str(raw) {
            Ok(value) => value,
            Err(e) => return whole(format!("the outbox is not valid JSON: {e}")),
        };
        let Value::Object(mut object) = value else {
            return whole("the outbox is not a JSON object".into());
        };
        match object.get("version").and_then(Value::as_u64) {
            Some(FORMAT_VERSION) => {}
            Some(other) => {
                return whole(format!(
                    "outbox format version {other} is not known to this factmark"
                ))
            }
            None => return whole("the outbox has no format version".into()),
        }
        let mut loaded = Loaded::default();
        match object.remove("items") {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for value in items {
                    match persist::item_from_value(&value) {
                        Ok(item) => loaded.outbox.items.push(item),
                        Err(e) => loaded.quarantined.push(json_object(vec![
                            ("reason", format!("outbox item: {e}").into()),
                            ("value", value),
                        ])),
                    }
                }
            }
            Some(other) => loaded.quarantined.push(json_object(vec![
                ("reason", "outbox items: not an array".into()),
                ("value", other),
            ])),
        }
        match object.remove("links") {
            None | Some(Value::Null) => {}
            Some(Value::Object(links)) => {
                for (id, value) in links {
                    match persist::link_from_value(&value) {
                        Ok(link) => {
                            loaded.outbox.links.insert(id, link);
                        }
                        Err(e) => loaded.quarantined.push(json_object(vec![
                            ("reason", format!("outbox link: {e}").into()),
                            ("link", Value::Object(Map::from_iter([(id, value)]))),
                        ])),
                    }
                }
            }
            Some(other) => loaded.quarantined.push(json_object(vec![
                ("reason", "outbox links: not an object".into()),
                ("value", other),
            ])),
        }
        // Items keep their stored order; sequence numbers must stay unique for completions.
        // They are stored rising (each new item takes `next_seq`); anything else was edited.
        if !loaded.outbox.items.windows(2).all(|w| w[0].seq < w[1].seq) {
            for (n, item) in loaded.outbox.items.iter_mut().enumerate() {
                item.seq = n as u64;
            }
        }
        let after_items = loaded
            .outbox
            .items
            .iter()
            .map(|item| item.seq + 1)
            .max()
            .unwrap_or(0);
        let stored_next = object.get("nextSeq").and_then(Value::as_u64).unwrap_or(0);
        loaded.outbox.next_seq = stored_next.max(after_items);
        loaded
    }
}

fn request_for(item: &Item, link: Option<&Link>) -> Request {
    let server_id = link.map(|l| l.server_id.clone()).unwrap_or_default();
    let body = || item.body.as_ref().map(Annotation::to_json);
    let mut headers = Vec::new();
    let (kind, method, url, body) = match item.op {
        Op::Create => {
            headers.push(("Content-Type", ANNO_MEDIA_TYPE.to_string()));
            (RequestKind::Create, "POST", item.endpoint.clone(), body())
        }
        Op::Update | Op::Delete if item.etag.is_none() => {
            (RequestKind::FetchCurrent, "GET", server_id, None)
        }
        Op::Update => {
            headers.push(("Content-Type", ANNO_MEDIA_TYPE.to_string()));
            headers.push(("If-Match", item.etag.clone().unwrap_or_default()));
            (RequestKind::Update, "PUT", server_id, body())
        }
        Op::Delete => {
            headers.push(("If-Match", item.etag.clone().unwrap_or_default()));
            (RequestKind::Delete, "DELETE", server_id, None)
        }
    };
    Request {
        seq: item.seq,
        kind,
        id: item.id.clone(),
        source: item.source.clone(),
        endpoint: item.endpoint.clone(),
        method,
        url,
        headers,
        body,
    }
}

/// Annotations in the outbox are stored as W3C JSON and validated when read back.
mod annotation_json {
    use super::*;
    use serde::de::Error;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(annotation: &Annotation, s: S) -> Result<S::Ok, S::Error> {
        annotation.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Box<Annotation>, D::Error> {
        let value = Value::deserialize(d)?;
        Annotation::from_value(value)
            .map(Box::new)
            .map_err(D::Error::custom)
    }
}

mod option_annotation_json {
    use super::*;
    use serde::de::Error;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(
        annotation: &Option<Annotation>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        annotation.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Annotation>, D::Error> {
        match Option::<Value>::deserialize(d)? {
            None | Some(Value::Null) => Ok(None),
            Some(value) => Annotation::from_value(value)
                .map(Some)
                .map_err(D::Error::custom),
        }
    }
}

/// The persisted shape of items and links, read and written by hand: the same JSON serde's
/// derives describe (`camelCase` fields, enums tagged by `kind`), at a fraction of the wasm
/// code that the derived, internally tagged deserializers cost.
mod persist {
    use super::*;

    fn opt_string(v: &Option<String>) -> Value {
        v.as_ref().map_or(Value::Null, |s| Value::String(s.clone()))
    }

    fn op_str(op: Op) -> &'static str {
        match op {
            Op::Create => "create",
            Op::Update => "update",
            Op::Delete => "delete",
        }
    }

    fn server_version_to_value(version: &ServerVersion) -> Value {
        match version {
            ServerVersion::Deleted => json_object(vec![("kind", "deleted".into())]),
            ServerVersion::Current { annotation, etag } => json_object(vec![
                ("kind", "current".into()),
                ("annotation", annotation.to_value()),
                ("etag", opt_string(etag)),
            ]),
        }
    }

    fn state_to_value(state: &ItemState) -> Value {
        match state {
            ItemState::Pending => json_object(vec![("kind", "pending".into())]),
            ItemState::Sending { since_ms, by } => json_object(vec![
                ("kind", "sending".into()),
                ("sinceMs", (*since_ms).into()),
                ("by", by.as_str().into()),
            ]),
            ItemState::Failed { status, message } => json_object(vec![
                ("kind", "failed".into()),
                ("status", u64::from(*status).into()),
                ("message", message.as_str().into()),
            ]),
            ItemState::Conflict { server_version } => json_object(vec![
                ("kind", "conflict".into()),
                ("serverVersion", server_version_to_value(server_version)),
            ]),
        }
    }

    pub fn item_to_value(item: &Item) -> Value {
        json_object(vec![
            ("seq", item.seq.into()),
            ("op", op_str(item.op).into()),
            ("id", item.id.as_str().into()),
            ("source", item.source.as_str().into()),
            ("endpoint", item.endpoint.as_str().into()),
            (
                "body",
                item.body.as_ref().map_or(Value::Null, Annotation::to_value),
            ),
            ("etag", opt_string(&item.etag)),
            ("base", opt_string(&item.base)),
            ("attempts", item.attempts.into()),
            ("nextAttemptAtMs", item.next_attempt_at_ms.into()),
            ("notBeforeMs", item.not_before_ms.into()),
            ("queuedAtMs", item.queued_at_ms.into()),
            ("lastError", opt_string(&item.last_error)),
            ("state", state_to_value(&item.state)),
        ])
    }

    pub fn link_to_value(link: &Link) -> Value {
        json_object(vec![
            ("serverId", link.server_id.as_str().into()),
            ("etag", opt_string(&link.etag)),
            ("source", link.source.as_str().into()),
            ("endpoint", link.endpoint.as_str().into()),
        ])
    }

    /// The fields of a JSON object, read with the rules serde's derives apply: a required
    /// field must be present, a defaulted one may be missing, `null` is `None`, and a value of
    /// the wrong type is an error naming the field.
    ///
    /// A field that cannot be read is recorded and read as a default; [`Fields::finish`] then
    /// reports the first such error. Reading on after an error, rather than returning at once,
    /// spares the wasm a cleanup path for every field read so far.
    struct Fields<'a> {
        map: Option<&'a Map>,
        error: Option<String>,
    }

    impl<'a> Fields<'a> {
        fn of(value: &'a Value, what: &str) -> Self {
            let mut fields = Fields {
                map: value.as_object(),
                error: None,
            };
            if fields.map.is_none() {
                fields.fail(format!("{what} is not a JSON object"));
            }
            fields
        }

        fn fail(&mut self, error: String) {
            self.error.get_or_insert(error);
        }

        /// `value`, or the first error met while reading it.
        fn finish<T>(self, value: T) -> Result<T, String> {
            match self.error {
                None => Ok(value),
                Some(error) => Err(error),
            }
        }

        /// Takes a nested reader's result in: its error, if any, counts as this object's.
        fn nested<T>(&mut self, result: Result<T, String>, instead: T) -> T {
            result.unwrap_or_else(|error| {
                self.fail(error);
                instead
            })
        }

        fn get(&self, key: &str) -> Option<&'a Value> {
            self.map.and_then(|map| map.get(key))
        }

        fn required(&mut self, key: &str) -> Option<&'a Value> {
            let value = self.get(key);
            if value.is_none() && self.map.is_some() {
                self.fail(format!("missing field `{key}`"));
            }
            value
        }

        fn string(&mut self, key: &str) -> String {
            match self.required(key) {
                Some(Value::String(s)) => s.clone(),
                None => String::new(),
                Some(_) => {
                    self.fail(format!("`{key}` is not a string"));
                    String::new()
                }
            }
        }

        fn opt_string(&mut self, key: &str) -> Option<String> {
            match self.get(key) {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(_) => {
                    self.fail(format!("`{key}` is not a string"));
                    None
                }
            }
        }

        fn int(&mut self, key: &str, default: Option<i64>, min: i64, max: i64) -> i64 {
            let value = match (self.get(key), default) {
                (None, Some(default)) => return default,
                (None, None) => {
                    self.required(key);
                    return 0;
                }
                (Some(value), _) => value,
            };
            let n = value.as_i64().or_else(|| {
                // u64 beyond i64 only fits fields that allow it.
                value.as_u64().map(|u| i64::try_from(u).unwrap_or(i64::MAX))
            });
            match n {
                Some(n) if (min..=max).contains(&n) => n,
                _ => {
                    self.fail(format!("`{key}` is not an integer in {min}..={max}"));
                    0
                }
            }
        }

        fn annotation(&mut self, key: &str) -> Option<Annotation> {
            match self.get(key) {
                None | Some(Value::Null) => None,
                Some(value) => match Annotation::from_value(value.clone()) {
                    Ok(annotation) => Some(annotation),
                    Err(e) => {
                        self.fail(format!("`{key}`: {e}"));
                        None
                    }
                },
            }
        }
    }

    fn server_version_from_value(value: &Value) -> Result<ServerVersion, String> {
        let mut f = Fields::of(value, "`serverVersion`");
        let version = match f.string("kind").as_str() {
            "deleted" => ServerVersion::Deleted,
            "current" => {
                let annotation = f.annotation("annotation");
                if annotation.is_none() {
                    f.fail("`annotation` is missing or null".into());
                }
                let etag = f.opt_string("etag");
                match annotation {
                    Some(annotation) => ServerVersion::Current {
                        annotation: Box::new(annotation),
                        etag,
                    },
                    None => ServerVersion::Deleted,
                }
            }
            other => {
                f.fail(format!("unknown server version kind {}", quoted(other)));
                ServerVersion::Deleted
            }
        };
        f.finish(version)
    }

    fn state_from_value(value: &Value) -> Result<ItemState, String> {
        let mut f = Fields::of(value, "`state`");
        let state = match f.string("kind").as_str() {
            "pending" => ItemState::Pending,
            "sending" => ItemState::Sending {
                since_ms: f.int("sinceMs", None, i64::MIN, i64::MAX),
                by: f.string("by"),
            },
            "failed" => ItemState::Failed {
                status: f.int("status", None, 0, u16::MAX.into()) as u16,
                message: f.string("message"),
            },
            "conflict" => {
                let server_version = match f.required("serverVersion") {
                    Some(value) => server_version_from_value(value),
                    None => Ok(ServerVersion::Deleted),
                };
                ItemState::Conflict {
                    server_version: f.nested(server_version, ServerVersion::Deleted),
                }
            }
            other => {
                f.fail(format!("unknown state kind {}", quoted(other)));
                ItemState::Pending
            }
        };
        f.finish(state)
    }

    pub fn item_from_value(value: &Value) -> Result<Item, String> {
        let mut f = Fields::of(value, "the item");
        let op = match f.string("op").as_str() {
            "create" => Op::Create,
            "update" => Op::Update,
            "delete" => Op::Delete,
            other => {
                f.fail(format!("unknown op {}", quoted(other)));
                Op::Create
            }
        };
        let any = (i64::MIN, i64::MAX);
        let item = Item {
            seq: f.int("seq", None, 0, i64::MAX) as u64,
            op,
            id: f.string("id"),
            source: f.string("source"),
            endpoint: f.string("endpoint"),
            body: f.annotation("body"),
            etag: f.opt_string("etag"),
            base: f.opt_string("base"),
            attempts: f.int("attempts", Some(0), 0, u32::MAX.into()) as u32,
            next_attempt_at_ms: f.int("nextAttemptAtMs", Some(0), any.0, any.1),
            not_before_ms: f.int("notBeforeMs", Some(0), any.0, any.1),
            queued_at_ms: f.int("queuedAtMs", Some(0), any.0, any.1),
            last_error: f.opt_string("lastError"),
            state: match f.required("state") {
                Some(state) => {
                    let state = state_from_value(state);
                    f.nested(state, ItemState::Pending)
                }
                None => ItemState::Pending,
            },
        };
        f.finish(item)
    }

    pub fn link_from_value(value: &Value) -> Result<Link, String> {
        let mut f = Fields::of(value, "the link");
        let link = Link {
            server_id: f.string("serverId"),
            etag: f.opt_string("etag"),
            source: f.string("source"),
            endpoint: f.string("endpoint"),
        };
        f.finish(link)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Flag, NewFlag, Selectors, TextQuoteSelector};
    /// `serde_json::json!`, as core's JSON value.
    macro_rules! json {
        ($($t:tt)+) => {
            serde_json::from_value::<crate::json::Value>(serde_json::json!($($t)+)).unwrap()
        };
    }

    fn annotation() -> Annotation {
        Annotation::new_flag(NewFlag {
            source: "https://news.example/a",
            selectors: Selectors {
                quote: TextQuoteSelector {
                    exact: "a passage".into(),
                    prefix: None,
                    suffix: None,
                },
                position: None,
            },
            flag: Flag::Fabricated,
            note: Some("made up"),
            evidence: vec![],
            id: "urn:uuid:00000000-0000-4000-8000-000000000001".into(),
            now: "2025-01-02T03:04:05.000Z".into(),
        })
        .unwrap()
    }

    fn item(state: ItemState) -> Item {
        Item {
            seq: 7,
            op: Op::Update,
            id: "urn:uuid:00000000-0000-4000-8000-000000000001".into(),
            source: "https://news.example/a".into(),
            endpoint: "https://anno.example/c/".into(),
            body: Some(annotation()),
            etag: Some("\"e1\"".into()),
            base: None,
            attempts: 3,
            next_attempt_at_ms: -5,
            not_before_ms: 9,
            queued_at_ms: 1_735_787_045_678,
            last_error: Some("HTTP 503".into()),
            state,
        }
    }

    #[test]
    fn every_state_survives_a_round_trip_in_the_derived_shape() {
        for state in [
            ItemState::Pending,
            ItemState::Sending {
                since_ms: 12,
                by: "tab-1".into(),
            },
            ItemState::Failed {
                status: 422,
                message: "no".into(),
            },
            ItemState::Conflict {
                server_version: ServerVersion::Deleted,
            },
            ItemState::Conflict {
                server_version: ServerVersion::Current {
                    annotation: Box::new(annotation()),
                    etag: None,
                },
            },
        ] {
            let item = item(state);
            let value = persist::item_to_value(&item);
            // The hand-written shape is the one serde's derives define.
            assert_eq!(
                value,
                serde_json::from_value(serde_json::to_value(&item).unwrap()).unwrap()
            );
            assert_eq!(persist::item_from_value(&value).unwrap(), item);
        }
        let link = Link {
            server_id: "https://anno.example/c/1".into(),
            etag: None,
            source: "https://news.example/a".into(),
            endpoint: "https://anno.example/c/".into(),
        };
        let value = persist::link_to_value(&link);
        assert_eq!(
            value,
            serde_json::from_value(serde_json::to_value(&link).unwrap()).unwrap()
        );
        assert_eq!(persist::link_from_value(&value).unwrap(), link);
    }

    #[test]
    fn the_outbox_is_written_in_the_documented_shape_and_read_back() {
        let mut outbox = Outbox::new();
        outbox.items = vec![
            item(ItemState::Pending),
            Item {
                seq: 8,
                body: None,
                ..item(ItemState::Conflict {
                    server_version: ServerVersion::Current {
                        annotation: Box::new(annotation()),
                        etag: Some("\"e2\"".into()),
                    },
                })
            },
        ];
        outbox.links.insert(
            "urn:uuid:b".into(),
            Link {
                server_id: "https://anno.example/c/2".into(),
                etag: Some("\"e3\"".into()),
                source: "https://news.example/a".into(),
                endpoint: "https://anno.example/c/".into(),
            },
        );
        outbox.links.insert(
            "urn:uuid:a".into(),
            Link {
                server_id: "https://anno.example/c/1".into(),
                etag: None,
                source: "https://news.example/a".into(),
                endpoint: "https://anno.example/c/".into(),
            },
        );
        outbox.next_seq = 9;
        let json = outbox.to_json();
        let value: Value = serde_json::from_str(&json).unwrap();
        let body = annotation().to_value();
        let expected = json!({
            "version": 1,
            "nextSeq": 9,
            "items": [
                {
                    "seq": 7, "op": "update", "id": "urn:uuid:00000000-0000-4000-8000-000000000001",
                    "source": "https://news.example/a", "endpoint": "https://anno.example/c/",
                    "body": body, "etag": "\"e1\"", "base": null, "attempts": 3,
                    "nextAttemptAtMs": -5, "notBeforeMs": 9, "queuedAtMs": 1_735_787_045_678_i64,
                    "lastError": "HTTP 503", "state": {"kind": "pending"}
                },
                {
                    "seq": 8, "op": "update", "id": "urn:uuid:00000000-0000-4000-8000-000000000001",
                    "source": "https://news.example/a", "endpoint": "https://anno.example/c/",
                    "body": null, "etag": "\"e1\"", "base": null, "attempts": 3,
                    "nextAttemptAtMs": -5, "notBeforeMs": 9, "queuedAtMs": 1_735_787_045_678_i64,
                    "lastError": "HTTP 503",
                    "state": {"kind": "conflict", "serverVersion": {"kind": "current", "annotation": body, "etag": "\"e2\""}}
                }
            ],
            "links": {
                "urn:uuid:a": {"serverId": "https://anno.example/c/1", "etag": null, "source": "https://news.example/a", "endpoint": "https://anno.example/c/"},
                "urn:uuid:b": {"serverId": "https://anno.example/c/2", "etag": "\"e3\"", "source": "https://news.example/a", "endpoint": "https://anno.example/c/"}
            }
        });
        assert_eq!(value, expected);
        // Key order too: the stored text is what other versions of factmark read.
        assert_eq!(json, expected.to_string());
        let loaded = Outbox::from_json(&json);
        assert!(loaded.quarantined.is_empty(), "{:?}", loaded.quarantined);
        assert_eq!(loaded.outbox, outbox);
    }

    #[test]
    fn defaults_and_wrong_types_follow_the_derived_rules() {
        let minimal = json!({
            "seq": 1, "op": "delete", "id": "x", "source": "s", "endpoint": "e",
            "state": {"kind": "pending"}
        });
        let read = persist::item_from_value(&minimal).unwrap();
        assert_eq!(
            (read.body, read.etag, read.attempts, read.queued_at_ms),
            (None, None, 0, 0)
        );
        let mut full = persist::item_to_value(&item(ItemState::Pending));
        for (key, bad) in [
            ("seq", json!(-1)),
            ("seq", json!(1.5)),
            ("attempts", json!(null)),
            ("etag", json!(5)),
            ("op", json!("teleport")),
            (
                "state",
                json!({"kind": "failed", "status": 70000, "message": "m"}),
            ),
            ("state", json!({"kind": "sending"})),
            ("state", json!("pending")),
            ("body", json!({"type": "Annotation"})),
        ] {
            let good = full[key].clone();
            full[key] = bad.clone();
            assert!(persist::item_from_value(&full).is_err(), "{key}: {bad}");
            full[key] = good;
        }
        full.as_object_mut().unwrap().remove("id");
        assert_eq!(
            persist::item_from_value(&full).unwrap_err(),
            "missing field `id`"
        );
    }
}
