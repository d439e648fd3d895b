//! The reader's UI, rendered with Leptos inside the widget's shadow root. Components read the
//! signals in [`Ctx`] and call actions on the widget; they hold no logic of their own.

mod form;
mod panel;
mod popover;
mod sync;
mod toolbar;

use factmark_core::model::Flag;
use leptos::prelude::*;

use crate::i18n::{Locale, Msg};
use crate::state::{place, Floating, FormTarget, Placed, Rect};
use crate::widget::Ctx;

/// Which floating box is open; a change of key renders a fresh box (and keeps focus otherwise).
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

pub fn app(ctx: Ctx) -> impl IntoView {
    provide_context(ctx);
    let key = Memo::new(move |_| ctx.ui.with(|u| shown(&u.floating)));
    let floating = move || match key.get() {
        Shown::None => ().into_any(),
        Shown::Toolbar => toolbar::toolbar(ctx).into_any(),
        Shown::Form(_) => form::form(ctx).into_any(),
        Shown::Popover(id) => popover::popover(ctx, id).into_any(),
    };
    view! {
        <div class="fm" lang=ctx.locale.tag()>
            {floating}
            {panel::panel(ctx)}
            <div class="fm-toast" role="status" aria-live="polite" class:fm-toast--shown=move || ctx.status.with(Option::is_some)>
                {move || ctx.status.get().map(|m| ctx.t(m))}
            </div>
        </div>
    }
}

pub use crate::dom::highlight::px;

fn viewport() -> (f64, f64) {
    let element = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element());
    match element {
        Some(e) => (e.client_width() as f64, e.client_height() as f64),
        None => (1024.0, 768.0),
    }
}

/// Reactive position of a floating box anchored to the current floating state's rectangle.
fn placement(ctx: Ctx, size: (f64, f64), prefer_above: bool) -> Memo<Placed> {
    Memo::new(move |_| {
        let anchor = ctx.ui.with(|u| match &u.floating {
            Floating::Toolbar { anchor, .. } | Floating::Popover { anchor, .. } => *anchor,
            Floating::Form(form) => form.anchor,
            Floating::None => Rect::default(),
        });
        place(anchor, size, viewport(), prefer_above)
    })
}

fn top(p: Memo<Placed>) -> impl Fn() -> String + Copy {
    move || p.get().top.map_or_else(|| "auto".to_string(), px)
}

fn bottom(p: Memo<Placed>) -> impl Fn() -> String + Copy {
    move || p.get().bottom.map_or_else(|| "auto".to_string(), px)
}

pub fn flag_label(locale: Locale, flag: Option<Flag>) -> &'static str {
    match flag {
        Some(Flag::Unverified) => locale.text(Msg::Unverified),
        Some(Flag::Fabricated) => locale.text(Msg::Fabricated),
        None => "—",
    }
}

pub fn chip_class(flag: Option<Flag>) -> &'static str {
    match flag {
        Some(Flag::Unverified) => "fm-chip fm-chip--unverified",
        Some(Flag::Fabricated) => "fm-chip fm-chip--fabricated",
        None => "fm-chip",
    }
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
