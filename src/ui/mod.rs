//! The reader's UI inside the widget's shadow root. State lives in [`Ctx`] signals; after a
//! change, [`View::render`] re-renders only the regions whose inputs moved. Components are plain
//! functions building DOM from plain Rust state; one delegated listener per event type turns
//! `data-action` / `data-field` into widget actions, so components hold no logic of their own.

pub mod css;
mod dom;
mod form;
mod panel;
mod popover;
mod sync;
mod toolbar;

use std::cell::RefCell;
use std::rc::Rc;

use factmark_core::model::Flag;
use wasm_bindgen::JsCast;
use web_sys::{Element, Event, KeyboardEvent, ShadowRoot};

use crate::dom::highlight::px;
use crate::i18n::{Locale, Msg};
use crate::listen::Listener;
use crate::state::{place, Entry, Filter, Floating, FormTarget, Placed, Rect};
use crate::store::SyncView;
use crate::widget::{act, Ctx};
use dom::{h, replace, set_style};

/// Which floating box is open; a new key builds a new box, otherwise it is updated in place
/// (so typing never loses focus or caret).
#[derive(Clone, Debug, PartialEq)]
enum Shown {
    None,
    Toolbar,
    Form(Option<String>),
    Popover(String),
}

fn shown(floating: &Floating) -> Shown {
    match floating {
        Floating::None => Shown::None,
        Floating::Toolbar { .. } => Shown::Toolbar,
        Floating::Form(form) => Shown::Form(match &form.target {
            FormTarget::New { .. } => None,
            FormTarget::Edit(id) => Some(id.clone()),
        }),
        Floating::Popover { id, .. } => Shown::Popover(id.clone()),
    }
}

/// What the floating box was last built from.
#[derive(PartialEq)]
struct Built {
    shown: Shown,
    /// For a popover: its annotation and sync state, rebuilt when they change.
    content: Option<(Option<Entry>, SyncView)>,
}

/// What each region was last rendered from.
#[derive(Default)]
struct Seen {
    floating: Option<Built>,
    ui: u64,
    panel: Option<(bool, Filter, u64, u64)>,
    toggle: Option<(usize, bool)>,
    status: Option<u64>,
}

pub struct View {
    ctx: Ctx,
    floating: Element,
    toggle: Element,
    panel: Element,
    toast: Element,
    seen: RefCell<Seen>,
}

/// Builds the UI in `shadow` and renders it after every change of `ctx`'s signals. The
/// listeners live as long as the returned value.
pub fn mount(shadow: &ShadowRoot, ctx: Ctx) -> (Rc<View>, Vec<Listener>) {
    let root = h("div").cls("fm").attr("lang", ctx.locale.tag()).el();
    let view = Rc::new(View {
        ctx,
        floating: h("div").cls("fm-floating").el(),
        toggle: panel::toggle(ctx),
        panel: h("div").cls("fm-panel-slot").el(),
        toast: h("div")
            .cls("fm-toast")
            .attr("role", "status")
            .attr("aria-live", "polite")
            .el(),
        seen: RefCell::default(),
    });
    for part in [&view.floating, &view.toggle, &view.panel, &view.toast] {
        let _ = root.append_child(part);
    }
    let _ = shadow.append_child(&root);
    let renderer = view.clone();
    crate::signal::set_renderer(Some(Rc::new(move || renderer.render())));
    view.render();
    (view, delegate(shadow))
}

impl View {
    pub fn render(&self) {
        let ctx = self.ctx;
        let mut seen = self.seen.borrow_mut();

        let shown = ctx.ui.with(|u| shown(&u.floating));
        let content = match &shown {
            Shown::Popover(id) => Some((ctx.entries.with(|e| e.get(id).cloned()), ctx.sync.get())),
            _ => None,
        };
        let now = Built { shown, content };
        let rebuild = seen.floating.as_ref() != Some(&now);
        if rebuild {
            replace(
                &self.floating,
                match &now.shown {
                    Shown::None => None,
                    Shown::Toolbar => Some(toolbar::build(ctx)),
                    Shown::Form(_) => form::build(ctx),
                    Shown::Popover(_) => now.content.as_ref().and_then(|(entry, sync)| {
                        entry.as_ref().map(|entry| popover::build(ctx, entry, sync))
                    }),
                },
            );
        }
        let ui_version = ctx.ui.version();
        if rebuild || seen.ui != ui_version {
            if let Some(element) = self.floating.first_element_child() {
                position(ctx, &element, &now.shown);
                if matches!(now.shown, Shown::Form(_)) {
                    form::update(ctx, &element);
                    if rebuild {
                        form::focus_note(&element);
                    }
                }
            }
        }
        seen.floating = Some(now);
        seen.ui = ui_version;

        let (open, filter) = ctx.ui.with(|u| (u.panel_open, u.filter));
        let panel_key = (open, filter, ctx.entries.version(), ctx.sync.version());
        if seen.panel != Some(panel_key) {
            seen.panel = Some(panel_key);
            let focus = remember_focus(&self.panel);
            let content = open.then(|| {
                ctx.entries
                    .with(|e| ctx.sync.with(|s| panel::build(ctx, e, filter, s)))
            });
            replace(&self.panel, content);
            restore_focus(&self.panel, focus);
        }

        let toggle_key = (ctx.entries.with(|e| e.len()), open);
        if seen.toggle != Some(toggle_key) {
            seen.toggle = Some(toggle_key);
            panel::update_toggle(ctx, &self.toggle, toggle_key.0, open);
        }

        let status_version = ctx.status.version();
        if seen.status != Some(status_version) {
            seen.status = Some(status_version);
            let msg = ctx.status.get();
            self.toast.set_class_name(if msg.is_some() {
                "fm-toast fm-toast--shown"
            } else {
                "fm-toast"
            });
            self.toast.set_text_content(msg.map(|m| ctx.t(m)));
        }
    }
}

/// One listener per event type on the shadow root.
fn delegate(shadow: &ShadowRoot) -> Vec<Listener> {
    let target: &web_sys::EventTarget = shadow.as_ref();
    vec![
        Listener::new(target, "click", |event| {
            let Some(el) = closest(&event, "[data-action]") else {
                return;
            };
            let action = el.get_attribute("data-action").unwrap_or_default();
            let id = el.get_attribute("data-id").unwrap_or_default();
            let value = el.get_attribute("data-value").unwrap_or_default();
            act(|w| w.ui_action(&action, &id, &value));
        }),
        Listener::new(target, "input", |event| {
            let Some(el) = closest(&event, "[data-field]") else {
                return;
            };
            let value = field_value(&el);
            let field = el.get_attribute("data-field").unwrap_or_default();
            act(|w| w.ui_field(&field, value));
        }),
        Listener::new(target, "change", |event| {
            let Some(el) = closest(&event, "[data-field=\"flag\"]") else {
                return;
            };
            let flag = field_value(&el).parse::<Flag>().ok();
            act(|w| w.ui_form_flag(flag));
        }),
        Listener::new(target, "focusout", |event| {
            if closest(&event, "[data-field=\"evidence\"]").is_some() {
                act(|w| w.ui_field("evidence-done", String::new()));
            }
        }),
        Listener::active(target, "submit", |event| {
            event.prevent_default();
            act(|w| w.save_form());
        }),
        Listener::active(target, "keydown", |event| {
            let Some(key) = event.dyn_ref::<KeyboardEvent>() else {
                return;
            };
            if key.key() == "Enter"
                && (key.ctrl_key() || key.meta_key())
                && closest(&event, "form").is_some()
            {
                event.prevent_default();
                act(|w| w.save_form());
            }
        }),
        // Pressing a toolbar button must not collapse the page's selection or move focus.
        Listener::active(target, "mousedown", |event| {
            if closest(&event, ".fm-toolbar").is_some() {
                event.prevent_default();
            }
        }),
    ]
}

fn closest(event: &Event, selector: &str) -> Option<Element> {
    event
        .target()?
        .dyn_into::<Element>()
        .ok()?
        .closest(selector)
        .ok()?
}

fn field_value(el: &Element) -> String {
    if let Some(input) = el.dyn_ref::<web_sys::HtmlInputElement>() {
        return input.value();
    }
    el.dyn_ref::<web_sys::HtmlTextAreaElement>()
        .map(|t| t.value())
        .unwrap_or_default()
}

/// The focused control of a region that is about to be rebuilt, by what it does.
fn remember_focus(region: &Element) -> Option<String> {
    let active = region
        .get_root_node()
        .dyn_into::<ShadowRoot>()
        .ok()?
        .active_element()?;
    if !region.contains(Some(&active)) {
        return None;
    }
    let attr = |name: &str| {
        active
            .get_attribute(name)
            .map(|v| format!("[{name}=\"{}\"]", v.replace('"', "")))
    };
    Some(format!(
        "{}{}{}",
        attr("data-action")?,
        attr("data-id").unwrap_or_default(),
        attr("data-value").unwrap_or_default()
    ))
}

fn restore_focus(region: &Element, selector: Option<String>) {
    let found = selector.and_then(|s| region.query_selector(&s).ok().flatten());
    if let Some(el) = found.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
        let _ = el.focus();
    }
}

fn viewport() -> (f64, f64) {
    let element = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element());
    match element {
        Some(e) => (e.client_width() as f64, e.client_height() as f64),
        None => (1024.0, 768.0),
    }
}

/// Places the floating box next to its passage.
fn position(ctx: Ctx, element: &Element, shown: &Shown) {
    let (size, above) = match shown {
        Shown::Toolbar => ((230.0, 40.0), true),
        Shown::Form(_) => ((320.0, 320.0), false),
        _ => ((320.0, 220.0), false),
    };
    let anchor = ctx.ui.with(|u| match &u.floating {
        Floating::Toolbar { anchor, .. } | Floating::Popover { anchor, .. } => *anchor,
        Floating::Form(form) => form.anchor,
        Floating::None => Rect::default(),
    });
    let Placed {
        left,
        top,
        bottom,
        max_height,
    } = place(anchor, size, viewport(), above);
    let or_auto = |v: Option<f64>| v.map_or_else(|| "auto".to_string(), px);
    set_style(element, "left", &px(left));
    set_style(element, "top", &or_auto(top));
    set_style(element, "bottom", &or_auto(bottom));
    set_style(element, "max-height", &px(max_height));
}

pub fn flag_label(locale: Locale, flag: Option<Flag>) -> &'static str {
    match flag {
        Some(Flag::Unverified) => locale.text(Msg::Unverified),
        Some(Flag::Fabricated) => locale.text(Msg::Fabricated),
        None => "—",
    }
}

pub fn chip(locale: Locale, flag: Option<Flag>) -> dom::H {
    let class = match flag {
        Some(Flag::Unverified) => "fm-chip fm-chip--unverified",
        Some(Flag::Fabricated) => "fm-chip fm-chip--fabricated",
        None => "fm-chip",
    };
    h("span").cls(class).text(flag_label(locale, flag))
}

/// A date for people, in the widget's language and the reader's time zone.
pub fn format_date(rfc3339: &str, locale: Locale) -> String {
    let date = js_sys::Date::new(&rfc3339.into());
    if date.get_time().is_nan() {
        return rfc3339.to_string();
    }
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &"dateStyle".into(), &"medium".into());
    let _ = js_sys::Reflect::set(&options, &"timeStyle".into(), &"short".into());
    date.to_locale_string(locale.tag(), &options).into()
}

pub fn time(rfc3339: &str, locale: Locale) -> dom::H {
    h("time")
        .attr("datetime", rfc3339)
        .text(&format_date(rfc3339, locale))
}

/// Saves the page's annotations as a JSON-LD file.
pub fn download(json: String) {
    let parts = js_sys::Array::of1(&json.into());
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("application/ld+json");
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    let link = h("a")
        .attr("href", &url)
        .attr("download", "factmark-annotations.jsonld")
        .el();
    if let Some(link) = link.dyn_ref::<web_sys::HtmlElement>() {
        link.click();
    }
    // Revoked later: revoking at once can cancel the download.
    gloo_timers::callback::Timeout::new(10_000, move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    })
    .forget();
}

pub fn filter_value(filter: Filter) -> &'static str {
    match filter {
        Filter::All => "all",
        Filter::Only(flag) => flag.as_str(),
    }
}
