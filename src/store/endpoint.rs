//! The endpoint store: annotations kept on a W3C Web Annotation Protocol server, with a local
//! copy shown at once and an outbox that survives reloads and outages.
//!
//! The decisions (what to send next, what a response means, how the server's listing merges
//! with the local copy) are `factmark_core::outbox`'s; this file does the browser's part:
//! `localStorage`, `fetch`, timers, online/offline events, and telling the widget.
//!
//! A write goes to the outbox and the local copy before any request is made, so `save` and
//! `remove` answer at once; sending happens afterwards, one request at a time.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use crate::signal::Signal;
use factmark_core::json::{self, Value};
use factmark_core::model::quoted;
use factmark_core::model::Annotation;
use factmark_core::order::SortedMap;
use factmark_core::outbox::{
    backoff_ms, error_message, LocalChange, Outcome, Request, Response, Settled, ANNO_MEDIA_TYPE,
    OUTBOX_KEY,
};
use gloo_timers::callback::Timeout;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{RequestCache, Storage, StorageEvent};

use super::outbox::{Connection, OutboxStorage, ServerSide, SyncAction, SyncView};
use super::{LocalStore, MemoryStore, Problem, Store, StoreError};
use crate::listen::Listener;

/// A request that has not answered after this long is abandoned and retried.
const REQUEST_TIMEOUT_MS: u32 = 20_000;
/// Most listing pages followed for one page of the site.
const MAX_LISTING_PAGES: usize = 1_000;
/// `sessionStorage` key naming this tab, so a reload recognises its own unfinished requests.
const TAB_KEY: &str = "factmark:v1:tab";

pub struct EndpointStore {
    engine: Rc<Engine>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Listing {
    NotLoaded,
    Loading,
    Loaded,
    /// The server refused the listing (4xx): not asked again until the page reloads.
    Refused,
}

struct Engine {
    source: String,
    /// Absolute container IRI.
    endpoint: String,
    tab: String,
    local: RefCell<Box<dyn Store>>,
    outbox: RefCell<OutboxStorage>,
    sync: Signal<SyncView>,
    connection: Cell<Connection>,
    last_error: RefCell<Option<String>>,
    in_flight: Cell<bool>,
    listing: Cell<Listing>,
    listing_attempts: Cell<u32>,
    /// While a listing is on its way: the ids the server had when it was requested, and the
    /// ids whose changes the server acknowledged since (this tab's completions). The listing
    /// is older than the local copy for those; see `Outbox::merge`.
    linked_before_listing: RefCell<Vec<String>>,
    settled_during_listing: RefCell<Vec<String>>,
    timer: RefCell<Option<Timeout>>,
    listing_timer: RefCell<Option<Timeout>>,
    on_change: RefCell<Option<Rc<dyn Fn()>>>,
    listeners: RefCell<Vec<Listener>>,
    closed: Cell<bool>,
}

impl EndpointStore {
    /// The store of `source`'s annotations on the server at `endpoint` (absolute, or relative
    /// to the page). Its sync state is published in `sync`.
    pub fn open(
        source: &str,
        endpoint: &str,
        sync: Signal<SyncView>,
    ) -> Result<EndpointStore, StoreError> {
        let window =
            web_sys::window().ok_or_else(|| StoreError::Unavailable("no window".into()))?;
        let endpoint = absolute_endpoint(&window, endpoint)?;
        let storage = window.local_storage().ok().flatten();
        let local: Box<dyn Store> = match LocalStore::open(source) {
            Ok(store) => Box::new(store),
            Err(e) => Box::new(MemoryStore::instead_of_unavailable(e.to_string())),
        };
        let tab = tab_id(&window);
        let mut outbox = OutboxStorage::new(storage);
        // Requests this tab had under way when it was reloaded are pending again.
        let _ = outbox.update(|o| o.recover(&tab));
        let connection = if window.navigator().on_line() {
            Connection::Connecting
        } else {
            Connection::Offline
        };
        let engine = Rc::new(Engine {
            source: source.to_string(),
            endpoint,
            tab,
            local: RefCell::new(local),
            outbox: RefCell::new(outbox),
            sync,
            connection: Cell::new(connection),
            last_error: RefCell::new(None),
            in_flight: Cell::new(false),
            listing: Cell::new(Listing::NotLoaded),
            listing_attempts: Cell::new(0),
            linked_before_listing: RefCell::default(),
            settled_during_listing: RefCell::default(),
            timer: RefCell::default(),
            listing_timer: RefCell::default(),
            on_change: RefCell::default(),
            listeners: RefCell::default(),
            closed: Cell::new(false),
        });
        engine.refresh();
        Ok(EndpointStore { engine })
    }

    pub fn endpoint(&self) -> &str {
        &self.engine.endpoint
    }
}

impl Store for EndpointStore {
    /// The local copy, with changes only the outbox holds laid over it.
    fn load(&mut self) -> Vec<Annotation> {
        let engine = &self.engine;
        let local = engine.local.borrow_mut().load();
        let shown = engine
            .outbox
            .borrow_mut()
            .read()
            .overlay(&engine.source, local);
        engine.refresh();
        shown
    }

    fn save(&mut self, annotations: &[Annotation]) -> Result<(), StoreError> {
        let shown = self.load();
        let engine = &self.engine;
        let now = now_ms();
        engine.outbox.borrow_mut().update(|outbox| {
            for annotation in annotations {
                let previous = shown.iter().find(|a| a.id == annotation.id);
                outbox.save(&engine.endpoint, annotation.clone(), previous, now);
            }
        })?;
        // The outbox holds the change durably; a failed local copy only delays its display
        // after a reload (load() lays the outbox over the local copy).
        let _ = engine.local.borrow_mut().save(annotations);
        engine.refresh();
        engine.pump_soon();
        Ok(())
    }

    fn remove(&mut self, id: &str) -> Result<(), StoreError> {
        let shown = self.load();
        let engine = &self.engine;
        let previous = shown.iter().find(|a| a.id == id);
        let now = now_ms();
        engine
            .outbox
            .borrow_mut()
            .update(|outbox| outbox.delete(&engine.endpoint, id, &engine.source, previous, now))?;
        let _ = engine.local.borrow_mut().remove(id);
        engine.refresh();
        engine.pump_soon();
        Ok(())
    }

    fn take_problems(&mut self) -> Vec<Problem> {
        let mut problems = self.engine.local.borrow_mut().take_problems();
        problems.extend(self.engine.outbox.borrow_mut().take_problems());
        problems
    }

    /// Starts talking to the server: the listing first, then the outbox.
    fn watch(&mut self, on_change: Rc<dyn Fn()>) {
        let engine = &self.engine;
        *engine.on_change.borrow_mut() = Some(on_change.clone());
        // Another tab changed this page's local copy.
        engine.local.borrow_mut().watch(on_change);
        if let Some(window) = web_sys::window() {
            let target: &web_sys::EventTarget = window.as_ref();
            let mut listeners = engine.listeners.borrow_mut();
            let weak = Rc::downgrade(engine);
            let storage = engine.outbox.borrow().storage().cloned();
            listeners.push(Listener::new(target, "storage", move |event| {
                let Some(engine) = weak.upgrade() else { return };
                let Some(event) = event.dyn_ref::<StorageEvent>() else {
                    return;
                };
                if !same_storage(event, storage.as_ref())
                    || event.key().is_some_and(|k| k != OUTBOX_KEY)
                {
                    return;
                }
                // Another tab queued or sent something: states, and maybe what is shown, changed.
                engine.refresh();
                engine.notify();
                engine.pump();
            }));
            let weak = Rc::downgrade(engine);
            listeners.push(Listener::new(target, "online", move |_| {
                if let Some(engine) = weak.upgrade() {
                    engine.back_online();
                }
            }));
            let weak = Rc::downgrade(engine);
            listeners.push(Listener::new(target, "offline", move |_| {
                if let Some(engine) = weak.upgrade() {
                    engine.connection.set(Connection::Offline);
                    engine.refresh();
                }
            }));
        }
        engine.load_listing();
        engine.pump();
    }

    fn close(&mut self) {
        let engine = &self.engine;
        engine.closed.set(true);
        engine.timer.borrow_mut().take();
        engine.listing_timer.borrow_mut().take();
        engine.listeners.borrow_mut().clear();
        engine.on_change.borrow_mut().take();
        engine.local.borrow_mut().close();
    }

    fn resolve(&mut self, id: &str, action: SyncAction) -> Result<(), StoreError> {
        let engine = &self.engine;
        let now = now_ms();
        let change = engine.outbox.borrow_mut().update(|outbox| match action {
            SyncAction::Retry => {
                outbox.retry(id, now);
                None
            }
            SyncAction::KeepMine => {
                outbox.keep_local(id, now);
                None
            }
            SyncAction::TakeServer => outbox.take_server(id),
        })?;
        if let Some(change) = change {
            // The widget re-reads the store after this call; telling it now would re-enter it.
            engine.change_local(&engine.source.clone(), id, change);
        }
        engine.refresh();
        engine.pump_soon();
        Ok(())
    }
}

impl Engine {
    /// Publishes the current sync state to the UI.
    fn refresh(&self) {
        let outbox = self.outbox.borrow_mut().read();
        let states = outbox.sync_states(&self.source, &self.endpoint);
        let mut conflicts = SortedMap::new();
        for id in states.keys() {
            if let Some(version) = outbox.conflict_of(id) {
                conflicts.insert(id.clone(), ServerSide::of(version));
            }
        }
        let view = SyncView {
            endpoint: Some(self.endpoint.clone()),
            connection: self.connection.get(),
            states,
            unsent: outbox.unsent(&self.source),
            last_error: self.last_error.borrow().clone(),
            conflicts,
        };
        if self.sync.try_with_untracked(|current| *current != view) == Some(true) {
            self.sync.try_set(view);
        }
    }

    /// The widget re-reads the store (never called while the widget holds it).
    fn notify(&self) {
        let on_change = self.on_change.borrow().clone();
        if let Some(on_change) = on_change {
            on_change();
        }
    }

    fn back_online(self: &Rc<Self>) {
        if self.connection.get() == Connection::Offline {
            self.connection.set(Connection::Connecting);
        }
        let _ = self.outbox.borrow_mut().update(|o| o.wake(now_ms()));
        if self.listing.get() == Listing::NotLoaded {
            self.listing_timer.borrow_mut().take();
            self.load_listing();
        }
        self.refresh();
        self.pump();
    }

    fn note_connection(&self, network_error: Option<String>) {
        match network_error {
            None => {
                self.connection.set(Connection::Online);
                self.last_error.borrow_mut().take();
            }
            Some(why) => {
                let online = web_sys::window().is_none_or(|w| w.navigator().on_line());
                self.connection.set(if online {
                    Connection::Unreachable
                } else {
                    Connection::Offline
                });
                *self.last_error.borrow_mut() = Some(why);
            }
        }
    }

    /// Pumps once the current call stack is done (the widget is mid-action now).
    fn pump_soon(self: &Rc<Self>) {
        if !self.in_flight.get() {
            self.schedule(now_ms());
        }
    }

    fn schedule(self: &Rc<Self>, at_ms: i64) {
        if self.closed.get() {
            return;
        }
        let delay = (at_ms - now_ms()).clamp(0, i64::from(i32::MAX)) as u32;
        let weak = Rc::downgrade(self);
        *self.timer.borrow_mut() = Some(Timeout::new(delay, move || {
            if let Some(engine) = weak.upgrade() {
                engine.pump();
            }
        }));
    }

    /// Sends the next due item, if any and if nothing is under way; else waits for the next.
    fn pump(self: &Rc<Self>) {
        if self.closed.get() || self.in_flight.get() {
            return;
        }
        let now = now_ms();
        let taken = self.outbox.borrow_mut().update(|o| {
            let request = o.take_next(&self.endpoint, now, &self.tab);
            (request, o.next_wakeup(&self.endpoint))
        });
        match taken {
            Ok((Some(request), _)) => {
                self.in_flight.set(true);
                self.timer.borrow_mut().take();
                let weak = Rc::downgrade(self);
                wasm_bindgen_futures::spawn_local(async move {
                    let outcome = http(
                        request.method,
                        &request.url,
                        &request.headers,
                        request.body.as_deref(),
                    )
                    .await;
                    if let Some(engine) = weak.upgrade() {
                        engine.finish(&request, outcome);
                    }
                });
            }
            Ok((None, Some(at_ms))) => self.schedule(at_ms),
            Ok((None, None)) => {
                self.timer.borrow_mut().take();
            }
            // The outbox cannot be written (quota, unreadable): try again later.
            Err(e) => {
                *self.last_error.borrow_mut() = Some(e.to_string());
                self.schedule(now + 5_000);
            }
        }
        self.refresh();
    }

    fn finish(self: &Rc<Self>, request: &Request, outcome: Outcome) {
        self.in_flight.set(false);
        if self.closed.get() {
            return;
        }
        let network_error = match &outcome {
            Outcome::NetworkError(why) => Some(why.clone()),
            Outcome::Response(_) => None,
        };
        let was_down = self.connection.get() != Connection::Online;
        let now = now_ms();
        let completion = self.outbox.borrow_mut().update(|o| {
            let completion = o.complete(request, outcome, now, js_sys::Math::random());
            if completion.reached_server && was_down {
                // The server answers again: everything waiting goes now.
                o.wake(now);
            }
            completion
        });
        self.note_connection(network_error);
        match completion {
            Ok(completion) => {
                match &completion.result {
                    Settled::Failed { message, .. } => {
                        self.page_error(&format!("{}: {message}", completion.id))
                    }
                    Settled::Conflict => self.page_error(&format!(
                        "{}: changed on the server since it was edited here",
                        completion.id
                    )),
                    _ => {}
                }
                if self.listing.get() == Listing::Loading {
                    self.settled_during_listing
                        .borrow_mut()
                        .push(completion.id.clone());
                }
                let source = completion.source.clone();
                self.apply_local(&source, &completion.id, completion.local);
            }
            // The result could not be recorded; the item stays marked as sending and is sent
            // again once that mark is stale. The server treats repeats as repeats.
            Err(e) => *self.last_error.borrow_mut() = Some(e.to_string()),
        }
        if self.connection.get() == Connection::Online && self.listing.get() == Listing::NotLoaded {
            self.listing_timer.borrow_mut().take();
            self.load_listing();
        }
        self.refresh();
        self.pump();
    }

    /// Brings a page's local copy in line with the server after a completion, and tells the
    /// widget when it is this page's.
    fn apply_local(&self, source: &str, id: &str, change: LocalChange) {
        let changed = !matches!(change, LocalChange::Keep);
        self.change_local(source, id, change);
        if changed && source == self.source {
            self.notify();
        }
    }

    fn change_local(&self, source: &str, id: &str, change: LocalChange) {
        let ours = source == self.source;
        let result = match (&change, ours) {
            (LocalChange::Keep, _) => return,
            (LocalChange::Replace(annotation), true) => self
                .local
                .borrow_mut()
                .save(std::slice::from_ref(annotation)),
            (LocalChange::Remove, true) => self.local.borrow_mut().remove(id),
            // An item of another page of this site, sent from here: update that page's copy.
            (_, false) => {
                let Some(storage) = self.outbox.borrow().storage().cloned() else {
                    return;
                };
                let mut other = LocalStore::with_storage(storage, source);
                match change {
                    LocalChange::Replace(annotation) => {
                        other.save(std::slice::from_ref(&annotation))
                    }
                    _ => other.remove(id),
                }
            }
        };
        if let (true, Err(e)) = (ours, result) {
            *self.last_error.borrow_mut() = Some(e.to_string());
        }
    }

    fn load_listing(self: &Rc<Self>) {
        if self.closed.get()
            || matches!(
                self.listing.get(),
                Listing::Loading | Listing::Loaded | Listing::Refused
            )
        {
            return;
        }
        self.listing.set(Listing::Loading);
        let linked = self
            .outbox
            .borrow_mut()
            .read()
            .linked_ids(&self.source, &self.endpoint);
        *self.linked_before_listing.borrow_mut() = linked;
        self.settled_during_listing.borrow_mut().clear();
        let weak = Rc::downgrade(self);
        let (endpoint, source) = (self.endpoint.clone(), self.source.clone());
        wasm_bindgen_futures::spawn_local(async move {
            let result = fetch_listing(&endpoint, &source).await;
            if let Some(engine) = weak.upgrade() {
                engine.listing_done(result);
            }
        });
    }

    fn listing_done(self: &Rc<Self>, result: Result<Vec<Value>, Outcome>) {
        if self.closed.get() {
            return;
        }
        match result {
            Ok(items) => {
                self.listing.set(Listing::Loaded);
                self.note_connection(None);
                self.apply_listing(items);
                let _ = self.outbox.borrow_mut().update(|o| o.wake(now_ms()));
                self.pump();
            }
            Err(outcome) => {
                let (retry, why, network) = match outcome {
                    Outcome::NetworkError(why) => (true, why, true),
                    Outcome::Response(r) => {
                        let retry = matches!(r.status, 408 | 425 | 429)
                            || r.status >= 500
                            || r.status < 200;
                        (retry, error_message(r.status, &r.body), false)
                    }
                };
                if network {
                    self.note_connection(Some(why.clone()));
                } else {
                    self.connection.set(Connection::Online);
                    *self.last_error.borrow_mut() = Some(why.clone());
                }
                if retry {
                    self.listing.set(Listing::NotLoaded);
                    let attempts = self.listing_attempts.get() + 1;
                    self.listing_attempts.set(attempts);
                    let delay = backoff_ms(attempts, js_sys::Math::random()) as u32;
                    let weak: Weak<Engine> = Rc::downgrade(self);
                    *self.listing_timer.borrow_mut() = Some(Timeout::new(delay, move || {
                        if let Some(engine) = weak.upgrade() {
                            engine.load_listing();
                        }
                    }));
                } else {
                    self.listing.set(Listing::Refused);
                    self.page_error(&format!(
                        "the annotation server refused to list this page's annotations: {why}"
                    ));
                }
            }
        }
        self.refresh();
    }

    /// Merges the server's annotations into the local copy and tells the widget.
    fn apply_listing(&self, items: Vec<Value>) {
        let local = self.local.borrow_mut().load();
        let now = now_ms();
        // Links made or dropped since the request (also by other tabs sharing the outbox),
        // and this tab's completions: the listing does not know about those yet.
        let before = std::mem::take(&mut *self.linked_before_listing.borrow_mut());
        let mut newer_here = std::mem::take(&mut *self.settled_during_listing.borrow_mut());
        let merged = self.outbox.borrow_mut().update(|o| {
            let now_linked = o.linked_ids(&self.source, &self.endpoint);
            newer_here.extend(now_linked.iter().filter(|id| !before.contains(id)).cloned());
            newer_here.extend(before.iter().filter(|id| !now_linked.contains(id)).cloned());
            o.merge(&self.source, &self.endpoint, local, items, now, &newer_here)
        });
        let merged = match merged {
            Ok(merged) => merged,
            Err(e) => {
                self.page_error(&format!(
                    "the server's annotations could not be merged: {e}"
                ));
                return;
            }
        };
        {
            let mut local = self.local.borrow_mut();
            if let Err(e) = local.save(&merged.annotations) {
                *self.last_error.borrow_mut() = Some(e.to_string());
            }
            for id in &merged.removed {
                let _ = local.remove(id);
            }
        }
        for rejected in &merged.rejected {
            let id = rejected
                .value
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or("(no id)");
            self.page_error(&format!(
                "annotation {id} from the server was not shown: {}",
                rejected.reason
            ));
        }
        self.notify();
    }

    /// Tells the host page (factmark:error), as the widget does for its own errors.
    fn page_error(&self, message: &str) {
        let Some(document) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        let detail = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&detail, &"message".into(), &message.into());
        crate::widget::dispatch(&document, "factmark:error", &detail.into());
    }
}

fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

fn same_storage(event: &StorageEvent, storage: Option<&Storage>) -> bool {
    match (event.storage_area(), storage) {
        (Some(area), Some(ours)) => JsValue::from(area) == JsValue::from(ours.clone()),
        _ => false,
    }
}

/// The container IRI, resolved against the page; http(s) only.
fn absolute_endpoint(window: &web_sys::Window, endpoint: &str) -> Result<String, StoreError> {
    let base = window.location().href().unwrap_or_default();
    let url = web_sys::Url::new_with_base(endpoint.trim(), &base).map_err(|_| {
        StoreError::Unavailable(format!("endpoint {} is not a valid URL", quoted(endpoint)))
    })?;
    if url.protocol() != "https:" && url.protocol() != "http:" {
        return Err(StoreError::Unavailable(format!(
            "endpoint {} must be an http(s) URL",
            quoted(endpoint)
        )));
    }
    url.set_hash("");
    Ok(url.href())
}

/// A random name for this tab, kept across reloads of it.
fn tab_id(window: &web_sys::Window) -> String {
    let session = window.session_storage().ok().flatten();
    if let Some(id) = session
        .as_ref()
        .and_then(|s| s.get_item(TAB_KEY).ok().flatten())
    {
        return id;
    }
    let id = format!(
        "tab-{:08x}{:08x}",
        (js_sys::Math::random() * 4_294_967_296.0) as u32,
        js_sys::Date::now() as u32
    );
    if let Some(session) = session {
        let _ = session.set_item(TAB_KEY, &id);
    }
    id
}

/// `AbortSignal.timeout`, where the browser has it.
fn timeout_signal() -> Option<web_sys::AbortSignal> {
    let global = js_sys::global();
    let class = js_sys::Reflect::get(&global, &"AbortSignal".into()).ok()?;
    js_sys::Reflect::has(&class, &"timeout".into())
        .unwrap_or(false)
        .then(|| web_sys::AbortSignal::timeout_with_u32(REQUEST_TIMEOUT_MS))
}

/// One HTTP exchange; any failure to get a complete response is a network error.
async fn http(
    method_name: &str,
    url: &str,
    headers: &[(&str, String)],
    body: Option<&str>,
) -> Outcome {
    match exchange(method_name, url, headers, body).await {
        Ok(response) => Outcome::Response(response),
        Err(message) => Outcome::NetworkError(message),
    }
}

/// `fetch` through web-sys directly: an HTTP client crate costs kilobytes of wasm for nothing
/// this needs.
async fn exchange(
    method_name: &str,
    url: &str,
    headers: &[(&str, String)],
    body: Option<&str>,
) -> Result<Response, String> {
    let init = web_sys::RequestInit::new();
    init.set_method(method_name);
    init.set_cache(RequestCache::NoStore);
    let signal = timeout_signal();
    init.set_signal(signal.as_ref());
    let request_headers = web_sys::Headers::new().map_err(js_message)?;
    request_headers
        .set("Accept", ANNO_MEDIA_TYPE)
        .map_err(js_message)?;
    for (name, value) in headers {
        request_headers.set(name, value).map_err(js_message)?;
    }
    init.set_headers(&request_headers);
    if let Some(body) = body {
        init.set_body(&JsValue::from_str(body));
    }
    let request = web_sys::Request::new_with_str_and_init(url, &init).map_err(js_message)?;
    let window = web_sys::window().ok_or("fetch: no window")?;
    let response: web_sys::Response =
        wasm_bindgen_futures::JsFuture::from(window.fetch_with_request(&request))
            .await
            .map_err(js_message)?
            .unchecked_into();
    let text = response.text().map_err(js_message)?;
    let body = wasm_bindgen_futures::JsFuture::from(text)
        .await
        .map_err(|e| format!("the response was cut off: {}", js_message(e)))?
        .as_string()
        .unwrap_or_default();
    let response_headers = response.headers();
    let header = |name: &str| response_headers.get(name).ok().flatten();
    let location = header("location").map(|l| {
        web_sys::Url::new_with_base(&l, url)
            .map(|u| u.href())
            .unwrap_or(l)
    });
    Ok(Response {
        status: response.status(),
        etag: header("etag"),
        location,
        retry_after: header("retry-after"),
        body,
    })
}

/// `name: message` of a rejected promise's reason (fetch rejects with a `TypeError`).
fn js_message(error: JsValue) -> String {
    if let Some(e) = error.dyn_ref::<js_sys::Error>() {
        return format!("{}: {}", String::from(e.name()), String::from(e.message()));
    }
    error.as_string().unwrap_or_else(|| "unknown error".into())
}

/// Every annotation the server lists for `source`, following `next` pages. Any failure is
/// returned as the outcome that caused it (nothing is merged from a partial listing).
async fn fetch_listing(endpoint: &str, source: &str) -> Result<Vec<Value>, Outcome> {
    let separator = if endpoint.contains('?') { '&' } else { '?' };
    let target: String = js_sys::encode_uri_component(source).into();
    let mut url = format!("{endpoint}{separator}target={target}");
    let mut seen: Vec<String> = Vec::new();
    let mut items = Vec::new();
    for _ in 0..MAX_LISTING_PAGES {
        if seen.contains(&url) {
            break;
        }
        seen.push(url.clone());
        let response = match http("GET", &url, &[], None).await {
            Outcome::Response(r) if (200..300).contains(&r.status) => r,
            other => return Err(other),
        };
        let page: Value = json::from_str(&response.body).map_err(|e| {
            Outcome::Response(Response {
                status: 0,
                body: format!("the listing is not JSON: {e}"),
                ..Response::default()
            })
        })?;
        // A page, or a collection embedding its first page.
        let page = match page.get("first") {
            Some(first @ Value::Object(_)) => first.clone(),
            Some(Value::String(first)) => {
                url = first.clone();
                continue;
            }
            _ => page,
        };
        if let Some(Value::Array(list)) = page.get("items") {
            items.extend(list.iter().filter(|item| item.is_object()).cloned());
        }
        match page.get("next") {
            Some(Value::String(next)) => url = next.clone(),
            Some(Value::Object(next)) => match next.get("id").and_then(Value::as_str) {
                Some(next) => url = next.to_string(),
                None => break,
            },
            _ => break,
        }
    }
    Ok(items)
}
