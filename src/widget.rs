//! One mounted widget: the page text, its annotations, the store, the highlights and the UI,
//! and the actions that tie them together. The DOM side converts and renders; the decisions
//! are made by `factmark-core` (anchoring, validation) and `state` (what the UI shows).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use factmark_core::anchor::{describe, Anchorer, OrphanReason, SelectorParts};
use factmark_core::export;
use factmark_core::import::parse_import;
use factmark_core::model::{
    json_of, new_id, rfc3339_from_unix_ms, Annotation, Flag, NewFlag, Selectors, WriteJson,
};
use gloo_timers::callback::Timeout;
use wasm_bindgen::prelude::*;
use web_sys::{Document, Element, HtmlElement, Range, ShadowRoot};

use crate::config::{page_source, Config};
use crate::dom::highlight::{Highlights, RangeSet};
use crate::dom::observe::Observer;
use crate::dom::selection;
use crate::dom::text::{PageText, HOST_TAG};
use crate::i18n::{Locale, Msg};
use crate::listen::Listener;
use crate::signal::Signal;
use crate::state::{
    Annotations, Draft, Entry, Floating, Form, FormTarget, NotSaved, Placement, Rect, Stats, Ui,
};
use crate::store::{LocalStore, MemoryStore, Store, StoreError, SyncAction, SyncView};

const WIDGET_CSS: &str = crate::minified_css!(include_str!("../style/factmark.css"));

thread_local! {
    static CURRENT: RefCell<Option<Rc<Widget>>> = const { RefCell::new(None) };
}

/// The mounted widget, if any.
pub fn current() -> Option<Rc<Widget>> {
    CURRENT.with(|c| c.borrow().clone())
}

/// Runs an action on the mounted widget, then tells the page what happened. Events are sent
/// only after the action let go of its state, so page handlers may call the API again.
pub fn act<R>(action: impl FnOnce(&Widget) -> R) -> Option<R> {
    let widget = current()?;
    let result = action(&widget);
    widget.flush_events();
    Some(result)
}

/// What the UI components read; plain signals, cheap to copy.
#[derive(Clone, Copy)]
pub struct Ctx {
    pub entries: Signal<Annotations>,
    pub ui: Signal<Ui>,
    /// Latest message for the screen-reader live region and the status line.
    pub status: Signal<Option<Msg>>,
    /// Sync with the annotation endpoint, when there is one.
    pub sync: Signal<SyncView>,
    pub locale: Locale,
}

impl Ctx {
    pub fn t(&self, msg: Msg) -> &'static str {
        self.locale.text(msg)
    }
}

pub struct ImportReport {
    pub added: usize,
    pub updated: usize,
    pub refused: Vec<(usize, Option<String>, String)>,
}

pub struct Widget {
    pub locale: Locale,
    pub source: String,
    pub ctx: Ctx,
    document: Document,
    root: Element,
    host: Element,
    shadow: ShadowRoot,
    page: RefCell<PageText>,
    /// Live ranges of placed annotations, by id.
    ranges: RefCell<RangeSet>,
    highlights: RefCell<Highlights>,
    store: RefCell<Box<dyn Store>>,
    /// The selection the toolbar or new-flag form belongs to (live: follows DOM edits).
    pending_range: RefCell<Option<Range>>,
    view: RefCell<Option<Rc<crate::ui::View>>>,
    listeners: RefCell<Vec<Listener>>,
    observer: RefCell<Option<Observer>>,
    events: RefCell<Vec<(&'static str, JsValue)>>,
    pointer_down: Cell<bool>,
    selection_timer: RefCell<Option<Timeout>>,
    frame_requested: Cell<bool>,
    return_focus: RefCell<Option<HtmlElement>>,
    status_timer: RefCell<Option<Timeout>>,
}

/// Mounts the widget on the page, replacing any widget already mounted.
pub fn mount(config: Config) -> Result<Rc<Widget>, String> {
    unmount();
    let widget = Rc::new(Widget::new(&config)?);
    CURRENT.with(|c| *c.borrow_mut() = Some(widget.clone()));
    widget.start()?;
    widget.flush_events();
    Ok(widget)
}

/// Removes the widget: its host, highlights, listeners and observer. Stored data stays.
pub fn unmount() -> bool {
    let Some(widget) = CURRENT.with(|c| c.borrow_mut().take()) else {
        return false;
    };
    widget.listeners.borrow_mut().clear();
    if let Some(observer) = widget.observer.borrow_mut().take() {
        observer.disconnect();
    }
    widget.selection_timer.borrow_mut().take();
    widget.store.borrow_mut().close();
    widget.highlights.borrow_mut().uninstall();
    crate::signal::set_renderer(None);
    widget.view.borrow_mut().take();
    let ctx = widget.ctx;
    ctx.entries.dispose();
    ctx.ui.dispose();
    ctx.status.dispose();
    ctx.sync.dispose();
    widget.host.remove();
    true
}

fn js_err(e: JsValue) -> String {
    e.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "unexpected browser error".into())
}

/// The endpoint store, in the build that has the sync engine (the `endpoint` feature).
#[cfg(feature = "endpoint")]
fn open_endpoint(
    source: &str,
    endpoint: &str,
    sync: Signal<SyncView>,
) -> Result<Box<dyn Store>, String> {
    crate::store::EndpointStore::open(source, endpoint, sync)
        .map(|store| Box::new(store) as Box<dyn Store>)
        .map_err(|e| e.to_string())
}

/// The reader build (`dist/factmark_bg.wasm`) has no sync engine: `dist/factmark.js` loads the
/// build that has one when the script tag has `data-endpoint` or `data-manual`.
#[cfg(not(feature = "endpoint"))]
fn open_endpoint(_: &str, _: &str, _: Signal<SyncView>) -> Result<Box<dyn Store>, String> {
    Err(
        "this page loaded factmark without endpoint support; give its script tag \
         data-endpoint, or data-manual to mount it by hand"
            .into(),
    )
}

/// Phases of start-up as User Timing marks (`performance.getEntriesByType("mark")`), for
/// benchmarks and the browser's performance panel; `bench/profile.mjs` turns them into phases.
pub fn mark(name: &str) {
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        let _ = performance.mark(name);
    }
}

pub fn now() -> String {
    rfc3339_from_unix_ms(js_sys::Date::now() as i64)
}

fn random_id() -> String {
    let mut bytes = [0u8; 16];
    let filled = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .is_some_and(|c| c.get_random_values_with_u8_array(&mut bytes).is_ok());
    if !filled {
        // No Web Crypto (very old browser): Math.random is enough for an identifier.
        for b in &mut bytes {
            *b = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    new_id(bytes)
}

/// Model data as plain JS objects: written as JSON once, parsed by the browser.
pub fn to_js(value: &(impl WriteJson + ?Sized)) -> JsValue {
    js_sys::JSON::parse(&json_of(value)).unwrap_or(JsValue::NULL)
}

fn set(object: &js_sys::Object, key: &str, value: impl Into<JsValue>) {
    let _ = js_sys::Reflect::set(object, &key.into(), &value.into());
}

pub fn stats_object(stats: Stats) -> JsValue {
    let o = js_sys::Object::new();
    set(&o, "total", stats.total as u32);
    set(&o, "anchored", stats.anchored as u32);
    set(&o, "fuzzy", stats.fuzzy as u32);
    set(&o, "orphan", stats.orphan as u32);
    o.into()
}

fn resolve_root(document: &Document, selector: Option<&str>) -> Result<Element, String> {
    match selector {
        Some(selector) => document
            .query_selector(selector)
            .map_err(|_| format!("root: \"{selector}\" is not a valid CSS selector"))?
            .ok_or_else(|| format!("root: nothing on this page matches \"{selector}\"")),
        None => document
            .query_selector("article")
            .ok()
            .flatten()
            .or_else(|| document.body().map(Into::into))
            .ok_or_else(|| "root: the page has no <article> and no <body>".to_string()),
    }
}

impl Widget {
    fn new(config: &Config) -> Result<Widget, String> {
        let window = web_sys::window().ok_or("no window")?;
        let document = window.document().ok_or("no document")?;
        let root = resolve_root(&document, config.root.as_deref())?;
        let canonical = document
            .query_selector("link[rel~=\"canonical\"][href]")
            .ok()
            .flatten()
            .and_then(|l| l.dyn_into::<web_sys::HtmlLinkElement>().ok())
            .map(|l| l.href());
        let location = window.location().href().unwrap_or_default();
        let source = page_source(config.source.as_deref(), canonical.as_deref(), &location);
        let page_lang = document
            .document_element()
            .and_then(|e| e.get_attribute("lang"));
        let browser_lang = window.navigator().language();
        let locale = Locale::negotiate(
            [
                config.locale.as_deref(),
                page_lang.as_deref(),
                browser_lang.as_deref(),
            ]
            .into_iter()
            .flatten(),
        );

        let host = document.create_element(HOST_TAG).map_err(js_err)?;
        let shadow = host
            .attach_shadow(&web_sys::ShadowRootInit::new(web_sys::ShadowRootMode::Open))
            .map_err(js_err)?;
        let sheet = web_sys::CssStyleSheet::new().map_err(js_err)?;
        sheet.replace_sync(WIDGET_CSS).map_err(js_err)?;
        shadow.set_adopted_style_sheets(&js_sys::Array::of1(&sheet));
        let marks = document.create_element("div").map_err(js_err)?;
        marks.set_class_name("fm-marks");
        let _ = marks.set_attribute("aria-hidden", "true");
        shadow.append_child(&marks).map_err(js_err)?;

        let ctx = Ctx {
            entries: Signal::new(Annotations::default()),
            ui: Signal::new(Ui::default()),
            status: Signal::new(None),
            sync: Signal::new(SyncView::default()),
            locale,
        };
        let local = || -> Box<dyn Store> {
            match LocalStore::open(&source) {
                Ok(store) => Box::new(store),
                Err(e) => Box::new(MemoryStore::instead_of_unavailable(e.to_string())),
            }
        };
        let store: Box<dyn Store> = match config.endpoint.as_deref() {
            Some(endpoint) => match open_endpoint(&source, endpoint, ctx.sync) {
                Ok(store) => store,
                Err(e) => {
                    // A wrong data-endpoint must not lose flags: keep them in this browser.
                    let detail = js_sys::Object::new();
                    set(&detail, "message", format!("endpoint not used: {e}"));
                    dispatch(&document, "factmark:error", &detail.into());
                    local()
                }
            },
            None => local(),
        };
        mark("factmark:mount");
        let page = PageText::read(&root).map_err(js_err)?;
        mark("factmark:text-read");
        let highlights = Highlights::install(&document, marks);
        Ok(Widget {
            locale,
            source,
            ctx,
            document,
            root,
            host,
            shadow,
            page: RefCell::new(page),
            ranges: RefCell::default(),
            highlights: RefCell::new(highlights),
            store: RefCell::new(store),
            pending_range: RefCell::default(),
            view: RefCell::default(),
            listeners: RefCell::default(),
            observer: RefCell::default(),
            events: RefCell::default(),
            pointer_down: Cell::new(false),
            selection_timer: RefCell::default(),
            frame_requested: Cell::new(false),
            return_focus: RefCell::default(),
            status_timer: RefCell::default(),
        })
    }

    /// Loads, anchors, paints, renders the UI and starts listening.
    fn start(&self) -> Result<(), String> {
        let stored = self.store.borrow_mut().load();
        self.report_store_problems();
        mark("factmark:loaded");
        let placements = self.place_all(&stored);
        mark("factmark:anchored");
        let entries = stored
            .into_iter()
            .zip(placements)
            .map(|(annotation, placement)| Entry {
                annotation,
                placement,
                not_saved: None,
            });
        self.ctx.entries.set(Annotations::from_entries(entries));
        self.rebuild_ranges();
        self.paint();
        mark("factmark:painted");

        let body = self.document.body().ok_or("the page has no <body>")?;
        body.append_child(&self.host).map_err(js_err)?;
        let (view, ui_listeners) = crate::ui::mount(&self.shadow, self.ctx);
        *self.view.borrow_mut() = Some(view);
        self.listeners.borrow_mut().extend(ui_listeners);

        self.listen();
        let observer = Observer::watch(&self.root, &self.host, || {
            act(|w| w.reanchor());
        })
        .map_err(js_err)?;
        *self.observer.borrow_mut() = Some(observer);
        self.store.borrow_mut().watch(Rc::new(|| {
            act(|w| w.reload_from_store());
        }));

        mark("factmark:ui");
        self.emit("factmark:anchored", stats_object(self.stats()));
        let ready = js_sys::Object::new();
        set(&ready, "source", self.source.as_str());
        set(&ready, "locale", self.locale.tag());
        set(
            &ready,
            "highlightApi",
            self.highlights.borrow().uses_registry(),
        );
        set(&ready, "stats", stats_object(self.stats()));
        self.emit("factmark:ready", ready.into());
        Ok(())
    }

    fn listen(&self) {
        let document: &web_sys::EventTarget = self.document.as_ref();
        let Some(window) = web_sys::window() else {
            return;
        };
        let host = self.host.clone();
        let from_widget = move |event: &web_sys::Event| {
            event.target().is_some_and(|t| {
                t.dyn_ref::<web_sys::Node>()
                    .is_some_and(|n| host.contains(Some(n)))
            })
        };
        let mut listeners = self.listeners.borrow_mut();
        let inside = from_widget.clone();
        listeners.push(Listener::with_capture(
            document,
            "pointerdown",
            true,
            move |event| {
                if !inside(&event) {
                    act(|w| w.pointer_down.set(true));
                }
            },
        ));
        // A touch that the browser takes over for selecting (long press, handle drags) ends in
        // pointercancel, not pointerup: both end the gesture.
        for end in ["pointerup", "pointercancel"] {
            listeners.push(Listener::with_capture(document, end, true, move |_| {
                act(|w| {
                    if w.pointer_down.replace(false) {
                        w.check_selection_soon(0);
                    }
                });
            }));
        }
        listeners.push(Listener::new(document, "selectionchange", move |_| {
            act(|w| {
                if !w.pointer_down.get() {
                    w.check_selection_soon(200);
                }
            });
        }));
        let inside = from_widget.clone();
        listeners.push(Listener::new(document, "click", move |event| {
            if inside(&event) {
                return;
            }
            if let Some(mouse) = event.dyn_ref::<web_sys::MouseEvent>() {
                // i32 in stable web-sys, f64 in its newer unstable binding (used on wasm).
                #[allow(clippy::useless_conversion)]
                let (x, y) = (f64::from(mouse.client_x()), f64::from(mouse.client_y()));
                act(|w| w.click_in_page(x, y));
            }
        }));
        listeners.push(Listener::active(document, "keydown", move |event| {
            if let Some(key) = event.dyn_ref::<web_sys::KeyboardEvent>() {
                let handled = act(|w| w.key(key)).unwrap_or(false);
                if handled {
                    event.prevent_default();
                }
            }
        }));
        let window_target: &web_sys::EventTarget = window.as_ref();
        listeners.push(Listener::with_capture(
            window_target,
            "scroll",
            true,
            move |_| {
                act(|w| w.reposition_next_frame());
            },
        ));
        listeners.push(Listener::new(window_target, "resize", move |_| {
            act(|w| w.reposition_next_frame());
        }));
    }

    // ----- reading the page -------------------------------------------------------------------

    fn place_all(&self, annotations: &[Annotation]) -> Vec<Placement> {
        let page = self.page.borrow();
        place_all(page.text(), annotations)
    }

    fn rebuild_ranges(&self) {
        let page = self.page.borrow();
        let ranges = self.ctx.entries.with_untracked(|entries| {
            let all = entries.entries();
            let (list, made) = page.ranges(all.iter().map(|e| e.placement.span()));
            // The list follows `entries()`, so the entries' own id index (already sorted) says
            // where each range is.
            let by_id = entries
                .ids_sorted()
                .filter(|&(_, i)| made[i])
                .map(|(id, i)| (id.to_string(), i as u32))
                .collect();
            RangeSet::from_sorted(list, by_id)
        });
        *self.ranges.borrow_mut() = ranges;
    }

    fn paint(&self) {
        let ranges = self.ranges.borrow();
        self.ctx.entries.with_untracked(|entries| {
            let painted = entries
                .entries()
                .iter()
                .filter_map(|e| Some((e.annotation.flag()?, e.id())));
            self.highlights.borrow_mut().replace_from(&ranges, painted);
        });
    }

    /// The page changed: read its text again and re-anchor every annotation from its selectors.
    pub fn reanchor(&self) {
        let Ok(page) = PageText::read(&self.root) else {
            return;
        };
        *self.page.borrow_mut() = page;
        let annotations: Vec<Annotation> = self
            .ctx
            .entries
            .with_untracked(|e| e.annotations().cloned().collect());
        let placements = self.place_all(&annotations);
        self.ctx.entries.update(|e| e.set_placements(placements));
        self.rebuild_ranges();
        self.paint();
        self.drop_floating_without_passage();
        self.emit("factmark:anchored", stats_object(self.stats()));
    }

    /// Another tab or the server changed the stored annotations.
    pub fn reload_from_store(&self) {
        let stored = self.store.borrow_mut().load();
        self.report_store_problems();
        let merge = {
            let page = self.page.borrow();
            let mut merge = None;
            self.ctx
                .entries
                .update(|e| merge = Some(e.merge_stored(stored, |a| place_one(page.text(), a))));
            merge.unwrap_or_default()
        };
        if merge.added.is_empty() && merge.updated.is_empty() && merge.removed.is_empty() {
            return;
        }
        self.rebuild_ranges();
        self.paint();
        for id in &merge.removed {
            self.ctx.ui.update(|u| u.forget(id));
            self.emit("factmark:deleted", id_detail(id));
        }
        for id in &merge.added {
            self.emit_annotation("factmark:created", id);
        }
        for id in &merge.updated {
            self.emit_annotation("factmark:updated", id);
        }
        self.emit("factmark:anchored", stats_object(self.stats()));
    }

    pub fn stats(&self) -> Stats {
        self.ctx.entries.with_untracked(|e| e.stats())
    }

    pub fn annotations_js(&self) -> JsValue {
        self.ctx
            .entries
            .with_untracked(|e| to_js(&e.annotations().collect::<Vec<_>>()))
    }

    pub fn anchors_js(&self) -> JsValue {
        let page = self.page.borrow();
        let list = js_sys::Array::new();
        self.ctx.entries.with_untracked(|entries| {
            for entry in entries.entries() {
                let o = js_sys::Object::new();
                set(&o, "id", entry.id());
                set(&o, "status", entry.placement.status());
                match entry.placement.span() {
                    Some(span) => {
                        set(&o, "start", span.start as u32);
                        set(&o, "end", span.end as u32);
                        set(&o, "text", page.text().slice(span.start, span.end));
                    }
                    None => {
                        set(&o, "start", JsValue::NULL);
                        set(&o, "end", JsValue::NULL);
                        set(&o, "text", JsValue::NULL);
                    }
                }
                list.push(&o);
            }
        });
        list.into()
    }

    pub fn export(&self, format: &str) -> Result<String, String> {
        let ordered = self.ctx.entries.with_untracked(|e| e.in_document_order());
        match format {
            "jsonld" | "json-ld" | "json" => Ok(export::to_jsonld_string(&ordered)),
            "csv" => Ok(export::to_csv(&ordered)),
            other => Err(format!(
                "export: unknown format \"{other}\" (use \"jsonld\" or \"csv\")"
            )),
        }
    }

    // ----- actions ----------------------------------------------------------------------------

    /// Flags the current selection without the form (the page's API).
    pub fn flag_selection(&self, flag: Flag, note: Option<&str>) -> Result<Annotation, String> {
        let (span, _) = selection::selected(&self.page.borrow(), &self.root).ok_or_else(|| {
            "flagSelection: nothing inside the annotatable region is selected".to_string()
        })?;
        let selectors =
            describe(self.page.borrow().text(), span).map_err(|e| format!("flagSelection: {e}"))?;
        let draft = Draft {
            flag,
            note: note
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_string),
            evidence: Vec::new(),
        };
        let annotation = self.create(selectors, draft)?;
        selection::clear();
        self.ctx.ui.update(|u| u.selection(None));
        Ok(annotation)
    }

    fn create(&self, selectors: Selectors, draft: Draft) -> Result<Annotation, String> {
        let annotation = Annotation::new_flag(NewFlag {
            source: &self.source,
            selectors,
            flag: draft.flag,
            note: draft.note.as_deref(),
            evidence: draft.evidence,
            id: random_id(),
            now: now(),
        })
        .map_err(|e| e.to_string())?;
        let placement = place_one(self.page.borrow().text(), &annotation);
        let not_saved = self.persist(std::slice::from_ref(&annotation));
        let id = annotation.id.clone();
        if let Some(range) = placement
            .span()
            .and_then(|span| self.page.borrow().range(span))
        {
            self.ranges.borrow_mut().insert(id.clone(), &range);
        }
        self.ctx.entries.update(|e| {
            e.upsert(Entry {
                annotation: annotation.clone(),
                placement,
                not_saved,
            });
        });
        self.paint();
        self.emit_annotation("factmark:created", &id);
        self.announce(if not_saved.is_some() {
            not_saved_msg(not_saved)
        } else {
            Msg::SavedStatus
        });
        Ok(annotation)
    }

    fn update(&self, id: &str, draft: Draft) -> Result<(), String> {
        let Some(mut annotation) = self
            .ctx
            .entries
            .with_untracked(|e| e.get(id).map(|e| e.annotation.clone()))
        else {
            return Err(format!("no annotation {id}"));
        };
        annotation.set_flag(draft.flag);
        annotation
            .set_note(draft.note.as_deref())
            .map_err(|e| e.to_string())?;
        annotation
            .set_evidence(draft.evidence)
            .map_err(|e| e.to_string())?;
        annotation.touch(now());
        annotation.validate().map_err(|e| e.to_string())?;
        let not_saved = self.persist(std::slice::from_ref(&annotation));
        self.ctx.entries.update(|e| {
            if let Some(entry) = e.get_mut(id) {
                entry.annotation = annotation;
                entry.not_saved = not_saved;
            }
        });
        self.paint();
        self.emit_annotation("factmark:updated", id);
        self.announce(if not_saved.is_some() {
            not_saved_msg(not_saved)
        } else {
            Msg::SavedStatus
        });
        Ok(())
    }

    /// Deletes an annotation from the page and the store. If the store refuses, it stays.
    pub fn delete(&self, id: &str) -> bool {
        let Some(only_here) = self
            .ctx
            .entries
            .with_untracked(|e| e.get(id).map(|e| e.not_saved.is_some()))
        else {
            return false;
        };
        if !only_here {
            if let Err(error) = self.store.borrow_mut().remove(id) {
                self.report_store_problems();
                self.error(&format!("could not delete {id}: {error}"));
                self.announce(Msg::NotSavedOther);
                return false;
            }
        }
        self.report_store_problems();
        self.ctx.entries.update(|e| {
            e.remove(id);
        });
        self.ranges.borrow_mut().remove(id);
        self.paint();
        self.ctx.ui.update(|u| u.forget(id));
        self.restore_focus();
        self.emit("factmark:deleted", id_detail(id));
        self.announce(Msg::DeletedStatus);
        true
    }

    /// Adds annotations from W3C JSON. Annotations of other pages, invalid ones and older
    /// copies of annotations already here are refused, each with its reason.
    pub fn import(&self, json: &str) -> ImportReport {
        let outcome = parse_import(json);
        let mut report = ImportReport {
            added: 0,
            updated: 0,
            refused: outcome
                .refused
                .into_iter()
                .map(|r| (r.index, r.id, r.reason))
                .collect(),
        };
        let mut accepted: Vec<Annotation> = Vec::new();
        let positions = crate::state::item_positions(json);
        for mut annotation in outcome.accepted {
            // Some tools leave the page implied (no target source): it is this page.
            annotation.fill_missing_source(&self.source);
            let index = positions.get(&annotation.id).copied().unwrap_or_default();
            if annotation.source() != Some(self.source.as_str()) {
                let reason = format!(
                    "target.source is {}, not this page ({})",
                    annotation.source().unwrap_or("missing"),
                    self.source
                );
                report
                    .refused
                    .push((index, Some(annotation.id.clone()), reason));
                continue;
            }
            let existing = self
                .ctx
                .entries
                .with_untracked(|e| e.get(&annotation.id).map(|e| e.annotation.clone()));
            match existing {
                Some(current) if !is_newer(&annotation, &current) => {
                    let reason = if current == annotation {
                        "already here"
                    } else {
                        "a newer or equal version is already here"
                    };
                    report
                        .refused
                        .push((index, Some(annotation.id.clone()), reason.to_string()));
                }
                _ => accepted.push(annotation),
            }
        }
        if accepted.is_empty() {
            return report;
        }
        let not_saved = self.persist(&accepted);
        let placements = self.place_all(&accepted);
        let mut created = Vec::new();
        let mut updated = Vec::new();
        self.ctx.entries.update(|e| {
            for (annotation, placement) in accepted.into_iter().zip(placements) {
                let id = annotation.id.clone();
                if e.upsert(Entry {
                    annotation,
                    placement,
                    not_saved,
                }) {
                    created.push(id);
                } else {
                    updated.push(id);
                }
            }
        });
        report.added = created.len();
        report.updated = updated.len();
        self.rebuild_ranges();
        self.paint();
        for id in &created {
            self.emit_annotation("factmark:created", id);
        }
        for id in &updated {
            self.emit_annotation("factmark:updated", id);
        }
        self.emit("factmark:anchored", stats_object(self.stats()));
        report
    }

    /// Tries again to store annotations that exist only in this page.
    pub fn retry_unsaved(&self) {
        let unsaved = self.ctx.entries.with_untracked(|e| e.unsaved());
        if unsaved.is_empty() {
            return;
        }
        let result = self.store.borrow_mut().save(&unsaved);
        self.report_store_problems();
        match result {
            Ok(()) => {
                self.ctx.entries.update(|e| {
                    for a in &unsaved {
                        if let Some(entry) = e.get_mut(&a.id) {
                            entry.not_saved = None;
                        }
                    }
                });
                self.announce(Msg::SavedStatus);
            }
            Err(error) => {
                self.error(&error.to_string());
                self.announce(not_saved_msg(Some(classify(&error))));
            }
        }
    }

    /// Stores annotations; on failure they stay in the page, marked not saved.
    fn persist(&self, annotations: &[Annotation]) -> Option<NotSaved> {
        let result = self.store.borrow_mut().save(annotations);
        self.report_store_problems();
        match result {
            Ok(()) => {
                // Storage works again: earlier unsaved annotations get another chance.
                let stuck = self.ctx.entries.with_untracked(|e| !e.unsaved().is_empty());
                if stuck {
                    self.retry_unsaved();
                }
                None
            }
            Err(error) => {
                self.error(&format!("not saved: {error}"));
                Some(classify(&error))
            }
        }
    }

    /// The reader's answer to a sync problem (retry a refused change, resolve a conflict).
    pub fn sync_action(&self, id: &str, action: SyncAction) {
        let result = self.store.borrow_mut().resolve(id, action);
        if let Err(error) = result {
            self.error(&format!("{id}: {error}"));
        }
        self.reload_from_store();
    }

    fn report_store_problems(&self) {
        let problems = self.store.borrow_mut().take_problems();
        for problem in problems {
            self.error(&problem.to_string());
            self.announce(match problem {
                crate::store::Problem::Quarantined { .. } => Msg::Quarantined,
                crate::store::Problem::Unreadable(_) => Msg::StorageRefusedOverwrite,
                crate::store::Problem::Unavailable(_) => Msg::StorageUnavailable,
            });
        }
    }

    // ----- the reader's UI --------------------------------------------------------------------

    fn check_selection_soon(&self, delay_ms: u32) {
        *self.selection_timer.borrow_mut() = Some(Timeout::new(delay_ms, || {
            act(|w| w.check_selection());
        }));
    }

    pub fn check_selection(&self) {
        let selected = selection::selected(&self.page.borrow(), &self.root);
        match selected {
            Some((span, range)) => {
                // A form in progress keeps its passage; otherwise the toolbar follows the selection.
                let free = self
                    .ctx
                    .ui
                    .with_untracked(|u| !matches!(u.floating, Floating::Form(_)));
                if free {
                    let rect = selection::bounding_rect(&range);
                    *self.pending_range.borrow_mut() = Some(range);
                    self.ctx.ui.update(|u| u.selection(Some((span, rect))));
                }
            }
            None => {
                if self
                    .ctx
                    .ui
                    .with_untracked(|u| matches!(u.floating, Floating::Toolbar { .. }))
                {
                    self.ctx.ui.update(|u| u.selection(None));
                }
            }
        }
    }

    /// A toolbar button: describe the selection now, so the form keeps it even if the page or
    /// the selection changes while the reader types.
    pub fn choose(&self, flag: Flag) {
        let Some(span) = self.ctx.ui.with_untracked(|u| match u.floating {
            Floating::Toolbar { span, .. } => Some(span),
            _ => None,
        }) else {
            return;
        };
        match describe(self.page.borrow().text(), span) {
            Ok(selectors) => self.ctx.ui.update(|u| u.choose(flag, selectors)),
            Err(e) => self.error(&format!("cannot describe the selection: {e}")),
        }
    }

    pub fn save_form(&self) {
        let Some(form) = self.ctx.ui.with_untracked(|u| match &u.floating {
            Floating::Form(form) => Some(form.clone()),
            _ => None,
        }) else {
            return;
        };
        let draft = match form.check() {
            Ok(draft) => draft,
            Err(error) => {
                self.ctx.ui.update(|u| {
                    if let Some(f) = u.form_mut() {
                        f.error = Some(error);
                    }
                });
                return;
            }
        };
        let result = match &form.target {
            FormTarget::New { selectors, .. } => self.create(selectors.clone(), draft).map(|_| {
                selection::clear();
            }),
            FormTarget::Edit(id) => self.update(id, draft),
        };
        match result {
            Ok(()) => {
                self.ctx.ui.update(|u| u.dismiss());
                *self.pending_range.borrow_mut() = None;
                self.restore_focus();
            }
            Err(message) => self.error(message.as_str()),
        }
    }

    pub fn edit(&self, id: &str) {
        let Some(annotation) = self
            .ctx
            .entries
            .with_untracked(|e| e.get(id).map(|e| e.annotation.clone()))
        else {
            return;
        };
        let anchor = self.anchor_of(id);
        self.ctx.ui.update(|u| u.edit(&annotation, anchor));
    }

    /// Opens an annotation's popover; from the panel, also scrolls the passage into view.
    pub fn show(&self, id: &str, scroll: bool) {
        if scroll {
            self.remember_focus();
            let range = self.ranges.borrow().get(id);
            if let Some(range) = range {
                let target = range.start_container().ok().and_then(|n| {
                    if n.node_type() == web_sys::Node::ELEMENT_NODE {
                        n.dyn_into::<Element>().ok()
                    } else {
                        n.parent_element()
                    }
                });
                if let Some(element) = target {
                    let options = web_sys::ScrollIntoViewOptions::new();
                    options.set_block(web_sys::ScrollLogicalPosition::Center);
                    element.scroll_into_view_with_scroll_into_view_options(&options);
                }
            }
        }
        let anchor = self.anchor_of(id);
        self.ctx.ui.update(|u| u.show(id, anchor));
    }

    pub fn dismiss(&self) {
        self.ctx.ui.update(|u| u.dismiss());
        *self.pending_range.borrow_mut() = None;
        self.restore_focus();
    }

    /// A button of the widget's UI (`data-action`, with its `data-id` / `data-value`).
    pub fn ui_action(&self, action: &str, id: &str, value: &str) {
        let current_id = || {
            if !id.is_empty() {
                return Some(id.to_string());
            }
            self.ctx.ui.with_untracked(|u| match &u.floating {
                Floating::Popover { id, .. } => Some(id.clone()),
                _ => None,
            })
        };
        match action {
            "flag-unverified" => self.choose(Flag::Unverified),
            "flag-fabricated" => self.choose(Flag::Fabricated),
            "cancel" | "close" => self.dismiss(),
            "edit" => {
                if let Some(id) = current_id() {
                    self.edit(&id);
                }
            }
            "delete" => {
                if let Some(id) = current_id() {
                    self.delete(&id);
                }
            }
            "retry" => self.retry_unsaved(),
            "toggle-panel" => self.toggle_panel(),
            "show" => {
                self.show(id, true);
                self.focus_soon(".fm-popover");
            }
            "filter" => {
                let filter = match value.parse::<Flag>() {
                    Ok(flag) => crate::state::Filter::Only(flag),
                    Err(_) => crate::state::Filter::All,
                };
                self.ctx.ui.update(|u| u.filter = filter);
            }
            "export" => {
                if let Ok(json) = self.export("jsonld") {
                    crate::ui::download(json);
                }
            }
            "sync-retry" => self.sync_action(id, SyncAction::Retry),
            "sync-keep-mine" => self.sync_action(id, SyncAction::KeepMine),
            "sync-take-server" => self.sync_action(id, SyncAction::TakeServer),
            // "save" is a submit button: the form's submit event saves.
            _ => {}
        }
    }

    /// Typing in a form field (`data-field`).
    pub fn ui_field(&self, field: &str, value: String) {
        self.ctx.ui.update(|u| match field {
            "note" => u.type_note(value),
            "evidence" => u.type_evidence(value),
            "evidence-done" => u.leave_evidence(),
            _ => {}
        });
    }

    pub fn ui_form_flag(&self, flag: Option<Flag>) {
        if let Some(flag) = flag {
            self.ctx.ui.update(|u| {
                if let Some(form) = u.form_mut() {
                    form.flag = flag;
                }
            });
        }
    }

    pub fn toggle_panel(&self) {
        self.ctx.ui.update(|u| u.panel_open = !u.panel_open);
    }

    fn click_in_page(&self, x: f64, y: f64) {
        let selected = web_sys::window()
            .and_then(|w| w.get_selection().ok().flatten())
            .is_some_and(|s| !s.is_collapsed());
        if selected {
            return;
        }
        match self.hit_test(x, y) {
            Some(id) => {
                *self.return_focus.borrow_mut() = None;
                self.show(&id, false);
            }
            None => {
                if self
                    .ctx
                    .ui
                    .with_untracked(|u| matches!(u.floating, Floating::Popover { .. }))
                {
                    self.dismiss();
                }
            }
        }
    }

    /// The placed annotation whose passage is drawn under the point, if any.
    pub fn hit_test(&self, x: f64, y: f64) -> Option<String> {
        let ranges = self.ranges.borrow();
        let under = |id: &str| {
            ranges.get(id).is_some_and(|r| {
                selection::line_rects(&r)
                    .iter()
                    .any(|rect| rect.contains(x, y))
            })
        };
        let caret = caret_offset(&self.document, &self.page.borrow(), x, y);
        self.ctx.entries.with_untracked(|entries| {
            let candidates: Vec<usize> = match caret {
                // The caret sits between characters: the one clicked is on either side.
                Some(offset) => {
                    let mut c = entries.at_offset(offset);
                    c.extend(entries.at_offset(offset.saturating_sub(1)));
                    c
                }
                None => (0..entries.len()).collect(),
            };
            candidates
                .into_iter()
                .map(|i| entries.entries()[i].id())
                .find(|id| under(id))
                .map(str::to_string)
        })
    }

    /// Escape closes; Alt+Shift+F reaches the toolbar or the panel from the keyboard.
    fn key(&self, event: &web_sys::KeyboardEvent) -> bool {
        if event.key() == "Escape" {
            if self.ctx.ui.with_untracked(|u| u.floating != Floating::None) {
                self.dismiss();
                return true;
            }
            if self.ctx.ui.with_untracked(|u| u.panel_open) {
                self.ctx.ui.update(|u| u.panel_open = false);
                return true;
            }
            return false;
        }
        if event.alt_key() && event.shift_key() && event.code() == "KeyF" {
            self.check_selection();
            self.remember_focus();
            let target = if self
                .ctx
                .ui
                .with_untracked(|u| matches!(u.floating, Floating::Toolbar { .. }))
            {
                ".fm-toolbar button"
            } else {
                self.ctx.ui.update(|u| u.panel_open = true);
                "[data-action=\"toggle-panel\"]"
            };
            self.focus_soon(target);
            return true;
        }
        false
    }

    /// Focuses an element of the widget once the UI has rendered.
    pub fn focus_soon(&self, selector: &'static str) {
        let shadow = self.shadow.clone();
        Timeout::new(0, move || {
            if let Ok(Some(el)) = shadow.query_selector(selector) {
                let _ = el.unchecked_ref::<HtmlElement>().focus();
            }
        })
        .forget();
    }

    fn remember_focus(&self) {
        let active = self
            .shadow
            .active_element()
            .or_else(|| self.document.active_element());
        *self.return_focus.borrow_mut() = active.and_then(|e| e.dyn_into::<HtmlElement>().ok());
    }

    fn restore_focus(&self) {
        if let Some(el) = self.return_focus.borrow_mut().take() {
            if el.is_connected() {
                let _ = el.focus();
            }
        }
    }

    fn anchor_of(&self, id: &str) -> Rect {
        self.ranges
            .borrow()
            .get(id)
            .as_ref()
            .map(selection::bounding_rect)
            .unwrap_or_default()
    }

    fn reposition_next_frame(&self) {
        if self.frame_requested.replace(true) {
            return;
        }
        let Some(window) = web_sys::window() else {
            return;
        };
        let callback = Closure::once_into_js(|| {
            act(|w| {
                w.frame_requested.set(false);
                w.reposition();
            });
        });
        let _ = window.request_animation_frame(callback.unchecked_ref());
    }

    /// Floating boxes follow their passage when the page scrolls or reflows.
    fn reposition(&self) {
        self.highlights.borrow().redraw();
        let rect = self.ctx.ui.with_untracked(|u| match &u.floating {
            Floating::None => None,
            Floating::Toolbar { .. }
            | Floating::Form(Form {
                target: FormTarget::New { .. },
                ..
            }) => self
                .pending_range
                .borrow()
                .as_ref()
                .map(selection::bounding_rect),
            Floating::Popover { id, .. }
            | Floating::Form(Form {
                target: FormTarget::Edit(id),
                ..
            }) => self
                .ranges
                .borrow()
                .get(id)
                .as_ref()
                .map(selection::bounding_rect),
        });
        if let Some(rect) = rect {
            self.ctx.ui.update(|u| u.move_anchor(rect));
        }
    }

    /// After re-anchoring, a popover or toolbar whose passage is gone closes.
    fn drop_floating_without_passage(&self) {
        let ranges = self.ranges.borrow();
        let gone = self.ctx.ui.with_untracked(|u| match &u.floating {
            Floating::Popover { id, .. } => !ranges.contains(id),
            Floating::Toolbar { .. } => true,
            _ => false,
        });
        drop(ranges);
        if gone {
            self.ctx.ui.update(|u| u.dismiss());
        } else {
            self.reposition();
        }
    }

    // ----- telling the page and the reader ----------------------------------------------------

    /// Shows a short status message (also read out by screen readers), then hides it.
    fn announce(&self, msg: Msg) {
        self.ctx.status.set(Some(msg));
        let status = self.ctx.status;
        *self.status_timer.borrow_mut() = Some(Timeout::new(6000, move || status.set(None)));
    }

    fn emit(&self, name: &'static str, detail: JsValue) {
        self.events.borrow_mut().push((name, detail));
    }

    fn emit_annotation(&self, name: &'static str, id: &str) {
        let annotation = self
            .ctx
            .entries
            .with_untracked(|e| e.get(id).map(|e| to_js(&e.annotation)));
        let detail = js_sys::Object::new();
        set(&detail, "id", id);
        set(&detail, "annotation", annotation.unwrap_or(JsValue::NULL));
        self.emit(name, detail.into());
    }

    pub fn error(&self, message: &str) {
        let detail = js_sys::Object::new();
        set(&detail, "message", message);
        self.emit("factmark:error", detail.into());
    }

    pub fn flush_events(&self) {
        let events = std::mem::take(&mut *self.events.borrow_mut());
        for (name, detail) in events {
            dispatch(&self.document, name, &detail);
        }
    }
}

pub fn dispatch(document: &Document, name: &str, detail: &JsValue) {
    let init = web_sys::CustomEventInit::new();
    init.set_detail(detail);
    if let Ok(event) = web_sys::CustomEvent::new_with_event_init_dict(name, &init) {
        let _ = document.dispatch_event(&event);
    }
}

fn id_detail(id: &str) -> JsValue {
    let detail = js_sys::Object::new();
    set(&detail, "id", id);
    detail.into()
}

fn classify(error: &StoreError) -> NotSaved {
    match error {
        StoreError::QuotaExceeded => NotSaved::Quota,
        StoreError::WouldOverwrite(_) => NotSaved::Refused,
        _ => NotSaved::Other,
    }
}

fn not_saved_msg(reason: Option<NotSaved>) -> Msg {
    match reason {
        Some(NotSaved::Quota) => Msg::NotSavedQuota,
        Some(NotSaved::Refused) => Msg::StorageRefusedOverwrite,
        _ => Msg::NotSavedOther,
    }
}

/// An imported copy replaces ours only if it was modified later.
fn is_newer(imported: &Annotation, current: &Annotation) -> bool {
    imported.updated() > current.updated()
}

/// Where each annotation sits in `text`; one index of the text for the whole batch.
pub fn place_all(text: &factmark_core::text::Text, annotations: &[Annotation]) -> Vec<Placement> {
    if annotations.is_empty() {
        // A page with no flags yet: the anchorer's code need not even be compiled at start-up.
        return Vec::new();
    }
    let selectors: Vec<Option<SelectorParts>> =
        annotations.iter().map(Annotation::selector_parts).collect();
    let present: Vec<SelectorParts> = selectors.iter().flatten().copied().collect();
    let mut resolved = Anchorer::new(text).resolve_parts(&present).into_iter();
    selectors
        .iter()
        .map(|s| match s {
            Some(_) => resolved.next().map(|r| Placement::from_resolution(&r)),
            None => None,
        })
        .map(|p| p.unwrap_or(Placement::Orphan(OrphanReason::InvalidSelector)))
        .collect()
}

fn place_one(text: &factmark_core::text::Text, annotation: &Annotation) -> Placement {
    match annotation.selectors() {
        Some(selectors) => {
            Placement::from_resolution(&factmark_core::anchor::resolve(text, &selectors))
        }
        None => Placement::Orphan(OrphanReason::InvalidSelector),
    }
}

/// The page-text offset of the caret position under a point, where the browser can tell.
fn caret_offset(document: &Document, page: &PageText, x: f64, y: f64) -> Option<usize> {
    if js_sys::Reflect::has(document, &"caretPositionFromPoint".into()).unwrap_or(false) {
        let caret = document.caret_position_from_point(x as f32, y as f32)?;
        return page.offset_at(&caret.offset_node()?, caret.offset());
    }
    None
}
